#!/usr/bin/python3
"""Builds torch.package model archives, their inputs and real PyTorch's outputs.

Run with Debian's python3-torch (1.13) and python3-torchvision (0.14):

    /usr/bin/python3 packages/make_models.py [--out DIR] [--only NAME,...] [--size small|bench]
                                             [--onnx]

For every model NAME it writes into DIR (default: packages/models/; --size bench needs --out):

    NAME.pt                 torch.package archive, model (eval mode) at model/model.pkl
    NAME.input.npy, NAME.input1.npy, ...        the positional inputs (seeded)
    NAME.expected.npy, NAME.expected1.npy, ...  the outputs, flattened depth-first
    NAME.onnx               with --onnx: torch.onnx.export(opset 17) of the same model
    models.json             one entry per model (see packages/README.md)

The expected outputs are computed in a fresh Python process that has only torch, numpy and
torch.package.PackageImporter: the model code (torchvision or packages/model_sources/) comes
from the archive. A second fresh process loads the archive again and must reproduce them
bit for bit. Everything runs on 1 thread under torch.no_grad(); the output is deterministic.
"""

import argparse
import json
import os
import pickletools
import subprocess
import sys
import warnings
import zipfile
import zlib

sys.dont_write_bytecode = True  # keep packages/model_sources free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_SOURCES = os.path.join(HERE, "model_sources")
DEFAULT_OUT = os.path.join(HERE, "models")
PICKLE_PACKAGE, PICKLE_RESOURCE = "model", "model.pkl"
# Top-level modules that a loading process must only ever see through an archive.
PACKAGED_ONLY = ("torchvision", "PIL", "tiny_gpt", "seq_models", "dtype_zoo", "int_div")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.package import PackageExporter, PackageImporter  # noqa: E402

# --------------------------------------------------------------------------------------------
# What the torchvision archives extern and mock. Patterns are matched in the order they were
# registered, so these come before exporter.intern("torchvision.**").
# --------------------------------------------------------------------------------------------

# `sys` (and `io`) are stdlib but torch.package refuses to extern them implicitly.
TORCHVISION_EXTERN = ["sys"]

TORCHVISION_MOCK = [
    # third-party imports of torchvision.utils / transforms.functional, used only by functions
    # that a model's forward never calls
    "numpy", "numpy.**", "PIL", "PIL.**",
    # PIL / tensor backends of torchvision.transforms.functional (only `F_pil._is_pil_image`
    # is looked up at import time, which a mocked module allows)
    "torchvision.transforms.functional_pil",
    "torchvision.transforms.functional_tensor",
    "torchvision.transforms._pil_constants",
    # the ImageNet class names: only a value in the Weights metadata dicts
    "torchvision.models._meta",
    # torchvision.ops/__init__.py imports every op; the models use only ops.misc and
    # ops.stochastic_depth. Mocked names can be imported, not used.
    "torchvision.ops.boxes", "torchvision.ops._box_convert", "torchvision.ops._utils",
    "torchvision.ops.ciou_loss", "torchvision.ops.diou_loss", "torchvision.ops.giou_loss",
    "torchvision.ops.deform_conv", "torchvision.ops.drop_block",
    "torchvision.ops.feature_pyramid_network", "torchvision.ops.focal_loss",
    "torchvision.ops.poolers", "torchvision.ops.ps_roi_align", "torchvision.ops.ps_roi_pool",
    "torchvision.ops.roi_align", "torchvision.ops.roi_pool",
    # never reached by the models above, listed so a future model cannot drag them in
    "torchvision.extension", "torchvision.io", "torchvision.io.**",
    "torchvision.datasets", "torchvision.datasets.**",
]


def package_torchvision(e):
    e.extern(TORCHVISION_EXTERN)
    e.mock(TORCHVISION_MOCK)
    e.intern("torchvision.**")


def package_sources(*modules):
    def pack(e):
        e.intern(list(modules))

    return pack


# --------------------------------------------------------------------------------------------
# Model builders. They run after torch.manual_seed(seed_of(name)).
# --------------------------------------------------------------------------------------------


def _kaiming_convs(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def slim_resnet(block_name, layers, widths, num_classes=10):
    """torchvision's ResNet with narrower stages. The classes (ResNet, BasicBlock, Bottleneck)
    and forward code are torchvision's; only the widths (64, 128, 256, 512) are replaced, using
    ResNet._make_layer like ResNet.__init__ does."""
    from torchvision.models import resnet

    block = getattr(resnet, block_name)
    m = resnet.ResNet(block, layers, num_classes=num_classes)
    m.inplanes = widths[0]
    m.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = m._norm_layer(widths[0])
    m.layer1 = m._make_layer(block, widths[0], layers[0])
    m.layer2 = m._make_layer(block, widths[1], layers[1], stride=2)
    m.layer3 = m._make_layer(block, widths[2], layers[2], stride=2)
    m.layer4 = m._make_layer(block, widths[3], layers[3], stride=2)
    m.fc = nn.Linear(widths[3] * block.expansion, num_classes)
    _kaiming_convs(m)
    return m


def build_resnet_basic():
    return slim_resnet("BasicBlock", [1, 1, 1, 1], (16, 32, 48, 64))


def build_resnet_bottleneck():
    return slim_resnet("Bottleneck", [1, 1, 1, 1], (8, 16, 24, 32))


def build_mobilenet_v2():
    from torchvision.models.mobilenetv2 import MobileNetV2

    # width 0.25; the default 7-stage setting with fewer repeats (n)
    setting = [
        # t, c, n, s
        [1, 16, 1, 1],
        [6, 24, 2, 2],
        [6, 32, 2, 2],
        [6, 64, 2, 2],
        [6, 96, 1, 1],
        [6, 160, 1, 2],
        [6, 320, 1, 1],
    ]
    m = MobileNetV2(num_classes=10, width_mult=0.25, inverted_residual_setting=setting)
    # MobileNetV2 always ends in a 1280-wide 1x1 conv, whatever the width multiplier: swap it
    # (and the classifier) for a 256-wide one, built the way MobileNetV2.__init__ builds it.
    from torchvision.ops.misc import Conv2dNormActivation

    last_in = m.features[-1][0].in_channels
    m.features[-1] = Conv2dNormActivation(last_in, 256, kernel_size=1,
                                          norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU6)
    m.last_channel = 256
    m.classifier[1] = nn.Linear(256, 10)
    return m


def build_mobilenet_v3_small():
    from torchvision.models import mobilenet_v3_small

    m = mobilenet_v3_small(weights=None, width_mult=0.25, num_classes=10)
    # torchvision initialises the classifier with std 0.01, which makes the logits ~0.01
    for mod in m.classifier.modules():
        if isinstance(mod, nn.Linear):
            nn.init.normal_(mod.weight, std=0.1)
    return m


def build_squeezenet():
    """SqueezeNet 1.1 with every Fire module at a third to half width (the Fire class and
    SqueezeNet's forward are torchvision's)."""
    from torchvision.models.squeezenet import Fire, SqueezeNet

    m = SqueezeNet(version="1_1", num_classes=10)
    m.features = nn.Sequential(
        nn.Conv2d(3, 32, kernel_size=3, stride=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(32, 8, 32, 32),
        Fire(64, 8, 32, 32),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(64, 16, 64, 64),
        Fire(128, 16, 64, 64),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(128, 24, 80, 80),
        Fire(160, 24, 80, 80),
        Fire(160, 32, 96, 96),
        Fire(192, 32, 96, 96),
    )
    final_conv = nn.Conv2d(192, 10, kernel_size=1)
    m.classifier[1] = final_conv
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d) and mod is not final_conv:
            nn.init.kaiming_uniform_(mod.weight)
            nn.init.normal_(mod.bias, std=0.05)
    # positive biases so that few logits end up at 0 after the classifier's ReLU
    nn.init.normal_(final_conv.weight, mean=0.0, std=0.1)
    nn.init.uniform_(final_conv.bias, 0.5, 1.0)
    return m


def build_shufflenet_v2():
    from torchvision.models.shufflenetv2 import ShuffleNetV2

    # shufflenet_v2_x0_5's widths with [2, 2, 2] repeats (instead of [4, 8, 4]) and a 256-wide
    # last conv (instead of 1024)
    return ShuffleNetV2([2, 2, 2], [24, 48, 96, 192, 256], num_classes=10)


def build_efficientnet():
    from functools import partial

    from torchvision.models.efficientnet import EfficientNet, MBConvConfig

    # efficientnet_b0's first six stages at width 0.25, depth 0.5: 9 MBConv blocks (SiLU,
    # squeeze-and-excitation, stochastic depth on the residual ones)
    bneck = partial(MBConvConfig, width_mult=0.25, depth_mult=0.5)
    setting = [
        bneck(1, 3, 1, 32, 16, 1),
        bneck(6, 3, 2, 16, 24, 2),
        bneck(6, 5, 2, 24, 40, 2),
        bneck(6, 3, 2, 40, 80, 3),
        bneck(6, 5, 1, 80, 112, 3),
        bneck(6, 5, 2, 112, 192, 4),
    ]
    return EfficientNet(setting, dropout=0.2, stochastic_depth_prob=0.2, num_classes=10)


def build_vit():
    from torchvision.models.vision_transformer import VisionTransformer

    m = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32,
                          mlp_dim=64, num_classes=10)
    _randomize_attention_params(m)
    # torchvision zero-initialises the class token and the head: make them non-trivial
    nn.init.normal_(m.class_token, std=0.5)
    nn.init.normal_(m.heads.head.weight, std=0.2)
    nn.init.normal_(m.heads.head.bias, std=0.1)
    return m


def _randomize_attention_params(model):
    """Gives each layer its own non-trivial values. TransformerEncoder deep-copies one layer
    (all layers start equal) and MultiheadAttention zero-initialises its biases."""
    for mod in model.modules():
        if isinstance(mod, nn.LayerNorm):
            with torch.no_grad():
                mod.weight.copy_(1 + 0.2 * torch.randn_like(mod.weight))
                mod.bias.copy_(0.1 * torch.randn_like(mod.bias))
        elif isinstance(mod, (nn.MultiheadAttention, nn.Linear)):
            for name, p in mod.named_parameters(recurse=False):
                if p.dim() >= 2:
                    nn.init.xavier_uniform_(p)
                else:
                    nn.init.normal_(p, std=0.1)


def build_transformer_encoder():
    import seq_models

    m = seq_models.Encoder(batch_first=True, norm_first=False, activation="relu")
    _randomize_attention_params(m)
    return m


def build_transformer_encoder_prenorm():
    import seq_models

    m = seq_models.Encoder(batch_first=False, norm_first=True, activation="gelu",
                           final_norm=True, causal=True)
    _randomize_attention_params(m)
    return m


def build_mha():
    import seq_models

    m = seq_models.Attention()
    _randomize_attention_params(m)
    return m


def build_lstm():
    import seq_models

    return seq_models.LSTMModel()


def build_gru():
    import seq_models

    return seq_models.GRUModel(bidirectional=False)


def build_gru_bidir():
    import seq_models

    return seq_models.GRUModel(bidirectional=True)


def build_tiny_gpt():
    import tiny_gpt

    m = tiny_gpt.TinyGPT(tiny_gpt.GPTConfig(vocab_size=64, block_size=16, n_layer=2, n_head=4,
                                            n_embd=32))
    _randomize_attention_params(m)
    with torch.no_grad():
        m.ln_f_weight.copy_(1 + 0.2 * torch.randn_like(m.ln_f_weight))
        m.ln_f_bias.copy_(0.1 * torch.randn_like(m.ln_f_bias))
    return m


def build_dtype_zoo():
    import dtype_zoo

    return dtype_zoo.DtypeZoo()


def build_int_div():
    import int_div

    return int_div.IntDiv()


def int_div_inputs(g):
    a = torch.randint(-1000, 1000, (2, 3), generator=g, dtype=torch.int64)
    b = torch.randint(1, 50, (2, 3), generator=g, dtype=torch.int64) * (torch.randint(0, 2, (2, 3), generator=g) * 2 - 1)
    return [a, b]


def build_resnet18_full():
    from torchvision.models import resnet18

    return resnet18(weights=None)


def build_resnet50_full():
    from torchvision.models import resnet50

    return resnet50(weights=None)


# --------------------------------------------------------------------------------------------
# Inputs. Each takes a seeded torch.Generator and returns the positional inputs.
# --------------------------------------------------------------------------------------------


def images(n, size):
    return lambda g: [torch.randn(n, 3, size, size, generator=g)]


def padded_sequence(batch_first, lengths=(10, 7, 4), d_model=32):
    """src [3, 10, 32] (or [10, 3, 32]) and a bool key padding mask [3, 10], True = padding.
    The padding is at the end of each sequence (left aligned)."""

    def make(g):
        t = max(lengths)
        src = torch.randn(len(lengths), t, d_model, generator=g)
        if not batch_first:
            src = src.transpose(0, 1).contiguous()
        mask = torch.arange(t).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)
        return [src, mask]

    return make


def gpt_tokens(g):
    return [torch.randint(0, 64, (2, 16), generator=g, dtype=torch.int64)]


def dtype_zoo_inputs(g):
    x = torch.randn(4, 8, generator=g)
    ids = torch.randint(-20, 20, (4, 8), generator=g, dtype=torch.int32)
    return [x, ids]


# --------------------------------------------------------------------------------------------
# The models
# --------------------------------------------------------------------------------------------

TOL_CONV = ("float32. ONNX Runtime reorders conv/matmul sums: compare with rtol 1e-4, atol 1e-4 "
            "(outputs are O(1)); argmax should match.")
TOL_ATTN = ("float32. softmax/layer_norm/matmul reorderings: compare with rtol 1e-4, atol 1e-5.")
TOL_RNN = ("float32. Recurrences accumulate rounding over time steps: rtol 1e-4, atol 1e-5.")


def spec(name, family, build, inputs, package, covers, tolerance=TOL_CONV, calibrate=None,
         size="small"):
    return {
        "name": name,
        "family": family,
        "build": build,
        "inputs": inputs,
        "package": package,
        "covers": covers,
        "tolerance": tolerance,
        "calibrate": calibrate,
        "size": size,
    }


TV = package_torchvision
SEQ = package_sources("seq_models")

MODELS = [
    spec("resnet_basic", "torchvision", build_resnet_basic, images(2, 64), TV,
         "torchvision ResNet + BasicBlock, [1,1,1,1] blocks, widths 16/32/48/64, 10 classes: "
         "conv 7x7/s2 + BN + ReLU, maxpool 3x3/s2, 1x1/s2 downsample, residual add, "
         "adaptive avgpool, flatten, linear", calibrate=images(8, 64)),
    spec("resnet_bottleneck", "torchvision", build_resnet_bottleneck, images(2, 64), TV,
         "torchvision ResNet + Bottleneck (resnet50's block), [1,1,1,1], widths 8/16/24/32 "
         "(x4 expansion)", calibrate=images(8, 64)),
    spec("mobilenet_v2", "torchvision", build_mobilenet_v2, images(2, 64), TV,
         "torchvision MobileNetV2, width 0.25, shortened setting, 256-wide last conv: "
         "Conv2dNormActivation, depthwise conv (groups=C), ReLU6, inverted residuals, "
         "dropout (eval), adaptive_avg_pool2d", calibrate=images(8, 64)),
    spec("mobilenet_v3_small", "torchvision", build_mobilenet_v3_small, images(2, 64), TV,
         "torchvision mobilenet_v3_small(width_mult=0.25): hardswish, hardsigmoid, "
         "squeeze-and-excitation (ops.misc.SqueezeExcitation), 5x5 depthwise convs",
         calibrate=images(8, 64)),
    spec("squeezenet", "torchvision", build_squeezenet, images(2, 64), TV,
         "torchvision SqueezeNet 1.1 with narrower Fire modules: maxpool ceil_mode=True, "
         "torch.cat of 1x1/3x3 expand branches, conv classifier, flatten"),
    spec("shufflenet_v2", "torchvision", build_shufflenet_v2, images(2, 64), TV,
         "torchvision ShuffleNetV2 (x0.5 widths, [2,2,2] repeats, 256 last conv): "
         "channel_shuffle (view/transpose/contiguous/view), chunk, torch.cat, depthwise conv, "
         "x.mean([2, 3])", calibrate=images(8, 64)),
    spec("efficientnet", "torchvision", build_efficientnet, images(2, 64), TV,
         "torchvision EfficientNet with b0's first 6 MBConv stages at width 0.25, depth 0.5: SiLU, "
         "SqueezeExcitation (sigmoid), StochasticDepth (identity in eval), imports "
         "torchvision.ops (runs _register_custom_op: torch.onnx imports)",
         calibrate=images(8, 64)),
    spec("vit", "torchvision", build_vit, images(2, 32), TV,
         "torchvision VisionTransformer 32x32, patch 8, 2 layers, 2 heads, dim 32, mlp 64: "
         "conv patchify, reshape/permute, class token expand + cat, pos embedding, "
         "nn.MultiheadAttention (self-attention, need_weights=False), ops.misc.MLP with GELU, "
         "LayerNorm, torch._assert", tolerance=TOL_ATTN),
    spec("transformer_encoder", "nn.Transformer", build_transformer_encoder,
         padded_sequence(batch_first=True), SEQ,
         "nn.TransformerEncoder, 2 post-norm layers, d_model 32, 4 heads, ReLU, batch_first, "
         "bool src_key_padding_mask. In eval + no_grad torch 1.13 takes the nested-tensor "
         "fast path: the output is exactly 0 at padded positions.", tolerance=TOL_ATTN),
    spec("transformer_encoder_prenorm", "nn.Transformer", build_transformer_encoder_prenorm,
         padded_sequence(batch_first=False), SEQ,
         "nn.TransformerEncoder, 2 pre-norm (norm_first) layers, GELU, seq-first "
         "(batch_first=False), final LayerNorm, float causal mask (-inf above the diagonal, "
         "built in forward) + bool key padding mask: the regular (non-fast) path",
         tolerance=TOL_ATTN),
    spec("mha", "nn.Transformer", build_mha,
         lambda g: [torch.randn(2, 6, 32, generator=g), torch.randn(2, 9, 24, generator=g)],
         SEQ, "nn.MultiheadAttention called directly: causal self-attention with a bool attn_mask "
         "and averaged weights, cross-attention with kdim=24/vdim=20 (separate q/k/v "
         "projections; value = memory[..., 4:]) returning per-head weights; returns "
         "(out, self_weights, cross_weights)",
         tolerance=TOL_ATTN),
    spec("lstm", "nn.RNN", build_lstm, lambda g: [torch.randn(2, 10, 8, generator=g)], SEQ,
         "nn.LSTM, 2 layers, batch_first, hidden 16, zero initial state; returns "
         "(linear(output), (h_n, c_n))", tolerance=TOL_RNN),
    spec("gru", "nn.RNN", build_gru,
         lambda g: [torch.randn(3, 7, 8, generator=g), torch.randn(2, 3, 16, generator=g)],
         SEQ, "nn.GRU, 2 layers, batch_first, explicit h0 input; returns (tanh(linear(out)), h_n)",
         tolerance=TOL_RNN),
    spec("gru_bidir", "nn.RNN", build_gru_bidir, lambda g: [torch.randn(3, 7, 8, generator=g)],
         SEQ, "nn.GRU, 2 layers, bidirectional, batch_first, h0 omitted (None); returns "
         "(tanh(linear(out)), h_n [4, 3, 16])", tolerance=TOL_RNN),
    spec("tiny_gpt", "user code", build_tiny_gpt, gpt_tokens, package_sources("tiny_gpt"),
         "packages/model_sources/tiny_gpt.py: GPT with plain tensor ops (see the module "
         "docstring); int64 token ids [2, 16] -> logits [2, 16, 64]", tolerance=TOL_ATTN),
    spec("dtype_zoo", "user code", build_dtype_zoo, dtype_zoo_inputs,
         package_sources("dtype_zoo"),
         "packages/model_sources/dtype_zoo.py: float64, float16, int32, uint8 (wrap-around), "
         "bool and int64 math and type promotion in one forward; returns an 8-tuple",
         tolerance="Integer and bool outputs must match exactly. float64: rtol 1e-12. "
         "float16: 1 ulp (torch computes each half op in float32 and rounds). float32: "
         "rtol 1e-5; argmax must match."),
    spec("int_div", "user code", build_int_div, int_div_inputs, package_sources("int_div"),
         "packages/model_sources/int_div.py: torch.div(a, b, rounding_mode='floor') on int64 "
         "[2, 3]; the server test sends it INT64_MIN and -1, which kills PyTorch itself",
         tolerance="exact (integers)"),
    # --size bench: full size, not committed
    spec("resnet18", "torchvision", build_resnet18_full, images(1, 224), TV,
         "torchvision resnet18 (full size, random init), batch 1, 224x224",
         calibrate=images(4, 224), size="bench"),
    spec("resnet50", "torchvision", build_resnet50_full, images(1, 224), TV,
         "torchvision resnet50 (full size, random init), batch 1, 224x224",
         calibrate=images(4, 224), size="bench"),
]
BY_NAME = {m["name"]: m for m in MODELS}


def seed_of(name, salt=0):
    return (zlib.crc32(name.encode()) + salt) % 2**31


def calibrate_batchnorm(model, make_batch, seed, steps=3):
    """Makes BatchNorm non-trivial: random affine parameters, then running statistics measured
    with a few train-mode passes over random inputs (cumulative average). Without this, random
    init gives mean 0 / var 1 / weight 1 / bias 0, which a broken BN implementation passes."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    with torch.no_grad():
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0.0, 0.2)
            bn.reset_running_stats()
            bn.momentum = None
        g = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(steps):
            model(*make_batch(g))
    for bn in bns:
        bn.momentum = 0.1
    model.eval()


# --------------------------------------------------------------------------------------------
# Outputs: nested tuples of tensors, flattened depth-first
# --------------------------------------------------------------------------------------------


def flatten_outputs(out, tensors):
    """Returns the structure: an int n for tensors[n], or {"$tuple": [...]}."""
    if isinstance(out, torch.Tensor):
        tensors.append(out)
        return len(tensors) - 1
    if isinstance(out, (tuple, list)):
        return {"$tuple": [flatten_outputs(o, tensors) for o in out]}
    raise TypeError("unsupported output type %s" % type(out).__name__)


def npy_name(name, kind, i):
    return "%s.%s%s.npy" % (name, kind, "" if i == 0 else i)


def input_files(out_dir, name):
    files = []
    while os.path.exists(os.path.join(out_dir, npy_name(name, "input", len(files)))):
        files.append(npy_name(name, "input", len(files)))
    return files


def describe(arr, file):
    return {"file": file, "dtype": str(arr.dtype), "shape": list(arr.shape)}


def to_numpy(t):
    return t.detach().cpu().contiguous().numpy()


# --------------------------------------------------------------------------------------------
# The fresh loading process: `make_models.py --_load DIR [--_check] NAME...`
# --------------------------------------------------------------------------------------------


def run_archive(out_dir, name):
    importer = PackageImporter(os.path.join(out_dir, name + ".pt"))
    model = importer.load_pickle(PICKLE_PACKAGE, PICKLE_RESOURCE)
    inputs = [torch.from_numpy(np.load(os.path.join(out_dir, f)))
              for f in input_files(out_dir, name)]
    assert not model.training, "%s: the pickled model is in training mode" % name
    with torch.no_grad():
        out = model(*inputs)
    tensors = []
    structure = flatten_outputs(out, tensors)
    return structure, [to_numpy(t) for t in tensors]


class _ArchiveOnly:
    """A sys.meta_path finder that refuses the modules only an archive may provide, as if
    torchvision and packages/model_sources were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in PACKAGED_ONLY:
            raise ImportError("%s must come from the archive, not from sys.path" % name)
        return None


def load_main(out_dir, names, check):
    torch.set_num_threads(1)
    sys.meta_path.insert(0, _ArchiveOnly())
    report = {}
    for name in names:
        structure, arrays = run_archive(out_dir, name)
        if not check:  # drop expected files of an earlier run with more outputs
            for i in range(len(arrays), 100):
                stale = os.path.join(out_dir, npy_name(name, "expected", i))
                if os.path.exists(stale):
                    os.remove(stale)
        outputs = []
        for i, arr in enumerate(arrays):
            path = os.path.join(out_dir, npy_name(name, "expected", i))
            if check:
                want = np.load(path)
                assert want.dtype == arr.dtype and want.shape == arr.shape, (path, arr.dtype)
                if want.tobytes() != arr.tobytes():
                    raise AssertionError("%s: a fresh load does not reproduce %s" % (name, path))
            else:
                np.save(path, arr)
            outputs.append(describe(arr, os.path.basename(path)))
        report[name] = {"structure": structure, "outputs": outputs}
        # Nothing but the archive may have provided the model code.
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in PACKAGED_ONLY)
        assert not leaked, "%s: loaded outside the archive: %s" % (name, leaked[:5])
    json.dump(report, sys.stdout)


def fresh_load(out_dir, names, check):
    cmd = [sys.executable, os.path.abspath(__file__), "--_load", out_dir]
    cmd += (["--_check"] if check else []) + list(names)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    res = subprocess.run(cmd, cwd="/", env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise SystemExit("fresh process failed: %s" % " ".join(cmd))
    return json.loads(res.stdout)


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def pickle_globals(path):
    """The `module name` pairs the model pickle references (protocol 3: GLOBAL opcodes)."""
    with zipfile.ZipFile(path) as zf:
        root = zf.namelist()[0].split("/", 1)[0]
        data = zf.read("%s/%s/%s" % (root, PICKLE_PACKAGE, PICKLE_RESOURCE))
    found = set()
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif op.name == "STACK_GLOBAL":
            raise AssertionError("unexpected protocol 4 pickle")
    return sorted(found)


def export(spec_, model, path):
    if os.path.exists(path):
        os.remove(path)
    with PackageExporter(path) as e:
        spec_["package"](e)
        e.save_pickle(PICKLE_PACKAGE, PICKLE_RESOURCE, model)
    return {
        "interned": sorted(e.interned_modules()),
        "mocked": sorted(e.mocked_modules()),
        "extern": sorted(e.externed_modules()),
    }


def share_rnn_names(model):
    """Makes the names in each RNN's _flat_weights_names/_all_weights the very str objects that
    key its _parameters, as they are when the RNN is the first one built in a process.

    RNNBase.__init__ formats the names, then setattr() interns them. If an equal string is still
    interned from an earlier RNN (CPython's type attribute cache keeps names alive, and which
    entries survive depends on PYTHONHASHSEED), the _parameters keys and the lists hold different
    but equal str objects, and the pickle gets extra copies instead of memo references. Same
    values either way, but the archive bytes would vary from run to run."""
    for m in model.modules():
        if isinstance(m, nn.RNNBase):
            keys = {k: k for k in m._parameters}
            m.__dict__["_flat_weights_names"] = [keys.get(n, n) for n in m._flat_weights_names]
            m.__dict__["_all_weights"] = [[keys.get(n, n) for n in names]
                                          for names in m._all_weights]


def build_one(spec_, out_dir, onnx):
    name = spec_["name"]
    torch.manual_seed(seed_of(name))
    model = spec_["build"]()
    if spec_["calibrate"] is not None:
        calibrate_batchnorm(model, spec_["calibrate"], seed_of(name, 2))
    model.eval()
    share_rnn_names(model)
    inputs = spec_["inputs"](torch.Generator().manual_seed(seed_of(name, 1)))

    path = os.path.join(out_dir, name + ".pt")
    modules = export(spec_, model, path)
    for f in input_files(out_dir, name):
        os.remove(os.path.join(out_dir, f))
    files = []
    for i, t in enumerate(inputs):
        files.append(describe(to_numpy(t), npy_name(name, "input", i)))
        np.save(os.path.join(out_dir, files[-1]["file"]), to_numpy(t))

    # The in-process model gives the reference the fresh process must match bit for bit.
    with torch.no_grad():
        out = model(*inputs)
    here = []
    structure = flatten_outputs(out, here)
    onnx_file = export_onnx(model, inputs, len(here), os.path.join(out_dir, name + ".onnx")) \
        if onnx else None
    return {
        "name": name,
        "family": spec_["family"],
        "file": name + ".pt",
        "pickle": "%s/%s" % (PICKLE_PACKAGE, PICKLE_RESOURCE),
        "inputs": files,
        "outputs": None,  # filled from the fresh process
        "output_structure": structure,
        "covers": spec_["covers"],
        "tolerance_note": spec_["tolerance"],
        "size_bytes": os.path.getsize(path),
        "num_params": sum(p.numel() for p in model.parameters()),
        "made_with": None,
        "modules": modules,
        "pickle_globals": pickle_globals(path),
        "onnx": onnx_file,
    }, [to_numpy(t) for t in here]


def export_onnx(model, inputs, n_outputs, path):
    """The graph-mode baseline. Returns the file name, or {"error": ...} when torch 1.13's
    exporter cannot trace the model."""
    names_in = ["input"] + ["input%d" % i for i in range(1, len(inputs))]
    names_out = ["output"] + ["output%d" % i for i in range(1, n_outputs)]
    try:
        # Not under no_grad: with grad enabled (and parameters requiring grad) nn's attention
        # layers skip their fused fast paths (_native_multi_head_attention, nested tensors),
        # which torch 1.13 cannot export. So the ONNX transformer_encoder does not zero the
        # padded positions.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python control flow
            torch.onnx.export(model, tuple(inputs), path, opset_version=17,
                              input_names=names_in, output_names=names_out)
    except Exception as e:  # noqa: BLE001
        if os.path.exists(path):
            os.remove(path)
        msg = str(e).strip().splitlines()
        return {"error": ("%s: %s" % (type(e).__name__, msg[0] if msg else ""))[:200]}
    import onnx

    onnx.checker.check_model(onnx.load(path))
    return os.path.basename(path)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="output folder (default packages/models/; required for bench)")
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--size", choices=["small", "bench"], default="small")
    ap.add_argument("--onnx", action="store_true", help="also write NAME.onnx (opset 17)")
    ap.add_argument("--_load", help=argparse.SUPPRESS)
    ap.add_argument("--_check", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("names", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._load:
        load_main(args._load, args.names, args._check)
        return

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")
    sys.path.insert(0, MODEL_SOURCES)
    import torchvision

    if args.size == "bench" and not args.out:
        ap.error("--size bench writes large files: give --out DIR (outside the repository)")
    out_dir = os.path.abspath(args.out or DEFAULT_OUT)
    os.makedirs(out_dir, exist_ok=True)
    specs = [m for m in MODELS if m["size"] == args.size]
    if args.only:
        wanted = args.only.split(",")
        unknown = [n for n in wanted if n not in BY_NAME or BY_NAME[n]["size"] != args.size]
        if unknown:
            ap.error("unknown %s model(s): %s (have: %s)" % (
                args.size, ", ".join(unknown), ", ".join(m["name"] for m in specs)))
        specs = [m for m in specs if m["name"] in wanted]
    made_with = {"torch": torch.__version__, "torchvision": torchvision.__version__,
                 "python": sys.version.split()[0]}
    print("torch %s, torchvision %s, python %s -> %s" % (
        made_with["torch"], made_with["torchvision"], made_with["python"], out_dir))

    entries, reference = {}, {}
    for s in specs:
        entry, arrays = build_one(s, out_dir, args.onnx)
        entry["made_with"] = made_with
        entries[s["name"]] = entry
        reference[s["name"]] = arrays

    names = [s["name"] for s in specs]
    fresh = fresh_load(out_dir, names, check=False)  # writes NAME.expected*.npy
    fresh_load(out_dir, names, check=True)  # a second fresh process reproduces them exactly
    for name in names:
        entry, got = entries[name], fresh[name]
        assert got["structure"] == entry["output_structure"], name
        entry["outputs"] = got["outputs"]
        for arr, o in zip(reference[name], got["outputs"]):
            want = np.load(os.path.join(out_dir, o["file"]))
            if want.tobytes() != arr.tobytes():
                raise AssertionError("%s: the loaded archive differs from the in-memory model in "
                                     "%s" % (name, o["file"]))
        files = [entry["file"]] + [f["file"] for f in entry["inputs"] + entry["outputs"]]
        total = sum(os.path.getsize(os.path.join(out_dir, f)) for f in files)
        stats = []
        for o in entry["outputs"]:
            a = np.load(os.path.join(out_dir, o["file"]))
            if a.dtype.kind == "f":
                a = a.astype(np.float64)
                stats.append("%s%s |x|~%.3g" % (o["dtype"], o["shape"], np.abs(a).mean()))
            else:
                stats.append("%s%s" % (o["dtype"], o["shape"]))
        print("%-28s archive %8d B, with npy %8d B, %7d params; in %s; out %s%s" % (
            name, entry["size_bytes"], total, entry["num_params"],
            " ".join("%s%s" % (f["dtype"], f["shape"]) for f in entry["inputs"]),
            "; ".join(stats),
            "" if entry["onnx"] is None else "; onnx: %s" % (entry["onnx"],)))
        for o in entry["outputs"]:
            a = np.load(os.path.join(out_dir, o["file"]))
            if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                raise AssertionError("%s: non-finite values in %s" % (name, o["file"]))

    # models.json: keep the entries of models not rebuilt this time (--only)
    index_path = os.path.join(out_dir, "models.json")
    old = {}
    if os.path.exists(index_path):
        with open(index_path, encoding="utf-8") as f:
            old = {m["name"]: m for m in json.load(f)["models"]}
    old.update(entries)
    order = [m["name"] for m in MODELS]
    models = sorted(old.values(), key=lambda m: order.index(m["name"]) if m["name"] in order
                    else len(order))
    for m in models:
        if m.get("onnx") is None:
            m.pop("onnx", None)
    write_json(index_path, {"models": models})

    total = 0
    for m in models:
        for f in [m["file"]] + [x["file"] for x in m["inputs"] + m["outputs"]]:
            total += os.path.getsize(os.path.join(out_dir, f))
    total += os.path.getsize(index_path)
    print("wrote %s: %d models, %d bytes (%.2f MB) of .pt/.npy/.json" % (
        index_path, len(models), total, total / 2**20))


if __name__ == "__main__":
    main()
