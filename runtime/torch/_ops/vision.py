"""torchvision's C++ ops (torch.ops.torchvision.*) in the torch layer.

torchvision 0.14's Python code (interned in archives) calls these through `torch.ops`:

- nms: the greedy NMS of torchvision's CPU kernel. The IoU matrix (rows in blocks) is one graph
  with torchvision's arithmetic (areas (x2 - x1) * (y2 - y1), inter / (area_i + area_j - inter),
  `> iou_threshold` compared as a double does); its rows come back packed 8 per byte and Python
  runs the greedy pass over them as integers (one bit per box), so the result is exact and the
  only reads are n*n/8 bytes.
- roi_align: ONNX RoiAlign (opset 16: aligned -> half_pixel, else output_half_pixel; sampling
  ratio <= 0 -> adaptive), which computes what torchvision's kernel computes.
- roi_pool: ONNX MaxRoiPool, plus the argmax PyTorch returns beside it.
- ps_roi_align / ps_roi_pool / deform_conv2d: composed from RoiAlign, masks and GridSample.
"""

import math
import struct

from .. import _dtype as D
from .. import _graph as G
from .core import cast, f32, f64, i64, is_tensor, reshape_value, wrap


def _tensor_mod():
    import torch

    return torch


def _float32_floor(x):
    """The largest float32 <= x: `f > x` for a float32 f (x a double, as in C++'s comparison of
    a float with a double) is the same as `f > _float32_floor(x)`."""
    r = struct.unpack("<f", struct.pack("<f", x))[0]
    if r > x:
        bits = struct.unpack("<I", struct.pack("<f", r))[0]
        bits = bits - 1 if r > 0 else (bits + 1 if r < 0 else 0x80000001)
        r = struct.unpack("<f", struct.pack("<I", bits))[0]
    return r


def _work_dtype(d, op):
    if d is f64:
        return f64
    if not d.is_floating_point:
        raise RuntimeError(f"torchvision::{op}: expected a floating-point tensor, got {d}")
    return f32


# ----- nms -----
_NMS_BLOCK_ELEMENTS = 1 << 22  # IoU matrix elements per engine run


def nms(boxes, scores, iou_threshold):
    torch = _tensor_mod()
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise RuntimeError(f"boxes should have 4 elements in dimension 1, got {boxes.shape[1] if boxes.dim() == 2 else boxes.dim()}")
    if scores.dim() != 1:
        raise RuntimeError(f"scores should be a 1d tensor, got {scores.dim()}")
    n = boxes.shape[0]
    if scores.shape[0] != n:
        raise RuntimeError(f"boxes and scores should have same number of elements in dimension 0, got {n} and {scores.shape[0]}")
    if n == 0:
        return torch.empty(0, dtype=torch.int64)
    wd = _work_dtype(boxes.dtype, "nms")
    thr = float(iou_threshold) if wd is f64 else _float32_floor(float(iou_threshold))
    order = torch.sort(scores, descending=True, stable=True).indices
    b = boxes.to(wd).index_select(0, order)
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    area = (x2 - x1) * (y2 - y1)
    nbytes = (n + 7) // 8
    pad = nbytes * 8 - n
    weights = torch.tensor([1, 2, 4, 8, 16, 32, 64, 128], dtype=torch.int32)
    block = max(1, _NMS_BLOCK_ELEMENTS // max(n, 1))
    removed = 0
    keep = []
    first = True
    for start in range(0, n, block):
        end = min(n, start + block)
        r = end - start
        xx1 = torch.maximum(x1[start:end, None], x1[None, :])
        yy1 = torch.maximum(y1[start:end, None], y1[None, :])
        xx2 = torch.minimum(x2[start:end, None], x2[None, :])
        yy2 = torch.minimum(y2[start:end, None], y2[None, :])
        w = torch.clamp_min(xx2 - xx1, 0)
        h = torch.clamp_min(yy2 - yy1, 0)
        inter = w * h
        ovr = inter / (area[start:end, None] + area[None, :] - inter)
        bits = (ovr > thr).to(torch.int32)
        if pad:
            bits = torch.cat([bits, torch.zeros(r, pad, dtype=torch.int32)], 1)
        packed = (bits.reshape(r, nbytes, 8) * weights).sum(-1).to(torch.uint8)
        G.materialize([packed, order] if first else [packed], keep_shared=True)
        first = False
        data = G.read_bytes(packed._value)
        for i in range(r):
            k = start + i
            if not (removed >> k) & 1:
                keep.append(k)
                removed |= int.from_bytes(data[i * nbytes : (i + 1) * nbytes], "little")
    if len(keep) == n:
        return order
    from .creation import from_values

    return order.index_select(0, from_values(keep, (len(keep),), i64))


# ----- RoI ops -----
def _check_rois(rois, op):
    if rois.dim() != 2 or rois.shape[1] != 5:
        raise RuntimeError(f"torchvision::{op}: rois must have shape [K, 5] (batch index, x1, y1, x2, y2), got {list(rois.shape)}")


def _roi_inputs(input, rois, op):
    _check_rois(rois, op)
    if input.dim() != 4:
        raise RuntimeError(f"torchvision::{op}: input must be 4-D [N, C, H, W], got {input.dim()}-D")
    wd = _work_dtype(input.dtype, op)
    x = cast(input._value, wd)
    r = cast(rois._value, wd)
    k = rois.shape[0]
    boxes = G.record1("Slice", [r, G.ints([1]), G.ints([5]), G.ints([1])], (k, 4), wd)
    bidx = G.record1("Slice", [r, G.ints([0]), G.ints([1]), G.ints([1])], (k, 1), wd)
    bidx = cast(reshape_value(bidx, (k,)), i64)
    return wd, x, boxes, bidx


def roi_align(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned):
    torch = _tensor_mod()
    k = rois.shape[0] if rois.dim() == 2 else 0
    ph, pw = int(pooled_height), int(pooled_width)
    c = input.shape[1]
    if k == 0:
        _check_rois(rois, "roi_align")
        return torch.zeros(0, c, ph, pw, dtype=input.dtype)
    wd, x, boxes, bidx = _roi_inputs(input, rois, "roi_align")
    out = G.record1(
        "RoiAlign", [x, boxes, bidx], (k, c, ph, pw), wd,
        {
            "coordinate_transformation_mode": "half_pixel" if aligned else "output_half_pixel",
            "mode": "avg",
            "output_height": ph,
            "output_width": pw,
            "sampling_ratio": max(0, int(sampling_ratio)),
            "spatial_scale": {"float": float(spatial_scale)},
        },
    )
    return wrap(cast(out, input.dtype))


def _cuda_version():
    return -1
