// Graph admission: the layer every graph crosses between the bridge and any engine. A spec is
// hostile input to native code, so before ONNX Runtime sees it, admission
//   1. checks its form strictly: known fields only, names unique and defined before use,
//      the default ONNX domain only, inline constants bounded (limits.ts);
//   2. checks every node against the allow-list (ops.ts): its arity, its attributes and their
//      kinds, and that shape-deciding inputs are constants;
//   3. infers every value's dtype and shape, and refuses a graph whose declared outputs differ;
//   4. rewrites what could fault natively or exhaust the host: integer division
//      (int-division.ts), nodes with nothing to compute, which become empty constants
//      (empty-values.ts), adaptive RoiAlign, whose scratch comes from data (roi-guard.ts);
//   5. estimates the bytes a run holds at its peak (live intermediates in node order, constants
//      and what can be folded from them, each kernel's scratch), so a call's engine budget
//      covers intermediates and is refused before anything is allocated.

import type { AttrValue, DType, GraphNode, GraphSpec } from "../graph.js";
import { dtypeInfo, isDType, sameShape } from "../dtype.js";
import { GraphRefusedError } from "../errors.js";
import { DEFAULT_ADMISSION_LIMITS, type AdmissionLimits } from "./limits.js";
import { opRule, type NodeContext } from "./ops.js";
import { rewriteIntegerDivision } from "./int-division.js";
import { replaceEmptyNodes } from "./empty-values.js";
import { guardAdaptiveRoiAlign } from "./roi-guard.js";
import { fail, numel, ShapeError, type ValueType } from "./shapes.js";

export interface AdmittedGraph {
  /** The graph to run: the caller's, with integer division rewritten. */
  spec: GraphSpec;
  /** Bytes a run holds at its peak, outputs and scratch included (inputs and weights not). */
  peakBytes: number;
  /** Bytes of the declared outputs (what the caller keeps). */
  outputBytes: number;
  /** Bytes the compiled session holds for itself: inline constants and values folded from them. */
  constantBytes: number;
  /** Every value's inferred dtype and shape. */
  types: ReadonlyMap<string, ValueType>;
}

/** Admit a graph that arrived as untrusted data (parsed JSON). Throws GraphRefusedError. */
export function admitGraph(raw: unknown, limits: AdmissionLimits = DEFAULT_ADMISSION_LIMITS): AdmittedGraph {
  const spec = checkForm(raw, limits);
  const first = infer(spec, limits);
  const taken = new Set(first.types.keys());
  let nodes: GraphNode[];
  try {
    nodes = guardAdaptiveRoiAlign(rewriteIntegerDivision(replaceEmptyNodes(spec.nodes, first.types, taken), first.types, taken), first.types, taken);
  } catch (e) {
    if (e instanceof ShapeError) refuse(e.message);
    throw e;
  }
  const admitted = nodes === spec.nodes ? spec : { ...spec, nodes };
  const { types, foldable } = nodes === spec.nodes ? first : infer(admitted, limits);
  for (const o of spec.outputs) {
    const t = types.get(o.name);
    if (!t) refuse(`output "${o.name}" is not a value of the graph`);
    if (t.dtype !== o.dtype || !sameShape(t.shape, o.shape)) {
      refuse(`output "${o.name}" is declared ${o.dtype} [${o.shape.join(",")}] but the graph computes ${t.dtype} [${t.shape.join(",")}]`);
    }
  }
  return { spec: admitted, types, ...measure(admitted, types, foldable) };
}

/** Every value's dtype and shape, without checking the declared outputs (the fuzzer declares them from this). */
export function inferTypes(raw: unknown, limits: AdmissionLimits = DEFAULT_ADMISSION_LIMITS): ReadonlyMap<string, ValueType> {
  return infer(checkForm(raw, limits), limits).types;
}

function refuse(message: string, nodeIndex?: number, op?: string): never {
  const where = nodeIndex === undefined ? "" : `node ${nodeIndex} (${op}): `;
  throw new GraphRefusedError(`graph refused: ${where}${message}`, { nodeIndex, op });
}

// ----- 1. form -----

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k in o) if (!allowed.includes(k)) refuse(`${what} has an unknown field ${JSON.stringify(k.slice(0, 64))}`);
}

function checkForm(raw: unknown, limits: AdmissionLimits): GraphSpec {
  if (!isObject(raw)) refuse("the spec must be an object");
  onlyKeys(raw, ["inputs", "weights", "nodes", "outputs"], "the spec");
  for (const f of ["inputs", "weights", "nodes", "outputs"] as const) {
    if (!Array.isArray(raw[f])) refuse(`spec.${f} must be an array`);
  }
  const spec = raw as unknown as GraphSpec;
  if (spec.nodes.length > limits.maxNodes) refuse(`${spec.nodes.length} nodes, over the limit of ${limits.maxNodes}`);
  if (spec.outputs.length === 0) refuse("the graph has no outputs");
  const name = (x: unknown, what: string): string => {
    if (typeof x !== "string" || x === "" || x.length > limits.maxNameLength) refuse(`${what} must be a non-empty name of at most ${limits.maxNameLength} characters`);
    return x;
  };
  const typed = (v: unknown, kind: string, extra: readonly string[]) => {
    if (!isObject(v)) refuse(`a graph ${kind} must be an object`);
    onlyKeys(v, ["name", "dtype", "shape", ...extra], `graph ${kind} ${JSON.stringify(String(v.name).slice(0, 64))}`);
    name(v.name, `a graph ${kind}'s name`);
    if (!isDType(v.dtype)) refuse(`graph ${kind} "${v.name}" has unknown dtype ${JSON.stringify(v.dtype)}`);
    checkShape(v.shape, `graph ${kind} "${v.name}"`, limits);
  };
  for (const f of ["inputs", "weights", "outputs"] as const) {
    if (spec[f].length > limits.maxValues) refuse(`${spec[f].length} ${f}, over the limit of ${limits.maxValues}`);
  }
  for (const v of spec.inputs) typed(v, "input", []);
  for (const v of spec.outputs) typed(v, "output", []);
  for (const w of spec.weights) {
    typed(w, "weight", ["storage", "offset"]);
    name(w.storage, `weight "${w.name}"'s storage`);
    if (w.offset !== undefined && !(Number.isSafeInteger(w.offset) && w.offset >= 0)) refuse(`weight "${w.name}" has an invalid offset`);
  }
  let constants = 0;
  spec.nodes.forEach((n, i) => {
    if (!isObject(n)) refuse(`node ${i} must be an object`);
    onlyKeys(n, ["op", "inputs", "outputs", "attrs", "domain"], `node ${i}`);
    if (typeof n.op !== "string") refuse(`node ${i} has no op`);
    if (n.domain !== undefined && n.domain !== "") refuse(`op domain ${JSON.stringify(String(n.domain).slice(0, 64))} is not allowed`, i, n.op);
    if (!Array.isArray(n.inputs) || !Array.isArray(n.outputs)) refuse(`inputs and outputs must be arrays of names`, i, n.op);
    for (const x of n.inputs) if (x !== "") name(x, `node ${i}'s input`);
    for (const x of n.outputs) name(x, `node ${i}'s output`);
    if (n.attrs !== undefined && !isObject(n.attrs)) refuse(`attrs must be an object`, i, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) constants += checkAttr(v, k, i, n.op, limits);
    if (constants > limits.maxGraphConstantElements) refuse(`inline constants hold over ${limits.maxGraphConstantElements} elements; pass large tensors as inputs`);
  });
  return spec;
}

function checkShape(shape: unknown, what: string, limits: AdmissionLimits): void {
  if (!Array.isArray(shape) || shape.length > limits.maxRank || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    refuse(`${what} has an invalid shape (dims must be non-negative integers, at most ${limits.maxRank} of them)`);
  }
}

/** Checks an attribute value's form; returns the inline elements it carries. */
function checkAttr(v: unknown, key: string, i: number, op: string, limits: AdmissionLimits): number {
  const bad = () => refuse(`attribute ${JSON.stringify(key.slice(0, 64))} has a malformed value`, i, op);
  if (typeof v === "number") return Number.isFinite(v) ? 0 : bad();
  if (typeof v === "string") return v.length <= 4096 ? 0 : bad();
  if (Array.isArray(v)) {
    if (v.length > limits.maxConstantElements) bad();
    if (!v.every((x) => typeof x === "number" && Number.isFinite(x)) && !v.every((x) => typeof x === "string" && x.length <= 4096)) bad();
    return v.length;
  }
  if (!isObject(v)) return bad();
  const keys = Object.keys(v);
  if (keys.length !== 1) bad();
  if (keys[0] === "float") return typeof v.float === "number" && Number.isFinite(v.float) ? 0 : bad();
  if (keys[0] === "floats") {
    if (!Array.isArray(v.floats) || v.floats.length > limits.maxConstantElements || !v.floats.every((x) => typeof x === "number" && Number.isFinite(x))) bad();
    return (v.floats as number[]).length;
  }
  if (keys[0] !== "tensor" || !isObject(v.tensor)) return bad();
  const t = v.tensor;
  onlyKeys(t, ["dtype", "shape", "data"], `attribute ${key}'s tensor`);
  if (!isDType(t.dtype)) bad();
  checkShape(t.shape, `attribute ${key}'s tensor`, limits);
  const n = numel(t.shape as number[]);
  if (n > limits.maxConstantElements) refuse(`a constant of ${n} elements is over the limit of ${limits.maxConstantElements}; pass large tensors as inputs`, i, op);
  if (!Array.isArray(t.data) || t.data.length !== n) refuse(`attribute ${key}'s tensor holds ${Array.isArray(t.data) ? t.data.length : "no"} elements for shape [${(t.shape as number[]).join(",")}]`, i, op);
  const want = t.dtype === "bool" ? "boolean" : "number";
  const range = INT_RANGE[t.dtype as string];
  for (const x of t.data as unknown[]) {
    if (typeof x !== want || (want === "number" && !Number.isFinite(x as number))) bad();
    if (range && !(Number.isInteger(x) && (x as number) >= range[0] && (x as number) <= range[1])) {
      refuse(`attribute ${key}'s ${t.dtype} tensor holds ${x}, which is not a ${t.dtype} value`, i, op);
    }
  }
  return n;
}

/** Integer ranges of constants (int64's top is 2^63: INT64_MAX as a JSON number). */
const INT_RANGE: Record<string, [number, number]> = {
  int64: [-(2 ** 63), 2 ** 63],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int8: [-128, 127],
  uint8: [0, 255],
};

// ----- 2, 3: allow-list and inference -----

interface Inferred {
  types: Map<string, ValueType>;
  /** Values computed from constants alone (ONNX Runtime folds them into the session). */
  foldable: Set<string>;
}

function infer(spec: GraphSpec, limits: AdmissionLimits): Inferred {
  const types = new Map<string, ValueType>();
  const constData = new Map<string, { dtype: DType; shape: number[]; data: (number | boolean)[] }>();
  const foldable = new Set<string>();
  const define = (nameOf: string, t: ValueType, where: string) => {
    if (types.has(nameOf)) refuse(`${where} redefines value "${nameOf}"`);
    if (t.shape.length > limits.maxRank) refuse(`${where}: value "${nameOf}" would have rank ${t.shape.length}, over ${limits.maxRank}`);
    types.set(nameOf, t);
  };
  for (const v of spec.inputs) define(v.name, { dtype: v.dtype, shape: v.shape }, "an input");
  for (const w of spec.weights) define(w.name, { dtype: w.dtype, shape: w.shape }, "a weight");
  spec.nodes.forEach((n, i) => {
    const rule = opRule(n.op);
    if (!rule) refuse(`op ${JSON.stringify(n.op.slice(0, 64))} is not allowed (the engine runs only the ops the torch layer records)`, i, n.op);
    if (n.inputs.length < rule.inputs[0] || n.inputs.length > rule.inputs[1]) refuse(`takes ${rule.inputs.join(" to ")} inputs, given ${n.inputs.length}`, i, n.op);
    if (n.outputs.length < rule.outputs[0] || n.outputs.length > rule.outputs[1]) refuse(`gives ${rule.outputs.join(" to ")} outputs, asked for ${n.outputs.length}`, i, n.op);
    for (let j = 0; j < rule.inputs[0]; j++) if (n.inputs[j] === "") refuse(`input ${j} is required`, i, n.op);
    for (const x of n.inputs) if (x !== "" && !types.has(x)) refuse(`input "${x.slice(0, 64)}" is not defined before this node`, i, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) {
      const kind = rule.attrs[k];
      if (!kind) refuse(`attribute ${JSON.stringify(k.slice(0, 64))} is not allowed`, i, n.op);
      if (!attrIs(v, kind)) refuse(`attribute ${k} must be of kind ${kind}`, i, n.op);
    }
    for (const j of rule.constant ?? []) {
      const x = n.inputs[j];
      if (x && !constData.has(x)) refuse(`input ${j} decides a shape, so it must be a Constant node`, i, n.op);
    }
    let outs: ValueType[];
    try {
      outs = rule.infer(context(n, types, constData));
    } catch (e) {
      if (e instanceof ShapeError) refuse(e.message, i, n.op);
      throw e;
    }
    n.outputs.forEach((o, j) => define(o, outs[j]!, `node ${i} (${n.op})`));
    if (n.op === "Constant") constData.set(n.outputs[0]!, (n.attrs!.value as { tensor: { dtype: DType; shape: number[]; data: (number | boolean)[] } }).tensor);
    if (n.op === "Constant" || n.inputs.every((x) => x === "" || foldable.has(x) || constData.has(x))) for (const o of n.outputs) foldable.add(o);
  });
  return { types, foldable };
}

function attrIs(v: AttrValue, kind: string): boolean {
  switch (kind) {
    case "int":
      return typeof v === "number" && Number.isInteger(v);
    case "ints":
      return Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x));
    case "string":
      return typeof v === "string";
    case "float":
      return typeof v === "object" && !Array.isArray(v) && "float" in v;
    case "floats":
      return typeof v === "object" && !Array.isArray(v) && "floats" in v;
    case "tensor":
      return typeof v === "object" && !Array.isArray(v) && "tensor" in v;
  }
  return false;
}

function context(n: GraphNode, types: Map<string, ValueType>, constData: Map<string, { dtype: DType; shape: number[]; data: (number | boolean)[] }>): NodeContext {
  const attrs = n.attrs ?? {};
  const has = (i: number) => i < n.inputs.length && n.inputs[i] !== "";
  return {
    outputs: n.outputs.length,
    has,
    input(i) {
      if (!has(i)) fail(`input ${i} is missing`);
      return types.get(n.inputs[i]!)!;
    },
    constant(i) {
      const c = constData.get(n.inputs[i]!);
      if (!c) fail(`input ${i} must be a constant`);
      if (c.shape.length > 1) fail(`input ${i} must be a scalar or a 1-D list`);
      return c.data.map(Number);
    },
    vector(i) {
      const c = constData.get(n.inputs[i]!);
      if (!c) fail(`input ${i} must be a constant`);
      if (c.shape.length !== 1) fail(`input ${i} must be a 1-D list, not of shape [${c.shape.join(",")}]`);
      return c.data.map(Number);
    },
    hasAttr: (name) => Object.hasOwn(attrs, name),
    int(name, fallback) {
      const v = attrs[name];
      if (v === undefined) return fallback ?? fail(`attribute ${name} is required`);
      return v as number;
    },
    ints(name, fallback) {
      const v = attrs[name];
      if (v === undefined) return fallback ?? fail(`attribute ${name} is required`);
      return v as number[];
    },
    float(name, fallback) {
      const v = attrs[name];
      if (v === undefined) return fallback ?? fail(`attribute ${name} is required`);
      return (v as { float: number }).float;
    },
    string(name, fallback) {
      const v = attrs[name];
      if (v === undefined) return fallback ?? fail(`attribute ${name} is required`);
      return v as string;
    },
    tensor(name) {
      const v = attrs[name];
      if (v === undefined) fail(`attribute ${name} is required`);
      return (v as { tensor: { dtype: DType; shape: number[]; data: (number | boolean)[] } }).tensor;
    },
  };
}

// ----- 5. memory -----

const bytesOf = (t: ValueType) => numel(t.shape) * dtypeInfo(t.dtype).itemSize;



function measure(spec: GraphSpec, types: Map<string, ValueType>, foldable: Set<string>): Omit<AdmittedGraph, "spec" | "types"> {
  const lastUse = new Map<string, number>();
  spec.nodes.forEach((n, i) => n.inputs.forEach((x) => x && lastUse.set(x, i)));
  const outputs = new Set(spec.outputs.map((o) => o.name));
  let outputBytes = 0;
  for (const o of spec.outputs) outputBytes += bytesOf(types.get(o.name)!);
  // Constants and what folds from them live in the session for the whole run.
  let constantBytes = 0;
  for (const v of foldable) constantBytes += bytesOf(types.get(v)!);
  // Intermediates, in node order: each lives from its node to its last reader (graph outputs
  // to the end). Inputs and weights are held elsewhere (the host's store, the weight storages).
  const leaves = new Set([...spec.inputs, ...spec.weights].map((v) => v.name));
  let live = 0;
  let peak = 0;
  spec.nodes.forEach((n, i) => {
    const made = n.outputs.filter((o) => !foldable.has(o));
    for (const o of made) live += bytesOf(types.get(o)!);
    const scratch = opRule(n.op)?.scratch?.(context(n, types, new Map()), n.outputs.map((o) => types.get(o)!)) ?? 0;
    peak = Math.max(peak, live + scratch);
    for (const o of made) if (!outputs.has(o) && !lastUse.has(o)) live -= bytesOf(types.get(o)!); // never read
    for (const x of new Set(n.inputs)) {
      if (x && lastUse.get(x) === i && !outputs.has(x) && !foldable.has(x) && !leaves.has(x)) live -= bytesOf(types.get(x)!);
    }
  });
  return { peakBytes: peak + constantBytes, outputBytes, constantBytes };
}
