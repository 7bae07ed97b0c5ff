#!/usr/bin/python3
"""Builds the host replay test models (packages/model_sources/host_replay_models.py) and what
real PyTorch gives for each step of a scripted session with each.

    /usr/bin/python3 packages/make_host_replay_models.py [--out DIR]

Writes into DIR (default packages/models/host_replay/): NAME.pt (model at model/model.pkl, eval
mode) and steps.json: per model, its steps in order. A step is a call {"method", "args",
"kwargs", "expected"} (an argument {"same": i} is argument i again, the same tensor object) or a
{"setattr": name, "value": v} the host makes between calls. Results come from the archive loaded
with torch.package.PackageImporter, called under torch.no_grad() on 1 thread. Deterministic.
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "model_sources"))

import torch  # noqa: E402
from torch.package import PackageExporter, PackageImporter  # noqa: E402

torch.set_num_threads(1)


def steps_for(name, g):
    x = lambda b=2: torch.randn(b, 6, generator=g)  # noqa: E731
    call = lambda *a, method=None, **kw: {"method": method, "args": list(a), "kwargs": kw}  # noqa: E731
    if name == "scaled":
        x1 = x()
        return ([call(x1) for _ in range(4)] + [call(x()) for _ in range(2)]
                + [{"setattr": "scale", "value": 3.0}] + [call(x()) for _ in range(3)]
                + [call(0.5, method="set_scale")] + [call(x()) for _ in range(3)]
                + [call(x(), k=2) for _ in range(3)] + [call(x(), k=2.5) for _ in range(2)] + [call(x(), k=2) for _ in range(2)]
                + [call(x(3)) for _ in range(3)] + [call(x()) for _ in range(2)])
    if name == "pair":
        out = []
        for same in (False, False, False, False, True, True, True, False, False, True):
            a = x()
            out.append(call(a, {"same": 0}) if same else call(a, x()))
        return out
    if name in ("mixed", "echo"):
        return [call(x()) for _ in range(5)]
    raise KeyError(name)


MODELS = [("scaled", "Scaled"), ("pair", "Pair"), ("mixed", "Mixed"), ("echo", "Echo")]


def encode(v):
    if isinstance(v, torch.Tensor):
        t = v.detach().contiguous()
        return {"tensor": {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "data": [float(e) for e in t.reshape(-1).tolist()]}}
    if isinstance(v, tuple):
        return {"tuple": [encode(e) for e in v]}
    if isinstance(v, list):
        return [encode(e) for e in v]
    if isinstance(v, dict):
        return {"dict": {k: encode(e) for k, e in v.items()}}
    if isinstance(v, (int, float, bool, str)) or v is None:
        return v
    raise TypeError(type(v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "models", "host_replay"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import host_replay_models

    out = {"models": []}
    for i, (name, cls) in enumerate(MODELS):
        torch.manual_seed(3000 + i)
        model = getattr(host_replay_models, cls)().eval()
        path = os.path.join(args.out, name + ".pt")
        with PackageExporter(path) as e:
            e.intern(["host_replay_models"])
            e.extern(["torch", "torch.**"])
            e.save_pickle("model", "model.pkl", model)
        loaded = PackageImporter(path).load_pickle("model", "model.pkl")
        g = torch.Generator().manual_seed(4000 + i)
        steps = []
        with torch.no_grad():
            for step in steps_for(name, g):
                if "setattr" in step:
                    setattr(loaded, step["setattr"], step["value"])
                    steps.append(step)
                    continue
                cargs = [step["args"][a["same"]] if isinstance(a, dict) else a for a in step["args"]]
                enc_args = [a if isinstance(a, dict) else encode(a) for a in step["args"]]
                # encode the arguments before the call: it may change them in place
                fn = getattr(loaded, step["method"]) if step["method"] else loaded
                res = fn(*cargs, **step["kwargs"])
                steps.append({"method": step["method"], "args": enc_args, "kwargs": {k: encode(v) for k, v in step["kwargs"].items()}, "expected": encode(res)})
        out["models"].append({"name": name, "file": name + ".pt", "pickle": ["model", "model.pkl"], "steps": steps})
        print(f"{name}: {len(steps)} steps", file=sys.stderr)
    with open(os.path.join(args.out, "steps.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
