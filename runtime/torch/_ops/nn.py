"""Neural-network ops behind torch.nn.functional (and torch.conv2d & co)."""

import math

from .. import _dtype as D
from .. import _graph as G
from .core import (
    b8, cast, compute_dtype, dtype_name, f32, fmt_shape, i64, norm_dim, numel,
    reduce_value, reshape_value, scalar, slice_value, squeeze_value, transpose_value, unsqueeze_value, wrap,
    concat_values,
)


def _tup(x, n, name="argument"):
    if isinstance(x, (list, tuple)):
        if len(x) == 1 and n > 1:
            return tuple(int(x[0]) for _ in range(n))
        if len(x) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the convolution dimensions, but got {name}={list(x)}")
        return tuple(int(v) for v in x)
    return (int(x),) * n


def _float_work(v, op):
    cd = compute_dtype(op, v.dtype) if v.dtype.is_floating_point else f32
    return cd


# ----- convolution -----
def _conv(name, nd, input, weight, bias, stride, padding, dilation, groups):
    x = input._value
    w = weight._value
    batched = len(x.shape) == nd + 2
    if not batched:
        if len(x.shape) != nd + 1:
            raise RuntimeError(
                f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of size: {list(x.shape)}"
            )
        x = unsqueeze_value(x, [0])
    if len(w.shape) != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions" if nd == 1 else f"Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional input {list(x.shape)}, but got {len(w.shape)}-dimensional weight of size {list(w.shape)}")
    if x.dtype is not w.dtype:
        raise RuntimeError(
            f"{name}: Input type ({_legacy(x.dtype)}) and weight type ({_legacy(w.dtype)}) should be the same "
            f"(input {list(x.shape)} {dtype_name(x.dtype)}, weight {list(w.shape)} {dtype_name(w.dtype)})"
        )
    if not x.dtype.is_floating_point:
        raise RuntimeError(f'{name}: "slow_conv2d_cpu" not implemented for \'{dtype_name(x.dtype)}\' (input {list(x.shape)})')
    n, c = x.shape[0], x.shape[1]
    k = w.shape[2:]
    if w.shape[1] * groups != c:
        raise RuntimeError(
            f"{name}: Given groups={groups}, weight of size {fmt_shape(w.shape)}, expected input{fmt_shape(x.shape)} to have {w.shape[1] * groups} channels, but got {c} channels instead"
        )
    if w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size {fmt_shape(w.shape)} instead")
    stride = _tup(stride, nd, "stride")
    dilation = _tup(dilation, nd, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            pads_b = pads_e = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = [d * (kk - 1) for d, kk in zip(dilation, k)]
            pads_b = tuple(t // 2 for t in tot)
            pads_e = tuple(t - t // 2 for t in tot)
        else:
            raise RuntimeError(f"Invalid padding string '{padding}'")
    else:
        p = _tup(padding, nd, "padding")
        pads_b = pads_e = p
    spatial = x.shape[2:]
    out = []
    for i in range(nd):
        eff = dilation[i] * (k[i] - 1) + 1
        padded = spatial[i] + pads_b[i] + pads_e[i]
        if padded < eff:
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(str(spatial[j] + pads_b[j] + pads_e[j]) for j in range(nd))}). Kernel size: ({' x '.join(str(dilation[j] * (k[j] - 1) + 1) for j in range(nd))}). Kernel size can't be greater than actual input size"
            )
        out.append((padded - eff) // stride[i] + 1)
    out_shape = (n, w.shape[0]) + tuple(out)
    d = x.dtype
    cd = compute_dtype("Conv", d)
    ins = [cast(x, cd), cast(w, cd)]
    if bias is not None:
        ins.append(cast(bias._value, cd))
    attrs = {"kernel_shape": list(k), "strides": list(stride), "pads": list(pads_b) + list(pads_e), "dilations": list(dilation), "group": int(groups)}
    r = G.record1("Conv", ins, out_shape, cd, attrs)
    r = cast(r, d)
    if not batched:
        r = squeeze_value(r, [0])
    return wrap(r)


def _legacy(d):
    return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor"}.get(d.name, d.name)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(name, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x = input._value
    w = weight._value
    batched = len(x.shape) == nd + 2
    if not batched:
        x = unsqueeze_value(x, [0])
    n, c = x.shape[0], x.shape[1]
    if w.shape[0] != c:
        raise RuntimeError(
            f"Given transposed=1, weight of size {fmt_shape(w.shape)}, expected input{fmt_shape(x.shape)} to have {w.shape[0]} channels, but got {c} channels instead"
        )
    k = w.shape[2:]
    stride = _tup(stride, nd, "stride")
    padding = _tup(padding, nd, "padding")
    output_padding = _tup(output_padding, nd, "output_padding")
    dilation = _tup(dilation, nd, "dilation")
    out = []
    for i in range(nd):
        out.append((x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + output_padding[i] + 1)
    out_shape = (n, w.shape[1] * groups) + tuple(out)
    d = x.dtype
    cd = compute_dtype("ConvTranspose", d)
    ins = [cast(x, cd), cast(w, cd)]
    if bias is not None:
        ins.append(cast(bias._value, cd))
    attrs = {
        "kernel_shape": list(k), "strides": list(stride), "pads": list(padding) * 2, "dilations": list(dilation),
        "group": int(groups), "output_padding": list(output_padding),
    }
    r = cast(G.record1("ConvTranspose", ins, out_shape, cd, attrs), d)
    if not batched:
        r = squeeze_value(r, [0])
    return wrap(r)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation)


# ----- pooling -----
def _pool_out(size, k, s, p, d, ceil_mode):
    num = size + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        o = -(-num // s) + 1
        if (o - 1) * s >= size + p:
            o -= 1
    else:
        o = num // s + 1
    return o


def _pool_prep(name, nd, input, kernel_size, stride, padding, dilation):
    x = input._value
    batched = len(x.shape) == nd + 2
    if not batched:
        if len(x.shape) != nd + 1:
            raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input tensor, but got {fmt_shape(x.shape)}")
        x = unsqueeze_value(x, [0])
    k = _tup(kernel_size, nd, "kernel_size")
    s = _tup(stride, nd, "stride") if stride is not None and stride != [] and stride != () else k
    p = _tup(padding, nd, "padding")
    d = _tup(dilation, nd, "dilation")
    for i in range(nd):
        if p[i] > k[i] // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[i]}, kernel_size={k[i]} and dilation={d[i]}")
    return x, batched, k, s, p, d


def _max_pool(name, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, batched, k, s, p, d = _pool_prep(name, nd, input, kernel_size, stride, padding, dilation)
    spatial = x.shape[2:]
    out = [_pool_out(spatial[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd)]
    for i in range(nd):
        if out[i] <= 0:
            raise RuntimeError(f"Given input size: ({'x'.join(str(v) for v in x.shape[1:])}). Calculated output size: ({'x'.join([str(x.shape[1])] + [str(o) for o in out])}). Output size is too small")
    # explicit extra end padding instead of ONNX ceil_mode (torch's rule for the last window)
    extra = [max(0, (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - (spatial[i] + 2 * p[i])) for i in range(nd)]
    dt = x.dtype
    work = x
    if dt is b8 or not dt.is_floating_point:
        cd = f32 if dt.itemsize <= 2 or dt is b8 else D.float64
    else:
        cd = compute_dtype("MaxPool", dt)
    work = cast(x, cd)
    shape = x.shape[:2] + tuple(out)
    attrs = {"kernel_shape": list(k), "strides": list(s), "pads": list(p) + [p[i] + extra[i] for i in range(nd)], "dilations": list(d)}
    if return_indices:
        vals, idx = G.record("MaxPool", [work], [(shape, cd), (shape, i64)], attrs)
        hw = numel(spatial)
        idx = G.record1("Mod", [idx, G.const(hw, i64)], shape, i64, {"fmod": 0})
        vals = cast(vals, dt)
        if not batched:
            vals, idx = squeeze_value(vals, [0]), squeeze_value(idx, [0])
        return wrap(vals), wrap(idx)
    r = cast(G.record1("MaxPool", [work], shape, cd, attrs), dt)
    if not batched:
        r = squeeze_value(r, [0])
    return wrap(r)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(name, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, batched, k, s, p, d = _pool_prep(name, nd, input, kernel_size, stride, padding, 1)
    dt = x.dtype
    if not dt.is_floating_point:
        raise RuntimeError(f'"avg_pool2d" not implemented for \'{dtype_name(dt)}\'')
    spatial = x.shape[2:]
    out = [_pool_out(spatial[i], k[i], s[i], p[i], 1, ceil_mode) for i in range(nd)]
    extra = [max(0, (out[i] - 1) * s[i] + k[i] - (spatial[i] + 2 * p[i])) for i in range(nd)]
    cd = compute_dtype("AveragePool", dt)
    work = cast(x, cd)
    if count_include_pad and any(p):
        pads = [0, 0] + list(p) + [0, 0] + list(p)
        padded = tuple(spatial[i] + 2 * p[i] for i in range(nd))
        work = G.record1("Pad", [work, G.ints(pads), scalar(0.0, cd)], x.shape[:2] + padded, cd, {"mode": "constant"})
        pads_b = [0] * nd
        pads_e = extra
    else:
        pads_b = list(p)
        pads_e = [p[i] + extra[i] for i in range(nd)]
    shape = x.shape[:2] + tuple(out)
    attrs = {"kernel_shape": list(k), "strides": list(s), "pads": pads_b + pads_e, "count_include_pad": 0}
    r = G.record1("AveragePool", [work], shape, cd, attrs)
    if divisor_override:
        r = G.record1("Mul", [r, scalar(numel(k) / divisor_override, cd)], shape, cd)
        if any(extra) or (not count_include_pad and any(p)):
            raise NotImplementedError(f"torch.nn.functional.{name}: divisor_override with padding or ceil_mode is not supported by wasmdeploy")
    r = cast(r, dt)
    if not batched:
        r = squeeze_value(r, [0])
    return wrap(r)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def _adaptive_sizes(name, nd, x, output_size):
    osz = output_size if isinstance(output_size, (list, tuple)) else (output_size,) * nd
    if len(osz) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    spatial = x.shape[-nd:]
    return [spatial[i] if osz[i] is None else int(osz[i]) for i in range(nd)]


def _adaptive_matrix(n_in, n_out):
    """[n_in, n_out] averaging weights of adaptive pooling along one axis."""
    m = [[0.0] * n_out for _ in range(n_in)]
    for i in range(n_out):
        a = (i * n_in) // n_out
        b = -(-((i + 1) * n_in) // n_out)
        for j in range(a, b):
            m[j][i] = 1.0 / (b - a)
    return [v for row in m for v in row]


def _adaptive_avg(name, nd, input, output_size):
    x = input._value
    if len(x.shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {fmt_shape(x.shape)}")
    dt = x.dtype
    if not dt.is_floating_point:
        raise RuntimeError(f'"adaptive_avg_pool2d" not implemented for \'{dtype_name(dt)}\'')
    out = _adaptive_sizes(name, nd, x, output_size)
    r = len(x.shape)
    spatial = x.shape[-nd:]
    cd = compute_dtype("ReduceMean", dt)
    v = cast(x, cd)
    if all(o == 1 for o in out) and r == nd + 2 and cd is f32:
        # As torch.onnx exports it: ONNX Runtime runs GlobalAveragePool in its blocked (NCHWc)
        # layout between convolutions, where a ReduceMean costs a layout change each way
        # (mobilenet_v3's squeeze-and-excitation blocks).
        return wrap(cast(G.record1("GlobalAveragePool", [v], x.shape[:2] + (1,) * nd, cd), dt))
    if all(o == 1 for o in out):
        res = reduce_value("ReduceMean", v, list(range(r - nd, r)), True, cd)
        return wrap(cast(res, dt))
    if all(spatial[i] % out[i] == 0 for i in range(nd)) and cd is f32 and r == nd + 2:
        k = [spatial[i] // out[i] for i in range(nd)]
        shape = x.shape[:2] + tuple(out)
        res = G.record1("AveragePool", [v], shape, cd, {"kernel_shape": k, "strides": k})
        return wrap(cast(res, dt))
    for i in range(nd):
        axis = r - nd + i
        if spatial[i] == out[i]:
            continue
        if out[i] == 1:
            v = reduce_value("ReduceMean", v, [axis], True, cd)
            continue
        perm = list(range(r))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        t = transpose_value(v, perm)
        m = G.const(_adaptive_matrix(spatial[i], out[i]), cd, (spatial[i], out[i]))
        t = G.record1("MatMul", [t, m], t.shape[:-1] + (out[i],), cd)
        v = transpose_value(t, perm)
    return wrap(cast(v, dt))


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(name, nd, input, output_size, return_indices):
    x = input._value
    dt = x.dtype
    out = _adaptive_sizes(name, nd, x, output_size)
    r = len(x.shape)
    spatial = x.shape[-nd:]
    if return_indices:
        if all(spatial[i] % out[i] == 0 for i in range(nd)):
            k = [spatial[i] // out[i] for i in range(nd)]
            return _max_pool(name, nd, input, k, k, 0, 1, False, True)
        raise NotImplementedError(f"torch.nn.functional.{name}: return_indices=True with uneven windows is not supported by wasmdeploy")
    cd = compute_dtype("ReduceMax", dt) if dt.is_floating_point else dt
    v = cast(x, cd)
    if all(o == 1 for o in out):
        return wrap(cast(reduce_value("ReduceMax", v, list(range(r - nd, r)), True, cd), dt))
    if all(spatial[i] % out[i] == 0 for i in range(nd)) and dt.is_floating_point:
        k = [spatial[i] // out[i] for i in range(nd)]
        return _max_pool(name, nd, input, k, k, 0, 1, False, False)
    # general: one ReduceMax per output cell along each axis
    for i in range(nd):
        axis = r - nd + i
        if spatial[i] == out[i]:
            continue
        parts = []
        for o in range(out[i]):
            a = (o * spatial[i]) // out[i]
            b = -(-((o + 1) * spatial[i]) // out[i])
            parts.append(reduce_value("ReduceMax", slice_value(v, axis, a, b), [axis], True, cd))
        v = concat_values(parts, axis)
    return wrap(cast(v, dt))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    from .pointwise import mul, pow, relu, sign, absolute

    kw = _tup(kernel_size, 2)
    out = avg_pool2d(pow(input, norm_type), kernel_size, stride, 0, ceil_mode)
    return pow(mul(mul(sign(out), relu(absolute(out))), kw[0] * kw[1]), 1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    from .pointwise import mul, pow, relu, sign, absolute

    out = avg_pool1d(pow(input, norm_type), kernel_size, stride, 0, ceil_mode)
    return pow(mul(mul(sign(out), relu(absolute(out))), kernel_size), 1.0 / norm_type)


# ----- normalization -----
def _channel_shape(x, v):
    """Reshape a per-channel vector to broadcast against x (N, C, ...)."""
    return reshape_value(v, (x.shape[1],) + (1,) * (len(x.shape) - 2))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05):
    x = input._value
    if len(x.shape) < 2:
        raise ValueError(f"Expected 2D or more input (got {len(x.shape)}D input)")
    c = x.shape[1]
    dt = x.dtype
    for nm, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"running_mean should contain {c} elements not {t.numel()}" if nm == "running_mean" else f"{nm} should contain {c} elements not {t.numel()}")
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be defined in evaluation mode")
    else:
        size = numel(x.shape) // c
        if size == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
    cd = compute_dtype("BatchNormalization", dt)
    xv = cast(x, cd)
    if not training:
        pd = cd
        scale = cast(weight._value, pd) if weight is not None else G.record1("ConstantOfShape", [G.ints([c])], (c,), pd, {"value": {"tensor": {"dtype": pd.name, "shape": [1], "data": [1.0]}}})
        b = cast(bias._value, pd) if bias is not None else G.record1("ConstantOfShape", [G.ints([c])], (c,), pd, {"value": {"tensor": {"dtype": pd.name, "shape": [1], "data": [0.0]}}})
        mean = cast(running_mean._value, pd)
        var = cast(running_var._value, pd)
        r = G.record1("BatchNormalization", [xv, scale, b, mean, var], x.shape, cd, {"epsilon": {"float": float(eps)}})
        return wrap(cast(r, dt))
    # training: batch statistics (and running-stat updates, as torch does)
    axes = [0] + list(range(2, len(x.shape)))
    n = numel(x.shape) // c
    mean = reduce_value("ReduceMean", xv, axes, True, cd)
    dev = G.record1("Sub", [xv, mean], x.shape, cd)
    var = reduce_value("ReduceMean", G.record1("Mul", [dev, dev], x.shape, cd), axes, True, cd)
    y = G.record1("Div", [dev, G.record1("Sqrt", [G.record1("Add", [var, scalar(eps, cd)], var.shape, cd)], var.shape, cd)], x.shape, cd)
    if weight is not None:
        y = G.record1("Mul", [y, _channel_shape(x, cast(weight._value, cd))], x.shape, cd)
    if bias is not None:
        y = G.record1("Add", [y, _channel_shape(x, cast(bias._value, cd))], x.shape, cd)
    if running_mean is not None and running_var is not None and momentum is not None:
        m = float(momentum)
        bm = reshape_value(mean, (c,))
        bv = reshape_value(var, (c,))
        if n > 1:
            bv = G.record1("Mul", [bv, scalar(n / (n - 1), cd)], (c,), cd)
        rm = running_mean._value
        rv = running_var._value
        new_m = G.record1("Add", [G.record1("Mul", [cast(rm, cd), scalar(1 - m, cd)], (c,), cd), G.record1("Mul", [bm, scalar(m, cd)], (c,), cd)], (c,), cd)
        new_v = G.record1("Add", [G.record1("Mul", [cast(rv, cd), scalar(1 - m, cd)], (c,), cd), G.record1("Mul", [bv, scalar(m, cd)], (c,), cd)], (c,), cd)
        running_mean._assign(cast(new_m, rm.dtype))
        running_var._assign(cast(new_v, rv.dtype))
    return wrap(cast(y, dt))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    x = input._value
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if tuple(x.shape[len(x.shape) - k :]) != ns or k > len(x.shape):
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape [*, {', '.join(str(s) for s in ns)}], but got input of size{list(x.shape)}"
        )
    if weight is not None and tuple(weight.shape) != ns:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape {list(weight.shape)} and normalized_shape = {list(ns)}")
    dt = x.dtype
    if not dt.is_floating_point:
        raise RuntimeError(f'"LayerNormKernelImpl" not implemented for \'{dtype_name(dt)}\'')
    cd = compute_dtype("LayerNormalization", dt)
    scale = cast(weight._value, cd) if weight is not None else G.record1("ConstantOfShape", [G.ints(ns)], ns, cd, {"value": {"tensor": {"dtype": cd.name, "shape": [1], "data": [1.0]}}})
    ins = [cast(x, cd), scale]
    if bias is not None:
        ins.append(cast(bias._value, cd))
    r = G.record1("LayerNormalization", ins, x.shape, cd, {"axis": -k, "epsilon": {"float": float(eps)}})
    return wrap(cast(r, dt))


def _normalize_over(v, axes, eps, cd):
    mean = reduce_value("ReduceMean", v, axes, True, cd)
    dev = G.record1("Sub", [v, mean], v.shape, cd)
    var = reduce_value("ReduceMean", G.record1("Mul", [dev, dev], v.shape, cd), axes, True, cd)
    denom = G.record1("Sqrt", [G.record1("Add", [var, scalar(eps, cd)], var.shape, cd)], var.shape, cd)
    return G.record1("Div", [dev, denom], v.shape, cd)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    x = input._value
    if len(x.shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {len(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of shape {fmt_shape(x.shape)} and num_groups={num_groups}")
    dt = x.dtype
    cd = compute_dtype("ReduceMean", dt)
    v = reshape_value(cast(x, cd), (n, num_groups, numel(x.shape) // (n * num_groups)))
    y = reshape_value(_normalize_over(v, [2], eps, cd), x.shape)
    if weight is not None:
        y = G.record1("Mul", [y, _channel_shape(x, cast(weight._value, cd))], x.shape, cd)
    if bias is not None:
        y = G.record1("Add", [y, _channel_shape(x, cast(bias._value, cd))], x.shape, cd)
    return wrap(cast(y, dt))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-05):
    x = input._value
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    dt = x.dtype
    cd = compute_dtype("ReduceMean", dt)
    axes = list(range(2, len(x.shape)))
    y = _normalize_over(cast(x, cd), axes, eps, cd)
    if weight is not None:
        y = G.record1("Mul", [y, _channel_shape(x, cast(weight._value, cd))], x.shape, cd)
    if bias is not None:
        y = G.record1("Add", [y, _channel_shape(x, cast(bias._value, cd))], x.shape, cd)
    return wrap(cast(y, dt))


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    x = input._value
    dt = x.dtype
    cd = compute_dtype("LRN", dt)
    v = cast(x, cd)
    squeeze = False
    if len(x.shape) == 3:
        v = unsqueeze_value(v, [3])
        squeeze = True
    elif len(x.shape) != 4:
        raise NotImplementedError("torch.nn.functional.local_response_norm: only 3-D and 4-D inputs are supported by wasmdeploy")
    r = G.record1("LRN", [v], v.shape, cd, {"size": int(size), "alpha": {"float": float(alpha)}, "beta": {"float": float(beta)}, "bias": {"float": float(k)}})
    if squeeze:
        r = squeeze_value(r, [3])
    return wrap(cast(r, dt))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    from .pointwise import mul, rsqrt, add
    from .reduce import mean

    k = len(normalized_shape) if isinstance(normalized_shape, (list, tuple)) else 1
    dims = list(range(-k, 0))
    e = eps if eps is not None else D.finfo(input.dtype).eps
    r = mul(input, rsqrt(add(mean(mul(input, input), dims, True), e)))
    return mul(r, weight) if weight is not None else r


# ----- dropout (inference only) -----
def _dropout(name, input, p, training, inplace):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    raise NotImplementedError(f"torch.nn.functional.{name}: training=True (random dropout) is not supported by wasmdeploy; call model.eval()")


def dropout(input, p=0.5, training=True, inplace=False):
    return _dropout("dropout", input, p, training, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _dropout("dropout1d", input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    return _dropout("dropout2d", input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _dropout("dropout3d", input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout("alpha_dropout", input, p, training, inplace)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout("feature_alpha_dropout", input, p, training, inplace)


# ----- embedding -----
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    idx = input._value
    w = weight._value
    if idx.dtype not in (D.int64, D.int32):
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got {_legacy(idx.dtype)} instead (while checking arguments for embedding)"
        )
    if max_norm is not None:
        raise NotImplementedError("torch.nn.functional.embedding: max_norm (in-place weight renormalization) is not supported by wasmdeploy")
    out_shape = idx.shape + w.shape[1:]
    return wrap(G.record1("Gather", [w, cast(idx, i64)], out_shape, w.dtype, {"axis": 0}))


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """F.embedding_bag (PyTorch 1.13 / ATen CPU): the bag of position j is (#offsets <= j) - 1
    (ATen's offset2bag), computed in the graph; sums accumulate in order with ScatterElements
    (add), max with ScatterElements (max) over the lowest float (empty bags give 0); entries equal to
    padding_idx are left out, also from a mean's count."""
    from .creation import arange

    if weight.dtype is i64 and input.is_floating_point():
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it must have the same shape as the input ({input.shape})"
        )
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences. "
                f"However, found offsets of type {type(offsets)}"
            )
        offsets = arange(0, input.numel(), input.shape[1], dtype=input.dtype)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        raise NotImplementedError("torch.nn.functional.embedding_bag: max_norm (in-place weight renormalization) is not supported by wasmdeploy")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' "
            f"(got mode='{mode}'). Please open a feature request on GitHub."
        )
    w = weight._value
    n_emb, dim = w.shape[0], w.shape[1]
    L = input.shape[0]
    nb = offsets.shape[0] - (1 if include_last_offset else 0)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n_emb
    cd = compute_dtype("ScatterElements", w.dtype) if w.dtype.is_floating_point else w.dtype
    cd = f32 if cd is D.float16 else cd
    out_shape = (max(nb, 0), dim)
    fill = -3.4028234663852886e38 if cd is f32 else -1.7976931348623157e308  # the lowest finite value
    init = G.record1("ConstantOfShape", [G.ints(out_shape)], out_shape, cd, {"value": {"tensor": {"dtype": cd.name, "shape": [1], "data": [0.0]}}})
    if nb <= 0 or L == 0:
        return wrap(cast(init, w.dtype))
    idx = cast(input._value, i64)
    e = cast(G.record1("Gather", [w, idx], (L, dim), w.dtype, {"axis": 0}), cd)
    if per_sample_weights is not None:
        psw = reshape_value(cast(per_sample_weights._value, cd), (L, 1))
        e = G.record1("Mul", [e, psw], (L, dim), cd)
    # bag of each position: (#starts <= j) - 1
    starts = cast(offsets._value, i64)
    if include_last_offset:
        starts = slice_value(starts, 0, 0, nb)
    pos = G.record1("Range", [G.const(0, i64), G.const(L, i64), G.const(1, i64)], (L,), i64)
    le = G.record1("LessOrEqual", [reshape_value(starts, (nb, 1)), reshape_value(pos, (1, L))], (nb, L), b8)
    bag = G.record1("Sub", [reduce_value("ReduceSum", cast(le, i64), [0], False, i64), G.const(1, i64)], (L,), i64)
    valid = G.record1("GreaterOrEqual", [bag, G.const(0, i64)], (L,), b8)
    if padding_idx is not None:
        valid = G.record1("And", [valid, G.record1("Not", [G.record1("Equal", [idx, G.const(int(padding_idx), i64)], (L,), b8)], (L,), b8)], (L,), b8)
    # positions outside every bag or padding go to a spare row nb, dropped after
    target = G.record1("Where", [valid, bag, G.const(nb, i64)], (L,), i64)
    tgt = G.record1("Expand", [reshape_value(target, (L, 1)), G.ints([L, dim])], (L, dim), i64)
    big = (nb + 1, dim)
    base = G.record1("ConstantOfShape", [G.ints(big)], big, cd, {"value": {"tensor": {"dtype": cd.name, "shape": [1], "data": [fill]}}}) if mode == "max" else \
        G.record1("ConstantOfShape", [G.ints(big)], big, cd, {"value": {"tensor": {"dtype": cd.name, "shape": [1], "data": [0.0]}}})
    red = "max" if mode == "max" else "add"
    acc = slice_value(G.record1("ScatterElements", [base, tgt, e], big, cd, {"axis": 0, "reduction": red}), 0, 0, nb)
    if mode != "sum":
        cnt = G.record1("ScatterElements", [
            G.record1("ConstantOfShape", [G.ints([nb + 1])], (nb + 1,), cd, {"value": {"tensor": {"dtype": cd.name, "shape": [1], "data": [0.0]}}}),
            target, cast(valid, cd)], (nb + 1,), cd, {"axis": 0, "reduction": "add"})
        cnt = reshape_value(slice_value(cnt, 0, 0, nb), (nb, 1))
        if mode == "max":  # an empty bag is 0
            has = G.record1("Greater", [cnt, G.const(0.0, cd)], (nb, 1), b8)
            acc = G.record1("Where", [has, acc, G.const(0.0, cd)], acc.shape, cd)
        else:
            acc = G.record1("Div", [acc, G.record1("Max", [cnt, G.const(1.0, cd)], (nb, 1), cd)], acc.shape, cd)
    return wrap(cast(acc, w.dtype))


# ----- padding -----
def pad(input, pad, mode="constant", value=None):
    x = input._value
    nd = len(x.shape)
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got padding length {len(pad)} and input of dimension {nd}")
    begins = [0] * nd
    ends = [0] * nd
    for i in range(k):
        dim = nd - 1 - i
        begins[dim] = pad[2 * i]
        ends[dim] = pad[2 * i + 1]
    shape = tuple(x.shape[i] + begins[i] + ends[i] for i in range(nd))
    dt = x.dtype
    if mode == "constant":
        val = 0 if value is None else value
        if not dt.is_floating_point and isinstance(val, float):
            val = int(val)
        return wrap(G.record1("Pad", [x, G.ints(begins + ends), scalar(val, dt)], shape, dt, {"mode": "constant"}))
    if mode in ("reflect", "replicate"):
        if mode == "reflect":
            for i in range(nd):
                if begins[i] >= x.shape[i] or ends[i] >= x.shape[i]:
                    raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, but got: padding ({begins[i]}, {ends[i]}) at dimension {i} of input {fmt_shape(x.shape)}")
        cd = compute_dtype("Pad", dt) if dt.is_floating_point else dt
        r = G.record1("Pad", [cast(x, cd), G.ints(begins + ends)], shape, cd, {"mode": "reflect" if mode == "reflect" else "edge"})
        return wrap(cast(r, dt))
    if mode == "circular":
        v = x
        for dim in range(nd):
            b, e = begins[dim], ends[dim]
            n = v.shape[dim]
            parts = []
            if b > 0:
                parts.append(slice_value(v, dim, n - b, n))
            core = slice_value(v, dim, max(0, -b), n - max(0, -e))
            parts.append(core)
            if e > 0:
                parts.append(slice_value(v, dim, 0, e))
            v = concat_values(parts, dim) if len(parts) > 1 else core
        return wrap(v)
    raise NotImplementedError(f"torch.nn.functional.pad: mode={mode!r} is not supported by wasmdeploy")


# ----- resampling -----
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False):
    x = input._value
    nd = len(x.shape) - 2
    if nd < 1:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {len(x.shape)}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})")
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError("Anti-alias option is only supported for bilinear and bicubic modes")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    spatial = x.shape[2:]
    use_scales = None
    if size is not None:
        sz = list(size) if isinstance(size, (list, tuple)) else [size] * nd
        if len(sz) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of {list(spatial)} and output size of {sz}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        out = [int(s) for s in sz]
    elif scale_factor is not None:
        sf = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * nd
        out = [int(math.floor(float(spatial[i]) * float(sf[i]))) for i in range(nd)]
        if not recompute_scale_factor:
            use_scales = [float(s) for s in sf]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if mode == "area":
        return _adaptive_avg("interpolate", nd, input, out)
    if antialias:
        if nd != 2:
            raise NotImplementedError(f"Got {len(x.shape)}D input, but {mode} mode needs 4D input")
        return _interpolate_aa(input, out, use_scales, bool(align_corners), mode)
    dims = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
    if mode in dims and dims[mode] != nd:
        raise NotImplementedError(f"Got {len(x.shape)}D input, but {mode} mode needs {dims[mode] + 2}D input")
    attrs = {}
    if mode in ("nearest", "nearest-exact"):
        attrs["mode"] = "nearest"
        if mode == "nearest":
            attrs["coordinate_transformation_mode"] = "asymmetric"
            attrs["nearest_mode"] = "floor"
        else:
            attrs["coordinate_transformation_mode"] = "half_pixel"
            attrs["nearest_mode"] = "round_prefer_ceil"
    elif mode in ("linear", "bilinear", "trilinear", "bicubic"):
        attrs["mode"] = "cubic" if mode == "bicubic" else "linear"
        attrs["coordinate_transformation_mode"] = "align_corners" if align_corners else "half_pixel"
        if mode == "bicubic":
            attrs["cubic_coeff_a"] = {"float": -0.75}
    else:
        raise NotImplementedError(f"torch.nn.functional.interpolate: mode={mode!r} is not supported by wasmdeploy")
    dt = x.dtype
    if not dt.is_floating_point and mode not in ("nearest", "nearest-exact"):
        raise RuntimeError(f'"upsample_{mode}2d_out_frame" not implemented for \'{dtype_name(dt)}\'')
    cd = f32 if dt is not D.float64 else D.float64
    cd = compute_dtype("Resize", cd)
    shape = x.shape[:2] + tuple(out)
    if use_scales is not None and not align_corners:
        scales = G.const([1.0, 1.0] + use_scales, f32, (nd + 2,))
        ins = [cast(x, cd), None, scales]
    else:
        ins = [cast(x, cd), None, None, G.ints(list(x.shape[:2]) + out)]
    r = G.record1("Resize", ins, shape, cd, attrs)
    return wrap(cast(r, dt))


def _aa_weights(in_size, out_size, align_corners, opt_scale, bicubic):
    """ATen's antialiased resampling weights for one dim (UpSampleKernel.cpp,
    _compute_weights_aa): a [out, in] matrix whose row i holds filter((j - center + 0.5) *
    invscale) over the input window around center = scale * (i + 0.5), normalized; support
    and filter widen with the downscale factor. Bilinear: a triangle; bicubic: Keys' cubic with
    a = -0.5 (PIL's, not the -0.75 of plain bicubic)."""
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        scale = 1.0 / opt_scale if opt_scale is not None and opt_scale > 0 else in_size / out_size
    interp = 4 if bicubic else 2
    support = interp * 0.5 * scale if scale >= 1.0 else interp * 0.5
    invscale = 1.0 / scale if scale >= 1.0 else 1.0

    def filt(x):
        x = abs(x)
        if bicubic:
            a = -0.5
            if x < 1.0:
                return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
            if x < 2.0:
                return (((x - 5) * x + 8) * x - 4) * a
            return 0.0
        return 1.0 - x if x < 1.0 else 0.0

    rows = []
    for i in range(out_size):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xsize = min(int(center + support + 0.5), in_size) - xmin
        w = [filt((j + xmin - center + 0.5) * invscale) for j in range(xsize)]
        total = sum(w)
        if total != 0.0:
            w = [v / total for v in w]
        row = [0.0] * in_size
        row[xmin : xmin + xsize] = w
        rows.append(row)
    return rows


def _interpolate_aa(input, out, scales, align_corners, mode):
    """interpolate(antialias=True) for bilinear / bicubic on 4-D input, as PyTorch computes it:
    separable passes, the last dim first, each a matrix product with ATen's weights."""
    from .creation import from_values

    x = input._value
    dt = x.dtype
    if not dt.is_floating_point:
        raise RuntimeError(f'"upsample_{mode}2d_aa" not implemented for \'{dtype_name(dt)}\'')
    cd = D.float64 if dt is D.float64 else f32
    (h, w), (oh, ow) = x.shape[2:], out
    s_h, s_w = (scales or [None, None])[:2]
    mh = _aa_weights(h, oh, align_corners, s_h, mode == "bicubic")
    mw = _aa_weights(w, ow, align_corners, s_w, mode == "bicubic")
    wt = from_values([mw[i][j] for j in range(w) for i in range(ow)], (w, ow), cd)._value  # Mw transposed
    wv = from_values([v for row in mh for v in row], (oh, h), cd)._value
    n, c = x.shape[:2]
    y = G.record1("MatMul", [cast(x, cd), wt], (n, c, h, ow), cd)
    y = G.record1("MatMul", [wv, y], (n, c, oh, ow), cd)
    return wrap(cast(y, dt))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    x = input._value
    g = grid._value
    if len(x.shape) != 4:
        raise NotImplementedError("torch.nn.functional.grid_sample: only 4-D inputs are supported by wasmdeploy")
    dt = x.dtype
    cd = f32
    out_shape = (x.shape[0], x.shape[1], g.shape[1], g.shape[2])
    m = {"bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic"}[mode]
    r = G.record1("GridSample", [cast(x, cd), cast(g, cd)], out_shape, cd,
                  {"mode": m, "padding_mode": padding_mode, "align_corners": 1 if align_corners else 0})
    return wrap(cast(r, dt))


def affine_grid(theta, size, align_corners=None):
    from .creation import linspace, ones
    from .shape import stack
    from .linalg import matmul

    n, c, h, w = [int(s) for s in size]

    def base(steps):
        if steps <= 1:
            return linspace(-1.0, 1.0, steps, dtype=theta.dtype) * 0
        r = linspace(-1.0, 1.0, steps, dtype=theta.dtype)
        return r if align_corners else r * ((steps - 1) / steps)

    xs = base(w).reshape(1, w).expand(h, w)
    ys = base(h).reshape(h, 1).expand(h, w)
    grid = stack([xs, ys, ones(h, w, dtype=theta.dtype)], -1).reshape(1, h * w, 3)
    out = matmul(grid, theta.transpose(1, 2))
    return out.reshape(n, h, w, 2)


# ----- attention -----
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    from .creation import ones
    from .linalg import matmul
    from .pointwise import add, logical_not, masked_fill, mul, softmax
    from .shape import transpose, tril

    L, S = query.shape[-2], key.shape[-2]
    E = query.shape[-1]
    s = (1.0 / math.sqrt(E)) if scale is None else scale
    if dropout_p > 0.0:
        raise NotImplementedError("torch.nn.functional.scaled_dot_product_attention: dropout_p > 0 is not supported by wasmdeploy")
    if enable_gqa and query.shape[-3] != key.shape[-3]:
        from .shape import repeat_interleave

        rep = query.shape[-3] // key.shape[-3]
        key = repeat_interleave(key, rep, -3)
        value = repeat_interleave(value, rep, -3)
    attn = mul(matmul(query, transpose(key, -2, -1)), s)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
        m = tril(ones(L, S, dtype=D.bool_))
        attn = masked_fill(attn, logical_not(m), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype is D.bool_:
            attn = masked_fill(attn, logical_not(attn_mask), float("-inf"))
        else:
            attn = add(attn, attn_mask)
    attn = softmax(attn, -1)
    return matmul(attn, value)


# ----- misc -----
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    from .pointwise import clamp, div
    from .reduce import norm

    denom = clamp(norm(input, p, dim, True), min=eps)
    return div(input, denom.expand_as(input))


def one_hot(tensor, num_classes=-1):
    if tensor.dtype is not D.int64:
        raise RuntimeError("one_hot is only applicable to index tensor.")
    if num_classes == -1:
        num_classes = int(tensor.max().item()) + 1
    v = tensor._value
    r = G.record1("Range", [G.const(0, i64), G.const(num_classes, i64), G.const(1, i64)], (num_classes,), i64)
    e = G.record1("Equal", [unsqueeze_value(v, [len(v.shape)]), r], v.shape + (num_classes,), b8)
    return wrap(cast(e, i64))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    from .pointwise import clamp, div, mul, sqrt
    from .reduce import sum

    w12 = sum(mul(x1, x2), dim)
    w1 = sum(mul(x1, x1), dim)
    w2 = sum(mul(x2, x2), dim)
    n12 = sqrt(clamp(mul(w1, w2), min=eps * eps))
    return div(w12, n12)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    from .pointwise import add, sub
    from .reduce import norm

    return norm(add(sub(x1, x2), eps), p, -1, keepdim)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    from .pointwise import sub
    from .reduce import norm

    d = sub(x1.unsqueeze(-2), x2.unsqueeze(-3))
    return norm(d, p, -1)


def pdist(input, p=2):
    n = input.shape[0]
    from .creation import tensor

    rows = [i for i in range(n) for j in range(i + 1, n)]
    cols = [j for i in range(n) for j in range(i + 1, n)]
    d = cdist(input, input, p)
    return d[tensor(rows), tensor(cols)]


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col as a grouped convolution with one-hot kernels."""
    x = input._value
    if len(x.shape) != 4:
        raise NotImplementedError("torch.nn.functional.unfold: only 4-D (batched) input is supported by wasmdeploy")
    n, c, h, w = x.shape
    kh, kw = _tup(kernel_size, 2)
    kk = kh * kw
    data = []
    for _ in range(c):
        for i in range(kk):
            data.extend(1.0 if j == i else 0.0 for j in range(kk))
    dt = x.dtype
    weight = wrap(G.const(data, dt if dt.is_floating_point else f32, (c * kk, 1, kh, kw)))
    out = conv2d(input if dt.is_floating_point else input.float(), weight, None, stride, padding, dilation, c)
    return out.reshape(n, c * kk, -1).to(dt)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    raise NotImplementedError("torch.nn.functional.fold is not supported by wasmdeploy")


def glu(input, dim=-1):
    from .pointwise import mul, sigmoid
    from .shape import chunk

    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {norm_dim(dim, input.dim())} is size {input.shape[dim]}")
    a, b = chunk(input, 2, dim)
    return mul(a, sigmoid(b))


# ----- losses (reductions over simple elementwise terms) -----
def _reduce_loss(x, reduction):
    from .reduce import mean, sum

    if reduction == "mean":
        return mean(x)
    if reduction == "sum":
        return sum(x)
    if reduction == "none":
        return x
    raise ValueError(f"{reduction} is not a valid value for reduction")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    from .pointwise import sub

    d = sub(input, target)
    return _reduce_loss(d * d, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    from .pointwise import absolute, sub

    return _reduce_loss(absolute(sub(input, target)), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    from .pointwise import absolute, sub, where

    d = absolute(sub(input, target))
    if beta == 0:
        return _reduce_loss(d, reduction)
    return _reduce_loss(where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    from .index import gather
    from .pointwise import ne, neg, where, mul, div
    from .reduce import sum

    if weight is not None:
        raise NotImplementedError("torch.nn.functional.nll_loss: weight= is not supported by wasmdeploy")
    if input.dim() == 1:
        input = input.unsqueeze(0)
        target = target.unsqueeze(0)
    valid = ne(target, ignore_index)
    t = where(valid, target, 0)
    picked = gather(input, 1, t.unsqueeze(1)).squeeze(1)
    losses = where(valid, neg(picked), 0.0)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return sum(losses)
    return div(sum(losses), sum(valid).to(losses.dtype))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0):
    from .pointwise import log_softmax

    if target.dtype.is_floating_point or label_smoothing:
        raise NotImplementedError("torch.nn.functional.cross_entropy: probability targets / label_smoothing are not supported by wasmdeploy")
    return nll_loss(log_softmax(input, 1 if input.dim() > 1 else 0), target, weight, None, ignore_index, None, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    from .pointwise import clamp, log, mul, neg, add, sub

    lo = clamp(log(input), min=-100)
    l1 = clamp(log(sub(1, input)), min=-100)
    x = neg(add(mul(target, lo), mul(sub(1, target), l1)))
    if weight is not None:
        x = mul(x, weight)
    return _reduce_loss(x, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
    from .pointwise import logsigmoid, mul, neg, add, sub

    if pos_weight is not None:
        raise NotImplementedError("torch.nn.functional.binary_cross_entropy_with_logits: pos_weight is not supported by wasmdeploy")
    x = neg(add(mul(target, logsigmoid(input)), mul(sub(1, target), logsigmoid(neg(input)))))
    if weight is not None:
        x = mul(x, weight)
    return _reduce_loss(x, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    from .pointwise import exp, log, mul, sub, xlogy
    from .reduce import sum

    if log_target:
        x = mul(exp(target), sub(target, input))
    else:
        x = sub(xlogy(target, target), mul(target, input))
    if reduction == "batchmean":
        return sum(x) / input.shape[0]
    return _reduce_loss(x, reduction)
