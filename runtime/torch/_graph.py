"""Lazy recording of ONNX nodes, and materialization through the engine backend.

A `Value` is one tensor value: either concrete (an engine storage + element offset,
contiguous) or lazy (output `index` of a recorded `Node`). Tensors hold Values; Values are
immutable in meaning, so in-place tensor ops rebind a tensor to a new Value. Materializing a
lazy Value turns it concrete in place (and drops its node), so every lazy consumer recorded
later, or already recorded, sees it as a leaf.

See docs/tensor-layer.md for the GraphSpec format and the materialization points.
"""

import math
import os
import sys
from time import perf_counter as _perf

from . import _dtype

MAX_NODES = 4096
_eager = os.environ.get("WASMDEPLOY_EAGER", "") not in ("", "0", "false", "False")
_counter = 0  # nodes recorded in this interpreter (a clock for the MAX_NODES estimate)

# Statistics (tests, debugging). "reads" counts value reads by Python (item, tolist, bool...):
# a call that made any cannot be replayed from a recording (torch._replay).
stats = {"materializations": 0, "nodes_run": 0, "reads": 0}

# Per-hop timing (docs/architecture.md, "Call overhead"): a dict name -> seconds while the
# host measures (wasmdeploy_runtime.host.hops_start), else None.
hops = None


def hop(name, seconds):
    hops[name] = hops.get(name, 0.0) + seconds


# Why the current recording cannot be replayed, if something made it so (random numbers drawn
# in Python, ...); torch._replay resets it before a recording and reads it after.
taint = None


# torch._replay's recorder while it records a call (on_run / on_read), else None.
recorder = None


def note_taint(reason):
    global taint
    if taint is None:
        taint = reason


def set_eager(flag=True):
    """Materialize after every op (debugging; results must not change)."""
    global _eager
    _eager = bool(flag)


def is_eager():
    return _eager


# The ONNX ops this layer records: the host admits graphs of these ops only (the allow-list in
# src/engine/admission/ops.ts, which test/structure/onnx-ops.test.ts checks against this set).
# Recording any other op is a bug in the layer, caught here rather than as a refused graph.
ONNX_OPS = frozenset((
    "Abs", "Acos", "Acosh", "Add", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh",
    "AveragePool", "BatchNormalization", "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor",
    "Cast", "Ceil", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv", "ConvTranspose",
    "Cos", "Cosh", "CumSum", "Div", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand", "Floor",
    "Gather", "GatherElements", "Gemm", "GlobalAveragePool", "Greater", "GreaterOrEqual",
    "GridSample", "HardSigmoid", "HardSwish", "InstanceNormalization", "IsInf", "IsNaN", "LRN", "LSTM",
    "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual", "Log", "LogSoftmax", "MatMul", "Max",
    "MaxPool", "MaxRoiPool", "Min", "Mish", "Mod", "Mul", "Neg", "Not", "Or", "PRelu", "Pad", "Pow", "Range",
    "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
    "ReduceMin", "ReduceProd", "ReduceSum", "Relu", "Reshape", "Resize", "RoiAlign", "Round",
    "ScatterElements", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Slice", "Softmax",
    "Softplus", "Sqrt", "Squeeze", "Sub", "Tan", "Tanh", "Tile", "TopK", "Transpose", "Trilu",
    "Unsqueeze", "Where", "Xor",
))


class Node:
    __slots__ = ("op", "inputs", "attrs", "domain", "n_out", "gen", "base")

    def __init__(self, op, inputs, attrs, domain, n_out):
        global _counter
        if op not in ONNX_OPS or domain:
            raise NotImplementedError(f"the torch layer recorded ONNX op {op!r}{' in domain ' + domain if domain else ''}, which the engine does not admit")
        self.op = op
        self.inputs = inputs
        self.attrs = attrs
        self.domain = domain
        self.n_out = n_out
        _counter += 1
        self.gen = _counter
        base = _counter
        for v in inputs:
            if v is not None and v.node is not None:
                b = v.node.base
                if b < base:
                    base = b
        self.base = base


class Value:
    __slots__ = ("shape", "dtype", "node", "index", "storage", "offset", "__weakref__")

    def __init__(self, shape, dtype, node=None, index=0, storage=None, offset=0):
        self.shape = shape
        self.dtype = dtype
        self.node = node
        self.index = index
        self.storage = storage
        self.offset = offset

    @property
    def is_lazy(self):
        return self.node is not None

    def numel(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __repr__(self):
        what = f"{self.node.op}[{self.index}]" if self.node is not None else f"{self.storage!r}+{self.offset}"
        return f"Value({list(self.shape)}, {self.dtype.name}, {what})"


def concrete(storage, offset, shape, dtype):
    return Value(tuple(shape), dtype, storage=storage, offset=offset)


# ----- recording -----
def record(op, inputs, outs, attrs=None, domain=None):
    """Record one node. `inputs`: Values (or None for an omitted optional input);
    `outs`: list of (shape, dtype). Returns the output Values."""
    node = Node(op, inputs, attrs, domain, len(outs))
    return [Value(tuple(s), d, node, i) for i, (s, d) in enumerate(outs)]


def record1(op, inputs, shape, dtype, attrs=None, domain=None):
    node = Node(op, inputs, attrs, domain, 1)
    return Value(tuple(shape), dtype, node, 0)


AGELESS = 1 << 62  # base of cached constants: they never make a graph look old

_const_cache = {}
_CONST_CACHE_MAX = 4096
_CACHE_MAX_ELEMENTS = 16


def _finite_const(data, dtype, shape):
    """A Constant node; small ones are shared (cached) across recordings. A cached constant's
    node has gen 0 and an ageless base, so it never counts as an old part of a graph, and
    ops that hand one to the user as a tensor copy it first (see fresh())."""
    if len(data) <= _CACHE_MAX_ELEMENTS:
        key = (dtype.name, tuple(shape), tuple(data), tuple(type(x) for x in data))
        v = _const_cache.get(key)
        if v is not None and v.node is not None:
            return v
        if len(_const_cache) >= _CONST_CACHE_MAX:
            _const_cache.clear()
        node = Node.__new__(Node)
        node.op = "Constant"
        node.inputs = []
        node.attrs = {"value": {"tensor": {"dtype": dtype.name, "shape": list(shape), "data": data}}}
        node.domain = None
        node.n_out = 1
        node.gen = 0
        node.base = AGELESS
        v = Value(tuple(shape), dtype, node, 0)
        _const_cache[key] = v
        return v
    return record1("Constant", [], shape, dtype, {"value": {"tensor": {"dtype": dtype.name, "shape": list(shape), "data": data}}})


def fresh(v):
    """v, or a private copy of it if v is a shared (cached) constant."""
    n = v.node
    if n is not None and n.gen == 0:
        return record1("Constant", [], v.shape, v.dtype, n.attrs)
    return v


def const(data, dtype, shape=None):
    """A Constant node. `data`: a number (shape () unless given) or a flat list."""
    if not isinstance(data, (list, tuple)):
        data = [data]
        if shape is None:
            shape = ()
    else:
        data = list(data)
        if shape is None:
            shape = (len(data),)
    if dtype is _dtype.bool_:
        data = [bool(x) for x in data]
    elif dtype.is_floating_point:
        data = [float(x) for x in data]
        bad = [x for x in data if not math.isfinite(x)]
        if bad:
            return _nonfinite_const(data, dtype, shape)
    else:
        data = [int(x) for x in data]
    return _finite_const(data, dtype, shape)


def _nonfinite_const(data, dtype, shape):
    # JSON cannot carry inf/nan: build them in the graph (x / 0), with finite stand-ins elsewhere.
    work = _dtype.float32 if dtype is _dtype.float16 else dtype
    finite = [x if math.isfinite(x) else 0.0 for x in data]
    num = [(0.0 if math.isnan(x) else (1.0 if x > 0 else -1.0)) if not math.isfinite(x) else 1.0 for x in data]
    den = [0.0 if not math.isfinite(x) else 1.0 for x in data]
    mask = [not math.isfinite(x) for x in data]
    special = record1("Div", [_finite_const(num, work, shape), _finite_const(den, work, shape)], shape, work)
    out = record1("Where", [_finite_const(mask, _dtype.bool_, shape), special, _finite_const(finite, work, shape)], shape, work)
    if work is not dtype:
        out = record1("Cast", [out], shape, dtype, {"to": dtype.onnx})
    return out


def ints(values):
    """An int64 1-D constant (shape vectors, axes, starts...)."""
    values = [int(v) for v in values]
    return _finite_const(values, _dtype.int64, (len(values),))


# ----- materialization -----
_backend_mod = None


def _backend():
    global _backend_mod
    if _backend_mod is None:
        from . import _backend as b

        _backend_mod = b
    return _backend_mod.get()


def _as_value(x):
    v = getattr(x, "_value", None)
    return v if v is not None else x


def needs_cap(v):
    n = v.node
    return n is not None and _counter - n.base >= MAX_NODES


def build_spec(values, leaves=None):
    """GraphSpec for the lazy `values` (deduplicated). Returns (spec, feeds, out_values, names)
    where names maps each node to its output names. If `leaves` is a dict, it receives
    input name -> the leaf Value fed under that name (torch._replay re-feeds them).

    Node and Value hash by identity, so they key the walk's dicts directly (cheaper than id())."""
    outs = []
    seen = set()
    for v in values:
        if v.node is not None and v not in seen:
            seen.add(v)
            outs.append(v)
    # Post-order walk (iterative: graphs may be thousands of nodes deep).
    order = []
    state = {}
    state_get = state.get
    push_order = order.append
    for v in outs:
        if v.node in state:
            continue
        stack = [v.node]
        push = stack.append
        pop = stack.pop
        while stack:
            n = stack[-1]
            s = state_get(n)
            if s == 2:
                pop()
            elif s is None:
                state[n] = 1
                for inp in reversed(n.inputs):
                    if inp is not None:
                        m = inp.node
                        if m is not None and m not in state:
                            push(m)
            else:
                state[n] = 2
                push_order(n)
                pop()

    inputs, weights, nodes, feeds = [], [], [], {}
    leaf_names = {}  # Value / (storage id, offset, shape, dtype) -> name
    node_names = {}  # node -> [output names]
    const_names = {}  # constant key -> name
    counter = 0
    add_node = nodes.append

    for n in order:
        attrs = n.attrs
        op = n.op
        if op == "Constant":
            t = attrs["value"]["tensor"]
            data = t["data"]
            if len(data) <= 64:
                key = (t["dtype"], tuple(t["shape"]), tuple(data), tuple([type(x) for x in data]))
                name = const_names.get(key)
                if name is not None:
                    node_names[n] = [name]
                    continue
                name = f"v{counter}"
                counter += 1
                const_names[key] = name
                node_names[n] = [name]
                add_node({"op": "Constant", "inputs": [], "outputs": [name], "attrs": attrs})
                continue
        in_names = []
        add_in = in_names.append
        for v in n.inputs:
            if v is None:
                add_in("")
                continue
            m = v.node
            if m is not None:
                add_in(node_names[m][v.index])
                continue
            name = leaf_names.get(v)
            if name is None:
                key = (v.storage.id, v.offset, v.shape, v.dtype.name)
                name = leaf_names.get(key)
                if name is None:
                    if v.storage.stable:
                        name = f"w{len(weights)}"
                        weights.append({"name": name, "storage": v.storage.id, "dtype": v.dtype.name, "shape": list(v.shape), "offset": v.offset})
                    else:
                        name = f"i{len(inputs)}"
                        inputs.append({"name": name, "dtype": v.dtype.name, "shape": list(v.shape)})
                        feeds[name] = (v.storage, v.offset)
                        if leaves is not None:
                            leaves[name] = v
                    leaf_names[key] = name
                leaf_names[v] = name
            add_in(name)
        n_out = n.n_out
        if n_out == 1:
            out_names = [f"v{counter}"]
            counter += 1
        else:
            out_names = [f"v{counter + i}" for i in range(n_out)]
            counter += n_out
        node_names[n] = out_names
        rec = {"op": op, "inputs": in_names, "outputs": out_names}
        if attrs:
            rec["attrs"] = attrs
        if n.domain:
            rec["domain"] = n.domain
        add_node(rec)

    spec_outputs = []
    out_names_seen = set()
    final = []
    for v in outs:
        name = node_names[v.node][v.index]
        if name in out_names_seen:
            continue
        out_names_seen.add(name)
        spec_outputs.append({"name": name, "dtype": v.dtype.name, "shape": list(v.shape)})
        final.append(v)
    spec = {"inputs": inputs, "weights": weights, "nodes": nodes, "outputs": spec_outputs}
    return spec, feeds, final, node_names


def materialize(items, keep_shared=False):
    """Turn every lazy Tensor/Value in `items` concrete with one engine run. With keep_shared,
    also every lazy value of that graph that something outside it still holds (see
    shared_values)."""
    materialize_traced([_as_value(x) for x in items], keep_shared)


# References to a Value while shared_values() looks at it: its key in `uses`, the loop
# variable, and getrefcount's argument.
_BASE_REFS = 3


def shared_values(lazy):
    """The lazy values inside the graph of `lazy` (not those themselves, nor constants) that
    something besides that graph's own nodes references: a live Tensor, or a node recorded
    outside this graph (code that will run again on it). Reading a value mid-forward (an
    .item(), a mask's count, NMS) would otherwise leave them lazy, so every later run would
    compute the whole graph behind them again (a detector's backbone once per read). CPython's
    reference counts say it exactly: each use by a node of the graph is one reference."""
    targets = set(lazy)
    uses = {}
    seen = set()
    stack = [v.node for v in lazy]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        for v in n.inputs:
            if v is None:
                continue
            m = v.node
            if m is None or m.gen == 0 or m.op == "Constant":
                continue
            uses[v] = uses.get(v, 0) + 1
            if m not in seen:
                stack.append(m)
    del stack, seen
    out = []
    for v in uses:
        if v not in targets and sys.getrefcount(v) > uses[v] + _BASE_REFS:
            out.append(v)
    return out


def materialize_traced(values, keep_shared=False):
    """materialize() for Values, returning what torch._replay keeps of the run:
    (spec, leaves, out_index) where leaves maps input names to the leaf Values fed and
    out_index maps each Value that was lazy to its position in spec["outputs"].
    None when nothing was lazy."""
    lazy = [v for v in values if v.node is not None]
    if keep_shared and lazy:
        lazy += shared_values(lazy)
    for v in lazy:
        if v.node.gen == 0:  # a shared constant is turning concrete: stop sharing it
            for k, cv in list(_const_cache.items()):
                if cv is v:
                    del _const_cache[k]
    if not lazy:
        return None
    leaves = {}
    if hops is not None:
        t0 = _perf()
        spec, feeds, outs, node_names = build_spec(lazy, leaves)
        hop("build_spec", _perf() - t0)
    else:
        spec, feeds, outs, node_names = build_spec(lazy, leaves)
    storages = _backend().run(spec, feeds)
    stats["materializations"] += 1
    stats["nodes_run"] += len(spec["nodes"])
    by_name = {}
    position = {}
    for i, (v, s) in enumerate(zip(outs, storages)):
        name = node_names[v.node][v.index]
        by_name[name] = s
        position[name] = i
    out_index = {}
    for v in lazy:
        if v.node is None:
            continue
        name = node_names[v.node][v.index]
        out_index[v] = position[name]
        v.storage = by_name[name]
        v.offset = 0
        v.node = None
        v.index = 0
    if recorder is not None:
        recorder.on_run(spec, leaves, out_index)
    return spec, leaves, out_index


def read_bytes(v):
    """Raw little-endian bytes of a Value (materializing it first)."""
    stats["reads"] += 1
    if v.node is not None:
        materialize([v], keep_shared=True)
    n = v.numel()
    data = bytes(_backend().read(v.storage, v.dtype.name, v.offset, n)) if n else b""
    if recorder is not None:
        recorder.on_read(v, data)
    return data


def write(data_bytes, dtype, shape):
    """A concrete Value over a new transient storage holding `data_bytes`."""
    n = 1
    for d in shape:
        n *= d
    storage = _backend().write(data_bytes, dtype.name, n)
    return Value(tuple(shape), dtype, storage=storage, offset=0)


def after_op(v):
    """Called on every op result: eager mode and the node cap."""
    n = v.node
    if n is None:
        return v
    if _eager:
        materialize([v])
    elif _counter - n.base >= MAX_NODES:
        _cap(n)
    return v


def _cap(node):
    """The graph behind `node` may hold MAX_NODES nodes or more (the estimate counts every node
    recorded since its oldest lazy ancestor). Materialize its old part: every lazy value it
    reads that was recorded more than MAX_NODES/2 nodes ago, in one run. What stays lazy was
    recorded since, so it has fewer than MAX_NODES/2 nodes. This also heals estimates that a
    long-lived lazy value (a cached tensor, an old constant) inflates."""
    threshold = _counter - MAX_NODES // 2
    frontier = []
    seen_vals = set()
    order = []
    state = {}
    stack = [node]
    while stack:
        n = stack[-1]
        s = state.get(id(n))
        if s == 2:
            stack.pop()
        elif s is None:
            state[id(n)] = 1
            for inp in n.inputs:
                if inp is None or inp.node is None or inp.node.gen == 0:
                    continue
                if inp.node.gen < threshold:
                    if id(inp) not in seen_vals:
                        seen_vals.add(id(inp))
                        frontier.append(inp)
                elif id(inp.node) not in state:
                    stack.append(inp.node)
        else:
            state[id(n)] = 2
            order.append(n)
            stack.pop()
    if frontier:
        materialize(frontier)
    for n in order:  # post-order: inputs first
        base = n.gen
        for inp in n.inputs:
            if inp is not None and inp.node is not None and inp.node.base < base:
                base = inp.node.base
        n.base = base
    return bool(frontier)
