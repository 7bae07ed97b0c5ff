// A seeded generator of hostile engine requests: random graphs from the admission allow-list
// (src/engine/admission/ops.ts), fed with hostile values (INT_MIN, -1, 0, NaN, ±inf, empty and
// huge dims), and malformed bridge request bodies. Used by the short run in the test suite
// (test/fuzz/engine-fuzz.test.ts) and the long run in bench (bench/fuzz.ts).

import { inferTypes } from "../../src/engine/admission/admit.js";
import { OP_RULES } from "../../src/engine/admission/ops.js";
import type { AttrValue, DType, GraphNode, GraphSpec } from "../../src/engine/graph.js";

/** mulberry32: small, fast, seeded. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
export type Rng = ReturnType<typeof rng>;

const INT64_MIN = -(2 ** 63);
const INT64_MAX = 2 ** 63; // as JSON gives it back: the nearest double
const HOSTILE_INTS = [0, 1, -1, 2, -2, 3, 7, -7, INT64_MIN, INT64_MAX, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 1e9, -1e9, 65536];
const SMALL_INTS = [0, 1, -1, 2, -2, 3, -3, 4];
const HOSTILE_FLOATS = [0, -0, 1, -1, 0.5, -2.5, 3, 1e38, -1e38, 1e-45, Number.NaN, Infinity, -Infinity];
const DTYPES: DType[] = ["float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool"];
const NUMERIC: DType[] = ["float32", "float64", "int64", "int32", "int8", "uint8"];
const FLOATS: DType[] = ["float32", "float64"];
const INTS: DType[] = ["int64", "int32"];

/** Elements for a feed of `dtype`, mostly hostile. */
export function values(r: Rng, dtype: DType, n: number): (number | bigint | boolean)[] {
  const out: (number | bigint | boolean)[] = [];
  for (let i = 0; i < n; i++) {
    if (dtype === "bool") out.push(r.chance(0.5));
    else if (dtype === "int64") out.push(BigInt.asIntN(64, BigInt(Math.trunc(Math.max(-(2 ** 63), Math.min(2 ** 63 - 1024, r.pick(HOSTILE_INTS)))))));
    else if (dtype === "int32") out.push(r.pick([0, 1, -1, 2, -2, 7, -(2 ** 31), 2 ** 31 - 1]));
    else if (dtype === "int8") out.push(r.pick([0, 1, -1, -128, 127, 3]));
    else if (dtype === "uint8") out.push(r.pick([0, 1, 255, 3]));
    else out.push(r.pick(HOSTILE_FLOATS));
  }
  return out;
}

const shapeOf = (r: Rng): number[] => {
  const rank = r.pick([0, 1, 1, 2, 2, 3, 4]);
  return Array.from({ length: rank }, () => r.pick([1, 1, 2, 3, 4, 0, 5]));
};

interface Pool {
  /** Every value so far: name -> dtype and shape. */
  types: Map<string, { dtype: DType; shape: number[] }>;
  nodes: GraphNode[];
  n: number;
}

const fresh = (p: Pool) => `x${p.n++}`;

function constant(p: Pool, dtype: DType, data: (number | boolean)[], shape = [data.length]): string {
  const name = fresh(p);
  p.nodes.push({ op: "Constant", inputs: [], outputs: [name], attrs: { value: { tensor: { dtype, shape, data } } } });
  p.types.set(name, { dtype, shape });
  return name;
}

/** A value of the pool, preferring `dtypes` and, when asked, a given rank. */
function existing(r: Rng, p: Pool, dtypes?: readonly DType[], rank?: number): string | undefined {
  const names = [...p.types].filter(([, t]) => (!dtypes || dtypes.includes(t.dtype)) && (rank === undefined || t.shape.length === rank)).map(([n]) => n);
  return names.length ? r.pick(names) : undefined;
}

function cast(p: Pool, name: string, to: DType): string {
  const codes: Record<DType, number> = { float32: 1, float64: 11, float16: 10, int64: 7, int32: 6, int8: 3, uint8: 2, bool: 9 };
  const out = fresh(p);
  p.nodes.push({ op: "Cast", inputs: [name], outputs: [out], attrs: { to: codes[to] } });
  p.types.set(out, { dtype: to, shape: p.types.get(name)!.shape });
  return out;
}

/** A value of one of `dtypes` (cast from another if needed). */
function operand(r: Rng, p: Pool, dtypes: readonly DType[], rank?: number): string {
  const have = existing(r, p, dtypes, rank);
  if (have && r.chance(0.8)) return have;
  const any = existing(r, p, undefined, rank) ?? existing(r, p)!;
  return cast(p, any, r.pick(dtypes));
}

const hostileInts = (r: Rng, n: number) => Array.from({ length: n }, () => (r.chance(0.6) ? r.pick(SMALL_INTS) : r.pick(HOSTILE_INTS)));
const floatAttr = (r: Rng): AttrValue => ({ float: r.pick([0, 1, 0.5, -1, 1e-5, 1e30]) });

/** Adds one node of `op` with plausible, often hostile, inputs and attributes. */
function addNode(r: Rng, p: Pool, op: string): void {
  const x = () => operand(r, p, NUMERIC);
  const f = () => operand(r, p, FLOATS);
  const ints = (n: number) => constant(p, "int64", hostileInts(r, n));
  const rankOf = (v: string) => p.types.get(v)!.shape.length;
  let inputs: string[];
  let attrs: Record<string, AttrValue> | undefined;
  let outputs = 1;
  const rule = OP_RULES[op]!;
  switch (op) {
    case "Constant":
      constant(p, r.pick(NUMERIC), values(r, "float32", r.int(5)).map(Number));
      return;
    case "Add": case "Sub": case "Mul": case "Div": case "Mod": case "Pow": case "Max": case "Min":
    case "Equal": case "Less": case "LessOrEqual": case "Greater": case "GreaterOrEqual": {
      const a = x();
      const dtype = p.types.get(a)!.dtype;
      inputs = [a, operand(r, p, [dtype])];
      if (op === "Mod") attrs = { fmod: FLOATS.includes(dtype) || r.chance(0.5) ? 1 : 0 };
      break;
    }
    case "And": case "Or": case "Xor":
      inputs = [operand(r, p, ["bool"]), operand(r, p, ["bool"])];
      break;
    case "BitwiseAnd": case "BitwiseOr": case "BitwiseXor": {
      const a = operand(r, p, INTS);
      inputs = [a, operand(r, p, [p.types.get(a)!.dtype])];
      break;
    }
    case "Not":
      inputs = [operand(r, p, ["bool"])];
      break;
    case "BitwiseNot":
      inputs = [operand(r, p, INTS)];
      break;
    case "Where": {
      const a = x();
      inputs = [operand(r, p, ["bool"]), a, operand(r, p, [p.types.get(a)!.dtype])];
      break;
    }
    case "Clip": {
      const a = x();
      const d = p.types.get(a)!.dtype;
      inputs = [a, constant(p, d, values(r, "float32", 1).map((v) => (d.startsWith("int") || d === "uint8" ? r.pick(SMALL_INTS) : Number(v))), []), r.chance(0.5) ? "" : constant(p, d, [3], [])];
      break;
    }
    case "Cast":
      inputs = [existing(r, p)!];
      attrs = { to: r.pick([1, 11, 10, 7, 6, 3, 2, 9, 8, 0]) };
      break;
    case "PRelu":
      inputs = [f(), f()];
      break;
    case "ReduceSum": case "ReduceMean": case "ReduceMax": case "ReduceMin": case "ReduceProd": case "ReduceL1": case "ReduceL2": case "ReduceLogSumExp": {
      const a = x();
      inputs = r.chance(0.7) ? [a, constant(p, "int64", Array.from({ length: r.int(3) }, () => r.pick([0, 1, -1, 2, 5])))] : [a];
      attrs = { keepdims: r.int(2), ...(r.chance(0.2) ? { noop_with_empty_axes: 1 } : {}) };
      break;
    }
    case "ArgMax": case "ArgMin":
      inputs = [x()];
      attrs = { axis: r.pick([0, 1, -1, 3]), keepdims: r.int(2), select_last_index: r.int(2) };
      break;
    case "Softmax": case "LogSoftmax":
      inputs = [f()];
      attrs = { axis: r.pick([0, 1, -1, 5]) };
      break;
    case "CumSum":
      inputs = [x(), constant(p, "int64", [r.pick([0, 1, -1, 4])], [])];
      attrs = { exclusive: r.int(2), reverse: r.int(2) };
      break;
    case "MatMul": case "Gemm": case "Einsum": {
      const a = operand(r, p, FLOATS, op === "Gemm" ? 2 : undefined);
      const b = operand(r, p, [p.types.get(a)!.dtype], op === "Gemm" ? 2 : undefined);
      inputs = [a, b];
      if (op === "Gemm") attrs = { transA: r.int(2), transB: r.int(2), alpha: floatAttr(r) };
      if (op === "Einsum") {
        const letters = (n: number) => "ijkl".slice(0, n);
        attrs = { equation: r.pick([`${letters(rankOf(a))},${letters(rankOf(b))}->`, `${letters(rankOf(a))},${letters(rankOf(b))}`, "...i,...i->...", "ij,jk->ik", "ii->i", "i,j->ij", "a..b"]) };
      }
      break;
    }
    case "Conv": case "ConvTranspose": {
      const xin = operand(r, p, ["float32"], 4);
      const c = p.types.get(xin)?.shape[1] ?? 1;
      const k = r.pick([1, 2, 3]);
      if (c > 64) return; // the generator's own arrays stay small
      const w = constant(p, "float32", new Array(Math.max(1, c) * c * k * k).fill(0.5), [Math.max(1, c), Math.max(1, c), k, k]);
      inputs = [xin, w];
      attrs = { kernel_shape: [k, k], strides: [r.pick([1, 2, 0]), 1], pads: [r.pick([0, 1, -1]), 0, 0, r.pick([0, 5])], dilations: [1, r.pick([1, 2])], group: r.pick([1, 1, 2]) };
      break;
    }
    case "MaxPool": case "AveragePool": {
      inputs = [operand(r, p, ["float32"], r.pick([3, 4]))];
      const n = Math.max(1, rankOf(inputs[0]!) - 2);
      attrs = { kernel_shape: new Array(n).fill(r.pick([1, 2, 3, 9])), strides: new Array(n).fill(r.pick([1, 2])), pads: new Array(2 * n).fill(r.pick([0, 1])), ceil_mode: r.int(2) };
      if (op === "MaxPool" && r.chance(0.3)) outputs = 2;
      break;
    }
    case "GlobalAveragePool": case "InstanceNormalization": case "LRN":
      inputs = [operand(r, p, ["float32"], 4)];
      if (op === "InstanceNormalization") {
        const c = p.types.get(inputs[0]!)!.shape[1]!;
        if (c > 4096) return;
        inputs.push(constant(p, "float32", new Array(c).fill(1)), constant(p, "float32", new Array(c).fill(0)));
      }
      if (op === "LRN") attrs = { size: r.pick([1, 3, 0]), alpha: floatAttr(r) };
      break;
    case "BatchNormalization": {
      const a = operand(r, p, ["float32"], r.pick([2, 4]));
      const c = p.types.get(a)!.shape[1]!;
      if (c > 4096) return;
      const vec = (v: number) => constant(p, "float32", new Array(c).fill(v));
      inputs = [a, vec(1), vec(0), vec(0), vec(r.pick([1, 0, -1]))];
      attrs = { epsilon: floatAttr(r) };
      break;
    }
    case "LayerNormalization": {
      const a = operand(r, p, ["float32"]);
      const last = p.types.get(a)!.shape.at(-1) ?? 1;
      if (last > 4096) return;
      inputs = [a, constant(p, "float32", new Array(last).fill(1))];
      attrs = { axis: -1, epsilon: floatAttr(r) };
      break;
    }
    case "ConstantOfShape":
      inputs = [ints(r.int(4))];
      attrs = { value: { tensor: { dtype: r.pick(NUMERIC), shape: [1], data: [r.pick(SMALL_INTS)] } } };
      break;
    case "Range": {
      const d = r.pick(["int64", "int32", "float32"] as const);
      const v = () => constant(p, d, [r.chance(0.7) ? r.pick(SMALL_INTS) * 3 : d === "int32" ? r.pick([-(2 ** 31), 2 ** 31 - 1]) : r.pick(HOSTILE_INTS)], []);
      inputs = [v(), v(), v()];
      break;
    }
    case "Reshape": case "Expand": case "Tile": {
      const a = existing(r, p)!;
      inputs = [a, ints(op === "Tile" ? rankOf(a) : r.int(4))];
      break;
    }
    case "Transpose": {
      inputs = [existing(r, p)!];
      const n = rankOf(inputs[0]!);
      const perm = Array.from({ length: n }, (_, i) => i).sort(() => r.next() - 0.5);
      attrs = r.chance(0.8) ? { perm } : { perm: [0, 0] };
      break;
    }
    case "Squeeze": case "Unsqueeze":
      inputs = [existing(r, p)!, constant(p, "int64", Array.from({ length: 1 + r.int(2) }, () => r.pick([0, 1, -1, 4])))];
      if (op === "Squeeze" && r.chance(0.3)) inputs.pop();
      break;
    case "Concat": {
      const a = existing(r, p)!;
      inputs = [a, r.chance(0.7) ? a : existing(r, p)!];
      attrs = { axis: r.pick([0, 1, -1, 3]) };
      break;
    }
    case "Slice": {
      const a = existing(r, p)!;
      const n = 1 + r.int(2);
      inputs = [a, ints(n), ints(n), constant(p, "int64", Array.from({ length: n }, () => r.pick([0, 1, -1]))), constant(p, "int64", Array.from({ length: n }, () => r.pick([1, -1, 2, 0, INT64_MIN])))];
      break;
    }
    case "Pad": {
      const a = existing(r, p)!;
      inputs = [a, constant(p, "int64", Array.from({ length: 2 * rankOf(a) }, () => r.pick([0, 1, 2, -1, 1e6])))];
      attrs = { mode: r.pick(["constant", "reflect", "edge", "wrap"]) };
      break;
    }
    case "Gather": case "GatherElements": {
      const a = existing(r, p)!;
      const idx = constant(p, r.pick(INTS), hostileInts(r, 1 + r.int(3)));
      inputs = [a, idx];
      attrs = { axis: r.pick([0, 1, -1]) };
      break;
    }
    case "ScatterElements": {
      const a = operand(r, p, ["float32"], 1);
      inputs = [a, constant(p, "int64", hostileInts(r, 2)), constant(p, "float32", [1, 2])];
      attrs = { axis: 0, reduction: r.pick(["none", "add", "mul", "max", "min"]) };
      break;
    }
    case "Trilu":
      inputs = [operand(r, p, NUMERIC, 2), constant(p, "int64", [r.pick(HOSTILE_INTS)], [])];
      attrs = { upper: r.int(2) };
      break;
    case "TopK":
      inputs = [x(), constant(p, "int64", [r.pick([0, 1, 2, -1, 1e9])])];
      attrs = { axis: r.pick([0, -1, 2]), largest: r.int(2), sorted: 1 };
      outputs = 2;
      break;
    case "Resize": {
      const a = operand(r, p, ["float32"], 4);
      const useSizes = r.chance(0.5);
      inputs = useSizes ? [a, "", "", ints(4)] : [a, "", constant(p, "float32", [1, 1, r.pick([0.5, 2, 1e6, -1, 0]), 2])];
      attrs = { mode: r.pick(["nearest", "linear", "cubic"]), coordinate_transformation_mode: r.pick(["half_pixel", "asymmetric", "align_corners"]) };
      break;
    }
    case "GridSample": {
      const a = operand(r, p, ["float32"], 4);
      const nb = p.types.get(a)!.shape[0]!;
      if (nb > 64) return;
      inputs = [a, constant(p, "float32", values(r, "float32", nb * 2 * 2 * 2).map(Number), [nb, 2, 2, 2])];
      attrs = { mode: r.pick(["bilinear", "nearest", "bicubic"]), padding_mode: r.pick(["zeros", "border", "reflection"]), align_corners: r.int(2) };
      break;
    }
    case "RoiAlign": case "MaxRoiPool": {
      const a = operand(r, p, ["float32"], 4);
      const k = r.pick([1, 2, 3, 0]);
      const box = () => r.pick([0, 1, 2, 7, -3, 1e4, 3e4, 1e9, Number.NaN, -1e9]);
      if (op === "RoiAlign") {
        inputs = [a, constant(p, "float32", Array.from({ length: 4 * k }, box).map((v) => (Number.isNaN(v) ? 0 : v)), [k, 4]), constant(p, "int64", Array.from({ length: k }, () => r.pick([0, 0, 1, -1, 5])), [k])];
        attrs = { output_height: r.pick([1, 2, 7]), output_width: r.pick([1, 2, 7]), sampling_ratio: r.pick([0, 0, 1, 2, 64]), spatial_scale: floatAttr(r), mode: r.pick(["avg", "max"]), coordinate_transformation_mode: r.pick(["half_pixel", "output_half_pixel"]) };
      } else {
        inputs = [a, constant(p, "float32", Array.from({ length: 5 * k }, () => r.pick([0, 0, 1, 2, 7, -3, 1e9, 5])), [k, 5])];
        attrs = { pooled_shape: [r.pick([1, 2, 7]), r.pick([1, 2])], spatial_scale: floatAttr(r) };
      }
      break;
    }
    case "IsNaN": case "IsInf":
      inputs = [f()];
      break;
    case "Elu": case "LeakyRelu": case "Selu": case "HardSigmoid": case "Shrink": {
      inputs = [f()];
      const keys = Object.keys(rule.attrs);
      attrs = Object.fromEntries(keys.filter(() => r.chance(0.7)).map((k) => [k, floatAttr(r)]));
      break;
    }
    default:
      // The elementwise rest (Abs, Exp, Sqrt, Relu, ...): any numeric input.
      inputs = [r.chance(0.8) ? f() : x()];
  }
  const outs = Array.from({ length: outputs }, () => fresh(p));
  p.nodes.push({ op, inputs, outputs: outs, ...(attrs ? { attrs } : {}) });
}

export interface FuzzCase {
  /** The graph, outputs declared as admission infers them (or made up, when it refuses). */
  spec: GraphSpec;
  /** Feed data per input name. */
  feeds: Record<string, { dtype: DType; shape: number[]; data: (number | bigint | boolean)[] }>;
}

export interface GraphOptions {
  maxNodes?: number;
  /** Only these ops (default: the whole allow-list). */
  ops?: string[];
  /** Probability that an input has an empty (0) dimension. */
  empty?: number;
}

/** One random graph of up to `maxNodes` allow-listed nodes. */
export function randomGraph(r: Rng, opts: GraphOptions = {}): FuzzCase {
  const maxNodes = opts.maxNodes ?? 6;
  const p: Pool = { types: new Map(), nodes: [], n: 0 };
  const inputs: GraphSpec["inputs"] = [];
  const feeds: FuzzCase["feeds"] = {};
  const nIn = 1 + r.int(3);
  for (let i = 0; i < nIn; i++) {
    const dtype = r.chance(0.5) ? "float32" : r.pick(DTYPES);
    const shape = r.chance(0.3) ? [1, r.pick([1, 2, 3]), r.pick([1, 4, 5]), r.pick([1, 4, 6])] : shapeOf(r);
    if (opts.empty && shape.length && r.chance(opts.empty)) shape[r.int(shape.length)] = 0;
    const name = `in${i}`;
    inputs.push({ name, dtype, shape });
    p.types.set(name, { dtype, shape });
    feeds[name] = { dtype, shape, data: values(r, dtype, shape.reduce((a, b) => a * b, 1)) };
  }
  const ops = opts.ops ?? Object.keys(OP_RULES);
  const count = 1 + r.int(maxNodes);
  for (let i = 0; i < count; i++) {
    const before = p.nodes.length;
    addNode(r, p, r.pick(ops));
    // Keep nodes admission accepts, so later nodes build on them; keep a refused one now and then.
    const partial: GraphSpec = { inputs, weights: [], nodes: p.nodes, outputs: [] };
    const typed = tryTypes(partial);
    if (typed) for (const [k, t] of typed) p.types.set(k, { dtype: t.dtype, shape: [...t.shape] });
    else if (!r.chance(0.1)) p.nodes.length = before;
    else break;
  }
  const last = p.nodes.at(-1);
  const outNames = last ? last.outputs : [inputs[0]!.name];
  const outputs = outNames.map((name) => {
    const t = p.types.get(name);
    return { name, dtype: t?.dtype ?? "float32", shape: t ? [...t.shape] : [1] };
  });
  return { spec: { inputs, weights: [], nodes: p.nodes, outputs }, feeds };
}

/** Types of every value if admission accepts the nodes so far, else undefined. */
function tryTypes(spec: GraphSpec) {
  const last = spec.nodes.at(-1);
  if (!last) return new Map();
  try {
    return inferTypes({ ...spec, outputs: [{ name: last.outputs[0]!, dtype: "float32", shape: [] }] });
  } catch {
    return undefined;
  }
}

/** A malformed or hostile bridge request body (as JSON text) built from a valid one. */
export function mangleRequest(r: Rng, c: FuzzCase): { kind: string; json: string } {
  const body: Record<string, unknown> = { spec: structuredClone(c.spec), feeds: {} };
  const spec = body.spec as Record<string, unknown>;
  switch (r.int(12)) {
    case 0:
      body[r.pick(["junk", "__proto__", "constructor", "spec2"])] = "x".repeat(r.int(1000));
      break;
    case 1:
      delete spec[r.pick(["inputs", "weights", "nodes", "outputs"])];
      break;
    case 2:
      spec[r.pick(["inputs", "nodes", "outputs"])] = r.pick([null, 1, "x", {}, [[]], [null]]);
      break;
    case 3:
      // Nesting deeper than any parser's stack: built as text.
      return { kind: "run", json: `{"feeds":{"x":${"[".repeat(200_000)}1${"]".repeat(200_000)}}}` };
    case 4:
      body.feeds = { in0: [r.pick(["t1", "t999999", "", "p1/w", "../x"]), r.pick([-1, 1e300, 0.5, 2 ** 53])] };
      break;
    case 5:
      (spec.nodes as GraphNode[]).push({ op: r.pick(["Loop", "If", "Scan", "NonZero", "Unique", "StringNormalizer", "com.microsoft.Attention"]), inputs: [], outputs: ["zz"] });
      break;
    case 6:
      (spec.nodes as unknown[]).push({ op: "Relu", inputs: ["undefined_value"], outputs: ["z"], attrs: { x: { tensor: { dtype: "float32", shape: [1e9], data: [] } } } });
      break;
    case 7:
      spec.outputs = [{ name: "in0", dtype: "float32", shape: [2 ** 40] }];
      break;
    case 8:
      return { kind: r.pick(["run", "read", "write", "release", "exec", "__proto__"]), json: r.pick(["{", "[]", "null", '"x"', "1e999", "{}", '{"storage":1}', '{"release":[1,2]}']) };
    case 9:
      return { kind: "read", json: JSON.stringify({ storage: r.pick(["t1", "p1/w", "nope"]), dtype: r.pick(["float32", "int64", "complex"]), offset: r.pick([0, -1, 2 ** 52, 1.5]), numel: r.pick([1, 2 ** 40, -5]) }) };
    case 10:
      (spec.nodes as GraphNode[]).forEach((n) => ((n as unknown as Record<string, unknown>).domain = r.pick(["ai.onnx.ml", "com.microsoft", ""])));
      break;
    default:
      body.key = r.pick(["", "k".repeat(300), 42]);
  }
  return { kind: "run", json: JSON.stringify(body) };
}
