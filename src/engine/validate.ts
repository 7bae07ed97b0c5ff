// Checks of caller-supplied graphs and feeds, with errors that name the value, what was
// expected and what was given. Feed checks run on every call; graph checks on compile only.

import { Tensor } from "../tensor.js";
import type { GraphSpec } from "./graph.js";
import { isDType, isValidShape } from "./dtype.js";
import { EngineError } from "./errors.js";

const fmt = (dtype: string, shape: readonly number[]) => `${dtype} [${shape.join(", ")}]`;

export function validateFeeds(graph: GraphSpec, feeds: Record<string, Tensor>): void {
  if (typeof feeds !== "object" || feeds === null) throw new EngineError(`feeds must be an object of Tensors keyed by input name`);
  let matched = 0;
  for (const input of graph.inputs) {
    const t = feeds[input.name];
    // The message is built only for an error: this runs on every engine run.
    const want = () => fmt(input.dtype, input.shape);
    if (t === undefined) throw new EngineError(`missing feed for input "${input.name}" (expected ${want()})`);
    if (!(t instanceof Tensor)) throw new EngineError(`feed "${input.name}" is not a Tensor (expected ${want()})`);
    const s = t.shape;
    let same = t.dtype === input.dtype && s.length === input.shape.length;
    for (let i = 0; same && i < s.length; i++) same = s[i] === input.shape[i];
    if (!same) throw new EngineError(`feed "${input.name}": expected ${want()}, given ${fmt(t.dtype, s)}`);
    matched++;
  }
  let given = 0;
  for (const k in feeds) if (Object.hasOwn(feeds, k)) given++;
  if (matched !== given) {
    const known = new Set(graph.inputs.map((i) => i.name));
    const extra = Object.keys(feeds).filter((k) => !known.has(k));
    throw new EngineError(
      `unknown feed${extra.length > 1 ? "s" : ""} ${extra.map((k) => `"${k}"`).join(", ")}; the graph's inputs are ${
        [...known].map((k) => `"${k}"`).join(", ") || "(none)"
      }`,
    );
  }
}

export function validateGraph(graph: GraphSpec): void {
  if (typeof graph !== "object" || graph === null) throw new EngineError("graph must be a GraphSpec object");
  for (const field of ["inputs", "weights", "nodes", "outputs"] as const) {
    if (!Array.isArray(graph[field])) throw new EngineError(`graph.${field} must be an array`);
  }
  const values = [
    ...graph.inputs.map((v) => ["input", v] as const),
    ...graph.weights.map((v) => ["weight", v] as const),
    ...graph.outputs.map((v) => ["output", v] as const),
  ];
  for (const [kind, v] of values) {
    if (typeof v.name !== "string" || v.name === "") throw new EngineError(`graph ${kind} has an invalid name ${JSON.stringify(v.name)}`);
    if (!isDType(v.dtype)) throw new EngineError(`graph ${kind} "${v.name}" has unknown dtype ${JSON.stringify(v.dtype)}`);
    if (!isValidShape(v.shape)) throw new EngineError(`graph ${kind} "${v.name}" has an invalid shape ${JSON.stringify(v.shape)}`);
  }
  if (graph.outputs.length === 0) throw new EngineError("graph has no outputs");
  graph.nodes.forEach((n, i) => {
    if (typeof n.op !== "string" || !Array.isArray(n.inputs) || !Array.isArray(n.outputs)) {
      throw new EngineError(`graph node ${i} is malformed: it needs op (string), inputs and outputs (string arrays)`, { nodeIndex: i });
    }
  });
}

/**
 * The results must have the dtypes and shapes the graph declares: the recording side already
 * handed out handles with them. (ort-node does not enforce declared output shapes; ort-web does.)
 */
export function checkOutputs(graph: GraphSpec, out: Record<string, Tensor>): void {
  for (const o of graph.outputs) {
    const t = out[o.name]!;
    const s = t.shape;
    let same = t.dtype === o.dtype && s.length === o.shape.length;
    for (let i = 0; same && i < s.length; i++) same = s[i] === o.shape[i];
    if (!same) {
      throw new EngineError(`graph output "${o.name}" is declared ${fmt(o.dtype, o.shape)} but ONNX Runtime produced ${fmt(t.dtype, s)}`);
    }
  }
}
