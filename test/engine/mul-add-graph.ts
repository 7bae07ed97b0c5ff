// A tiny graph for engine-host tests: x * w + 1, with w a package weight "p1/w" = [2, 3].

import type { GraphSpec } from "../../src/engine/graph.js";

export const spec: GraphSpec = {
  inputs: [{ name: "i0", dtype: "float32", shape: [2] }],
  weights: [{ name: "w0", storage: "p1/w", dtype: "float32", shape: [2] }],
  nodes: [
    { op: "Mul", inputs: ["i0", "w0"], outputs: ["v0"] },
    { op: "Constant", inputs: [], outputs: ["v1"], attrs: { value: { tensor: { dtype: "float32", shape: [], data: [1] } } } },
    { op: "Add", inputs: ["v0", "v1"], outputs: ["v2"] },
  ],
  outputs: [{ name: "v2", dtype: "float32", shape: [2] }],
};

/** The bytes of "p1/w". */
export const wBytes = new Uint8Array(new Float32Array([2, 3]).buffer);
