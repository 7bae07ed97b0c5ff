"""Dev-only backend for CPython: storages live in this process, graphs run on the real engine
in a node subprocess (ort_server.mjs). Use: `import devbackend; devbackend.install()` before
tensors are used (runtime/ must be first on sys.path)."""

import base64
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class DevBackend:
    def __init__(self):
        self.proc = subprocess.Popen(
            ["node", os.path.join(HERE, "ort_server.mjs")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self.data = {}  # storage id -> bytes
        self.registered = set()
        self.next = 0
        self.runs = 0
        self.specs = []

    def _call(self, req):
        self.proc.stdin.write(json.dumps(req, allow_nan=False) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if not reply.get("ok"):
            raise RuntimeError("engine: " + reply.get("error", "?"))
        return reply

    def _itemsize(self, dtype):
        return {"float32": 4, "float64": 8, "float16": 2, "int64": 8, "int32": 4, "int8": 1, "uint8": 1, "bool": 1}[dtype]

    def run(self, spec, feeds):
        from torch._storage import Storage

        self.runs += 1
        self.specs.append(spec)
        for w in spec["weights"]:
            if w["storage"] not in self.registered:
                self._call({"op": "register", "id": w["storage"], "dtype": w["dtype"], "data": base64.b64encode(self.data[w["storage"]]).decode()})
                self.registered.add(w["storage"])
        wire = {}
        for inp in spec["inputs"]:
            storage, offset = feeds[inp["name"]]
            size = self._itemsize(inp["dtype"])
            n = 1
            for d in inp["shape"]:
                n *= d
            raw = self.data[storage.id][offset * size : (offset + n) * size]
            wire[inp["name"]] = {"dtype": inp["dtype"], "shape": inp["shape"], "data": base64.b64encode(raw).decode()}
        reply = self._call({"op": "run", "spec": spec, "feeds": wire})
        out = []
        for o, data in zip(spec["outputs"], reply["outputs"]):
            n = 1
            for d in o["shape"]:
                n *= d
            out.append(self._new(base64.b64decode(data), o["dtype"], n, Storage))
        return out

    def _new(self, data, dtype, numel, Storage, stable=False, sid=None):
        if sid is None:
            self.next += 1
            sid = f"t{self.next}"
        self.data[sid] = bytes(data)
        return Storage(sid, dtype, numel, stable)

    def read(self, storage, dtype, offset, numel):
        size = self._itemsize(dtype)
        return self.data[storage.id][offset * size : (offset + numel) * size]

    def write(self, data, dtype, numel):
        from torch._storage import Storage

        return self._new(data, dtype, numel, Storage)

    def stable(self, data, dtype, numel, sid):
        """A weight storage (as if unpickled from a package)."""
        from torch._storage import Storage

        return self._new(data, dtype, numel, Storage, True, sid)

    def release(self, storage_id):
        self.data.pop(storage_id, None)


_backend = None


def _stub_pyodide():
    # torch._backend imports pyodide.ffi at module level; CPython has none.
    import types

    if "pyodide.ffi" not in sys.modules:
        try:
            import pyodide.ffi  # noqa: F401
        except ImportError:
            p = types.ModuleType("pyodide")
            ffi = types.ModuleType("pyodide.ffi")
            ffi.JsException = type("JsException", (Exception,), {})
            ffi.to_js = lambda x, **k: x
            p.ffi = ffi
            sys.modules["pyodide"] = p
            sys.modules["pyodide.ffi"] = ffi


def install():
    global _backend
    _stub_pyodide()
    import torch._backend as tb

    _backend = DevBackend()
    tb.set_backend(_backend)
    return _backend
