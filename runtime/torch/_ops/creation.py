"""Tensor creation: from Python data, constant fills, ranges, random numbers."""

import math
import random as _random
import struct

from .. import _dtype as D
from .. import _graph as G
from .. import _numpy
from .core import b8, cast, default_float, f16, f32, f64, i64, is_tensor, numel, scalar, wrap


def _check_device(device, name):
    if device is None:
        return
    s = str(device)
    if not (s == "cpu" or s.startswith("cpu:") or s == "meta"):
        raise NotImplementedError(f"torch.{name}: device {s!r} is not supported by wasmdeploy (only cpu)")


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad = True
    return t


def size_args(size, name="size"):
    """zeros(2, 3), zeros((2, 3)), zeros([2, 3]), zeros(torch.Size([2, 3]))"""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if is_tensor(s):
            s = s.item()
        if not isinstance(s, int):
            try:
                s = s.__index__()
            except AttributeError:
                raise TypeError(f"{name}(): argument 'size' must be tuple of ints, but found element of type {type(s).__name__}") from None
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(s)
    return tuple(out)


# ----- from Python data -----
def _infer(data, depth=0):
    """(shape, flat values, inferred dtype) of nested lists/tuples of numbers/bools/0-d tensors."""
    if is_tensor(data):
        return tuple(data.shape), data.reshape(-1).tolist(), data.dtype
    if isinstance(data, (list, tuple)):
        if len(data) == 0:
            return (0,), [], None
        parts = [_infer(x, depth + 1) for x in data]
        sub = parts[0][0]
        flat = []
        kind = None
        for shape, vals, k in parts:
            if shape != sub:
                raise ValueError(f"expected sequence of length {sub[0] if sub else 0} at dim {depth + 1} (got {shape[0] if shape else 0})")
            flat.extend(vals)
            kind = _merge_kind(kind, k)
        return (len(data),) + sub, flat, kind
    if isinstance(data, bool):
        return (), [data], b8
    if isinstance(data, int):
        return (), [data], i64
    if isinstance(data, float):
        return (), [data], default_float()
    if hasattr(data, "__index__"):
        return (), [data.__index__()], i64
    if hasattr(data, "__float__"):
        return (), [float(data)], default_float()
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _merge_kind(a, b):
    if a is None:
        return b
    if b is None:
        return a
    # torch.tensor infers by category: bool < int < float (tensors inside lists promote)
    return D.promote_types(a, b)


def convert_values(vals, d):
    if d is b8:
        return [bool(v) for v in vals]
    if d.is_floating_point:
        out = [float(v) for v in vals]
        if d is f32:
            return [_f32(x) for x in out]
        if d is f16:
            return [_f16(x) for x in out]
        return out
    bits = d.itemsize * 8
    res = []
    for v in vals:
        if isinstance(v, float):
            if not math.isfinite(v):
                raise RuntimeError(f"value cannot be converted to type {d.name} without overflow")
            v = int(v)  # truncation toward zero
        v = int(v)
        # wrap like a C cast
        v &= (1 << bits) - 1
        if d.is_signed and v >= 1 << (bits - 1):
            v -= 1 << bits
        res.append(v)
    return res


def _f32(x):
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _f16(x):
    try:
        return struct.unpack("<e", struct.pack("<e", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def from_values(vals, shape, d):
    """A concrete tensor from flat Python values (already in range for d)."""
    D.check_supported(d, "tensor")
    vals = convert_values(vals, d)
    data = D.pack(d, vals)
    v = G.write(data, d, tuple(shape))
    return wrap(v)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    _check_device(device, "tensor")
    if is_tensor(data):
        t = data.detach().clone()
        if dtype is not None:
            t = t.to(dtype)
        return _finish(t, requires_grad)
    if _numpy.is_ndarray(data):
        t = _numpy.from_numpy(data)
        return _finish(t if dtype is None else t.to(dtype), requires_grad)
    shape, vals, kind = _infer(data)
    d = dtype or kind or default_float()
    return _finish(from_values(vals, shape, d), requires_grad)


def as_tensor(data, dtype=None, device=None):
    _check_device(device, "as_tensor")
    if is_tensor(data):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    if _numpy.is_ndarray(data):
        # A copy where PyTorch shares the array's memory (torch/_numpy.py).
        t = _numpy.from_numpy(data)
        return t if dtype is None else t.to(dtype)
    return tensor(data, dtype=dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    return _finish(as_tensor(obj, dtype=dtype, device=device), requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = D.scalar_dtype(s, default_float()) if not isinstance(s, float) else default_float()
    return _finish(wrap(scalar(s, dtype)), requires_grad)


# ----- fills -----
def _fill_value(value, d, shape):
    D.check_supported(d, "full")
    shape = tuple(shape)
    if d.is_floating_point:
        value = float(value)
        finite = math.isfinite(value)
    else:
        if isinstance(value, float):
            value = int(value)
        finite = True
    if finite:
        data = [bool(value)] if d is b8 else [value]
        return G.record1("ConstantOfShape", [G.ints(shape)], shape, d, {"value": {"tensor": {"dtype": d.name, "shape": [1], "data": data}}})
    return G.record1("Expand", [G.const(value, d), G.ints(shape)], shape, d)


def _factory(name, size, value, dtype, device, requires_grad, default=None):
    _check_device(device, name)
    shape = size_args(size, name)
    d = dtype or default or default_float()
    return _finish(wrap(_fill_value(value, d, shape)), requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, memory_format=None):
    return _factory("zeros", size, 0, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, memory_format=None):
    return _factory("ones", size, 1, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, memory_format=None):
    return _factory("empty", size, 0, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    if is_tensor(fill_value):
        fill_value = fill_value.item()
    default = D.scalar_dtype(fill_value, default_float())
    return _factory("full", (size,), fill_value, dtype, device, requires_grad, default=default)


def _like(name, input, value, dtype, device, requires_grad):
    _check_device(device, name)
    d = dtype or input.dtype
    return _finish(wrap(_fill_value(value, d, input._value.shape)), requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like("zeros_like", input, 0, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like("ones_like", input, 1, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like("empty_like", input, 0, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    if is_tensor(fill_value):
        fill_value = fill_value.item()
    return _like("full_like", input, fill_value, dtype, device, requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return empty(size, dtype=dtype, device=device, requires_grad=requires_grad)


# ----- ranges -----
def _num(x):
    if is_tensor(x):
        return x.item()
    return x


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    _check_device(device, "arange")
    if end is None:
        start, end = 0, start
    start, end, step = _num(start), _num(end), _num(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        if any(isinstance(x, float) for x in (start, end, step)):
            dtype = default_float()
        else:
            dtype = i64
    D.check_supported(dtype, "arange")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    n = math.ceil((end - start) / step)
    n = max(0, int(n))
    return _finish(wrap(_range_value(start, step, n, dtype)), requires_grad)


def _range_value(start, step, n, dtype):
    if n == 0:
        return G.record1("ConstantOfShape", [G.ints([0])], (0,), dtype, {"value": {"tensor": {"dtype": dtype.name, "shape": [1], "data": [False if dtype is b8 else 0]}}})
    idx = G.record1("Range", [G.const(0, i64), G.const(n, i64), G.const(1, i64)], (n,), i64)
    if not dtype.is_floating_point and isinstance(start, int) and isinstance(step, int):
        v = idx
        if step != 1:
            v = G.record1("Mul", [v, G.const(step, i64)], (n,), i64)
        if start != 0:
            v = G.record1("Add", [v, G.const(start, i64)], (n,), i64)
        return cast(v, dtype)
    # torch computes start + i * step in double, then casts
    x = cast(idx, f64)
    x = G.record1("Mul", [x, G.const(float(step), f64)], (n,), f64)
    x = G.record1("Add", [x, G.const(float(start), f64)], (n,), f64)
    return cast(x, dtype)


def range_(start, end, step=1, *, dtype=None, device=None, requires_grad=False):
    n = int(math.floor((end - start) / step)) + 1
    if dtype is None:
        dtype = default_float()
    return _finish(wrap(_range_value(start, step, max(n, 0), dtype)), requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    _check_device(device, "linspace")
    start, end = _num(start), _num(end)
    d = dtype or default_float()
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if steps == 0:
        return zeros(0, dtype=d)
    if steps == 1:
        return full((1,), start, dtype=d)
    cd = d if d in (f32, f64) else (f32 if d is f16 else f64)
    step = (end - start) / (steps - 1)
    if cd is f32:
        step = _f32(_f32(_f32(end) - _f32(start)) / (steps - 1))
    idx = cast(G.record1("Range", [G.const(0, i64), G.const(steps, i64), G.const(1, i64)], (steps,), i64), cd)
    n = (steps,)
    lo = G.record1("Add", [G.record1("Mul", [idx, G.const(step, cd)], n, cd), G.const(start, cd)], n, cd)
    rev = G.record1("Sub", [G.const(float(steps - 1), cd), idx], n, cd)
    hi = G.record1("Sub", [G.const(end, cd), G.record1("Mul", [rev, G.const(step, cd)], n, cd)], n, cd)
    half = steps // 2
    cond = G.record1("Less", [idx, G.const(float(half), cd)], n, b8)
    v = G.record1("Where", [cond, lo, hi], n, cd)
    if not d.is_floating_point:
        v = G.record1("Floor", [v], n, cd)
    return _finish(wrap(cast(v, d)), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    from .pointwise import pow

    lin = linspace(start, end, steps, dtype=f64)
    return _finish(pow(float(base), lin).to(dtype or default_float()), requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    _check_device(device, "eye")
    m = n if m is None else m
    d = dtype or default_float()
    r = G.record1("Range", [G.const(0, i64), G.const(n, i64), G.const(1, i64)], (n,), i64)
    c = G.record1("Range", [G.const(0, i64), G.const(m, i64), G.const(1, i64)], (m,), i64)
    r = G.record1("Unsqueeze", [r, G.ints([1])], (n, 1), i64)
    e = G.record1("Equal", [r, c], (n, m), b8)
    return _finish(wrap(cast(e, d)), requires_grad)


# ----- random numbers (a seedable pure-Python generator; values differ from PyTorch's) -----
class Generator:
    def __init__(self, device="cpu"):
        self.device = device
        self._seed = 67280421310721
        self._rng = _random.Random(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._rng.seed(self._seed)
        return self

    def seed(self):
        s = _random.SystemRandom().randrange(1 << 63)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        raise NotImplementedError("torch.Generator.get_state is not supported by wasmdeploy")

    def set_state(self, state):
        raise NotImplementedError("torch.Generator.set_state is not supported by wasmdeploy")


default_generator = Generator()


def manual_seed(seed):
    default_generator.manual_seed(seed)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def _gen(generator):
    G.note_taint("draws random numbers")  # a replay would repeat the same numbers
    return (generator or default_generator)._rng


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    _check_device(device, "rand")
    shape = size_args(size, "rand")
    rng = _gen(generator)
    vals = [rng.random() for _ in range(numel(shape))]
    return _finish(from_values(vals, shape, dtype or default_float()), requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    _check_device(device, "randn")
    shape = size_args(size, "randn")
    rng = _gen(generator)
    vals = [rng.gauss(0.0, 1.0) for _ in range(numel(shape))]
    return _finish(from_values(vals, shape, dtype or default_float()), requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    shape = size_args((size,), "randint")
    rng = _gen(generator)
    vals = [rng.randrange(int(low), int(high)) for _ in range(numel(shape))]
    return _finish(from_values(vals, shape, dtype or i64), requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    rng = _gen(generator)
    vals = list(range(n))
    rng.shuffle(vals)
    return _finish(from_values(vals, (n,), dtype or i64), requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if is_tensor(mean) or is_tensor(std):
        shape = tuple(mean.shape) if is_tensor(mean) else tuple(std.shape)
        z = randn(*shape, generator=generator)
        from .pointwise import add, mul

        return add(mul(z, std), mean)
    shape = size_args((size,), "normal")
    rng = _gen(generator)
    vals = [rng.gauss(float(mean), float(std)) for _ in range(numel(shape))]
    return _finish(from_values(vals, shape, dtype or default_float()), requires_grad)


def bernoulli(input, p=None, *, generator=None):
    probs = input.reshape(-1).tolist() if p is None else [p] * input.numel()
    rng = _gen(generator)
    vals = [1.0 if rng.random() < pr else 0.0 for pr in probs]
    return from_values(vals, tuple(input.shape), input.dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    raise NotImplementedError("torch.multinomial is not supported by wasmdeploy")


def uniform_values(shape, a, b, generator=None):
    rng = _gen(generator)
    return [rng.uniform(a, b) for _ in range(numel(shape))]


def normal_values(shape, mean, std, generator=None):
    rng = _gen(generator)
    return [rng.gauss(mean, std) for _ in range(numel(shape))]
