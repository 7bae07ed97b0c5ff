"""Record once, replay after: a served call that recorded its graph replays it on later calls.

The host calls `call(site, obj, fn, args, kwargs, package_dicts)` for every call of a replicated
object (a module's __call__, or a method). The first call at a given argument signature runs
`fn` as usual, records the graph, and keeps it (a trace) if nothing made it unsafe to replay.
Later calls whose guards pass feed the new inputs to the same graph: one engine run, no Python
op-by-op recording, no spec building or hashing.

Guards (docs/tensor-layer.md, "Replay" has the full contract):
- the argument signature: tensor shapes and dtypes, which tensor arguments share data, and the
  values of every non-tensor argument (int, float, str, bytes, bool, None, lists, tuples, dicts);
- a fingerprint of the Python state the call can see: the object's attribute tree (modules,
  their parameters, buffers, hooks, flags, plain attributes, containers, plain objects, reached
  through __dict__), and the globals of the package modules whose code ran (and of package
  modules they hold), including the classes defined there; tensors enter by identity, shape,
  dtype and, for package weights, storage; torch-layer state (default dtype, grad mode).
  The fingerprint is recomputed only when some other Python ran since the trace last checked
  it (any host operation other than a replay), so a hot loop of replays pays nothing for it.

Values Python reads during the call (.item(), bool(t), tolist, nonzero...) are guards as well:
each materialization during the call is a segment of the trace, the bytes read after it pick
the next segment, and a trace is a tree of the paths seen (see _Trace).

A recording is refused (the call still returns its normal, recorded result) when:
- it drew random numbers, or ran code of random/time/datetime/uuid/secrets/..., or package
  code called their C functions (sys.setprofile watches the recording);
- code of the package wrote a global (STORE_GLOBAL/DELETE_GLOBAL) or a nonlocal
  (STORE_DEREF/DELETE_DEREF of a free variable), or read a closure cell holding a mutable
  object or a tensor;
- the call changed the fingerprint (a Python attribute, counter, list append, a new buffer...);
- the result holds something other than tensors, None, bool, int, float, str, bytes, lists,
  tuples, dicts, dataclasses and NamedTuples (the last two are replayed as the dicts of their
  fields the wire sends);
- the state is too large or too deep to fingerprint (MAX_ITEMS, MAX_DEPTH).
In-place updates of tensors in the state (a step buffer, running statistics) are replayed:
their new values are outputs of the recorded graph and are rebound after each replay.

After GIVE_UP refusals in a row, or at once when a call computed no tensor (plain Python), a
call site stops trying (plain calls, no profiler).

Modes, per object (attribute `__wasmdeploy_replay__` on the object or its class):
"exact" (default), "shapes" (guards on the argument signature only, like a traced module:
Python state is not checked; value reads and randomness still refuse), "off".
"""

import array
import collections
import dis
import operator
from math import copysign as _copysign
import sys
import types

from . import _graph as G
from ._ops import core as _core

GIVE_UP = 3
MAX_TRACES = 16  # per call site, least recently used dropped: each new input shape makes one
MAX_ITEMS = 200_000
MAX_DEPTH = 12
MODES = ("exact", "shapes", "off")

stats = {"recorded": 0, "replayed": 0, "refused": 0, "guard_misses": 0, "value_misses": 0, "fingerprints": 0}
last_refusal = None  # why the last recording was not kept (tests, debugging)

plan = None  # JSON text of a host replay plan for the current operation's call (see _host_plan)
plans_wanted = True  # False while the host replays nothing itself (its hostReplay option)
_seq = 0  # host operations so far
_dirty = 0  # the last operation that may have run Python other than a replay
_prev_dirty = 0
_sites = {}  # host key -> _Site

_Tensor = None


def _tensor_cls():
    global _Tensor
    if _Tensor is None:
        from ._tensor import Tensor

        _Tensor = Tensor
    return _Tensor


class _Refuse(Exception):
    pass


# ----- host operations and dirtiness -----
def begin_op():
    """Every host operation starts here: until it turns out to be a replay, it may run any Python."""
    global _seq, _dirty, _prev_dirty, plan
    plan = None
    _seq += 1
    _prev_dirty = _dirty
    _dirty = _seq


def forget(prefix):
    """Drop the traces of every site whose key starts with `prefix` (package unloaded, pickle dropped)."""
    n = len(prefix)
    for k in [k for k in _sites if k[:n] == prefix]:
        del _sites[k]
    # The per-class and per-code caches hold the package's classes and code strongly, and through
    # them its modules: an unloaded package would stay in the heap. They refill on demand.
    _slots.clear()
    _code_kind.clear()


default_mode = "exact"


def set_default_mode(mode):
    """The mode of objects that do not set __wasmdeploy_replay__ (bench/hops.ts measures "off")."""
    global default_mode
    if mode not in MODES:
        raise ValueError(f"replay mode must be one of {MODES}, not {mode!r}")
    default_mode = mode


def mode_of(obj):
    m = getattr(obj, "__wasmdeploy_replay__", default_mode)
    if m not in MODES:
        raise ValueError(f"__wasmdeploy_replay__ must be one of {MODES}, not {m!r}")
    return m


class _Site:
    __slots__ = ("traces", "refusals", "disabled", "warm")

    def __init__(self):
        self.traces = {}  # signature -> _Trace
        self.refusals = 0
        self.disabled = False
        # Whether a plain call of this site recorded tensor ops. A site's calls run plain until
        # one does tensor work; only then are its calls recorded (under the sys.setprofile
        # watch), so pure-Python methods (a tokenizer, a status check) never pay for the watch
        # and never see a profiler installed (code may check sys.getprofile()).
        self.warm = False


# ----- argument signature -----
_PRIMS = frozenset((int, float, str, bytes, bool, type(None), complex))


def _signature(x, tensors, depth=0):
    t = type(x)
    if t in _PRIMS:
        return (t, x, _copysign(1.0, x)) if t is float else (t, x)
    if isinstance(x, _Tensor):
        v = x._value
        tensors.append(x)
        return (v.shape, v.dtype)
    if depth > 32:
        raise _Refuse("arguments nested too deeply")
    if t is list or t is tuple:
        return (t, tuple([_signature(e, tensors, depth + 1) for e in x]))
    if t is dict:
        return (t, tuple([(_signature(k, tensors, depth + 1), _signature(e, tensors, depth + 1)) for k, e in x.items()]))
    raise _Refuse(f"an argument of type {t.__name__}")


def _arg_signature(args, kwargs):
    tensors = []
    sig = _signature(args, tensors)
    if kwargs:
        sig = (sig, _signature(kwargs, tensors))
    # which tensor arguments share host data (the graph feeds each storage once)
    first = {}
    alias = []
    for i, t in enumerate(tensors):
        v = t._value
        if v.node is not None:
            raise _Refuse("a lazy tensor argument")
        alias.append(first.setdefault((v.storage.id, v.offset), i))
    return (sig, tuple(alias)), tensors


# ----- fingerprints of Python state -----
_IDENTITY = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType, types.CodeType,
             property, staticmethod, classmethod, types.MethodDescriptorType, types.WrapperDescriptorType,
             types.GetSetDescriptorType, types.MemberDescriptorType)
_SEEN = object()
_CONTAINERS = frozenset((dict, list, tuple, set, frozenset, collections.OrderedDict))
_grad = None


def _grad_state():
    global _grad
    if _grad is None:
        from . import _grad_state as g

        _grad = g
    return _grad
_OPAQUE = (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)


class _Fp:
    __slots__ = ("refs", "vals", "tensors")

    def __eq__(self, other):
        return (len(self.refs) == len(other.refs) and all(map(operator.is_, self.refs, other.refs))
                and self.vals == other.vals)


_slots = {}


def _slots_of(t):
    """The __slots__ names of a class and its bases (the state outside __dict__)."""
    names = _slots.get(t)
    if names is None:
        names = []
        for klass in t.__mro__:
            sl = klass.__dict__.get("__slots__", ())
            for slot in (sl,) if isinstance(sl, str) else sl:
                if isinstance(slot, str) and slot not in ("__dict__", "__weakref__"):
                    if slot.startswith("__") and not slot.endswith("__"):  # name-mangled
                        slot = f"_{klass.__name__.lstrip('_')}{slot}"
                    names.append(slot)
        names = _slots[t] = tuple(names)
    return names


def _fingerprint(obj, dicts):
    """The state `obj` and the module globals `dicts` hold, as identities (refs) and values."""
    refs, vals, tensors = [], [], []
    seen = {}
    Tensor = _Tensor
    add_ref = refs.append
    add_val = vals.append

    def walk(x, depth):
        t = type(x)
        if t in _PRIMS:
            add_ref(t)
            add_val(x)
            if t is float:
                add_val(_copysign(1.0, x))  # 0.0 == -0.0, but they give different results
            return
        if t in _CONTAINERS and not x:  # empty hook dicts, buffer sets...: nothing to see
            add_ref(t)
            add_val(0)
            return
        if t is types.FunctionType and not (x.__module__ or "").startswith("torch"):
            # A function of the package: what its defaults and closure cells hold (a
            # memo dict default, a counter in a cell) is state it can read and change.
            add_ref(x)
            i = id(x)
            if i in seen:
                return
            seen[i] = len(seen)
            for d in (x.__defaults__, x.__kwdefaults__):
                if d:
                    walk(d, depth + 1)
            for cell in x.__closure__ or ():
                try:
                    walk(cell.cell_contents, depth + 1)
                except ValueError:  # an empty cell
                    add_ref(_SEEN)
            return
        if isinstance(x, Tensor):
            add_ref(x)
            v = x._value
            add_val(v.shape)
            add_val(v.dtype.name)
            if v.node is not None:
                add_val("lazy")
            elif v.storage.stable:
                add_ref(v.storage)  # a weight: the spec embeds it by identity
            else:
                add_val("fed")
            if id(x) not in seen:
                seen[id(x)] = len(seen)
                tensors.append(x)
            return
        if isinstance(x, _IDENTITY):
            add_ref(x)
            return
        i = id(x)
        k = seen.get(i)
        if k is not None:
            add_ref(_SEEN)
            add_val(k)
            return
        seen[i] = len(seen)
        if depth > MAX_DEPTH:
            raise _Refuse("the state is nested too deeply to check")
        if len(refs) > MAX_ITEMS:
            raise _Refuse("the state is too large to check")
        add_ref(t)
        if isinstance(x, (list, tuple)):
            add_val(len(x))
            for e in x:
                walk(e, depth + 1)
        elif isinstance(x, dict):
            add_val(len(x))
            for key, e in x.items():
                if type(key) is str:
                    add_val(key)
                else:
                    walk(key, depth + 1)
                walk(e, depth + 1)
        elif isinstance(x, (set, frozenset)):
            add_val(frozenset(x))
        elif isinstance(x, type):
            # a class: its attributes (class-level counters, config), not inherited ones
            add_ref(x)
            for key, e in list(x.__dict__.items()):
                if not (key.startswith("__") and key.endswith("__")):
                    add_val(key)
                    walk(e, depth + 1)
        elif isinstance(x, _OPAQUE) or type(x).__module__ == "itertools" or hasattr(t, "__next__"):
            raise _Refuse(f"the state holds a {t.__name__}, whose changes cannot be seen")
        elif isinstance(x, (bytearray, array.array)):
            add_val(bytes(x))
        elif isinstance(x, collections.deque):
            add_val(len(x))
            for e in x:
                walk(e, depth + 1)
        else:
            add_ref(x)
            try:
                d = object.__getattribute__(x, "__dict__")
            except (AttributeError, TypeError):
                d = None
            if d is not None:
                add_val(len(d))
                for key, e in d.items():
                    add_val(key)
                    walk(e, depth + 1)
            for slot in _slots_of(t):
                add_val(slot)
                try:
                    walk(getattr(x, slot), depth + 1)
                except AttributeError:
                    add_val(_SEEN)

    try:
        _walk_roots(walk, obj, dicts, add_ref, add_val)
    finally:
        walk = None  # the closure refers to itself: break the cycle, free the walk's state now
    # torch-layer state a recording depends on
    grad = _grad_state()
    add_ref(_core._state["default"])
    add_val((grad["enabled"], grad["inference"], G.MAX_NODES))
    fp = _Fp()
    fp.refs, fp.vals, fp.tensors = refs, vals, tensors
    stats["fingerprints"] += 1
    return fp


def _walk_roots(walk, obj, dicts, add_ref, add_val):
    walk(obj, 0)
    for d in dicts:
        name = d.get("__name__")
        add_ref(_SEEN)
        add_val(name)
        for key, e in list(d.items()):
            if key.startswith("__") and key.endswith("__"):
                continue
            add_val(key)
            if isinstance(e, type) and getattr(e, "__module__", None) == name:
                walk(e, 1)  # a class defined here: its class attributes
            elif isinstance(e, types.ModuleType):
                add_ref(e)
            else:
                walk(e, 1)


# ----- watching a recording -----
_RUNTIME_PREFIXES = ()
# Modules whose Python code, or C functions, make a call nondeterministic or touch the outside.
_DENY_MODULES = frozenset("random secrets uuid time datetime _datetime tempfile socket _socket select "
                          "subprocess threading _thread posix nt os io _io _random".split())
_code_kind = {}  # code object -> "ours" | "user" | "other" | reason string (refuse)
_OURS, _USER, _OTHER = "ours", "user", "other"
_WRITES = frozenset(("STORE_GLOBAL", "DELETE_GLOBAL"))
_CELL_WRITES = frozenset(("STORE_DEREF", "DELETE_DEREF"))


def _runtime_prefixes():
    global _RUNTIME_PREFIXES
    if not _RUNTIME_PREFIXES:
        import os

        here = os.path.dirname(os.path.abspath(__file__))  # .../runtime/torch
        _RUNTIME_PREFIXES = (here + os.sep, os.path.join(os.path.dirname(here), "wasmdeploy_runtime") + os.sep)
    return _RUNTIME_PREFIXES


def _classify(code, g):
    fn = code.co_filename
    if fn.startswith(_runtime_prefixes()):
        return _OURS
    name = g.get("__name__") or ""
    top = name.rpartition(">.")[2].split(".")[0] if name.startswith("<torch_package_") else name.split(".")[0]
    if top in _DENY_MODULES and not g.get("__torch_package__"):
        return f"runs {name}.{code.co_name} (nondeterministic or outside state)"
    if not (g.get("__torch_package__") or fn.startswith("<registered")):
        return _OTHER
    free = code.co_freevars
    for ins in dis.get_instructions(code):
        if ins.opname in _WRITES:
            return f"writes the global {ins.argval!r} ({code.co_qualname})"
        if ins.opname in _CELL_WRITES and ins.argval in free:
            return f"writes the nonlocal {ins.argval!r} ({code.co_qualname})"
    return _USER


_SAFE_CELL = (types.FunctionType, types.BuiltinFunctionType, types.ModuleType, type, property, staticmethod, classmethod)


def _cell_ok(x, depth=0):
    t = type(x)
    if t in _PRIMS or isinstance(x, _SAFE_CELL):
        return True
    if t is tuple and depth < 4:
        return all(_cell_ok(e, depth + 1) for e in x)
    from . import _dtype

    return isinstance(x, _dtype.dtype)


class _Watch:
    """sys.setprofile hook for one recording: collects the globals of package code that ran and
    the first reason the recording cannot be replayed."""

    def __init__(self):
        self.reason = None
        self.globals = {}  # id -> globals dict of package code that ran

    def __call__(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            kind = _code_kind.get(code)
            if kind is None:
                if len(_code_kind) > 20000:
                    _code_kind.clear()
                kind = _code_kind[code] = _classify(code, frame.f_globals)
            if kind is _OURS or kind is _OTHER:
                return
            if kind is _USER:
                g = frame.f_globals
                self.globals[id(g)] = g
                if code.co_freevars and self.reason is None:
                    loc = frame.f_locals
                    for name in code.co_freevars:
                        if name in loc and not _cell_ok(loc[name]):
                            self.reason = f"reads the closure variable {name!r} ({code.co_qualname}), which may change"
                            break
            elif self.reason is None:
                self.reason = kind
        elif event == "c_call" and self.reason is None:
            code = frame.f_code
            kind = _code_kind.get(code)
            if kind is None:
                kind = _code_kind[code] = _classify(code, frame.f_globals)
            if kind is not _USER:  # our code, or library code (importlib's locks...): not the model's
                return
            m = getattr(arg, "__module__", None)
            if m in _DENY_MODULES or type(getattr(arg, "__self__", None)).__module__ in ("_random", "random"):
                self.reason = f"calls {m or '?'}.{getattr(arg, '__name__', '?')} (nondeterministic or outside state)"


# ----- results -----
def _template(x, tensors, depth=0):
    t = type(x)
    if t in _PRIMS:
        return x
    if isinstance(x, _Tensor):
        tensors.append(x)
        return _Slot(len(tensors) - 1)
    if depth > 32:
        raise _Refuse("result nested too deeply")
    if t is list or t is tuple:
        return (t, [_template(e, tensors, depth + 1) for e in x])
    if t is dict:
        for k in x:
            if type(k) not in _PRIMS:
                raise _Refuse(f"a result dict key of type {type(k).__name__}")
        return (dict, [(k, _template(e, tensors, depth + 1)) for k, e in x.items()])
    fields = _record_fields(x)
    if fields is not None:  # the wire sends it as a dict of its fields: so does a replay
        return (dict, [(k, _template(e, tensors, depth + 1)) for k, e in fields])
    if isinstance(x, tuple) and t.__module__ == "torch.return_types":
        return (tuple, [_template(e, tensors, depth + 1) for e in x])
    raise _Refuse(f"the result holds a {t.__name__} (a Python object, not a value)")


def _record_fields(x):
    """[(name, value)] of a dataclass instance or a NamedTuple (not torch.return_types), else
    None: what wasmdeploy_runtime.wire sends as a dict."""
    t = type(x)
    if isinstance(x, tuple):
        fields = getattr(t, "_fields", None)
        if fields is None or t.__module__ == "torch.return_types":
            return None
        return [(f, getattr(x, f)) for f in fields]
    if hasattr(t, "__dataclass_fields__") and not isinstance(x, type):
        import dataclasses

        return [(f.name, getattr(x, f.name)) for f in dataclasses.fields(x)]
    return None


class _Slot:
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i


def _fill(tpl, tensors):
    t = type(tpl)
    if t is _Slot:
        return tensors[tpl.i]
    if t is tuple:
        kind, items = tpl
        if kind is dict:
            return {k: _fill(e, tensors) for k, e in items}
        out = [_fill(e, tensors) for e in items]
        return out if kind is list else tuple(out)
    return tpl


# ----- traces -----
# A trace is a tree of recorded graph segments. A segment is one engine run the recording made:
# a materialization during the call (Python read a value, or the node cap) or the final one
# (outputs and updated state). When Python read tensor values after a segment, the node holds
# those reads as guards: a replay reads the same values again and continues with the child
# recorded for exactly those bytes; with no such child it gives up, and the call records
# (adding a branch). The last node also says how to build the result and which state tensors
# to rebind.
_ARG, _STATE, _CONST, _SEG = 0, 1, 2, 3
_MISS = object()
MAX_NODES_PER_TRACE = 64  # branches per signature before it stops growing the tree
MAX_MISSES = 3  # a signature whose reads rarely repeat stops replaying (plain calls)


class _Segment:
    __slots__ = ("prepared", "inputs", "outs")


class _Node:
    __slots__ = ("segment", "guards", "children", "final")

    def __init__(self, segment, guards):
        self.segment = segment  # _Segment or None
        self.guards = guards  # [(kind, ref, dtype name, numel)] read after the segment
        self.children = {}  # tuple of the bytes read -> _Node
        self.final = None  # (results, mutations, template) on the last node

    def same(self, other):
        """Whether two recordings made the same engine run and read the same values here."""
        a, b = self.segment, other.segment
        if (a is None) != (b is None) or (a is not None and _spec_id(a.prepared) != _spec_id(b.prepared)):
            return False
        return len(self.guards) == len(other.guards) and all(
            x[0] == y[0] and x[2:] == y[2:] and _same_ref(x[0], x[1], y[1]) for x, y in zip(self.guards, other.guards))


def _spec_id(prepared):
    return prepared[0] if type(prepared) is tuple else prepared  # the spec's digest (or the spec)


def _same_ref(kind, a, b):
    # state tensors and constants by identity (a Tensor's == is elementwise), indices by value
    return a is b if kind in (_STATE, _CONST) else a == b


class _Trace:
    __slots__ = ("fp", "dicts", "checked", "root", "nodes", "hits", "misses", "dead")

    def replay(self, arg_tensors):
        backend = G._backend()
        run_prepared = getattr(backend, "run_prepared", None)
        segs = []
        node = self.root
        while True:
            seg = node.segment
            if seg is None:
                segs.append(())
            else:
                feeds = {}
                for name, kind, ref in seg.inputs:
                    v = _value_of(kind, ref, segs, arg_tensors)
                    feeds[name] = (v.storage, v.offset)
                storages = run_prepared(seg.prepared, feeds) if run_prepared else backend.run(seg.prepared, feeds)
                G.stats["materializations"] += 1
                segs.append([G.concrete(st, 0, shape, dtype) for st, (shape, dtype) in zip(storages, seg.outs)])
            if node.final is not None:
                break
            key = tuple([_read(_value_of(kind, ref, segs, arg_tensors), dtype, numel, backend) for kind, ref, dtype, numel in node.guards])
            node = node.children.get(key)
            if node is None:
                return _MISS
        results, mutations, template = node.final
        for t, kind, ref in mutations:
            t._value = _value_of(kind, ref, segs, arg_tensors)
        Tensor = _Tensor
        return _fill(template, [Tensor._wrap(_value_of(kind, ref, segs, arg_tensors)) for kind, ref in results])


def _value_of(kind, ref, segs, arg_tensors):
    if kind == _SEG:
        return segs[ref[0]][ref[1]]
    if kind == _ARG:
        return arg_tensors[ref]._value
    if kind == _STATE:
        v = ref._value
        if v.node is not None:  # another call left it lazy: run that first
            G.materialize([v])
        return v
    return ref


def _read(v, dtype, numel, backend):
    return bytes(backend.read(v.storage, dtype, v.offset, numel)) if numel else b""


class _Recorder:
    """Set as torch._graph.recorder during a recording: collects each engine run as a segment
    and each value read as a guard of the segment before it."""

    def __init__(self, arg_of, state_of):
        self.arg_of = arg_of
        self.state_of = state_of
        self.seg_of = {}  # Value -> (segment index, output index)
        self.nodes = [[None, []]]  # per node: [_Segment or None, [(kind, ref, dtype, numel, bytes)]]
        prepare = getattr(G._backend(), "prepare", None)
        self.prepare = prepare if prepare else (lambda spec: spec)

    def classify(self, v):
        r = self.seg_of.get(v)
        if r is not None:
            return _SEG, r
        i = self.arg_of.get(v)
        if i is not None:
            return _ARG, i
        t = self.state_of.get(v)
        if t is not None:
            return _STATE, t
        return _CONST, v  # made from Python data during the call: the trace keeps it

    def on_run(self, spec, leaves, out_index):
        cur = self.nodes[-1]
        if cur[0] is not None or cur[1]:
            cur = [None, []]
            self.nodes.append(cur)
        idx = len(self.nodes) - 1
        seg = _Segment()
        seg.inputs = [(name, *self.classify(v)) for name, v in leaves.items()]
        seg.outs = [(tuple(o["shape"]), _dtype_of(o["dtype"])) for o in spec["outputs"]]
        seg.prepared = self.prepare(spec)
        cur[0] = seg
        for v, k in out_index.items():
            self.seg_of[v] = (idx, k)

    def on_read(self, v, data):
        kind, ref = self.classify(v)
        if kind != _CONST:  # a constant reads the same every time
            self.nodes[-1][1].append((kind, ref, v.dtype.name, v.numel(), bytes(data)))

    def chain(self, final):
        """The recorded path as linked _Nodes, and the keys between them."""
        if self.nodes[-1][1]:  # reads after the last run: the final node has no graph of its own
            self.nodes.append([None, []])
        out = [_Node(seg, [g[:4] for g in guards]) for seg, guards in self.nodes]
        keys = [tuple(g[4] for g in guards) for _, guards in self.nodes]
        for a, b, k in zip(out, out[1:], keys):
            a.children[k] = b
        out[-1].final = final
        return out, keys


def call(key, obj, fn, args, kwargs, package_dicts):
    """Run one call of a served object, replaying a recorded graph when the guards allow.
    `package_dicts()` returns the globals dicts of the object's package modules."""
    global _dirty
    _tensor_cls()
    site = _sites.get(key)
    if site is None:
        site = _sites[key] = _Site()
    mode = mode_of(obj)
    if site.disabled or mode == "off" or G._eager:
        return fn(*args, **kwargs)
    try:
        sig, arg_tensors = _arg_signature(args, kwargs)
    except _Refuse:
        return fn(*args, **kwargs)
    trace = site.traces.get(sig)
    if not site.warm:
        before = G._counter
        out = fn(*args, **kwargs)
        site.warm = G._counter != before
        return out
    if trace is not None:
        if trace.dead:
            return fn(*args, **kwargs)
        t0 = G._perf() if G.hops is not None else None
        ok = mode == "shapes" or trace.checked >= _prev_dirty
        if not ok:
            try:
                ok = _fingerprint(obj, trace.dicts) == trace.fp
            except _Refuse:
                ok = False
            if not ok:
                stats["guard_misses"] += 1
        if t0 is not None:
            G.hop("guard", G._perf() - t0)
        if ok:
            if len(site.traces) > 1:  # least recently used last out
                site.traces[sig] = site.traces.pop(sig)
            out = trace.replay(arg_tensors)
            if out is not _MISS:
                _dirty = _prev_dirty  # no Python but ours ran: state the fingerprints saw is unchanged
                trace.checked = _seq
                trace.hits += 1
                stats["replayed"] += 1
                _host_plan(obj, trace)
                return out
            # Python read different values than any recording did: record this path too.
            stats["value_misses"] += 1
            trace.misses += 1
            if trace.misses >= MAX_MISSES and trace.misses > trace.hits:
                trace.dead = True  # the values it branches on rarely repeat
                return fn(*args, **kwargs)
        else:
            del site.traces[sig]
            trace = None
    return _record(site, sig, arg_tensors, mode, obj, fn, args, kwargs, package_dicts, trace)


def _refuse(site, reason):
    global last_refusal
    last_refusal = reason
    stats["refused"] += 1
    site.refusals += 1
    if site.refusals >= GIVE_UP:
        site.disabled = True


def _record(site, sig, arg_tensors, mode, obj, fn, args, kwargs, package_dicts, tree=None):
    exact = mode == "exact"
    all_dicts = package_dicts() if exact else []
    try:
        pre = _fingerprint(obj, all_dicts)
    except _Refuse as e:
        _refuse(site, str(e))
        return fn(*args, **kwargs)
    if not arg_tensors and not pre.tensors:
        # No tensor goes in (a pure-Python object, e.g. a tokenizer): nothing worth a graph, and
        # the recording's profile hook would be visible to the call (sys.getprofile()).
        return fn(*args, **kwargs)
    # State tensors enter the graph as fed leaves: make them concrete first.
    lazy_state = [t._value for t in pre.tensors if t._value.node is not None]
    if lazy_state:
        G.materialize(lazy_state)
        pre = _fingerprint(obj, all_dicts)
    state_before = [(t, t._value) for t in pre.tensors]
    rec = _Recorder({t._value: i for i, t in enumerate(arg_tensors)}, {old: t for t, old in state_before})

    G.taint = None
    watch = _Watch() if exact else None
    old_profile = sys.getprofile()
    if watch is not None:
        sys.setprofile(watch)
    G.recorder = rec
    try:
        result = fn(*args, **kwargs)
    finally:
        G.recorder = None
        if watch is not None:
            sys.setprofile(old_profile)
    reason = None
    if G.taint is not None:
        reason = G.taint
    elif watch is not None and watch.reason is not None:
        reason = watch.reason
    G.taint = None
    out_tensors = []
    if reason is None:
        try:
            template = _template(result, out_tensors)
        except _Refuse as e:
            reason = str(e)
    if reason is not None:
        _refuse(site, reason)
        return result

    # Outputs and updated state tensors: one graph, the last segment.
    mutated = [(t, old) for t, old in state_before if t._value is not old]
    values = [t._value for t in out_tensors] + [t._value for t, _ in mutated]
    G.recorder = rec
    try:
        ran = G.materialize_traced(values)
    finally:
        G.recorder = None
    try:
        post = _fingerprint(obj, all_dicts)
    except _Refuse as e:
        _refuse(site, str(e))
        return result
    if post != pre:
        _refuse(site, "the call changed Python state the fingerprint covers (an attribute, a counter, a container, a global)")
        return result
    if ran is None and len(rec.nodes) == 1 and rec.nodes[0][0] is None:
        # The call computed no tensor (plain Python): nothing to gain, no reason to watch again.
        _refuse(site, "no graph to replay")
        site.disabled = True
        return result

    final = ([rec.classify(t._value) for t in out_tensors], [(t, *rec.classify(t._value)) for t, _ in mutated], template)
    chain, keys = rec.chain(final)
    if exact:
        # Guard on the globals of the package code that ran, and of package modules they hold.
        used = dict(watch.globals)
        for g in list(used.values()):
            for e in list(g.values()):
                if isinstance(e, types.ModuleType):
                    d = e.__dict__
                    if d.get("__torch_package__") or str(d.get("__file__", "")).startswith("<registered"):
                        used[id(d)] = d
        dicts = list(used.values())
        fp = _fingerprint(obj, dicts)
    else:
        dicts, fp = [], None
    same_guards = tree is not None and (fp is None) == (tree.fp is None) and (fp is None or fp == tree.fp)
    if same_guards and _insert(tree, chain, keys):
        tr = tree  # a new branch of the same recording
    else:
        tr = _Trace()
        tr.root, tr.nodes, tr.hits, tr.misses, tr.dead = chain[0], len(chain), 0, 0, False
        tr.dicts, tr.fp = dicts, fp
    tr.checked = _seq
    site.traces[sig] = tr
    while len(site.traces) > MAX_TRACES:
        del site.traces[next(iter(site.traces))]
    site.refusals = 0
    stats["recorded"] += 1
    if tr.nodes == 1:
        _host_plan(obj, tr)
    return result


def _insert(tree, chain, keys):
    """Add a recorded path to a tree recorded under the same guards; False if the two disagree
    before they branch (then the tree is replaced)."""
    node = tree.root
    for i, c in enumerate(chain):
        if not node.same(c) or (c.final is None) != (node.final is None):
            return False
        if c.final is not None:
            return True  # the same path again (a value read differs nowhere): nothing to add
        nxt = node.children.get(keys[i])
        if nxt is None:
            if tree.nodes + len(chain) - i - 1 > MAX_NODES_PER_TRACE:
                tree.dead = True
                return True
            node.children[keys[i]] = chain[i + 1]
            tree.nodes += len(chain) - i - 1
            return True
        node = nxt
    return False


# ----- host replay -----
# A trace of one engine run (no value read, no state tensor rebound) can be replayed by the host
# alone while this interpreter runs nothing else: the host knows the graph (by its key), each
# feed (an argument tensor, or a storage this Python state keeps alive) and the result's shape.
# The host drops every plan of an interpreter as soon as it sends it any operation, so a plan
# is only used while the Python state it was made from cannot have changed (docs/tensor-layer.md).
def _host_plan(obj, trace):
    global plan
    root = trace.root
    if not plans_wanted or root.segment is None or root.final is None or root.guards or trace.dead:
        return
    if getattr(obj, "__wasmdeploy_host_replay__", True) is not True:
        return
    results, mutations, template = root.final
    prepared = root.segment.prepared
    if mutations or type(prepared) is not tuple:
        return
    feeds = []
    for name, kind, ref in root.segment.inputs:
        b = _bind(kind, ref)
        if b is None:
            return
        feeds.append([name] + b)
    res = []
    for kind, ref in results:
        if kind == _SEG:
            res.append(["o", ref[1]])
            continue
        b = _bind(kind, ref)
        if b is None:
            return
        res.append(b)
    try:
        tpl = _wire_template(template, 0)
    except _Refuse:
        return
    import json

    plan = json.dumps({"key": prepared[0], "feeds": feeds, "results": res, "template": tpl},
                      separators=(",", ":"), allow_nan=False)


def _bind(kind, ref):
    """Where the host finds a tensor the trace names: argument i, or a storage held here."""
    if kind == _ARG:
        return ["a", ref]
    if kind == _SEG:
        return None
    v = ref._value if kind == _STATE else ref
    if v.node is not None:
        return None
    return ["s", v.storage.id, v.offset, v.dtype.name, list(v.shape)]


def _wire_template(tpl, depth):
    """The result as the wire encodes it, each tensor a {"$x": "slot", "i": n} for the host to fill."""
    t = type(tpl)
    if t is _Slot:
        return {"$x": "slot", "i": tpl.i}
    if t is tuple:
        kind, items = tpl
        if kind is dict:
            flat = []
            for k, e in items:
                flat.append(_wire_template(k, depth + 1))
                flat.append(_wire_template(e, depth + 1))
            return {"$d": flat}
        out = [_wire_template(e, depth + 1) for e in items]
        return out if kind is list else {"$t": out}
    if t is int:
        return tpl if -(2**53 - 1) <= tpl <= 2**53 - 1 else {"$i": str(tpl)}
    if t is float:
        return tpl if tpl - tpl == 0 else {"$f": "nan" if tpl != tpl else ("inf" if tpl > 0 else "-inf")}
    if tpl is None or t is bool or t is str:
        return tpl
    raise _Refuse(f"a {t.__name__} in the result")  # bytes travel as buffers


def _dtype_of(name):
    from ._dtype import from_name

    return from_name(name)


def reset():
    """Forget every trace (tests)."""
    _sites.clear()
    for k in stats:
        stats[k] = 0
