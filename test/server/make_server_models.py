"""Archives for the server tests, made at test time by real PyTorch (never committed).

    /usr/bin/python3 test/server/make_server_models.py OUT_DIR

OUT_DIR/probe.pt   model/model.pkl: forward(x) -> (torch.cat([x, x]), str(x.dtype)); for every
                   dtype an OIP datatype maps to, OUT_DIR/probe.<dtype>.input.npy and
                   .expected.npy, and probe.json {dtype: str(x.dtype)} from PyTorch itself.
OUT_DIR/text.pt    text/text.pkl: upper-cases a str, bytes or nested lists of them, raises
                   ValueError on "boom"; text.json holds PyTorch-side results (of str and of
                   bytes). text/kind.pkl: the Python type name of each element it is given.
"""

import json
import os
import sys
import textwrap

import numpy as np
import torch
from torch.package import PackageExporter, PackageImporter

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
src = os.path.join(out, "src")
os.makedirs(src, exist_ok=True)
with open(os.path.join(src, "srv_models.py"), "w") as f:
    f.write(textwrap.dedent('''
        import torch


        class Probe(torch.nn.Module):
            def forward(self, x):
                return torch.cat([x, x]), str(x.dtype)


        class Text:
            def __call__(self, s):
                if isinstance(s, (list, tuple)):
                    return [self(x) for x in s]
                if s in ("boom", b"boom"):
                    raise ValueError("boom is not a word")
                return s.upper()


        class Kind:
            def __call__(self, s):
                if isinstance(s, (list, tuple)):
                    return [self(x) for x in s]
                return type(s).__name__ + ":" + (s.decode() if isinstance(s, bytes) else s)
    '''))
sys.path.insert(0, src)
import srv_models  # noqa: E402

with PackageExporter(os.path.join(out, "probe.pt")) as e:
    e.intern("srv_models")
    e.save_pickle("model", "model.pkl", srv_models.Probe())
with PackageExporter(os.path.join(out, "text.pt")) as e:
    e.intern("srv_models")
    e.save_pickle("text", "text.pkl", srv_models.Text())
    e.save_pickle("text", "kind.pkl", srv_models.Kind())

rng = np.random.default_rng(3)
inputs = {
    "float32": rng.standard_normal((2, 3)).astype(np.float32),
    "float64": rng.standard_normal((2, 3)),
    "float16": rng.standard_normal((2, 3)).astype(np.float16),
    "int64": rng.integers(-(2**40), 2**40, (2, 3)),
    "int32": rng.integers(-(2**30), 2**30, (2, 3)).astype(np.int32),
    "int16": rng.integers(-30000, 30000, (2, 3)).astype(np.int16),
    "int8": rng.integers(-128, 128, (2, 3)).astype(np.int8),
    "uint8": rng.integers(0, 256, (2, 3)).astype(np.uint8),
    "bool": rng.integers(0, 2, (2, 3)).astype(np.bool_),
}
probe = PackageImporter(os.path.join(out, "probe.pt")).load_pickle("model", "model.pkl")
names = {}
with torch.no_grad():
    for k, x in inputs.items():
        y, name = probe(torch.from_numpy(x))
        np.save(os.path.join(out, f"probe.{k}.input.npy"), x)
        np.save(os.path.join(out, f"probe.{k}.expected.npy"), y.numpy())
        names[k] = name
with open(os.path.join(out, "probe.json"), "w") as f:
    json.dump(names, f)

text = PackageImporter(os.path.join(out, "text.pt")).load_pickle("text", "text.pkl")
with open(os.path.join(out, "text.json"), "w") as f:
    json.dump({
        "one": text("héllo"),
        "one_bytes": text("héllo".encode()).decode(),
        "list": text([["ab", "cd"], ["ef", "gh"]]),
        "bytes": text(b"abc").decode(),
    }, f)
try:
    text("boom")
except ValueError as err:
    with open(os.path.join(out, "text.error.txt"), "w") as f:
        f.write(f"ValueError: {err}")
