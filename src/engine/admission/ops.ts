// The ONNX ops a graph may use: exactly those the torch layer records (runtime/torch/_graph.py
// lists the same names; test/structure/onnx-ops.test.ts compares the two lists). Each rule
// says how many inputs and outputs a node has, which attributes it may carry, which inputs
// must be Constant nodes because they decide shapes, and what its outputs are, so admission
// knows every value's size before ONNX Runtime allocates anything. Anything not here, in
// any domain but the default one, is refused.

import type { DType } from "../graph.js";
import { sameShape } from "../dtype.js";
import { axis, broadcast, dim, einsum, fail, matmulShape, numel, sliceLength, type ValueType, windowOut } from "./shapes.js";

export type AttrKind = "int" | "ints" | "float" | "floats" | "string" | "tensor";

/** What a rule sees of one node. Accessors throw a ShapeError naming the problem. */
export interface NodeContext {
  /** Input i's type; fails when input i is absent. */
  input(i: number): ValueType;
  /** Whether input i is given (not omitted with "" nor past the end). */
  has(i: number): boolean;
  /** The elements of constant input i (a Constant node's data, a scalar or 1-D), as numbers. */
  constant(i: number): number[];
  /** The same, where ONNX wants a 1-D tensor (shapes, axes, starts, pads). */
  vector(i: number): number[];
  int(name: string, fallback?: number): number;
  ints(name: string, fallback?: number[]): number[];
  float(name: string, fallback?: number): number;
  string(name: string, fallback?: string): string;
  hasAttr(name: string): boolean;
  /** A TENSOR attribute: dtype, shape and elements. */
  tensor(name: string): { dtype: DType; shape: number[]; data: (number | boolean)[] };
  readonly outputs: number;
}

export interface OpRule {
  /** Fewest and most inputs (trailing optional inputs may be omitted). */
  inputs: readonly [number, number];
  outputs: readonly [number, number];
  attrs: Readonly<Record<string, AttrKind>>;
  /** Inputs whose values decide output shapes: they must come from Constant nodes. */
  constant?: readonly number[];
  infer(c: NodeContext): ValueType[];
  /** Bytes the kernel allocates for itself besides its outputs. */
  scratch?(c: NodeContext, out: ValueType[]): number;
}

const FLOATS: readonly DType[] = ["float32", "float64", "float16"];
/** RoI ops: samples (one bilinear read or compare each) one node may take, and per roi. */
export const ROI_MAX_SAMPLES = 2 ** 32;
export const ROI_MAX_SAMPLES_PER_ROI = 2 ** 20;
const INDEX: readonly DType[] = ["int64", "int32"];
const ONNX_DTYPE: Record<number, DType> = { 1: "float32", 11: "float64", 10: "float16", 7: "int64", 6: "int32", 3: "int8", 2: "uint8", 9: "bool" };

function dtypeIn(t: ValueType, allowed: readonly DType[], what: string): void {
  if (!allowed.includes(t.dtype)) fail(`${what} is ${t.dtype}; it must be one of ${allowed.join(", ")}`);
}

function sameDtype(c: NodeContext, n: number): DType {
  const d = c.input(0).dtype;
  for (let i = 1; i < n; i++) if (c.has(i) && c.input(i).dtype !== d) fail(`input ${i} is ${c.input(i).dtype}, input 0 ${d}: they must match`);
  return d;
}

const same = (c: NodeContext): ValueType[] => [{ ...c.input(0) }];

function unary(attrs: Record<string, AttrKind> = {}, allowed?: readonly DType[]): OpRule {
  return {
    inputs: [1, 1],
    outputs: [1, 1],
    attrs,
    infer: (c) => {
      if (allowed) dtypeIn(c.input(0), allowed, "the input");
      return same(c);
    },
  };
}

function binary(result?: DType, allowed?: readonly DType[]): OpRule {
  return {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    infer: (c) => {
      const d = sameDtype(c, 2);
      if (allowed) dtypeIn(c.input(0), allowed, "the input");
      return [{ dtype: result ?? d, shape: broadcast(c.input(0).shape, c.input(1).shape) }];
    },
  };
}

function variadic(): OpRule {
  return {
    inputs: [1, 64],
    outputs: [1, 1],
    attrs: {},
    infer: (c) => {
      const shapes: number[][] = [];
      let i = 0;
      for (; c.has(i); i++) shapes.push(c.input(i).shape);
      return [{ dtype: sameDtype(c, i), shape: broadcast(...shapes) }];
    },
  };
}

/** Reduce ops (opset 18): axes as an optional constant input. */
function reduce(): OpRule {
  return {
    inputs: [1, 2],
    outputs: [1, 1],
    attrs: { keepdims: "int", noop_with_empty_axes: "int" },
    constant: [1],
    infer: (c) => {
      const x = c.input(0);
      const keep = c.int("keepdims", 1) !== 0;
      const given = c.has(1) ? c.vector(1) : [];
      if (given.length === 0 && c.int("noop_with_empty_axes", 0) !== 0) return [{ ...x }];
      const axes = given.length ? new Set(given.map((a) => axis(a, x.shape.length))) : new Set(x.shape.map((_, i) => i));
      if (axes.size !== (given.length || x.shape.length)) fail("axes repeat an axis");
      const shape: number[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.has(i)) shape.push(d);
        else if (keep) shape.push(1);
      });
      return [{ dtype: x.dtype, shape }];
    },
  };
}

function argReduce(): OpRule {
  return {
    inputs: [1, 1],
    outputs: [1, 1],
    attrs: { axis: "int", keepdims: "int", select_last_index: "int" },
    infer: (c) => {
      const x = c.input(0);
      const a = axis(c.int("axis", 0), x.shape.length);
      const shape = x.shape.flatMap((d, i) => (i !== a ? [d] : c.int("keepdims", 1) !== 0 ? [1] : []));
      return [{ dtype: "int64", shape }];
    },
  };
}

function softmax(): OpRule {
  return {
    inputs: [1, 1],
    outputs: [1, 1],
    attrs: { axis: "int" },
    infer: (c) => {
      axis(c.int("axis", -1), c.input(0).shape.length);
      dtypeIn(c.input(0), FLOATS, "the input");
      return same(c);
    },
  };
}

/** Spatial attributes shared by Conv, ConvTranspose and the pools; explicit pads only. */
function spatial(c: NodeContext, x: ValueType, kernel: number[]) {
  const n = x.shape.length - 2;
  if (n < 1) fail(`the input must have a batch, a channel and at least one spatial dimension; it is [${x.shape.join(",")}]`);
  if (c.string("auto_pad", "NOTSET") !== "NOTSET") fail(`auto_pad is not supported; give explicit pads`);
  if (kernel.length !== n) fail(`kernel_shape has ${kernel.length} dims for ${n} spatial dims`);
  const strides = c.ints("strides", new Array(n).fill(1));
  const dilations = c.ints("dilations", new Array(n).fill(1));
  const pads = c.ints("pads", new Array(2 * n).fill(0));
  if (strides.length !== n || dilations.length !== n || pads.length !== 2 * n) fail(`strides, dilations and pads must have ${n}, ${n} and ${2 * n} values`);
  return { n, strides, dilations, pads };
}

function pool(kind: "max" | "average"): OpRule {
  const attrs: Record<string, AttrKind> = { auto_pad: "string", ceil_mode: "int", kernel_shape: "ints", pads: "ints", strides: "ints" };
  if (kind === "max") Object.assign(attrs, { dilations: "ints", storage_order: "int" });
  else attrs.count_include_pad = "int";
  return {
    inputs: [1, 1],
    outputs: kind === "max" ? [1, 2] : [1, 1],
    attrs,
    infer: (c) => {
      const x = c.input(0);
      const kernel = c.ints("kernel_shape");
      const { n, strides, dilations, pads } = spatial(c, x, kernel);
      const ceil = c.int("ceil_mode", 0) !== 0;
      const shape = [x.shape[0]!, x.shape[1]!];
      for (let i = 0; i < n; i++) shape.push(windowOut(x.shape[i + 2]!, kernel[i]!, strides[i]!, dilations[i]!, pads[i]!, pads[i + n]!, ceil));
      const out: ValueType[] = [{ dtype: x.dtype, shape }];
      if (c.outputs === 2) out.push({ dtype: "int64", shape: [...shape] });
      return out;
    },
  };
}

function conv(transpose: boolean): OpRule {
  const attrs: Record<string, AttrKind> = { auto_pad: "string", dilations: "ints", group: "int", kernel_shape: "ints", pads: "ints", strides: "ints" };
  if (transpose) attrs.output_padding = "ints";
  return {
    inputs: [2, 3],
    outputs: [1, 1],
    attrs,
    infer: (c) => {
      const x = c.input(0);
      const w = c.input(1);
      sameDtype(c, 3);
      const group = c.int("group", 1);
      if (w.shape.length !== x.shape.length) fail(`the weight has rank ${w.shape.length}, the input ${x.shape.length}`);
      const kernel = c.ints("kernel_shape", w.shape.slice(2));
      if (!sameShape(kernel, w.shape.slice(2))) fail(`kernel_shape [${kernel.join(",")}] differs from the weight's [${w.shape.slice(2).join(",")}]`);
      const { n, strides, dilations, pads } = spatial(c, x, kernel);
      const channels = x.shape[1]!;
      if (!(group >= 1) || channels % group !== 0) fail(`group ${group} does not divide ${channels} input channels`);
      let outChannels: number;
      if (transpose) {
        if (w.shape[0] !== channels) fail(`the weight has ${w.shape[0]} input channels, the input ${channels}`);
        outChannels = w.shape[1]! * group;
      } else {
        if (w.shape[1]! * group !== channels) fail(`the weight expects ${w.shape[1]! * group} input channels, the input has ${channels}`);
        outChannels = w.shape[0]!;
        if (outChannels % group !== 0) fail(`group ${group} does not divide ${outChannels} output channels`);
      }
      if (c.has(2) && !sameShape(c.input(2).shape, [outChannels])) fail(`the bias must be [${outChannels}]`);
      const shape = [x.shape[0]!, outChannels];
      const outPad = transpose ? c.ints("output_padding", new Array(n).fill(0)) : [];
      for (let i = 0; i < n; i++) {
        const size = x.shape[i + 2]!;
        if (!transpose) shape.push(windowOut(size, kernel[i]!, strides[i]!, dilations[i]!, pads[i]!, pads[i + n]!));
        else {
          const op = outPad[i] ?? 0;
          if (!(strides[i]! >= 1 && dilations[i]! >= 1) || op < 0 || op >= Math.max(strides[i]!, dilations[i]!) || pads[i]! < 0 || pads[i + n]! < 0) {
            fail(`strides, dilations, pads or output_padding out of range`);
          }
          shape.push(dim(strides[i]! * (size - 1) + op + (kernel[i]! - 1) * dilations[i]! + 1 - pads[i]! - pads[i + n]!, "an output dimension"));
        }
      }
      return [{ dtype: x.dtype, shape }];
    },
    // ConvTranspose expands into a full column buffer (ORT's Col2Im); Conv's MLAS kernel tiles its own.
    scratch: transpose
      ? (c) => {
          const x = c.input(0);
          const w = c.input(1);
          return numel(w.shape.slice(1)) * numel(x.shape.slice(2)) * 4;
        }
      : undefined,
  };
}

/** Reshape's target: 0 copies the input dim (unless allowzero), one -1 is inferred. */
function reshapeTarget(input: readonly number[], target: number[], allowZero: boolean): number[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? (i < input.length ? input[i]! : fail(`shape dim ${i} copies a dim the input lacks`)) : d));
  const unknown = out.filter((d) => d === -1).length;
  if (unknown > 1 || out.some((d) => d < -1 || !Number.isSafeInteger(d))) fail(`shape [${target.join(",")}] is invalid`);
  const total = numel(input);
  if (unknown) {
    const known = numel(out.filter((d) => d !== -1));
    if (known === 0 || total % known !== 0) fail(`cannot reshape [${input.join(",")}] to [${target.join(",")}]`);
    out[out.indexOf(-1)] = total / known;
  }
  if (numel(out) !== total) fail(`cannot reshape [${input.join(",")}] (${total} elements) to [${out.join(",")}]`);
  return out;
}

const elementwise = [
  "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Erf", "Exp", "Floor", "Log", "Neg",
  "Reciprocal", "Relu", "Round", "Sigmoid", "Sign", "Sin", "Sinh", "Sqrt", "Tan", "Tanh", "Softplus", "Mish", "HardSwish",
] as const;

export const OP_RULES: Readonly<Record<string, OpRule>> = {
  ...Object.fromEntries(elementwise.map((op) => [op, unary()])),
  Not: unary({}, ["bool"]),
  BitwiseNot: unary({}, ["int64", "int32", "int8", "uint8"]),
  Elu: unary({ alpha: "float" }, FLOATS),
  LeakyRelu: unary({ alpha: "float" }, FLOATS),
  Selu: unary({ alpha: "float", gamma: "float" }, FLOATS),
  HardSigmoid: unary({ alpha: "float", beta: "float" }, FLOATS),
  Shrink: unary({ bias: "float", lambd: "float" }),
  IsNaN: { inputs: [1, 1], outputs: [1, 1], attrs: {}, infer: (c) => [{ dtype: "bool", shape: [...c.input(0).shape] }] },
  IsInf: { inputs: [1, 1], outputs: [1, 1], attrs: { detect_negative: "int", detect_positive: "int" }, infer: (c) => [{ dtype: "bool", shape: [...c.input(0).shape] }] },
  LRN: unary({ alpha: "float", beta: "float", bias: "float", size: "int" }, FLOATS),

  Add: binary(),
  Sub: binary(),
  Mul: binary(),
  // Integer Div and Mod reach ONNX Runtime only rewritten (int-division.ts): INT_MIN / -1 faults natively.
  Div: binary(),
  Mod: { ...binary(), attrs: { fmod: "int" } },
  Pow: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    infer: (c) => [{ dtype: c.input(0).dtype, shape: broadcast(c.input(0).shape, c.input(1).shape) }],
  },
  And: binary("bool", ["bool"]),
  Or: binary("bool", ["bool"]),
  Xor: binary("bool", ["bool"]),
  BitwiseAnd: binary(undefined, ["int64", "int32", "int8", "uint8"]),
  BitwiseOr: binary(undefined, ["int64", "int32", "int8", "uint8"]),
  BitwiseXor: binary(undefined, ["int64", "int32", "int8", "uint8"]),
  Equal: binary("bool"),
  Less: binary("bool"),
  LessOrEqual: binary("bool"),
  Greater: binary("bool"),
  GreaterOrEqual: binary("bool"),
  Max: variadic(),
  Min: variadic(),
  PRelu: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    infer: (c) => {
      sameDtype(c, 2);
      const x = c.input(0);
      if (!sameShape(broadcast(x.shape, c.input(1).shape), x.shape)) fail(`the slope does not broadcast to the input`);
      return same(c);
    },
  },
  Where: {
    inputs: [3, 3],
    outputs: [1, 1],
    attrs: {},
    infer: (c) => {
      dtypeIn(c.input(0), ["bool"], "the condition");
      if (c.input(1).dtype !== c.input(2).dtype) fail(`the branches are ${c.input(1).dtype} and ${c.input(2).dtype}`);
      return [{ dtype: c.input(1).dtype, shape: broadcast(c.input(0).shape, c.input(1).shape, c.input(2).shape) }];
    },
  },
  Clip: {
    inputs: [1, 3],
    outputs: [1, 1],
    attrs: {},
    infer: (c) => {
      sameDtype(c, 3);
      for (const i of [1, 2]) if (c.has(i) && numel(c.input(i).shape) !== 1) fail(`min and max must be scalars`);
      return same(c);
    },
  },
  Cast: {
    inputs: [1, 1],
    outputs: [1, 1],
    attrs: { to: "int", saturate: "int" },
    infer: (c) => {
      const to = ONNX_DTYPE[c.int("to")];
      if (!to) fail(`Cast to ONNX type ${c.int("to")} is not supported`);
      return [{ dtype: to, shape: [...c.input(0).shape] }];
    },
  },

  ReduceSum: reduce(),
  ReduceMean: reduce(),
  ReduceMax: reduce(),
  ReduceMin: reduce(),
  ReduceProd: reduce(),
  ReduceL1: reduce(),
  ReduceL2: reduce(),
  ReduceLogSumExp: reduce(),
  ArgMax: argReduce(),
  ArgMin: argReduce(),
  Softmax: softmax(),
  LogSoftmax: softmax(),
  CumSum: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: { exclusive: "int", reverse: "int" },
    constant: [1],
    infer: (c) => {
      const a = c.constant(1);
      if (a.length !== 1) fail(`axis must be one value`);
      axis(a[0]!, c.input(0).shape.length);
      return same(c);
    },
  },

  MatMul: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    infer: (c) => [{ dtype: sameDtype(c, 2), shape: matmulShape(c.input(0).shape, c.input(1).shape) }],
  },
  Gemm: {
    inputs: [2, 3],
    outputs: [1, 1],
    attrs: { alpha: "float", beta: "float", transA: "int", transB: "int" },
    infer: (c) => {
      const d = sameDtype(c, 3);
      const a = c.input(0).shape;
      const b = c.input(1).shape;
      if (a.length !== 2 || b.length !== 2) fail(`Gemm takes 2-D operands`);
      const [m, k] = c.int("transA", 0) ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
      const [k2, n] = c.int("transB", 0) ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
      if (k !== k2) fail(`Gemm inner dimensions ${k} and ${k2} differ`);
      if (c.has(2) && !sameShape(broadcast(c.input(2).shape, [m, n]), [m, n])) fail(`C does not broadcast to [${m},${n}]`);
      return [{ dtype: d, shape: [m, n] }];
    },
  },
  Einsum: {
    inputs: [1, 16],
    outputs: [1, 1],
    attrs: { equation: "string" },
    infer: (c) => {
      const shapes: number[][] = [];
      for (let i = 0; c.has(i); i++) shapes.push(c.input(i).shape);
      return [{ dtype: sameDtype(c, shapes.length), shape: einsum(c.string("equation"), shapes).shape }];
    },
    scratch: (c) => {
      const shapes: number[][] = [];
      let bytes = 0;
      for (let i = 0; c.has(i); i++) {
        shapes.push(c.input(i).shape);
        bytes += numel(c.input(i).shape) * 8; // a transposed copy of each operand, at most
      }
      return bytes + einsum(c.string("equation"), shapes).largest * 8;
    },
  },

  Conv: conv(false),
  ConvTranspose: conv(true),
  MaxPool: pool("max"),
  AveragePool: pool("average"),
  GlobalAveragePool: {
    inputs: [1, 1],
    outputs: [1, 1],
    attrs: {},
    infer: (c) => {
      const x = c.input(0);
      if (x.shape.length < 3) fail(`the input needs spatial dimensions`);
      return [{ dtype: x.dtype, shape: [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)] }];
    },
  },
  BatchNormalization: {
    inputs: [5, 5],
    outputs: [1, 1],
    attrs: { epsilon: "float", momentum: "float", training_mode: "int" },
    infer: (c) => {
      if (c.int("training_mode", 0) !== 0) fail(`training_mode is not supported`);
      const x = c.input(0);
      if (x.shape.length < 2) fail(`the input needs a channel dimension`);
      for (let i = 1; i < 5; i++) if (!sameShape(c.input(i).shape, [x.shape[1]!])) fail(`input ${i} must be [${x.shape[1]}]`);
      return same(c);
    },
  },
  InstanceNormalization: {
    inputs: [3, 3],
    outputs: [1, 1],
    attrs: { epsilon: "float" },
    infer: (c) => {
      const x = c.input(0);
      if (x.shape.length < 3) fail(`the input needs spatial dimensions`);
      for (const i of [1, 2]) if (!sameShape(c.input(i).shape, [x.shape[1]!])) fail(`input ${i} must be [${x.shape[1]}]`);
      return same(c);
    },
  },
  LayerNormalization: {
    inputs: [2, 3],
    outputs: [1, 1],
    attrs: { axis: "int", epsilon: "float", stash_type: "int" },
    infer: (c) => {
      const x = c.input(0);
      const a = axis(c.int("axis", -1), x.shape.length);
      const norm = x.shape.slice(a);
      for (const i of [1, 2]) if (c.has(i) && !sameShape(broadcast(c.input(i).shape, norm), norm)) fail(`input ${i} does not broadcast to [${norm.join(",")}]`);
      return same(c);
    },
  },

  Constant: {
    inputs: [0, 0],
    outputs: [1, 1],
    attrs: { value: "tensor" },
    infer: (c) => {
      const t = c.tensor("value");
      return [{ dtype: t.dtype, shape: t.shape }];
    },
  },
  ConstantOfShape: {
    inputs: [1, 1],
    outputs: [1, 1],
    attrs: { value: "tensor" },
    constant: [0],
    infer: (c) => {
      const shape = c.vector(0).map((d, i) => dim(d, `dim ${i} of the shape`));
      const t = c.hasAttr("value") ? c.tensor("value") : { dtype: "float32" as DType, shape: [1], data: [0] };
      if (t.data.length !== 1) fail(`value must hold one element`);
      return [{ dtype: t.dtype, shape }];
    },
  },
  Range: {
    inputs: [3, 3],
    outputs: [1, 1],
    attrs: {},
    constant: [0, 1, 2],
    infer: (c) => {
      const d = sameDtype(c, 3);
      const [start, limit, delta] = [0, 1, 2].map((i) => {
        const v = c.constant(i);
        if (v.length !== 1) fail(`start, limit and delta must be scalars`);
        return v[0]!;
      });
      if (delta === 0 || !Number.isFinite(start! + limit! + delta!)) fail(`delta must be non-zero and every bound finite`);
      return [{ dtype: d, shape: [dim(Math.max(Math.ceil((limit! - start!) / delta!), 0), "the length")] }];
    },
  },
  Reshape: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: { allowzero: "int" },
    constant: [1],
    infer: (c) => [{ dtype: c.input(0).dtype, shape: reshapeTarget(c.input(0).shape, c.vector(1), c.int("allowzero", 0) !== 0) }],
  },
  Expand: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    constant: [1],
    infer: (c) => {
      const target = c.vector(1).map((d, i) => dim(d, `dim ${i} of the shape`));
      return [{ dtype: c.input(0).dtype, shape: broadcast(c.input(0).shape, target) }];
    },
  },
  Tile: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    constant: [1],
    infer: (c) => {
      const x = c.input(0);
      const r = c.vector(1);
      if (r.length !== x.shape.length) fail(`repeats has ${r.length} values for rank ${x.shape.length}`);
      return [{ dtype: x.dtype, shape: x.shape.map((d, i) => dim(d * r[i]!, `dim ${i}`)) }];
    },
  },
  Transpose: {
    inputs: [1, 1],
    outputs: [1, 1],
    attrs: { perm: "ints" },
    infer: (c) => {
      const x = c.input(0);
      const perm = c.ints("perm", x.shape.map((_, i) => x.shape.length - 1 - i));
      if (perm.length !== x.shape.length || new Set(perm).size !== perm.length || perm.some((p) => !(p >= 0 && p < perm.length))) {
        fail(`perm [${perm.join(",")}] is not a permutation of rank ${x.shape.length}`);
      }
      return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
    },
  },
  Squeeze: {
    inputs: [1, 2],
    outputs: [1, 1],
    attrs: {},
    constant: [1],
    infer: (c) => {
      const x = c.input(0);
      const axes = c.has(1) ? new Set(c.vector(1).map((a) => axis(a, x.shape.length))) : new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
      for (const a of axes) if (x.shape[a] !== 1) fail(`dim ${a} is ${x.shape[a]}, not 1`);
      return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.has(i)) }];
    },
  },
  Unsqueeze: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    constant: [1],
    infer: (c) => {
      const x = c.input(0);
      const given = c.vector(1);
      const rank = x.shape.length + given.length;
      const axes = new Set(given.map((a) => axis(a, rank)));
      if (axes.size !== given.length) fail(`axes repeat an axis`);
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) shape.push(axes.has(i) ? 1 : x.shape[j++]!);
      return [{ dtype: x.dtype, shape }];
    },
  },
  Concat: {
    inputs: [1, 4096],
    outputs: [1, 1],
    attrs: { axis: "int" },
    infer: (c) => {
      const first = c.input(0);
      const a = axis(c.int("axis"), first.shape.length);
      const shape = [...first.shape];
      for (let i = 1; c.has(i); i++) {
        const s = c.input(i).shape;
        if (c.input(i).dtype !== first.dtype) fail(`input ${i} is ${c.input(i).dtype}, input 0 ${first.dtype}`);
        if (s.length !== shape.length || s.some((d, j) => j !== a && d !== shape[j])) fail(`input ${i} [${s.join(",")}] does not fit [${first.shape.join(",")}] along axis ${a}`);
        shape[a]! += s[a]!;
      }
      return [{ dtype: first.dtype, shape }];
    },
  },
  Slice: {
    inputs: [3, 5],
    outputs: [1, 1],
    attrs: {},
    constant: [1, 2, 3, 4],
    infer: (c) => {
      const x = c.input(0);
      const starts = c.vector(1);
      const ends = c.vector(2);
      const axes = c.has(3) ? c.vector(3).map((a) => axis(a, x.shape.length)) : starts.map((_, i) => i);
      const steps = c.has(4) ? c.vector(4) : starts.map(() => 1);
      if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) fail(`starts, ends, axes and steps differ in length`);
      if (new Set(axes).size !== axes.length) fail(`axes repeat an axis`);
      const shape = [...x.shape];
      axes.forEach((a, i) => (shape[a] = sliceLength(x.shape[a]!, starts[i]!, ends[i]!, steps[i]!)));
      return [{ dtype: x.dtype, shape }];
    },
  },
  Pad: {
    inputs: [2, 4],
    outputs: [1, 1],
    attrs: { mode: "string" },
    constant: [1, 3],
    infer: (c) => {
      const x = c.input(0);
      const mode = c.string("mode", "constant");
      if (!["constant", "reflect", "edge"].includes(mode)) fail(`mode ${JSON.stringify(mode)} is not supported`);
      const rank = x.shape.length;
      const axes = c.has(3) ? c.vector(3).map((a) => axis(a, rank)) : x.shape.map((_, i) => i);
      const pads = c.vector(1);
      if (pads.length !== 2 * axes.length) fail(`pads has ${pads.length} values for ${axes.length} axes`);
      if (c.has(2) && (numel(c.input(2).shape) !== 1 || c.input(2).dtype !== x.dtype)) fail(`constant_value must be one ${x.dtype}`);
      const shape = [...x.shape];
      axes.forEach((a, i) => {
        const [b, e] = [pads[i]!, pads[i + axes.length]!];
        if (mode !== "constant" && (b < 0 || e < 0 || (mode === "reflect" && (b >= x.shape[a]! || e >= x.shape[a]!)))) fail(`${mode} padding of ${b}/${e} does not fit dim ${a} (${x.shape[a]})`);
        shape[a] = dim(x.shape[a]! + b + e, `padded dim ${a}`);
      });
      return [{ dtype: x.dtype, shape }];
    },
  },
  Gather: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: { axis: "int" },
    infer: (c) => {
      const x = c.input(0);
      dtypeIn(c.input(1), INDEX, "indices");
      const a = axis(c.int("axis", 0), x.shape.length);
      return [{ dtype: x.dtype, shape: [...x.shape.slice(0, a), ...c.input(1).shape, ...x.shape.slice(a + 1)] }];
    },
  },
  GatherElements: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: { axis: "int" },
    infer: (c) => {
      const x = c.input(0);
      const idx = c.input(1);
      dtypeIn(idx, INDEX, "indices");
      axis(c.int("axis", 0), x.shape.length);
      if (idx.shape.length !== x.shape.length) fail(`indices have rank ${idx.shape.length}, data ${x.shape.length}`);
      return [{ dtype: x.dtype, shape: [...idx.shape] }];
    },
  },
  ScatterElements: {
    inputs: [3, 3],
    outputs: [1, 1],
    attrs: { axis: "int", reduction: "string" },
    infer: (c) => {
      const x = c.input(0);
      dtypeIn(c.input(1), INDEX, "indices");
      axis(c.int("axis", 0), x.shape.length);
      if (!["none", "add", "mul", "max", "min"].includes(c.string("reduction", "none"))) fail(`reduction ${c.string("reduction")} is not supported`);
      if (!sameShape(c.input(1).shape, c.input(2).shape) || c.input(1).shape.length !== x.shape.length) fail(`indices and updates must have one shape of the data's rank`);
      if (c.input(2).dtype !== x.dtype) fail(`updates are ${c.input(2).dtype}, data ${x.dtype}`);
      return same(c);
    },
  },
  Trilu: {
    inputs: [1, 2],
    outputs: [1, 1],
    attrs: { upper: "int" },
    constant: [1],
    infer: (c) => {
      if (c.input(0).shape.length < 2) fail(`the input must have at least 2 dimensions`);
      if (c.has(1) && c.constant(1).length !== 1) fail(`k must be one value`);
      return same(c);
    },
  },
  TopK: {
    inputs: [2, 2],
    outputs: [2, 2],
    attrs: { axis: "int", largest: "int", sorted: "int" },
    constant: [1],
    infer: (c) => {
      const x = c.input(0);
      const a = axis(c.int("axis", -1), x.shape.length);
      const k = c.vector(1);
      if (k.length !== 1 || !(k[0]! >= 0 && k[0]! <= x.shape[a]!)) fail(`k ${k.join(",")} is out of range for a dim of ${x.shape[a]}`);
      const shape = [...x.shape];
      shape[a] = k[0]!;
      return [
        { dtype: x.dtype, shape },
        { dtype: "int64", shape: [...shape] },
      ];
    },
  },
  // What the torch layer records for a dense float32 nn.LSTM layer (nn/modules/_rnn_impl.py):
  // default activations, no clip, no sequence_lens, no peepholes, time-major layout.
  LSTM: {
    inputs: [3, 7],
    outputs: [1, 3],
    attrs: { hidden_size: "int", direction: "string", layout: "int" },
    infer: (c) => {
      const x = c.input(0);
      dtypeIn(x, ["float32"], "the input");
      if (c.has(4)) fail(`sequence_lens is not supported`);
      sameDtype(c, 7);
      if (c.int("layout", 0) !== 0) fail(`layout must be 0`);
      const direction = c.string("direction", "forward");
      if (!["forward", "reverse", "bidirectional"].includes(direction)) fail(`direction ${direction} is not supported`);
      const d = direction === "bidirectional" ? 2 : 1;
      const h = c.int("hidden_size");
      if (!(h >= 1)) fail(`hidden_size must be positive`);
      if (x.shape.length !== 3) fail(`the input must be [seq, batch, features]`);
      const [t, b, f] = x.shape as [number, number, number];
      const want: [number, number[]][] = [[1, [d, 4 * h, f]], [2, [d, 4 * h, h]], [3, [d, 8 * h]], [5, [d, b, h]], [6, [d, b, h]]];
      for (const [i, shape] of want) if (c.has(i) && !sameShape(c.input(i).shape, shape)) fail(`input ${i} must be [${shape.join(",")}]`);
      return [
        { dtype: x.dtype, shape: [t, d, b, h] },
        { dtype: x.dtype, shape: [d, b, h] },
        { dtype: x.dtype, shape: [d, b, h] },
      ].slice(0, c.outputs);
    },
    // The kernel's gate buffers (every step's input projection, 4 gates per direction) and
    // its hidden/cell state, in float32.
    scratch: (c) => {
      const [t, b] = c.input(0).shape as [number, number];
      const d = c.string("direction", "forward") === "bidirectional" ? 2 : 1;
      const h = c.int("hidden_size");
      return 4 * (d * t * b * 4 * h + 4 * d * b * h);
    },
  },
  Resize: {
    inputs: [1, 4],
    outputs: [1, 1],
    attrs: { mode: "string", coordinate_transformation_mode: "string", nearest_mode: "string", cubic_coeff_a: "float", exclude_outside: "int", extrapolation_value: "float" },
    constant: [1, 2, 3],
    infer: (c) => {
      const x = c.input(0);
      if (!["nearest", "linear", "cubic"].includes(c.string("mode", "nearest"))) fail(`mode ${c.string("mode")} is not supported`);
      let shape: number[];
      if (c.has(3)) {
        shape = c.vector(3).map((d, i) => dim(d, `size ${i}`));
        if (c.has(2)) fail(`give scales or sizes, not both`);
      } else if (c.has(2)) {
        const scales = c.vector(2);
        if (scales.length !== x.shape.length || scales.some((s) => !(s > 0) || !Number.isFinite(s))) fail(`scales must be ${x.shape.length} positive numbers`);
        shape = x.shape.map((d, i) => dim(Math.floor(d * scales[i]!), `output dim ${i}`));
      } else fail(`Resize needs scales or sizes`);
      if (shape.length !== x.shape.length) fail(`sizes has ${shape.length} values for rank ${x.shape.length}`);
      return [{ dtype: x.dtype, shape }];
    },
  },
  RoiAlign: {
    inputs: [3, 3],
    outputs: [1, 1],
    attrs: { coordinate_transformation_mode: "string", mode: "string", output_height: "int", output_width: "int", sampling_ratio: "int", spatial_scale: "float" },
    infer: (c) => {
      const x = c.input(0);
      const rois = c.input(1);
      const k = rois.shape[0]!;
      dtypeIn(x, ["float32", "float64"], "the input");
      if (x.shape.length !== 4 || rois.shape.length !== 2 || rois.shape[1] !== 4 || rois.dtype !== x.dtype) fail(`RoiAlign takes [N,C,H,W] and [K,4] rois of the same dtype`);
      dtypeIn(c.input(2), ["int64"], "batch_indices");
      if (!sameShape(c.input(2).shape, [k])) fail(`batch_indices must be [${k}]`);
      if (!["half_pixel", "output_half_pixel"].includes(c.string("coordinate_transformation_mode", "half_pixel")) || c.string("mode", "avg") !== "avg") fail(`only mode "avg" and the half_pixel modes are supported`);
      const oh = c.int("output_height", 1);
      const ow = c.int("output_width", 1);
      const sr = c.int("sampling_ratio", 0);
      if (!(oh >= 1 && ow >= 1 && sr >= 0 && sr <= 64)) fail(`output sizes must be at least 1 and sampling_ratio 0-64`);
      // Fixed sampling: the work is known now. Adaptive (0) is bounded at run time (roi-guard.ts).
      if (sr > 0 && k * x.shape[1]! * oh * ow * sr * sr > ROI_MAX_SAMPLES) fail(`${k} rois x ${x.shape[1]} channels x ${oh}x${ow} bins x ${sr * sr} samples is over ${ROI_MAX_SAMPLES} samples`);
      return [{ dtype: x.dtype, shape: [k, x.shape[1]!, oh, ow] }];
    },
    // ORT precomputes each roi's sample positions and weights (about 48 bytes a sample).
    scratch: (c) => 48 * c.int("output_height", 1) * c.int("output_width", 1) * Math.max(c.int("sampling_ratio", 0) ** 2, ROI_MAX_SAMPLES_PER_ROI / (c.int("output_height", 1) * c.int("output_width", 1))),
  },
  MaxRoiPool: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: { pooled_shape: "ints", spatial_scale: "float" },
    infer: (c) => {
      const x = c.input(0);
      const rois = c.input(1);
      dtypeIn(x, ["float32", "float64"], "the input");
      if (x.shape.length !== 4 || rois.shape.length !== 2 || rois.shape[1] !== 5 || rois.dtype !== x.dtype) fail(`MaxRoiPool takes [N,C,H,W] and [K,5] rois of the same dtype`);
      const [ph, pw] = c.ints("pooled_shape");
      if (c.ints("pooled_shape").length !== 2 || !(ph! >= 1 && pw! >= 1)) fail(`pooled_shape must be two sizes of at least 1`);
      // Bins are clipped to the image: at most every pixel of every channel per roi.
      if (rois.shape[0]! * numel(x.shape.slice(1)) > ROI_MAX_SAMPLES) fail(`${rois.shape[0]} rois over [${x.shape.join(",")}] is over ${ROI_MAX_SAMPLES} samples`);
      return [{ dtype: x.dtype, shape: [rois.shape[0]!, x.shape[1]!, ph!, pw!] }];
    },
  },
  GridSample: {
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: { align_corners: "int", mode: "string", padding_mode: "string" },
    infer: (c) => {
      const x = c.input(0);
      const g = c.input(1);
      if (x.shape.length !== 4 || g.shape.length !== 4 || g.shape[3] !== 2 || g.shape[0] !== x.shape[0]) fail(`GridSample takes [N,C,H,W] and an [N,H,W,2] grid`);
      return [{ dtype: x.dtype, shape: [x.shape[0]!, x.shape[1]!, g.shape[1]!, g.shape[2]!] }];
    },
  },
};

export function opRule(op: string): OpRule | undefined {
  return Object.hasOwn(OP_RULES, op) ? OP_RULES[op] : undefined;
}
