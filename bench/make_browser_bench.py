"""Models for bench/browser.ts, made with real PyTorch: each torchvision model packaged with
torch.package AND exported to ONNX from the same weights, plus an input.

    /usr/bin/python3 bench/make_browser_bench.py OUT_DIR NAME:SIZE [NAME:SIZE ...]

writes OUT_DIR/NAME.pt (pickle model/model.pkl), NAME.onnx (input "x", opset 17) and
NAME.input.npy (batch 1). Random weights (no network here), seed 0, 1000 classes.
"""

import os
import sys

import numpy as np
import torch
import torchvision
from torch.package import PackageExporter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "packages"))
from make_torchvision_model import MOCKED  # noqa: E402


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for spec in sys.argv[2:]:
        name, size = spec.split(":")
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)().eval()
        with PackageExporter(os.path.join(out, f"{name}.pt")) as e:
            e.extern("sys")
            e.mock(MOCKED)
            e.intern("torchvision.**")
            e.save_pickle("model", "model.pkl", model)
        x = torch.randn(1, 3, int(size), int(size))
        np.save(os.path.join(out, f"{name}.input.npy"), x.numpy())
        torch.onnx.export(model, x, os.path.join(out, f"{name}.onnx"), input_names=["x"], output_names=["y"], opset_version=17)
        print(name, "ok")


if __name__ == "__main__":
    main()
