"""Reductions, scans, sorting."""

import collections

from .. import _dtype as D
from .. import _graph as G
from .core import (
    b8, cast, compute_dtype, default_float, dtype_name, i64, is_tensor, norm_dim, norm_dims, numel,
    reduce_value, reshape_value, run, scalar, slice_value, squeeze_value, wrap, concat_values,
)


def _rt(name, fields):
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    cls.__qualname__ = name
    return cls


class return_types:
    max = _rt("max", ["values", "indices"])
    min = _rt("min", ["values", "indices"])
    sort = _rt("sort", ["values", "indices"])
    topk = _rt("topk", ["values", "indices"])
    median = _rt("median", ["values", "indices"])
    mode = _rt("mode", ["values", "indices"])
    kthvalue = _rt("kthvalue", ["values", "indices"])
    aminmax = _rt("aminmax", ["min", "max"])
    var_mean = _rt("var_mean", ["var", "mean"])  # torch returns plain tuples for these
    std_mean = _rt("std_mean", ["std", "mean"])
    cummax = _rt("cummax", ["values", "indices"])
    cummin = _rt("cummin", ["values", "indices"])


def _axes(input, dim):
    nd = input.dim()
    if dim is None:
        return list(range(nd))
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        return list(range(nd))
    if nd == 0:
        norm_dims(dim, 0)
        return []
    return norm_dims(dim, nd)


def _sum_dtype(d, dtype):
    if dtype is not None:
        return dtype
    if d is b8 or not d.is_floating_point:
        return i64
    return d


def sum(input, dim=None, keepdim=False, *, dtype=None):
    v = input._value
    od = _sum_dtype(v.dtype, dtype)
    v = cast(v, od)
    return wrap(reduce_value("ReduceSum", v, _axes(input, dim), keepdim, od))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .pointwise import isnan, where

    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    v = input._value
    d = dtype or v.dtype
    if not d.is_floating_point:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {dtype_name(d)}"
        )
    v = cast(v, d)
    return wrap(reduce_value("ReduceMean", v, _axes(input, dim), keepdim, d))


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from .pointwise import div, isnan, logical_not

    ok = logical_not(isnan(input))
    return div(nansum(input, dim, keepdim, dtype=dtype), sum(ok, dim, keepdim))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    v = input._value
    od = _sum_dtype(v.dtype, dtype)
    v = cast(v, od)
    if dim is None:
        return wrap(reduce_value("ReduceProd", v, list(range(len(v.shape))), False, od))
    return wrap(reduce_value("ReduceProd", v, [norm_dim(dim, len(v.shape))] if v.shape else [], keepdim, od))


def _check_nonempty(v, name, axes):
    for a in axes:
        if v.shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


def _minmax_all(name, op, input):
    v = input._value
    if v.numel() == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
    if v.dtype is b8:
        r = reduce_value(op, cast(v, D.uint8), list(range(len(v.shape))), False, D.uint8)
        return wrap(cast(r, b8))
    return wrap(reduce_value(op, v, list(range(len(v.shape))), False, v.dtype))


def _minmax_dim(name, op, argop, input, dim, keepdim):
    v = input._value
    nd = len(v.shape)
    d = norm_dim(dim, nd)
    if nd == 0:
        return getattr(return_types, name)(wrap(v), wrap(G.const(0, i64)))
    _check_nonempty(v, name, [d])
    work = v if v.dtype is not b8 else cast(v, D.uint8)
    vals = reduce_value(op, work, [d], keepdim, work.dtype)
    idx = run(argop, [work], _reduced_shape(v.shape, [d], keepdim), i64, {"axis": d, "keepdims": 1 if keepdim else 0})
    return getattr(return_types, name)(wrap(cast(vals, v.dtype)), wrap(idx))


def _reduced_shape(shape, axes, keepdim):
    out = []
    for i, s in enumerate(shape):
        if i in axes:
            if keepdim:
                out.append(1)
        else:
            out.append(s)
    return tuple(out)


def max(input, dim=None, keepdim=False, *, out=None):
    if is_tensor(dim):
        from .pointwise import maximum

        return maximum(input, dim)
    if dim is None:
        return _minmax_all("max", "ReduceMax", input)
    return _minmax_dim("max", "ReduceMax", "ArgMax", input, dim, keepdim)


def min(input, dim=None, keepdim=False, *, out=None):
    if is_tensor(dim):
        from .pointwise import minimum

        return minimum(input, dim)
    if dim is None:
        return _minmax_all("min", "ReduceMin", input)
    return _minmax_dim("min", "ReduceMin", "ArgMin", input, dim, keepdim)


def amax(input, dim=(), keepdim=False):
    v = input._value
    axes = _axes(input, dim)
    work = v if v.dtype is not b8 else cast(v, D.uint8)
    return wrap(cast(reduce_value("ReduceMax", work, axes, keepdim, work.dtype), v.dtype))


def amin(input, dim=(), keepdim=False):
    v = input._value
    axes = _axes(input, dim)
    work = v if v.dtype is not b8 else cast(v, D.uint8)
    return wrap(cast(reduce_value("ReduceMin", work, axes, keepdim, work.dtype), v.dtype))


def aminmax(input, *, dim=None, keepdim=False):
    return return_types.aminmax(amin(input, dim if dim is not None else (), keepdim), amax(input, dim if dim is not None else (), keepdim))


def _arg(name, op, input, dim, keepdim):
    v = input._value
    if dim is None:
        v = reshape_value(v, (v.numel(),))
        d = 0
        shape = (1,) * len(input._value.shape) if keepdim else ()
        r = run(op, [v], (), i64, {"axis": 0, "keepdims": 0})
        if keepdim:
            r = reshape_value(r, shape)
        return wrap(r)
    nd = len(v.shape)
    d = norm_dim(dim, nd)
    if nd == 0:
        return wrap(G.const(0, i64))
    work = v if v.dtype is not b8 else cast(v, D.uint8)
    return wrap(run(op, [work], _reduced_shape(v.shape, [d], keepdim), i64, {"axis": d, "keepdims": 1 if keepdim else 0}))


def argmax(input, dim=None, keepdim=False):
    return _arg("argmax", "ArgMax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _arg("argmin", "ArgMin", input, dim, keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var(input, unbiased)
        unbiased, dim = dim, None
    c = _correction(unbiased, correction)
    v = input._value
    if not v.dtype.is_floating_point:
        raise RuntimeError(f"std and var only support floating point and complex dtypes")
    axes = _axes(input, dim)
    n = numel([v.shape[a] for a in axes])
    cd = compute_dtype("ReduceMean", v.dtype)
    x = cast(v, cd)
    m = reduce_value("ReduceMean", x, axes, True, cd)
    dev = G.record1("Sub", [x, m], v.shape, cd)
    sq = G.record1("Mul", [dev, dev], v.shape, cd)
    s = reduce_value("ReduceSum", sq, axes, keepdim, cd)
    denom = n - c
    r = G.record1("Div", [s, scalar(float(denom) if denom > 0 else 0.0, cd)], s.shape, cd)
    return wrap(cast(r, v.dtype))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    from .pointwise import sqrt

    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return (var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return (std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    from .pointwise import absolute, pow

    v = input._value
    if dtype is not None:
        input = input.to(dtype)
        v = input._value
    if not v.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {dtype_name(v.dtype)}")
    axes = _axes(input, dim)
    if p is None or p == "fro" or p == 2:
        return wrap(reduce_value("ReduceL2", v, axes, keepdim, v.dtype))
    if p == "nuc":
        raise NotImplementedError("torch.norm: p='nuc' is not supported by wasmdeploy")
    if p == 1:
        return wrap(reduce_value("ReduceL1", v, axes, keepdim, v.dtype))
    if p == float("inf"):
        return amax(absolute(input), axes, keepdim)
    if p == float("-inf"):
        return amin(absolute(input), axes, keepdim)
    if p == 0:
        from .pointwise import ne

        return sum(ne(input, 0), axes, keepdim, dtype=v.dtype)
    return pow(sum(pow(absolute(input), p), axes, keepdim), 1.0 / p)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    return norm(x, ord, dim, keepdim, dtype)


def logsumexp(input, dim, keepdim=False):
    v = input._value
    if not v.dtype.is_floating_point:
        input = input.to(default_float())
        v = input._value
    axes = _axes(input, dim)
    # stable: max + log(sum(exp(x - max)))
    from .pointwise import add, exp, log, sub, where, isinf

    m = amax(input, axes, True)
    m = where(isinf(m), 0.0, m)
    s = sum(exp(sub(input, m)), axes, True)
    r = add(log(s), m)
    if not keepdim:
        r = wrap(squeeze_value(r._value, axes))
    return r


def any(input, dim=None, keepdim=False):
    v = input._value
    od = D.uint8 if v.dtype is D.uint8 else b8
    x = cast(cast(v, b8), D.uint8)
    r = reduce_value("ReduceMax", x, _axes(input, dim), keepdim, D.uint8) if v.shape else x
    return wrap(cast(cast(r, b8), od))


def all(input, dim=None, keepdim=False):
    v = input._value
    od = D.uint8 if v.dtype is D.uint8 else b8
    x = cast(cast(v, b8), D.uint8)
    r = reduce_value("ReduceMin", x, _axes(input, dim), keepdim, D.uint8) if v.shape else x
    return wrap(cast(cast(r, b8), od))


def cumsum(input, dim, *, dtype=None):
    v = input._value
    od = _sum_dtype(v.dtype, dtype)
    if not v.shape:
        return wrap(cast(v, od))
    d = norm_dim(dim, len(v.shape))
    return wrap(run("CumSum", [cast(v, od), G.const(d, i64)], v.shape, od, n_cast=1))


def cumprod(input, dim, *, dtype=None):
    v = input._value
    od = _sum_dtype(v.dtype, dtype)
    x = cast(v, od)
    if not v.shape:
        return wrap(x)
    d = norm_dim(dim, len(v.shape))
    n = v.shape[d]
    cd = compute_dtype("Mul", od)
    x = cast(x, cd)
    parts = []
    acc = None
    for i in range(n):
        s = slice_value(x, d, i, i + 1)
        acc = s if acc is None else G.record1("Mul", [acc, s], s.shape, cd)
        parts.append(acc)
    if not parts:
        return wrap(cast(x, od))
    return wrap(cast(concat_values(parts, d), od))


def _cum_ext(name, input, dim, greater):
    v = input._value
    d = norm_dim(dim, len(v.shape))
    n = v.shape[d]
    vals, idxs = [], []
    acc = None
    accidx = None
    for i in range(n):
        s = slice_value(v, d, i, i + 1)
        ii = G.record1("ConstantOfShape", [G.ints(s.shape)], s.shape, i64, {"value": {"tensor": {"dtype": "int64", "shape": [1], "data": [i]}}})
        if acc is None:
            acc, accidx = s, ii
        else:
            cmp = G.record1("GreaterOrEqual" if greater else "LessOrEqual", [s, acc], s.shape, b8)
            acc = G.record1("Where", [cmp, s, acc], s.shape, v.dtype)
            accidx = G.record1("Where", [cmp, ii, accidx], s.shape, i64)
        vals.append(acc)
        idxs.append(accidx)
    return getattr(return_types, name)(wrap(concat_values(vals, d)), wrap(concat_values(idxs, d)))


def cummax(input, dim):
    return _cum_ext("cummax", input, dim, True)


def cummin(input, dim):
    return _cum_ext("cummin", input, dim, False)


def topk(input, k, dim=-1, largest=True, sorted=True):
    v = input._value
    nd = len(v.shape)
    d = norm_dim(dim, nd)
    n = v.shape[d] if nd else 1
    if k > n or k < 0:
        raise RuntimeError("selected index k out of range")
    shape = list(v.shape)
    if nd:
        shape[d] = k
    cd = compute_dtype("TopK", v.dtype)
    x = cast(v, cd)
    if not nd:
        x = reshape_value(x, (1,))
    vals, idx = G.record("TopK", [x, G.ints([k])], [(shape or (1,), cd), (shape or (1,), i64)], {"axis": d, "largest": 1 if largest else 0, "sorted": 1})
    if not nd:
        vals, idx = reshape_value(vals, ()), reshape_value(idx, ())
    return return_types.topk(wrap(cast(vals, v.dtype)), wrap(idx))


def sort(input, dim=-1, descending=False, stable=False):
    if isinstance(dim, bool):
        descending, dim = dim, -1
    v = input._value
    n = v.shape[norm_dim(dim, len(v.shape))] if v.shape else 1
    r = topk(input, n, dim, largest=descending, sorted=True)
    return return_types.sort(r.values, r.indices)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending).indices


def msort(input):
    return sort(input, 0).values


def median(input, dim=None, keepdim=False):
    v = input._value
    if dim is None:
        flat = input.reshape(-1)
        n = flat.shape[0]
        s = sort(flat).values
        return s[(n - 1) // 2]
    d = norm_dim(dim, len(v.shape))
    n = v.shape[d]
    s = sort(input, d)
    k = (n - 1) // 2
    vals = s.values.select(d, k)
    idx = s.indices.select(d, k)
    if keepdim:
        vals, idx = vals.unsqueeze(d), idx.unsqueeze(d)
    return return_types.median(vals, idx)


def kthvalue(input, k, dim=-1, keepdim=False):
    d = norm_dim(dim, input.dim())
    s = sort(input, d)
    vals = s.values.select(d, k - 1)
    idx = s.indices.select(d, k - 1)
    if keepdim:
        vals, idx = vals.unsqueeze(d), idx.unsqueeze(d)
    return return_types.kthvalue(vals, idx)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    raise NotImplementedError("torch.quantile is not supported by wasmdeploy")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    if dim is not None:
        raise NotImplementedError("torch.unique: dim= is not supported by wasmdeploy")
    vals = input.reshape(-1).tolist()
    uniq = __import__("builtins").sorted(set(vals))
    from .creation import from_values

    out = from_values(uniq, (len(uniq),), input.dtype)
    res = [out]
    if return_inverse:
        pos = {u: i for i, u in enumerate(uniq)}
        res.append(from_values([pos[x] for x in vals], tuple(input.shape), i64))
    if return_counts:
        cnt = collections.Counter(vals)
        res.append(from_values([cnt[u] for u in uniq], (len(uniq),), i64))
    return res[0] if len(res) == 1 else tuple(res)


def bincount(input, weights=None, minlength=0):
    vals = input.tolist()
    n = __import__("builtins").max(vals + [minlength - 1]) + 1 if vals else minlength
    from .creation import from_values

    if weights is None:
        counts = [0] * n
        for x in vals:
            counts[x] += 1
        return from_values(counts, (n,), i64)
    w = weights.tolist()
    counts = [0.0] * n
    for x, ww in zip(vals, w):
        counts[x] += ww
    return from_values(counts, (n,), weights.dtype if weights.dtype.is_floating_point else D.float64)
