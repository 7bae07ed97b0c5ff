// Empty tensors never reach a kernel that could mishandle them. Kernels are least tested on
// empty inputs, and the fuzzer (test/fuzz) found ONNX Runtime 1.30 failing on them natively:
// InstanceNormalization over an empty spatial dimension segfaults, TopK over a tensor with an
// empty dimension divides by zero (SIGFPE), a reduction over an empty axis returns the wrong
// shape, and MatMul with an empty inner dimension ignores broadcasting. So:
//   - a node whose every output is empty computes nothing: it becomes empty Constants;
//   - a node that reads an empty value but has non-empty outputs runs only if its result is
//     defined without the kernel (a sum is 0, a product 1, a matrix product zeros: it becomes a
//     ConstantOfShape) or it is on a short list of kernels that copy rather than compute
//     (Concat, constant Pad, ScatterElements); anything else is refused.

import type { DType, GraphNode } from "../graph.js";
import { opRule } from "./ops.js";
import { fail, numel, type ValueType } from "./shapes.js";
import { nameMaker } from "./names.js";

/** Ops that only copy: an empty input just contributes nothing. */
const COPIES = new Set(["Concat", "Pad", "ScatterElements", "Clip", "Cast"]);

/** What an op gives for an empty input with a non-empty result (its identity), if defined. */
function identity(op: string, dtype: DType): number | undefined {
  const float = dtype === "float32" || dtype === "float64" || dtype === "float16";
  switch (op) {
    case "ReduceSum":
    case "ReduceL1":
    case "ReduceL2":
    case "MatMul":
    case "Einsum":
      return 0;
    case "ReduceProd":
      return 1;
    case "ReduceMean":
      return float ? Number.NaN : undefined; // torch: mean of nothing is nan
    case "ReduceLogSumExp":
      return float ? -Infinity : undefined;
  }
  return undefined;
}

const constantNode = (name: string, t: ValueType): GraphNode => ({
  op: "Constant",
  inputs: [],
  outputs: [name],
  attrs: { value: { tensor: { dtype: t.dtype, shape: [...t.shape], data: [] } } },
});

/** The nodes, with empty work replaced or refused (see above); the same array when there is none. */
export function replaceEmptyNodes(nodes: GraphNode[], types: ReadonlyMap<string, ValueType>, taken: Set<string>): GraphNode[] {
  const isEmpty = (name: string) => name !== "" && numel(types.get(name)!.shape) === 0;
  // Shape-deciding inputs (a Reshape to a scalar's empty shape, empty axes) are not data.
  const emptyData = (n: GraphNode) => n.inputs.some((x, j) => isEmpty(x) && !opRule(n.op)?.constant?.includes(j));
  const touches = (n: GraphNode) => n.op !== "Constant" && (n.outputs.every(isEmpty) || emptyData(n));
  if (!nodes.some(touches)) return nodes;
  const fresh = nameMaker(taken, "empty");
  return nodes.flatMap((n, i): GraphNode[] => {
    if (!touches(n)) return [n];
    if (n.outputs.every(isEmpty)) return n.outputs.map((o) => constantNode(o, types.get(o)!));
    if (COPIES.has(n.op) && (n.op !== "Pad" || (n.attrs?.mode ?? "constant") === "constant")) return [n];
    const out = types.get(n.outputs[0]!)!;
    const value = n.outputs.length === 1 ? identity(n.op, out.dtype) : undefined;
    if (value === undefined) {
      fail(`node ${i} (${n.op}) reads an empty tensor but its result is not empty; an empty ${n.op} has no defined value here`);
    }
    const shape = fresh(n.outputs[0]!);
    return [
      { op: "Constant", inputs: [], outputs: [shape], attrs: { value: { tensor: { dtype: "int64", shape: [out.shape.length], data: out.shape } } } },
      { op: "ConstantOfShape", inputs: [shape], outputs: [n.outputs[0]!], attrs: { value: { tensor: { dtype: out.dtype, shape: [1], data: [value] } } } },
    ];
  });
}
