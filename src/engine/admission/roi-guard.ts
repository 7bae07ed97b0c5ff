// RoiAlign with sampling_ratio 0 ("adaptive", torchvision's default) takes ceil(roi size /
// output size) samples per bin, from the rois' values: ONNX Runtime precomputes every sample of a
// roi (about 48 bytes each) before it computes anything, so one hostile roi 10,000 pixels wide
// asks for gigabytes, and a few thousand large ones for minutes of native work no deadline can
// interrupt. A guard goes in front: where a roi would take more than ROI_MAX_SAMPLES_PER_ROI
// samples, or all rois together more than ROI_MAX_SAMPLES, the batch index becomes -1, which ONNX
// Runtime checks before it allocates anything and refuses ("batch_indices value -1 ... is out of
// range"). NaN sizes count as too large.

import type { DType, GraphNode } from "../graph.js";
import { ROI_MAX_SAMPLES, ROI_MAX_SAMPLES_PER_ROI } from "./ops.js";
import type { ValueType } from "./shapes.js";
import { nameMaker } from "./names.js";

export function guardAdaptiveRoiAlign(nodes: GraphNode[], types: ReadonlyMap<string, ValueType>, taken: Set<string>): GraphNode[] {
  const adaptive = (n: GraphNode) => n.op === "RoiAlign" && ((n.attrs?.sampling_ratio as number | undefined) ?? 0) === 0;
  if (!nodes.some(adaptive)) return nodes;
  const fresh = nameMaker(taken, "roi");
  return nodes.flatMap((n): GraphNode[] => {
    if (!adaptive(n)) return [n];
    const [x, rois, batch] = n.inputs as [string, string, string];
    const t = types.get(rois)!.dtype;
    const channels = types.get(x)!.shape[1]!;
    const scale = (n.attrs?.spatial_scale as { float: number } | undefined)?.float ?? 1;
    const oh = (n.attrs?.output_height as number | undefined) ?? 1;
    const ow = (n.attrs?.output_width as number | undefined) ?? 1;
    const out: GraphNode[] = [];
    const constant = (dtype: DType, data: number[], shape: number[] = []) => {
      const name = fresh(n.outputs[0]!);
      out.push({ op: "Constant", inputs: [], outputs: [name], attrs: { value: { tensor: { dtype, shape, data } } } });
      return name;
    };
    const node = (op: string, inputs: string[], attrs?: GraphNode["attrs"]) => {
      const name = fresh(n.outputs[0]!);
      out.push({ op, inputs, outputs: [name], ...(attrs ? { attrs } : {}) });
      return name;
    };
    const column = (i: number) => node("Slice", [rois, constant("int64", [i], [1]), constant("int64", [i + 1], [1]), constant("int64", [1], [1])]);
    // Samples per bin along one axis, at most: |extent| * scale / bins + 1 (ceil, rounded up).
    const grid = (lo: number, hi: number, bins: number) =>
      node("Add", [node("Div", [node("Mul", [node("Abs", [node("Sub", [column(hi), column(lo)])]), constant(t, [scale])]), constant(t, [bins])]), constant(t, [1])]);
    const perRoi = node("Mul", [node("Mul", [grid(0, 2, ow), grid(1, 3, oh)]), constant(t, [oh * ow])]); // [K, 1]
    const total = node("Mul", [node("ReduceSum", [perRoi], { keepdims: 0 }), constant(t, [channels])]);
    const tooBig = (v: string, limit: number) => node("Not", [node("Less", [v, constant(t, [limit])])]); // NaN: too big
    const bad = node("Or", [node("Reshape", [tooBig(perRoi, ROI_MAX_SAMPLES_PER_ROI), constant("int64", [-1], [1])]), tooBig(total, ROI_MAX_SAMPLES)]);
    const guarded = node("Where", [bad, constant("int64", [-1]), batch]);
    out.push({ ...n, inputs: [x, rois, guarded] });
    return out;
  });
}
