"""Archives that extern PIL (and numpy), made with real PyTorch, and their expected outputs (issue 21).

    /usr/bin/python3 packages/make_pil_archives.py [OUT_DIR]   (default packages/archives/pil)

Sources: packages/model_sources/pil_codec.py and pil_transforms.py.
- img.png, img.jpg: a 16x12 RGB test image encoded by Debian's Pillow 9.4.0 (zlib 1.2.13,
  libjpeg-turbo 2.1.5), the bytes the tests hand to the archives.
- pil_codec.pt: `codec/codec.pkl`, decode / encode / convert and resize through Pillow.
- pil_transforms.pt: `model/model.pkl`, an nn.Module that decodes image bytes with PIL and runs
  torchvision's Resize, ToTensor, PILToTensor and Normalize (torchvision's Python code interned,
  as in packages/make_torchvision_model.py) before a small conv net.

expected.json holds what real PyTorch, torchvision and Debian's Pillow return for each call,
run from the saved archives with torch.package's PackageImporter.
"""

import io
import json
import os
import sys

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torch.package import PackageExporter, PackageImporter

# torchvision modules its transforms never reach (as packages/make_torchvision_model.py).
MOCKED = [
    "torchvision.io.**",
    "torchvision.datasets.**",
    "torchvision.models.**",
    "torchvision.ops.**",
    "torchvision._meta_registrations",
]


def test_image():
    y, x = np.mgrid[0:12, 0:16]
    rgb = np.stack([(x * 16 + y * 3) % 256, (y * 21 + 40) % 256, ((x * y * 7) + 90) % 256], axis=-1).astype(np.uint8)
    rgb[4:8, 5:11] = [250, 30, 60]  # a sharp block: edges for the resampling filters
    return Image.fromarray(rgb, "RGB")


def jsonable(v):
    if isinstance(v, bytes):
        return list(v)
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, torch.Tensor):
        return {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape), "data": v.flatten().tolist()}
    return v


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    expected = {
        "made_with": {"torch": torch.__version__, "torchvision": torchvision.__version__, "pillow": PIL.__version__, "numpy": np.__version__},
        "calls": [],
    }
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_sources"))
    import pil_codec
    import pil_transforms

    img = test_image()
    for name, fmt, opts in (("img.png", "PNG", {}), ("img.jpg", "JPEG", {"quality": 90})):
        b = io.BytesIO()
        img.save(b, format=fmt, **opts)
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(b.getvalue())

    path = os.path.join(out_dir, "pil_codec.pt")
    with PackageExporter(path) as e:
        e.extern(["PIL.**", "numpy.**", "io", "hashlib"])
        e.intern("pil_codec")
        e.save_pickle("codec", "codec.pkl", pil_codec.Codec())
    codec = PackageImporter(path).load_pickle("codec", "codec.pkl")
    calls = [
        ("decode", ["img.png"]),
        ("decode", ["img.jpg"]),
        ("encode", ["img.png", "PNG", {}]),
        ("encode", ["img.png", "PNG", {"optimize": True}]),
        ("encode", ["img.png", "JPEG", {"quality": 75}]),
        ("encode", ["img.jpg", "JPEG", {"quality": 95, "subsampling": 0}]),
        ("convert_resize", ["img.png"]),
        ("convert_resize", ["img.jpg"]),
    ]
    for method, args in calls:
        data = open(os.path.join(out_dir, args[0]), "rb").read()
        result = getattr(codec, method)(data, *args[1:])
        expected["calls"].append({"archive": "pil_codec.pt", "pickle": ["codec", "codec.pkl"], "method": method, "args": args, "result": jsonable(result)})

    path = os.path.join(out_dir, "pil_transforms.pt")
    model = pil_transforms.Preprocess().eval()
    with PackageExporter(path) as e:
        e.extern(["PIL.**", "numpy.**", "io", "sys", "torchvision.extension"])
        e.mock(MOCKED)
        e.intern(["pil_transforms", "torchvision.**", "typing_extensions"])
        e.save_pickle("model", "model.pkl", model)
    loaded = PackageImporter(path).load_pickle("model", "model.pkl")
    for image in ("img.png", "img.jpg"):
        data = open(os.path.join(out_dir, image), "rb").read()
        with torch.no_grad():
            images = loaded.images(data)
            y = loaded(data)
        expected["calls"].append({"archive": "pil_transforms.pt", "pickle": ["model", "model.pkl"], "method": "images", "args": [image], "result": jsonable(images)})
        expected["calls"].append({"archive": "pil_transforms.pt", "pickle": ["model", "model.pkl"], "method": "__call__", "args": [image], "result": jsonable(y)})

    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, sort_keys=True)
        f.write("\n")
    print(f"wrote {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "archives", "pil"))
