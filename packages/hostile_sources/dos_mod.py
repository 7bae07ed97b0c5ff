"""dos_mod: denial of service from inside an interpreter (dos.pt).

Every method misbehaves. The host must contain each one to this package's interpreter and
quota: deadlines (KeyboardInterrupt, then terminating the worker), memory limits, and
respawning. make_hostile.py only ever calls fork_bomb_threads(limit=2, hold_s=0) and
spin_after_return() (both harmless in CPython).
"""

import os
import signal
import sys
import threading
import time


def _spin():
    while True:
        pass


class Dos:
    def spin(self):
        while True:
            pass

    def spin_swallow(self):
        """Ignores the deadline's KeyboardInterrupt: only terminating the worker stops it."""
        while True:
            try:
                while True:
                    pass
            except KeyboardInterrupt:
                pass

    def spin_ignore_sigint(self):
        """SIGINT set to SIG_IGN (Pyodide delivers interrupts as SIGINT), then spin."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while True:
            pass

    def spin_detached_interrupt_buffer(self):
        """Give Pyodide a fresh interrupt buffer the host does not know, then spin."""
        import importlib

        ffi = importlib.import_module("pyodide.ffi")
        api = None
        for get in (lambda: importlib.import_module("pyodide_js"), lambda: sys.modules["pyodide_js._api"].public_api):
            try:
                api = get()
                break
            except KeyboardInterrupt:
                raise
            except BaseException:  # noqa: BLE001
                continue
        if api is None:
            raise RuntimeError("no Pyodide API reachable: cannot swap the interrupt buffer")
        Uint8Array = ffi.to_js(b"\0\0\0\0").constructor
        api.setInterruptBuffer(Uint8Array.new(4))
        while True:
            pass

    def spin_after_return(self):
        """Schedule a spin on the event loop and return at once: it runs outside any call."""
        import asyncio

        try:
            loop = asyncio.get_event_loop()
        except RuntimeError as e:
            return f"no event loop: {e}"
        if sys.platform != "emscripten":  # CPython's loop would never run it anyway
            return f"not scheduled outside emscripten ({type(loop).__name__})"
        loop.call_soon(_spin)
        return f"scheduled on {type(loop).__name__}"

    def grow_memory(self, step_mb=16):
        """Append step_mb MiB bytearrays until something stops it (MemoryError propagates)."""
        chunks = []
        while True:
            chunks.append(bytearray(step_mb * 2**20))

    def fill_fs(self, step_mb=16):
        """Write step_mb MiB files into the interpreter's in-memory /tmp until it fails."""
        i = 0
        block = b"\xa5" * (step_mb * 2**20)
        while True:
            with open(f"/tmp/wd_fill_{i}", "wb") as f:
                f.write(block)
            i += 1

    def deep_recursion(self):
        sys.setrecursionlimit(10**6)

        def r(n):
            return r(n + 1) + 1

        return r(0)

    def huge_alloc(self, gb):
        return len(bytearray(gb * 2**30))

    def fork_bomb_threads(self, limit=None, hold_s=3600.0):
        """Start threads until `limit` (None: forever) or until starting one fails."""
        started = 0
        error = None
        try:
            while limit is None or started < limit:
                t = threading.Thread(target=time.sleep, args=(hold_s,), daemon=True)
                t.start()
                started += 1
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # noqa: BLE001
            error = f"{type(e).__name__}: {e}"
        return {"started": started, "error": error}

    def sleep_forever(self):
        while True:
            time.sleep(3600)

    def flood_stdout(self, mb=64):
        """Print mb MiB of text (the host's output handler gets it line by line)."""
        line = "x" * 1023
        for _ in range(mb * 1024):
            print(line)
        return mb

    def hard_exit(self):
        """End the interpreter process/worker outright (not catchable)."""
        os._exit(3)

    def system_exit(self):
        raise SystemExit(0)

    def sabotage_runtime(self):
        """Break the dispatcher every package in this interpreter shares."""
        host = sys.modules["wasmdeploy_runtime.host"]

        def broken(req):
            raise RuntimeError("sabotaged by dos.pt")

        for op in list(host._OPS):
            host._OPS[op] = broken
        return "sabotaged"

    def release_foreign_tensors(self, max_id=1000):
        """Ask the engine to release tensors of other interpreters ("t<N>") through the bridge."""
        import importlib
        import json

        ffi = importlib.import_module("pyodide.ffi")
        call = importlib.import_module("wasmdeploy_bridge").call
        ids = [f"t{n}" for n in range(1, max_id + 1)]
        call("release", json.dumps({"release": ids}), ffi.to_js([]))
        return len(ids)

    def engine_flood(self, step_mb=64, count=None):
        """Write step_mb MiB tensors into the engine's store and never release them."""
        import importlib
        import json

        ffi = importlib.import_module("pyodide.ffi")
        call = importlib.import_module("wasmdeploy_bridge").call
        data = bytes(step_mb * 2**20)
        n = 0
        while count is None or n < count:
            call("write", json.dumps({"dtype": "uint8", "numel": len(data)}), ffi.to_js([data]))
            n += 1
        return n
