"""Indexing: __getitem__/__setitem__, gather/scatter, index_select, nonzero, masked_select."""

from .. import _dtype as D
from .. import _graph as G
from .core import (
    b8, broadcast_shapes, cast, fmt_shape, i64, is_tensor, norm_dim, numel, reshape_value, slice_value,
    squeeze_value, transpose_value, unsqueeze_value, wrap, expand_value,
)


def _diag_indices(n, m, offset):
    rows, cols = [], []
    for r in range(n):
        c = r + offset
        if 0 <= c < m:
            rows.append(r)
            cols.append(c)
    return rows, cols


def _to_index_tensor(x):
    from .creation import tensor

    if is_tensor(x):
        return x
    return tensor(x)


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool) or (hasattr(x, "__index__") and not isinstance(x, (bool, float)) and not is_tensor(x) and not isinstance(x, (list, tuple, slice)) and x is not None and x is not Ellipsis)


def _normalize_index(idx, nd):
    """-> list of items: ('none',), ('int', i), ('slice', s), ('tensor', t), ('mask', t)."""
    if not isinstance(idx, tuple):
        # a list of ints/tensors is one advanced index (a sequence of indices is a tuple in NumPy only when it holds slices)
        if isinstance(idx, list) and any(isinstance(e, (slice, type(Ellipsis))) or e is None or is_tensor(e) for e in idx):
            idx = tuple(idx)
        else:
            idx = (idx,)
    items = []
    consumed = 0
    ell = 0
    for x in idx:
        if x is None:
            items.append(("none",))
        elif x is Ellipsis:
            ell += 1
            if ell > 1:
                raise IndexError("an index can only have a single ellipsis ('...')")
            items.append(("ellipsis",))
        elif isinstance(x, slice):
            items.append(("slice", x))
            consumed += 1
        elif isinstance(x, bool):
            items.append(("bool", x))
        elif is_tensor(x) or isinstance(x, (list, tuple)):
            t = _to_index_tensor(x)
            d = t.dtype
            if d is b8 or d is D.uint8:
                if t.dim() == 0:
                    items.append(("bool", t))
                else:
                    items.append(("mask", t))
                    consumed += t.dim()
            elif d.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            else:
                items.append(("tensor", t))
                consumed += 1
        elif _is_int(x):
            items.append(("int", x.__index__()))
            consumed += 1
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got " + type(x).__name__ + ")"
            )
    if consumed > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    out = []
    for it in items:
        if it[0] == "ellipsis":
            out.extend([("slice", slice(None))] * (nd - consumed))
        else:
            out.append(it)
    return out


def _slice_bounds(s, n):
    step = 1 if s.step is None else s.step
    if is_tensor(step):
        step = int(step.item())
    if step <= 0:
        raise ValueError("step must be greater than zero")
    start, stop = s.start, s.stop
    if is_tensor(start):
        start = int(start.item())
    if is_tensor(stop):
        stop = int(stop.item())
    start, stop, _ = slice(start, stop, step).indices(n)
    if stop < start:
        stop = start
    return start, stop, step


def getitem(t, idx):
    v = t._value
    nd = len(v.shape)
    items = _normalize_index(idx, nd)
    cur = 0  # position in the current value
    adv = []  # (position, index tensor)
    is_view = True
    from .shape import layout_of

    st, off = layout_of(t)  # the view's strides and offset, as PyTorch's
    st = list(st)
    for it in items:
        kind = it[0]
        if kind == "none":
            st.insert(cur, st[cur] * v.shape[cur] if cur < len(st) else 1)
            v = unsqueeze_value(v, [cur])
            cur += 1
        elif kind == "int":
            n = v.shape[cur]
            i = it[1]
            if i < -n or i >= n:
                raise IndexError(f"index {i} is out of bounds for dimension {cur} with size {n}")
            if i < 0:
                i += n
            off += i * st[cur]
            del st[cur]
            v = squeeze_value(slice_value(v, cur, i, i + 1), [cur])
        elif kind == "slice":
            n = v.shape[cur]
            start, stop, step = _slice_bounds(it[1], n)
            off += start * st[cur] if stop > start else 0
            st[cur] *= step
            v = slice_value(v, cur, start, stop, step)
            cur += 1
        elif kind == "bool":
            b = it[1]
            if is_tensor(b):
                b = bool(b.item())
            st.insert(cur, st[cur] * v.shape[cur] if cur < len(st) else 1)
            v = unsqueeze_value(v, [cur])
            if not b:
                v = slice_value(v, cur, 0, 0)
                is_view = False
            cur += 1
        elif kind == "mask":
            m = it[1]
            ms = tuple(m.shape)
            k = len(ms)
            for j in range(k):
                if ms[j] != v.shape[cur + j]:
                    raise IndexError(
                        f"The shape of the mask {fmt_shape(ms)} at index {j} does not match the shape of the indexed tensor {fmt_shape(v.shape)} at index {cur + j}"
                    )
            cnt, pos = _true_positions(m)
            if cnt == 0:
                coords = [_empty((0,), i64)] * k
            else:
                coords = _unravel(pos, cnt, ms)
            for j in range(k):
                adv.append((cur + j, wrap(coords[j])))
            cur += k
        else:  # integer tensor
            adv.append((cur, it[1]))
            cur += 1
    if adv:
        return wrap(_advanced(v, adv))
    if not is_view:
        return wrap(v)
    # basic indexing is a view in torch
    from .shape import make_view

    return make_view(t, v, lambda r: getitem(r, idx), alias=False, layout=(st, off))


def _count_true(flat):
    """How many elements of the bool 1-D Value `flat` are true: one int read (a guard when a
    replay runs the call again), where a read of the mask itself would cost n bytes and make
    every different mask a new recording."""
    from .core import wrap as _wrap

    n = flat.shape[0]
    cnt = G.record1("ReduceSum", [cast(flat, i64), G.ints([0])], (), i64, {"keepdims": 0})
    return int(_wrap(cnt).item()) if n else 0


def _true_positions(m):
    """(count, int64 Value [count]): the flat positions, ascending, where the tensor m (bool or
    numeric; any shape) is nonzero. The count is read; the positions are computed in the graph:
    a stable partition of 0..n-1 (true positions first, in order) by CumSum and a
    ScatterElements whose indices are a permutation, cut to the count. Shapes stay static."""
    shape = tuple(m.shape)
    n = numel(shape)
    mv = m._value
    if mv.dtype is not b8:
        from .core import compute_dtype

        cd = compute_dtype("Equal", mv.dtype)
        mv = G.record1("Not", [G.record1("Equal", [cast(mv, cd), G.const(0, cd)], mv.shape, b8)], mv.shape, b8)
    flat = reshape_value(mv, (n,))
    cnt = _count_true(flat)
    if cnt == 0:
        return 0, None
    ar = G.record1("Range", [G.const(0, i64), G.const(n, i64), G.const(1, i64)], (n,), i64)
    if cnt == n:
        return n, ar
    cs = G.record1("CumSum", [cast(flat, i64), G.const(0, i64)], (n,), i64)
    first = G.record1("Sub", [cs, G.const(1, i64)], (n,), i64)  # slot of a true element
    rest = G.record1("Sub", [G.record1("Add", [ar, G.const(cnt, i64)], (n,), i64), cs], (n,), i64)  # of a false one
    target = G.record1("Where", [flat, first, rest], (n,), i64)
    perm = G.record1("ScatterElements", [ar, target, ar], (n,), i64, {"axis": 0})
    return cnt, slice_value(perm, 0, 0, cnt)


def _empty(shape, d):
    """An empty Value (some dim 0) of dtype d."""
    return G.record1("ConstantOfShape", [G.ints(shape)], tuple(shape), d,
                     {"value": {"tensor": {"dtype": d.name, "shape": [1], "data": [False if d is b8 else (0.0 if d.is_floating_point else 0)]}}})


def _unravel(pos, cnt, shape):
    """Per-dim int64 Values [cnt] of the flat positions `pos` in a tensor of `shape`."""
    out = []
    stride = numel(shape)
    for d in shape:
        stride //= d
        c = pos
        if stride != 1:
            c = G.record1("Div", [c, G.const(stride, i64)], (cnt,), i64)
        if out:
            c = G.record1("Mod", [c, G.const(d, i64)], (cnt,), i64, {"fmod": 0})
        out.append(c)
    return out


def _index_value(t, size):
    """int64 Value of index tensor t with negatives wrapped (size of the indexed dim)."""
    v = cast(t._value, i64)
    return v


def _advanced(v, adv):
    positions = [p for p, _ in adv]
    idxs = [_index_value(t, v.shape[p]) for p, t in adv]
    bshape = broadcast_shapes(*[x.shape for x in idxs]) if len(idxs) > 1 else idxs[0].shape
    if len(adv) == 1:
        p = positions[0]
        out_shape = v.shape[:p] + tuple(bshape) + v.shape[p + 1 :]
        return G.record1("Gather", [v, idxs[0]], out_shape, v.dtype, {"axis": p})
    nd = len(v.shape)
    rest = [i for i in range(nd) if i not in positions]
    perm = positions + rest
    x = transpose_value(v, perm)
    sizes = [v.shape[p] for p in positions]
    rest_shape = [v.shape[i] for i in rest]
    x = reshape_value(x, [numel(sizes)] + rest_shape)
    lin = None
    stride = 1
    for p, ix, n in reversed(list(zip(positions, idxs, sizes))):
        ix = expand_value(ix, bshape) if ix.shape != tuple(bshape) else ix
        # wrap negative indices: Python-style mod keeps in-range values unchanged
        ix = G.record1("Mod", [ix, G.const(n, i64)], bshape, i64, {"fmod": 0})
        term = ix if stride == 1 else G.record1("Mul", [ix, G.const(stride, i64)], bshape, i64)
        lin = term if lin is None else G.record1("Add", [lin, term], bshape, i64)
        stride *= n
    out = G.record1("Gather", [x, lin], tuple(bshape) + tuple(rest_shape), v.dtype, {"axis": 0})
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    if adjacent and positions[0] > 0:
        p1 = positions[0]
        nb = len(bshape)
        nr = len(rest_shape)
        perm2 = list(range(nb, nb + p1)) + list(range(nb)) + list(range(nb + p1, nb + nr))
        out = transpose_value(out, perm2)
    return out


def _flat_positions(t, idx):
    """int64 tensor of flat positions (into t) of the elements t[idx] selects, shaped like t[idx]."""
    from .creation import arange

    pos = arange(t.numel()).reshape(tuple(t.shape))
    return getitem(pos, idx)


def _value_for(value, d, shape, what="value"):
    if is_tensor(value):
        vv = cast(value._value, d)
        try:
            bs = broadcast_shapes(vv.shape, shape)
        except RuntimeError:
            bs = None
        if bs != tuple(shape):
            # torch allows leading 1s to be dropped from the value
            s = list(vv.shape)
            while s and s[0] == 1 and len(s) > len(shape):
                s.pop(0)
            try:
                if broadcast_shapes(tuple(s), shape) != tuple(shape):
                    raise RuntimeError
            except RuntimeError:
                raise RuntimeError(f"shape mismatch: value tensor of shape {fmt_shape(vv.shape)} cannot be broadcast to indexing result of shape {fmt_shape(shape)}") from None
            vv = reshape_value(vv, s)
        return expand_value(vv, shape)
    from .core import scalar

    if not d.is_floating_point and isinstance(value, float) and d is not b8:
        value = int(value)
    return expand_value(scalar(value, d), shape)


def _setitem_overlapping(t, idx, value):
    """t[idx] = value on a view whose elements alias each other (expand, overlapping windows):
    write only the selected elements, at their positions in the base, in order (the last write
    to an element wins, as in PyTorch's loop), then t is derived again from its base."""
    from .creation import arange

    parent, fn = t._view[0], t._view[1]
    pos = _flat_positions(t, idx)
    shape = tuple(pos.shape)
    n = numel(shape)
    upd = _value_for(value, t.dtype, shape)
    pv = parent._value
    total = numel(pv.shape)
    where = fn(arange(total).reshape(pv.shape))._value  # for each element of t, its position in the base
    bpos = G.record1("Gather", [reshape_value(where, (numel(where.shape),)), reshape_value(pos._value, (n,))], (n,), i64, {"axis": 0})
    out = G.record1("ScatterElements", [reshape_value(pv, (total,)), bpos, reshape_value(upd, (n,))], (total,), pv.dtype, {"axis": 0})
    parent._assign(reshape_value(out, pv.shape))


def setitem(t, idx, value):
    view = t.__dict__.get("_view")
    if view is not None and len(view) > 3 and view[3]:
        return _setitem_overlapping(t, idx, value)
    v = t._value
    d = v.dtype
    nd = len(v.shape)
    # x[mask] = scalar / broadcastable value: a Where, no data-dependent shape
    if is_tensor(idx) and (idx.dtype is b8 or idx.dtype is D.uint8) and idx.dim() > 0:
        ms = tuple(idx.shape)
        k = len(ms)
        if k <= nd and ms == v.shape[:k] and (not is_tensor(value) or value.dim() <= nd - k or value.numel() == 1):
            m = cast(idx._value, b8)
            if k < nd:
                m = reshape_value(m, ms + (1,) * (nd - k))
            if is_tensor(value):
                vv = cast(value._value, d)
                if vv.numel() == 1 and len(vv.shape) > nd - k:
                    vv = reshape_value(vv, ())
                try:
                    broadcast_shapes(vv.shape, v.shape[k:])
                except RuntimeError:
                    raise RuntimeError(f"shape mismatch: value tensor of shape {fmt_shape(vv.shape)} cannot be broadcast to indexing result of shape {fmt_shape(v.shape[k:])}") from None
            else:
                from .core import scalar

                val = value
                if not d.is_floating_point and isinstance(val, float) and d is not b8:
                    val = int(val)
                vv = scalar(val, d)
            from .core import compute_dtype

            cd = compute_dtype("Where", d)
            out = G.record1("Where", [m, cast(vv, cd), cast(v, cd)], v.shape, cd)
            t._assign(cast(out, d))
            return
    pos = _flat_positions(t, idx)
    shape = tuple(pos.shape)
    upd = _value_for(value, d, shape)
    n = numel(shape)
    total = numel(v.shape)
    flat = reshape_value(v, (total,))
    p = reshape_value(pos._value, (n,))
    u = reshape_value(upd, (n,))
    out = G.record1("ScatterElements", [flat, p, u], (total,), d, {"axis": 0})
    t._assign(reshape_value(out, v.shape))


# ----- gather / scatter family -----
def gather(input, dim, index, *, sparse_grad=False):
    v = input._value
    nd = len(v.shape)
    d = norm_dim(dim, nd)
    iv = cast(index._value, i64)
    if len(iv.shape) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for j in range(nd):
        if j != d and iv.shape[j] > v.shape[j]:
            raise RuntimeError(f"Size does not match at dimension {j} expected index {fmt_shape(iv.shape)} to be smaller than self {fmt_shape(v.shape)} apart from dimension {d}")
    x = v
    for j in range(nd):
        if j != d and iv.shape[j] < v.shape[j]:
            x = slice_value(x, j, 0, iv.shape[j])
    return wrap(G.record1("GatherElements", [x, iv], iv.shape, v.dtype, {"axis": d}))


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return take(input, indices)
    shape = broadcast_shapes(tuple(input.shape[:dim]) + (1,) + tuple(input.shape[dim + 1 :]) if dim >= 0 else tuple(input.shape), tuple(indices.shape))
    return gather(input, dim, indices)


def index_select(input, dim, index):
    v = input._value
    d = norm_dim(dim, len(v.shape))
    iv = cast(index._value, i64)
    if len(iv.shape) > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    out_shape = v.shape[:d] + (iv.shape[0] if iv.shape else 1,) + v.shape[d + 1 :]
    if not iv.shape:
        iv = reshape_value(iv, (1,))
    if not v.shape:
        return wrap(v)
    return wrap(G.record1("Gather", [v, iv], out_shape, v.dtype, {"axis": d}))


def take(input, index):
    flat = reshape_value(input._value, (input.numel(),))
    iv = cast(index._value, i64)
    return wrap(G.record1("Gather", [flat, iv], iv.shape, flat.dtype, {"axis": 0}))


def _scatter_value(v, d, iv, src, reduction=None):
    attrs = {"axis": d}
    if reduction:
        attrs["reduction"] = reduction
    from .core import compute_dtype

    if reduction in ("add", "mul"):
        cd = compute_dtype("Add", v.dtype)
        out = G.record1("ScatterElements", [cast(v, cd), iv, cast(src, cd)], v.shape, cd, attrs)
        return cast(out, v.dtype)
    return G.record1("ScatterElements", [v, iv, cast(src, v.dtype)], v.shape, v.dtype, attrs)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    v = input._value
    d = norm_dim(dim, len(v.shape))
    iv = cast(index._value, i64)
    if is_tensor(src):
        s = src._value
        for j in range(len(iv.shape)):
            if iv.shape[j] < s.shape[j]:
                s = slice_value(s, j, 0, iv.shape[j])
    else:
        val = src if src is not None else value
        from .core import scalar

        if not v.dtype.is_floating_point and isinstance(val, float):
            val = int(val)
        s = expand_value(scalar(val, v.dtype), iv.shape)
    red = {None: None, "add": "add", "multiply": "mul", "sum": "add", "prod": "mul"}.get(reduce, "?")
    if red == "?":
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    return wrap(_scatter_value(v, d, iv, s, red))


def scatter_add(input, dim, index, src):
    return scatter(input, dim, index, src, reduce="add")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce in ("sum", "prod") and include_self:
        return scatter(input, dim, index, src, reduce=reduce)
    raise NotImplementedError(f"torch.scatter_reduce: reduce={reduce!r} (include_self={include_self}) is not supported by wasmdeploy")


def _index_along(index_v, dim, shape):
    """Expand a 1-D index along `dim` to `shape` (for index_add / index_copy)."""
    nd = len(shape)
    s = [1] * nd
    s[dim] = index_v.shape[0]
    return expand_value(reshape_value(index_v, s), shape)


def index_add(input, dim, index, source, *, alpha=1):
    from .pointwise import mul

    v = input._value
    d = norm_dim(dim, len(v.shape))
    if alpha != 1:
        source = mul(source, alpha)
    src = source._value
    if len(src.shape) == 0:
        src = reshape_value(src, (1,))
    iv = _index_along(reshape_value(cast(index._value, i64), (index.numel(),)), d, src.shape)
    return wrap(_scatter_value(v, d, iv, src, "add"))


def index_copy(input, dim, index, source):
    v = input._value
    d = norm_dim(dim, len(v.shape))
    src = source._value
    iv = _index_along(reshape_value(cast(index._value, i64), (index.numel(),)), d, src.shape)
    return wrap(_scatter_value(v, d, iv, src))


def index_fill(input, dim, index, value):
    v = input._value
    d = norm_dim(dim, len(v.shape))
    n = index.numel()
    shape = list(v.shape)
    shape[d] = n
    iv = _index_along(reshape_value(cast(index._value, i64), (n,)), d, shape)
    from .core import scalar

    if is_tensor(value):
        s = expand_value(cast(value._value, v.dtype), shape)
    else:
        if not v.dtype.is_floating_point and isinstance(value, float):
            value = int(value)
        s = expand_value(scalar(value, v.dtype), shape)
    return wrap(_scatter_value(v, d, iv, s))


def index_put(input, indices, values, accumulate=False):
    out = input.clone()
    if accumulate:
        pos = _flat_positions(input, tuple(indices))
        shape = tuple(pos.shape)
        upd = _value_for(values, input.dtype, shape)
        n = numel(shape)
        v = input._value
        total = numel(v.shape)
        res = _scatter_value(reshape_value(v, (total,)), 0, reshape_value(pos._value, (n,)), reshape_value(upd, (n,)), "add")
        return wrap(reshape_value(res, v.shape))
    setitem(out, tuple(indices), values)
    return out


def masked_select(input, mask):
    shape = broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    x = expand_value(input._value, shape)
    m = expand_value(cast(mask._value, b8), shape)
    cnt, pos = _true_positions(wrap(m))
    flat = reshape_value(x, (numel(shape),))
    if cnt == 0:
        return wrap(_empty((0,), x.dtype))
    return wrap(G.record1("Gather", [flat, pos], (cnt,), x.dtype, {"axis": 0}))


def masked_scatter(input, mask, source):
    raise NotImplementedError("torch.masked_scatter is not supported by wasmdeploy")


def nonzero(input, *, as_tuple=False):
    shape = tuple(input.shape)
    if not shape:
        cnt, _ = _true_positions(input)
        if as_tuple:
            return (wrap(_empty((0,), i64) if cnt == 0 else G.const([0], i64)),)
        return wrap(_empty((cnt, 0), i64))
    cnt, pos = _true_positions(input)
    if cnt == 0:
        if as_tuple:
            return tuple(wrap(_empty((0,), i64)) for _ in shape)
        return wrap(_empty((0, len(shape)), i64))
    coords = _unravel(pos, cnt, shape)
    if as_tuple:
        return tuple(wrap(c) for c in coords)
    cols = [reshape_value(c, (cnt, 1)) for c in coords]
    return wrap(G.record1("Concat", cols, (cnt, len(shape)), i64, {"axis": 1}) if len(cols) > 1 else cols[0])


def argwhere(input):
    return nonzero(input)


def count_nonzero(input, dim=None):
    from .pointwise import ne

    return ne(input, 0).sum(dim)


def strided_value(flat, size, stride, offset):
    """Gather from a 1-D value at offset + sum(i_k * stride_k)."""
    n = numel(size)
    if n == 0:
        return G.record1("ConstantOfShape", [G.ints(size)], size, flat.dtype, {"value": {"tensor": {"dtype": flat.dtype.name, "shape": [1], "data": [0]}}})
    idx = None
    nd = len(size)
    for k, (s, st) in enumerate(zip(size, stride)):
        r = G.record1("Range", [G.const(0, i64), G.const(s, i64), G.const(1, i64)], (s,), i64)
        if st != 1:
            r = G.record1("Mul", [r, G.const(st, i64)], (s,), i64)
        shp = [1] * nd
        shp[k] = s
        r = reshape_value(r, shp)
        if idx is None:
            idx = r
        else:
            idx = G.record1("Add", [idx, r], broadcast_shapes(idx.shape, tuple(shp)), i64)
    if offset:
        idx = G.record1("Add", [idx, G.const(offset, i64)], idx.shape, i64)
    idx = expand_value(idx, size)
    return G.record1("Gather", [flat, idx], size, flat.dtype, {"axis": 0})
