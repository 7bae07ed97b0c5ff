"""Matrix products: matmul family, einsum, linear."""

from .. import _dtype as D
from .. import _graph as G
from .core import (
    broadcast_shapes, cast, compute_dtype, expand_value, fmt_shape, reshape_value, result_type,
    transpose_value, wrap,
)


def _mm_dtype(name, a, b):
    da, db = a._value.dtype, b._value.dtype
    if da is not db:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_tn_l(da)} != {_tn_l(db)} (torch.{name})")
    D.check_supported(da, name)
    if da is D.bool_:
        raise RuntimeError(f'"addmm_impl_cpu_" not implemented for \'Bool\'')
    return da


def _tn(d):
    from .core import dtype_name

    return dtype_name(d)


def _tn_l(d):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int"}.get(d.name, d.name)


def _matmul_value(a, b, d):
    """MatMul of Values a, b (ONNX numpy semantics) computed in a supported dtype."""
    cd = compute_dtype("MatMul", d)
    sa, sb = a.shape, b.shape
    # output shape
    if len(sa) == 1 and len(sb) == 1:
        out = ()
    elif len(sa) == 1:
        out = sb[:-2] + sb[-1:]
    elif len(sb) == 1:
        out = sa[:-1]
    else:
        batch = broadcast_shapes(sa[:-2], sb[:-2])
        out = batch + (sa[-2], sb[-1])
    r = G.record1("MatMul", [cast(a, cd), cast(b, cd)], out, cd)
    return cast(r, d)


def matmul(input, other, *, out=None):
    a, b = input._value, other._value
    d = _mm_dtype("matmul", input, other)
    sa, sb = a.shape, b.shape
    if len(sa) == 0 or len(sb) == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and {len(sb)}D")
    if len(sa) == 1 and len(sb) == 1:
        if sa[0] != sb[0]:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same number of elements, but got {sa[0]} and {sb[0]} elements respectively"
            )
    elif len(sa) == 1:
        if sa[0] != sb[-2]:
            raise RuntimeError(f"size mismatch, got {sa[0]}, {sb[-2]}x{sb[-1]},{sa[0]}" if len(sb) == 2 else
                               f"mat1 and mat2 shapes cannot be multiplied (1x{sa[0]} and {sb[-2]}x{sb[-1]})")
    elif len(sb) == 1:
        if sa[-1] != sb[0]:
            raise RuntimeError(f"size mismatch, got {sa[-2]}, {sa[-2]}x{sa[-1]},{sb[0]}")
    else:
        if sa[-1] != sb[-2]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa[-2]}x{sa[-1]} and {sb[-2]}x{sb[-1]})" if len(sa) == 2 and len(sb) == 2 else
                               f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0] if len(sa) > 2 else 1}, {sa[-1]}] but got: [{sb[0] if len(sb) > 2 else 1}, {sb[-2]}]. (torch.matmul with shapes {fmt_shape(sa)} and {fmt_shape(sb)})")
        try:
            broadcast_shapes(sa[:-2], sb[:-2])
        except RuntimeError as e:
            raise RuntimeError(f"{e} (torch.matmul with shapes {fmt_shape(sa)} and {fmt_shape(sb)})") from None
    return wrap(_matmul_value(a, b, d))


def mm(input, mat2, *, out=None):
    a, b = input._value, mat2._value
    if len(a.shape) != 2:
        raise RuntimeError("self must be a matrix")
    if len(b.shape) != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    d = _mm_dtype("mm", input, mat2)
    return wrap(_matmul_value(a, b, d))


def bmm(input, mat2, *, out=None):
    a, b = input._value, mat2._value
    if len(a.shape) != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if len(b.shape) != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}]."
        )
    d = _mm_dtype("bmm", input, mat2)
    return wrap(_matmul_value(a, b, d))


def _scaled_add(input, prod, beta, alpha):
    from .pointwise import add, mul

    if alpha != 1:
        prod = mul(prod, alpha)
    if beta == 0:
        return _expand_add(prod, input)
    if beta != 1:
        input = mul(input, beta)
    return add(input, prod)


def _expand_add(prod, input):
    # beta == 0: input is ignored (NaNs in it do not propagate), only its broadcast shape matters
    shape = broadcast_shapes(tuple(prod.shape), tuple(input.shape))
    return prod.expand(shape) if tuple(prod.shape) != shape else prod


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    return _scaled_add(input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _scaled_add(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _scaled_add(input, bmm(batch1, batch2).sum(0), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    return _scaled_add(input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    return _scaled_add(input, outer(vec1, vec2), beta, alpha)


def mv(input, vec, *, out=None):
    a, b = input._value, vec._value
    if len(a.shape) != 2 or len(b.shape) != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {len(a.shape)}, {len(b.shape)}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"size mismatch, got {a.shape[0]}, {a.shape[0]}x{a.shape[1]},{b.shape[0]}")
    d = _mm_dtype("mv", input, vec)
    return wrap(_matmul_value(a, b, d))


def dot(input, other, *, out=None):
    a, b = input._value, other._value
    if len(a.shape) != 1 or len(b.shape) != 1:
        raise RuntimeError(f"1D tensors expected, but got {len(a.shape)}D and {len(b.shape)}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively"
        )
    if a.dtype is not b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_tn(a.dtype)} and {_tn(b.dtype)}")
    return wrap(_matmul_value(a, b, a.dtype))


inner_ = dot
vdot = dot


def inner(input, other):
    if input.dim() == 0 or other.dim() == 0:
        return input * other
    return matmul(input, other.transpose(-1, -2) if other.dim() > 1 else other)


def outer(input, vec2):
    a, b = input._value, vec2._value
    d = result_type(input, vec2)
    cd = compute_dtype("Mul", d)
    x = reshape_value(cast(a, cd), (a.shape[0], 1))
    y = reshape_value(cast(b, cd), (1, b.shape[0]))
    return wrap(cast(G.record1("Mul", [x, y], (a.shape[0], b.shape[0]), cd), d))


ger = outer


def _parse_einsum(eq, shapes):
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the equation" if len(shapes) > len(terms) else "einsum(): fewer operands were provided than specified in the equation")
    sizes = {}
    ell_shape = ()
    for term, shape in zip(terms, shapes):
        if "..." in term:
            pre, post = term.split("...")
            n_ell = len(shape) - len(pre) - len(post)
            if n_ell < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(pre) + len(post)}) is more than the number of dimensions ({len(shape)}) for operand")
            ell_shape = broadcast_shapes(ell_shape, tuple(shape[len(pre) : len(pre) + n_ell]))
            labels = list(pre) + list(post)
            dims = list(shape[: len(pre)]) + list(shape[len(pre) + n_ell :])
        else:
            if len(term) != len(shape):
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({len(term)}) does not match the number of dimensions ({len(shape)}) for operand {shapes.index(shape)} and no ellipsis was given"
                )
            labels, dims = list(term), list(shape)
        for l, s in zip(labels, dims):
            if l in sizes and sizes[l] != s:
                if sizes[l] == 1:
                    sizes[l] = s
                elif s != 1:
                    raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped): subscript {l} has size {sizes[l]} and {s}")
            else:
                sizes.setdefault(l, s)
    if rhs is None:
        counts = {}
        for term in terms:
            for c in term.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        rhs = ("..." if any("..." in t for t in terms) else "") + "".join(sorted(c for c, n in counts.items() if n == 1))
    out = []
    if "..." in rhs:
        pre, post = rhs.split("...")
        out = [sizes[c] for c in pre] + list(ell_shape) + [sizes[c] for c in post]
    else:
        out = [sizes[c] for c in rhs]
    return lhs + "->" + rhs, tuple(out)


def _explicit_ellipses(eq, vals):
    """The equation without "...": every ellipsis spelled out as letters the equation does not use,
    each operand first given the same number of ellipsis dims (leading 1s, as broadcasting reads
    them). ONNX Runtime's Einsum segfaults when ellipses cover different ranks, and refuses an
    ellipsis that the output drops (torch sums over it)."""
    lhs, rhs = eq.split("->")
    terms = lhs.split(",")
    if "..." not in lhs:
        return eq, vals
    ranks = [len(v.shape) - len(t.replace("...", "")) for t, v in zip(terms, vals) if "..." in t]
    most = max(ranks)
    free = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq][:most]
    if len(free) < most:
        raise RuntimeError("einsum(): too many dimensions covered by the ellipsis")
    out_terms, out_vals = [], []
    for t, v in zip(terms, vals):
        if "..." in t:
            pre = len(t.split("...")[0])
            n = len(v.shape) - len(t.replace("...", ""))
            if n < most:
                v = reshape_value(v, v.shape[:pre] + (1,) * (most - n) + v.shape[pre:])
            t = t.replace("...", "".join(free))
        out_terms.append(t)
        out_vals.append(v)
    # A letter of size 1 in one operand and n in another broadcasts in torch; ONNX's shape
    # inference does not, so such operands are expanded to the full size first.
    size = {}
    for t, v in zip(out_terms, out_vals):
        for c, d in zip(t, v.shape):
            if d != 1:
                size[c] = d  # _parse_einsum checked the sizes agree
            else:
                size.setdefault(c, 1)
    out_vals = [expand_value(v, tuple(size[c] for c in t)) for t, v in zip(out_terms, out_vals)]
    return ",".join(out_terms) + "->" + rhs.replace("...", "".join(free)), out_vals


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    vals = [o._value for o in operands]
    eq, out_shape = _parse_einsum(equation, [v.shape for v in vals])
    eq, vals = _explicit_ellipses(eq, vals)
    d = vals[0].dtype
    for v in vals[1:]:
        if v.dtype is not d:
            d = D.promote_types(d, v.dtype)
    cd = compute_dtype("Einsum", d)
    r = G.record1("Einsum", [cast(v, cd) for v in vals], out_shape, cd, {"equation": eq})
    return wrap(cast(r, d))


def linear(input, weight, bias=None):
    x, w = input._value, weight._value
    if len(w.shape) == 1:
        r = matmul(input, weight)
        return r if bias is None else r + bias
    if x.shape[-1] != w.shape[1] if x.shape else True:
        if not x.shape:
            raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
        lead = x.shape[:-1]
        rows = 1
        for s in lead:
            rows *= s
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} and {w.shape[1]}x{w.shape[0]})")
    if x.dtype is not w.dtype:
        raise RuntimeError(f"expected scalar type {_tn(x.dtype)} but found {_tn(w.dtype)} (torch.nn.functional.linear)")
    d = x.dtype
    out_shape = x.shape[:-1] + (w.shape[0],)
    if len(x.shape) == 2 and d in (D.float32, D.float64):
        ins = [x, w]
        if bias is not None:
            b = cast(bias._value, d)
            try:
                bs = broadcast_shapes(b.shape, out_shape)
            except RuntimeError:
                bs = None
            if bs == out_shape:
                ins.append(b)
            else:
                bias_t = bias
                r = wrap(G.record1("Gemm", [x, w], out_shape, d, {"transB": 1}))
                return r + bias_t
        return wrap(G.record1("Gemm", ins, out_shape, d, {"transB": 1}))
    cd = compute_dtype("MatMul", d)
    wt = transpose_value(cast(w, cd), [1, 0])
    r = G.record1("MatMul", [cast(x, cd), wt], out_shape, cd)
    if bias is not None:
        b = cast(bias._value, cd)
        r = G.record1("Add", [r, b], broadcast_shapes(out_shape, b.shape), cd)
    return wrap(cast(r, d))


def bilinear(input1, input2, weight, bias=None):
    # y = x1^T A x2 + b, weight [out, in1, in2]
    r = einsum("...i,oij,...j->...o", input1, weight, input2)
    return r if bias is None else r + bias


def tensordot(a, b, dims=2):
    if isinstance(dims, int):
        da = list(range(a.dim() - dims, a.dim()))
        db = list(range(dims))
    else:
        da, db = dims
        if isinstance(da, int):
            da, db = [da], [db]
        da = [d % a.dim() for d in da]
        db = [d % b.dim() for d in db]
    letters = "abcdefghijklmnopqrstuvwxyz"
    la = list(letters[: a.dim()])
    lb = list(letters[a.dim() : a.dim() + b.dim()])
    for x, y in zip(da, db):
        lb[y] = la[x]
    out = [c for i, c in enumerate(la) if i not in da] + [c for i, c in enumerate(lb) if i not in db]
    return einsum("".join(la) + "," + "".join(lb) + "->" + "".join(out), a, b)


def cross(input, other, dim=None):
    if dim is None:
        dim = next(i for i, s in enumerate(input.shape) if s == 3)
    a0, a1, a2 = input.unbind(dim)
    b0, b1, b2 = other.unbind(dim)
    from .shape import stack

    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim)


def chain_matmul(*matrices):
    r = matrices[0]
    for m in matrices[1:]:
        r = mm(r, m)
    return r


def multi_dot(tensors):
    r = tensors[0]
    for m in tensors[1:]:
        r = matmul(r, m)
    return r


def trace(input):
    return input.diagonal().sum()
