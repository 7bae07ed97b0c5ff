"""Shape and layout ops. Ops that are views in PyTorch return tensors that remember their base,
so in-place ops on them write through to the base (see Tensor._assign)."""

from weakref import ref as _weakref

from .. import _graph as G
from .core import (
    b8, cast, compute_dtype, concat_values, expand_value, fmt_shape, i64, is_tensor, norm_dim, norm_dims,
    numel, reshape_value, slice_value, squeeze_value, transpose_value, unsqueeze_value, wrap,
)


def _contig(shape):
    strides, st = [], 1
    for d in reversed(shape):
        strides.append(st)
        st *= max(d, 1)
    return tuple(reversed(strides))


def layout_of(t):
    """(strides, storage offset) of t as PyTorch would have them: a view's from its base's, a
    tensor that is no view contiguous at 0."""
    lay = t.__dict__.get("_layout")
    return lay if lay is not None else (_contig(t.shape), 0)


def compute_stride(oldshape, oldstride, newshape):
    """ATen's computeStride: the strides of `newshape` viewing memory laid out as
    (oldshape, oldstride), or None when a view is impossible (reshape then copies)."""
    oldshape, oldstride, newshape = list(oldshape), list(oldstride), list(newshape)
    if not oldshape:
        return list(_contig(newshape))
    if numel(oldshape) == 0:
        return oldstride if oldshape == newshape else list(_contig(newshape))
    newstride = [0] * len(newshape)
    view_d = len(newshape) - 1
    chunk_base_stride = oldstride[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(oldshape) - 1, -1, -1):
        tensor_numel *= oldshape[tensor_d]
        if tensor_d == 0 or (oldshape[tensor_d - 1] != 1 and oldstride[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or newshape[view_d] == 1):
                newstride[view_d] = view_numel * chunk_base_stride
                view_numel *= newshape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = oldstride[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return newstride


def make_view(src, v, fn, alias=False, overlap=False, layout=None):
    """Tensor over Value v that is a view of `src`: `fn` replays the view on a tensor shaped
    like src; `alias` means "the same elements in the same order" (reshapes), so a write
    needs no index replay; `overlap` ("zero": expand, a zero stride; "overlap": unfold windows,
    as_strided) means some of its elements are one element of src, so in-place ops but fill
    raise. In-place ops on the view write through to src
    (and its own bases), and writes to src make the view stale; see Tensor._assign."""
    t = wrap(v)
    t._view = (src, fn, alias, overlap) if overlap else (src, fn, alias)
    if layout is not None:
        t._layout = (tuple(layout[0]), layout[1])
    elif "_layout" in src.__dict__:
        t._layout = src.__dict__["_layout"]
    refs = src.__dict__.get("_views")
    if refs is None:
        src.__dict__["_views"] = [_weakref(t)]
    else:
        refs.append(_weakref(t))
        if len(refs) > 64:
            src.__dict__["_views"] = [r for r in refs if r() is not None]
    return t


def _ints(args, name):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    out = []
    for a in args:
        if is_tensor(a):
            a = a.item()
        elif not isinstance(a, int):
            a = a.__index__()
        out.append(a)
    return out


def infer_shape(shape, n, name="view"):
    shape = list(shape)
    neg = [i for i, d in enumerate(shape) if d == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for d in shape:
        if d < -1:
            raise RuntimeError(f"invalid shape dimension {d}")
    known = 1
    for d in shape:
        if d != -1:
            known *= d
    if neg:
        if known == 0 or n % known != 0:
            raise RuntimeError(f"shape '{fmt_shape(shape)}' is invalid for input of size {n}")
        shape[neg[0]] = n // known
    elif known != n:
        raise RuntimeError(f"shape '{fmt_shape(shape)}' is invalid for input of size {n}")
    return tuple(shape)


def _reshape(input, shape, strict):
    v = input._value
    new = infer_shape(shape, v.numel())
    st, off = layout_of(input)
    new_st = compute_stride(v.shape, st, new)
    if new_st is None:
        if strict:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
                "two contiguous subspaces). Use .reshape(...) instead."
            )
        return wrap(reshape_value(v, new))  # not viewable: a copy, as PyTorch's reshape makes
    return make_view(input, reshape_value(v, new), lambda r: _reshape(r, new, strict), alias=True, layout=(new_st, off))


def reshape(input, *shape):
    return _reshape(input, _ints(shape, "reshape"), False)


def view(input, *shape):
    from .. import _dtype as D

    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        d = shape[0]
        if d is input.dtype:
            return input
        raise NotImplementedError("torch.Tensor.view(dtype): reinterpreting bytes is not supported by wasmdeploy")
    return _reshape(input, _ints(shape, "view"), True)


def view_as(input, other):
    return view(input, tuple(other.shape))


def reshape_as(input, other):
    return reshape(input, tuple(other.shape))


def flatten(input, start_dim=0, end_dim=-1):
    v = input._value
    nd = len(v.shape)
    if nd == 0:
        return reshape(input, 1)
    s = norm_dim(start_dim, nd)
    e = norm_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    new = v.shape[:s] + (numel(v.shape[s : e + 1]),) + v.shape[e + 1 :]
    return reshape(input, new)


def ravel(input):
    return reshape(input, -1)


def unflatten(input, dim, sizes):
    v = input._value
    d = norm_dim(dim, len(v.shape))
    sizes = list(sizes)
    if -1 in sizes:
        sizes = list(infer_shape(sizes, v.shape[d]))
    elif numel(sizes) != v.shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {fmt_shape(sizes)} don't multiply up to the size of dim {dim} ({v.shape[d]}) in the input tensor")
    new = v.shape[:d] + tuple(sizes) + v.shape[d + 1 :]
    return reshape(input, new)


def squeeze(input, dim=None):
    v = input._value
    if dim is None:
        axes = [i for i, s in enumerate(v.shape) if s == 1]
    else:
        dims = norm_dims(dim, len(v.shape)) if v.shape else []
        axes = [d for d in dims if v.shape[d] == 1]
    if not axes:
        return make_view(input, v, lambda r: r, alias=True)
    st, off = layout_of(input)
    return make_view(input, squeeze_value(v, axes), lambda r: squeeze(r, dim), alias=True,
                     layout=([x for i, x in enumerate(st) if i not in axes], off))


def unsqueeze(input, dim):
    v = input._value
    d = norm_dim(dim, len(v.shape) + 1)
    st, off = layout_of(input)
    new_st = list(st)
    new_st.insert(d, st[d] * v.shape[d] if d < len(st) else 1)
    return make_view(input, unsqueeze_value(v, [d]), lambda r: unsqueeze(r, dim), alias=True, layout=(new_st, off))


def permute(input, *dims):
    dims = _ints(dims, "permute")
    v = input._value
    nd = len(v.shape)
    if len(dims) != nd:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = {len(dims)}"
        )
    perm = [norm_dim(d, nd) for d in dims]
    if len(set(perm)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    st, off = layout_of(input)
    return make_view(input, transpose_value(v, perm), lambda r: permute(r, perm), layout=([st[p] for p in perm], off))


def transpose(input, dim0, dim1):
    v = input._value
    nd = len(v.shape)
    if nd == 0:
        return input
    a, b = norm_dim(dim0, nd), norm_dim(dim1, nd)
    perm = list(range(nd))
    perm[a], perm[b] = perm[b], perm[a]
    st, off = layout_of(input)
    return make_view(input, transpose_value(v, perm), lambda r: transpose(r, a, b), layout=([st[p] for p in perm], off))


swapaxes = swapdims = transpose


def t(input):
    nd = input.dim()
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    if nd < 2:
        return input
    return transpose(input, 0, 1)


def T(input):
    nd = input.dim()
    return permute(input, list(range(nd - 1, -1, -1)))


def mT(input):
    if input.dim() < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(input, -2, -1)


def movedim(input, source, destination):
    nd = input.dim()
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same number of dims as destination ({dst} dims)")
    src = [norm_dim(s, nd) for s in src]
    dst = [norm_dim(d, nd) for d in dst]
    perm = [-1] * nd
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter([i for i in range(nd) if i not in src])
    for i in range(nd):
        if perm[i] == -1:
            perm[i] = next(rest)
    return permute(input, perm)


moveaxis = movedim


def contiguous(input, memory_format=None):
    return input.contiguous()


def expand(input, *sizes):
    sizes = _ints(sizes, "expand")
    v = input._value
    nd = len(v.shape)
    if len(sizes) < nd:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{fmt_shape(v.shape)}}}, size={fmt_shape(sizes)}): the number of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({nd})"
        )
    off = len(sizes) - nd
    out = []
    for i, s in enumerate(sizes):
        if i < off:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, non-existing dimension {i}")
            out.append(s)
            continue
        cur = v.shape[i - off]
        if s == -1:
            out.append(cur)
        elif cur == 1 or cur == s:
            out.append(s)
        else:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at non-singleton dimension {i}.  Target sizes: {fmt_shape(sizes)}.  Tensor sizes: {fmt_shape(v.shape)}"
            )
    overlap = any(s != 1 for s in out[:off]) or any(v.shape[i] == 1 and out[off + i] != 1 for i in range(nd))
    st, soff = layout_of(input)
    new_st = [0] * off + [0 if v.shape[i] == 1 and out[off + i] != 1 else st[i] for i in range(nd)]
    return make_view(input, expand_value(v, out), lambda r: expand(r, out), overlap="zero" if overlap else False,
                     layout=(new_st, soff))


def expand_as(input, other):
    return expand(input, tuple(other.shape))


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    from .core import broadcast_shapes

    shape = broadcast_shapes(*[t._value.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


def repeat(input, *sizes):
    sizes = _ints(sizes, "repeat")
    v = input._value
    nd = len(v.shape)
    if len(sizes) < nd:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shape = (1,) * (len(sizes) - nd) + v.shape
    v = reshape_value(v, shape)
    out = tuple(a * b for a, b in zip(shape, sizes))
    if all(s == 1 for s in sizes):
        return wrap(v)
    return wrap(G.record1("Tile", [v, G.ints(sizes)], out, v.dtype))


def tile(input, *dims):
    dims = _ints(dims, "tile")
    nd = input.dim()
    if len(dims) < nd:
        dims = [1] * (nd - len(dims)) + list(dims)
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # torch.repeat_interleave(repeats)
        reps = input.tolist()
        from .creation import tensor

        out = []
        for i, r in enumerate(reps):
            out.extend([i] * r)
        return tensor(out, dtype=i64)
    if dim is None:
        input = reshape(input, -1)
        dim = 0
    v = input._value
    d = norm_dim(dim, len(v.shape))
    if is_tensor(repeats):
        if repeats.numel() == 1:
            repeats = int(repeats.item())
        else:
            reps = [int(x) for x in repeats.tolist()]
            idx = []
            for i, r in enumerate(reps):
                idx.extend([i] * r)
            from .creation import tensor
            from .index import index_select

            return index_select(input, d, tensor(idx, dtype=i64))
    r = int(repeats)
    shape = list(v.shape)
    u = unsqueeze_value(v, [d + 1])
    eshape = shape[: d + 1] + [r] + shape[d + 1 :]
    e = expand_value(u, eshape)
    shape[d] *= r
    return wrap(reshape_value(e, shape))


def split(input, split_size_or_sections, dim=0):
    v = input._value
    d = norm_dim(dim, len(v.shape))
    n = v.shape[d]
    if isinstance(split_size_or_sections, int) or is_tensor(split_size_or_sections):
        s = int(split_size_or_sections)
        if s <= 0 and n > 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s > 0 else [0]
    else:
        sizes = [int(x) for x in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension {d}), but got split_sizes={sizes}")
    out = []
    start = 0
    for s in sizes:
        out.append(narrow(input, d, start, s))
        start += s
    return tuple(out)


def split_with_sizes(input, split_sizes, dim=0):
    return split(input, list(split_sizes), dim)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    v = input._value
    d = norm_dim(dim, len(v.shape))
    n = v.shape[d]
    size = -(-n // chunks) if n else 0
    if size == 0:
        return tuple(narrow(input, d, 0, 0) for _ in range(min(chunks, 1) if n else chunks))
    return split(input, size, d)


def tensor_split(input, indices_or_sections, dim=0):
    v = input._value
    d = norm_dim(dim, len(v.shape))
    n = v.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        return split(input, sizes, d)
    idx = [int(i) for i in indices_or_sections]
    out, prev = [], 0
    for i in idx + [n]:
        i = max(prev, min(i, n))
        out.append(narrow(input, d, prev, i - prev))
        prev = i
    return tuple(out)


def unbind(input, dim=0):
    v = input._value
    d = norm_dim(dim, len(v.shape))
    return tuple(select(input, d, i) for i in range(v.shape[d]))


def narrow(input, dim, start, length):
    v = input._value
    d = norm_dim(dim, len(v.shape))
    if is_tensor(start):
        start = int(start.item())
    n = v.shape[d]
    if start < 0:
        start += n
    if start < 0 or start + length > n or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    st, off = layout_of(input)
    return make_view(input, slice_value(v, d, start, start + length), lambda r: narrow(r, d, start, length),
                     layout=(st, off + start * st[d]))


def select(input, dim, index):
    v = input._value
    nd = len(v.shape)
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, nd)
    if is_tensor(index):
        index = int(index.item())
    n = v.shape[d]
    if index < -n or index >= n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(v.shape)} at dimension {d}")
    if index < 0:
        index += n
    s = slice_value(v, d, index, index + 1)
    st, off = layout_of(input)
    return make_view(input, squeeze_value(s, [d]), lambda r: select(r, d, index),
                     layout=([x for i, x in enumerate(st) if i != d], off + index * st[d]))


def flip(input, *dims):
    dims = _ints(dims, "flip")
    v = input._value
    axes = norm_dims(dims, len(v.shape))
    if not axes:
        return wrap(v)
    n = len(axes)
    big = -(2**62)
    out = G.record1("Slice", [v, G.ints([-1] * n), G.ints([big] * n), G.ints(axes), G.ints([-1] * n)], v.shape, v.dtype)
    return wrap(out)


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


def roll(input, shifts, dims=None):
    if dims is None:
        flat = reshape(input, -1)
        return reshape(roll(flat, shifts, 0), tuple(input.shape))
    if isinstance(shifts, int):
        shifts = [shifts]
    if isinstance(dims, int):
        dims = [dims]
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    v = input._value
    for s, d in zip(shifts, dims):
        d = norm_dim(d, len(v.shape))
        n = v.shape[d]
        if n == 0:
            continue
        s %= n
        if s == 0:
            continue
        a = slice_value(v, d, n - s, n)
        b = slice_value(v, d, 0, n - s)
        v = concat_values([a, b], d)
    return wrap(v)


def rot90(input, k=1, dims=(0, 1)):
    k %= 4
    a, b = dims
    if k == 1:
        return transpose(flip(input, b), a, b)
    if k == 2:
        return flip(input, a, b)
    if k == 3:
        return flip(transpose(input, a, b), b)
    return input


def _seq(tensors, name):
    if is_tensor(tensors):
        return list(unbind(tensors, 0))
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"torch.{name}(): expected a non-empty list of Tensors")
    return tensors


def cat(tensors, dim=0, *, out=None):
    tensors = _seq(tensors, "cat")
    from .core import result_type

    rd = result_type(*tensors)
    # legacy: 1-D empty tensors are skipped
    ts = [t for t in tensors if not (t._value.shape == (0,))] or tensors[:1]
    ref = ts[0]._value
    nd = len(ref.shape)
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = norm_dim(dim, nd)
    vals = []
    for i, t in enumerate(ts):
        s = t._value.shape
        if len(s) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {len(s)}")
        for j in range(nd):
            if j != d and s[j] != ref.shape[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {ref.shape[j]} but got size {s[j]} for tensor number {i} in the list."
                )
        vals.append(cast(t._value, rd))
    return wrap(concat_values(vals, d))


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    tensors = _seq(tensors, "stack")
    ref = tensors[0]._value.shape
    for i, t in enumerate(tensors):
        if t._value.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {fmt_shape(ref)} at entry 0 and {fmt_shape(t._value.shape)} at entry {i}")
    d = norm_dim(dim, len(ref) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    ts = [reshape(t, (t.numel(), 1)) if t.dim() <= 1 else t for t in tensors]
    return cat(ts, 1)


def atleast_1d(t):
    return reshape(t, 1) if t.dim() == 0 else t


def atleast_2d(t):
    if t.dim() == 0:
        return reshape(t, 1, 1)
    if t.dim() == 1:
        return unsqueeze(t, 0)
    return t


def atleast_3d(t):
    if t.dim() == 0:
        return reshape(t, 1, 1, 1)
    if t.dim() == 1:
        return reshape(t, 1, t.shape[0], 1)
    if t.dim() == 2:
        return unsqueeze(t, 2)
    return t


def _trilu(input, diagonal, upper):
    v = input._value
    if len(v.shape) < 2:
        raise RuntimeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions")
    cd = compute_dtype("Trilu", v.dtype)
    out = G.record1("Trilu", [cast(v, cd), G.const(int(diagonal), i64)], v.shape, cd, {"upper": 1 if upper else 0})
    return wrap(cast(out, v.dtype))


def tril(input, diagonal=0):
    return _trilu(input, diagonal, False)


def triu(input, diagonal=0):
    return _trilu(input, diagonal, True)


def diagonal(input, offset=0, dim1=0, dim2=1):
    from .index import _diag_indices

    v = input._value
    nd = len(v.shape)
    a, b = norm_dim(dim1, nd), norm_dim(dim2, nd)
    rest = [i for i in range(nd) if i not in (a, b)]
    x = permute(input, rest + [a, b])
    n, m = v.shape[a], v.shape[b]
    rows, cols = _diag_indices(n, m, offset)
    k = len(rows)
    lead = [v.shape[i] for i in rest]
    flat = reshape(x, lead + [n * m])
    from .creation import tensor
    from .index import index_select

    if k == 0:
        out = G.record1("ConstantOfShape", [G.ints(lead + [0])], tuple(lead + [0]), v.dtype,
                        {"value": {"tensor": {"dtype": v.dtype.name, "shape": [1], "data": [False if v.dtype.name == "bool" else 0]}}})
    else:
        idx = tensor([r * m + c for r, c in zip(rows, cols)], dtype=i64)
        out = index_select(flat, len(lead), idx)._value
    st, off = layout_of(input)
    doff = off + (offset * st[b] if offset >= 0 else -offset * st[a]) if k else off
    return make_view(input, out, lambda r: diagonal(r, offset, dim1, dim2),
                     layout=([st[i] for i in rest] + [st[a] + st[b]], doff))


def diag(input, diagonal=0):
    v = input._value
    if len(v.shape) == 1:
        n = v.shape[0]
        size = n + abs(diagonal)
        from .creation import zeros
        from .index import _diag_indices

        rows, cols = _diag_indices(size, size, diagonal)
        base = zeros(size * size, dtype=v.dtype)
        from .creation import tensor

        idx = tensor([r * size + c for r, c in zip(rows, cols)], dtype=i64)
        out = G.record1("ScatterElements", [base._value, idx._value, v], (size * size,), v.dtype, {"axis": 0})
        return reshape(wrap(out), size, size)
    if len(v.shape) == 2:
        return wrap(diagonal_(input, diagonal)._value)  # a copy, as in PyTorch
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + str(len(v.shape)) + "D")


def diagonal_(input, offset):
    return diagonal(input, offset, 0, 1)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    raise NotImplementedError("torch.diag_embed is not supported by wasmdeploy")


def meshgrid(*tensors, indexing="ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    ts = [reshape(t, -1) for t in tensors]
    if indexing == "xy" and len(ts) >= 2:
        ts = [ts[1], ts[0]] + ts[2:]
        out = meshgrid(*ts, indexing="ij")
        return tuple([out[1], out[0]] + list(out[2:]))
    shape = [t.shape[0] for t in ts]
    out = []
    for i, t in enumerate(ts):
        s = [1] * len(ts)
        s[i] = shape[i]
        out.append(expand(reshape(t, s), shape))
    return tuple(out)


def unfold(input, dimension, size, step):
    """Tensor.unfold: sliding windows along `dimension`, window as the last dim."""
    v = input._value
    d = norm_dim(dimension, len(v.shape))
    n = v.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    count = (n - size) // step + 1
    from .creation import tensor
    from .index import index_select

    idx = tensor([i * step + j for i in range(count) for j in range(size)], dtype=i64)
    g = index_select(input, d, idx)
    shape = list(v.shape)
    new = shape[:d] + [count, size] + shape[d + 1 :]
    g = reshape(g, new)
    out = movedim(g, d + 1, -1)._value
    overlap = "overlap" if step < size and count > 1 else False
    st, off = layout_of(input)
    new_st = list(st)
    new_st[d] = st[d] * step
    new_st.append(st[d] if st else 1)
    return make_view(input, out, lambda r: unfold(r, dimension, size, step), overlap=overlap, layout=(new_st, off))


def pixel_shuffle(input, upscale_factor):
    r = upscale_factor
    s = list(input.shape)
    if len(s) < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {len(s)} dimension(s)")
    c, h, w = s[-3:]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    lead = s[:-3]
    x = reshape(input, lead + [c // (r * r), r, r, h, w])
    k = len(lead)
    x = permute(x, list(range(k)) + [k, k + 3, k + 1, k + 4, k + 2])
    return reshape(x, lead + [c // (r * r), h * r, w * r])


def pixel_unshuffle(input, downscale_factor):
    r = downscale_factor
    s = list(input.shape)
    c, h, w = s[-3:]
    lead = s[:-3]
    x = reshape(input, lead + [c, h // r, r, w // r, r])
    k = len(lead)
    x = permute(x, list(range(k)) + [k, k + 2, k + 4, k + 1, k + 3])
    return reshape(x, lead + [c * r * r, h // r, w // r])


def channel_shuffle(input, groups):
    s = list(input.shape)
    n, c = s[0], s[1]
    rest = s[2:]
    x = reshape(input, [n, groups, c // groups] + rest)
    x = transpose(x, 1, 2)
    return reshape(x, s)


def clone(input, *, memory_format=None):
    return wrap(input._value)


def as_strided(input, size, stride, storage_offset=None):
    """Elements of the contiguous input at `offset + sum(i_k * stride_k)`."""
    from .index import strided_value

    off = storage_offset if storage_offset is not None else 0
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    out = strided_value(reshape(input, -1)._value, size, stride, off)
    return make_view(input, out, lambda r: as_strided(r, size, stride, storage_offset), overlap=_strided_overlap(size, stride),
                     layout=(stride, off))


def _strided_overlap(size, stride):
    """"zero" if a zero stride repeats elements, "overlap" if positions repeat otherwise (or may:
    exact for up to 2**16 elements), else False."""
    if any(st == 0 and sz > 1 for sz, st in zip(size, stride)):
        return "zero"
    dims = sorted((abs(st), sz) for sz, st in zip(size, stride) if sz > 1)
    extent = 0
    for st, sz in dims:
        if st <= extent:
            break
        extent += (sz - 1) * st
    else:
        return False
    n = numel(size)
    if n > 1 << 16:
        return "overlap"
    pos = {0}
    for sz, st in zip(size, stride):
        pos = {p + i * st for p in pos for i in range(sz)}
    return "overlap" if len(pos) < n else False


def cartesian_prod(*tensors):
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)


def b8_dtype():
    return b8
