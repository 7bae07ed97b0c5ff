#!/usr/bin/python3
"""Makes the model zoo that `npm run bench:zoo` times (bench/zoo.ts): real PyTorch models
packaged with torch.package, each with its own ONNX export, input and expected output.

    /usr/bin/python3 bench/make_zoo_models.py --out bench/.cache/zoo [--force]

Needs Debian's python3-torch (1.13), python3-torchvision (0.14) and python3-onnx. Into DIR
(a cache, not committed) it writes NAME.pt, NAME.onnx, NAME.input.npy, NAME.expected.npy per
model and zoo.json, the manifest (the same entry shape as bench.json, paths relative to the
repo). The models, all in eval mode, batch 1:

    densenet121, googlenet, mobilenet_v3_small, shufflenet_v2_x1_0, squeezenet1_0, resnet18
        torchvision 0.14 at full size (224x224, 1000 classes), random init with BatchNorm
        calibrated (random affine, running statistics from train-mode passes: informative
        outputs, not mean 0 / var 1)
    vit_tiny    torchvision VisionTransformer at ViT-Ti/16 sizes (224, patch 16, 12 layers,
                3 heads, dim 192, mlp 768)
    tinygpt     packages/model_sources/tiny_gpt.py, 2 layers, 4 heads, n_embd 64, vocab 64;
                int64 token ids [2, 20] (the per-call overhead case of bench/experiments/targets.ts)
    lstm_tagger bench/model_sources/zoo_nets.py: embedding 32 + 1-layer LSTM 64 + linear to 17
                tags over int64 token ids [1, 16] (a ~0.1 ms graph: the per-call floor)

Expected outputs come from the archive (PackageImporter), on 1 thread, under no_grad. ONNX
exports: torch.onnx.export at opset 17 of the same in-memory model, checked by onnx.checker.
Skipped when zoo.json's recipe (a hash of this script, its model sources, bench/model_lib.py
and torch's version) matches.
"""

import argparse
import os
import sys
import warnings

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from model_lib import (BENCH_SOURCES, MAKE_MODELS, PKG_SOURCES, build_tinygpt,  # noqa: E402
                       describe, expected_of, export_archive, export_onnx, load_archive, log,
                       make_models_module, randomize_attention_params, recipe, rel, seed_of,
                       up_to_date, write_manifest)

RECIPE_FILES = [os.path.abspath(__file__), os.path.join(BENCH_SOURCES, "zoo_nets.py"),
                os.path.join(PKG_SOURCES, "tiny_gpt.py"), MAKE_MODELS]


def image(b=1, size=224):
    return lambda g: [torch.randn(b, 3, size, size, generator=g)]


def tv(fn, **kw):
    def build():
        import torchvision

        return getattr(torchvision.models, fn)(**kw)

    return build


def build_vit():
    from torchvision.models.vision_transformer import VisionTransformer

    m = VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=3,
                          hidden_dim=192, mlp_dim=768, num_classes=1000)
    randomize_attention_params(m)
    nn.init.normal_(m.class_token, std=0.5)
    nn.init.normal_(m.heads.head.weight, std=0.05)
    return m


def build_lstm_tagger():
    import zoo_nets

    return zoo_nets.LSTMTagger()


# name -> (build, packaging ("torchvision" or interned source modules), input maker, description)
ZOO = {
    "densenet121": (tv("densenet121"), "torchvision", image(), "torchvision densenet121, 224x224"),
    "googlenet": (tv("googlenet", aux_logits=False, init_weights=True), "torchvision", image(),
                  "torchvision googlenet (no aux heads), 224x224"),
    "mobilenet_v3_small": (tv("mobilenet_v3_small"), "torchvision", image(),
                           "torchvision mobilenet_v3_small, 224x224"),
    "shufflenet_v2": (tv("shufflenet_v2_x1_0"), "torchvision", image(),
                      "torchvision shufflenet_v2_x1_0, 224x224"),
    "squeezenet": (tv("squeezenet1_0"), "torchvision", image(), "torchvision squeezenet1_0, 224x224"),
    "resnet18": (tv("resnet18"), "torchvision", image(), "torchvision resnet18, 224x224"),
    "vit_tiny": (build_vit, "torchvision", image(),
                 "torchvision VisionTransformer at ViT-Ti/16 sizes: 224, patch 16, 12 layers, "
                 "3 heads, dim 192, mlp 768"),
    "tinygpt": (build_tinygpt, ["tiny_gpt"],
                lambda g: [torch.randint(0, 64, (2, 20), generator=g, dtype=torch.int64)],
                "tiny_gpt.py: 2 layers, 4 heads, n_embd 64, vocab 64; int64 ids [2, 20]"),
    "lstm_tagger": (build_lstm_tagger, ["zoo_nets"],
                    lambda g: [torch.randint(0, 1000, (1, 16), generator=g, dtype=torch.int64)],
                    "zoo_nets.LSTMTagger: embedding 1000x32, LSTM 32->64, linear 64->17; "
                    "int64 ids [1, 16]"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--only", help="comma-separated model names (for trying one)")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    manifest_path = os.path.join(out, "zoo.json")
    want = recipe(RECIPE_FILES)
    if not args.force and not args.only and up_to_date(manifest_path, want, "zoo"):
        return
    import onnx  # noqa: F401  (the exports need it: fail before making anything)

    mm = make_models_module()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    sys.path.insert(0, BENCH_SOURCES)
    sys.path.insert(0, PKG_SOURCES)
    names = args.only.split(",") if args.only else list(ZOO)
    entries, files = [], []
    for name in names:
        build, packaging, make_input, description = ZOO[name]
        log("making %s" % name)
        torch.manual_seed(seed_of(name))
        model = build()
        mm.calibrate_batchnorm(model, lambda g, mk=make_input: [torch.cat(mk(g) * 2)],
                               seed_of(name, 1))
        model.eval()
        archive = os.path.join(out, name + ".pt")
        export_archive(archive, model,
                       mm.package_torchvision if packaging == "torchvision" else packaging)
        xs = make_input(torch.Generator().manual_seed(seed_of(name, 2)))
        y = expected_of(load_archive(archive), xs)
        assert np.isfinite(y).all() and float(y.std()) > 1e-3, "uninformative output of %s" % name
        inp, exp, onx = (os.path.join(out, name + s) for s in (".input.npy", ".expected.npy", ".onnx"))
        np.save(inp, xs[0].numpy())
        np.save(exp, y)
        export_onnx(model, xs, onx)
        files += [rel(p) for p in (archive, inp, exp, onx)]
        entries.append({
            "model": name, "batch": int(xs[0].shape[0]), "archive": rel(archive),
            "pickle": ["model", "model.pkl"],
            "inputs": [describe(xs[0].numpy(), inp)],
            "expected": [describe(y, exp)],
            "onnx": rel(onx), "onnx_error": None,
            "params": sum(p.numel() for p in model.parameters()),
            "archive_bytes": os.path.getsize(archive), "describe": description,
        })
    if args.only:
        return
    manifest = {"recipe": want, "made_with": {"torch": torch.__version__}, "models": entries,
                "files": sorted(files)}
    write_manifest(manifest_path, manifest)


if __name__ == "__main__":
    main()
