// The GraphSpecs that mirror make_expected.py's torch computations, plus JSON <-> Tensor helpers.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DType, GraphSpec, GraphWeight } from "../../src/engine/graph.js";
import { Tensor } from "../../src/tensor.js";

export interface JsonTensor {
  dtype: DType;
  shape: number[];
  data: (number | string)[];
}
export interface Case {
  inputs: Record<string, JsonTensor>;
  storages: Record<string, JsonTensor>;
  outputs: Record<string, JsonTensor>;
}

export const expected: { generator: string; cases: Record<string, Case> } = JSON.parse(
  readFileSync(fileURLToPath(new URL("./expected.json", import.meta.url)), "utf8"),
);

export function toTensor(j: JsonTensor): Tensor {
  const values = j.dtype === "int64" ? j.data.map((v) => BigInt(v)) : (j.data as number[]);
  if (j.dtype === "float16") return new Tensor("float16", Uint16Array.from(values as number[]), j.shape);
  return Tensor.from(j.dtype, values, j.shape);
}

const io = (name: string, t: JsonTensor) => ({ name, dtype: t.dtype, shape: t.shape });

/** Graph inputs and outputs taken from the case, so dtypes and shapes match torch's. */
function graph(c: Case, nodes: GraphSpec["nodes"], weights: GraphWeight[] = []): GraphSpec {
  return {
    inputs: Object.entries(c.inputs).map(([n, t]) => io(n, t)),
    weights,
    nodes,
    outputs: Object.entries(c.outputs).map(([n, t]) => io(n, t)),
  };
}

const i64 = (data: number[]) => ({ tensor: { dtype: "int64" as const, shape: [data.length], data } });

export const GRAPHS: Record<string, (c: Case) => GraphSpec> = {
  add_broadcast: (c) => graph(c, [{ op: "Add", inputs: ["a", "b"], outputs: ["y"] }]),
  matmul: (c) => graph(c, [{ op: "MatMul", inputs: ["a", "b"], outputs: ["y"] }]),
  gemm: (c) =>
    graph(c, [{ op: "Gemm", inputs: ["x", "w", "b"], outputs: ["y"], attrs: { transB: 1, alpha: { float: 1 } } }], [
      { name: "w", storage: "fc.weight", dtype: "float32", shape: [5, 4] },
      { name: "b", storage: "fc.bias", dtype: "float32", shape: [5] },
    ]),
  conv_bn_relu: (c) => {
    // Offsets into the one packed storage: conv.weight (4*3*3*3 = 108), conv.bias, bn weight, bias, mean, var.
    const p = (name: string, shape: number[], offset: number): GraphWeight => ({ name, storage: "block.params", dtype: "float32", shape, offset });
    return graph(
      c,
      [
        { op: "Conv", inputs: ["x", "cw", "cb"], outputs: ["c"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] } },
        { op: "BatchNormalization", inputs: ["c", "g", "beta", "mean", "var"], outputs: ["n"], attrs: { epsilon: { float: 1e-5 } } },
        { op: "Relu", inputs: ["n"], outputs: ["y"] },
      ],
      [p("cw", [4, 3, 3, 3], 0), p("cb", [4], 108), p("g", [4], 112), p("beta", [4], 116), p("mean", [4], 120), p("var", [4], 124)],
    );
  },
  softmax: (c) => graph(c, [{ op: "Softmax", inputs: ["x"], outputs: ["y"], attrs: { axis: -1 } }]),
  layernorm: (c) =>
    graph(c, [{ op: "LayerNormalization", inputs: ["x", "g", "b"], outputs: ["y"], attrs: { axis: -1, epsilon: { float: 1e-5 } } }], [
      { name: "g", storage: "ln.weight", dtype: "float32", shape: [8] },
      { name: "b", storage: "ln.bias", dtype: "float32", shape: [8] },
    ]),
  embedding: (c) =>
    graph(c, [{ op: "Gather", inputs: ["table", "idx"], outputs: ["y"], attrs: { axis: 0 } }], [
      { name: "table", storage: "emb.weight", dtype: "float32", shape: [10, 4] },
    ]),
  reduce: (c) =>
    graph(c, [
      { op: "Constant", inputs: [], outputs: ["ax1"], attrs: { value: i64([1]) } },
      { op: "Constant", inputs: [], outputs: ["ax02"], attrs: { value: i64([0, 2]) } },
      { op: "ReduceMean", inputs: ["x", "ax1"], outputs: ["mean"], attrs: { keepdims: 0 } },
      { op: "ReduceSum", inputs: ["x", "ax02"], outputs: ["sum"], attrs: { keepdims: 1 } },
    ]),
  cast: (c) =>
    graph(c, [
      { op: "Cast", inputs: ["x"], outputs: ["i"], attrs: { to: 6 } },
      { op: "Cast", inputs: ["x"], outputs: ["h"], attrs: { to: 10 } },
    ]),
  where: (c) =>
    graph(c, [
      { op: "Where", inputs: ["c", "x", "y"], outputs: ["out"] },
      { op: "Constant", inputs: [], outputs: ["zero"], attrs: { value: { tensor: { dtype: "float32", shape: [], data: [0] } } } },
      { op: "Greater", inputs: ["x", "zero"], outputs: ["xpos"] },
      { op: "Where", inputs: ["xpos", "x", "y"], outputs: ["pos"] },
    ]),
  int64_arith: (c) =>
    graph(c, [
      { op: "Mul", inputs: ["a", "b"], outputs: ["ab"] },
      { op: "Add", inputs: ["ab", "a"], outputs: ["y"] },
      // floor(a / b) = (a - a mod b) / b, with Mod's Python (divisor-sign) semantics.
      { op: "Mod", inputs: ["a", "b"], outputs: ["r"], attrs: { fmod: 0 } },
      { op: "Sub", inputs: ["a", "r"], outputs: ["ar"] },
      { op: "Div", inputs: ["ar", "b"], outputs: ["q"] },
    ]),
  float64: (c) =>
    graph(c, [
      { op: "Tanh", inputs: ["a"], outputs: ["t"] },
      { op: "Constant", inputs: [], outputs: ["two"], attrs: { value: { tensor: { dtype: "float64", shape: [], data: [2] } } } },
      { op: "Mul", inputs: ["t", "two"], outputs: ["y"] },
    ]),
};

/** Asserts `got` matches torch's `want`: exact for integers and bools, |d| <= 1e-5 * max(1, |want|) for floats. */
export function assertClose(got: Tensor, want: JsonTensor, label: string): void {
  const fail = (why: string): never => {
    throw new Error(`${label}: ${why}`);
  };
  if (got.dtype !== want.dtype) fail(`dtype ${got.dtype}, expected ${want.dtype}`);
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) fail(`shape [${got.shape}], expected [${want.shape}]`);
  const float = want.dtype === "float32" || want.dtype === "float64";
  for (let i = 0; i < want.data.length; i++) {
    const g = got.data[i]!;
    const w = want.data[i]!;
    if (want.dtype === "int64") {
      if (g !== BigInt(w)) fail(`element ${i} is ${g}, expected ${w}`);
    } else if (float) {
      const wn = w as number;
      if (!(Math.abs((g as number) - wn) <= 1e-5 * Math.max(1, Math.abs(wn)))) fail(`element ${i} is ${g}, expected ${wn}`);
    } else if (g !== w) {
      fail(`element ${i} is ${g}, expected ${w}`);
    }
  }
}
