"""The interpreter's side of the host protocol.

Every request runs through `run(op, payload_json, buffers)`, which returns
(ok, json, buffers, releases). Python exceptions never escape: they come back as
{"type", "message", "traceback"} so the host can raise a typed PythonError; an exception
out of an entry point therefore means the interpreter itself failed. Two entry points
adapt it to the interpreter kinds: `dispatch` (Pyodide: JS values in and out) and
`dispatch_frames` (WASI: called from wasm/src/wasmdeploy.c with bytes).
"""

import importlib
import os
import random
import sys
import traceback
import types

from . import tensors, wire
from .package_importer import PackageImporter, demangle

_handles = {}  # handle id -> object the host holds
_next_handle = 1
_packages = {}  # package id -> PackageImporter
_replicated = {}  # (package id, package, resource) -> unpickled object
_pickle_loads = 0


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
    # Serving is inference: calls run under torch.no_grad(), as torch::deploy users and
    # TorchServe handlers do (and some modules, e.g. TransformerEncoder, behave accordingly).
    with tensors.inference():
        return fn(*req.get("args", ()), **req.get("kwargs", {}))


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
    importer = PackageImporter(req["files"], req["label"])
    importer.storage_prefix = req["pkg"]  # storage ids are "<package id>/<key>" on the host
    _packages[req["pkg"]] = importer
    return None


def op_unload_package(req):
    pkg_id = req["pkg"]
    _packages.pop(pkg_id, None)
    for key in [k for k in _replicated if k[0] == pkg_id]:
        del _replicated[key]
    return None


def op_drop_replicated(req):
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
    try:
        req = wire.loads(payload, buffers, _resolve_handle)
        fn = _OPS.get(op)
        if fn is None:
            raise ValueError(f"unknown operation {op!r}")
        result = fn(req)
        if req.get("as_handle"):
            return True, wire.json.dumps(_make_handle(result)), [], _releases()
        tensors.prepare_result(result)
        enc = wire.Encoder(_make_handle)
        text = enc.dumps(result)
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
