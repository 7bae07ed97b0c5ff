"""torch.dtype objects, type promotion (PyTorch 1.13 rules), finfo/iinfo."""

import struct as _struct


class dtype:
    """A tensor element type. Instances are singletons (compare with `is` or `==`)."""

    __slots__ = ("name", "itemsize", "is_floating_point", "is_complex", "is_signed", "onnx", "fmt", "supported", "_rank", "_aliases")

    def __init__(self, name, itemsize, kind, signed, onnx, fmt, supported, rank):
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = kind == "f"
        self.is_complex = kind == "c"
        self.is_signed = signed
        self.onnx = onnx
        self.fmt = fmt
        self.supported = supported
        self._rank = rank

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_from_name_reduce, (self.name,))

    def to_real(self):
        return self

    def to_complex(self):
        raise NotImplementedError("torch.dtype.to_complex: complex dtypes are not supported by wasmdeploy")


def _from_name_reduce(name):
    return from_name(name)


# kind: b bool, u unsigned int, i signed int, f float, c complex
bool_ = dtype("bool", 1, "b", False, 9, "?", True, 0)
uint8 = dtype("uint8", 1, "u", False, 2, "B", True, 1)
int8 = dtype("int8", 1, "i", True, 3, "b", True, 2)
int16 = dtype("int16", 2, "i", True, 5, "h", False, 3)
int32 = dtype("int32", 4, "i", True, 6, "i", True, 4)
int64 = dtype("int64", 8, "i", True, 7, "q", True, 5)
float16 = dtype("float16", 2, "f", True, 10, "e", True, 6)
bfloat16 = dtype("bfloat16", 2, "f", True, 16, None, False, 6)
float32 = dtype("float32", 4, "f", True, 1, "f", True, 7)
float64 = dtype("float64", 8, "f", True, 11, "d", True, 8)
complex32 = dtype("complex32", 4, "c", True, 0, None, False, 9)
complex64 = dtype("complex64", 8, "c", True, 14, None, False, 9)
complex128 = dtype("complex128", 16, "c", True, 15, None, False, 10)
quint8 = dtype("quint8", 1, "q", False, 0, None, False, 1)
qint8 = dtype("qint8", 1, "q", True, 0, None, False, 2)
qint32 = dtype("qint32", 4, "q", True, 0, None, False, 4)

ALL = [bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex32, complex64, complex128, quint8, qint8, qint32]
SUPPORTED = [d for d in ALL if d.supported]

# torch attribute name -> dtype (torch.float, torch.long, ...)
TORCH_NAMES = {
    "bool": bool_,
    "uint8": uint8,
    "int8": int8,
    "int16": int16,
    "short": int16,
    "int32": int32,
    "int": int32,
    "int64": int64,
    "long": int64,
    "float16": float16,
    "half": float16,
    "bfloat16": bfloat16,
    "float32": float32,
    "float": float32,
    "float64": float64,
    "double": float64,
    "complex32": complex32,
    "chalf": complex32,
    "complex64": complex64,
    "cfloat": complex64,
    "complex128": complex128,
    "cdouble": complex128,
    "quint8": quint8,
    "qint8": qint8,
    "qint32": qint32,
}

_BY_NAME = {d.name: d for d in ALL}


def from_name(name):
    """'float32' -> torch.float32 (engine dtype names and torch attribute names)."""
    if isinstance(name, dtype):
        return name
    d = _BY_NAME.get(name) or TORCH_NAMES.get(name)
    if d is None:
        raise TypeError(f"unknown dtype name {name!r}")
    return d


def check_supported(d, op):
    if not d.supported:
        raise NotImplementedError(f"torch.{op}: dtype {d!r} is not supported by wasmdeploy")
    return d


def is_int(d):
    return not d.is_floating_point and not d.is_complex and d is not bool_


# ----- promotion -----
def promote_types(a, b):
    """torch.promote_types for the real dtypes."""
    if a is b:
        return a
    if a.is_complex or b.is_complex:
        raise NotImplementedError("torch.promote_types: complex dtypes are not supported by wasmdeploy")
    if a is bool_:
        return b
    if b is bool_:
        return a
    fa, fb = a.is_floating_point, b.is_floating_point
    if fa and fb:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a._rank > b._rank else b
    if fa:
        return a
    if fb:
        return b
    # both integers
    if {a, b} == {uint8, int8}:
        return int16
    if a is uint8:
        return b if b._rank > int8._rank else int16
    if b is uint8:
        return a if a._rank > int8._rank else int16
    return a if a._rank > b._rank else b


def _category(d):
    if d is None:
        return -1
    if d is bool_:
        return 0
    if d.is_floating_point:
        return 2
    if d.is_complex:
        return 3
    return 1


def _combine(higher, lower):
    # c10's combine_categories
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point or lower.is_complex:
        return promote_types(higher, lower)
    return higher


def result_type_of(dims, zeros, scalars, default_float):
    """Promotion state: dtypes of dimensioned tensors, zero-dim tensors and Python scalars."""
    dim_r = None
    for d in dims:
        dim_r = d if dim_r is None else promote_types(dim_r, d)
    zero_r = None
    for d in zeros:
        zero_r = d if zero_r is None else promote_types(zero_r, d)
    wrap_r = None
    for s in scalars:
        if isinstance(s, bool):
            d = bool_
        elif isinstance(s, int):
            d = int64
        elif isinstance(s, float):
            d = default_float
        elif isinstance(s, complex):
            raise NotImplementedError("torch: complex numbers are not supported by wasmdeploy")
        else:
            d = s  # already a dtype
        wrap_r = d if wrap_r is None else promote_types(wrap_r, d)
    return _combine(dim_r, _combine(zero_r, wrap_r))


def scalar_dtype(v, default_float):
    if isinstance(v, bool):
        return bool_
    if isinstance(v, int):
        return int64
    if isinstance(v, float):
        return default_float
    raise TypeError(f"expected a number, got {type(v).__name__}")


def can_cast(from_, to):
    """torch.can_cast: no float -> int, no non-bool -> bool."""
    if from_.is_floating_point and not to.is_floating_point:
        return False
    if from_ is not bool_ and to is bool_:
        return False
    return True


# ----- finfo / iinfo -----
class finfo:
    def __init__(self, type=None):
        from . import get_default_dtype

        d = get_default_dtype() if type is None else type
        if not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle '{d!r}'")
        self.dtype = d.name
        self.bits = d.itemsize * 8
        if d is float32:
            self.eps = 1.1920928955078125e-07
            self.max = 3.4028234663852886e38
            self.tiny = 1.1754943508222875e-38
            self.resolution = 1e-06
        elif d is float64:
            self.eps = 2.220446049250313e-16
            self.max = 1.7976931348623157e308
            self.tiny = 2.2250738585072014e-308
            self.resolution = 1e-15
        elif d is float16:
            self.eps = 0.0009765625
            self.max = 65504.0
            self.tiny = 6.103515625e-05
            self.resolution = 0.001
        else:  # bfloat16
            self.eps = 0.0078125
            self.max = 3.3895313892515355e38
            self.tiny = 1.1754943508222875e-38
            self.resolution = 0.01
        self.min = -self.max
        self.smallest_normal = self.tiny

    def __repr__(self):
        return (
            f"finfo(resolution={self.resolution}, min={self.min:e}, max={self.max:e}, eps={self.eps:e}, "
            f"smallest_normal={self.tiny:e}, tiny={self.tiny:e}, dtype={self.dtype})"
        )


class iinfo:
    def __init__(self, type):
        d = type
        if d.is_floating_point or d.is_complex:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle '{d!r}'")
        self.dtype = d.name
        self.bits = d.itemsize * 8
        if d is bool_:
            self.min, self.max = 0, 1
        elif d.is_signed:
            self.min = -(1 << (self.bits - 1))
            self.max = (1 << (self.bits - 1)) - 1
        else:
            self.min, self.max = 0, (1 << self.bits) - 1

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def pack(d, values):
    """Little-endian bytes of `values` as dtype d (float16 rounds like torch: nearest even)."""
    if d is bool_:
        return bytes(1 if v else 0 for v in values)
    return _struct.pack(f"<{len(values)}{d.fmt}", *values)


def unpack(d, data, numel):
    if d is bool_:
        return [b != 0 for b in data[:numel]]
    return list(_struct.unpack_from(f"<{numel}{d.fmt}", data, 0))
