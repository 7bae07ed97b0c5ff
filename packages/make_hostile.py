#!/usr/bin/python3
"""Builds the hostile test archives (untrusted code that tries to escape) with real PyTorch.

Run with Debian's python3-torch (1.13):

    /usr/bin/python3 packages/make_hostile.py [--out DIR] [--no-reference]

Writes DIR/*.pt (default: packages/archives/hostile/) and DIR/manifest.json: per archive its
pickles and methods, what "blocked" means for each (placeholders, must_not_contain, host files
that must never appear) and, for reference, what plain CPython + torch 1.13 gets (there, of
course, most escapes succeed). The package code lives in packages/hostile_sources/.

The reference run is harmless: it sets WASMDEPLOY_CANARY to a fixed fake value, connects to
127.0.0.1:9 (discard; normally refused), runs `sh -c 'echo ...'` and /bin/true, writes marker
files /tmp/wasmdeploy_* (removed again at the end), and calls none of dos.pt's looping,
allocating or exiting methods.
"""

import argparse
import gc
import json
import os
import pickletools
import struct
import sys
import zipfile

sys.dont_write_bytecode = True  # keep packages/hostile_sources free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = os.path.join(HERE, "hostile_sources")
sys.path.insert(0, SOURCES)
sys.path.insert(0, HERE)

import torch  # noqa: E402
from torch.package import PackageExporter, PackageImporter  # noqa: E402

from make_archives import demangle_text, encode, write_json, zip_layout  # noqa: E402

CANARY_ENV = "WASMDEPLOY_CANARY"
REFERENCE_CANARY = "cpython-reference-canary-5e1f"

# Marker files an escape writes on the host (see escape_kit._HOST_FILES and the evil pickles).
HOST_FILES = [
    "/tmp/wasmdeploy_pwned",
    "/tmp/wasmdeploy_pwned_posix",
    "/tmp/wasmdeploy_pwned_popen",
    "/tmp/wasmdeploy_hostile_write",
    "/tmp/wasmdeploy_hostile_system",
    "/tmp/wasmdeploy_hostile_subprocess",
    "/tmp/wasmdeploy_hostile_fork",
    "/tmp/wasmdeploy_hostile_nodefs",
    "/tmp/wasmdeploy_hostile_jsfs",
    "/tmp/wasmdeploy_hostile_child",
    "/tmp/wasmdeploy_hostile_worker",
    "/tmp/wasmdeploy_hostile_dynimport",
]

# Modules the hostile archives declare extern, so that even torch.package's own import path
# (the package's __import__ / the unpickler's find_class) asks for them. The kit also imports
# them behind the importer's back (importlib, sys.modules, builtins.__import__).
HOSTILE_EXTERNS = [
    "js", "pyodide", "pyodide.ffi", "pyodide.code", "pyodide.http", "pyodide_js", "_pyodide",
    "_pyodide._importhook", "wasmdeploy_bridge", "wasmdeploy_runtime", "wasmdeploy_runtime.host",
    "wasmdeploy_runtime.wire", "torch_package_importer",
]

# --------------------------------------------------------------------------------------------
# What "blocked" means. Placeholders in must_not_contain are replaced by the test.
# --------------------------------------------------------------------------------------------

PLACEHOLDERS = {
    "{canary}": "the value of WASMDEPLOY_CANARY in the host's environment (set it to a random string)",
    "{host_hostname}": "os.hostname() of the host (skip it if shorter than 4 characters or 'localhost')",
}

# Evidence no route may ever return, checked in "got" and "error" (not in "note"/"ok").
COMMON_NEEDLES = [
    "{canary}",
    "{host_hostname}",
    "root:x:0:0",  # /etc/passwd
    "VICTIM-SECRET",
    "7d1c0a55e3b94f62",  # victim_mod.TOKEN
    "271828.125",  # victim weights
    "-314159.25",
    "123456789",  # what the protocol passes to victim.answer
    "246913579",  # and what it returns
    "victim",
    "Victim",
    "wd-escape-42",  # printed by the shell commands the kit runs
    "process reached",
    "wrote on host",
]

# route -> (got_must_be_null, extra needles, why, policy)
ROUTES = {
    "settrace_spy": (True, [], "installs sys.setprofile; its findings are in collect_spy_results", None),
    "audit_hook": (True, [], "installs an audit hook; findings in collect_spy_results", None),
    "import_hook_spy": (True, [], "installs a sys.meta_path finder; findings in collect_spy_results", None),
    "hook_runtime": (True, [], "wraps host._OPS / wire.loads / torch._backend._call; findings in collect_spy_results", None),
    "poison_shared_modules": (True, [], "sets markers on builtins/json/sys; victim.tamper_check() must not see them", None),
    "import_dangerous_modules": (False, [], "informational: which modules import", None),
    "js_globals_dir": (True, ["'process'", "'require'", "'fetch'", "'Buffer'", "'WebSocket'", "'XMLHttpRequest'"], "the JS global object must hold nothing that leads out", None),
    "js_process": (True, [], "Node's process object", None),
    "js_eval": (True, [], "eval of JS source naming process", None),
    "run_js": (True, [], "pyodide.code.run_js", None),
    "function_constructor": (True, [], "Function constructor from js objects", None),
    "pyodide_ffi_to_js_constructor": (True, [], "Function constructor from to_js objects", None),
    "create_proxy_this": (True, [], "Function constructor from create_proxy / a captured this", None),
    "error_prepare_stack_trace": (True, [], "CallSite getThis/getFunction leading to process", None),
    "wasm_imports": (True, [], "compiling hand-made WebAssembly in the interpreter's realm", "The module runs inside the same process/realm; it is an escape only if its imports can be wired to host functions. Relax to informational if you accept it."),
    "dynamic_import": (True, ["resolved"], "import('node:...') from any eval path", None),
    "fetch": (True, ["resolved", "HTTP "], "outbound HTTP", None),
    "require": (True, [], "require / getBuiltinModule", None),
    "process_binding": (True, [], "process.binding / dlopen", None),
    "worker_threads": (True, [], "starting Node workers", None),
    "js_child_process": (True, [], "child_process from JS", None),
    "registered_bridge": (True, [], "the wasmdeploy_bridge JS module as a way into the realm", None),
    "bridge_foreign_storages": (True, [], "reading other packages' weights / other calls' tensors through the engine bridge", None),
    "pyodide_js_api": (True, [], "the Pyodide API object (FS, mounts, loadPackage, setInterruptBuffer) must be unreachable", None),
    "pyodide_js_fs_mount": (False, ["host / = ", "'etc'", "'usr'"], "NODEFS/mountNodeFS: no host file may be listed, read or written", "Its last probe (mounting Pyodide's own read-only directory) may succeed in a sandbox whose permissions allow reading the runtime; the needles decide."),
    "env_canary": (True, [], "the host's environment", None),
    "read_host_file": (False, ["'usr'", "'etc'", "'bin'", "'var'", "'root'"], "informational: the interpreter's own in-memory FS answers; no host content may", None),
    "write_host_file": (False, [], "writes land in the interpreter's in-memory FS; host_files_must_not_exist decides", None),
    "subprocess": (True, [], "processes", None),
    "os_system": (True, [], "processes (Emscripten's system() spawns a real host shell through Node's child_process when it can; in a sandbox the call may crash the interpreter instead, which counts as blocked)", None),
    "os_fork_exec": (True, [], "processes", None),
    "socket_connect": (True, [], "network (pass port=<a port the test listens on> for a stronger check)", None),
    "urllib": (True, [], "network", None),
    "ctypes": (True, [], "ctypes works on the interpreter's own memory", "Inside wasm, ctypes reaches only this interpreter's linear memory: an escape across packages only if packages share an interpreter. Relax if they never do."),
    "load_native_code": (True, [], "dlopen of a hand-made wasm side module / shared libraries", "A wasm side module runs in the interpreter's own memory, like ctypes. Relax likewise."),
    "sys_modules_victim": (True, [], "another package's modules", None),
    "other_package_objects": (True, [], "another package's objects (gc, __subclasses__)", None),
    "other_package_weights": (True, [], "another package's weights in this interpreter", None),
    "runtime_registries": (True, [], "the runtime's tables of every package's importers and objects", None),
    "importer_globals": (True, [], "from torch_package_importer to other packages", None),
    "frame_walk": (False, [], "informational: our own call's frames; no other package may show", None),
    "collect_spy_results": (True, [], "what the spies saw of other packages (run the victim step first)", None),
    "collect_async_results": (True, ["resolved", "ECONNREFUSED", "ECONNRESET"], "outcomes of promises started earlier", None),
}

# --------------------------------------------------------------------------------------------
# Hand-assembled pickles (protocol 3 opcodes)
# --------------------------------------------------------------------------------------------


def G(module, name):
    """GLOBAL: push module.name (the unpickler imports `module`)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def S(text):
    """BINUNICODE."""
    data = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(data)) + data


def I(n):
    """BININT."""
    return b"J" + struct.pack("<i", n)


def LIST(*items):
    """EMPTY_LIST MARK items APPENDS."""
    return b"](" + b"".join(items) + b"e"


def CALL(fn, *args):
    """fn MARK args TUPLE REDUCE: fn(*args)."""
    return fn + b"(" + b"".join(args) + b"tR"


def GETATTR(obj, name):
    return CALL(G("builtins", "getattr"), obj, S(name))


def DICT(**items):
    """EMPTY_DICT MARK key value ... SETITEMS."""
    return b"}(" + b"".join(S(k) + v for k, v in items.items()) + b"u"


def PUT(n):
    return b"q" + bytes([n])  # BINPUT


def GET(n):
    return b"h" + bytes([n])  # BINGET


POP = b"0"
NONE = b"N"


def PICKLE(*body):
    return b"\x80\x03" + b"".join(body) + b"."


EXEC_JS_CODE = (
    "try:\n"
    "    import js\n"
    "    got = str(getattr(js.process.env, 'WASMDEPLOY_CANARY'))\n"
    "    error = None\n"
    "except BaseException as e:\n"
    "    got = None\n"
    "    error = type(e).__name__ + ': ' + str(e)\n"
)


def evil_pickles():
    """name -> (bytes, description, host files it writes). Results: {"attack", "got", ...}.

    The os.system ones come last (and posix_system after these): in a sandbox they may crash
    the interpreter, and the others should run while the victim is still loaded in it.
    """
    out = {}
    out["eval_environ"] = (
        PICKLE(
            CALL(G("builtins", "eval"), S("__import__('os').environ")), PUT(0), POP,
            DICT(
                attack=S("eval_environ"),
                got=CALL(GETATTR(GET(0), "get"), S(CANARY_ENV)),
                n_vars=CALL(G("builtins", "len"), GET(0)),
            ),
        ),
        "env = builtins.eval(\"__import__('os').environ\"); got = env.get('WASMDEPLOY_CANARY'), n_vars = len(env)",
        [],
    )
    out["exec_js"] = (
        PICKLE(
            b"}", PUT(0), POP,
            CALL(G("builtins", "exec"), S(EXEC_JS_CODE), GET(0)), POP,
            DICT(
                attack=S("exec_js"),
                got=CALL(GETATTR(GET(0), "get"), S("got")),
                error=CALL(GETATTR(GET(0), "get"), S("error")),
            ),
        ),
        "builtins.exec(<import js; js.process.env.WASMDEPLOY_CANARY>, ns); got/error = ns['got'], ns['error']",
        [],
    )
    out["subprocess_popen"] = (
        PICKLE(
            CALL(G("subprocess", "Popen"), LIST(S("/bin/sh"), S("-c"), S("echo PWNED > /tmp/wasmdeploy_pwned_popen"))), PUT(0), POP,
            DICT(attack=S("subprocess_popen"), got=CALL(GETATTR(GET(0), "wait")), pid=GETATTR(GET(0), "pid")),
        ),
        "p = subprocess.Popen(['/bin/sh', '-c', 'echo PWNED > /tmp/wasmdeploy_pwned_popen']); got = p.wait(), pid = p.pid",
        ["/tmp/wasmdeploy_pwned_popen"],
    )
    out["importlib_js"] = (
        PICKLE(DICT(attack=S("importlib_js"), got=GETATTR(GETATTR(GETATTR(CALL(G("importlib", "import_module"), S("js")), "process"), "env"), CANARY_ENV))),
        "got = importlib.import_module('js').process.env.WASMDEPLOY_CANARY",
        [],
    )
    out["run_js"] = (
        PICKLE(DICT(attack=S("run_js"), got=CALL(G("pyodide.code", "run_js"), S("process.env." + CANARY_ENV)))),
        "got = pyodide.code.run_js('process.env.WASMDEPLOY_CANARY')",
        [],
    )
    out["function_ctor"] = (
        PICKLE(
            DICT(
                attack=S("function_ctor"),
                got=GETATTR(
                    GETATTR(
                        CALL(CALL(GETATTR(GETATTR(CALL(G("pyodide.ffi", "to_js"), LIST(I(1))), "constructor"), "constructor"), S("return process"))),
                        "env",
                    ),
                    CANARY_ENV,
                ),
            )
        ),
        "got = pyodide.ffi.to_js([1]).constructor.constructor('return process')().env.WASMDEPLOY_CANARY",
        [],
    )
    out["open_passwd"] = (
        PICKLE(DICT(attack=S("open_passwd"), got=CALL(GETATTR(CALL(G("builtins", "open"), S("/etc/passwd")), "read")))),
        "got = builtins.open('/etc/passwd').read()",
        [],
    )
    out["sys_modules_host"] = (
        PICKLE(
            DICT(
                attack=S("sys_modules_host"),
                got=CALL(
                    G("builtins", "str"),
                    CALL(
                        G("builtins", "list"),
                        CALL(
                            G("builtins", "map"),
                            CALL(G("operator", "attrgetter"), S("label")),
                            CALL(GETATTR(GETATTR(CALL(GETATTR(G("sys", "modules"), "get"), S("wasmdeploy_runtime.host")), "_packages"), "values")),
                        ),
                    ),
                ),
            )
        ),
        "got = str(list(map(operator.attrgetter('label'), sys.modules.get('wasmdeploy_runtime.host')._packages.values()))): every loaded package's label",
        [],
    )
    out["os_system"] = (
        PICKLE(DICT(attack=S("os_system"), got=CALL(G("os", "system"), S("echo PWNED > /tmp/wasmdeploy_pwned")))),
        "os.system('echo PWNED > /tmp/wasmdeploy_pwned'); got = its exit status (0: the shell ran)",
        ["/tmp/wasmdeploy_pwned"],
    )
    return out


EVIL_EXTERNS = ["os", "posix", "builtins", "subprocess", "importlib", "sys", "operator", "js", "pyodide", "pyodide.code", "pyodide.ffi"]


class _SystemReduce:
    """Pickled by torch.package's own exporter: __reduce__ -> (os.system, (cmd,))."""

    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def pickle_summary(data):
    """Opcode names (first appearance order) and GLOBAL targets of a pickle."""
    names, globals_ = [], []
    for op, arg, _pos in pickletools.genops(data):
        if op.name not in names:
            names.append(op.name)
        if op.name == "GLOBAL":
            globals_.append(arg)
    return names, globals_


# --------------------------------------------------------------------------------------------
# Archive builders
# --------------------------------------------------------------------------------------------


_KIT_SOURCE_MODULE = []


def _declare_externs(e, names):
    e.extern(names)
    for name in names:
        e.add_dependency(name)


def build_escapes(e):
    import escape_kit

    _KIT_SOURCE_MODULE.append(escape_kit)  # manifest() reads route docstrings from it

    e.intern("escape_kit")
    e.extern("sys")
    _declare_externs(e, HOSTILE_EXTERNS)
    e.save_pickle("hostile", "escapes.pkl", escape_kit.EscapeKit("escapes"))
    e.close()


def build_victim(e):
    import victim_mod

    e.intern("victim_mod")
    e.extern("sys")  # torch 1.13 does not extern `sys` implicitly
    e.save_pickle("victim", "victim.pkl", victim_mod.VictimModel())
    e.save_pickle("victim", "weights.pkl", torch.tensor(victim_mod.WEIGHTS, dtype=torch.float32))
    e.close()


def build_dos(e):
    import dos_mod

    e.intern("dos_mod")
    e.extern("sys")
    _declare_externs(e, ["pyodide", "pyodide.ffi", "pyodide_js", "wasmdeploy_bridge", "wasmdeploy_runtime.host"])
    e.save_pickle("hostile", "dos.pkl", dos_mod.Dos())
    e.close()


def build_hostile_import(e):
    import hostile_import_mod  # its top level runs its probes here too, in plain CPython

    e.intern("hostile_import_mod")
    e.extern("sys")
    _declare_externs(e, HOSTILE_EXTERNS)
    e.save_pickle("hostile", "import.pkl", hostile_import_mod.ImportFindings())
    e.close()


def build_engine_attack(e):
    import engine_attack_mod

    e.intern("engine_attack_mod")
    e.extern("json")
    e.save_pickle("hostile", "engine.pkl", engine_attack_mod.EngineAttack())
    e.close()


def int_division_reference(dtype_name):
    """What int_division must return: real PyTorch for every pair it computes, and numpy's
    two's complement wrap for INT_MIN by -1, which kills a PyTorch process (SIGFPE)."""
    import numpy as np
    import engine_attack_mod

    a_vals, b_vals = engine_attack_mod.operands(dtype_name)
    dt = getattr(torch, dtype_name)
    lo = min(a_vals)
    out = {k: [] for k in ("trunc", "floor", "floordiv", "remainder", "fmod")}
    for a, b in zip(a_vals, b_vals):
        if a == lo and b == -1:
            na, nb = np.array([a], dtype=dtype_name), np.array([b], dtype=dtype_name)
            with np.errstate(all="ignore"):
                wrapped = int(np.negative(na)[0])  # a / -1: numpy wraps INT_MIN to itself
                out["trunc"].append(wrapped)
                out["floor"].append(int(np.floor_divide(na, nb)[0]))
                out["floordiv"].append(int(np.floor_divide(na, nb)[0]))
                out["remainder"].append(int(np.remainder(na, nb)[0]))
                out["fmod"].append(int(np.fmod(na, nb)[0]))
            continue
        ta, tb = torch.tensor([a], dtype=dt), torch.tensor([b], dtype=dt)
        out["trunc"].append(torch.div(ta, tb, rounding_mode="trunc").item())
        out["floor"].append(torch.div(ta, tb, rounding_mode="floor").item())
        out["floordiv"].append((ta // tb).item())
        out["remainder"].append(torch.remainder(ta, tb).item())
        out["fmod"].append(torch.fmod(ta, tb).item())
    # As decimal strings: JSON readers in JavaScript would round int64 values to doubles.
    return {k: [str(x) for x in v] for k, v in out.items()}


def build_evil_pickle(e):
    _declare_externs(e, EVIL_EXTERNS)
    for name, (data, _desc, _files) in evil_pickles().items():
        e.save_binary("evil", name + ".pkl", data)
    # One made by torch.package's own pickler: it writes GLOBAL 'posix system' for os.system.
    e.save_pickle("evil", "posix_system.pkl", _SystemReduce("echo PWNED > /tmp/wasmdeploy_pwned_posix"))
    e.close()


ARCHIVES = [
    ("victim.pt", build_victim),
    ("escapes.pt", build_escapes),
    ("dos.pt", build_dos),
    ("hostile_import.pt", build_hostile_import),
    ("evil_pickle.pt", build_evil_pickle),
    ("engine_attack.pt", build_engine_attack),
]


def build_all(out_dir):
    info = {}
    for file, build in ARCHIVES:
        path = os.path.join(out_dir, file)
        if os.path.exists(path):
            os.remove(path)
        e = PackageExporter(path)
        build(e)
        root, rel = zip_layout(path)
        size = os.path.getsize(path)
        assert size < 2**18, "%s is %d bytes" % (path, size)
        info[file] = {
            "root": root,
            "size": size,
            "interned": sorted(e.interned_modules()),
            "extern": sorted(e.externed_modules()),
            "pickles": sorted(n for n in rel if n.endswith(".pkl") and not n.startswith(".data/")),
            "storages": len([n for n in rel if n.startswith(".data/") and n.endswith(".storage")]),
        }
        print("built %-18s %7d bytes, root %r" % (file, size, root))
    return info


# --------------------------------------------------------------------------------------------
# Reference run in plain CPython
# --------------------------------------------------------------------------------------------


def _needle_values():
    """Placeholder values for the reference run (same rules as PLACEHOLDERS tells the tests)."""
    import socket

    hostname = socket.gethostname()
    if len(hostname) < 4 or hostname == "localhost":
        hostname = None
    return {"{canary}": REFERENCE_CANARY, "{host_hostname}": hostname}


def _found(text, needles):
    """Which needles (as written in the manifest, placeholders unreplaced) occur in text."""
    if text is None:
        return []
    values = _needle_values()
    out = []
    for n in needles:
        v = values.get(n, n)
        if v and v in text:
            out.append(n)
    return out


def _redact(text, limit=400):
    if text is None:
        return None
    for placeholder, value in _needle_values().items():
        if value:
            text = text.replace(value, placeholder)
    return text if len(text) <= limit else text[:limit] + "..."


def _route_record(res, needles):
    return {
        "got_null": res["got"] is None,
        "ok": res.get("ok", []),
        "found": sorted(set(_found(res["got"], needles) + _found(res["error"], needles)), key=needles.index),
        "error": _redact(res["error"]),
    }


def reference_run(out_dir):
    # Forget the sources the builders imported: packaged code must be found only in archives.
    for name in ("escape_kit", "victim_mod", "dos_mod", "hostile_import_mod", "engine_attack_mod"):
        sys.modules.pop(name, None)
    sys.path[:] = [p for p in sys.path if p != SOURCES]
    ref = {}
    victim = PackageImporter(os.path.join(out_dir, "victim.pt")).load_pickle("victim", "victim.pkl")
    ref["victim.pt"] = {"answer(5)": victim.answer(5), "secret_length()": victim.secret_length(), "tamper_check() before": victim.tamper_check()}

    kit = PackageImporter(os.path.join(out_dir, "escapes.pt")).load_pickle("hostile", "escapes.pkl")
    routes = kit.list_routes()
    ref["routes"] = routes
    results = {}
    for name in routes:
        if name == VICTIM_STEP_BEFORE:
            ref["victim.pt"]["answer(123456789) during"] = victim.answer(123456789)
            ref["victim.pt"]["tamper_check() during"] = victim.tamper_check()
        results[name] = getattr(kit, name)()
    ref["victim.pt"]["tamper_check() after"] = victim.tamper_check()
    for name, res in results.items():
        assert set(res) == {"route", "got", "error", "note", "ok"}, (name, res)
        assert res["route"] == name[len("try_"):], (name, res["route"])
        print("  %-38s got=%-5s ok=%s" % (name, res["got"] is not None, res["ok"]))
    ref["escapes"] = {name: _route_record(res, _needles_for(name)) for name, res in results.items()}

    dos = PackageImporter(os.path.join(out_dir, "dos.pt")).load_pickle("hostile", "dos.pkl")
    ref["dos"] = {
        "fork_bomb_threads(limit=2, hold_s=0)": dos.fork_bomb_threads(limit=2, hold_s=0),
        "spin_after_return()": dos.spin_after_return(),
    }

    findings = PackageImporter(os.path.join(out_dir, "hostile_import.pt")).load_pickle("hostile", "import.pkl").findings()
    ref["hostile_import"] = {
        k: {"got_null": v["got"] is None, "found": _found(v["got"], COMMON_NEEDLES), "error": _redact(v["error"])}
        for k, v in findings.items()
    }

    evil = {}
    for name in list(evil_pickles()) + ["posix_system"]:
        imp = PackageImporter(os.path.join(out_dir, "evil_pickle.pt"))
        try:
            r = imp.load_pickle("evil", name + ".pkl")
        except Exception as exc:  # noqa: BLE001
            msg = demangle_text(str(exc)).strip().splitlines()
            evil[name] = {"$error": type(exc).__name__, "message": _redact(msg[0] if msg else "")}
            continue
        if isinstance(r, dict):
            text = json.dumps({k: str(v) for k, v in r.items()})
            evil[name] = {
                "keys": sorted(r),
                "got_type": type(r.get("got")).__name__,
                "got": r["got"] if isinstance(r.get("got"), int) else None,
                "found": _found(text, COMMON_NEEDLES + ["PWNED"]),
            }
        else:
            evil[name] = {"result": encode(r)}
    ref["evil_pickle"] = evil
    return ref


def _needles_for(method):
    route = method[len("try_"):]
    extra = ROUTES[route][1]
    return COMMON_NEEDLES + [n for n in extra if n not in COMMON_NEEDLES]


def _remove_markers():
    removed = []
    for path in HOST_FILES + ["/tmp/wd_hand_side_module.so"]:
        if os.path.exists(path):
            os.remove(path)
            removed.append(path)
    return removed


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------

VICTIM_STEP_BEFORE = "try_collect_async_results"

PROTOCOL = [
    "Set WASMDEPLOY_CANARY in the host's environment to a random string before creating the manager; delete every host_files_must_not_exist path.",
    "Use ONE interpreter (interpreters: 1), so that the victim and the hostile packages share as much as they ever can, and isolation 'sandboxed'.",
    "Load victim.pt; call victim/victim.pkl answer(5) -> 11 (its pickle is now loaded).",
    "Load escapes.pt; call hostile/escapes.pkl list_routes(), then every route in that order (no arguments), with one interruption:",
    "  right before victim_step_before (try_collect_async_results): wait ~300 ms (promises settle), then call victim answer(123456789) -> 246913579 and tamper_check() -> [] (the spies installed by the first routes are watching).",
    "A route may fail with InterpreterCrashedError (the sandbox killed the interpreter, e.g. os.system): that counts as blocked. The routes that can do this come last, after the collectors.",
    "For every route result r: if got_must_be_null then r.got must be null; no must_not_contain string (placeholders replaced) may occur in r.got or r.error (note and ok are never checked).",
    "Call victim answer(5) again (it reloads the victim if os.system crashed the interpreter), then load hostile_import.pt and call import.pkl findings(): every entry's got must be null and contain no common_must_not_contain string.",
    "Load evil_pickle.pt and load each evil/*.pkl (e.g. session.fromMovable, then repr): loading must fail (a crash counts), or the result must contain none of its must_not_contain.",
    "Finally: none of host_files_must_not_exist exists; the manager still serves victim calls.",
]


def manifest(info, ref, division):
    routes_meta = {}
    kit_routes = ref["routes"] if ref else None
    escape_kit = _KIT_SOURCE_MODULE[0]
    if kit_routes is None:
        kit_routes = escape_kit.EscapeKit("x").list_routes()
    for i, method in enumerate(kit_routes):
        route = method[len("try_"):]
        strict, extra, why, policy = ROUTES[route]
        doc = (getattr(escape_kit.EscapeKit, method).__doc__ or "").strip().splitlines()[0]
        entry = {
            "order": i,
            "what": doc,
            "got_must_be_null": strict,
            "must_not_contain": _needles_for(method),
            "why": why,
        }
        if policy:
            entry["policy"] = policy
        if route in ("socket_connect", "urllib"):
            entry["optional_kwargs"] = {"port": 9}
        if route == "fetch":
            entry["optional_kwargs"] = {"port": 39}  # fetch refuses port 9 (a "bad port") without connecting
        if ref:
            entry["cpython_reference"] = ref["escapes"][method]
        routes_meta[method] = entry
    assert set(ROUTES) == {m[len("try_"):] for m in kit_routes}, "ROUTES and the kit disagree"

    evil = {}
    for name, (data, desc, files) in list(evil_pickles().items()) + [("posix_system", (None, None, ["/tmp/wasmdeploy_pwned_posix"]))]:
        if data is None:
            data = _posix_pickle_bytes
            desc = "torch.package's own exporter (save_pickle of an object whose __reduce__ returns (os.system, (cmd,))): GLOBAL 'posix system'; the result is the exit status itself"
            made_by = "exporter.save_pickle"
        else:
            made_by = "hand-assembled opcodes, exporter.save_binary"
        opcodes, globals_ = pickle_summary(data)
        evil[f"evil/{name}.pkl"] = {
            "made_by": made_by,
            "does": desc,
            "opcodes": opcodes,
            "globals": globals_,
            "blocked": "loading raises, or the result contains none of must_not_contain",
            "must_not_contain": COMMON_NEEDLES + ["PWNED"],
            "host_files_must_not_exist": files,
        }
        if ref:
            evil[f"evil/{name}.pkl"]["cpython_reference"] = ref["evil_pickle"][name]

    dos_methods = {
        "spin": {"args": [], "needs": "callTimeoutMs", "expect": ["CallTimeoutError"]},
        "spin_swallow": {"args": [], "needs": "callTimeoutMs", "expect": ["CallTimeoutError"], "note": "ignores KeyboardInterrupt: the interpreter must be terminated and respawned"},
        "spin_ignore_sigint": {"args": [], "needs": "callTimeoutMs", "expect": ["CallTimeoutError"], "note": "SIGINT -> SIG_IGN first"},
        "spin_detached_interrupt_buffer": {"args": [], "needs": "callTimeoutMs", "expect": ["PythonError", "CallTimeoutError"], "note": "PythonError (RuntimeError: no Pyodide API reachable) is the best outcome; CallTimeoutError means the API was reachable and the worker had to be terminated"},
        "spin_after_return": {"args": [], "needs": "callTimeoutMs", "expect": ["returns"], "note": "returns at once after scheduling a spin on the event loop; the NEXT call on that interpreter must still finish or time out, and the interpreter must recover"},
        "grow_memory": {"args": [16], "needs": "memoryLimitMb", "expect": ["MemoryLimitError", "PythonError", "InterpreterCrashedError"]},
        "fill_fs": {"args": [16], "needs": "memoryLimitMb", "expect": ["MemoryLimitError", "PythonError", "InterpreterCrashedError"]},
        "deep_recursion": {"args": [], "needs": "callTimeoutMs", "expect": ["PythonError", "InterpreterCrashedError", "CallTimeoutError"], "note": "recursion limit 10**6: RecursionError, a C stack overflow, or a slow descent that ignores the interrupt"},
        "huge_alloc": {"args": [64], "needs": "memoryLimitMb", "expect": ["PythonError", "MemoryLimitError", "InterpreterCrashedError", "CallTimeoutError"], "note": "64 GiB: more than a wasm32 address space"},
        "fork_bomb_threads": {"args": [1000, 3600.0], "needs": None, "expect": ["returns"], "note": "Pyodide has no threads: expect {'started': 0, 'error': 'RuntimeError: ...'}"},
        "sleep_forever": {"args": [], "needs": "callTimeoutMs", "expect": ["CallTimeoutError"], "note": "Pyodide's time.sleep may not see the interrupt: expect the worker to be terminated"},
        "flood_stdout": {"args": [8], "needs": None, "expect": ["returns"], "note": "8 MiB of output; the host must stay responsive"},
        "hard_exit": {"args": [], "needs": None, "expect": ["InterpreterCrashedError"], "note": "os._exit(3); the interpreter is respawned, other interpreters unaffected"},
        "system_exit": {"args": [], "needs": None, "expect": ["PythonError", "InterpreterCrashedError"]},
        "sabotage_runtime": {"args": [], "needs": None, "expect": ["returns", "PythonError"], "note": "breaks host._OPS of its interpreter; afterwards, victim calls must still succeed (another interpreter, or this one repaired)"},
        "release_foreign_tensors": {"args": [1000], "needs": None, "expect": ["returns", "PythonError"], "note": "asks the engine to drop tensors t1..t1000; other interpreters' tensors must survive"},
        "engine_flood": {"args": [16, 32], "needs": "engineMemoryPerCallMb", "expect": ["PythonError", "MemoryLimitError"], "note": "512 MiB of never-released engine tensors; the package's engine quota must stop it before the host suffers"},
    }
    # What each attack on the engine must end in. "returns" carries the exact value (integers as
    # decimal strings); an error
    # carries a pattern its message must match (the error reaches Python as EngineError).
    engine_methods = {
        "int_division(int64)": {"method": "int_division", "args": ["int64"], "expect": "returns", "result": division["int64"]},
        "int_division(int32)": {"method": "int_division", "args": ["int32"], "expect": "returns", "result": division["int32"]},
        "handmade_div(int64)": {"method": "handmade_div", "args": ["int64"], "expect": "returns", "result": {"quotient": [str(-(2**63))] * 2, "remainder": ["0", "0"]}, "note": "numpy's two's complement wrap"},
        "handmade_div(int32)": {"method": "handmade_div", "args": ["int32"], "expect": "returns", "result": {"quotient": [str(-(2**31))] * 2, "remainder": ["0", "0"]}, "note": "numpy's two's complement wrap"},
        "big_intermediate()": {"method": "big_intermediate", "args": [], "expect": "PythonError", "message": "engine memory limit", "note": "a 1.6 GB intermediate behind a scalar, over engineMemoryPerCallMb"},
        "shape_from_data()": {"method": "shape_from_data", "args": [], "expect": "PythonError", "message": "must be a Constant node"},
        "large_constant(3000000)": {"method": "large_constant", "args": [3000000], "expect": "PythonError", "message": "over the (limit|\\d+ limit)"},
        "padded_request(200)": {"method": "padded_request", "args": [200], "expect": "PythonError", "message": "over the \\d+ limit"},
        "padded_request(1)": {"method": "padded_request", "args": [1], "expect": "PythonError", "message": "unknown field \"junk\""},
        "many_graphs(300, 64)": {"method": "many_graphs", "args": [300, 64], "expect": "returns", "note": "300 compiled sessions: the tenant's share keeps its most recent ones"},
    }
    out = {
        "generated_by": "packages/make_hostile.py (torch %s, CPython %s)" % (torch.__version__, sys.version.split()[0]),
        "canary_env": CANARY_ENV,
        "placeholders": PLACEHOLDERS,
        "common_must_not_contain": COMMON_NEEDLES,
        "host_files_must_not_exist": HOST_FILES,
        "protocol": PROTOCOL,
        "result_shape": {"route": "str", "got": "str|null (evidence)", "error": "str|null", "note": "str|null (never checked)", "ok": "[labels of probes that got something] (never checked)"},
        "archives": {
            "victim.pt": {
                **info["victim.pt"],
                "pickle": {"package": "victim", "resource": "victim.pkl"},
                "also": {"package": "victim", "resource": "weights.pkl", "what": "float32 tensor [271828.125, -314159.25, 0.5] (needs the tensor engine)"},
                "calls": [
                    {"method": "answer", "args": [5], "result": 11},
                    {"method": "answer", "args": [123456789], "result": 246913579},
                    {"method": "secret_length", "args": [], "result": 30},
                    {"method": "tamper_check", "args": [], "result": []},
                ],
            },
            "escapes.pt": {
                **info["escapes.pt"],
                "pickle": {"package": "hostile", "resource": "escapes.pkl"},
                "list_routes": kit_routes,
                "victim_step_before": VICTIM_STEP_BEFORE,
                "methods": routes_meta,
            },
            "hostile_import.pt": {
                **info["hostile_import.pt"],
                "pickle": {"package": "hostile", "resource": "import.pkl"},
                "methods": {"findings": {"returns": "{probe: {got, error}}", "each_got_must_be_null": True, "must_not_contain": COMMON_NEEDLES}},
                "probes": sorted(ref["hostile_import"]) if ref else None,
            },
            "dos.pt": {**info["dos.pt"], "pickle": {"package": "hostile", "resource": "dos.pkl"}, "methods": dos_methods},
            "evil_pickle.pt": {**info["evil_pickle.pt"], "pickles": evil},
            "engine_attack.pt": {**info["engine_attack.pt"], "pickle": {"package": "hostile", "resource": "engine.pkl"}, "methods": engine_methods},
        },
    }
    if ref:
        out["archives"]["hostile_import.pt"]["cpython_reference"] = ref["hostile_import"]
        out["archives"]["dos.pt"]["cpython_reference"] = ref["dos"]
        out["archives"]["victim.pt"]["cpython_reference"] = ref["victim.pt"]
    return out


_posix_pickle_bytes = None


def main():
    global _posix_pickle_bytes
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "archives", "hostile"))
    ap.add_argument("--no-reference", action="store_true", help="skip the CPython reference run")
    args = ap.parse_args()
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    print("torch %s, python %s" % (torch.__version__, sys.version.split()[0]))
    os.environ[CANARY_ENV] = REFERENCE_CANARY  # this process only (and its children)

    info = build_all(out_dir)
    division = {d: int_division_reference(d) for d in ("int64", "int32")}  # while the sources are importable
    evil_root = info["evil_pickle.pt"]["root"]
    with zipfile.ZipFile(os.path.join(out_dir, "evil_pickle.pt")) as z:
        _posix_pickle_bytes = z.read(evil_root + "/evil/posix_system.pkl")
        for name, (data, _d, _f) in evil_pickles().items():
            assert z.read(f"{evil_root}/evil/{name}.pkl") == data, name

    ref = None
    if not args.no_reference:
        stale = _remove_markers()
        if stale:
            print("removed stale marker files: %s" % stale)
        ref = reference_run(out_dir)
        created = _remove_markers()
        print("reference run created (and we removed) %s" % created)
        ref["created_host_files"] = created
    m = manifest(info, ref, division)
    if ref:
        m["cpython_reference_created_host_files"] = ref["created_host_files"]
    write_json(os.path.join(out_dir, "manifest.json"), m)
    gc.collect()
    print("wrote %s" % os.path.join(out_dir, "manifest.json"))


if __name__ == "__main__":
    main()
