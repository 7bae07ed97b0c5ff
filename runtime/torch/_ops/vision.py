"""torchvision's C++ ops (torch.ops.torchvision.*) in the torch layer.

torchvision 0.14's Python code (interned in archives) calls these through `torch.ops`:

- nms: the greedy NMS of torchvision's CPU kernel. The IoU matrix (rows in blocks) is one graph
  with torchvision's arithmetic (areas (x2 - x1) * (y2 - y1), inter / (area_i + area_j - inter),
  `> iou_threshold` compared as a double does); its rows come back packed 8 per byte and Python
  runs the greedy pass over them as integers (one bit per box), so the result is exact and the
  only reads are n*n/8 bytes.
- roi_align: ONNX RoiAlign (opset 16: aligned -> half_pixel, else output_half_pixel; sampling
  ratio <= 0 -> adaptive), which computes what torchvision's kernel computes.
- roi_pool: ONNX MaxRoiPool, plus the argmax PyTorch returns beside it (composed, lazy).
- ps_roi_align: RoiAlign over all channels, then each bin's channel; ps_roi_pool: masked sums;
  deform_conv2d: deformable im2col (Gather of the four neighbours) and a grouped MatMul.
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


def _round_half_away(t):
    """std::round on a tensor: halves away from zero (ONNX Round rounds them to even)."""
    torch = _tensor_mod()
    return torch.sign(t) * torch.floor(t.abs() + 0.5)


def _bin_masks(start, end, ph, size):
    """[K, P, size] bool: position i lies in bin p of roi k, bins [floor(p * bin) + start,
    ceil((p + 1) * bin) + start) clipped to [0, size], bin = (end - start) / P in float32
    (roi_pool's bins)."""
    torch = _tensor_mod()
    p = torch.arange(ph, dtype=torch.float32)
    length = end - start
    bin_size = length / ph  # [K, 1]
    lo = torch.clamp(torch.floor(p * bin_size) + start, 0, size)
    hi = torch.clamp(torch.ceil((p + 1) * bin_size) + start, 0, size)
    i = torch.arange(size, dtype=torch.float32)
    return (i >= lo[..., None]) & (i < hi[..., None])


def _roi_boxes(rois, spatial_scale, plus_one):
    """torchvision's integer roi corners (std::round of the scaled corners, float32), the
    lengths max(end - start (+ 1), 1), as [K, 1] float tensors, and the batch indices."""
    torch = _tensor_mod()
    r = rois.to(torch.float32)
    sc = torch.tensor(float(struct.unpack("<f", struct.pack("<f", spatial_scale))[0]), dtype=torch.float32)
    x1, y1, x2, y2 = [_round_half_away(r[:, i : i + 1] * sc) for i in (1, 2, 3, 4)]
    extra = 1.0 if plus_one else 0.0
    w = torch.clamp_min(x2 - x1 + extra, 1.0)
    h = torch.clamp_min(y2 - y1 + extra, 1.0)
    return x1, y1, w, h, r[:, 0].to(torch.int64)


def roi_pool(input, rois, spatial_scale, pooled_height, pooled_width):
    """torchvision::roi_pool -> (output, argmax): output is ONNX MaxRoiPool (the same bins as
    torchvision's kernel: rounded corners, max(end - start + 1, 1) lengths, empty bins 0);
    argmax (the flat h * W + w of each bin's first maximum, -1 for an empty bin) is composed
    in the graph and only computed when used (it compares K*C*PH*PW*H*W elements)."""
    torch = _tensor_mod()
    ph, pw = int(pooled_height), int(pooled_width)
    n, c, h, w = input.shape
    k = rois.shape[0] if rois.dim() == 2 else 0
    if k == 0:
        _check_rois(rois, "roi_pool")
        return torch.zeros(0, c, ph, pw, dtype=input.dtype), torch.zeros(0, c, ph, pw, dtype=torch.int32)
    _check_rois(rois, "roi_pool")
    wd = _work_dtype(input.dtype, "roi_pool")
    r = rois.to(wd)
    out = G.record1("MaxRoiPool", [cast(input._value, wd), r._value], (k, c, ph, pw), wd,
                    {"pooled_shape": [ph, pw], "spatial_scale": {"float": float(spatial_scale)}})
    out = wrap(cast(out, input.dtype))
    x1, y1, bw, bh, b = _roi_boxes(rois, spatial_scale, True)
    rows = _bin_masks(y1, y1 + bh, ph, h)  # [K, PH, H]
    cols = _bin_masks(x1, x1 + bw, pw, w)  # [K, PW, W]
    xb = input.to(wd).index_select(0, b)  # [K, C, H, W]
    eq = xb[:, :, None, None, :, :] == out.to(wd)[:, :, :, :, None, None]
    win = rows[:, None, :, None, :, None] & cols[:, None, None, :, None, :]
    pos = torch.arange(h * w, dtype=torch.int64).reshape(h, w)
    big = h * w
    cand = torch.where(eq & win, pos, torch.tensor(big, dtype=torch.int64))
    arg = cand.reshape(k, c, ph, pw, h * w).amin(-1)
    arg = torch.where(arg == big, torch.tensor(-1, dtype=torch.int64), arg)
    return out, arg.to(torch.int32)


def ps_roi_align(input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio):
    """torchvision::ps_roi_align -> (output, channel_mapping): RoiAlign in half_pixel mode (the
    -0.5 offset, no minimum size, as torchvision's kernel) over every channel, then for output
    channel c and bin (ph, pw) input channel c * PH * PW + ph * PW + pw."""
    torch = _tensor_mod()
    ph, pw = int(pooled_height), int(pooled_width)
    c = input.shape[1]
    if c % (ph * pw):
        raise RuntimeError("input channels must be a multiple of pooling height * pooling width")
    co = c // (ph * pw)
    k = rois.shape[0] if rois.dim() == 2 else 0
    mapping = (torch.arange(co * ph * pw, dtype=torch.int32).reshape(1, co, ph, pw)).expand(k, co, ph, pw).clone()
    if k == 0:
        _check_rois(rois, "ps_roi_align")
        return torch.zeros(0, co, ph, pw, dtype=input.dtype), mapping
    all_ch = roi_align(input, rois, spatial_scale, ph, pw, sampling_ratio, True)  # [K, C, PH, PW]
    eye = torch.eye(ph * pw, dtype=all_ch.dtype).reshape(1, 1, ph * pw, ph, pw)
    out = (all_ch.reshape(k, co, ph * pw, ph, pw) * eye).sum(2)
    return out, mapping


def ps_roi_pool(input, rois, spatial_scale, pooled_height, pooled_width):
    """torchvision::ps_roi_pool -> (output, channel_mapping): the mean of input channel
    c * PH * PW + ph * PW + pw over bin (ph, pw) of each roi, with torchvision's bins (rounded
    corners, max(end - start, 1) lengths, clipped to [0, size - 1]; empty bins 0), as masked
    sums in the graph."""
    torch = _tensor_mod()
    ph, pw = int(pooled_height), int(pooled_width)
    n, c, h, w = input.shape
    if c % (ph * pw):
        raise RuntimeError("input channels must be a multiple of pooling height * pooling width")
    co = c // (ph * pw)
    k = rois.shape[0] if rois.dim() == 2 else 0
    mapping = (torch.arange(co * ph * pw, dtype=torch.int32).reshape(1, co, ph, pw)).expand(k, co, ph, pw).clone()
    if k == 0:
        _check_rois(rois, "ps_roi_pool")
        return torch.zeros(0, co, ph, pw, dtype=input.dtype), mapping
    _check_rois(rois, "ps_roi_pool")
    wd = f64 if input.dtype is f64 else f32
    x1, y1, bw, bh, b = _roi_boxes(rois, spatial_scale, False)
    p = torch.arange(ph, dtype=torch.float32)
    q = torch.arange(pw, dtype=torch.float32)
    hs = torch.clamp(torch.floor(p * (bh / ph)) + y1, 0, h - 1)
    he = torch.clamp(torch.ceil((p + 1) * (bh / ph)) + y1, 0, h - 1)
    ws = torch.clamp(torch.floor(q * (bw / pw)) + x1, 0, w - 1)
    we = torch.clamp(torch.ceil((q + 1) * (bw / pw)) + x1, 0, w - 1)
    ih = torch.arange(h, dtype=torch.float32)
    iw = torch.arange(w, dtype=torch.float32)
    rows = ((ih >= hs[..., None]) & (ih < he[..., None])).to(wd)  # [K, PH, H]
    cols = ((iw >= ws[..., None]) & (iw < we[..., None])).to(wd)  # [K, PW, W]
    area = ((he - hs)[:, :, None] * (we - ws)[:, None, :]).to(wd)  # [K, PH, PW]
    xb = input.to(wd).index_select(0, b).reshape(k, co, ph, pw, h, w)
    sums = torch.einsum("kcpqhw,kph,kqw->kcpq", xb, rows, cols)
    out = torch.where(area[:, None] > 0, sums / area[:, None].clamp_min(1), torch.zeros((), dtype=wd))
    return out.to(input.dtype), mapping


def deform_conv2d(input, weight, offset, mask, bias, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w,
                  groups, offset_groups, use_mask):
    """torchvision::deform_conv2d: deformable im2col (torchvision's bilinear sampling: zero
    outside (-1, size), neighbours outside the image count 0), times the mask, then the grouped
    matrix product with the weights, plus bias; all in the graph."""
    torch = _tensor_mod()
    b, cin, h, w = input.shape
    cout, cin_g, kh, kw = weight.shape
    og = int(offset_groups)
    ho = (h + 2 * pad_h - (dilation_h * (kh - 1) + 1)) // stride_h + 1
    wo = (w + 2 * pad_w - (dilation_w * (kw - 1) + 1)) // stride_w + 1
    if tuple(offset.shape) != (b, 2 * og * kh * kw, ho, wo):
        raise RuntimeError(f"offset shape {list(offset.shape)} does not match the expected [{b}, {2 * og * kh * kw}, {ho}, {wo}]")
    wd = torch.float64 if input.dtype is f64 else torch.float32
    x = input.to(wd)
    kk = kh * kw
    off = offset.to(wd).reshape(b, og, kk, 2, ho, wo)
    ki = torch.arange(kh, dtype=wd).repeat_interleave(kw) * dilation_h  # [kk]
    kj = torch.arange(kw, dtype=wd).repeat(kh) * dilation_w
    base_y = (torch.arange(ho, dtype=wd) * stride_h - pad_h)[None, :, None] + ki[:, None, None]  # [kk, ho, 1]
    base_x = (torch.arange(wo, dtype=wd) * stride_w - pad_w)[None, None, :] + kj[:, None, None]  # [kk, 1, wo]
    y = base_y + off[:, :, :, 0]  # [b, og, kk, ho, wo]
    xx = base_x + off[:, :, :, 1]
    inside = (y > -1) & (y < h) & (xx > -1) & (xx < w)
    y0 = torch.floor(y)
    x0 = torch.floor(xx)
    ly, lx = y - y0, xx - x0
    hy, hx = 1 - ly, 1 - lx
    cg = cin // og
    xg = x.reshape(b, og, cg, h * w)
    n = kk * ho * wo
    vals = None
    for dy, dx, wt in ((0, 0, hy * hx), (0, 1, hy * lx), (1, 0, ly * hx), (1, 1, ly * lx)):
        yy, xc = y0 + dy, x0 + dx
        ok = inside & (yy >= 0) & (yy <= h - 1) & (xc >= 0) & (xc <= w - 1)
        idx = (yy.clamp(0, h - 1) * w + xc.clamp(0, w - 1)).to(torch.int64).reshape(b, og, 1, n).expand(b, og, cg, n)
        v = torch.gather(xg, 3, idx) * (wt * ok.to(wd)).reshape(b, og, 1, n)
        vals = v if vals is None else vals + v
    cols = vals.reshape(b, og, cg, kk, ho * wo)
    if use_mask:
        cols = cols * mask.to(wd).reshape(b, og, 1, kk, ho * wo)
    cols = cols.reshape(b, groups, (cin // groups) * kk, ho * wo)
    wmat = weight.to(wd).reshape(groups, cout // groups, cin_g * kk)
    out = torch.matmul(wmat, cols).reshape(b, cout, ho, wo)
    if bias is not None:
        out = out + bias.to(wd).reshape(1, cout, 1, 1)
    return out.to(input.dtype)


def _cuda_version():
    return -1
