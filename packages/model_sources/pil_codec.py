"""Image bytes through Pillow (packages/make_pil_archives.py, issue 21): decode, encode, convert
and resize, each returning plain values (modes, sizes, pixel bytes, encoded bytes)."""

import hashlib
import io

from PIL import Image


def _summary(img):
    return {"mode": img.mode, "size": list(img.size), "pixels": list(img.tobytes())}


class Codec:
    def decode(self, data):
        """PNG or JPEG bytes -> the decoded image (format, mode, size, pixels)."""
        img = Image.open(io.BytesIO(data))
        img.load()
        return dict(_summary(img), format=img.format)

    def encode(self, data, fmt, options):
        """Decode, then encode again as `fmt` with Pillow's options; the bytes and their sha256."""
        img = Image.open(io.BytesIO(data))
        out = io.BytesIO()
        img.save(out, format=fmt, **options)
        b = out.getvalue()
        return {"length": len(b), "sha256": hashlib.sha256(b).hexdigest(), "bytes": b}

    def convert_resize(self, data):
        """What torchvision's PIL transforms do to images: convert modes, resize with each filter."""
        img = Image.open(io.BytesIO(data)).convert("RGB")
        out = {
            "L": _summary(img.convert("L")),
            "RGBA": _summary(img.convert("RGBA")),
            "gray3": _summary(img.convert("L").convert("RGB")),
        }
        for name, flt in (("nearest", Image.NEAREST), ("bilinear", Image.BILINEAR), ("bicubic", Image.BICUBIC),
                          ("lanczos", Image.LANCZOS), ("box", Image.BOX), ("hamming", Image.HAMMING)):
            out[name] = _summary(img.resize((7, 5), flt))
        out["bilinear_up"] = _summary(img.resize((17, 13), Image.BILINEAR))
        out["crop_flip"] = _summary(img.crop((1, 1, 9, 7)).transpose(Image.FLIP_LEFT_RIGHT))
        return out
