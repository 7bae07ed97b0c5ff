"""torch.nn test cases that run unchanged under real PyTorch (1.13) and wasmdeploy's torch.

Each case builds a module, sets its weights deterministically (a pure-Python LCG through
``load_state_dict``), runs ``forward`` on deterministic inputs and returns plain data. Real
PyTorch's results are written to module_expected.json by make_module_expected.py;
modules.test.ts runs the same cases in a wasmdeploy interpreter and compares.

    run_case(name)               -> JSON string: {"outputs": [...], "info": ...}
    build(name)                  -> (module, args, kwargs) with weights set
    run_module(name, module)     -> JSON string, forward of an already built (e.g. unpickled) module
    CASES                        -> ordered list of case names

A tensor output is {"shape", "dtype", "data" (flat list)}; tuples/lists nest; other values pass
through. No numpy, no torch.no_grad() (so PyTorch 1.13 never takes its fused fast paths,
which wasmdeploy does not have either).
"""

import copy
import json
import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


# ------------------------------------------------------------------ deterministic data
class LCG:
    def __init__(self, seed):
        self.state = (seed * 2654435761 + 12345) & 0xFFFFFFFF

    def next(self):
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return self.state / 4294967296.0

    def floats(self, n, lo=-1.0, hi=1.0):
        return [lo + (hi - lo) * self.next() for _ in range(n)]


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def rand(shape, seed, lo=-1.0, hi=1.0, dtype=None):
    data = LCG(seed).floats(numel(shape), lo, hi)
    return torch.tensor(data, dtype=dtype or torch.float32).reshape(tuple(shape))


def randint(shape, seed, high):
    rng = LCG(seed)
    return torch.tensor([int(rng.next() * high) for _ in range(numel(shape))], dtype=torch.int64).reshape(tuple(shape))


def set_weights(module, seed=1, scale=0.5):
    """Overwrite every floating tensor in the state dict with LCG values, via load_state_dict."""
    sd = module.state_dict()
    new = OrderedDict()
    for i, (key, value) in enumerate(sd.items()):
        if not value.is_floating_point():
            new[key] = value
            continue
        shape = tuple(value.shape)
        if key.endswith("running_var"):
            lo, hi = 0.5, 1.5
        elif key.endswith("running_mean"):
            lo, hi = -0.2, 0.2
        else:
            lo, hi = -scale, scale
        new[key] = rand(shape, seed * 1000 + i, lo, hi, dtype=value.dtype)
    module.load_state_dict(new)
    return module


# ------------------------------------------------------------------ output encoding
def _float(x):
    """JSON has no NaN/Infinity: non-finite floats travel as strings."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def encode(value):
    if isinstance(value, torch.Tensor):
        t = value.detach()
        dtype = str(t.dtype)
        flat = t.reshape(-1)
        if t.dtype == torch.bool:
            data = [bool(x) for x in flat.tolist()]
        elif t.is_floating_point():
            data = [_float(x) for x in flat.tolist()]
        else:
            data = [int(x) for x in flat.tolist()]
        return {"shape": list(t.shape), "dtype": dtype, "data": data}
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return _float(value)
    return repr(value)


# ------------------------------------------------------------------ cases
_BUILDERS = OrderedDict()


def case(fn):
    _BUILDERS[fn.__name__] = fn
    return fn


class _Forward:
    """How to call a built module: positional args, kwargs, and an optional post-processor."""

    def __init__(self, args, kwargs=None, post=None, train=False, call=None):
        self.args = args
        self.kwargs = kwargs or {}
        self.post = post
        self.train = train
        self.call = call


# --- linear & conv
@case
def linear():
    return nn.Linear(5, 3), _Forward([rand((2, 5), 1)])


@case
def linear_nobias_3d():
    return nn.Linear(5, 4, bias=False), _Forward([rand((2, 3, 5), 2)])


@case
def to_double_and_back():
    class Casts(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 2)
            self.b = nn.Sequential(nn.Conv1d(2, 2, 1), nn.BatchNorm1d(2))

        def forward(self, x):
            self.double()
            out64 = self.a(x.double())
            dtypes = [str(p.dtype) for p in self.parameters()] + [str(b.dtype) for b in self.buffers()]
            self.to(torch.float32)
            out32 = self.a(x)
            self.zero_grad()
            self.requires_grad_(False)
            return out64, out32, dtypes, [p.requires_grad for p in self.parameters()]

    return Casts(), _Forward([rand((2, 3), 90)])


@case
def bilinear():
    return nn.Bilinear(3, 4, 2), _Forward([rand((2, 3), 3), rand((2, 4), 4)])


@case
def identity():
    return nn.Identity(54, unused="x"), _Forward([rand((2, 3), 5)])


@case
def conv1d():
    return nn.Conv1d(3, 4, 3, stride=2, padding=1), _Forward([rand((2, 3, 9), 6)])


@case
def conv2d():
    return nn.Conv2d(3, 4, 3, padding=1), _Forward([rand((1, 3, 6, 6), 7)])


@case
def conv2d_groups_dilation():
    return nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, bias=False), _Forward([rand((1, 4, 9, 9), 8)])


@case
def conv2d_same_reflect():
    return nn.Conv2d(2, 3, (3, 5), padding="same", padding_mode="reflect"), _Forward([rand((1, 2, 6, 7), 9)])


@case
def conv2d_circular():
    return nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular"), _Forward([rand((1, 2, 5, 5), 10)])


@case
def conv_transpose2d():
    return nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), _Forward([rand((1, 3, 4, 4), 11)])


@case
def conv_transpose2d_output_size():
    return nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), _Forward([rand((1, 2, 4, 4), 12)], {"output_size": [8, 8]})


@case
def conv_transpose1d():
    return nn.ConvTranspose1d(2, 3, 4, stride=2, padding=1, groups=1), _Forward([rand((1, 2, 5), 13)])


# --- normalization
@case
def batchnorm2d_eval():
    return nn.BatchNorm2d(3), _Forward([rand((2, 3, 4, 4), 14)])


@case
def batchnorm1d_eval():
    m = nn.Sequential(OrderedDict([("a", nn.BatchNorm1d(4)), ("b", nn.BatchNorm1d(4, affine=False))]))
    return m, _Forward([rand((3, 4), 15)])


@case
def batchnorm1d_3d_eval():
    return nn.BatchNorm1d(4, eps=1e-3), _Forward([rand((2, 4, 5), 16)])


@case
def batchnorm2d_train():
    m = nn.BatchNorm2d(3, momentum=0.2)

    def post(module, out):
        return [out, module.running_mean, module.running_var, module.num_batches_tracked]

    return m, _Forward([rand((2, 3, 3, 3), 17)], post=post, train=True)


@case
def batchnorm2d_no_running_stats():
    return nn.BatchNorm2d(3, track_running_stats=False), _Forward([rand((2, 3, 3, 3), 18)])


@case
def layernorm():
    return nn.LayerNorm([4, 5]), _Forward([rand((2, 3, 4, 5), 19)])


@case
def layernorm_no_affine():
    return nn.LayerNorm(6, eps=1e-6, elementwise_affine=False), _Forward([rand((3, 6), 20)])


@case
def groupnorm():
    return nn.GroupNorm(2, 4), _Forward([rand((2, 4, 3, 3), 21)])


@case
def instancenorm2d():
    return nn.InstanceNorm2d(3, affine=True), _Forward([rand((2, 3, 4, 4), 22)])


@case
def instancenorm1d_plain():
    return nn.InstanceNorm1d(3), _Forward([rand((2, 3, 6), 23)])


@case
def local_response_norm():
    return nn.LocalResponseNorm(3), _Forward([rand((1, 5, 3, 3), 24)])


# --- activations
class Fanout(nn.Module):
    """Applies each child to the same input and returns every output."""

    def __init__(self, *mods):
        super().__init__()
        self.mods = nn.ModuleList(mods)

    def forward(self, x):
        return [m(x) for m in self.mods]


@case
def act_basic():
    return Fanout(nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(0.1), nn.Sigmoid(), nn.Tanh(), nn.Threshold(0.1, 20.0)), _Forward(
        [rand((2, 7), 25, -8, 8)]
    )


@case
def act_gelu_silu_mish():
    return Fanout(nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU(), nn.Mish()), _Forward([rand((2, 7), 26, -4, 4)])


@case
def act_hard():
    return Fanout(nn.Hardsigmoid(), nn.Hardswish(), nn.Hardtanh(-0.5, 0.7)), _Forward([rand((2, 9), 27, -4, 4)])


@case
def act_softmax():
    return Fanout(nn.Softmax(dim=1), nn.LogSoftmax(dim=-1), nn.Softmin(dim=0), nn.Softmax2d()), _Forward(
        [rand((2, 3, 2, 2), 28, -3, 3)]
    )


@case
def act_elu_family():
    return Fanout(nn.ELU(0.5), nn.CELU(1.5), nn.SELU(), nn.Softplus(beta=2), nn.Softsign(), nn.Tanhshrink()), _Forward(
        [rand((2, 6), 29, -3, 3)]
    )


@case
def act_prelu_glu():
    return Fanout(nn.PReLU(4), nn.GLU(dim=1)), _Forward([rand((2, 4, 3), 30, -2, 2)])


@case
def dropout_eval():
    return Fanout(nn.Dropout(0.3), nn.Dropout2d(0.5), nn.AlphaDropout(0.2), nn.FeatureAlphaDropout(0.1)), _Forward(
        [rand((2, 3, 4, 2), 31)]
    )


# --- pooling & shape
@case
def pooling_max():
    return Fanout(nn.MaxPool2d(3, 2, 1), nn.MaxPool2d(2, ceil_mode=True), nn.MaxPool2d((2, 3), stride=(1, 2))), _Forward(
        [rand((1, 2, 7, 7), 32)]
    )


@case
def pooling_max1d():
    return nn.MaxPool1d(3, 2), _Forward([rand((2, 3, 9), 33)])


@case
def pooling_avg():
    return Fanout(
        nn.AvgPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1, count_include_pad=False), nn.AvgPool2d(2, ceil_mode=True)
    ), _Forward([rand((1, 2, 7, 7), 34)])


@case
def pooling_adaptive():
    return Fanout(
        nn.AdaptiveAvgPool2d((2, 3)), nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(2), nn.AdaptiveAvgPool2d((None, 2))
    ), _Forward([rand((2, 3, 7, 6), 35)])


@case
def pooling_adaptive1d():
    return Fanout(nn.AdaptiveAvgPool1d(3), nn.AdaptiveMaxPool1d(4)), _Forward([rand((2, 3, 10), 36)])


@case
def flatten_unflatten():
    return nn.Sequential(nn.Flatten(), nn.Unflatten(1, (3, 8)), nn.Flatten(0, 1)), _Forward([rand((2, 3, 2, 4), 37)])


@case
def embedding_padding_idx():
    m = nn.Embedding(10, 4, padding_idx=0)
    return m, _Forward([torch.tensor([[0, 3, 9], [1, 0, 2]], dtype=torch.int64)])


@case
def upsample():
    return Fanout(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Upsample(size=(5, 7), mode="bilinear", align_corners=False),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
        nn.UpsamplingNearest2d(size=6),
    ), _Forward([rand((1, 2, 3, 4), 39)])


@case
def pixel_shuffle():
    return Fanout(nn.PixelShuffle(2), nn.Sequential(nn.PixelShuffle(2), nn.PixelUnshuffle(2))), _Forward(
        [rand((1, 8, 2, 3), 40)]
    )


@case
def padding_layers():
    return Fanout(
        nn.ZeroPad2d((1, 2, 0, 1)), nn.ConstantPad2d(1, 0.5), nn.ReflectionPad2d(1), nn.ReplicationPad2d((2, 0, 1, 1))
    ), _Forward([rand((1, 2, 3, 4), 41)])


@case
def padding_1d():
    return Fanout(nn.ConstantPad1d((2, 1), -1.0), nn.ReflectionPad1d(2), nn.ReplicationPad1d(1)), _Forward(
        [rand((1, 2, 5), 42)]
    )


@case
def channel_shuffle():
    return nn.ChannelShuffle(2), _Forward([rand((1, 4, 2, 2), 43)])


@case
def cosine_pairwise():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.cos = nn.CosineSimilarity(dim=1)
            self.dist = nn.PairwiseDistance()

        def forward(self, a, b):
            return self.cos(a, b), self.dist(a, b)

    return Two(), _Forward([rand((3, 5), 44), rand((3, 5), 45)])


# --- attention & transformers
@case
def mha_self():
    return nn.MultiheadAttention(8, 2), _Forward([rand((3, 2, 8), 46)] * 3)


@case
def mha_batch_first_masks():
    mask = torch.tensor([[False, False, True, True], [False, False, False, True]])
    attn = torch.triu(torch.full((3, 4), float("-inf")), diagonal=2)
    return nn.MultiheadAttention(8, 4, batch_first=True), _Forward(
        [rand((2, 3, 8), 47), rand((2, 4, 8), 48), rand((2, 4, 8), 49)],
        {"key_padding_mask": mask, "attn_mask": attn, "average_attn_weights": False},
    )


@case
def mha_kdim_vdim_bias_kv():
    return nn.MultiheadAttention(6, 2, kdim=4, vdim=5, add_bias_kv=True, add_zero_attn=True), _Forward(
        [rand((2, 1, 6), 50), rand((3, 1, 4), 51), rand((3, 1, 5), 52)], {"need_weights": False}
    )


@case
def mha_unbatched():
    return nn.MultiheadAttention(4, 2, bias=False), _Forward([rand((3, 4), 53), rand((5, 4), 54), rand((5, 4), 55)])


@case
def transformer_encoder_layer():
    return nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), _Forward([rand((4, 2, 8), 56)])


@case
def transformer_encoder_layer_gelu_prenorm_bf():
    mask = torch.tensor([[False, False, False, True], [False, True, True, True]])
    return nn.TransformerEncoderLayer(8, 2, 12, dropout=0.1, activation="gelu", norm_first=True, batch_first=True), _Forward(
        [rand((2, 4, 8), 57)], {"src_key_padding_mask": mask}
    )


@case
def transformer_encoder_layer_callable_activation():
    return nn.TransformerEncoderLayer(8, 4, 16, dropout=0.0, activation=F.silu, batch_first=True), _Forward(
        [rand((1, 5, 8), 58)]
    )


@case
def transformer_decoder_layer_torch_tanh():
    """activation=torch.tanh (a torch builtin: pickled as getattr(torch._C._VariableFunctions, 'tanh'))."""
    return nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, activation=torch.tanh, norm_first=True), _Forward(
        [rand((3, 2, 8), 83), rand((4, 2, 8), 84)]
    )


@case
def transformer_encoder_stack():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    m = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8), enable_nested_tensor=False)
    causal = torch.triu(torch.full((5, 5), float("-inf")), diagonal=1)
    return m, _Forward([rand((2, 5, 8), 59)], {"mask": causal})


@case
def transformer_encoder_nested_no_grad():
    """Under no_grad in eval mode with a key padding mask, torch 1.13 runs TransformerEncoder on
    nested tensors: padded positions come out as exactly 0 (before the final norm)."""
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    m = nn.TransformerEncoder(layer, 2)
    mask = torch.tensor([[False, False, False, True, True], [False, False, False, False, False], [False, True, True, True, True]])

    def call(module, x, kpm):
        with torch.no_grad():
            nested = module(x, src_key_padding_mask=kpm)
        # wasmdeploy serves calls under no_grad; ask for grad explicitly to reach the plain path.
        with torch.enable_grad():
            plain = module(x, src_key_padding_mask=kpm)
        return nested, plain

    return m, _Forward([rand((3, 5, 8), 82), mask], call=call)


@case
def transformer_decoder_stack():
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0)
    m = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(8))
    tgt_mask = torch.triu(torch.full((3, 3), float("-inf")), diagonal=1)
    return m, _Forward([rand((3, 2, 8), 60), rand((4, 2, 8), 61)], {"tgt_mask": tgt_mask})


@case
def transformer_full():
    m = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16, dropout=0.0)
    return m, _Forward([rand((4, 1, 8), 62), rand((3, 1, 8), 63)])


# --- recurrent
@case
def lstm_2layer_bidir_batch_first():
    return nn.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True), _Forward([rand((2, 3, 4), 64)])


@case
def lstm_initial_state():
    h0 = rand((1, 2, 3), 65)
    c0 = rand((1, 2, 3), 66)
    return nn.LSTM(4, 3), _Forward([rand((5, 2, 4), 67), (h0, c0)])


@case
def lstm_proj():
    return nn.LSTM(4, 6, num_layers=2, proj_size=3), _Forward([rand((3, 2, 4), 68)])


@case
def lstm_unbatched_nobias():
    return nn.LSTM(3, 4, bias=False), _Forward([rand((5, 3), 69)])


@case
def gru_2layer():
    h0 = rand((2, 3, 5), 70)
    return nn.GRU(4, 5, num_layers=2), _Forward([rand((4, 3, 4), 71), h0])


@case
def gru_bidir_batch_first():
    return nn.GRU(3, 4, bidirectional=True, batch_first=True), _Forward([rand((2, 5, 3), 72)])


@case
def rnn_tanh_relu():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.RNN(3, 4, num_layers=2, bidirectional=True)
            self.b = nn.RNN(3, 2, nonlinearity="relu", batch_first=True)

        def forward(self, x):
            return self.a(x), self.b(x)

    return Two(), _Forward([rand((3, 2, 3), 73)])


@case
def rnn_cells():
    class Cells(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTMCell(3, 4)
            self.gru = nn.GRUCell(3, 4)
            self.rnn = nn.RNNCell(3, 4, nonlinearity="relu")

        def forward(self, x):
            h, c = self.lstm(x)
            h2 = self.gru(x, h)
            h3 = self.rnn(x[0])
            return h, c, h2, h3

    return Cells(), _Forward([rand((2, 3), 74)])


@case
def lstm_packed():
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, batch_first=True, bidirectional=True)

        def forward(self, x, lengths):
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, (h, c) = self.lstm(packed)
            padded, out_lengths = pad_packed_sequence(out, batch_first=True)
            return padded, out_lengths, h, c

    return Packed(), _Forward([rand((3, 4, 3), 75), torch.tensor([2, 4, 1])])


@case
def gru_packed_sorted():
    from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence

    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(2, 3, num_layers=2)

        def forward(self, a, b, c):
            out, h = self.gru(pack_sequence([a, b, c]))
            padded, lengths = pad_packed_sequence(out, total_length=5)
            return padded, lengths, h

    return Packed(), _Forward([rand((4, 2), 76), rand((3, 2), 77), rand((1, 2), 78)])


# --- containers & a composite model
class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.blocks = nn.ModuleList([Residual(4), Residual(4)])
        self.heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "reg": nn.Linear(4, 2)})
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("offset", torch.zeros(3))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        x = torch.flatten(self.pool(x), 1)
        return {"cls": self.heads["cls"](x) * self.scale + self.offset, "reg": self.heads["reg"](x)}


@case
def composite_tinynet():
    return TinyNet(), _Forward([rand((2, 3, 8, 8), 79)])


@case
def sequential_slicing():
    m = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3), nn.Sigmoid())

    def call(module, x):
        head = module[:2]
        tail = module[2:]
        return [module(x), tail(head(x)), module[-1](x[:, :3]), len(module)]

    return m, _Forward([rand((2, 4), 80)], call=call)


@case
def parameter_list_dict():
    class P(nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = nn.ParameterList([nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(2, 3))])
            self.pdict = nn.ParameterDict({"a": nn.Parameter(torch.zeros(3)), "b": nn.Parameter(torch.zeros(1))})

        def forward(self, x):
            return self.plist[1] @ (x * self.plist[0]) + self.pdict["a"].sum() + self.pdict["b"]

    return P(), _Forward([rand((3,), 81)])


# --- lazy modules (materialized by a first forward, then become Conv2d/BatchNorm2d/Linear)
@case
def lazy_modules():
    m = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.Flatten(), nn.LazyLinear(3))
    m(rand((1, 2, 5, 5), 92))

    def post(module, out):
        return [out, [type(x).__name__ for x in module]]

    return m, _Forward([rand((2, 2, 5, 5), 91)], post=post)


# --- nn.utils and wrappers
@case
def weight_norm_conv():
    from torch.nn.utils import weight_norm

    return nn.Sequential(weight_norm(nn.Conv1d(3, 4, 3)), weight_norm(nn.Linear(5, 2), dim=None)), _Forward(
        [rand((2, 3, 7), 85)]
    )


@case
def spectral_norm_linear_eval():
    from torch.nn.utils import spectral_norm

    return spectral_norm(nn.Linear(4, 3)), _Forward([rand((2, 4), 86)])


@case
def data_parallel_wrapper():
    return nn.DataParallel(nn.Sequential(nn.Linear(3, 3), nn.ReLU())), _Forward([rand((2, 3), 87)])


@case
def fuse_conv_bn():
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    class Fused(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3, padding=1)
            self.bn = nn.BatchNorm2d(3)

        def forward(self, x):
            fused = fuse_conv_bn_eval(self.conv, self.bn)
            return self.bn(self.conv(x)), fused(x)

    return Fused(), _Forward([rand((1, 2, 4, 4), 88)])


@torch.jit.script
def _scripted_gate(x: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    if torch.jit.is_scripting():
        return x * alpha
    return x * alpha


class _ScriptedUser(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    @torch.jit.unused
    def unused_method(self, x):
        return x

    @torch.jit.ignore
    def ignored(self, x):
        return x + 1

    @torch.jit.export
    def exported(self, x):
        return x - 1

    def forward(self, x):
        from torch.utils.checkpoint import checkpoint

        y = checkpoint(self.lin, x)
        if not torch.jit.is_tracing() and not torch.jit.is_scripting():
            y = _scripted_gate(y)
        torch._assert(y.dim() == 2, "2-D expected")
        return self.exported(self.ignored(y))


@case
def jit_decorators_checkpoint():
    return _ScriptedUser(), _Forward([rand((2, 3), 89)])


CASES = list(_BUILDERS)

# Cases whose modules make_module_expected.py also pickles into nn_zoo.pt (only torch.nn classes,
# no classes defined in this file: the archive externs torch and interns nothing).
PICKLED = [
    "linear", "bilinear", "conv1d", "conv2d_groups_dilation", "conv2d_same_reflect", "conv_transpose2d",
    "batchnorm2d_eval", "batchnorm1d_eval", "layernorm", "groupnorm", "instancenorm2d", "local_response_norm",
    "flatten_unflatten", "embedding_padding_idx",
    "mha_batch_first_masks", "mha_kdim_vdim_bias_kv", "transformer_encoder_layer_gelu_prenorm_bf",
    "transformer_encoder_layer_callable_activation", "transformer_decoder_layer_torch_tanh",
    "weight_norm_conv", "spectral_norm_linear_eval", "data_parallel_wrapper",
    "transformer_encoder_stack", "transformer_decoder_stack", "transformer_full",
    "lstm_2layer_bidir_batch_first", "lstm_initial_state", "lstm_proj", "gru_2layer", "gru_bidir_batch_first",
]


def build(name):
    module, fwd = _BUILDERS[name]()
    set_weights(module, seed=CASES.index(name) + 1)
    module.train(fwd.train)
    return module, fwd


def _forward(module, fwd):
    if fwd.call is not None:
        out = fwd.call(module, *fwd.args)
    else:
        out = module(*fwd.args, **fwd.kwargs)
    if fwd.post is not None:
        out = fwd.post(module, out)
    return out


def run_module(name, module):
    """Forward of `module` (built by build(name) or unpickled) on the case's inputs."""
    _, fwd = _BUILDERS[name]()
    module.train(fwd.train)
    return json.dumps({"outputs": encode(_forward(module, fwd))})


def run_case(name):
    module, fwd = build(name)
    return json.dumps({"outputs": encode(_forward(module, fwd))})


# ------------------------------------------------------------------ module API (no forward)
def api_report():
    """Structure and bookkeeping of the composite model: names, shapes, repr, state dict."""
    m = TinyNet()
    out = OrderedDict()
    out["repr"] = repr(m)
    out["named_parameters"] = [[n, list(p.shape), type(p).__name__] for n, p in m.named_parameters()]
    out["named_buffers"] = [[n, list(b.shape)] for n, b in m.named_buffers()]
    out["named_modules"] = [[n, type(x).__name__] for n, x in m.named_modules()]
    out["named_children"] = [n for n, _ in m.named_children()]
    out["n_modules"] = len(list(m.modules()))
    out["state_dict_keys"] = list(m.state_dict().keys())
    sd = m.state_dict()
    out["metadata"] = [[k, dict(v)] for k, v in sd._metadata.items()]
    out["prefixed"] = list(m.stem.state_dict(prefix="x.").keys())
    m.eval()
    out["eval_flags"] = [x.training for x in m.modules()]
    m.train()
    m.blocks[0].eval()
    out["mixed_flags"] = [x.training for x in m.modules()]
    m.requires_grad_(False)
    out["requires_grad"] = [p.requires_grad for p in m.parameters()]
    out["get_submodule"] = type(m.get_submodule("blocks.1.bn2")).__name__
    out["get_parameter"] = list(m.get_parameter("heads.cls.weight").shape)
    out["get_buffer"] = list(m.get_buffer("stem.1.running_mean").shape)
    out["dir_has"] = [k in dir(m) for k in ("stem", "scale", "offset", "forward")]
    # attribute rules
    msgs = []
    try:
        m.scale = torch.zeros(1)
    except TypeError as e:
        msgs.append(str(e))
    try:
        m.stem = 3
    except TypeError as e:
        msgs.append(str(e))
    try:
        m.register_buffer("stem", torch.zeros(1))
    except KeyError as e:
        msgs.append(str(e))
    try:
        m.nothing_here
    except AttributeError as e:
        msgs.append(str(e))
    m.offset = torch.ones(3)
    msgs.append("offset" in dict(m.named_buffers()))
    m.new_param = nn.Parameter(torch.zeros(2))
    msgs.append("new_param" in dict(m.named_parameters()))
    del m.new_param
    msgs.append("new_param" in dict(m.named_parameters()))
    m.stem = None
    msgs.append([n for n, _ in m.named_children()])
    out["attribute_rules"] = msgs
    # load_state_dict errors and results
    a = nn.Linear(5, 3)
    sd = OrderedDict(a.state_dict())
    sd["extra"] = torch.zeros(1)
    del sd["bias"]
    try:
        a.load_state_dict(sd)
    except RuntimeError as e:
        out["strict_error"] = str(e)
    res = a.load_state_dict(sd, strict=False)
    out["non_strict"] = [list(res.missing_keys), list(res.unexpected_keys), repr(res)]
    out["all_matched"] = repr(a.load_state_dict(a.state_dict()))
    try:
        a.load_state_dict({"weight": torch.zeros(3, 4), "bias": torch.zeros(3)})
    except RuntimeError as e:
        out["size_error"] = str(e)
    reprs = [
        nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
        nn.ConvTranspose2d(3, 8, (2, 3), output_padding=1, stride=2, groups=1, dilation=2),
        nn.BatchNorm2d(4),
        nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True),
        nn.MultiheadAttention(8, 2),
        nn.Embedding(10, 3, padding_idx=1),
        nn.MaxPool2d(3, 2, 1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Dropout(0.25),
        nn.GELU(approximate="tanh"),
        nn.LayerNorm(4),
        nn.Upsample(scale_factor=2.0, mode="bilinear"),
        nn.TransformerEncoderLayer(8, 2, 16),
    ]
    out["reprs"] = [repr(r) for r in reprs]
    return json.dumps(out)


def state_dict_roundtrip():
    """state_dict() -> deepcopy -> load_state_dict() into a fresh model: same outputs.
    (A state dict pickled by real PyTorch is covered by run_state_dict and nn_zoo.pt.)"""
    a, fwd = build("composite_tinynet")
    sd = copy.deepcopy(a.state_dict())
    b = TinyNet()
    b.load_state_dict(sd)
    b.eval()
    a.eval()
    oa = _forward(a, fwd)
    ob = _forward(b, fwd)
    meta = [[k, dict(v)] for k, v in sd._metadata.items()]
    return json.dumps({"keys": list(sd.keys()), "metadata": meta, "a": encode(oa), "b": encode(ob)})


def run_state_dict(state_dict):
    """A state dict (e.g. unpickled from nn_zoo.pt, made by real PyTorch) loaded into a fresh
    TinyNet: the forward of case composite_tinynet."""
    m = TinyNet()
    result = m.load_state_dict(state_dict)
    out = json.loads(run_module("composite_tinynet", m))
    out["load_result"] = repr(result)
    out["types"] = sorted({type(v).__name__ for v in state_dict.values()})
    return json.dumps(out)


# ------------------------------------------------------------------ packaged models
TORCHVISION_MODULES = [
    "torchvision.models.resnet", "torchvision.models.mobilenetv2", "torchvision.models.mobilenetv3",
    "torchvision.models.squeezenet", "torchvision.models.shufflenetv2", "torchvision.models.efficientnet",
    "torchvision.models.vision_transformer", "torchvision.models._utils", "torchvision.models._api",
    "torchvision.ops.misc", "torchvision.ops.stochastic_depth", "torchvision.utils", "torchvision.transforms._presets",
]


def inspect_packaged_model(model):
    """A model unpickled from a torch.package archive: its (demangled) module, which torchvision
    modules its importer can import, and the train flag."""
    cls = type(model)
    module = cls.__module__
    if module.startswith("<torch_package_"):
        module = module.partition(".")[2]
    importer = cls.forward.__globals__["__loader__"]
    imported = []
    for name in TORCHVISION_MODULES:
        try:
            mod = importer.import_module(name)
        except ModuleNotFoundError:
            continue
        imported.append(name)
        assert mod.__name__.endswith(name)
    n_params = sum(p.numel() for p in model.parameters())
    return json.dumps({"module": module, "imports": imported, "training": model.training, "n_params": n_params})
