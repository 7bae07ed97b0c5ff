"""What the bench's model makers share (make_bench_models.py, make_zoo_models.py): paths, seeds,
the cache recipe, parameter randomisation, the small GPT both time, and how a model becomes an
archive, an expected output, an ONNX export and a manifest entry.

Import it after `sys.dont_write_bytecode = True` (no bench/__pycache__). It imports torch.
"""

import functools
import hashlib
import importlib.util
import json
import os
import sys
import zlib

import torch
import torch.nn as nn
from torch.package import PackageExporter, PackageImporter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BENCH_SOURCES = os.path.join(HERE, "model_sources")
PKG_SOURCES = os.path.join(REPO, "packages", "model_sources")
MAKE_MODELS = os.path.join(REPO, "packages", "make_models.py")
PICKLE = ("model", "model.pkl")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def rel(path):
    return os.path.relpath(os.path.abspath(path), REPO)


def seed_of(name, salt=0):
    return (zlib.crc32(name.encode()) + salt) % 2**31


def recipe(files):
    """A hash of `files`, this module and torch's version: what a cache's models were made by."""
    h = hashlib.sha256()
    for f in list(files) + [os.path.abspath(__file__)]:
        with open(f, "rb") as fh:
            h.update(fh.read())
    h.update(torch.__version__.encode())
    return h.hexdigest()[:16]


def up_to_date(manifest_path, want, what):
    """True, said on stderr and stdout, when the manifest was made by recipe `want` and all its
    files are still there."""
    if not os.path.exists(manifest_path):
        return False
    with open(manifest_path) as f:
        old = json.load(f)
    files = [os.path.join(REPO, p) for p in old.get("files", [])]
    if old.get("recipe") != want or not all(os.path.exists(p) for p in files):
        return False
    log("%s models are up to date in %s" % (what, rel(os.path.dirname(manifest_path))))
    print(json.dumps({"manifest": rel(manifest_path), "made": False}))
    return True


def write_manifest(manifest_path, manifest):
    tmp = manifest_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, manifest_path)
    log("wrote %s" % rel(manifest_path))
    print(json.dumps({"manifest": rel(manifest_path), "made": True}))


@functools.lru_cache(maxsize=None)
def make_models_module():
    """packages/make_models.py (its packaging rules, BatchNorm calibration and parameter
    randomisation: one source of truth for the bench's models and the packages' own)."""
    spec = importlib.util.spec_from_file_location("make_models", MAKE_MODELS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def randomize_attention_params(model):
    """Non-trivial LayerNorm/Linear/attention parameters, each layer its own (TransformerEncoder
    deep-copies one layer, MultiheadAttention zero-initialises its biases, torchvision zero-inits
    some): packages/make_models.py's own randomisation."""
    make_models_module()._randomize_attention_params(model)


def build_tinygpt():
    """packages/model_sources/tiny_gpt.py at 2 layers, 4 heads, n_embd 64, vocab 64 (the per-call
    overhead case); PKG_SOURCES must be on sys.path."""
    import tiny_gpt

    m = tiny_gpt.TinyGPT(tiny_gpt.GPTConfig(vocab_size=64, block_size=32, n_layer=2, n_head=4,
                                            n_embd=64))
    randomize_attention_params(m)
    return m


def export_archive(path, model, packaging):
    """`model` at model/model.pkl of a new torch.package archive at `path`. `packaging`: the
    source modules to intern, or a function that sets the exporter up (e.g. make_models.py's
    package_torchvision)."""
    if os.path.exists(path):
        os.remove(path)
    with PackageExporter(path) as e:
        if callable(packaging):
            packaging(e)
        else:
            e.intern(packaging)
        e.save_pickle(*PICKLE, model)


def load_archive(path):
    return PackageImporter(path).load_pickle(*PICKLE)


def expected_of(model, inputs):
    with torch.no_grad():
        y = model(*inputs)
    assert isinstance(y, torch.Tensor), type(y)
    return y.detach().contiguous().numpy()


def export_onnx(model, inputs, path):
    """torch.onnx.export at opset 17 (inputs named input, input1, ...; the output `output`),
    checked by onnx.checker. Raises what they raise."""
    names = ["input"] + ["input%d" % i for i in range(1, len(inputs))]
    torch.onnx.export(model, tuple(inputs), path, opset_version=17, input_names=names,
                      output_names=["output"])
    import onnx

    onnx.checker.check_model(onnx.load(path))


def describe(arr, path):
    """A manifest's file entry for the array saved at `path`."""
    return {"file": rel(path), "dtype": str(arr.dtype), "shape": list(arr.shape)}
