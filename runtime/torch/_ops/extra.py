"""Less common ops, written with the other ops."""

import math

from .. import _dtype as D
from .core import default_float, i64, is_tensor, norm_dim
from . import creation as _cr
from . import pointwise as _pw
from . import reduce as _rd
from . import shape as _sh


def diff(input, n=1, dim=-1, prepend=None, append=None):
    d = norm_dim(dim, input.dim())
    x = input
    if prepend is not None or append is not None:
        parts = []
        if prepend is not None:
            parts.append(prepend if prepend.dim() else prepend.expand(*[s if i != d else 1 for i, s in enumerate(x.shape)]))
        parts.append(x)
        if append is not None:
            parts.append(append if append.dim() else append.expand(*[s if i != d else 1 for i, s in enumerate(x.shape)]))
        x = _sh.cat(parts, d)
    for _ in range(n):
        m = x.shape[d]
        a = _sh.narrow(x, d, 1, m - 1)
        b = _sh.narrow(x, d, 0, m - 1)
        x = _pw.logical_xor(a, b) if x.dtype is D.bool_ else _pw.sub(a, b)
    return x


def deg2rad(input):
    return _pw.mul(input, math.pi / 180.0)


def rad2deg(input):
    return _pw.mul(input, 180.0 / math.pi)


def signbit(input):
    if input.dtype.is_floating_point:
        # -0.0 has its sign bit set: 1 / -0.0 = -inf
        return _pw.logical_or(_pw.lt(input, 0), _pw.logical_and(_pw.eq(input, 0), _pw.lt(_pw.div(1.0, input), 0)))
    return _pw.lt(input, 0)


def sinc(input):
    x = _pw.mul(input, math.pi)
    return _pw.where(_pw.eq(input, 0), 1.0, _pw.div(_pw.sin(x), x))


def heaviside(input, values):
    return _pw.where(_pw.eq(input, 0), values, _pw.where(_pw.gt(input, 0), 1, 0).to(input.dtype))


def logaddexp2(input, other):
    ln2 = math.log(2.0)
    return _pw.div(_pw.logaddexp(_pw.mul(input, ln2), _pw.mul(other, ln2)), ln2)


def logcumsumexp(input, dim):
    d = norm_dim(dim, input.dim())
    m = _rd.amax(input, d, True)
    m = _pw.where(_pw.isinf(m), 0.0, m)
    return _pw.add(_pw.log(_rd.cumsum(_pw.exp(_pw.sub(input, m)), d)), m)


def dist(input, other, p=2):
    return _rd.norm(_pw.sub(input, other), p)


def kron(input, other):
    a, b = input, other
    nd = max(a.dim(), b.dim())
    a = a.reshape((1,) * (nd - a.dim()) + tuple(a.shape))
    b = b.reshape((1,) * (nd - b.dim()) + tuple(b.shape))
    ash, bsh = list(a.shape), list(b.shape)
    ai = []
    bi = []
    for i in range(nd):
        ai += [ash[i], 1]
        bi += [1, bsh[i]]
    r = _pw.mul(a.reshape(ai), b.reshape(bi))
    return r.reshape([ash[i] * bsh[i] for i in range(nd)])


def trace(input):
    return _rd.sum(_sh.diagonal(input))


def diagflat(input, offset=0):
    return _sh.diag(input.reshape(-1), offset)


def hsplit(input, sections):
    return _sh.tensor_split(input, sections, 1 if input.dim() > 1 else 0)


def vsplit(input, sections):
    return _sh.tensor_split(input, sections, 0)


def dsplit(input, sections):
    return _sh.tensor_split(input, sections, 2)


def sum_to_size(input, *size):
    size = _sh._ints(size, "sum_to_size")
    x = input
    lead = x.dim() - len(size)
    if lead:
        x = _rd.sum(x, list(range(lead)))
    dims = [i for i, s in enumerate(size) if s == 1 and x.shape[i] != 1]
    return _rd.sum(x, dims, True) if dims else x


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    t = test_elements if is_tensor(test_elements) else _cr.tensor(test_elements)
    e = elements if is_tensor(elements) else _cr.tensor(elements)
    r = _rd.any(_pw.eq(e.unsqueeze(-1), t.reshape(-1)), -1)
    return _pw.logical_not(r) if invert else r


def bucketize(input, boundaries, *, out_int32=False, right=False):
    x = input if is_tensor(input) else _cr.tensor(input)
    cmp = _pw.ge(x.unsqueeze(-1), boundaries) if right else _pw.gt(x.unsqueeze(-1), boundaries)
    r = _rd.sum(cmp, -1)
    return r.to(D.int32) if out_int32 else r


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    if sorter is not None:
        raise NotImplementedError("torch.searchsorted: sorter= is not supported by wasmdeploy")
    if side is not None:
        right = side == "right"
    v = values if is_tensor(values) else _cr.tensor(values)
    s = sorted_sequence
    if s.dim() == 1:
        cmp = _pw.ge(v.unsqueeze(-1), s) if right else _pw.gt(v.unsqueeze(-1), s)
    else:
        cmp = _pw.ge(v.unsqueeze(-1), s.unsqueeze(-2)) if right else _pw.gt(v.unsqueeze(-1), s.unsqueeze(-2))
    r = _rd.sum(cmp, -1)
    return r.to(D.int32) if out_int32 else r


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    rows, cols = [], []
    for r in range(row):
        for c in range(col):
            if c - r <= offset:
                rows.append(r)
                cols.append(c)
    return _cr.from_values(rows + cols, (2, len(rows)), dtype or i64)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    rows, cols = [], []
    for r in range(row):
        for c in range(col):
            if c - r >= offset:
                rows.append(r)
                cols.append(c)
    return _cr.from_values(rows + cols, (2, len(rows)), dtype or i64)


def block_diag(*tensors):
    ts = [t.reshape(1, -1) if t.dim() == 1 else (t.reshape(1, 1) if t.dim() == 0 else t) for t in tensors]
    rows = sum(t.shape[0] for t in ts)
    cols = sum(t.shape[1] for t in ts)
    from .core import result_type

    d = result_type(*ts)
    out = _cr.zeros(rows, cols, dtype=d)
    r = c = 0
    for t in ts:
        out[r : r + t.shape[0], c : c + t.shape[1]] = t
        r += t.shape[0]
        c += t.shape[1]
    return out


def _window(name, n, periodic, fn, dtype):
    if n == 0:
        return _cr.zeros(0, dtype=dtype or default_float())
    if n == 1:
        return _cr.ones(1, dtype=dtype or default_float())
    m = n if periodic else n - 1
    return _cr.tensor([fn(i, m) for i in range(n)], dtype=dtype or default_float())


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("hann_window", window_length, periodic, lambda i, m: 0.5 - 0.5 * math.cos(2 * math.pi * i / m), dtype)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("hamming_window", window_length, periodic, lambda i, m: alpha - beta * math.cos(2 * math.pi * i / m), dtype)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("blackman_window", window_length, periodic,
                   lambda i, m: 0.42 - 0.5 * math.cos(2 * math.pi * i / m) + 0.08 * math.cos(4 * math.pi * i / m), dtype)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("bartlett_window", window_length, periodic, lambda i, m: 1 - abs(2 * i / m - 1), dtype)


def mode(input, dim=-1, keepdim=False):
    d = norm_dim(dim, input.dim())
    x = _sh.movedim(input, d, -1)
    rows = x.reshape(-1, x.shape[-1]).tolist()
    vals, idxs = [], []
    for row in rows:
        counts = {}
        for v in row:
            counts[v] = counts.get(v, 0) + 1
        best = max(counts.values())
        v = min(k for k, c in counts.items() if c == best)
        vals.append(v)
        idxs.append(max(i for i, y in enumerate(row) if y == v))
    shape = tuple(x.shape[:-1])
    vt = _cr.from_values(vals, shape, input.dtype)
    it = _cr.from_values(idxs, shape, i64)
    if keepdim:
        vt, it = vt.unsqueeze(d), it.unsqueeze(d)
    return _rd.return_types.mode(vt, it)


def nanmedian(input, dim=None, keepdim=False):
    if bool(_rd.any(_pw.isnan(input))):
        raise NotImplementedError("torch.nanmedian: inputs with NaN are not supported by wasmdeploy")
    return _rd.median(input, dim, keepdim) if dim is not None else _rd.median(input)


def renorm(input, p, dim, maxnorm):
    d = norm_dim(dim, input.dim())
    axes = [i for i in range(input.dim()) if i != d]
    n = _rd.norm(input, p, axes, True)
    factor = _pw.where(_pw.gt(n, maxnorm), _pw.div(maxnorm, _pw.add(n, 1e-7)), 1.0)
    return _pw.mul(input, factor)


def constant_pad_nd(input, pad, value=0):
    from .nn import pad as _pad

    return _pad(input, pad, "constant", value)


def std_unbiased(input):
    return _rd.std(input)
