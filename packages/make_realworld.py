#!/usr/bin/python3
"""Builds the real-world model archives (issue 19) and what real PyTorch computes from them.

Run with Debian's python3-torch (1.13) and python3-torchvision (0.14):

    /usr/bin/python3 packages/make_realworld.py [--out DIR] [--only NAME,...]

Writes into DIR (default packages/models/realworld/):

    NAME.pt                 torch.package archive, the object pickled at model/model.pkl
    NAME.in0.npy, ...       the input tensors of every call, numbered across the calls
    NAME.out0.npy, ...      the output tensors of every call, numbered across the calls
    realworld.json          per model: the calls (method, arguments, expected result) with
                            each tensor as {"$npy": file}, a tuple as {"$tuple": [...]}, a
                            dict, dataclass or NamedTuple as a plain object of its fields;
                            a call wasmdeploy must refuse has "wasmdeploy_error" (the Python
                            exception type and text its message contains)

The models are the shapes real code takes that packages/make_models.py does not cover:
torchvision's detectors (SSDlite, Faster R-CNN and Mask R-CNN on MobileNetV3 backbones, at a
small resolution and width: data-dependent shapes, torch.ops.torchvision.nms / roi_align, lists
of dicts), torch.fx GraphModules (a user MLP and torchvision's mobilenet_v3_small), an eager
model holding torch.jit.script'ed submodules, and results that are a dataclass or a NamedTuple.

Every archive is loaded back with torch.package.PackageImporter in a fresh process, which
computes the expected outputs; a second fresh process must reproduce them bit for bit. The
detectors' decisions (score thresholds, top-k, NMS) are checked to be stable: with every weight
perturbed by a relative 1e-5, three times, labels and detection counts must not change, so an
engine that differs from PyTorch by rounding still has to give the same detections.
Deterministic: running it again changes no file (it runs itself with PYTHONHASHSEED=0, since
torch.fx writes sets into the archives).
"""

import argparse
import dataclasses
from builtins import id as builtins_id
import json
import os
import subprocess
import sys
import warnings
import zlib
from functools import partial

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_SOURCES = os.path.join(HERE, "model_sources")
DEFAULT_OUT = os.path.join(HERE, "models", "realworld")
PICKLE_PACKAGE, PICKLE_RESOURCE = "model", "model.pkl"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.package import PackageExporter, PackageImporter  # noqa: E402

# --------------------------------------------------------------------------------------------
# Packaging. torch.package uses the first pattern that matches, so extern and mock come first.
# torchvision.extension must be extern (interned, it cannot load torchvision's _C; mocked, nms
# fails); torchvision.utils must be interned (its _log_api_usage_once runs in forward).
# --------------------------------------------------------------------------------------------

TV_EXTERN = ["sys", "torchvision.extension"]
TV_MOCK = [
    "numpy", "numpy.**", "PIL", "PIL.**",
    # PIL helpers of torchvision.transforms, touched at import only
    "torchvision.transforms._pil_constants", "torchvision.transforms.functional_pil",
    # torchvision/__init__.py imports these; no model reaches them
    "torchvision.io", "torchvision.io.**", "torchvision.datasets", "torchvision.datasets.**",
    "torchvision.models._meta",
]


def package_torchvision(e):
    e.extern(TV_EXTERN)
    e.mock(TV_MOCK)
    e.intern("torchvision.**")


# torchaudio 0.13: its models are pure Python; what loads its C++ extension, I/O and the rest
# of the library is mocked (the model never reaches it)
TA_MOCK = ["numpy", "numpy.**"] + ["torchaudio.%s.**" % m for m in (
    "_extension", "io", "backend", "datasets", "sox_effects", "utils", "compliance", "_internal", "transforms",
    "functional", "pipelines", "prototype")] + ["torchaudio._extension", "torchaudio.io", "torchaudio.kaldi_io"]


def package_torchaudio(e):
    e.extern(["sys"])
    e.mock(TA_MOCK)
    e.intern("torchaudio.**")


def package_user(e):
    e.intern("realworld_models")


def package_user_and_torchvision(e):
    package_user(e)
    package_torchvision(e)


# --------------------------------------------------------------------------------------------
# Builders (each runs after torch.manual_seed(seed_of(name)))
# --------------------------------------------------------------------------------------------


def calibrate_batchnorm(model, module, make_batch, steps=3):
    """Random BN affine parameters, then running statistics measured in train mode on random
    batches through `module` (a backbone), so BN is not the identity. Variances are floored at
    0.05 so that rounding differences stay rounding differences."""
    bns = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0.0, 0.2)
            bn.reset_running_stats()
            bn.momentum = None
        module.train()
        for _ in range(steps):
            module(make_batch())
    for bn in bns:
        bn.momentum = 0.1
        # nearly constant channels (running_var ~ 0) would amplify rounding 300x: floor them
        bn.running_var.clamp_(min=0.05)
    model.eval()


def reinit(modules, std, bias_std=0.1):
    """torchvision initialises detection heads with std 0.01, which makes every class score
    about equal (ties) on random weights: spread them."""
    for head in modules:
        for mod in head.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear, nn.ConvTranspose2d)):
                nn.init.normal_(mod.weight, std=std)
                if mod.bias is not None:
                    nn.init.normal_(mod.bias, std=bias_std)


_SHARED = {}


def mobilenet_features():
    """mobilenet_v3_large(width_mult=0.25, reduced_tail=True).features, built once with its
    own seed and BN calibrated: the three detectors share it (one copy of its weights in the
    archive), as SSDlite's and the R-CNNs' builders each build one."""
    if "features" not in _SHARED:
        from torchvision.models import mobilenet_v3_large

        torch.manual_seed(seed_of("mobilenet_v3_large"))
        feats = mobilenet_v3_large(weights=None, width_mult=0.25, reduced_tail=True).features
        g = torch.Generator().manual_seed(5)
        calibrate_batchnorm(feats, feats, lambda: torch.randn(4, 3, 128, 160, generator=g))
        _SHARED["features"] = feats
    return _SHARED["features"]


def build_ssdlite():
    """torchvision's ssdlite320_mobilenet_v3_large, built the way its builder builds it
    (SSDLiteFeatureExtractorMobileNet splitting the backbone at C4, extra blocks, SSDLiteHead,
    DefaultBoxGenerator), at a 128x128 input, width 0.25, 5 classes."""
    from torchvision.models.detection import _utils as det_utils
    from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
    from torchvision.models.detection.ssd import SSD
    from torchvision.models.detection.ssdlite import SSDLiteFeatureExtractorMobileNet, SSDLiteHead

    size = (128, 128)
    norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)
    feats = mobilenet_features()
    stages = [0] + [i for i, b in enumerate(feats) if getattr(b, "_is_cn", False)] + [len(feats) - 1]
    backbone = SSDLiteFeatureExtractorMobileNet(feats, stages[-2], norm_layer, width_mult=0.25)
    anchors = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    out_channels = det_utils.retrieve_out_channels(backbone, size)
    head = SSDLiteHead(out_channels, anchors.num_anchors_per_location(), 5, norm_layer)
    m = SSD(backbone, anchors, size, 5, head=head, score_thresh=0.3, nms_thresh=0.55,
            detections_per_img=25, topk_candidates=40, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    reinit([m.head], 0.4)
    g = torch.Generator().manual_seed(6)
    with torch.no_grad():
        c5 = m.backbone.features.eval()(torch.randn(4, 3, *size, generator=g))
    calibrate_batchnorm(m, nn.Sequential(*m.backbone.extra), lambda: c5)
    return m


def mobilenet_fpn(out_channels):
    """_mobilenet_extractor(mobilenet_v3_large, fpn=True) of torchvision's
    fasterrcnn_mobilenet_v3_large_320_fpn with `out_channels` FPN channels."""
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

    feats = mobilenet_features()
    stages = [0] + [i for i, b in enumerate(feats) if getattr(b, "_is_cn", False)] + [len(feats) - 1]
    returned = [len(stages) - 2, len(stages) - 1]
    return_layers = {f"{stages[k]}": str(v) for v, k in enumerate(returned)}
    in_channels = [feats[stages[i]].out_channels for i in returned]
    return BackboneWithFPN(feats, return_layers, in_channels, out_channels, extra_blocks=LastLevelMaxPool())


_RCNN = {}


def build_fasterrcnn():
    """fasterrcnn_mobilenet_v3_large_320_fpn's structure (AnchorGenerator with 5 sizes x 3
    ratios, RPN pre/post NMS top-n and score threshold, MultiScaleRoIAlign 7x7, TwoMLPHead) at
    width 0.25, 24 FPN channels, images resized to 128..160, 5 classes. Built once (own seed):
    the Mask R-CNN shares its backbone, RPN and box branch (one set of weights in the archive)."""
    if "model" not in _RCNN:
        from torchvision.models.detection.anchor_utils import AnchorGenerator
        from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, FasterRCNN, TwoMLPHead

        torch.manual_seed(seed_of("rcnn"))
        c = 24
        sizes = ((16, 32, 64, 128, 256),) * 3
        m = FasterRCNN(mobilenet_fpn(c), None,
                       rpn_anchor_generator=AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(sizes)),
                       box_head=TwoMLPHead(c * 7 * 7, 48), box_predictor=FastRCNNPredictor(48, 5), **RCNN_OPTIONS)
        reinit([m.rpn.head, m.roi_heads.box_head], 0.1)
        reinit([m.roi_heads.box_predictor], 0.4, bias_std=0.5)
        _RCNN["model"] = m.eval()
    return _RCNN["model"]


RCNN_OPTIONS = dict(min_size=128, max_size=160, rpn_pre_nms_top_n_test=60, rpn_post_nms_top_n_test=40,
                    rpn_score_thresh=0.05, box_score_thresh=0.2, box_detections_per_img=12)


def build_maskrcnn():
    """Mask R-CNN on the Faster R-CNN's backbone, RPN and box branch, plus MaskRCNNHeads (2
    convs, 16 channels), the ConvTranspose2d predictor and mask pasting."""
    from torchvision.models.detection.mask_rcnn import MaskRCNN, MaskRCNNHeads, MaskRCNNPredictor

    f = build_fasterrcnn()
    torch.manual_seed(seed_of("maskrcnn"))
    m = MaskRCNN(f.backbone, None, rpn_anchor_generator=f.rpn.anchor_generator,
                 box_head=f.roi_heads.box_head, box_predictor=f.roi_heads.box_predictor,
                 mask_head=MaskRCNNHeads(24, (16, 16), 1), mask_predictor=MaskRCNNPredictor(16, 16, 5),
                 **RCNN_OPTIONS)
    m.rpn = f.rpn
    reinit([m.roi_heads.mask_head, m.roi_heads.mask_predictor], 0.1)
    with torch.no_grad():  # mask logits around 0, so the pasted masks are not all below 0.5
        m.roi_heads.mask_predictor.mask_fcn_logits.bias.normal_(0.5, 0.5)
    return m.eval()


def build_lraspp():
    """torchvision's lraspp_mobilenet_v3_large structure (LRASPP head on the C2/C5 features via
    IntermediateLayerGetter, bilinear upsampling, an OrderedDict result) on the shared
    MobileNetV3 backbone, 5 classes: a segmentation model as a regression check."""
    from torchvision.models._utils import IntermediateLayerGetter
    from torchvision.models.segmentation.lraspp import LRASPP

    feats = mobilenet_features()
    stages = [0] + [i for i, b in enumerate(feats) if getattr(b, "_is_cn", False)] + [len(feats) - 1]
    low, high = stages[-4], stages[-1]
    backbone = IntermediateLayerGetter(feats, return_layers={str(low): "low", str(high): "high"})
    m = LRASPP(backbone, feats[low].out_channels, feats[high].out_channels, 5, inter_channels=32)
    reinit([m.classifier], 0.2)
    return m


def build_preprocess():
    """torchvision.transforms on tensors: Resize with antialias (bilinear, then bicubic),
    CenterCrop, Normalize, as an nn.Sequential."""
    from torchvision import transforms as T

    return nn.Sequential(
        T.Resize((40, 52), antialias=True),
        T.Resize(30, interpolation=T.InterpolationMode.BICUBIC, antialias=True),
        T.CenterCrop(28),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    )


def build_wav2vec2():
    """torchaudio's wav2vec2_model (group-norm feature extractor, convolutional positional
    embedding, 2 post-norm transformer layers, aux head), small: a torchaudio regression check
    with a padded batch (lengths)."""
    from torchaudio.models import wav2vec2_model

    return wav2vec2_model(
        extractor_mode="group_norm", extractor_conv_layer_config=[(32, 10, 5), (32, 3, 2), (32, 2, 2)],
        extractor_conv_bias=False, encoder_embed_dim=32, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=16,
        encoder_pos_conv_groups=4, encoder_num_layers=2, encoder_num_heads=2, encoder_attention_dropout=0.0,
        encoder_ff_interm_features=64, encoder_ff_interm_dropout=0.0, encoder_dropout=0.0,
        encoder_layer_norm_first=False, encoder_layer_drop=0.0, aux_num_out=10)


def waveforms(g):
    return [(None, [torch.randn(2, 1600, generator=g), torch.tensor([1600, 1200])])]


def build_fx_mlp():
    import realworld_models

    m = realworld_models.MLP()
    for p in m.norm.parameters():
        nn.init.normal_(p, mean=0.5, std=0.3)
    return torch.fx.symbolic_trace(m)


def build_fx_mobilenet_v3_small():
    from torchvision.models import mobilenet_v3_small

    m = mobilenet_v3_small(weights=None, width_mult=0.25, num_classes=10)
    for mod in m.classifier.modules():
        if isinstance(mod, nn.Linear):
            nn.init.normal_(mod.weight, std=0.1)
    g = torch.Generator().manual_seed(5)
    calibrate_batchnorm(m, m, lambda: torch.randn(4, 3, 64, 64, generator=g))
    return torch.fx.symbolic_trace(m)


def build_scripted():
    import realworld_models

    return realworld_models.WithScripted()


def build_structured():
    import realworld_models

    return realworld_models.StructuredOut()


# --------------------------------------------------------------------------------------------
# Calls: each a (method or None, positional arguments) list, made from a seeded generator
# --------------------------------------------------------------------------------------------


def two_images(g):
    """The detectors' input, a list of two images of different sizes; twice, with other values
    (the same shapes), so a replay of the first call's recording must not answer the second."""
    return [(None, [[torch.rand(3, 64, 80, generator=g), torch.rand(3, 72, 60, generator=g)]]) for _ in range(2)]


def image_batch(g):
    return [(None, [torch.randn(2, 3, 64, 64, generator=g)])]


def mlp_calls(g):
    return [(None, [torch.randn(3, 12, generator=g)]), (None, [torch.randn(5, 12, generator=g)])]


def scripted_calls(g):
    x = torch.randn(2, 4, 8, generator=g)
    mask = torch.tensor([[False, False, True, False], [True, False, False, False]])
    return [(None, [x, mask]), ("spectrum", [torch.randn(2, 16, generator=g)])]


# Calls wasmdeploy must refuse with a typed error (PyTorch's result is still recorded).
EXPECTED_ERRORS = {("scripted", "spectrum"): {"pyType": "torch.jit.UnsupportedScriptError", "contains": "aten::fft_fft"}}


def structured_calls(g):
    return [(None, [torch.randn(2, 3, 8, generator=g)]), ("pair", [torch.randn(2, 8, generator=g), 3])]


def spec(name, build, calls, package, covers, detector=False, archive=None):
    """A model pickled at model/NAME.pkl in ARCHIVE.pt (default: NAME.pt); models of one
    archive share its code and, where they share tensors, its storages."""
    return {"name": name, "build": build, "calls": calls, "package": package, "covers": covers,
            "detector": detector, "archive": archive or name}


MODELS = [
    spec("ssdlite", build_ssdlite, two_images, package_torchvision,
         "torchvision SSD + SSDLiteHead + SSDLiteFeatureExtractorMobileNet (ssdlite320_mobilenet_v3_large's "
         "classes) on MobileNetV3-Large x0.25, 128x128, 5 classes: GeneralizedRCNNTransform (resize, "
         "batch), DefaultBoxGenerator, per-class score threshold (boolean mask indexing), topk with k "
         "from data, batched_nms (torch.ops.torchvision.nms), list of dicts", detector=True,
         archive="vision"),
    spec("fasterrcnn", build_fasterrcnn, two_images, package_torchvision,
         "torchvision FasterRCNN as fasterrcnn_mobilenet_v3_large_320_fpn builds it (MobileNetV3-Large "
         "x0.25 + FPN 32 ch, AnchorGenerator, RPN with pre/post NMS top-n and score threshold, "
         "MultiScaleRoIAlign (torch.ops.torchvision.roi_align), TwoMLPHead), images resized to "
         "128..160, 5 classes", detector=True, archive="vision"),
    spec("maskrcnn", build_maskrcnn, two_images, package_torchvision,
         "torchvision MaskRCNN on the same MobileNetV3-FPN backbone: mask RoIAlign 14x14, "
         "MaskRCNNHeads, ConvTranspose2d predictor, paste_masks_in_image (per-box interpolate into "
         "the image), masks [N, 1, H, W]; shares the Faster R-CNN's backbone, RPN and box branch",
         detector=True, archive="vision"),
    spec("lraspp", build_lraspp, image_batch, package_torchvision,
         "torchvision LRASPP (lraspp_mobilenet_v3_large's structure) on the shared MobileNetV3 "
         "backbone: IntermediateLayerGetter, bilinear F.interpolate, OrderedDict {'out': ...} result",
         archive="vision"),
    spec("preprocess", build_preprocess, image_batch, package_torchvision,
         "torchvision.transforms on a tensor batch: Resize(antialias=True) bilinear then bicubic, "
         "CenterCrop, Normalize (nn.Sequential)", archive="vision"),
    spec("wav2vec2", build_wav2vec2, waveforms, package_torchaudio,
         "torchaudio wav2vec2_model, small (group-norm conv extractor, conv positional embedding, 2 "
         "transformer layers, aux head) on a padded batch with lengths: returns (logits, lengths)"),
    spec("fx_mlp", build_fx_mlp, mlp_calls, package_user,
         "torch.fx.symbolic_trace of a user MLP (Linear, LayerNorm, gelu, buffer, cat, softmax, "
         "tuple result): a GraphModule pickled through reduce_package_graph_module"),
    spec("fx_mobilenet_v3_small", build_fx_mobilenet_v3_small, image_batch, package_torchvision,
         "torch.fx.symbolic_trace of torchvision's mobilenet_v3_small(width_mult=0.25): the "
         "GraphModule's generated code calls torchvision submodules and torch functions"),
    spec("scripted", build_scripted, scripted_calls, package_user,
         "eager model with torch.jit.script'ed submodules (realworld_models.Gate and Pool): loops, "
         "if on a tensor value, Optional argument, list of ints, method call, Final attribute, "
         "slice assignment; pickled through unpackage_script_module (.data/ts_code)"),
    spec("structured", build_structured, structured_calls, package_user,
         "forward returns a @dataclass (ModelOutput style: tensors, None, an int); method pair "
         "returns a NamedTuple"),
]
BY_NAME = {m["name"]: m for m in MODELS}


def seed_of(name, salt=0):
    return (zlib.crc32(name.encode()) + salt) % 2**31


# --------------------------------------------------------------------------------------------
# Values <-> realworld.json
# --------------------------------------------------------------------------------------------


def encode(v, files, prefix):
    """JSON for a value as the host receives it; tensors go to files (name, array) in order."""
    if isinstance(v, torch.Tensor):
        name = "%s%d.npy" % (prefix, len(files))
        files.append((name, v.detach().contiguous().numpy()))
        return {"$npy": name}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: encode(getattr(v, f.name), files, prefix) for f in dataclasses.fields(v)}
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return {k: encode(getattr(v, k), files, prefix) for k in v._fields}
    if isinstance(v, tuple):
        return {"$tuple": [encode(x, files, prefix) for x in v]}
    if isinstance(v, list):
        return [encode(x, files, prefix) for x in v]
    if isinstance(v, dict):
        assert all(isinstance(k, str) for k in v), v.keys()
        return {k: encode(x, files, prefix) for k, x in v.items()}
    raise TypeError("cannot encode %s" % type(v).__name__)


def decode(v, folder):
    if isinstance(v, list):
        return [decode(x, folder) for x in v]
    if isinstance(v, dict):
        if "$npy" in v:
            return torch.from_numpy(np.load(os.path.join(folder, v["$npy"])))
        if "$tuple" in v:
            return tuple(decode(x, folder) for x in v["$tuple"])
        return {k: decode(x, folder) for k, x in v.items()}
    return v


# --------------------------------------------------------------------------------------------
# The fresh loading process: `make_realworld.py --_load DIR NAME...` prints the encoded results
# --------------------------------------------------------------------------------------------


def run_calls(model, calls, folder):
    results = []
    with torch.no_grad():
        for c in calls:
            fn = model if c["method"] is None else getattr(model, c["method"])
            results.append(fn(*decode(c["args"], folder)))
    return results


def load_main(folder, names):
    torch.set_num_threads(1)
    with open(os.path.join(folder, "calls.tmp.json")) as f:
        calls = json.load(f)
    report = {}
    importers = {}
    for name in names:
        archive = calls[name]["archive"]
        if archive not in importers:
            importers[archive] = PackageImporter(os.path.join(folder, archive + ".pt"))
        model = importers[archive].load_pickle(PICKLE_PACKAGE, name + ".pkl")
        assert not model.training, name
        files = []
        out = [encode(r, files, name + ".out") for r in run_calls(model, calls[name]["calls"], folder)]
        for fname, arr in files:
            np.save(os.path.join(folder, fname), arr)
        report[name] = out
        # The model code came from the archive (user modules are never on sys.path here).
        assert "realworld_models" not in sys.modules, name
    json.dump(report, sys.stdout)


def fresh_load(folder, names):
    cmd = [sys.executable, os.path.abspath(__file__), "--_load", folder] + list(names)
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


def export(specs, models, path):
    # ScriptModules in a package are "beta" in 1.13: allowed once this gate is off
    import torch.package.package_exporter as pe

    pe._gate_torchscript_serialization = False
    # The exporter keys __reduce_package__ results by id(obj), a memory address, which it writes
    # into the pickle: number them in order instead (same meaning, same bytes on every run).
    numbers = {}
    pe.id = lambda obj: numbers.setdefault(builtins_id(obj), len(numbers) + 1)
    if os.path.exists(path):
        os.remove(path)
    with PackageExporter(path) as e:
        specs[0]["package"](e)
        for s, m in zip(specs, models):
            e.save_pickle(PICKLE_PACKAGE, s["name"] + ".pkl", m)


def detections(result):
    """(labels, boxes) of every image of a detector's result."""
    return [(d["labels"].tolist(), d["boxes"]) for d in result]


def check_stable(name, model, args):
    """The detections must not hinge on rounding: the model run in float64 must make the same
    decisions (labels, counts, order) and give boxes and scores within 1e-5 of float32's (of the
    largest value), so an engine that rounds differently from PyTorch (as ONNX Runtime does)
    still has to give the same detections, within the tests' 1e-4."""
    import copy

    with torch.no_grad():
        want = model(*args)
        assert all(len(d["labels"]) >= 5 for d in want), "%s: too few detections %s" % (name, want)
        wide = copy.deepcopy(model).double()
        got = wide(*[[x.double() for x in a] if isinstance(a, list) else a.double() for a in args])
    for w, g in zip(want, got):
        if w["labels"].tolist() != g["labels"].tolist():
            raise AssertionError("%s: float64 detects other labels:\n%s\n%s" % (name, w["labels"], g["labels"]))
        for k in w:
            if k == "labels":
                continue
            err = (w[k].double() - g[k]).abs().max().item() / max(1.0, g[k].abs().max().item())
            if err > 1e-5:
                raise AssertionError("%s: float64 %s differ by %.3g" % (name, k, err))


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, ensure_ascii=False)
        f.write("\n")


def import_with_stable_path(name):
    """Import packages/model_sources/NAME.py under the file name "packages/model_sources/NAME.py":
    TorchScript's debug info records a scripted function's source file, and the archives must
    come out byte for byte the same wherever the repository is checked out."""
    import linecache
    import types

    stable = "packages/model_sources/%s.py" % name
    with open(os.path.join(MODEL_SOURCES, name + ".py"), encoding="utf-8") as f:
        source = f.read()
    module = types.ModuleType(name)
    module.__file__ = stable
    linecache.cache[stable] = (len(source), None, source.splitlines(True), stable)
    sys.modules[name] = module
    exec(compile(source, stable, "exec"), module.__dict__)
    return module


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="output folder (default packages/models/realworld/)")
    ap.add_argument("--_load", help=argparse.SUPPRESS)
    ap.add_argument("names", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._load:
        load_main(args._load, args.names)
        return

    if os.environ.get("PYTHONHASHSEED") != "0":
        # torch.fx writes its import block from a set, and GraphModules pickle sets: fix the
        # string hash so the archives come out byte for byte the same
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    sys.path.insert(0, MODEL_SOURCES)
    import_with_stable_path("realworld_models")
    import torchaudio  # noqa: F401
    import torchvision

    out_dir = os.path.abspath(args.out or DEFAULT_OUT)
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".npy") or f.endswith(".pt"):
            os.remove(os.path.join(out_dir, f))

    calls, reference, models = {}, {}, {}
    for s in MODELS:
        name = s["name"]
        torch.manual_seed(seed_of(name))
        model = s["build"]()
        model.eval()
        raw_calls = s["calls"](torch.Generator().manual_seed(seed_of(name, 1)))
        in_files = []
        enc_calls = [{"method": m, "args": encode(a, in_files, name + ".in")} for m, a in raw_calls]
        for fname, arr in in_files:
            np.save(os.path.join(out_dir, fname), arr)
        calls[name] = {"archive": s["archive"], "calls": enc_calls}
        if s["detector"]:
            for _, a in raw_calls:
                check_stable(name, model, a)
        files = []
        with torch.no_grad():
            results = [model(*a) if m is None else getattr(model, m)(*a) for m, a in raw_calls]
        reference[name] = ([encode(r, files, name + ".out") for r in results], files)
        models[name] = model
    archives = {}
    for s in MODELS:
        archives.setdefault(s["archive"], []).append(s)
    for archive, specs in archives.items():
        export(specs, [models[s["name"]] for s in specs], os.path.join(out_dir, archive + ".pt"))

    names = [s["name"] for s in MODELS]
    tmp = os.path.join(out_dir, "calls.tmp.json")
    write_json(tmp, calls)
    try:
        fresh = fresh_load(out_dir, names)
        saved = {n: {f: open(os.path.join(out_dir, f), "rb").read() for f, _ in reference[n][1]} for n in names}
        again = fresh_load(out_dir, names)  # a second fresh process reproduces them bit for bit
    finally:
        os.remove(tmp)
    catalog = {"made_with": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                             "torchaudio": torchaudio.__version__, "python": sys.version.split()[0]},
               "archives": {a: os.path.getsize(os.path.join(out_dir, a + ".pt")) for a in archives},
               "models": {}}
    for s in MODELS:
        name = s["name"]
        want, files = reference[name]
        assert fresh[name] == want == again[name], name
        for fname, arr in files:
            data = open(os.path.join(out_dir, fname), "rb").read()
            assert data == saved[name][fname], "%s: not reproduced by a second load" % fname
            if np.load(os.path.join(out_dir, fname)).tobytes() != arr.tobytes():
                raise AssertionError("%s: the loaded archive differs from the in-memory model" % fname)
        out_calls = []
        for c, r in zip(calls[name]["calls"], fresh[name]):
            c = dict(c, result=r)
            err = EXPECTED_ERRORS.get((name, c["method"]))
            if err is not None:
                c["wasmdeploy_error"] = err
            out_calls.append(c)
        catalog["models"][name] = {
            "archive": s["archive"] + ".pt", "pickle": "%s/%s.pkl" % (PICKLE_PACKAGE, name), "covers": s["covers"],
            "calls": out_calls}
        print("%-24s in %s.pt, %d output tensors" % (name, s["archive"], len(files)))
    for a in archives:
        print("%-24s %8d B" % (a + ".pt", catalog["archives"][a]))
    write_json(os.path.join(out_dir, "realworld.json"), catalog)


if __name__ == "__main__":
    main()
