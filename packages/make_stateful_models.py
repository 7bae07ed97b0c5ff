#!/usr/bin/python3
"""Builds the replay test models (packages/model_sources/stateful_models.py) and what real
PyTorch gives for several successive calls of each.

    /usr/bin/python3 packages/make_stateful_models.py [--out DIR]

Writes into DIR (default packages/models/stateful/): NAME.pt (model at model/model.pkl, eval
mode) and calls.json: per model, the archive's file name in DIR, the calls in order (method,
arguments) and PyTorch's result of each. The results come from the archive loaded with torch.package.PackageImporter (fresh module
copies, so class attributes and module globals start from their initial values), called in the
listed order under torch.no_grad() on 1 thread. The output is deterministic.
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = os.path.join(HERE, "model_sources")
sys.path.insert(0, SOURCES)

import torch  # noqa: E402
from torch.package import PackageExporter, PackageImporter  # noqa: E402

torch.set_num_threads(1)


def rnd(g, *shape, scale=1.0, shift=0.0):
    return torch.randn(*shape, generator=g) * scale + shift


def calls_for(name, g):
    """(method, args) in call order. Tensor arguments are float32."""
    fwd = lambda *a: (None, list(a))  # noqa: E731
    if name == "value_branch":
        return [fwd(rnd(g, 3, 6, shift=s)) for s in (1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0)]
    if name == "item_loop":
        return [fwd(rnd(g, 2, 6, scale=s)) for s in (0.3, 1.0, 0.6, 0.3, 2.0, 0.9)]
    if name == "early_exit":
        return [fwd(rnd(g, 2, 6, scale=s)) for s in (0.1, 3.0, 0.5, 5.0, 0.2, 2.0, 3.0)]
    if name == "shape_branch":
        return [fwd(rnd(g, b, 6)) for b in (1, 3, 1, 4, 3, 2, 2)]
    if name == "step_buffer":
        return [fwd(rnd(g, 3, 6)) for _ in range(7)]
    if name == "attr_counter":
        return [fwd(rnd(g, 2, 6)) for _ in range(5)]
    if name == "list_append":
        return [fwd(rnd(g, b, 6)) for b in (2, 2, 3, 2, 2)]
    if name == "class_counter":
        return [fwd(rnd(g, 2, 6)) for _ in range(5)]
    if name == "global_scale":
        x = lambda: rnd(g, 2, 6)  # noqa: E731
        return [fwd(x()), fwd(x()), fwd(x()), ("set_scale", [2.0]), fwd(x()), fwd(x()),
                ("set_offset", [0.5]), fwd(x()), fwd(x()), ("set_scale", [1.0]), fwd(x())]
    if name in ("closure_counter", "py_random"):
        return [fwd(rnd(g, 2, 6)) for _ in range(5)]
    if name == "stable":
        return [fwd(rnd(g, b, 6)) for b in (2, 2, 3, 2, 3, 2)]
    raise KeyError(name)


MODELS = [
    ("value_branch", "ValueBranch"),
    ("item_loop", "ItemLoop"),
    ("early_exit", "EarlyExit"),
    ("shape_branch", "ShapeBranch"),
    ("step_buffer", "StepBuffer"),
    ("attr_counter", "AttrCounter"),
    ("list_append", "ListAppend"),
    ("class_counter", "ClassCounter"),
    ("global_scale", "GlobalScale"),
    ("stable", "Stable"),
    ("closure_counter", "ClosureCounter"),
    ("py_random", "PyRandom"),
]


def encode(v):
    if isinstance(v, torch.Tensor):
        t = v.detach().contiguous()
        assert t.dtype == torch.float32, t.dtype
        return {"tensor": {"dtype": "float32", "shape": list(t.shape), "data": [float(x) for x in t.reshape(-1).tolist()]}}
    if isinstance(v, (tuple, list)):
        return [encode(x) for x in v]
    if isinstance(v, (int, float, bool)) or v is None:
        return v
    raise TypeError(type(v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "models", "stateful"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import stateful_models

    out = {"models": []}
    for i, (name, cls) in enumerate(MODELS):
        torch.manual_seed(1000 + i)
        model = getattr(stateful_models, cls)().eval()
        path = os.path.join(args.out, name + ".pt")
        with PackageExporter(path) as e:
            e.intern(["stateful_models", "stateful_config"])
            e.extern(["torch", "torch.**"])
            e.save_pickle("model", "model.pkl", model)
        loaded = PackageImporter(path).load_pickle("model", "model.pkl")
        g = torch.Generator().manual_seed(2000 + i)
        calls = []
        with torch.no_grad():
            for method, cargs in calls_for(name, g):
                fn = getattr(loaded, method) if method else loaded
                res = fn(*cargs)
                calls.append({"method": method, "args": [encode(a) for a in cargs], "expected": encode(res)})
        out["models"].append({"name": name, "file": name + ".pt",
                              "pickle": ["model", "model.pkl"], "calls": calls})
        print(f"{name}: {len(calls)} calls", file=sys.stderr)
    with open(os.path.join(args.out, "calls.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
