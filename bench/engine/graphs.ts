// Synthetic GraphSpecs for the engine micro-benchmarks.

import type { GraphSpec, GraphNode, GraphWeight } from "../../src/engine/graph.js";

/** A weight storage for `makeConvNet`: name -> Float32Array, filled deterministically. */
export type Storages = Map<string, Float32Array>;

/**
 * A ResNet-ish stack: `blocks` times Conv(3x3) + BatchNormalization + Relu, then global
 * average pool and a Gemm classifier. Weights read storages "<prefix>.<i>.*".
 */
export function makeConvNet(opts: { batch: number; channels: number; size: number; blocks: number; prefix?: string }): {
  graph: GraphSpec;
  storages: Storages;
} {
  const { batch, channels: c, size, blocks } = opts;
  const prefix = opts.prefix ?? "convnet";
  const storages: Storages = new Map();
  const weights: GraphWeight[] = [];
  const nodes: GraphNode[] = [];
  let seed = 1;
  const rand = (n: number, scale: number, bias = 0) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      a[i] = bias + scale * (seed / 0x7fffffff - 0.5);
    }
    return a;
  };
  const weight = (name: string, shape: number[], data: Float32Array) => {
    const storage = `${prefix}.${name}`;
    storages.set(storage, data);
    weights.push({ name, storage, dtype: "float32", shape });
    return name;
  };
  let x = "x";
  for (let b = 0; b < blocks; b++) {
    const w = weight(`b${b}.w`, [c, c, 3, 3], rand(c * c * 9, 0.2));
    const bias = weight(`b${b}.bias`, [c], rand(c, 0.1));
    const g = weight(`b${b}.bn.g`, [c], rand(c, 0.2, 1));
    const be = weight(`b${b}.bn.b`, [c], rand(c, 0.1));
    const mu = weight(`b${b}.bn.m`, [c], rand(c, 0.1));
    const v = weight(`b${b}.bn.v`, [c], rand(c, 0.2, 1));
    nodes.push({ op: "Conv", inputs: [x, w, bias], outputs: [`b${b}.conv`], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } });
    nodes.push({ op: "BatchNormalization", inputs: [`b${b}.conv`, g, be, mu, v], outputs: [`b${b}.bn`], attrs: { epsilon: { float: 1e-5 } } });
    nodes.push({ op: "Relu", inputs: [`b${b}.bn`], outputs: [`b${b}.relu`] });
    x = `b${b}.relu`;
  }
  nodes.push({ op: "GlobalAveragePool", inputs: [x], outputs: ["pool"] });
  nodes.push({ op: "Flatten", inputs: ["pool"], outputs: ["flat"] });
  const fw = weight("fc.w", [10, c], rand(10 * c, 0.2));
  const fb = weight("fc.b", [10], rand(10, 0.1));
  nodes.push({ op: "Gemm", inputs: ["flat", fw, fb], outputs: ["y"], attrs: { transB: 1 } });
  return {
    graph: {
      inputs: [{ name: "x", dtype: "float32", shape: [batch, c, size, size] }],
      weights,
      nodes,
      outputs: [{ name: "y", dtype: "float32", shape: [batch, 10] }],
    },
    storages,
  };
}

/** x*2+1 on a small vector: the per-call overhead graph. */
export function makeTiny(n = 4): GraphSpec {
  return {
    inputs: [{ name: "x", dtype: "float32", shape: [n] }],
    weights: [],
    nodes: [
      { op: "Constant", inputs: [], outputs: ["two"], attrs: { value: { tensor: { dtype: "float32", shape: [], data: [2] } } } },
      { op: "Constant", inputs: [], outputs: ["one"], attrs: { value: { tensor: { dtype: "float32", shape: [], data: [1] } } } },
      { op: "Mul", inputs: ["x", "two"], outputs: ["t"] },
      { op: "Add", inputs: ["t", "one"], outputs: ["y"] },
    ],
    outputs: [{ name: "y", dtype: "float32", shape: [n] }],
  };
}

/**
 * A transformer-ish MLP stack on a [batch*seq, d] activation: `layers` times
 * MatMul(d x 4d) + Add + Relu + MatMul(4d x d) + Add + residual Add.
 */
export function makeMlp(opts: { rows: number; d: number; layers: number; prefix?: string }): { graph: GraphSpec; storages: Storages } {
  const { rows, d, layers } = opts;
  const prefix = opts.prefix ?? "mlp";
  const storages: Storages = new Map();
  const weights: GraphWeight[] = [];
  const nodes: GraphNode[] = [];
  let seed = 7;
  const rand = (n: number, scale: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      a[i] = scale * (seed / 0x7fffffff - 0.5);
    }
    return a;
  };
  const weight = (name: string, shape: number[], data: Float32Array) => {
    storages.set(`${prefix}.${name}`, data);
    weights.push({ name, storage: `${prefix}.${name}`, dtype: "float32", shape });
    return name;
  };
  let x = "x";
  for (let l = 0; l < layers; l++) {
    const w1 = weight(`l${l}.w1`, [d, 4 * d], rand(4 * d * d, 0.1));
    const b1 = weight(`l${l}.b1`, [4 * d], rand(4 * d, 0.1));
    const w2 = weight(`l${l}.w2`, [4 * d, d], rand(4 * d * d, 0.1));
    const b2 = weight(`l${l}.b2`, [d], rand(d, 0.1));
    nodes.push({ op: "MatMul", inputs: [x, w1], outputs: [`l${l}.h`] });
    nodes.push({ op: "Add", inputs: [`l${l}.h`, b1], outputs: [`l${l}.hb`] });
    nodes.push({ op: "Relu", inputs: [`l${l}.hb`], outputs: [`l${l}.a`] });
    nodes.push({ op: "MatMul", inputs: [`l${l}.a`, w2], outputs: [`l${l}.o`] });
    nodes.push({ op: "Add", inputs: [`l${l}.o`, b2], outputs: [`l${l}.ob`] });
    nodes.push({ op: "Add", inputs: [`l${l}.ob`, x], outputs: [`l${l}.y`] });
    x = `l${l}.y`;
  }
  nodes.push({ op: "Identity", inputs: [x], outputs: ["y"] });
  return {
    graph: {
      inputs: [{ name: "x", dtype: "float32", shape: [rows, d] }],
      weights,
      nodes,
      outputs: [{ name: "y", dtype: "float32", shape: [rows, d] }],
    },
    storages,
  };
}
