// Integer division that cannot fault. x86's idiv traps on INT_MIN / -1 (and its remainder), and
// ONNX Runtime's CPU kernels divide with it unchecked: one such element ends the host process
// with SIGFPE. Every int32/int64 Div and Mod is therefore rewritten so no kernel ever divides by
// -1: where the divisor is -1 the quotient is -x (INT_MIN stays INT_MIN: two's complement wrap,
// as numpy gives) and the remainder 0. Division by zero is left to ONNX Runtime, which checks it
// and fails the run ("Integer division by zero").
// ONNX Runtime computes an integer Mod with fmod=1 in doubles, which is wrong past 2^53
// (fmod(INT64_MIN + 5, 2) gave 0, not -1): it becomes a - trunc(a / b) * b, exact in int64.

import type { DType, GraphNode } from "../graph.js";
import type { ValueType } from "./shapes.js";
import { nameMaker } from "./names.js";

const FAULTING: ReadonlySet<DType> = new Set(["int32", "int64"]);

/** The nodes, with every int32/int64 Div and Mod made safe; the same array if there are none. */
export function rewriteIntegerDivision(nodes: GraphNode[], types: ReadonlyMap<string, ValueType>, taken: Set<string>): GraphNode[] {
  if (!nodes.some((n) => (n.op === "Div" || n.op === "Mod") && FAULTING.has(types.get(n.outputs[0]!)!.dtype))) return nodes;
  const fresh = nameMaker(taken, "safe");
  const out: GraphNode[] = [];
  for (const n of nodes) {
    const dtype = types.get(n.outputs[0]!)?.dtype;
    if ((n.op !== "Div" && n.op !== "Mod") || !dtype || !FAULTING.has(dtype)) {
      out.push(n);
      continue;
    }
    const [a, b] = n.inputs as [string, string];
    const y = n.outputs[0]!;
    const scalar = (v: number) => ({ tensor: { dtype, shape: [], data: [v] } });
    const [minusOne, one, isMinusOne, divisor, raw, alt, zero] = ["m1", "one", "ism1", "div", "raw", "alt", "zero"].map((s) => fresh(`${y}.${s}`)) as [
      string, string, string, string, string, string, string,
    ];
    out.push(
      { op: "Constant", inputs: [], outputs: [minusOne], attrs: { value: scalar(-1) } },
      { op: "Constant", inputs: [], outputs: [one], attrs: { value: scalar(1) } },
      { op: "Equal", inputs: [b, minusOne], outputs: [isMinusOne] },
      { op: "Where", inputs: [isMinusOne, one, b], outputs: [divisor] },
      { ...n, inputs: [a, divisor], outputs: [raw] },
    );
    if (n.op === "Div") out.push({ op: "Neg", inputs: [a], outputs: [alt] }, { op: "Where", inputs: [isMinusOne, alt, raw], outputs: [y] });
    else if (n.attrs?.fmod === 1) {
      // a - (a / b') * b' with the safe divisor b' (1 where b is -1: then it is a - a = 0, as it must be).
      const [q, prod] = ["q", "qb"].map((s) => fresh(`${y}.${s}`)) as [string, string];
      out.pop(); // no Mod kernel at all
      out.push({ op: "Div", inputs: [a, divisor], outputs: [q] }, { op: "Mul", inputs: [q, divisor], outputs: [prod] }, { op: "Sub", inputs: [a, prod], outputs: [y] });
    } else out.push({ op: "Constant", inputs: [], outputs: [zero], attrs: { value: scalar(0) } }, { op: "Where", inputs: [isMinusOne, zero, raw], outputs: [y] });
  }
  return out;
}
