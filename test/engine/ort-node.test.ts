// The ort-node backend runs sessions through onnxruntime-node's native binding directly: its
// public run() defers each run to a setImmediate (an event loop turn per call, a sizeable part
// of a 30 µs graph) and then runs synchronously anyway. Checked here: the same results as the
// public API, no event loop turn, and ORT's errors still reach the caller.

import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import type { GraphSpec } from "../../src/engine/graph.js";
import { buildModel } from "../../src/engine/onnx-builder.js";
import { createOrtNodeBackend } from "../../src/platform/node/ort-node.js";
import { Tensor } from "../../src/tensor.js";

// y = x * x + 1 on a [2, 3] float32 input; a second output, x - 1, checks fetch order.
const graph: GraphSpec = {
  inputs: [{ name: "x", dtype: "float32", shape: [2, 3] }],
  weights: [],
  nodes: [
    { op: "Mul", inputs: ["x", "x"], outputs: ["sq"] },
    { op: "Constant", inputs: [], outputs: ["one"], attrs: { value: { tensor: { dtype: "float32", shape: [], data: [1] } } } },
    { op: "Add", inputs: ["sq", "one"], outputs: ["y"] },
    { op: "Sub", inputs: ["x", "one"], outputs: ["z"] },
  ],
  outputs: [
    { name: "y", dtype: "float32", shape: [2, 3] },
    { name: "z", dtype: "float32", shape: [2, 3] },
  ],
};
const model = buildModel(graph, { weights: "initializers", locate: () => ({ fileName: "", byteOffset: 0, byteLength: 0 }) }).bytes;
const x = new Float32Array([0.5, -1.25, 2, 3.5, -0.75, 10]);

describe("ort-node backend", () => {
  it("gives onnxruntime-node's own results, output by output", async () => {
    const session = await (await createOrtNodeBackend({})).createSession(model);
    const ours = await session.run({ x: new Tensor("float32", x, [2, 3]) }, ["z", "y"]);
    const publicApi = await (await ort.InferenceSession.create(model)).run({ x: new ort.Tensor("float32", x, [2, 3]) });
    expect(Object.keys(ours)).toEqual(["z", "y"]);
    for (const name of ["y", "z"]) {
      expect(ours[name]!.shape).toEqual([2, 3]);
      expect(Array.from(ours[name]!.data as Float32Array)).toEqual(Array.from(publicApi[name]!.data as Float32Array));
    }
    expect(Array.from(ours.y!.data as Float32Array)).toEqual(Array.from(x, (v) => v * v + 1));
    await session.release();
  });

  it("runs without waiting for an event loop turn", async () => {
    const session = await (await createOrtNodeBackend({})).createSession(model);
    let turned = false;
    setImmediate(() => (turned = true));
    await session.run({ x: new Tensor("float32", x, [2, 3]) }, ["y"]);
    // The public API would have run it inside a setImmediate queued after ours.
    expect(turned).toBe(false);
    await session.release();
  });

  it("reports ONNX Runtime's refusal of a bad feed as a rejection", async () => {
    const session = await (await createOrtNodeBackend({})).createSession(model);
    await expect(session.run({ x: new Tensor("float32", new Float32Array(4), [2, 2]) }, ["y"])).rejects.toThrow(/dimensions|shape|Got invalid/i);
    await session.release();
  });
});
