#!/usr/bin/python3
"""Makes the models, inputs, expected outputs and ONNX exports that `npm run bench` times.

Run with Debian's python3-torch / python3-torchvision (and python3-onnx for the ONNX exports):

    /usr/bin/python3 bench/make_bench_models.py --out bench/.cache/models

Into DIR (a cache, not committed) it writes:

    resnet18.pt, resnet50.pt (+ .onnx, input/expected at batch 1)
                            by `packages/make_models.py --size bench --onnx --out DIR`
    mlp.pt                  bench_nets.MLP: 64 -> 128 -> 128 -> 10, the "Python dominates" model
    tinygpt.pt              packages/model_sources/tiny_gpt.py at 2 layers, n_embd 64, input
                            int64 [2, 20] (batch 2 only): the per-call overhead target
    transformer.pt          bench_nets.Encoder: nn.TransformerEncoder, 4 layers, d_model 128,
                            4 heads, feed-forward 512, input [batch, 64, 128]
    gpt.pt                  packages/model_sources/tiny_gpt.py at 4 layers, 4 heads, n_embd 128,
                            block 64, vocab 512, input int64 [batch, 64]
    NAME.bB.input.npy, NAME.bB.expected.npy, NAME.bB.onnx   for batch B (resnets: B = 8 only;
                            batch 1 is make_models.py's NAME.input.npy / .expected.npy / .onnx)
    bench.json              the manifest the TypeScript side reads (paths relative to the repo)

Expected outputs come from the archive (PackageImporter, not the in-memory model), on 1 thread,
under torch.no_grad(), like packages/make_models.py. ONNX exports are traced at a fixed batch
size (wasmdeploy's engine also compiles one session per input shape), opset 17, with grad
enabled (torch 1.13 cannot export nn's fused attention fast paths).

Everything is skipped when bench.json's recipe (a hash of this script, the model sources,
make_models.py, bench/model_lib.py and the torch version) matches: a re-run costs a torch import.
"""

import argparse
import json
import os
import subprocess
import sys
import warnings

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.package import PackageImporter  # noqa: E402

import model_lib  # noqa: E402
from model_lib import (BENCH_SOURCES, MAKE_MODELS, PKG_SOURCES, REPO, describe,  # noqa: E402
                       expected_of, export_archive, load_archive, log, randomize_attention_params,
                       recipe, rel, seed_of, up_to_date, write_manifest)

RECIPE_FILES = [
    os.path.abspath(__file__),
    os.path.join(BENCH_SOURCES, "bench_nets.py"),
    os.path.join(PKG_SOURCES, "tiny_gpt.py"),
    MAKE_MODELS,
]
BATCHES = [1, 8]
# The pure-Python workloads of the throughput experiment (committed archives).
TOKENIZER_TEXT = " ".join(["the quick brown fox jumps over the lazy dog and a cat"] * 45)
SLOW_COUNTER_N = 20000


def build_mlp():
    import bench_nets

    m = bench_nets.MLP()
    randomize_attention_params(m)
    return m, ["bench_nets"]


def build_transformer():
    import bench_nets

    m = bench_nets.Encoder()
    randomize_attention_params(m)
    return m, ["bench_nets"]


def build_gpt():
    import tiny_gpt

    m = tiny_gpt.TinyGPT(tiny_gpt.GPTConfig(vocab_size=512, block_size=64, n_layer=4, n_head=4,
                                            n_embd=128))
    randomize_attention_params(m)
    with torch.no_grad():
        m.ln_f_weight.copy_(1 + 0.2 * torch.randn_like(m.ln_f_weight))
        m.ln_f_bias.copy_(0.1 * torch.randn_like(m.ln_f_bias))
    return m, ["tiny_gpt"]


def build_tinygpt():
    return model_lib.build_tinygpt(), ["tiny_gpt"]


# name -> (builder, input maker(batch, generator), description)
OWN = {
    "mlp": (build_mlp, lambda b, g: [torch.randn(b, 64, generator=g)],
            "bench_nets.MLP 64-128-128-10 (ReLU), 26k params"),
    "transformer": (build_transformer, lambda b, g: [torch.randn(b, 64, 128, generator=g)],
                    "nn.TransformerEncoder: 4 post-norm layers, d_model 128, 4 heads, "
                    "feed-forward 512, ReLU, batch_first; input [batch, 64, 128]"),
    "gpt": (build_gpt, lambda b, g: [torch.randint(0, 512, (b, 64), generator=g,
                                                  dtype=torch.int64)],
            "packages/model_sources/tiny_gpt.py: 4 layers, 4 heads, n_embd 128, block 64, "
            "vocab 512; input int64 token ids [batch, 64]"),
    "tinygpt": (build_tinygpt, lambda b, g: [torch.randint(0, 64, (b, 20), generator=g,
                                                          dtype=torch.int64)],
                "packages/model_sources/tiny_gpt.py: 2 layers, 4 heads, n_embd 64, vocab 64; "
                "input int64 token ids [batch, 20] (the per-call overhead case)"),
}
LATENCY_MODELS = ["resnet18", "resnet50", "transformer", "gpt"]
DESCRIBE = {
    "resnet18": "torchvision resnet18 (random init, BN calibrated), 224x224",
    "resnet50": "torchvision resnet50 (random init, BN calibrated), 224x224",
}


def export_onnx(model, inputs, path, have_onnx):
    """model_lib.export_onnx, its failure a manifest's onnx_error instead of an exception."""
    if not have_onnx:
        return None, "python3-onnx is not installed (apt-get install -y python3-onnx)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model_lib.export_onnx(model, inputs, path)
    except Exception as e:  # noqa: BLE001
        if os.path.exists(path):
            os.remove(path)
        msg = str(e).strip().splitlines()
        return None, ("%s: %s" % (type(e).__name__, msg[0] if msg else ""))[:200]
    return rel(path), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    manifest_path = os.path.join(out, "bench.json")
    want = recipe(RECIPE_FILES)
    if not args.force and up_to_date(manifest_path, want, "bench"):
        return

    try:
        import onnx  # noqa: F401

        have_onnx = True
    except ImportError:
        have_onnx = False
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")
    sys.path.insert(0, BENCH_SOURCES)
    sys.path.insert(0, PKG_SOURCES)

    log("making full-size resnet18/resnet50 archives: packages/make_models.py --size bench%s"
        % (" --onnx" if have_onnx else ""))
    cmd = [sys.executable, MAKE_MODELS, "--size", "bench", "--out", out]
    if have_onnx:
        cmd.append("--onnx")
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout)
        raise SystemExit("packages/make_models.py failed")
    with open(os.path.join(out, "models.json")) as f:
        made = {m["name"]: m for m in json.load(f)["models"]}

    for name, (build, _, _) in OWN.items():
        log("making %s.pt" % name)
        torch.manual_seed(seed_of(name))
        model, interned = build()
        model.eval()
        export_archive(os.path.join(out, name + ".pt"), model, interned)

    entries = []
    for name in LATENCY_MODELS + ["mlp", "tinygpt"]:
        model = load_archive(os.path.join(out, name + ".pt"))
        assert not model.training
        nparams = sum(p.numel() for p in model.parameters())
        for b in ([1] if name == "mlp" else [2] if name == "tinygpt" else BATCHES):
            if name in made and b == 1:
                m = made[name]
                inputs = [describe(np.load(os.path.join(out, i["file"])), os.path.join(out, i["file"]))
                          for i in m["inputs"]]
                expected = [describe(np.load(os.path.join(out, o["file"])),
                                     os.path.join(out, o["file"])) for o in m["outputs"]]
                onnx_file = m.get("onnx")
                onnx_path, onnx_error = (rel(os.path.join(out, onnx_file)), None) \
                    if isinstance(onnx_file, str) else (None, (onnx_file or {}).get(
                        "error", "no ONNX export (python3-onnx missing)"))
            else:
                log("  %s batch %d: input, expected output (PyTorch eager, 1 thread), ONNX" % (name, b))
                g = torch.Generator().manual_seed(seed_of(name, b))
                if name in OWN:
                    xs = OWN[name][1](b, g)
                else:  # torchvision images
                    xs = [torch.randn(b, 3, 224, 224, generator=g)]
                inputs = []
                for i, x in enumerate(xs):
                    p = os.path.join(out, "%s.b%d.input%s.npy" % (name, b, "" if i == 0 else i))
                    np.save(p, x.numpy())
                    inputs.append(describe(x.numpy(), p))
                y = expected_of(model, xs)
                p = os.path.join(out, "%s.b%d.expected.npy" % (name, b))
                np.save(p, y)
                expected = [describe(y, p)]
                onnx_path, onnx_error = export_onnx(model, xs, os.path.join(
                    out, "%s.b%d.onnx" % (name, b)), have_onnx)
            entries.append({
                "model": name, "batch": b, "archive": rel(os.path.join(out, name + ".pt")),
                "pickle": ["model", "model.pkl"], "inputs": inputs, "expected": expected,
                "onnx": onnx_path, "onnx_error": onnx_error, "params": nparams,
                "archive_bytes": os.path.getsize(os.path.join(out, name + ".pt")),
                "describe": OWN[name][2] if name in OWN else DESCRIBE[name],
            })

    # The pure-Python workloads: real PyTorch's torch.package gives the expected results.
    tok = PackageImporter(os.path.join(REPO, "packages/archives/tokenizer.pt")).load_pickle(
        "tok", "tok.pkl")
    slow = PackageImporter(os.path.join(REPO, "packages/archives/slow_counter.pt")).load_pickle(
        "slow", "obj.pkl")
    python_calls = {
        "tokenizer": {"archive": "packages/archives/tokenizer.pt", "pickle": ["tok", "tok.pkl"],
                      "method": "encode", "args": [TOKENIZER_TEXT],
                      "expected": tok.encode(TOKENIZER_TEXT),
                      "describe": "toy word tokenizer (packages/archives/tokenizer.pt): "
                                  "encode() of a %d-word text" % len(TOKENIZER_TEXT.split())},
        "slow_counter": {"archive": "packages/archives/slow_counter.pt",
                         "pickle": ["slow", "obj.pkl"], "method": "work",
                         "args": [SLOW_COUNTER_N], "expected": slow.work(SLOW_COUNTER_N),
                         "describe": "pure-Python loop (packages/archives/slow_counter.pt): "
                                     "work(%d)" % SLOW_COUNTER_N},
    }
    files = set()
    for e in entries:
        files.add(e["archive"])
        files.update(x["file"] for x in e["inputs"] + e["expected"])
        if e["onnx"]:
            files.add(e["onnx"])
    manifest = {
        "recipe": want,
        "made_with": {"torch": torch.__version__, "python": sys.version.split()[0],
                      "numpy": np.__version__},
        "models": entries,
        "python_calls": python_calls,
        "files": sorted(files),
    }
    write_manifest(manifest_path, manifest)


if __name__ == "__main__":
    main()
