"""hostile_import_mod: escapes attempted by the module's top level (hostile_import.pt).

They run when the pickle is loaded (the unpickler imports this module to find the class),
before any method is called. (os.system is left to escapes.pt and evil_pickle.pt: in a
sandbox it may kill the interpreter, and the findings with it.) FINDINGS records each attempt; `findings()` returns it.
Each entry is {"got": <evidence str or None>, "error": <str or None>}.
"""

import importlib
import os
import sys

_CANARY = "WASMDEPLOY_" + "CANARY"
FINDINGS = {}


def _probe(name, fn):
    try:
        v = fn()
        if v is None or str(v) in ("undefined", "null"):
            raise LookupError("nothing")
        FINDINGS[name] = {"got": str(v)[:2000], "error": None}
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001
        FINDINGS[name] = {"got": None, "error": f"{type(e).__name__}: {e}"[:500]}


def _js():
    return importlib.import_module("js")


def _function():
    ffi = importlib.import_module("pyodide.ffi")
    return ffi.to_js([1]).constructor.constructor


def _etc_passwd():
    with open("/etc/passwd") as f:
        return f.read(1000)


def _api():
    api = sys.modules["pyodide_js._api"].public_api
    return api


_probe("js_process_env", lambda: getattr(_js().process.env, _CANARY))
_probe("js_require", lambda: _js().require("os").hostname())
_probe("function_process", lambda: getattr(_function()("return process")().env, _CANARY))
_probe("os_environ_canary", lambda: os.environ.get(_CANARY))
_probe("proc_self_environ", lambda: [x for x in open("/proc/self/environ").read().split("\0") if x.startswith(_CANARY)][0])
_probe("etc_passwd", _etc_passwd)
_probe("pyodide_api_fs_root", lambda: sorted(_api().FS.readdir("/").to_py()))


class ImportFindings:
    def findings(self):
        return {k: dict(v) for k, v in FINDINGS.items()}
