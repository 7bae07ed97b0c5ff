"""The interpreter's side of the host protocol.

Every request runs through `run(op, payload_json, buffers)`, which returns
(ok, json, buffers, releases). Python exceptions never escape: they come back as
{"type", "message", "traceback"} so the host can raise a typed PythonError; an exception
out of an entry point therefore means the interpreter itself failed. Two entry points
adapt it to the interpreter kinds: `dispatch` (Pyodide: JS values in and out) and
`dispatch_frames` (WASI: called from wasm/src/wasmdeploy.c with bytes).
"""

import dataclasses  # noqa: F401  (below)
import gc
import importlib
import linecache
import os
import random
import sys
import traceback
import types
import typing

from . import tensors, wire
from .package_importer import PackageImporter, demangle

# dataclasses is imported above only to be in the boot snapshot: torchvision's models import it,
# and compiling its source when a package loaded took each interpreter about 8 ms of a 30-40 ms
# ready time. Every other stdlib module the bundled and zoo packages import is already there.


class _DottedBuiltins:
    """Finds extension modules linked into the interpreter under dotted names: a WASI build with
    numpy (wasm/build-numpy.sh) registers numpy.core._multiarray_umath and its siblings with
    PyImport_AppendInittab, and CPython's BuiltinImporter answers only top-level names."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname in _DOTTED_BUILTINS:
            return importlib.machinery.ModuleSpec(fullname, importlib.machinery.BuiltinImporter, origin="built-in")
        return None


_DOTTED_BUILTINS = frozenset(n for n in sys.builtin_module_names if "." in n)
if _DOTTED_BUILTINS:
    import importlib.machinery

    sys.meta_path.insert(0, _DottedBuiltins)

_handles = {}  # handle id -> object the host holds
_next_handle = 1
_packages = {}  # package id -> PackageImporter
_replicated = {}  # (package id, package, resource) -> unpickled object
_pickle_loads = 0
_registered = []  # modules the host registered (their globals are part of replay guards)


def _make_handle(obj):
    global _next_handle
    hid = _next_handle
    _next_handle += 1
    _handles[hid] = obj
    t = type(obj)
    return {"$o": hid, "t": f"{demangle(t.__module__)}.{t.__qualname__}"}


def _resolve_handle(hid):
    try:
        return _handles[hid]
    except KeyError:
        raise LookupError(f"object handle {hid} was released (or belongs to another interpreter)") from None


def _replicated_obj(pkg_id, package, resource):
    key = (pkg_id, package, resource)
    obj = _replicated.get(key)
    if obj is None and key not in _replicated:
        global _pickle_loads
        _pickle_loads += 1
        obj = _package(pkg_id).load_pickle(package, resource)
        _replicated[key] = obj
    return obj


def _package(pkg_id):
    try:
        return _packages[pkg_id]
    except KeyError:
        raise LookupError(f"package {pkg_id} is not loaded in this interpreter") from None


def _target(req):
    """The object a call addresses: a replicated object or a handle."""
    if "handle" in req:
        return req["handle"]  # the wire decoder already resolved {"$o": id}
    return _replicated_obj(req["pkg"], req["package"], req["resource"])


# ----- operations -----
def op_call(req):
    obj = _target(req)
    method = req.get("method")
    fn = getattr(obj, method) if method else obj
    args, kwargs = req.get("args", ()), req.get("kwargs", {})
    tensors.want_plans(not req.get("no_plan"))
    # Serving is inference: calls run under torch.no_grad(), as torch::deploy users and
    # TorchServe handlers do (and some modules, e.g. TransformerEncoder, behave accordingly).
    with tensors.inference():
        if "handle" in req or req.get("as_handle"):
            return fn(*args, **kwargs)
        # A replicated object: record once, replay after (torch._replay).
        pkg_id = req["pkg"]
        site = (pkg_id, req["package"], req["resource"], method)
        return tensors.replayed_call(site, obj, fn, args, kwargs, lambda: _package_dicts(pkg_id))


def _package_dicts(pkg_id):
    """Globals of the package's own modules and of registered modules (replay guards)."""
    importer = _packages.get(pkg_id)
    mods = list(importer.modules.values()) if importer is not None else []
    out = [m.__dict__ for m in mods if isinstance(m, types.ModuleType) and m.__dict__.get("__torch_package__")]
    out.extend(m.__dict__ for m in _registered)
    return out


def op_getattr(req):
    return getattr(_target(req), req["name"])


def op_hasattr(req):
    return hasattr(_target(req), req["name"])


def op_target(req):
    """The addressed object itself (with as_handle: session.fromMovable)."""
    return _target(req)


def op_global(req):
    module = importlib.import_module(req["module"])
    obj = module
    for part in req["name"].split(".") if req["name"] else ():
        obj = getattr(obj, part)
    return obj


def op_load_package(req):
    importer = PackageImporter(req["files"], req["label"], req.get("code"), req.get("code_prefix"))
    importer.storage_prefix = req["pkg"]  # storage ids are "<package id>/<key>" on the host
    _packages[req["pkg"]] = importer
    # The first interpreter of a package compiles its sources for the others (package_importer).
    if req.get("compile"):
        return {"prefix": importer.prefix, "code": importer.compile_all()}
    return None


def op_unload_package(req):
    pkg_id = req["pkg"]
    tensors.forget_replays((pkg_id,))
    importer = _packages.pop(pkg_id, None)
    for key in [k for k in _replicated if k[0] == pkg_id]:
        del _replicated[key]
    if importer is not None:
        # The package's sources, registered for tracebacks.
        prefix = importer.prefix + "."
        for name in [n for n in linecache.cache if n.startswith(prefix)]:
            del linecache.cache[name]
    # typing caches subscripted generics (Optional[SomeClass]) with strong references, which
    # would keep the package's classes, and through them its modules, alive.
    for clear in getattr(typing, "_cleanups", ()):
        clear()
    # A package's modules, classes and functions reference each other: only the cycle
    # collector frees them, and it may not run again for a long time.
    gc.collect()
    return None


def op_drop_replicated(req):
    tensors.forget_replays((req["pkg"], req["package"], req["resource"]))
    _replicated.pop((req["pkg"], req["package"], req["resource"]), None)
    return None


def op_free(req):
    for hid in req["handles"]:
        _handles.pop(hid, None)
    return None


def op_register_module(req):
    name = req["name"]
    module = types.ModuleType(name)
    module.__file__ = f"<registered {name}>"
    sys.modules[name] = module
    try:
        exec(compile(req["source"], module.__file__, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    _registered[:] = [m for m in _registered if m.__name__ != name] + [module]
    return None


def op_stats(req):
    return {"handles": len(_handles), "packages": len(_packages), "replicated": len(_replicated)}


_OPS = {
    "call": op_call,
    "getattr": op_getattr,
    "hasattr": op_hasattr,
    "global": op_global,
    "target": op_target,
    "load_package": op_load_package,
    "unload_package": op_unload_package,
    "drop_replicated": op_drop_replicated,
    "free": op_free,
    "register_module": op_register_module,
    "stats": op_stats,
}


def _public_type(t):
    """The torch layer's private exception classes are reported as their builtin base
    (e.g. NotImplementedError), the type a PyTorch user would expect."""
    if t.__module__.startswith("torch") and t.__name__.startswith("_"):
        for base in t.__mro__[1:]:
            if base.__module__ == "builtins":
                return base
    return t


def _error_payload(exc):
    t = _public_type(type(exc))
    module = demangle(t.__module__)
    name = t.__qualname__ if module == "builtins" else f"{module}.{t.__qualname__}"
    # Start the traceback at the user's code, not at this dispatcher.
    tb_obj = exc.__traceback__
    while tb_obj is not None and tb_obj.tb_frame.f_code.co_filename == __file__:
        tb_obj = tb_obj.tb_next
    tb = "".join(traceback.format_exception(t, exc, tb_obj))
    return {"type": name, "message": str(exc), "traceback": tb}


def run(op, payload, buffers):
    """Run one request. Returns (ok, json, [bytes...], releases)."""
    if _hops is not None and op == "call":
        return _timed_run(op, payload, buffers)
    tensors.begin_op()
    try:
        req = wire.loads(payload, buffers, _resolve_handle)
        tensors.decoded()
        fn = _OPS.get(op)
        if fn is None:
            raise ValueError(f"unknown operation {op!r}")
        result = fn(req)
        if req.get("as_handle"):
            return True, wire.json.dumps(_make_handle(result)), [], _releases()
        tensors.prepare_result(result)
        enc = wire.Encoder(_make_handle)
        text = _with_plan(op, enc.dumps(result))
        return True, text, enc.buffers, _releases()
    except BaseException as exc:  # KeyboardInterrupt (deadline), SystemExit, everything
        return False, wire.json.dumps(_error_payload(exc)), [], _releases()


def dispatch(op, payload, js_buffers):
    """Pyodide entry: JS buffers in, to_js([ok, json, [bytes...], releases]) out."""
    from pyodide.ffi import to_js  # only Pyodide has it

    buffers = [b.to_bytes() for b in js_buffers] if js_buffers else []
    return to_js(list(run(op, payload, buffers)))


def dispatch_frames(op, payload, buffers):
    """WASI entry: bytes in, (ok, json, releases as JSON, [bytes...]) out (see wasmdeploy.c)."""
    ok, text, out_buffers, releases = run(op, payload, buffers)
    return ok, text, wire.json.dumps(releases), [bytes(b) for b in out_buffers]


# ----- per-hop timing (docs/architecture.md, "Call overhead"; bench/hops.ts) -----
_hops = None


def hops_start():
    """Time the hops of every later call (until hops_take)."""
    global _hops
    _hops = tensors.hops_start()
    _hops["calls"] = 0


def hops_take():
    """Seconds spent per hop since hops_start, and the number of calls; stops timing."""
    global _hops
    out = dict(_hops or {})
    _hops = None
    tensors.hops_stop()
    return out


def _timed_run(op, payload, buffers):
    from time import perf_counter as now

    h = _hops
    t0 = now()
    tensors.begin_op()
    try:
        req = wire.loads(payload, buffers, _resolve_handle)
        tensors.decoded()
        t1 = now()
        result = _OPS[op](req)
        t2 = now()
        tensors.prepare_result(result)
        t3 = now()
        enc = wire.Encoder(_make_handle)
        text = _with_plan(op, enc.dumps(result))
        out = True, text, enc.buffers, _releases()
        t4 = now()
    except BaseException as exc:
        return False, wire.json.dumps(_error_payload(exc)), [], _releases()
    for name, dt in (("decode", t1 - t0), ("call", t2 - t1), ("result", t3 - t2), ("encode", t4 - t3), ("python", t4 - t0)):
        h[name] = h.get(name, 0.0) + dt
    h["calls"] += 1
    return out


def _with_plan(op, text):
    """A call the host may replay alone next time: its plan, a newline, then the result
    (a result's JSON never starts with {"$plan" and holds no raw newline; src/pool/host-replay.ts)."""
    plan = tensors.take_plan() if op == "call" else None
    return text if plan is None else '{"$plan":' + plan + "}\n" + text


def _releases():
    """Engine tensors Python no longer holds: the host frees them after reading this result."""
    return tensors.take_releases()


def after_restore(eager=False):
    """Run once per interpreter after boot: snapshots share `random`'s state."""
    random.seed(os.urandom(32))
    if eager:
        tensors.set_eager(True)


def pickle_loads():
    """How many pickles this interpreter has loaded (tests check lazy, once-only loading)."""
    return _pickle_loads


# The modules imported by the end of the boot, which is where a snapshot is taken. An instance
# restored from it never reads their sources to import, so a platform that ships the snapshot
# may leave them out of the file image (the edge does; tracebacks through them then show no
# source line). Only the modules are kept here: their files are looked up when asked for.
_BOOT_MODULES = tuple(sys.modules.values())


def boot_sources():
    """The source files of the boot's modules. Frozen modules (os, io, codecs, ...) never read
    theirs: the spec names the module they were frozen from."""
    files = set()
    for m in _BOOT_MODULES:
        f = getattr(m, "__file__", None)
        spec = getattr(m, "__spec__", None)
        if not isinstance(f, str) and getattr(spec, "origin", None) == "frozen":
            stem = "/lib/python3.11/" + getattr(spec.loader_state, "origname", m.__name__).replace(".", "/")
            f = stem + ("/__init__.py" if hasattr(m, "__path__") else ".py")
        if isinstance(f, str) and f.startswith("/") and os.path.exists(f):
            files.add(f)
    return sorted(files)
