"""Helpers shared by the Python baselines (run with Debian's /usr/bin/python3 + python3-torch).

Every baseline takes one JSON argument, prints progress on stderr and one JSON object on stdout.
"""

import json
import math
import os
import sys
import time

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOL = 1e-4  # |got - expected| <= TOL * max(1, max|expected|), as on the TypeScript side


def args():
    return json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def repo_path(p):
    return p if os.path.isabs(p) else os.path.join(REPO, p)


def manifest():
    with open(repo_path("bench/.cache/models/bench.json")) as f:
        return json.load(f)


def find_model(m, model, batch):
    for e in m["models"]:
        if e["model"] == model and e["batch"] == batch:
            return e
    raise KeyError("%s batch %d" % (model, batch))


def load_object(archive, pickle):
    from torch.package import PackageImporter

    return PackageImporter(repo_path(archive)).load_pickle(pickle[0], pickle[1])


def load_arrays(files):
    import numpy as np
    import torch

    return [torch.from_numpy(np.load(repo_path(f["file"]))) for f in files]


def check(out, want):
    """Compares a tensor with PyTorch's expected output (same rule as bench/lib/common.ts)."""
    import torch

    if not isinstance(out, torch.Tensor):
        return {"ok": False, "error": "expected a tensor, got %s" % type(out).__name__}
    if list(out.shape) != list(want.shape):
        return {"ok": False, "error": "shape %s is not %s" % (list(out.shape), list(want.shape))}
    err = (out.double() - want.double()).abs().max().item() if want.numel() else 0.0
    bound = TOL * max(1.0, want.double().abs().max().item() if want.numel() else 0.0)
    ok = err <= bound
    r = {"ok": ok, "maxAbsErr": err, "bound": bound}
    if not ok:
        r["error"] = "output differs from the expected: max |error| %.2e > %.2e" % (err, bound)
    return r


def time_calls(timing, fn):
    """Per-call milliseconds after warm-up; same rule as timeCalls() in bench/lib/common.ts."""
    for _ in range(timing["warmup"]):
        fn()
    samples, spent = [], 0.0
    while len(samples) < timing["minReps"] or (spent < timing["budgetMs"]
                                                and len(samples) < timing["maxReps"]):
        t = time.perf_counter()
        fn()
        dt = (time.perf_counter() - t) * 1000
        samples.append(dt)
        spent += dt
    return samples


def quantile(s, q):
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summarize(xs):
    s = sorted(xs)
    r = lambda x: round(x, 4)  # noqa: E731
    return {"n": len(s), "median": r(quantile(s, 0.5)), "p10": r(quantile(s, 0.1)),
            "p90": r(quantile(s, 0.9)), "q1": r(quantile(s, 0.25)), "q3": r(quantile(s, 0.75)),
            "mean": r(sum(s) / max(1, len(s))), "min": r(s[0]), "max": r(s[-1])}


def fmt(s):
    return "median %.2f ms (p10 %.2f, p90 %.2f, n=%d)" % (s["median"], s["p10"], s["p90"], s["n"])


def rss_bytes(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def pss_bytes(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None
