// Turns an ONNX Runtime failure into an EngineError that points at the GraphNode it names.
// The builder names node i "n<i>_<op>" (nodeName), and ORT quotes node names in its messages,
// e.g. "Non-zero status code returned while running Gather node. Name:'n2_Gather' ...".

import type { GraphSpec } from "./graph.js";
import { EngineError } from "./errors.js";

const NODE_NAME = /\bn(\d+)_([A-Za-z0-9_.]+)/g;
// ort-web's messages carry no node names; this one at least names the op.
const NO_OP = /No Op registered for (\w+)/;

export function wrapOrtError(e: unknown, graph: GraphSpec, phase: "compile" | "run"): EngineError {
  if (e instanceof EngineError) return e;
  const message = e instanceof Error ? e.message : String(e);
  let nodeIndex: number | undefined;
  for (const m of message.matchAll(NODE_NAME)) {
    const i = Number(m[1]);
    if (graph.nodes[i]?.op === m[2]) {
      nodeIndex = i;
      break;
    }
  }
  if (nodeIndex === undefined) {
    const op = NO_OP.exec(message)?.[1];
    const i = op === undefined ? -1 : graph.nodes.findIndex((n) => n.op === op);
    if (i >= 0) nodeIndex = i;
  }
  const what = phase === "compile" ? "compiling the graph" : "running the graph";
  if (nodeIndex === undefined) return new EngineError(`ONNX Runtime failed ${what}: ${message}`, { cause: e });
  const node = graph.nodes[nodeIndex]!;
  const op = node.domain ? `${node.domain}.${node.op}` : node.op;
  return new EngineError(
    `ONNX Runtime failed ${what} at node ${nodeIndex} (${op}: ${node.inputs.join(", ")} -> ${node.outputs.join(", ")}): ${message}`,
    { op: node.op, nodeIndex, cause: e },
  );
}
