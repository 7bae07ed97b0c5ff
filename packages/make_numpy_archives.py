"""Archives that extern numpy (issue 21), made with real PyTorch, and their expected outputs.

    /usr/bin/python3 packages/make_numpy_archives.py [OUT_DIR]   (default packages/archives/numpy)

Sources: packages/model_sources/np_pipe.py and numpy_head.py.
- np_prepost.pt: `pipe/pipe.pkl`, a Pipeline whose pre- and post-processing methods use numpy
  (normalize, softmax, top-k by argsort, a histogram, a cumulative sum, a matrix solve).
- np_forward.pt: `model/model.pkl`, an nn.Module whose forward goes through numpy
  (`np.asarray(x.tolist())`, numpy math, `torch.tensor(...)` back) around a Linear layer.
- np_interop.pt: `model/model.pkl`, a forward that uses Tensor.numpy(), np.asarray(tensor),
  torch.from_numpy, torch.as_tensor and torch.tensor of arrays (packages/model_sources/numpy_interop.py).

expected.json holds what real PyTorch and Debian's numpy return for each call, run from the saved
archives with torch.package's PackageImporter (numpy is the process's own, as externed).
"""

import json
import os
import sys

import numpy as np
import torch
from torch.package import PackageExporter, PackageImporter

def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    expected = {"made_with": {"torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0]}, "calls": []}

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_sources"))
    import np_pipe
    import numpy_head
    import numpy_interop

    path = os.path.join(out_dir, "np_prepost.pt")
    pipe = np_pipe.Pipeline([1.0, 2.0, 3.0], [0.5, 1.0, 2.0], ["cat", "dog", "fox", "owl"])
    with PackageExporter(path) as e:
        e.extern("numpy.**")
        e.intern("np_pipe")
        e.save_pickle("pipe", "pipe.pkl", pipe)
    calls = [
        ("preprocess", [[[1.0, 2.0, 3.0], [2.5, 0.0, 7.0]]]),
        ("softmax_topk", [[[1.0, 3.0, 0.5, 2.0], [0.1, 0.2, 0.3, 0.4]], 2]),
        ("stats", [[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]]),
        ("solve", [[[3.0, 1.0], [1.0, 2.0]], [9.0, 8.0]]),
    ]
    loaded = PackageImporter(path).load_pickle("pipe", "pipe.pkl")
    for method, args in calls:
        expected["calls"].append({"archive": "np_prepost.pt", "pickle": ["pipe", "pipe.pkl"], "method": method, "args": args, "result": getattr(loaded, method)(*args)})

    path = os.path.join(out_dir, "np_forward.pt")
    model = numpy_head.NumpyHead().eval()
    with PackageExporter(path) as e:
        e.extern("numpy.**")
        e.intern("numpy_head")
        e.save_pickle("model", "model.pkl", model)
    x = torch.tensor([[0.1, 0.9, 0.4, 0.3], [0.7, 0.2, 1.0, 0.0]], dtype=torch.float32)
    loaded = PackageImporter(path).load_pickle("model", "model.pkl")
    with torch.no_grad():
        y = loaded(x)
    expected["calls"].append({"archive": "np_forward.pt", "pickle": ["model", "model.pkl"], "method": "__call__", "input": x.tolist(), "result": y.tolist()})

    path = os.path.join(out_dir, "np_interop.pt")
    model = numpy_interop.Interop().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    with PackageExporter(path) as e:
        e.extern("numpy.**")
        e.intern("numpy_interop")
        e.save_pickle("model", "model.pkl", model)
    ids = torch.tensor([5, 7, 9, 11], dtype=torch.int64)
    loaded = PackageImporter(path).load_pickle("model", "model.pkl")
    with torch.no_grad():
        y = loaded(x, ids)
    expected["calls"].append(
        {
            "archive": "np_interop.pt",
            "pickle": ["model", "model.pkl"],
            "method": "__call__",
            "input": x.tolist(),
            "ids": ids.tolist(),
            "result": [y[0].tolist(), y[1].tolist(), y[2].tolist(), *y[3:]],
        }
    )

    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "archives", "numpy"))
