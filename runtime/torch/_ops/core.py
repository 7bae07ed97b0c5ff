"""Shared machinery for ops: Values <-> Tensors, casts, kernel dtype support, broadcasting."""

import math
from .. import _dtype as D
from .. import _graph as G

f32, f64, f16 = D.float32, D.float64, D.float16
i64, i32, i8, u8, b8 = D.int64, D.int32, D.int8, D.uint8, D.bool_

_state = {"default": D.float32}


def default_float():
    return _state["default"]


def set_default_float(d):
    if d not in (f32, f64):
        raise TypeError(f"torch.set_default_dtype: only floating-point types are supported as the default type (got {d!r}); wasmdeploy supports float32 and float64")
    _state["default"] = d


_Tensor = None


def Tensor():
    global _Tensor
    if _Tensor is None:
        from .._tensor import Tensor as T

        _Tensor = T
    return _Tensor


def is_tensor(x):
    return isinstance(x, Tensor())


def wrap(v):
    """A Tensor over Value v (after the eager/cap check)."""
    n = v.node
    if n is not None:
        if n.gen == 0:  # a shared constant: the tensor gets its own copy
            v = G.fresh(v)
        G.after_op(v)
    return Tensor()._wrap(v)


def val(x):
    return x._value


def numel(shape):
    return math.prod(shape)


def fmt_shape(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def norm_dim(dim, ndim, op="dim"):
    """Wrap a (possibly negative) dim like torch (a 0-d tensor accepts -1 and 0)."""
    n = ndim if ndim > 0 else 1
    if not isinstance(dim, int):
        dim = int(dim)
    if dim < -n or dim >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def norm_dims(dims, ndim):
    if dims is None:
        return list(range(ndim))
    if isinstance(dims, int) or is_tensor(dims):
        dims = [dims]
    out = []
    for d in dims:
        d = norm_dim(d, ndim)
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    return out


def broadcast_shapes(*shapes):
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        off = ndim - len(s)
        for i, d in enumerate(s):
            o = out[off + i]
            if o == 1:
                out[off + i] = d
            elif d != 1 and d != o:
                raise RuntimeError(
                    f"The size of tensor a ({o}) must match the size of tensor b ({d}) at non-singleton dimension {off + i}"
                )
    return tuple(out)


def broadcast_pair(op, a, b):
    try:
        return broadcast_shapes(a, b)
    except RuntimeError as e:
        raise RuntimeError(f"{e} (torch.{op} with shapes {fmt_shape(a)} and {fmt_shape(b)})") from None


# ----- which dtypes ONNX Runtime's CPU kernels take (probed with ORT 1.30); float16 is always
# computed in float32 and rounded back, like torch's CPU kernels do. -----
_ALLNUM = frozenset([f32, f64, i64, i32, i8, u8])
_FLT = frozenset([f32, f64])
_F32 = frozenset([f32])
_NUM32 = frozenset([f32, f64, i64, i32])
SUPPORT = {
    "Add": _ALLNUM, "Sub": _ALLNUM, "Mul": _ALLNUM, "Div": _ALLNUM, "Max": _ALLNUM, "Min": _ALLNUM,
    "Abs": _ALLNUM, "Sign": _ALLNUM, "Clip": _ALLNUM, "Mod": _ALLNUM,
    "ReduceMax": _ALLNUM, "ReduceMin": _ALLNUM, "ArgMax": _ALLNUM, "ArgMin": _ALLNUM, "TopK": _ALLNUM,
    "Pow": _NUM32, "Neg": frozenset([f32, f64, i64, i32, i8]), "Relu": frozenset([f32, f64, i64, i32, i8]),
    "ReduceSum": _NUM32, "ReduceMean": _NUM32, "ReduceProd": _NUM32, "CumSum": _NUM32, "MatMul": _NUM32,
    "ReduceL2": _NUM32, "ReduceLogSumExp": _NUM32, "Einsum": _NUM32,
    "Less": _ALLNUM, "Greater": _ALLNUM, "LessOrEqual": _ALLNUM, "GreaterOrEqual": _ALLNUM,
    "Equal": _ALLNUM | {b8},
    "Where": frozenset([f32, f64, i64, i32, u8]),
    "Trilu": frozenset([f32, f64, i64, i32, b8]),
    "Range": frozenset([f32, f64, i64, i32]),
    "BitwiseAnd": frozenset([i64, i32, i8, u8]), "BitwiseOr": frozenset([i64, i32, i8, u8]),
    "BitwiseXor": frozenset([i64, i32, i8, u8]), "BitwiseNot": frozenset([i64, i32, i8, u8]),
    "IsNaN": _FLT, "IsInf": _FLT,
    "Erf": _F32, "Atan": _F32, "Asin": _F32, "Acos": _F32, "Tan": _F32, "Sinh": _F32, "Cosh": _F32,
    "Asinh": _F32, "Acosh": _F32, "Atanh": _F32,
    "Conv": _F32, "ConvTranspose": _F32, "AveragePool": _F32, "GlobalAveragePool": _F32,
    "InstanceNormalization": _F32, "Resize": _F32, "MaxPool": _FLT,
    "BatchNormalization": _FLT, "LayerNormalization": _FLT, "Gemm": _FLT,
}
# Anything else that computes takes float32/float64 (Exp, Log, Sqrt, Tanh, Sigmoid, Softmax, ...).


def compute_dtype(op, d):
    """The dtype to run ONNX op `op` in, for values of dtype d."""
    s = SUPPORT.get(op, _FLT)
    if d in s and d is not f16:
        return d
    if d.is_floating_point:
        return f32 if f32 in s else f64
    # integers and bool
    for c in (i32, i64, f32):
        if c in s and (c is not i32 or d.itemsize <= 4):
            return c
    return f32


def cast(v, d):
    if v.dtype is d:
        return v
    return G.record1("Cast", [v], v.shape, d, {"to": d.onnx})


def run(op, inputs, shape, out_dtype, attrs=None, work=None, n_cast=None):
    """Record op on `inputs` (Values) computing in the dtype ORT supports for `work` (default
    the first input's dtype), casting inputs there and the result to out_dtype. Only the first
    `n_cast` inputs are cast (default all)."""
    base = work if work is not None else inputs[0].dtype
    cd = compute_dtype(op, base)
    if n_cast is None:
        n_cast = len(inputs)
    ins = [cast(v, cd) if (i < n_cast and v is not None) else v for i, v in enumerate(inputs)]
    res_dtype = out_dtype if op in _BOOL_RESULT else cd
    out = G.record1(op, ins, shape, res_dtype, attrs)
    return cast(out, out_dtype)


_BOOL_RESULT = frozenset(["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "IsNaN", "IsInf", "And", "Or", "Xor", "Not"])


def scalar(x, d):
    """A scalar constant Value of dtype d."""
    if d is b8:
        return G.const(bool(x), d)
    if not d.is_floating_point:
        if isinstance(x, float):
            if x != x or x in (float("inf"), float("-inf")):
                raise RuntimeError(f"value cannot be converted to type {d.name} without overflow")
            x = int(x)
    return G.const(x, d)


def operand(x, d):
    """A Value of dtype d for a Tensor or a Python scalar."""
    if is_tensor(x):
        return cast(x._value, d)
    return scalar(x, d)


def is_number(x):
    return isinstance(x, (int, float, bool)) and not is_tensor(x)


def to_number(x):
    """Python scalar from a number or a 1-element tensor."""
    if is_tensor(x):
        return x.item()
    return x


def result_type(*args):
    """torch.result_type over Tensors and Python scalars."""
    dims, zeros, scalars = [], [], []
    for a in args:
        if a is None:
            continue
        if is_tensor(a):
            (dims if len(a._value.shape) else zeros).append(a._value.dtype)
        elif isinstance(a, D.dtype):
            scalars.append(a)
        else:
            scalars.append(a)
    return D.result_type_of(dims, zeros, scalars, default_float())


def shape_of(x):
    return x._value.shape if is_tensor(x) else ()


def dtype_name(d):
    return {
        "float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
        "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "bfloat16": "BFloat16",
    }.get(d.name, d.name)


def unsupported(name, what="this"):
    raise NotImplementedError(f"torch.{name}: {what} is not supported by wasmdeploy")


def check_dtype_supported(d, op):
    D.check_supported(d, op)
    return d


def _concrete_as(v, shape, offset=0):
    """A concrete tensor's data seen with another shape (and a further element offset): no node."""
    return G.Value(tuple(shape), v.dtype, storage=v.storage, offset=v.offset + offset)


def reshape_value(v, shape):
    shape = tuple(shape)
    if v.shape == shape:
        return v
    n = v.node
    if n is None:
        return _concrete_as(v, shape)
    if n.op == "Reshape" and n.gen:  # reshape of a reshape: one Reshape
        v = n.inputs[0]
        if v.shape == shape:
            return v
    return G.record1("Reshape", [v, G.ints(shape)], shape, v.dtype)


def expand_value(v, shape):
    shape = tuple(shape)
    if v.shape == shape:
        return v
    return G.record1("Expand", [v, G.ints(shape)], shape, v.dtype)


def transpose_value(v, perm):
    perm = list(perm)
    if perm == list(range(len(perm))):
        return v
    shape = tuple(v.shape[p] for p in perm)
    return G.record1("Transpose", [v], shape, v.dtype, {"perm": perm})


def unsqueeze_value(v, axes):
    axes = sorted(axes)
    shape = list(v.shape)
    for a in axes:
        shape.insert(a, 1)
    if v.node is None:
        return _concrete_as(v, shape)
    return G.record1("Unsqueeze", [v, G.ints(axes)], shape, v.dtype)


def squeeze_value(v, axes):
    if not axes:
        return v
    shape = [d for i, d in enumerate(v.shape) if i not in axes]
    if v.node is None:
        return _concrete_as(v, shape)
    return G.record1("Squeeze", [v, G.ints(sorted(axes))], shape, v.dtype)


def slice_value(v, axis, start, end, step=1):
    n = v.shape[axis]
    if start == 0 and end >= n and step == 1:
        return v
    length = max(0, (min(end, n) - start + step - 1) // step) if step > 0 else 0
    shape = list(v.shape)
    shape[axis] = length
    if v.node is None and (step == 1 or length <= 1) and all(d == 1 for d in v.shape[:axis]):
        # a contiguous block of a concrete tensor: the same storage at an offset
        inner = 1
        for d in v.shape[axis + 1 :]:
            inner *= d
        return _concrete_as(v, shape, start * inner if length else 0)
    ins = [v, G.ints([start]), G.ints([end]), G.ints([axis])]
    if step != 1:
        ins.append(G.ints([step]))
    return G.record1("Slice", ins, shape, v.dtype)


def concat_values(vals, axis):
    if len(vals) == 1:
        return vals[0]
    shape = list(vals[0].shape)
    shape[axis] = sum(v.shape[axis] for v in vals)
    return G.record1("Concat", vals, shape, vals[0].dtype, {"axis": axis})


def reduce_value(op, v, axes, keepdim, out_dtype=None):
    """Reduce* over `axes` (normalized list) with opset-18 axes input."""
    shape = []
    for i, d in enumerate(v.shape):
        if i in axes:
            if keepdim:
                shape.append(1)
        else:
            shape.append(d)
    od = out_dtype or v.dtype
    if not axes:
        if op == "ReduceSum" or v.shape == ():
            return cast(v, od)
    ins = [v, G.ints(axes)] if axes else [v]
    return run(op, ins, shape, od, {"keepdims": 1 if keepdim else 0}, n_cast=1)
