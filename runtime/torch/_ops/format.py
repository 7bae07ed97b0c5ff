"""repr(tensor), close to PyTorch's default print options."""

import math

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


def _float_fmt(vals):
    finite = [abs(v) for v in vals if math.isfinite(v)]
    if not finite:
        return lambda v: _special(v) or ""
    int_mode = all(float(v).is_integer() for v in finite)
    mx, nz = max(finite), [x for x in finite if x != 0]
    mn = min(nz) if nz else 0.0
    sci = False
    if int_mode:
        if mx > 1e8:
            sci = True
    elif nz and (mx / mn > 1000.0 or mx > 1e8 or mn < 1e-4):
        sci = True
    if sci:
        return lambda v: _special(v) or f"{v:.{PRECISION}e}"
    if int_mode:
        return lambda v: _special(v) or f"{v:.0f}."
    return lambda v: _special(v) or f"{v:.{PRECISION}f}"


def _special(v):
    if v != v:
        return "nan"
    if v == math.inf:
        return "inf"
    if v == -math.inf:
        return "-inf"
    return None


def _summarize(shape, nested, summarize):
    return nested


def format_tensor(t):
    from .. import _dtype as D
    from .core import default_float

    shape = tuple(t.shape)
    d = t.dtype
    numel = math.prod(shape)
    summarize = numel > THRESHOLD
    data = t.tolist()
    flat = []

    def collect(x, depth):
        if depth == len(shape):
            flat.append(x)
            return
        items = x
        if summarize and len(items) > 2 * EDGEITEMS:
            items = items[:EDGEITEMS] + items[-EDGEITEMS:]
        for y in items:
            collect(y, depth + 1)

    collect(data, 0)
    if d is D.bool_:
        fmt = lambda v: "True" if v else "False"
    elif d.is_floating_point:
        fmt = _float_fmt(flat)
    else:
        fmt = str
    strs = [fmt(v) for v in flat]
    width = max((len(s) for s in strs), default=0)

    def render(x, depth, indent):
        if depth == len(shape):
            return fmt(x).rjust(width)
        items = x
        elided = summarize and len(items) > 2 * EDGEITEMS
        if depth == len(shape) - 1:
            parts = [fmt(v).rjust(width) for v in (items[:EDGEITEMS] if elided else items)]
            if elided:
                parts += ["..."] + [fmt(v).rjust(width) for v in items[-EDGEITEMS:]]
            # wrap long rows
            per_line = max(1, (LINEWIDTH - indent) // (width + 2))
            lines = [", ".join(parts[i : i + per_line]) for i in range(0, len(parts), per_line)]
            return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
        sub = [render(y, depth + 1, indent + 1) for y in (items[:EDGEITEMS] if elided else items)]
        if elided:
            sub += ["..."] + [render(y, depth + 1, indent + 1) for y in items[-EDGEITEMS:]]
        sep = "," + "\n" * (len(shape) - depth - 1) + " " * (indent + 1)
        return "[" + sep.join(sub) + "]"

    prefix = "tensor("
    if numel == 0 and shape != ():
        body = "[]"
    elif shape == ():
        body = fmt(data)
    else:
        body = render(data, 0, len(prefix))
    suffix = []
    if numel == 0 and len(shape) > 1:
        suffix.append(f"size={tuple(shape)}")
    if d not in (D.int64, D.bool_) and d is not default_float():
        suffix.append(f"dtype=torch.{d.name}")
    elif d is D.bool_ or d is D.int64 or d is default_float():
        pass
    if getattr(t, "requires_grad", False):
        suffix.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffix) + ")"
