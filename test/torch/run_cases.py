"""Runs op_cases.py under wasmdeploy's runtime in CPython (dev backend: graphs run on the real
engine in a node subprocess) and compares with op_expected.json. For quick iteration; the
real check is ops.test.ts (Pyodide).

    python3 test/torch/run_cases.py [--eager] [name-substring ...]
"""

import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime"))
sys.path.insert(0, os.path.join(HERE, "dev"))
sys.path.insert(0, HERE)

import devbackend  # noqa: E402

backend = devbackend.install()

import torch  # noqa: E402

import op_cases  # noqa: E402

TOL = {"float32": (1e-5, 1e-4), "float64": (1e-7, 1e-6), "float16": (1e-3, 1e-3)}


def close(a, b, atol, rtol):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= atol + rtol * abs(b)
    return a == b


def compare(got, want, tol, path="result"):
    """-> None if equal, else a message."""
    if set(got) != set(want):
        return f"{path}: kind {sorted(got)} != {sorted(want)}"
    if "t" in want:
        if got["t"] != want["t"]:
            return f"{path}: dtype {got['t']} != {want['t']}"
        if got["shape"] != want["shape"]:
            return f"{path}: shape {got['shape']} != {want['shape']}"
        atol, rtol = tol or TOL.get(want["t"], (0, 0))
        for i, (x, y) in enumerate(zip(got["data"], want["data"])):
            if not close(x, y, atol, rtol):
                return f"{path}[{i}]: {x} != {y}"
        return None
    if "seq" in want:
        if len(got["seq"]) != len(want["seq"]):
            return f"{path}: length {len(got['seq'])} != {len(want['seq'])}"
        for i, (g, w) in enumerate(zip(got["seq"], want["seq"])):
            m = compare(g, w, tol, f"{path}[{i}]")
            if m:
                return m
        return None
    key = next(iter(want))
    g, w = got[key], want[key]
    if isinstance(w, float) and isinstance(g, (float, int)) and not isinstance(g, bool):
        atol, rtol = tol or (1e-5, 1e-4)
        return None if close(float(g), w, atol, rtol) else f"{path}: {g} != {w}"
    return None if g == w and type(g) is type(w) or g == w and not isinstance(w, bool) else f"{path}: {g!r} != {w!r}"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--eager" in sys.argv:
        torch._graph.set_eager(True)
    expected = json.load(open(os.path.join(HERE, "op_expected.json")))["cases"]
    passed = failed = 0
    t0 = time.time()
    for c in op_cases.CASES:
        if args and not any(a in c["name"] for a in args):
            continue
        want = expected.get(c["name"])
        if want is None:
            print(f"SKIP {c['name']}: no expectation (run make_op_expected.py)")
            continue
        r = op_cases.run_case(c)
        msg = None
        if "error" in want:
            if "error" not in r:
                msg = f"expected {want['error']}, got a result"
            elif r["error"][0] != want["error"] and not (want["error"] == "NotImplementedError" and r["error"][0] == "_Unsupported"):
                msg = f"expected {want['error']}, got {r['error'][0]}: {r['error'][1]}"
            elif want["contains"] not in r["error"][1]:
                msg = f"message {r['error'][1]!r} lacks {want['contains']!r}"
        elif "error" in r:
            msg = f"raised {r['error'][0]}: {r['error'][1]}"
        else:
            msg = compare(r["ok"], want["result"], want.get("tol"))
        if msg:
            failed += 1
            print(f"FAIL {c['name']}: {msg}")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed in {time.time() - t0:.1f}s; engine runs: {backend.runs}")


if __name__ == "__main__":
    main()
