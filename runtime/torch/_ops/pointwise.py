"""Elementwise ops: arithmetic with torch's type promotion, comparisons, logic, math, activations."""

import math

from .. import _dtype as D
from .. import _graph as G
from .core import (
    b8, f32, u8,
    broadcast_pair, cast, compute_dtype, default_float, dtype_name, is_number, is_tensor, operand,
    result_type, run, scalar, shape_of, wrap,
)


def _tensor_arg(name, x):
    if is_tensor(x):
        return x
    if is_number(x):
        from .creation import scalar_tensor

        return scalar_tensor(x)
    raise TypeError(f"torch.{name}(): argument must be a Tensor or a number, not {type(x).__name__}")


def _check_not_both_scalars(name, a, b):
    if not is_tensor(a) and not is_tensor(b):
        raise TypeError(f"torch.{name}(): expected at least one Tensor argument")


def _binary_value(name, onnx_op, a, b, rd=None, work=None):
    """Value of onnx_op(a, b) computed in the promoted dtype (or `work`), cast to rd."""
    _check_not_both_scalars(name, a, b)
    prom = result_type(a, b)
    D.check_supported(prom, name)
    rd = rd or prom
    shape = broadcast_pair(name, shape_of(a), shape_of(b))
    cd = compute_dtype(onnx_op, work or prom)
    va, vb = operand(a, cd), operand(b, cd)
    out = G.record1(onnx_op, [va, vb], shape, cd)
    return cast(out, rd)


def add(input, other, *, alpha=1, out=None):
    _no_out(out, "add")
    if alpha != 1:
        other = mul(other, alpha) if is_tensor(other) else other * alpha
    return wrap(_binary_value("add", "Add", input, other))


def sub(input, other, *, alpha=1, out=None):
    _no_out(out, "sub")
    if is_tensor(input) and is_tensor(other) and input.dtype is b8 and other.dtype is b8:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
        )
    if alpha != 1:
        other = mul(other, alpha) if is_tensor(other) else other * alpha
    return wrap(_binary_value("sub", "Sub", input, other))


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def mul(input, other, *, out=None):
    _no_out(out, "mul")
    return wrap(_binary_value("mul", "Mul", input, other))


multiply = mul


def _float_result(a, b):
    rd = result_type(a, b)
    if not rd.is_floating_point:
        rd = default_float()
    return rd


def div(input, other, *, rounding_mode=None, out=None):
    _no_out(out, "div")
    _check_not_both_scalars("div", input, other)
    if rounding_mode is None:
        rd = _float_result(input, other)
        return wrap(_binary_value("div", "Div", input, other, rd=rd, work=rd))
    if rounding_mode == "trunc":
        rd = result_type(input, other)
        if not rd.is_floating_point:
            return wrap(_binary_value("div", "Div", input, other))
        q = _binary_value("div", "Div", input, other)
        return wrap(_trunc_value(q))
    if rounding_mode == "floor":
        return floor_divide(input, other)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


divide = div
true_divide = div


def _trunc_value(v):
    cd = compute_dtype("Floor", v.dtype)
    x = cast(v, cd)
    fl = G.record1("Floor", [x], v.shape, cd)
    ce = G.record1("Ceil", [x], v.shape, cd)
    neg = G.record1("Less", [x, scalar(0, cd)], v.shape, b8)
    return cast(G.record1("Where", [neg, ce, fl], v.shape, cd), v.dtype)


def floor_divide(input, other, *, out=None):
    _no_out(out, "floor_divide")
    _check_not_both_scalars("floor_divide", input, other)
    rd = result_type(input, other)
    D.check_supported(rd, "floor_divide")
    if rd is b8:
        raise RuntimeError('"div_floor_cpu" not implemented for \'Bool\'')
    shape = broadcast_pair("floor_divide", shape_of(input), shape_of(other))
    if not rd.is_floating_point:
        # Truncating quotient, one less where the remainder's sign differs from the divisor's.
        # ((a - a mod b) / b would overflow for a near INT_MIN: INT_MIN // 3 came out positive.)
        cd = compute_dtype("Mod", rd)
        a, b = operand(input, cd), operand(other, cd)
        q = G.record1("Div", [a, b], shape, cd)
        r = G.record1("Mod", [a, b], shape, cd, {"fmod": 1})
        z = scalar(0, cd)
        r_nz = G.record1("Not", [G.record1("Equal", [r, z], shape, b8)], shape, b8)
        signs = G.record1("Xor", [G.record1("Less", [r, z], shape, b8), G.record1("Less", [b, z], shape, b8)], shape, b8)
        q = G.record1("Sub", [q, cast(G.record1("And", [r_nz, signs], shape, b8), cd)], shape, cd)
        return wrap(cast(q, rd))
    cd = compute_dtype("Div", rd)
    a, b = operand(input, cd), operand(other, cd)
    # torch's div_floor: Python semantics via fmod
    mod = G.record1("Mod", [a, b], shape, cd, {"fmod": 1})
    d = G.record1("Div", [G.record1("Sub", [a, mod], shape, cd), b], shape, cd)
    z = scalar(0, cd)
    mod_nz = G.record1("Not", [G.record1("Equal", [mod, z], shape, b8)], shape, b8)
    sign_diff = G.record1("Xor", [G.record1("Less", [b, z], shape, b8), G.record1("Less", [mod, z], shape, b8)], shape, b8)
    adj = G.record1("And", [mod_nz, sign_diff], shape, b8)
    d = G.record1("Sub", [d, cast(adj, cd)], shape, cd)
    fl = G.record1("Floor", [d], shape, cd)
    up = G.record1("Greater", [G.record1("Sub", [d, fl], shape, cd), scalar(0.5, cd)], shape, b8)
    fl = G.record1("Add", [fl, cast(up, cd)], shape, cd)
    bz = G.record1("Equal", [b, z], shape, b8)
    res = G.record1("Where", [bz, G.record1("Div", [a, b], shape, cd), fl], shape, cd)
    return wrap(cast(res, rd))


def remainder(input, other, *, out=None):
    _no_out(out, "remainder")
    _check_not_both_scalars("remainder", input, other)
    rd = result_type(input, other)
    D.check_supported(rd, "remainder")
    shape = broadcast_pair("remainder", shape_of(input), shape_of(other))
    if not rd.is_floating_point:
        cd = compute_dtype("Mod", rd)
        a, b = operand(input, cd), operand(other, cd)
        return wrap(cast(G.record1("Mod", [a, b], shape, cd, {"fmod": 0}), rd))
    cd = compute_dtype("Mod", rd)
    a, b = operand(input, cd), operand(other, cd)
    r = G.record1("Mod", [a, b], shape, cd, {"fmod": 1})
    z = scalar(0, cd)
    nz = G.record1("Not", [G.record1("Equal", [r, z], shape, b8)], shape, b8)
    sd = G.record1("Xor", [G.record1("Less", [r, z], shape, b8), G.record1("Less", [b, z], shape, b8)], shape, b8)
    fix = G.record1("And", [nz, sd], shape, b8)
    r = G.record1("Where", [fix, G.record1("Add", [r, b], shape, cd), r], shape, cd)
    return wrap(cast(r, rd))


def fmod(input, other, *, out=None):
    _no_out(out, "fmod")
    rd = result_type(input, other)
    shape = broadcast_pair("fmod", shape_of(input), shape_of(other))
    cd = compute_dtype("Mod", rd)
    a, b = operand(input, cd), operand(other, cd)
    return wrap(cast(G.record1("Mod", [a, b], shape, cd, {"fmod": 1}), rd))


def pow(input, exponent, *, out=None):
    _no_out(out, "pow")
    _check_not_both_scalars("pow", input, exponent)
    rd = result_type(input, exponent)
    D.check_supported(rd, "pow")
    if not rd.is_floating_point and is_number(exponent) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    shape = broadcast_pair("pow", shape_of(input), shape_of(exponent))
    if is_tensor(input) and is_number(exponent) and rd.is_floating_point:
        if exponent == 2:
            x = cast(input._value, compute_dtype("Mul", rd))
            return wrap(cast(G.record1("Mul", [x, x], shape, x.dtype), rd))
        if exponent == 1:
            return wrap(cast(input._value, rd))
        if exponent == 0.5:
            x = cast(input._value, compute_dtype("Sqrt", rd))
            return wrap(cast(G.record1("Sqrt", [x], shape, x.dtype), rd))
    cd = compute_dtype("Pow", rd)
    a, b = operand(input, cd), operand(exponent, cd)
    return wrap(cast(G.record1("Pow", [a, b], shape, cd), rd))


def float_power(input, exponent):
    a = input.double() if is_tensor(input) else float(input)
    b = exponent.double() if is_tensor(exponent) else float(exponent)
    return pow(a, b)


def _no_out(out, name):
    if out is not None:
        raise NotImplementedError(f"torch.{name}: the out= argument is not supported by wasmdeploy")


# ----- comparisons -----
def _compare(name, onnx_op, a, b, negate=False):
    _check_not_both_scalars(name, a, b)
    prom = result_type(a, b)
    shape = broadcast_pair(name, shape_of(a), shape_of(b))
    cd = compute_dtype(onnx_op, prom)
    v = G.record1(onnx_op, [operand(a, cd), operand(b, cd)], shape, b8)
    if negate:
        v = G.record1("Not", [v], shape, b8)
    return wrap(v)


def eq(input, other):
    return _compare("eq", "Equal", input, other)


def ne(input, other):
    return _compare("ne", "Equal", input, other, negate=True)


def lt(input, other):
    return _compare("lt", "Less", input, other)


def le(input, other):
    return _compare("le", "LessOrEqual", input, other)


def gt(input, other):
    return _compare("gt", "Greater", input, other)


def ge(input, other):
    return _compare("ge", "GreaterOrEqual", input, other)


not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


def equal(input, other):
    """True if same size and elements (a Python bool)."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(eq(input, other).all().item())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    diff = absolute(sub(input, other))
    tol = add(mul(absolute(other), rtol), atol)
    close = logical_or(le(diff, tol), eq(input, other))
    if equal_nan:
        close = logical_or(close, logical_and(isnan(input), isnan(other)))
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all().item())


# ----- logic -----
def _logical(name, onnx_op, a, b):
    _check_not_both_scalars(name, a, b)
    shape = broadcast_pair(name, shape_of(a), shape_of(b))
    return wrap(G.record1(onnx_op, [operand(a, b8), operand(b, b8)], shape, b8))


def logical_and(input, other):
    return _logical("logical_and", "And", input, other)


def logical_or(input, other):
    return _logical("logical_or", "Or", input, other)


def logical_xor(input, other):
    return _logical("logical_xor", "Xor", input, other)


def logical_not(input):
    return wrap(G.record1("Not", [cast(input._value, b8)], input._value.shape, b8))


def _bitwise(name, bool_op, int_op, a, b):
    _check_not_both_scalars(name, a, b)
    rd = result_type(a, b)
    if rd.is_floating_point:
        raise RuntimeError(f'"{name}_cpu" not implemented for \'{dtype_name(rd)}\'')
    shape = broadcast_pair(name, shape_of(a), shape_of(b))
    if rd is b8:
        return wrap(G.record1(bool_op, [operand(a, b8), operand(b, b8)], shape, b8))
    cd = compute_dtype(int_op, rd)
    return wrap(cast(G.record1(int_op, [operand(a, cd), operand(b, cd)], shape, cd), rd))


def bitwise_and(input, other):
    return _bitwise("bitwise_and", "And", "BitwiseAnd", input, other)


def bitwise_or(input, other):
    return _bitwise("bitwise_or", "Or", "BitwiseOr", input, other)


def bitwise_xor(input, other):
    return _bitwise("bitwise_xor", "Xor", "BitwiseXor", input, other)


def bitwise_not(input):
    v = input._value
    if v.dtype is b8:
        return wrap(G.record1("Not", [v], v.shape, b8))
    if v.dtype.is_floating_point:
        raise RuntimeError(f"bitwise_not_cpu not implemented for '{dtype_name(v.dtype)}'")
    return wrap(run("BitwiseNot", [v], v.shape, v.dtype))


# ----- unary math -----
def _unary(name, onnx_op, input, int_to_float=True, attrs=None):
    v = input._value
    d = v.dtype
    rd = d
    if not d.is_floating_point:
        if int_to_float:
            rd = default_float()
        else:
            rd = d
    return wrap(run(onnx_op, [v], v.shape, rd, attrs, work=rd))


def _mk_unary(name, onnx_op):
    def f(input, *, out=None):
        _no_out(out, name)
        return _unary(name, onnx_op, input)

    f.__name__ = name
    return f


exp = _mk_unary("exp", "Exp")
log = _mk_unary("log", "Log")
sqrt = _mk_unary("sqrt", "Sqrt")
sin = _mk_unary("sin", "Sin")
cos = _mk_unary("cos", "Cos")
tan = _mk_unary("tan", "Tan")
asin = _mk_unary("asin", "Asin")
acos = _mk_unary("acos", "Acos")
atan = _mk_unary("atan", "Atan")
sinh = _mk_unary("sinh", "Sinh")
cosh = _mk_unary("cosh", "Cosh")
tanh = _mk_unary("tanh", "Tanh")
asinh = _mk_unary("asinh", "Asinh")
acosh = _mk_unary("acosh", "Acosh")
atanh = _mk_unary("atanh", "Atanh")
sigmoid = _mk_unary("sigmoid", "Sigmoid")
erf = _mk_unary("erf", "Erf")
reciprocal = _mk_unary("reciprocal", "Reciprocal")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


def _float_value(input):
    v = input._value
    if v.dtype.is_floating_point:
        return v, v.dtype
    rd = default_float()
    return cast(v, rd), rd


def _compose(input, fn):
    """Run fn(Value in compute dtype) -> Value, cast back to the float result dtype."""
    v, rd = _float_value(input)
    cd = compute_dtype("Exp", rd)
    return wrap(cast(fn(cast(v, cd), cd), rd))


def rsqrt(input):
    return _compose(input, lambda x, cd: G.record1("Reciprocal", [G.record1("Sqrt", [x], x.shape, cd)], x.shape, cd))


def log2(input):
    return _compose(input, lambda x, cd: G.record1("Div", [G.record1("Log", [x], x.shape, cd), scalar(math.log(2), cd)], x.shape, cd))


def log10(input):
    return _compose(input, lambda x, cd: G.record1("Div", [G.record1("Log", [x], x.shape, cd), scalar(math.log(10), cd)], x.shape, cd))


def log1p(input):
    return _compose(input, lambda x, cd: G.record1("Log", [G.record1("Add", [x, scalar(1, cd)], x.shape, cd)], x.shape, cd))


def expm1(input):
    return _compose(input, lambda x, cd: G.record1("Sub", [G.record1("Exp", [x], x.shape, cd), scalar(1, cd)], x.shape, cd))


def exp2(input):
    return _compose(input, lambda x, cd: G.record1("Pow", [scalar(2.0, cd), x], x.shape, cd))


def erfc(input):
    return _compose(input, lambda x, cd: G.record1("Sub", [scalar(1, cd), cast(G.record1("Erf", [cast(x, f32)], x.shape, f32), cd)], x.shape, cd))


def erfinv(input):
    raise NotImplementedError("torch.erfinv is not supported by wasmdeploy")


def _int_identity_or(name, onnx_op, input):
    v = input._value
    if not v.dtype.is_floating_point:
        return wrap(v)
    return wrap(run(onnx_op, [v], v.shape, v.dtype))


def floor(input):
    return _int_identity_or("floor", "Floor", input)


def ceil(input):
    return _int_identity_or("ceil", "Ceil", input)


def round(input, *, decimals=0):
    v = input._value
    if not v.dtype.is_floating_point:
        return wrap(v)
    if decimals == 0:
        return wrap(run("Round", [v], v.shape, v.dtype))
    cd = compute_dtype("Round", v.dtype)
    x = cast(v, cd)
    s = scalar(10.0**decimals, cd)
    r = G.record1("Round", [G.record1("Mul", [x, s], v.shape, cd)], v.shape, cd)
    return wrap(cast(G.record1("Div", [r, s], v.shape, cd), v.dtype))


def trunc(input):
    v = input._value
    if not v.dtype.is_floating_point:
        return wrap(v)
    return wrap(_trunc_value(v))


fix = trunc


def frac(input):
    return sub(input, trunc(input))


def neg(input):
    v = input._value
    if v.dtype is b8:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return wrap(run("Neg", [v], v.shape, v.dtype))


negative = neg


def absolute(input):
    v = input._value
    if v.dtype is b8:
        return wrap(v)
    return wrap(run("Abs", [v], v.shape, v.dtype))




def sign(input):
    v = input._value
    if v.dtype is b8:
        return wrap(v)
    return wrap(run("Sign", [v], v.shape, v.dtype))


def sgn(input):
    return sign(input)


def square(input):
    return mul(input, input)


def positive(input):
    return input


def isnan(input):
    v = input._value
    if not v.dtype.is_floating_point:
        return wrap(G.record1("Equal", [G.record1("ConstantOfShape", [G.ints(v.shape)], v.shape, b8, {"value": {"tensor": {"dtype": "bool", "shape": [1], "data": [True]}}}), G.const(False, b8)], v.shape, b8))
    return wrap(run("IsNaN", [v], v.shape, b8))


def isinf(input):
    v = input._value
    if not v.dtype.is_floating_point:
        return isnan(input)
    return wrap(run("IsInf", [v], v.shape, b8))


def isposinf(input):
    return logical_and(isinf(input), gt(input, 0))


def isneginf(input):
    return logical_and(isinf(input), lt(input, 0))


def isfinite(input):
    v = input._value
    if not v.dtype.is_floating_point:
        return logical_not(isnan(input))
    return logical_not(logical_or(isinf(input), isnan(input)))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    v = input._value
    if not v.dtype.is_floating_point:
        return input
    from .. import _dtype as DD

    fi = DD.finfo(v.dtype)
    posinf = fi.max if posinf is None else posinf
    neginf = fi.min if neginf is None else neginf
    r = where(isnan(input), nan, input)
    r = where(isposinf(input), posinf, r)
    return where(isneginf(input), neginf, r)


def atan2(input, other):
    rd = _float_result(input, other)
    cd = compute_dtype("Atan", rd)
    shape = broadcast_pair("atan2", shape_of(input), shape_of(other))
    y, x = operand(input, cd), operand(other, cd)
    a = G.record1("Atan", [G.record1("Div", [y, x], shape, cd)], shape, cd)
    z = scalar(0, cd)
    pi = scalar(math.pi, cd)
    xneg = G.record1("Less", [x, z], shape, b8)
    yneg = G.record1("Less", [y, z], shape, b8)
    adj = G.record1("Where", [yneg, G.record1("Sub", [a, pi], shape, cd), G.record1("Add", [a, pi], shape, cd)], shape, cd)
    r = G.record1("Where", [xneg, adj, a], shape, cd)
    # x == 0: +-pi/2 (or 0 when y == 0)
    xz = G.record1("Equal", [x, z], shape, b8)
    half = G.record1("Mul", [G.record1("Sign", [y], shape, cd), scalar(math.pi / 2, cd)], shape, cd)
    r = G.record1("Where", [xz, half, r], shape, cd)
    return wrap(cast(r, rd))


arctan2 = atan2


# ----- min/max/clamp/where -----
def _minmax(name, onnx_op, a, b):
    if not is_tensor(b):
        from .creation import scalar_tensor

        b = scalar_tensor(b)
    return wrap(_binary_value(name, onnx_op, a, b))


def maximum(input, other):
    return _minmax("maximum", "Max", input, other)


def minimum(input, other):
    return _minmax("minimum", "Min", input, other)


fmax, fmin = maximum, minimum


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    rd = result_type(input, min, max)
    D.check_supported(rd, "clamp")
    shape = input._value.shape
    for bound in (min, max):
        if is_tensor(bound):
            shape = broadcast_pair("clamp", shape, bound._value.shape)
    cd = compute_dtype("Max", rd)
    v = cast(input._value, cd)
    if min is not None:
        v = G.record1("Max", [v, operand(min, cd)], shape, cd)
    if max is not None:
        v = G.record1("Min", [v, operand(max, cd)], shape, cd)
    return wrap(cast(v, rd))


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def where(condition, input=None, other=None):
    if input is None and other is None:
        from .index import nonzero

        return nonzero(condition, as_tuple=True)
    cond = condition._value
    if cond.dtype is not b8:
        if cond.dtype is u8:
            cond = cast(cond, b8)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {dtype_name(cond.dtype)}")
    rd = result_type(input, other)
    shape = broadcast_pair("where", shape_of(input), shape_of(other))
    shape = broadcast_pair("where", cond.shape, shape)
    cd = compute_dtype("Where", rd)
    v = G.record1("Where", [cond, operand(input, cd), operand(other, cd)], shape, cd)
    return wrap(cast(v, rd))


def masked_fill(input, mask, value):
    m = mask._value
    if m.dtype is not b8:
        if m.dtype is u8:
            m = cast(m, b8)
        else:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {m.dtype.name}")
    if is_tensor(value) and value.dim() != 0:
        raise RuntimeError(
            f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value.dim()} dimension(s)."
        )
    d = input._value.dtype
    shape = broadcast_pair("masked_fill", input._value.shape, m.shape)
    cd = compute_dtype("Where", d)
    if is_tensor(value):
        fill = cast(value._value, cd)
    else:
        if not d.is_floating_point and isinstance(value, float) and math.isfinite(value):
            value = int(value)
        fill = scalar(value, cd)
    v = G.record1("Where", [m, fill, cast(input._value, cd)], shape, cd)
    return wrap(cast(v, d))


def lerp(input, end, weight):
    return add(input, mul(weight, sub(end, input)))


def addcmul(input, tensor1, tensor2, *, value=1):
    return add(input, mul(mul(tensor1, tensor2), value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    return add(input, mul(div(tensor1, tensor2), value))


def hypot(input, other):
    return sqrt(add(mul(input, input), mul(other, other)))


def logaddexp(input, other):
    m = maximum(input, other)
    return add(m, log(add(exp(sub(input, m)), exp(sub(other, m)))))


def xlogy(input, other):
    return where(eq(input, 0), 0.0, mul(input, log(other)))


def copysign(input, other):
    return mul(absolute(input), where(lt(other, 0), -1.0, 1.0))


# ----- activations -----
def _act(input, op, attrs=None):
    v, rd = _float_value(input)
    return wrap(run(op, [v], v.shape, rd, attrs, work=rd))


def relu(input):
    v = input._value
    if v.dtype is b8:
        raise RuntimeError("\"clamp_min_cpu\" not implemented for 'Bool'")
    return wrap(run("Relu", [v], v.shape, v.dtype))


def relu6(input):
    return hardtanh(input, 0.0, 6.0)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    v = input._value
    cd = compute_dtype("Clip", v.dtype)
    if v.dtype.is_floating_point:
        lo, hi = scalar(min_val, cd), scalar(max_val, cd)
    else:
        lo, hi = scalar(int(min_val), cd), scalar(int(max_val), cd)
    return wrap(cast(G.record1("Clip", [cast(v, cd), lo, hi], v.shape, cd), v.dtype))


def leaky_relu(input, negative_slope=0.01):
    return _act(input, "LeakyRelu", {"alpha": {"float": float(negative_slope)}})


def elu(input, alpha=1.0):
    return _act(input, "Elu", {"alpha": {"float": float(alpha)}})


def selu(input):
    return _act(input, "Selu", {"alpha": {"float": 1.6732632423543772848170429916717}, "gamma": {"float": 1.0507009873554804934193349852946}})


def celu(input, alpha=1.0):
    # max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
    def f(x, cd):
        e = G.record1("Sub", [G.record1("Exp", [G.record1("Div", [x, scalar(alpha, cd)], x.shape, cd)], x.shape, cd), scalar(1, cd)], x.shape, cd)
        e = G.record1("Min", [G.record1("Mul", [e, scalar(alpha, cd)], x.shape, cd), scalar(0, cd)], x.shape, cd)
        return G.record1("Add", [G.record1("Relu", [x], x.shape, cd), e], x.shape, cd)

    return _compose(input, f)


def gelu(input, approximate="none"):
    if approximate == "none":
        # The pattern torch.onnx exports (x / sqrt 2, erf, + 1, * x, * 0.5): ONNX Runtime fuses
        # it into one Gelu kernel only in this form.
        def f(x, cd):
            t = G.record1("Div", [x, scalar(1.4142135623730951, cd)], x.shape, cd)
            e = cast(G.record1("Erf", [cast(t, f32)], x.shape, f32), cd)
            e = G.record1("Add", [e, scalar(1.0, cd)], x.shape, cd)
            return G.record1("Mul", [G.record1("Mul", [x, e], x.shape, cd), scalar(0.5, cd)], x.shape, cd)

        return _compose(input, f)
    if approximate == "tanh":
        def f(x, cd):
            x3 = G.record1("Mul", [G.record1("Mul", [x, x], x.shape, cd), x], x.shape, cd)
            inner = G.record1("Add", [x, G.record1("Mul", [x3, scalar(0.044715, cd)], x.shape, cd)], x.shape, cd)
            inner = G.record1("Mul", [inner, scalar(math.sqrt(2.0 / math.pi), cd)], x.shape, cd)
            t = G.record1("Add", [G.record1("Tanh", [inner], x.shape, cd), scalar(1.0, cd)], x.shape, cd)
            return G.record1("Mul", [G.record1("Mul", [x, scalar(0.5, cd)], x.shape, cd), t], x.shape, cd)

        return _compose(input, f)
    raise RuntimeError(f"approximate argument must be either none or tanh (got {approximate!r})")


def silu(input):
    return _compose(input, lambda x, cd: G.record1("Mul", [x, G.record1("Sigmoid", [x], x.shape, cd)], x.shape, cd))


def mish(input):
    return _act(input, "Mish")


def hardsigmoid(input):
    return _act(input, "HardSigmoid", {"alpha": {"float": 1.0 / 6.0}, "beta": {"float": 0.5}})


def hardswish(input):
    return _act(input, "HardSwish")


def softplus(input, beta=1, threshold=20):
    def f(x, cd):
        bx = G.record1("Mul", [x, scalar(beta, cd)], x.shape, cd) if beta != 1 else x
        sp = G.record1("Softplus", [bx], x.shape, cd)
        if beta != 1:
            sp = G.record1("Div", [sp, scalar(beta, cd)], x.shape, cd)
        big = G.record1("Greater", [bx, scalar(threshold, cd)], x.shape, b8)
        return G.record1("Where", [big, x, sp], x.shape, cd)

    return _compose(input, f)


def logsigmoid(input):
    return neg(softplus(neg(input)))


def softsign(input):
    return div(input, add(absolute(input), 1))


def tanhshrink(input):
    return sub(input, tanh(input))


def softshrink(input, lambd=0.5):
    return _act(input, "Shrink", {"lambd": {"float": float(lambd)}, "bias": {"float": float(lambd)}})


def hardshrink(input, lambd=0.5):
    return _act(input, "Shrink", {"lambd": {"float": float(lambd)}})


def threshold(input, threshold, value):
    return where(gt(input, threshold), input, value)


def prelu(input, weight):
    v = input._value
    w = weight._value
    if w.numel() != 1 and len(v.shape) >= 2:
        c = v.shape[1]
        if w.numel() != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {w.numel()} and channel size = {c}.")
        wshape = [c] + [1] * (len(v.shape) - 2)
        w = G.record1("Reshape", [w, G.ints(wshape)], wshape, w.dtype)
    cd = compute_dtype("PRelu", v.dtype)
    return wrap(cast(G.record1("PRelu", [cast(v, cd), cast(w, cd)], v.shape, cd), v.dtype))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    if training:
        raise NotImplementedError("torch.rrelu: training=True (random slopes) is not supported by wasmdeploy")
    return leaky_relu(input, (lower + upper) / 2)


def softmax(input, dim=None, dtype=None, _stacklevel=3):
    return _softmax("softmax", "Softmax", input, dim, dtype)


def log_softmax(input, dim=None, dtype=None, _stacklevel=3):
    return _softmax("log_softmax", "LogSoftmax", input, dim, dtype)


def _softmax(name, op, input, dim, dtype):
    from .core import norm_dim

    if dim is None:
        nd = input.dim()
        dim = 0 if nd in (0, 1, 3) else 1
    v = input._value
    if dtype is not None:
        v = cast(v, dtype)
    if not v.dtype.is_floating_point:
        raise RuntimeError(f'"{name}_lastdim_kernel_impl" not implemented for \'{dtype_name(v.dtype)}\'')
    if v.shape == ():
        if op == "Softmax":
            return wrap(G.record1("Div", [v, v], (), v.dtype))
        return wrap(G.record1("Sub", [v, v], (), v.dtype))
    axis = norm_dim(dim, len(v.shape))
    return wrap(run(op, [v], v.shape, v.dtype, {"axis": axis}))


def softmin(input, dim=None, dtype=None):
    return softmax(neg(input), dim, dtype)


def sigmoid_(input):
    return sigmoid(input)


def logit(input, eps=None):
    x = input if eps is None else clamp(input, eps, 1 - eps)
    return log(div(x, sub(1, x)))
