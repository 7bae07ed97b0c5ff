"""torch for wasmdeploy: PyTorch 1.13's Python API over lazy tensors whose math runs in ONNX
Runtime on the host (see docs/tensor-layer.md). What is not supported raises
NotImplementedError naming the op.

Careful: this module binds `bool`, `float`, `int`, `max`, `sum`, `abs`, ... to torch
objects, like real torch does; code below uses the `builtins` module for Python's own.
"""

import builtins as _builtins
import importlib as _importlib
import importlib.util as _importlib_util
import sys as _sys
import types as _types

__version__ = "1.13.0"

from . import _dtype
from . import _graph
from . import _storage
from ._dtype import can_cast, dtype, finfo, iinfo, promote_types
from ._ops import core as _core
from ._ops import creation as _creation
from ._ops import index as _index
from ._ops import linalg as _linalg
from ._ops import nn as _nnops
from ._ops import pointwise as _pointwise
from ._ops import reduce as _reduce
from ._ops import shape as _shape
from ._ops.registry import ops
from ._storage import TypedStorage, UntypedStorage
from ._tensor import (
    CPU as _CPU,
    Size,
    Tensor,
    _Unsupported,
    channels_last,
    channels_last_3d,
    contiguous_format,
    device,
    layout,
    memory_format,
    preserve_format,
    sparse_coo,
    strided,
)

for _n, _d in _dtype.TORCH_NAMES.items():
    globals()[_n] = _d
for _n, _c in _storage.legacy_storage_classes.items():
    globals()[_n] = _c
del _n, _d, _c


# ----- legacy tensor types: torch.FloatTensor(...) constructs, isinstance(x, torch.FloatTensor) checks dtype -----
class _LegacyTensorMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _legacy_tensor_type(name, dt):
    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and isinstance(args[0], (list, tuple)) and not isinstance(args[0], Size):
            return _creation.tensor(args[0], dtype=dt)
        return _creation.zeros(*args, dtype=dt)

    return _LegacyTensorMeta(name, (), {"dtype": dt, "__new__": __new__, "__module__": "torch"})


for _n, _d in [
    ("FloatTensor", _dtype.float32), ("DoubleTensor", _dtype.float64), ("HalfTensor", _dtype.float16),
    ("LongTensor", _dtype.int64), ("IntTensor", _dtype.int32), ("ShortTensor", _dtype.int16),
    ("CharTensor", _dtype.int8), ("ByteTensor", _dtype.uint8), ("BoolTensor", _dtype.bool_),
    ("BFloat16Tensor", _dtype.bfloat16),
]:
    globals()[_n] = _legacy_tensor_type(_n, _d)
del _n, _d


def _export(module, names, rename=None):
    g = globals()
    for n in names.split():
        g[n] = getattr(module, n)
    for public, private in (rename or {}).items():
        g[public] = getattr(module, private)


_export(_creation, """tensor as_tensor asarray scalar_tensor zeros ones empty full zeros_like ones_like empty_like full_like
    empty_strided arange linspace logspace eye Generator default_generator manual_seed seed initial_seed rand randn
    randint randperm rand_like randn_like randint_like normal bernoulli multinomial""", {"range": "range_"})
from ._numpy import from_numpy  # noqa: E402  (numpy interop: copies, see _numpy.py)
_export(_pointwise, """add sub subtract rsub mul multiply div divide true_divide floor_divide remainder fmod pow float_power
    eq ne lt le gt ge not_equal less less_equal greater greater_equal equal isclose allclose
    logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor bitwise_not
    exp log sqrt sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh
    sigmoid erf erfc erfinv reciprocal rsqrt log2 log10 log1p expm1 exp2 floor ceil round trunc fix frac neg negative
    sign sgn square positive isnan isinf isposinf isneginf isfinite nan_to_num atan2 arctan2 maximum minimum fmax fmin
    clamp clip clamp_min clamp_max where masked_fill lerp addcmul addcdiv hypot logaddexp xlogy copysign
    relu relu6 hardtanh selu celu prelu rrelu hardshrink threshold softmax log_softmax logit""",
        {"abs": "absolute", "absolute": "absolute"})
_export(_shape, """reshape view_as flatten ravel unflatten squeeze unsqueeze permute transpose swapaxes swapdims t movedim
    moveaxis broadcast_to broadcast_tensors repeat_interleave tile split split_with_sizes chunk tensor_split unbind
    narrow select flip fliplr flipud roll rot90 cat concat concatenate stack hstack vstack row_stack dstack
    column_stack atleast_1d atleast_2d atleast_3d tril triu diagonal diag diag_embed meshgrid pixel_shuffle
    pixel_unshuffle channel_shuffle clone as_strided cartesian_prod""", {"native_channel_shuffle": "channel_shuffle"})
_export(_reduce, """sum nansum mean nanmean prod max min amax amin aminmax argmax argmin var std var_mean std_mean norm
    logsumexp any all cumsum cumprod cummax cummin topk sort argsort msort median kthvalue quantile unique bincount""")
_export(_linalg, """matmul mm bmm baddbmm addmm addbmm addmv addr mv dot vdot inner outer ger einsum tensordot cross
    chain_matmul trace""")
_export(_index, """gather take take_along_dim index_select scatter scatter_add scatter_reduce index_add index_copy
    index_fill index_put masked_select masked_scatter nonzero argwhere count_nonzero""")
_export(_nnops, """conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d max_pool1d max_pool2d max_pool3d
    avg_pool1d adaptive_avg_pool1d adaptive_max_pool1d batch_norm layer_norm group_norm instance_norm embedding
    embedding_bag dropout alpha_dropout feature_alpha_dropout cosine_similarity pairwise_distance cdist pdist""")
from ._ops import extra as _extra

_export(_extra, """diff deg2rad rad2deg signbit sinc heaviside logaddexp2 logcumsumexp dist kron diagflat hsplit vsplit
    dsplit isin bucketize searchsorted tril_indices triu_indices block_diag hann_window hamming_window
    blackman_window bartlett_window mode nanmedian renorm constant_pad_nd""")
feature_dropout = _nnops.dropout2d
bilinear = _linalg.bilinear
result_type = _core.result_type
broadcast_shapes = _core.broadcast_shapes
return_types = _reduce.return_types
_sys.modules[__name__ + ".return_types"] = return_types


def _broadcast_shapes(*shapes):
    return Size(_core.broadcast_shapes(*[tuple(s) if isinstance(s, (list, tuple)) else (s,) for s in shapes]))


broadcast_shapes = _broadcast_shapes


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_storage(obj):
    return isinstance(obj, (_storage.Storage, UntypedStorage))


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_complex(input):
    return False


def is_nonzero(input):
    return _builtins.bool(input)


def is_same_size(a, b):
    return tuple(a.shape) == tuple(b.shape)


def numel(input):
    return input.numel()


def typename(o):
    if isinstance(o, Tensor):
        return o.type()
    module = getattr(type(o), "__module__", "")
    name = type(o).__qualname__
    return name if module in ("builtins", "") else f"{module}.{name}"


def get_default_dtype():
    return _core.default_float()


def set_default_dtype(d):
    _core.set_default_float(d)


def set_default_tensor_type(t):
    if isinstance(t, str):
        d = {"torch.FloatTensor": _dtype.float32, "torch.DoubleTensor": _dtype.float64}.get(t)
    else:
        d = getattr(t, "dtype", None)
    if d is None:
        raise NotImplementedError(f"torch.set_default_tensor_type: {t!r} is not supported by wasmdeploy")
    _core.set_default_float(d)


def get_default_device():
    return _CPU


def set_default_device(d):
    if str(d) != "cpu":
        raise NotImplementedError(f"torch.set_default_device: {d!r} is not supported by wasmdeploy (only cpu)")


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    from ._ops import format as _f

    if precision is not None:
        _f.PRECISION = precision
    if threshold is not None:
        _f.THRESHOLD = threshold
    if edgeitems is not None:
        _f.EDGEITEMS = edgeitems
    if linewidth is not None:
        _f.LINEWIDTH = linewidth


def get_num_threads():
    return 1


def set_num_threads(n):
    pass


def get_num_interop_threads():
    return 1


def set_num_interop_threads(n):
    pass


def use_deterministic_algorithms(mode, *, warn_only=False):
    pass


def are_deterministic_algorithms_enabled():
    return True


def is_anomaly_enabled():
    return False


def get_rng_state():
    raise NotImplementedError("torch.get_rng_state is not supported by wasmdeploy")


def set_rng_state(state):
    raise NotImplementedError("torch.set_rng_state is not supported by wasmdeploy")


def compile(model=None, **kwargs):
    """torch.compile: returns the model unchanged (every model already runs as graphs)."""
    if model is None:
        return lambda m: m
    return model


def _assert(condition, message):
    if type(condition) is not _builtins.bool and isinstance(condition, Tensor):
        condition = _builtins.bool(condition)
    assert condition, message


def norm_except_dim(v, pow=2, dim=0):
    if dim == -1:
        return _reduce.norm(v, pow)
    axes = [i for i in _builtins.range(v.dim()) if i != dim]
    return _reduce.norm(v, pow, axes, True)


def is_signed(input):
    return input.dtype.is_signed


def is_inference(input):
    return False


def is_autocast_enabled():
    return False


def is_autocast_cpu_enabled():
    return False


def _use_cudnn_rnn_flatten_weight():
    return False


def detach(input):
    return input.detach()


def real(input):
    return input


def conj(input):
    return input


resolve_conj = resolve_neg = conj


def is_conj(input):
    return False


def is_neg(input):
    return False


def _inplace_fn(name, fn):
    def f(input, *args, **kwargs):
        return input._inplace(fn(input, *args, **kwargs), name)

    f.__name__ = name
    return f


for _n in """abs acos acosh asin asinh atan atanh ceil cos cosh erf erfc exp exp2 expm1 floor frac log log10 log1p log2
        neg reciprocal relu round rsqrt sigmoid sin sinh sqrt square tan tanh trunc fix sgn nan_to_num logit selu celu
        rrelu hardtanh threshold negative""".split():
    globals()[_n + "_"] = _inplace_fn(_n + "_", globals()[_n])
for _n in ("clamp", "clamp_min", "clamp_max", "clip", "xlogy"):
    globals()[_n + "_"] = _inplace_fn(_n + "_", globals()[_n])
del _n


def fill_(input, value):
    return input.fill_(value)


def zero_(input):
    return input.zero_()


def index_put_(input, indices, values, accumulate=False):
    return input.index_put_(indices, values, accumulate)


def dropout_(input, p=0.5, train=False):
    return _nnops.dropout(input, p, train)


alpha_dropout_ = feature_dropout_ = feature_alpha_dropout_ = dropout_


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    return _nnops.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return _nnops.binary_cross_entropy_with_logits(input, target, weight, reduction={0: "none", 1: "mean", 2: "sum"}.get(reduction, reduction), pos_weight=pos_weight)


def _unsupported_fn(name, what=None):
    def f(*args, **kwargs):
        raise NotImplementedError(f"torch.{name}: {what or 'this op'} is not supported by wasmdeploy")

    f.__name__ = name
    return f


# fused kernels real nn modules may reach for; the modules layer takes the plain path
_native_multi_head_attention = _unsupported_fn("_native_multi_head_attention", "the fused attention kernel")
_transformer_encoder_layer_fwd = _unsupported_fn("_transformer_encoder_layer_fwd", "the fused encoder kernel")
_nested_tensor_from_mask = _unsupported_fn("_nested_tensor_from_mask", "nested tensors")
_nested_tensor_from_mask_left_aligned = _unsupported_fn("_nested_tensor_from_mask_left_aligned", "nested tensors")


# ----- grad mode (there is no autograd: these only track the flag) -----
_grad_state = {"enabled": True, "inference": False}


def is_grad_enabled():
    return _grad_state["enabled"]


def is_inference_mode_enabled():
    return _grad_state["inference"]


class _GradContext:
    _mode = True

    def __call__(self, func):
        import functools

        if isinstance(func, type):
            raise NotImplementedError("torch grad-mode decorators on classes are not supported by wasmdeploy")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return func(*args, **kwargs)

        return wrapper

    _args = ()

    def __enter__(self):
        self._prev = _grad_state["enabled"]
        _grad_state["enabled"] = self._mode
        return None

    def __exit__(self, *exc):
        _grad_state["enabled"] = self._prev
        return False

    def clone(self):
        return self.__class__(*self._args)


class _NoParamContext(_GradContext):
    """Also usable as a bare decorator (`@torch.no_grad`), like torch 2.x."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __init__(self, orig_func=None):
        pass


class no_grad(_NoParamContext):
    _mode = False


class enable_grad(_NoParamContext):
    _mode = True


class set_grad_enabled(_GradContext):
    def __init__(self, mode):
        self._prev = _grad_state["enabled"]
        self._mode = _builtins.bool(mode)
        self._args = (mode,)
        _grad_state["enabled"] = self._mode

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _grad_state["enabled"] = self._prev
        return False


class inference_mode(_GradContext):
    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, _builtins.bool):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        if callable(mode) and not isinstance(mode, _builtins.bool):
            mode = True
        self._mode = not mode
        self._inf = _builtins.bool(mode)
        self._args = (mode,)

    def __enter__(self):
        self._prev = _grad_state["enabled"]
        self._prev_inf = _grad_state["inference"]
        _grad_state["enabled"] = self._mode
        _grad_state["inference"] = self._inf
        return None

    def __exit__(self, *exc):
        _grad_state["enabled"] = self._prev
        _grad_state["inference"] = self._prev_inf
        return False


# ----- namespaces that real torch has as submodules (created here unless a file provides them) -----
def _has_submodule(name):
    try:
        return _importlib_util.find_spec(f"{__name__}.{name}") is not None
    except (ImportError, ValueError):
        return False


def _namespace(name, attrs, unsupported_prefix=None):
    full = f"{__name__}.{name}"
    if full in _sys.modules:
        return _sys.modules[full]
    if _has_submodule(name):
        return None
    prefix = unsupported_prefix or f"torch.{name}"

    class _NS(_types.ModuleType):
        def __getattr__(self, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            raise _Unsupported(f"{prefix}.{attr} is not supported by wasmdeploy")

    mod = _NS(full)
    mod.__dict__.update(attrs)
    _sys.modules[full] = mod
    globals()[name] = mod
    return mod


class _AutogradFunction:
    @classmethod
    def apply(cls, *args, **kwargs):
        class _Ctx:
            def save_for_backward(self, *t):
                self.saved_tensors = t

            def mark_non_differentiable(self, *t):
                pass

            def set_materialize_grads(self, v):
                pass

        return cls.forward(_Ctx(), *args, **kwargs)


def _autograd_grad(*args, **kwargs):
    raise NotImplementedError("torch.autograd.grad: autograd is not supported by wasmdeploy")


_namespace("autograd", {
    "no_grad": no_grad, "enable_grad": enable_grad, "set_grad_enabled": set_grad_enabled,
    "inference_mode": inference_mode, "Variable": Tensor, "Function": _AutogradFunction, "grad": _autograd_grad,
    "backward": _autograd_grad, "is_grad_enabled": is_grad_enabled,
    "grad_mode": _types.SimpleNamespace(no_grad=no_grad, enable_grad=enable_grad, set_grad_enabled=set_grad_enabled, inference_mode=inference_mode),
})


def _false(*args, **kwargs):
    return False


def _zero(*args, **kwargs):
    return 0


def _no_cuda(*args, **kwargs):
    raise NotImplementedError("torch.cuda: CUDA is not supported by wasmdeploy")


_namespace("cuda", {
    "is_available": _false, "device_count": _zero, "is_initialized": _false, "current_device": _no_cuda,
    "set_device": _no_cuda, "synchronize": lambda *a, **k: None, "empty_cache": lambda *a, **k: None,
    "manual_seed": lambda s: None, "manual_seed_all": lambda s: None, "is_bf16_supported": _false,
    "get_device_name": _no_cuda, "device": _no_cuda,
})


class _NullContext:
    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        return func


class autocast(_NullContext):
    """torch.autocast: mixed precision is not applied (computation stays in the tensors' dtypes)."""


if "cuda" in globals() and isinstance(globals()["cuda"], _types.ModuleType):
    globals()["cuda"].amp = _types.SimpleNamespace(autocast=autocast)

_namespace("backends", {
    "cudnn": _types.SimpleNamespace(enabled=False, benchmark=False, deterministic=False, allow_tf32=False, is_available=_false, version=lambda: None),
    "mps": _types.SimpleNamespace(is_available=_false, is_built=_false),
    "mkldnn": _types.SimpleNamespace(enabled=False, is_available=_false),
    "openmp": _types.SimpleNamespace(is_available=_false),
    "cuda": _types.SimpleNamespace(matmul=_types.SimpleNamespace(allow_tf32=False), is_built=_false,
                                   flash_sdp_enabled=_false, mem_efficient_sdp_enabled=_false, math_sdp_enabled=lambda: True),
    "quantized": _types.SimpleNamespace(engine="none", supported_engines=[]),
})
_namespace("version", {"__version__": __version__, "cuda": None, "hip": None, "debug": False, "git_version": "wasmdeploy"})
_namespace("linalg", {
    "norm": lambda A, ord=None, dim=None, keepdim=False, *, dtype=None: _reduce.norm(A, 2 if ord is None else ord, dim, keepdim, dtype),
    "vector_norm": _reduce.vector_norm, "matmul": _linalg.matmul, "multi_dot": _linalg.multi_dot,
    "cross": _linalg.cross, "vecdot": lambda x, y, *, dim=-1: _reduce.sum(_pointwise.mul(x, y), dim),
})
_namespace("special", {
    "erf": _pointwise.erf, "erfc": _pointwise.erfc, "expit": _pointwise.sigmoid, "logit": _pointwise.logit,
    "exp2": _pointwise.exp2, "expm1": _pointwise.expm1, "log1p": _pointwise.log1p, "softmax": _pointwise.softmax,
    "log_softmax": _pointwise.log_softmax, "logsumexp": _reduce.logsumexp, "round": _pointwise.round, "xlogy": _pointwise.xlogy,
})
_namespace("random", {
    "manual_seed": manual_seed, "seed": seed, "initial_seed": initial_seed, "get_rng_state": get_rng_state,
    "set_rng_state": set_rng_state, "default_generator": default_generator,
})
_namespace("_VF", {})
_namespace("_classes", {})
_namespace("distributed", {"is_available": _false, "is_initialized": _false})
_namespace("amp", {"autocast": autocast})
_namespace("fft", {})


# ----- unknown attributes: NotImplementedError naming them (also an AttributeError, so hasattr() is False) -----
def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    if _has_submodule(name):
        return _importlib.import_module(f"{__name__}.{name}")
    raise _Unsupported(f"torch.{name} is not supported by wasmdeploy")


# torch.nn & co are imported eagerly like in real torch (and before the interpreter snapshot).
for _sub in ("nn", "jit", "fx", "utils", "overrides", "types", "hub", "package", "_utils", "_jit_internal", "_C"):
    if _has_submodule(_sub):
        _importlib.import_module(f"{__name__}.{_sub}")
del _sub
