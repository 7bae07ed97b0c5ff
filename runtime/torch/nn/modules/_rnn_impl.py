"""The recurrences behind nn.RNN/LSTM/GRU and their cells, written with tensor ops.

Stands in for PyTorch's native ``torch._VF.lstm`` & co with the same signatures and the same
math as ATen's CPU kernels (aten/src/ATen/native/RNN.cpp):

- LSTM gates are chunked (i, f, g, o); c' = f*c + i*g; h' = o*tanh(c'); with proj_size,
  h' = h' @ W_hr^T.
- GRU gates are chunked (r, z, n); n = tanh(x_n + r*(h W_hn^T + b_hn)); h' = n + z*(h - n).
- RNN: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

The input projection of every time step is computed in one matmul per layer and direction;
the recurrence is a Python loop over time steps (the graph size cap splits long sequences).
Packed sequences (nn.utils.rnn.PackedSequence) are supported as in ATen's PackedLayer.

A dense float32 LSTM layer without projections is one ONNX LSTM node instead (_lstm_layer):
ONNX Runtime's fused kernel, where the loop above records about 20 nodes per time step whose
per-node dispatch made a 16-step tagger 4-5x slower than its own ONNX export (bench/zoo.ts).
"""

import torch
import torch.nn.functional as F

from ... import _graph as G
from ..._ops.core import wrap

# ONNX LSTM gates are (i, o, f, c); PyTorch chunks its weights as (i, f, g, o).
_ONNX_GATE_ORDER = (0, 3, 1, 2)


def _onnx_gates(w):
    parts = w.chunk(4, 0)
    return torch.cat([parts[k] for k in _ONNX_GATE_ORDER], 0)


def _fused_lstm_ok(input, hx, layers, dropout, train):
    if input.dtype is not torch.float32 or (dropout != 0 and train):
        return False
    for w_ih, w_hh, b_ih, b_hh, w_hr in layers:
        if w_hr is not None or w_ih.dtype is not torch.float32 or w_hh.dtype is not torch.float32:
            return False
        if b_ih is not None and (b_ih.dtype is not torch.float32 or b_hh.dtype is not torch.float32):
            return False
    return hx[0].dtype is torch.float32 and hx[1].dtype is torch.float32


def _lstm_layer(x, hx, layers, layer, num_directions):
    """Layer `layer` (every direction) of a dense LSTM as one ONNX LSTM node.
    x: (T, B, F) -> output (T, B, D*H), h_n (D, B, H), c_n (D, B, H)."""
    d = num_directions
    ps = layers[layer * d:(layer + 1) * d]
    w = torch.stack([_onnx_gates(p[0]) for p in ps], 0)
    r = torch.stack([_onnx_gates(p[1]) for p in ps], 0)
    b = None
    if ps[0][2] is not None:
        b = torch.stack([torch.cat([_onnx_gates(p[2]), _onnx_gates(p[3])], 0) for p in ps], 0)
    h0 = hx[0][layer * d:(layer + 1) * d].contiguous()
    c0 = hx[1][layer * d:(layer + 1) * d].contiguous()
    steps, batch = x.shape[0], x.shape[1]
    hidden = r.shape[2]
    f32 = x._value.dtype
    y, y_h, y_c = G.record(
        "LSTM",
        [x.contiguous()._value, w._value, r._value, None if b is None else b._value, None, h0._value, c0._value],
        [((steps, d, batch, hidden), f32), ((d, batch, hidden), f32), ((d, batch, hidden), f32)],
        {"hidden_size": hidden, "direction": "bidirectional" if d == 2 else "forward"},
    )
    y = wrap(y)
    out = y.squeeze(1) if d == 1 else y.transpose(1, 2).reshape(steps, batch, d * hidden)
    return out, wrap(y_h), wrap(y_c)


def _lstm_cell(x_proj, hidden, w_hh, b_hh, w_hr):
    h, c = hidden
    gates = x_proj + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, 1)
    i = torch.sigmoid(i)
    f = torch.sigmoid(f)
    g = torch.tanh(g)
    o = torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return (h, c)


def _gru_cell(x_proj, h, w_hh, b_hh, w_hr):
    gh = F.linear(h, w_hh, b_hh)
    i_r, i_z, i_n = x_proj.chunk(3, 1)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return n + z * (h - n)


def _rnn_tanh_cell(x_proj, h, w_hh, b_hh, w_hr):
    return torch.tanh(x_proj + F.linear(h, w_hh, b_hh))


def _rnn_relu_cell(x_proj, h, w_hh, b_hh, w_hr):
    return torch.relu(x_proj + F.linear(h, w_hh, b_hh))


def _unpack_params(params, has_biases, num_layers, num_directions):
    """[(w_ih, w_hh, b_ih, b_hh, w_hr)] per (layer, direction), layer-major (1.13 order)."""
    params = list(params)
    total = num_layers * num_directions
    if len(params) % total != 0:
        raise RuntimeError(f"got {len(params)} parameters for {num_layers} layers x {num_directions} directions")
    stride = len(params) // total
    out = []
    for k in range(total):
        p = params[k * stride:(k + 1) * stride]
        w_ih, w_hh = p[0], p[1]
        if has_biases:
            b_ih, b_hh = p[2], p[3]
            w_hr = p[4] if stride == 5 else None
        else:
            b_ih = b_hh = None
            w_hr = p[2] if stride == 3 else None
        out.append((w_ih, w_hh, b_ih, b_hh, w_hr))
    return out


def _select(hidden, idx, is_lstm):
    if is_lstm:
        return (hidden[0][idx], hidden[1][idx])
    return hidden[idx]


def _run_dense(cell, x, h, p, reverse, is_lstm):
    """x: (T, B, F) -> output (T, B, H_out), final hidden."""
    w_ih, w_hh, b_ih, b_hh, w_hr = p
    steps = x.size(0)
    x_proj = F.linear(x, w_ih, b_ih).unbind(0)
    outs = [None] * steps
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        h = cell(x_proj[t], h, w_hh, b_hh, w_hr)
        outs[t] = h[0] if is_lstm else h
    return torch.stack(outs, 0), h


def _slice_rows(h, start, end, is_lstm):
    if is_lstm:
        return (h[0][start:end], h[1][start:end])
    return h[start:end]


def _cat_rows(parts, is_lstm):
    if len(parts) == 1:
        return parts[0]
    if is_lstm:
        return (torch.cat([p[0] for p in parts], 0), torch.cat([p[1] for p in parts], 0))
    return torch.cat(parts, 0)


def _run_packed(cell, data, batch_sizes, h0, p, reverse, is_lstm):
    """data: (sum(batch_sizes), F) time-major packed rows -> (packed output, final hidden)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = p
    x_proj = F.linear(data, w_ih, b_ih)
    n = len(batch_sizes)
    offsets = [0] * (n + 1)
    for i, bs in enumerate(batch_sizes):
        offsets[i + 1] = offsets[i] + bs
    outs = [None] * n
    if not reverse:
        hidden = h0
        last_bs = batch_sizes[0]
        saved = []
        for i, bs in enumerate(batch_sizes):
            if bs < last_bs:
                saved.append(_slice_rows(hidden, bs, last_bs, is_lstm))
                hidden = _slice_rows(hidden, 0, bs, is_lstm)
            last_bs = bs
            hidden = cell(x_proj[offsets[i]:offsets[i + 1]], hidden, w_hh, b_hh, w_hr)
            outs[i] = hidden[0] if is_lstm else hidden
        saved.append(hidden)
        final = _cat_rows(list(reversed(saved)), is_lstm)
    else:
        last_bs = batch_sizes[-1]
        hidden = _slice_rows(h0, 0, last_bs, is_lstm)
        for i in range(n - 1, -1, -1):
            bs = batch_sizes[i]
            if bs > last_bs:
                hidden = _cat_rows([hidden, _slice_rows(h0, last_bs, bs, is_lstm)], is_lstm)
            last_bs = bs
            hidden = cell(x_proj[offsets[i]:offsets[i + 1]], hidden, w_hh, b_hh, w_hr)
            outs[i] = hidden[0] if is_lstm else hidden
        final = hidden
    return torch.cat(outs, 0), final


def _rnn(cell, is_lstm, input, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    num_directions = 2 if bidirectional else 1
    layers = _unpack_params(params, has_biases, num_layers, num_directions)
    packed = batch_sizes is not None
    if packed:
        batch_sizes = [int(b) for b in (batch_sizes.tolist() if hasattr(batch_sizes, "tolist") else batch_sizes)]
    elif batch_first:
        input = input.transpose(0, 1)
    if is_lstm and not packed and input.shape[0] > 0 and _fused_lstm_ok(input, hx, layers, dropout, train):
        hs, cs = [], []
        for layer in range(num_layers):
            input, h_n, c_n = _lstm_layer(input, hx, layers, layer, num_directions)
            hs.append(h_n)
            cs.append(c_n)
        if batch_first:
            input = input.transpose(0, 1)
        return input, (hs[0] if num_layers == 1 else torch.cat(hs, 0)), (cs[0] if num_layers == 1 else torch.cat(cs, 0))
    layer_input = input
    finals = []
    for layer in range(num_layers):
        outputs = []
        for direction in range(num_directions):
            idx = layer * num_directions + direction
            h = _select(hx, idx, is_lstm)
            if packed:
                out, final = _run_packed(cell, layer_input, batch_sizes, h, layers[idx], direction == 1, is_lstm)
            else:
                out, final = _run_dense(cell, layer_input, h, layers[idx], direction == 1, is_lstm)
            outputs.append(out)
            finals.append(final)
        layer_output = outputs[0] if num_directions == 1 else torch.cat(outputs, -1)
        if dropout != 0 and train and layer < num_layers - 1:
            layer_output = F.dropout(layer_output, p=dropout, training=True)
        layer_input = layer_output
    output = layer_input
    if not packed and batch_first:
        output = output.transpose(0, 1)
    if is_lstm:
        return output, torch.stack([f[0] for f in finals], 0), torch.stack([f[1] for f in finals], 0)
    return output, torch.stack(finals, 0)


def _dispatch(cell, is_lstm):
    def fn(input, *args):
        # (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
        # or packed: (data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)
        if not isinstance(args[3], bool):  # dense: args[3] is num_layers; packed: has_biases
            hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first = args
            return _rnn(cell, is_lstm, input, None, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
        batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional = args
        return _rnn(cell, is_lstm, input, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional, False)

    return fn


lstm = _dispatch(_lstm_cell, True)
gru = _dispatch(_gru_cell, False)
rnn_tanh = _dispatch(_rnn_tanh_cell, False)
rnn_relu = _dispatch(_rnn_relu_cell, False)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _lstm_cell(F.linear(input, w_ih, b_ih), (hx[0], hx[1]), w_hh, b_hh, None)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _gru_cell(F.linear(input, w_ih, b_ih), hx, w_hh, b_hh, None)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _rnn_tanh_cell(F.linear(input, w_ih, b_ih), hx, w_hh, b_hh, None)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _rnn_relu_cell(F.linear(input, w_ih, b_ih), hx, w_hh, b_hh, None)
