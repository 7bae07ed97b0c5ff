"""Package any torchvision classification model with real PyTorch, plus an input and
PyTorch eager's output, for checks on models outside the committed suite.

    /usr/bin/python3 packages/make_torchvision_model.py NAME OUT_DIR [--size 224] [--seed 0]

writes OUT_DIR/NAME.pt (pickle model/model.pkl), NAME.input.npy and NAME.expected.npy.
Random weights (no network here), fixed seed; the expected output comes from loading the
archive back with torch.package.PackageImporter, on one thread, under no_grad.
"""

import argparse
import os

import numpy as np
import torch
import torchvision
from torch.package import PackageExporter, PackageImporter

# torchvision pulls in these at import time; the models never use them.
MOCKED = [
    "numpy",
    "PIL.**",
    "torchvision.io.**",
    "torchvision.datasets.**",
    "torchvision.models._meta",
    "torchvision.transforms.functional_pil",
    "torchvision.transforms.functional_tensor",
    "torchvision.transforms._pil_constants",
    "torchvision.extension",
] + [
    f"torchvision.ops.{m}"
    for m in [
        "boxes", "roi_align", "roi_pool", "ps_roi_align", "ps_roi_pool", "deform_conv", "poolers",
        "feature_pyramid_network", "focal_loss", "giou_loss", "diou_loss", "ciou_loss", "drop_block",
        "_box_convert", "_utils",
    ]
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--classes", type=int, default=10)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    model = getattr(torchvision.models, args.name)(num_classes=args.classes).eval()
    path = os.path.join(args.out, f"{args.name}.pt")
    with PackageExporter(path) as e:
        e.extern("sys")
        e.mock(MOCKED)
        e.intern("torchvision.**")
        e.save_pickle("model", "model.pkl", model)
    x = torch.randn(1, 3, args.size, args.size)
    np.save(os.path.join(args.out, f"{args.name}.input.npy"), x.numpy())
    torch.set_num_threads(1)
    with torch.no_grad():
        y = PackageImporter(path).load_pickle("model", "model.pkl")(x)
    np.save(os.path.join(args.out, f"{args.name}.expected.npy"), y.numpy())
    print(f"{args.name}: {os.path.getsize(path)} bytes, output {tuple(y.shape)}")


if __name__ == "__main__":
    main()
