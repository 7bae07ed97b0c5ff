"""torch.Tensor: a handle on a lazy or engine-resident value (see _graph.py)."""

import math
from builtins import bool as builtins_bool

from . import _dtype as D
from . import _graph as G
from ._ops import core as C
from ._ops import creation as _cr
from ._ops import index as _ix
from ._ops import extra as _ex
from ._ops import linalg as _la
from ._ops import pointwise as _pw
from ._ops import reduce as _rd
from ._ops import shape as _sh


class _Unsupported(NotImplementedError, AttributeError):
    """An attribute wasmdeploy does not provide (hasattr() is False for it)."""


class Size(tuple):
    """torch.Size: a tuple of ints."""

    __module__ = "torch"

    def __new__(cls, sizes=()):
        return super().__new__(cls, (int(s) for s in sizes))

    def __repr__(self):
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def numel(self):
        return math.prod(self)

    def __getitem__(self, k):
        r = super().__getitem__(k)
        return Size(r) if isinstance(k, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))


class device:
    __module__ = "torch"
    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            raise NotImplementedError(f"torch.device: CUDA device {type} is not supported by wasmdeploy (only cpu)")
        t = str(type)
        if ":" in t:
            t, i = t.split(":", 1)
            index = int(i)
        if t not in ("cpu", "cuda", "mps", "meta", "xpu"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps, meta device type at start of device string: {type}")
        self.type = t
        self.index = index

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index) if self.index is not None else (self.type,))


CPU = device("cpu")


class layout:
    __module__ = "torch"

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "torch." + self.name


strided = layout("strided")
sparse_coo = layout("sparse_coo")


class memory_format:
    __module__ = "torch"

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "torch." + self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


def _check_device(dev, what):
    if dev is None:
        return
    d = dev if isinstance(dev, device) else device(dev)
    if d.type not in ("cpu", "meta"):
        raise NotImplementedError(f"torch.Tensor.{what}: device '{d}' is not supported by wasmdeploy (only cpu)")


_LEGACY_TYPES = {
    "torch.FloatTensor": D.float32, "torch.DoubleTensor": D.float64, "torch.HalfTensor": D.float16,
    "torch.LongTensor": D.int64, "torch.IntTensor": D.int32, "torch.ShortTensor": D.int16,
    "torch.CharTensor": D.int8, "torch.ByteTensor": D.uint8, "torch.BoolTensor": D.bool_,
    "torch.BFloat16Tensor": D.bfloat16,
}
_TYPE_NAMES = {d: n for n, d in _LEGACY_TYPES.items()}


def _contig_strides(shape):
    strides = []
    s = 1
    for d in reversed(shape):
        strides.append(s)
        s *= max(d, 1)
    return tuple(reversed(strides))


class Tensor:
    """A tensor. Ops record lazily; reading values materializes (see torch._graph)."""

    __module__ = "torch"
    requires_grad = False
    _view = None
    grad = None
    grad_fn = None
    is_leaf = True
    is_cuda = False
    is_sparse = False
    is_quantized = False
    is_meta = False
    is_mkldnn = False
    is_nested = False
    layout = strided
    _backward_hooks = None
    __array_priority__ = 1000

    # ----- construction -----
    def __new__(cls, *args, **kwargs):
        """Legacy constructor: Tensor(2, 3) (uninitialized float), Tensor([1, 2]), Tensor(size=...)."""
        dev = kwargs.pop("device", None)
        _check_device(dev, "__new__")
        if len(args) == 1 and isinstance(args[0], Tensor):
            src = args[0]
            t = object.__new__(cls)
            t._value = src._value
            return t
        if len(args) == 1 and isinstance(args[0], (list, tuple)) and not isinstance(args[0], Size):
            src = _cr.tensor(args[0], dtype=C.default_float())
        elif args and all(isinstance(a, int) for a in args) or (len(args) == 1 and isinstance(args[0], Size)):
            src = _cr.zeros(*args, dtype=C.default_float())
        elif not args:
            src = _cr.zeros(0, dtype=C.default_float())
        else:
            raise TypeError(f"new(): invalid arguments {args!r}")
        t = object.__new__(cls)
        t._value = src._value
        return t

    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def _wrap(cls, value):
        t = object.__new__(Tensor)
        t._value = value
        return t

    @staticmethod
    def _make_subclass(cls, data, require_grad=False):
        """For nn.Parameter: an instance of `cls` sharing `data`'s value."""
        t = object.__new__(cls)
        t._value = data._value
        t.requires_grad = bool(require_grad)
        return t

    @staticmethod
    def _from_storage(storage, offset, shape, dtype, stride=None):
        """A concrete tensor over an engine storage (e.g. a pickled weight). Non-contiguous
        strides become a graph (transpose, expand or gather) over the contiguous data."""
        dtype = D.from_name(dtype) if not isinstance(dtype, D.dtype) else dtype
        shape = tuple(int(s) for s in shape)
        if stride is None or _is_contiguous(shape, tuple(stride)):
            return Tensor._wrap(G.concrete(storage, offset, shape, dtype))
        stride = tuple(int(s) for s in stride)
        n = math.prod(shape)
        if n == 0:
            return Tensor._wrap(G.concrete(storage, offset, shape, dtype))
        # expanded dims (stride 0) -> size-1 dims + Expand
        base_shape = tuple(1 if st == 0 else s for s, st in zip(shape, stride))
        base_stride = tuple(st for st in stride)
        # a permutation of a contiguous layout -> Transpose
        order = sorted(range(len(shape)), key=lambda i: (-base_stride[i], i))
        perm_shape = tuple(base_shape[i] for i in order)
        perm_stride = tuple(base_stride[i] for i in order)
        if _is_contiguous(perm_shape, perm_stride):
            v = G.concrete(storage, offset, perm_shape, dtype)
            inv = [order.index(i) for i in range(len(shape))]
            v = C.transpose_value(v, inv)
            v = C.expand_value(v, shape)
            return Tensor._wrap(v)
        extent = 1 + sum((s - 1) * st for s, st in zip(shape, stride))
        flat = G.concrete(storage, offset, (extent,), dtype)
        return Tensor._wrap(_ix.strided_value(flat, shape, stride, 0))

    def _concrete(self):
        """(storage, offset) if this tensor's value is in the engine, else None."""
        v = self._value
        if v.node is not None:
            return None
        return (v.storage, v.offset)

    def _assign(self, v):
        """Rebind to Value v (same shape and dtype) after an in-place op; write through to the
        tensors this one is a view of (iteratively: chains of views can be long). Every other
        view of a tensor that changed goes stale and is derived again from it when next used
        (Tensor.__getattr__), so views see writes to their bases and to each other, as in
        PyTorch where they share memory."""
        v = G.fresh(v)
        self._value = v
        self._stale_views(None)
        child = self
        while True:
            view = child.__dict__.get("_view")
            if view is None:
                break
            parent, fn, alias = view[:3]
            pv = parent._value
            if alias:
                nv = C.reshape_value(v, pv.shape)
            else:
                pos = fn(_cr.arange(pv.numel()).reshape(pv.shape))
                n = pos.numel()
                total = pv.numel()
                out = G.record1(
                    "ScatterElements",
                    [C.reshape_value(pv, (total,)), C.reshape_value(pos._value, (n,)), C.reshape_value(C.cast(v, pv.dtype), (n,))],
                    (total,), pv.dtype, {"axis": 0},
                )
                nv = C.reshape_value(out, pv.shape)
            parent._value = nv
            parent._stale_views(child)
            G.after_op(nv)
            child, v = parent, nv
        G.after_op(self._value)

    def _stale_views(self, keep):
        """Mark every live view of this tensor (but `keep`) and their views stale."""
        refs = self.__dict__.get("_views")
        if not refs:
            return
        live = []
        for r in refs:
            w = r()
            if w is None:
                continue
            live.append(r)
            if w is keep:
                continue
            d = w.__dict__
            if "_value" in d:
                del d["_value"]
                w._stale_views(None)
        self.__dict__["_views"] = live

    def _check_writable(self):
        """In-place ops other than fill on a view whose elements alias each other: with a zero
        stride (expand) they fail, as in PyTorch; with overlapping windows (unfold, as_strided)
        PyTorch's answer depends on its loop order, so they are refused."""
        view = self.__dict__.get("_view")
        if view is None or len(view) < 4:
            return
        if view[3] == "zero":
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation."
            )
        # PyTorch runs such a write element by element over memory it also reads (unfold windows
        # that overlap): the result depends on its loop order, which one graph does not have
        raise NotImplementedError(
            "torch.Tensor: an in-place op (other than fill_/zero_) on a view whose elements overlap "
            "(unfold with step < size, as_strided) is not supported by wasmdeploy; clone() it first"
        )
    def _inplace(self, res, name):
        self._check_writable()
        v = res._value
        sv = self._value
        if v.shape != sv.shape:
            raise RuntimeError(f"output with shape {C.fmt_shape(sv.shape)} doesn't match the broadcast shape {C.fmt_shape(v.shape)}")
        if v.dtype is not sv.dtype:
            if not D.can_cast(v.dtype, sv.dtype):
                raise RuntimeError(f"result type {C.dtype_name(v.dtype)} can't be cast to the desired output type {C.dtype_name(sv.dtype)}")
            v = C.cast(v, sv.dtype)
        self._assign(v)
        return self

    # ----- metadata -----
    @property
    def shape(self):
        return Size(self._value.shape)

    def size(self, dim=None):
        s = self._value.shape
        if dim is None:
            return Size(s)
        return s[C.norm_dim(dim, len(s))]

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def device(self):
        return CPU

    @property
    def ndim(self):
        return len(self._value.shape)

    def dim(self):
        return len(self._value.shape)

    ndimension = dim

    def numel(self):
        return self._value.numel()

    nelement = numel

    def element_size(self):
        return self._value.dtype.itemsize

    @property
    def itemsize(self):
        return self._value.dtype.itemsize

    @property
    def nbytes(self):
        return self._value.numel() * self._value.dtype.itemsize

    def stride(self, dim=None):
        s = _sh.layout_of(self)[0]
        return s if dim is None else s[C.norm_dim(dim, len(s))]

    def storage_offset(self):
        return _sh.layout_of(self)[1]

    def is_contiguous(self, memory_format=None):
        lay = self.__dict__.get("_layout")
        return lay is None or _is_contiguous(self._value.shape, lay[0])

    def is_floating_point(self):
        return self._value.dtype.is_floating_point

    def is_complex(self):
        return False

    def is_signed(self):
        return self._value.dtype.is_signed

    def get_device(self):
        return -1

    def data_ptr(self):
        return id(self._value)

    def is_pinned(self):
        return False

    def is_shared(self):
        return False

    def is_set_to(self, other):
        return self._value is other._value

    @property
    def is_cpu(self):
        return True

    @property
    def names(self):
        return (None,) * self.dim()

    # ----- autograd surface (inference only) -----
    def requires_grad_(self, requires_grad=True):
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        return _sh.make_view(self, self._value, lambda r: r, alias=True)

    def detach_(self):
        self.requires_grad = False
        return self

    @property
    def data(self):
        return _sh.make_view(self, self._value, lambda r: r, alias=True)

    @data.setter
    def data(self, other):
        self._value = other._value

    def retain_grad(self):
        pass

    def backward(self, *args, **kwargs):
        raise NotImplementedError("torch.Tensor.backward: autograd is not supported by wasmdeploy")

    def register_hook(self, hook):
        raise NotImplementedError("torch.Tensor.register_hook: autograd is not supported by wasmdeploy")

    # ----- conversion -----
    def to(self, *args, **kwargs):
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, D.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, device)):
                dev = a
            elif isinstance(a, bool):
                pass
            elif a is None:
                pass
            else:
                raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
        _check_device(dev, "to")
        if dtype is None or dtype is self._value.dtype:
            return self if not copy else self.clone()
        D.check_supported(dtype, "Tensor.to")
        return C.wrap(C.cast(self._value, dtype))

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None:
            return _TYPE_NAMES.get(self.dtype, "torch." + self.dtype.name)
        if isinstance(dtype, str):
            d = _LEGACY_TYPES.get(dtype)
            if d is None:
                raise NotImplementedError(f"torch.Tensor.type: {dtype!r} is not supported by wasmdeploy")
            dtype = d
        elif isinstance(dtype, type) and issubclass(dtype, Tensor):
            return self
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self, memory_format=None):
        return self.to(D.float32)

    def double(self, memory_format=None):
        return self.to(D.float64)

    def half(self, memory_format=None):
        return self.to(D.float16)

    def bfloat16(self, memory_format=None):
        raise NotImplementedError("torch.Tensor.bfloat16: bfloat16 is not supported by wasmdeploy")

    def long(self, memory_format=None):
        return self.to(D.int64)

    def int(self, memory_format=None):
        return self.to(D.int32)

    def short(self, memory_format=None):
        return self.to(D.int16)

    def char(self, memory_format=None):
        return self.to(D.int8)

    def byte(self, memory_format=None):
        return self.to(D.uint8)

    def bool(self, memory_format=None):
        return self.to(D.bool_)

    def cpu(self, memory_format=None):
        return self

    def cuda(self, *args, **kwargs):
        raise NotImplementedError("torch.Tensor.cuda: CUDA is not supported by wasmdeploy")

    def pin_memory(self):
        return self

    def share_memory_(self):
        return self

    def numpy(self, *, force=False):
        # A copy, where PyTorch shares memory (the elements live in the engine; torch/_numpy.py).
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        from . import _numpy

        return _numpy.to_numpy(self)

    def __array__(self, dtype=None):
        a = self.numpy(force=True)
        return a if dtype is None else a.astype(dtype, copy=False)

    def clone(self, *, memory_format=None):
        return C.wrap(self._value)

    def contiguous(self, memory_format=None):
        # a view laid out otherwise (transpose, a strided slice) gets a copy, as in PyTorch
        return self if self.is_contiguous() else C.wrap(self._value)

    # ----- reading values -----
    def tolist(self):
        v = self._value
        data = G.read_bytes(v)
        n = v.numel()
        flat = D.unpack(v.dtype, data, n) if n else []
        shape = v.shape
        if not shape:
            return flat[0]
        return _nest(flat, shape)

    def item(self):
        v = self._value
        n = v.numel()
        if n != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        data = G.read_bytes(v)
        return D.unpack(v.dtype, data, 1)[0]

    def __bool__(self):
        n = self._value.numel()
        if n != 1:
            if n == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __int__(self):
        self._one_element("int")
        return int(self.item())

    def __float__(self):
        self._one_element("float")
        return float(self.item())

    def __complex__(self):
        return complex(self.__float__())

    def __index__(self):
        if self._value.dtype.is_floating_point or self._value.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def _one_element(self, what):
        if self._value.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")

    def __repr__(self, *, tensor_contents=None):
        from ._ops.format import format_tensor

        return format_tensor(self)

    def __str__(self):
        return self.__repr__()

    def __format__(self, spec):
        if self._value.shape == () or (self._value.numel() == 1 and spec):
            return format(self.item(), spec)
        return format(self.__repr__(), spec)

    def __hash__(self):
        return id(self)

    def __len__(self):
        s = self._value.shape
        if not s:
            raise TypeError("len() of a 0-d tensor")
        return s[0]

    def __iter__(self):
        s = self._value.shape
        if not s:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_sh.unbind(self, 0))

    def __reversed__(self):
        return _sh.flip(self, 0)

    def __contains__(self, element):
        return bool((self == element).any().item())

    def __deepcopy__(self, memo):
        import copy as _copy

        t = object.__new__(type(self))
        memo[id(self)] = t
        self._value  # a stale view: derive it first
        for k, v in self.__dict__.items():
            if k in ("_view", "_views"):
                continue
            t.__dict__[k] = v if k == "_value" else _copy.deepcopy(v, memo)
        return t

    def __copy__(self):
        t = object.__new__(type(self))
        self._value  # a stale view: derive it first
        t.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("_view", "_views")})
        return t

    def __reduce_ex__(self, proto):
        raise NotImplementedError("torch.Tensor.__reduce_ex__: pickling tensors is not supported by wasmdeploy")

    def __getattr__(self, name):
        if name == "_value":
            # a view whose base changed since (see _assign): derive it again from the base
            view = self.__dict__.get("_view")
            if view is None:
                raise AttributeError(name)
            parent, fn = view[0], view[1]
            v = fn(parent)._value
            self.__dict__["_value"] = v
            return v
        if name.startswith("__"):
            raise AttributeError(name)
        raise _Unsupported(f"torch.Tensor.{name} is not supported by wasmdeploy")

    # ----- indexing -----
    def __getitem__(self, idx):
        return _ix.getitem(self, idx)

    def __setitem__(self, idx, value):
        _ix.setitem(self, idx, value)

    # ----- arithmetic operators -----
    def __add__(self, o):
        return _pw.add(self, o)

    def __radd__(self, o):
        return _pw.add(o, self)

    def __iadd__(self, o):
        return self._inplace(_pw.add(self, o), "add_")

    def __sub__(self, o):
        return _pw.sub(self, o)

    def __rsub__(self, o):
        return _pw.sub(o, self)

    def __isub__(self, o):
        return self._inplace(_pw.sub(self, o), "sub_")

    def __mul__(self, o):
        return _pw.mul(self, o)

    def __rmul__(self, o):
        return _pw.mul(o, self)

    def __imul__(self, o):
        return self._inplace(_pw.mul(self, o), "mul_")

    def __truediv__(self, o):
        return _pw.div(self, o)

    def __rtruediv__(self, o):
        return _pw.div(o, self)

    def __itruediv__(self, o):
        return self._inplace(_pw.div(self, o), "div_")

    def __floordiv__(self, o):
        return _pw.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return _pw.floor_divide(o, self)

    def __ifloordiv__(self, o):
        return self._inplace(_pw.floor_divide(self, o), "floor_divide_")

    def __mod__(self, o):
        return _pw.remainder(self, o)

    def __rmod__(self, o):
        return _pw.remainder(o, self)

    def __imod__(self, o):
        return self._inplace(_pw.remainder(self, o), "remainder_")

    def __pow__(self, o, modulo=None):
        return _pw.pow(self, o)

    def __rpow__(self, o):
        return _pw.pow(o, self)

    def __ipow__(self, o):
        return self._inplace(_pw.pow(self, o), "pow_")

    def __matmul__(self, o):
        if not isinstance(o, Tensor):
            return NotImplemented
        return _la.matmul(self, o)

    def __rmatmul__(self, o):
        if not isinstance(o, Tensor):
            return NotImplemented
        return _la.matmul(o, self)

    def __neg__(self):
        return _pw.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _pw.absolute(self)

    def __invert__(self):
        return _pw.bitwise_not(self)

    def __and__(self, o):
        return _pw.bitwise_and(self, o)

    def __rand__(self, o):
        return _pw.bitwise_and(o, self)

    def __iand__(self, o):
        return self._inplace(_pw.bitwise_and(self, o), "bitwise_and_")

    def __or__(self, o):
        return _pw.bitwise_or(self, o)

    def __ror__(self, o):
        return _pw.bitwise_or(o, self)

    def __ior__(self, o):
        return self._inplace(_pw.bitwise_or(self, o), "bitwise_or_")

    def __xor__(self, o):
        return _pw.bitwise_xor(self, o)

    def __rxor__(self, o):
        return _pw.bitwise_xor(o, self)

    def __ixor__(self, o):
        return self._inplace(_pw.bitwise_xor(self, o), "bitwise_xor_")

    def __lshift__(self, o):
        return _pw.mul(self, _pw.pow(2, o) if isinstance(o, Tensor) else 2**o)

    def __rshift__(self, o):
        return _pw.floor_divide(self, _pw.pow(2, o) if isinstance(o, Tensor) else 2**o)

    def __eq__(self, o):
        if not isinstance(o, (Tensor, int, float, bool)):
            return NotImplemented
        return _pw.eq(self, o)

    def __ne__(self, o):
        if not isinstance(o, (Tensor, int, float, bool)):
            return NotImplemented
        return _pw.ne(self, o)

    def __lt__(self, o):
        return _pw.lt(self, o)

    def __le__(self, o):
        return _pw.le(self, o)

    def __gt__(self, o):
        return _pw.gt(self, o)

    def __ge__(self, o):
        return _pw.ge(self, o)

    # ----- properties -----
    @property
    def T(self):
        return _sh.T(self)

    @property
    def mT(self):
        return _sh.mT(self)

    @property
    def H(self):
        return _sh.T(self)

    @property
    def mH(self):
        return _sh.mT(self)

    @property
    def real(self):
        return self

    # ----- new_* -----
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return _cr.zeros(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return _cr.ones(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return _cr.empty(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **kw):
        return _cr.full(size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **kw):
        return _cr.tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    # ----- in-place ops (rebind to a new lazy value) -----
    def add_(self, other, *, alpha=1):
        return self._inplace(_pw.add(self, other, alpha=alpha), "add_")

    def sub_(self, other, *, alpha=1):
        return self._inplace(_pw.sub(self, other, alpha=alpha), "sub_")

    def mul_(self, other):
        return self._inplace(_pw.mul(self, other), "mul_")

    def div_(self, other, *, rounding_mode=None):
        return self._inplace(_pw.div(self, other, rounding_mode=rounding_mode), "div_")

    def pow_(self, exponent):
        return self._inplace(_pw.pow(self, exponent), "pow_")

    def clamp_(self, min=None, max=None):
        return self._inplace(_pw.clamp(self, min, max), "clamp_")

    clip_ = clamp_

    def clamp_min_(self, min):
        return self._inplace(_pw.clamp(self, min=min), "clamp_min_")

    def clamp_max_(self, max):
        return self._inplace(_pw.clamp(self, max=max), "clamp_max_")

    def masked_fill_(self, mask, value):
        if tuple(mask.shape) != tuple(self.shape):
            C.broadcast_pair("masked_fill_", tuple(mask.shape), tuple(self.shape))
        view = self.__dict__.get("_view")
        if view is not None and len(view) > 3 and view[3]:  # expanded: PyTorch writes the aliased memory
            _ix.setitem(self, _sh.expand(mask, *self.shape).to(D.bool_), value)
            return self
        return self._inplace(_pw.masked_fill(self, mask, value), "masked_fill_")

    def copy_(self, src, non_blocking=False):
        if not isinstance(src, Tensor):
            raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
        self._check_writable()
        sv = self._value
        shape = C.broadcast_pair("copy_", src._value.shape, sv.shape)
        if shape != sv.shape:
            raise RuntimeError(f"output with shape {C.fmt_shape(sv.shape)} doesn't match the broadcast shape {C.fmt_shape(shape)}")
        v = C.expand_value(C.cast(src._value, sv.dtype), sv.shape)
        self._assign(v)
        return self

    def zero_(self):
        self._assign(_cr._fill_value(0, self.dtype, self._value.shape))
        return self

    def fill_(self, value):
        if isinstance(value, Tensor):
            if value.dim() != 0:
                raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} dimensions.")
            v = C.expand_value(C.cast(value._value, self.dtype), self._value.shape)
        else:
            v = _cr._fill_value(value, self.dtype, self._value.shape)
        self._assign(v)
        return self

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        vals = _cr.uniform_values(self._value.shape, a, b, generator)
        return self.copy_(_cr.from_values(vals, self._value.shape, self.dtype))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        vals = _cr.normal_values(self._value.shape, mean, std, generator)
        return self.copy_(_cr.from_values(vals, self._value.shape, self.dtype))

    def bernoulli_(self, p=0.5, *, generator=None):
        return self.copy_(_cr.bernoulli(self, p, generator=generator))

    def random_(self, *args, generator=None):
        lo, hi = (0, args[0]) if len(args) == 1 else (args if args else (0, 2**24))
        return self.copy_(_cr.randint(lo, hi, tuple(self.shape), generator=generator, dtype=self.dtype))

    def exponential_(self, lambd=1.0, *, generator=None):
        import math

        vals = _cr.uniform_values(self._value.shape, 0.0, 1.0, generator)
        return self.copy_(_cr.from_values([-math.log(1.0 - u) / lambd for u in vals], self._value.shape, self.dtype))

    def index_fill_(self, dim, index, value):
        return self._inplace(_ix.index_fill(self, dim, index, value), "index_fill_")

    def index_add_(self, dim, index, source, *, alpha=1):
        return self._inplace(_ix.index_add(self, dim, index, source, alpha=alpha), "index_add_")

    def index_copy_(self, dim, index, source):
        return self._inplace(_ix.index_copy(self, dim, index, source), "index_copy_")

    def index_put_(self, indices, values, accumulate=False):
        return self._inplace(_ix.index_put(self, indices, values, accumulate), "index_put_")

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        return self._inplace(_ix.scatter(self, dim, index, src, value, reduce=reduce), "scatter_")

    def scatter_add_(self, dim, index, src):
        return self._inplace(_ix.scatter_add(self, dim, index, src), "scatter_add_")

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return self._inplace(_pw.addcmul(self, tensor1, tensor2, value=value), "addcmul_")

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return self._inplace(_pw.addcdiv(self, tensor1, tensor2, value=value), "addcdiv_")

    def lerp_(self, end, weight):
        return self._inplace(_pw.lerp(self, end, weight), "lerp_")

    def fill_diagonal_(self, fill_value, wrap=False):
        n = min(self.shape)
        idx = tuple(_cr.arange(n) for _ in range(self.dim()))
        self[idx] = fill_value
        return self

    def unsqueeze_(self, dim):
        self._value = _sh.unsqueeze(self, dim)._value
        return self

    def squeeze_(self, dim=None):
        self._value = _sh.squeeze(self, dim)._value
        return self

    def t_(self):
        self._value = _sh.t(self)._value
        return self

    def transpose_(self, dim0, dim1):
        self._value = _sh.transpose(self, dim0, dim1)._value
        return self

    def resize_(self, *sizes, memory_format=None):
        sizes = _cr.size_args(sizes, "resize_")
        if C.numel(sizes) == self.numel():
            self._value = C.reshape_value(self._value, sizes)
            return self
        raise NotImplementedError("torch.Tensor.resize_: changing the number of elements is not supported by wasmdeploy")

    def resize_as_(self, other):
        return self.resize_(tuple(other.shape))

    def set_(self, source=None, *args, **kwargs):
        if isinstance(source, Tensor) and not args:
            self._value = source._value
            return self
        raise NotImplementedError("torch.Tensor.set_ is not supported by wasmdeploy")

    # ----- methods whose first argument is the tensor -----
    def view(self, *shape):
        return _sh.view(self, *shape)

    def size_(self):
        return Size(self._value.shape)

    def max(self, dim=None, keepdim=False):
        return _rd.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _rd.min(self, dim, keepdim)

    def sum(self, dim=None, keepdim=False, dtype=None):
        return _rd.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        return _rd.mean(self, dim, keepdim, dtype=dtype)

    def softmax(self, dim, dtype=None):
        return _pw.softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return _pw.log_softmax(self, dim, dtype)

    def split(self, split_size, dim=0):
        return _sh.split(self, split_size, dim)

    def expand(self, *sizes):
        return _sh.expand(self, *sizes)

    def repeat(self, *sizes):
        return _sh.repeat(self, *sizes)

    def permute(self, *dims):
        return _sh.permute(self, *dims)

    def flip(self, *dims):
        return _sh.flip(self, *dims)

    def reshape(self, *shape):
        return _sh.reshape(self, *shape)

    def unfold(self, dimension, size, step):
        return _sh.unfold(self, dimension, size, step)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _rd.norm(self, p, dim, keepdim, dtype)

    def where(self, condition, other):
        return _pw.where(condition, self, other)

    def tile(self, *dims):
        return _sh.tile(self, *dims)

    def relu_(self):
        return self._inplace(_pw.relu(self), "relu_")

    def apply_(self, fn):
        raise NotImplementedError("torch.Tensor.apply_ is not supported by wasmdeploy")

    def map_(self, other, fn):
        raise NotImplementedError("torch.Tensor.map_ is not supported by wasmdeploy")

    def storage(self):
        raise NotImplementedError("torch.Tensor.storage is not supported by wasmdeploy")

    def untyped_storage(self):
        raise NotImplementedError("torch.Tensor.untyped_storage is not supported by wasmdeploy")

    def is_nonzero(self):
        return builtins_bool(self)

    def is_same_size(self, other):
        return tuple(self.shape) == tuple(other.shape)

    def is_inference(self):
        return False

    def is_conj(self):
        return False

    def is_neg(self):
        return False

    def conj(self):
        return self

    resolve_conj = resolve_neg = conj

    def isreal(self):
        return _cr.ones_like(self, dtype=D.bool_)

    @property
    def retains_grad(self):
        return False

    @property
    def output_nr(self):
        return 0

    def new(self, *args, **kwargs):
        if not args:
            return _cr.zeros(0, dtype=self.dtype)
        if len(args) == 1 and isinstance(args[0], Tensor):
            return args[0]
        if len(args) == 1 and isinstance(args[0], (list, tuple)) and not isinstance(args[0], Size):
            return _cr.tensor(args[0], dtype=self.dtype)
        return _cr.zeros(*args, dtype=self.dtype)

    def xpu(self, *args, **kwargs):
        raise NotImplementedError("torch.Tensor.xpu: XPU is not supported by wasmdeploy")

    def ipu(self, *args, **kwargs):
        raise NotImplementedError("torch.Tensor.ipu: IPU is not supported by wasmdeploy")

    def masked_scatter_(self, mask, source):
        raise NotImplementedError("torch.Tensor.masked_scatter_ is not supported by wasmdeploy")

    def prelu(self, weight):
        return _pw.prelu(self, weight)

    def bernoulli(self, p=None, *, generator=None):
        return _cr.bernoulli(self, p, generator=generator)

    def multinomial(self, *args, **kwargs):
        raise NotImplementedError("torch.Tensor.multinomial is not supported by wasmdeploy")

    def diag_embed(self, *args, **kwargs):
        raise NotImplementedError("torch.Tensor.diag_embed is not supported by wasmdeploy")

    is_mps = is_xpu = is_ipu = is_vulkan = is_ort = is_sparse_csr = is_distributed = volatile = False
    name = None

    @property
    def adjoint(self):
        return lambda: _sh.mT(self)

    def as_subclass(self, cls):
        return Tensor._make_subclass(cls, self, False)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        if dim is not None:
            raise NotImplementedError("torch.Tensor.unique_consecutive: dim= is not supported by wasmdeploy")
        vals = self.reshape(-1).tolist()
        out, inv, counts = [], [], []
        for v in vals:
            if not out or out[-1] != v:
                out.append(v)
                counts.append(0)
            counts[-1] += 1
            inv.append(len(out) - 1)
        res = [_cr.from_values(out, (len(out),), self.dtype)]
        if return_inverse:
            res.append(_cr.from_values(inv, tuple(self.shape), D.int64))
        if return_counts:
            res.append(_cr.from_values(counts, (len(counts),), D.int64))
        return res[0] if len(res) == 1 else tuple(res)

    def select_scatter(self, src, dim, index):
        out = self.clone()
        idx = [slice(None)] * self.dim()
        idx[C.norm_dim(dim, self.dim())] = index
        out[tuple(idx)] = src
        return out

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        out = self.clone()
        idx = [slice(None)] * self.dim()
        idx[C.norm_dim(dim, self.dim())] = slice(start, end, step)
        out[tuple(idx)] = src
        return out

    def ldexp(self, other):
        return _pw.mul(self, _pw.pow(2.0, other))

    def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, **kw):
        return _cr.zeros(*size, dtype=dtype or self.dtype)

    def cfloat(self):
        raise NotImplementedError("torch.Tensor.cfloat: complex dtypes are not supported by wasmdeploy")

    cdouble = chalf = cfloat

    def dim_order(self):
        return tuple(range(self.dim()))


def _is_contiguous(shape, stride):
    expected = 1
    for s, st in zip(reversed(shape), reversed(stride)):
        if s != 1 and st != expected:
            return False
        expected *= s
    return True


def _nest(flat, shape):
    if len(shape) == 1:
        return flat
    step = 1
    for s in shape[1:]:
        step *= s
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


# Methods that forward to functions taking the tensor first.
_FORWARD = {
    _pw: """add sub mul div true_divide floor_divide remainder fmod pow float_power eq ne lt le gt ge
        not_equal less less_equal greater greater_equal equal isclose allclose logical_and logical_or logical_xor
        logical_not bitwise_and bitwise_or bitwise_xor bitwise_not exp log sqrt sin cos tan asin acos atan sinh cosh
        tanh asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh sigmoid erf erfc erfinv reciprocal rsqrt log2 log10 log1p expm1 exp2 floor ceil
        round trunc fix frac neg negative sign sgn square isnan isinf isposinf isneginf isfinite nan_to_num atan2 arctan2
        maximum minimum fmax fmin clamp clip clamp_min clamp_max masked_fill lerp addcmul addcdiv hypot logaddexp
        xlogy copysign relu hardshrink logit subtract multiply divide positive absolute""",
    _sh: """view_as reshape_as flatten ravel unflatten squeeze unsqueeze transpose swapaxes swapdims t movedim moveaxis
        expand_as broadcast_to repeat_interleave chunk tensor_split unbind narrow select fliplr flipud roll rot90
        tril triu diagonal diag pixel_shuffle pixel_unshuffle split_with_sizes as_strided""",
    _rd: """nansum nanmean prod amax amin aminmax argmax argmin var std norm logsumexp any all cumsum cumprod cummax cummin
        topk sort argsort msort median kthvalue quantile unique bincount""",
    _ex: """diff deg2rad rad2deg signbit sinc heaviside logaddexp2 logcumsumexp dist kron trace diagflat hsplit vsplit dsplit
        sum_to_size isin mode nanmedian renorm""",
    _la: """matmul mm bmm baddbmm addmm addbmm addmv addr mv dot vdot inner outer ger cross""",
    _ix: """gather take take_along_dim index_select scatter scatter_add scatter_reduce index_add index_copy index_fill
        index_put masked_select masked_scatter nonzero argwhere count_nonzero""",
}


def _install():
    for mod, names in _FORWARD.items():
        for name in names.split():
            if name in Tensor.__dict__:
                continue
            fn = getattr(mod, name)
            setattr(Tensor, name, fn)
    Tensor.abs = _pw.absolute
    Tensor.absolute = _pw.absolute
    Tensor.abs_ = lambda self: self._inplace(_pw.absolute(self), "abs_")
    # in-place variants of unary/binary ops
    for name in """neg exp log sqrt sin cos tan tanh sigmoid floor ceil round trunc frac reciprocal rsqrt sign
            square exp2 log2 log10 log1p expm1 erf erfc logical_not bitwise_not nan_to_num hardshrink asin acos atan sinh
            cosh asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh negative fix sgn logit absolute""".split():
        fn = getattr(_pw, name)
        setattr(Tensor, name + "_", _mk_inplace1(fn, name + "_"))
    for name in """fmod remainder floor_divide true_divide atan2 maximum minimum logical_and logical_or logical_xor
            bitwise_and bitwise_or bitwise_xor eq ne lt le gt ge hypot xlogy copysign arctan2 divide multiply subtract
            not_equal greater greater_equal less less_equal float_power""".split():
        fn = getattr(_pw, name)
        setattr(Tensor, name + "_", _mk_inplace2(fn, name + "_"))
    for name in "addmm baddbmm addbmm addmv addr".split():
        setattr(Tensor, name + "_", _mk_inplace_all(getattr(_la, name), name + "_"))
    for name, fn in (("cumprod_", _rd.cumprod), ("scatter_reduce_", _ix.scatter_reduce), ("heaviside_", _ex.heaviside),
                     ("renorm_", _ex.renorm), ("deg2rad_", _ex.deg2rad), ("rad2deg_", _ex.rad2deg), ("sinc_", _ex.sinc)):
        setattr(Tensor, name, _mk_inplace_all(fn, name))
    Tensor.swapaxes_ = Tensor.swapdims_ = Tensor.transpose_
    Tensor.unsafe_chunk = _sh.chunk
    Tensor.unsafe_split = _sh.split
    Tensor.narrow_copy = _sh.narrow
    Tensor.cumsum_ = lambda self, dim, dtype=None: self._inplace(_rd.cumsum(self, dim, dtype=dtype), "cumsum_")
    Tensor.tril_ = lambda self, diagonal=0: self._inplace(_sh.tril(self, diagonal), "tril_")
    Tensor.triu_ = lambda self, diagonal=0: self._inplace(_sh.triu(self, diagonal), "triu_")
    Tensor.__abs__ = _pw.absolute


def _mk_inplace_all(fn, name):
    def f(self, *args, **kwargs):
        return self._inplace(fn(self, *args, **kwargs), name)

    f.__name__ = name
    return f


def _mk_inplace1(fn, name):
    def f(self, *args, **kwargs):
        return self._inplace(fn(self, *args, **kwargs), name)

    f.__name__ = name
    return f


def _mk_inplace2(fn, name):
    def f(self, other, *args, **kwargs):
        return self._inplace(fn(self, other, *args, **kwargs), name)

    f.__name__ = name
    return f


_install()
