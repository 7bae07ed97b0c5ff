"""torch.ops: operator namespaces as PyTorch 1.13 has them (torch/_ops.py).

`torch.ops.<namespace>.<op>` is an OpOverloadPacket, callable, whose overloads
(`torch.ops.aten.add.Tensor`, `.default`) are OpOverloads; in the torch layer every overload of
an op is the same Python function, which already accepts each overload's arguments.

- `aten`: the ops the layer has, by ATen name: torch.<name>, torch.nn.functional.<name>, a
  Tensor method <name> (views, in-place ops), or one of _ATEN_EXTRA (ATen-only names such as
  _softmax, convolution, _to_copy). Others raise NotImplementedError naming the op (also an
  AttributeError, so hasattr() is False).
- `torchvision`: torchvision's C++ ops (nms, roi_align, roi_pool, ps_roi_align, ps_roi_pool,
  deform_conv2d, _cuda_version), always there (runtime/torch/_ops/vision.py).
- `torch.ops.load_library(path)` raises OSError: native libraries cannot be loaded.
"""

import types


class _Unsupported(NotImplementedError, AttributeError):
    pass


class OpOverload:
    __module__ = "torch._ops"

    def __init__(self, packet, overload_name):
        self._overloadpacket = packet
        self._overloadname = overload_name
        self._op = packet._op
        self.__name__ = f"{packet._op_name}.{overload_name}"
        self.__qualname__ = self.__name__

    @property
    def overloadpacket(self):
        return self._overloadpacket

    @property
    def op(self):
        return self._op

    @property
    def namespace(self):
        return self._overloadpacket._qualified_op_name.split("::")[0]

    def name(self):
        return f"{self._overloadpacket._qualified_op_name}.{self._overloadname}"

    def __call__(self, *args, **kwargs):
        return self._op(*args, **(kwargs or {}))

    def __repr__(self):
        ns, op = self._overloadpacket._qualified_op_name.split("::")
        return f"<OpOverload(op='{ns}.{op}', overload='{self._overloadname}')>"

    def __hash__(self):
        return hash((self._overloadpacket._qualified_op_name, self._overloadname))


class OpOverloadPacket:
    __module__ = "torch._ops"

    def __init__(self, qualified_op_name, op_name, op):
        self._qualified_op_name = qualified_op_name
        self._op_name = op_name
        self._op = op
        self.__name__ = op_name
        self._overloads = {}

    @property
    def op(self):
        return self._op

    def overloads(self):
        return ["default"] + [n for n in self._overloads if n != "default"]

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        ov = self.__dict__["_overloads"].get(name)
        if ov is None:
            ov = self._overloads[name] = OpOverload(self, name)
        return ov

    def __call__(self, *args, **kwargs):
        return self._op(*args, **(kwargs or {}))

    def __repr__(self):
        ns, op = self._qualified_op_name.split("::")
        return f"<OpOverloadPacket(op='{ns}.{op}')>"

    def __hash__(self):
        return hash(self._qualified_op_name)


_TORCHVISION_OPS = ("nms", "roi_align", "roi_pool", "ps_roi_align", "ps_roi_pool", "deform_conv2d", "_cuda_version")


def _resolve_torchvision(name):
    from . import vision

    return getattr(vision, name) if name in _TORCHVISION_OPS else None


def _aten_extra():
    import torch
    import torch.nn.functional as F

    def _softmax(x, dim, half_to_float=False):
        return torch.softmax(x, dim)

    def _log_softmax(x, dim, half_to_float=False):
        return torch.log_softmax(x, dim)

    def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
        n = input.dim() - 2
        if transposed:
            fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[n]
            return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
        fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
        return fn(input, weight, bias, stride, padding, dilation, groups)

    def _to_copy(x, *, dtype=None, layout=None, device=None, pin_memory=None, non_blocking=False, memory_format=None):
        return x.to(dtype) if dtype is not None else x.clone()

    def _unsafe_view(x, size):
        return x.reshape(size)

    def native_layer_norm(x, normalized_shape, weight, bias, eps):
        axes = list(range(x.dim() - len(normalized_shape), x.dim()))
        mean = x.mean(axes, keepdim=True)
        rstd = torch.rsqrt(x.var(axes, unbiased=False, keepdim=True) + eps)
        return F.layer_norm(x, normalized_shape, weight, bias, eps), mean, rstd

    def upsample_nearest2d(x, output_size, scales_h=None, scales_w=None):
        return F.interpolate(x, size=list(output_size), mode="nearest")

    def upsample_bilinear2d(x, output_size, align_corners, scales_h=None, scales_w=None):
        return F.interpolate(x, size=list(output_size), mode="bilinear", align_corners=align_corners)

    def slice_(x, dim=0, start=None, end=None, step=1):
        dim = dim + x.dim() if dim < 0 else dim
        return x[(slice(None),) * dim + (slice(start, end, step),)]

    return {
        "slice": slice_, "_softmax": _softmax, "_log_softmax": _log_softmax, "convolution": convolution, "_convolution": convolution,
        "_to_copy": _to_copy, "_unsafe_view": _unsafe_view, "native_layer_norm": native_layer_norm,
        "upsample_nearest2d": upsample_nearest2d, "upsample_bilinear2d": upsample_bilinear2d,
        "linear": F.linear, "mm": torch.mm, "size": lambda x, dim=None: x.size(dim), "sym_size": lambda x, dim: x.size(dim),
        "scalar_tensor": torch.scalar_tensor, "lift_fresh_copy": lambda x: x.clone(), "alias": lambda x: x.view(x.shape),
        "copy": lambda x, src, non_blocking=False: src.to(x.dtype).expand(x.shape).clone(),
        "Int": lambda x: int(x), "Float": lambda x: float(x), "Bool": lambda x: bool(x),
    }


_ATEN_EXTRA = None


def _resolve_aten(name):
    global _ATEN_EXTRA
    import torch
    import torch.nn.functional as F

    if _ATEN_EXTRA is None:
        _ATEN_EXTRA = _aten_extra()
    fn = _ATEN_EXTRA.get(name)
    if fn is not None:
        return fn
    if name.startswith("_"):
        return None
    for owner in (torch, F):
        try:
            fn = getattr(owner, name)
        except AttributeError:
            continue
        if callable(fn) and not isinstance(fn, type):
            return fn
    method = getattr(torch.Tensor, name, None)
    if callable(method):
        return method
    return None


_RESOLVERS = {"aten": _resolve_aten, "torchvision": _resolve_torchvision}


class _OpNamespace(types.ModuleType):
    def __init__(self, name):
        super().__init__("torch.ops." + name)
        self.name = name
        self._dir = []

    def __getattr__(self, op_name):
        if op_name.startswith("__"):
            raise AttributeError(op_name)
        resolver = _RESOLVERS.get(self.name)
        fn = resolver(op_name) if resolver is not None else None
        if fn is None:
            raise _Unsupported(f"torch.ops.{self.name}.{op_name} is not supported by wasmdeploy")
        packet = OpOverloadPacket(f"{self.name}::{op_name}", op_name, fn)
        setattr(self, op_name, packet)
        self._dir.append(op_name)
        return packet

    def __iter__(self):
        return iter(self._dir)


class _Ops(types.ModuleType):
    __file__ = "_ops.py"

    def __init__(self):
        super().__init__("torch.ops")
        self.loaded_libraries = set()
        self._namespaces = {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        ns = self._namespaces.get(name)
        if ns is None:
            ns = self._namespaces[name] = _OpNamespace(name)
        return ns

    def __iter__(self):
        return iter(self._namespaces)

    def load_library(self, path):
        raise OSError(f"torch.ops.load_library({path!r}): native libraries cannot be loaded in wasmdeploy")

    def import_module(self, module):
        import importlib

        importlib.import_module(module)


ops = _Ops()
