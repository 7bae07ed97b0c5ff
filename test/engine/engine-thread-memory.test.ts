// What a compile leaves in an engine thread. The engine builds each graph's ONNX model with the
// weights it bakes as initializers, a copy of them on the thread's JavaScript heap that is
// garbage once ONNX Runtime has made its session. An engine thread allocates little else, so V8
// may not collect it for a long time: resnet18 served on one interpreter held 45 MB more for it
// (bench/results/2026-12-06-model-memory-gc-after-compile.json). The thread now collects after a
// compile; the process must grow by the session's copy of the weights, not also by the model.

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { GraphSpec } from "../../src/engine/graph.js";
import { structuralKey } from "../../src/engine/structural-key.js";
// From the build: the engine threads load their worker script next to this module.
import { EngineThreads } from "../../dist/platform/node/engine-threads.js";
import { registerNodeBackends } from "../../dist/platform/node/backends.js";
import { Tensor } from "../../dist/tensor.js";

registerNodeBackends();

const K = 4096;
const N = 4096; // 64 MiB of float32 weights
const WEIGHT_BYTES = K * N * 4;

const graph: GraphSpec = {
  inputs: [{ name: "x", dtype: "float32", shape: [1, K] }],
  weights: [{ name: "w", storage: "p1/w", dtype: "float32", shape: [K, N] }],
  nodes: [{ op: "MatMul", inputs: ["x", "w"], outputs: ["y"] }],
  outputs: [{ name: "y", dtype: "float32", shape: [1, N] }],
};

// Anonymous memory, not PSS: other test processes starting or ending change this one's share of
// the pages it shares with them (node's and ONNX Runtime's code), never its anonymous pages.
const anonBytes = () => Number(/^Anonymous:\s+(\d+) kB/m.exec(readFileSync("/proc/self/smaps_rollup", "utf8"))![1]) * 1024;
const settle = () => new Promise((r) => setTimeout(r, 300));

describe("engine threads after a compile", () => {
  const closing: EngineThreads[] = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((c) => c.close()));
  });

  it("keep the session's copy of the weights, not the model built to make it", async () => {
    const threads = new EngineThreads("ort-node", 1, 1);
    closing.push(threads);
    // Weights as the host holds them: shared memory, filled (so resident) before measuring.
    const w = new Float32Array(new SharedArrayBuffer(WEIGHT_BYTES));
    for (let i = 0; i < w.length; i++) w[i] = ((i * 7919) % 1000) / 1000 - 0.5;
    threads.registerStorage("p1/w", "float32", new Uint8Array(w.buffer));
    const x = new Float32Array(K).map((_, i) => Math.cos(i));
    const run = async () => (await threads.run(graph, { x: new Tensor("float32", x, [1, K]) }, structuralKey(graph), {}))["y"]!.data as Float32Array;
    // A first run of another graph starts the thread and ONNX Runtime: not what is measured.
    const tiny: GraphSpec = { inputs: [{ name: "a", dtype: "float32", shape: [2] }], weights: [], nodes: [{ op: "Add", inputs: ["a", "a"], outputs: ["b"] }], outputs: [{ name: "b", dtype: "float32", shape: [2] }] };
    await threads.run(tiny, { a: new Tensor("float32", new Float32Array([1, 2]), [2]) }, structuralKey(tiny), {});
    await settle();
    const before = anonBytes();
    const y = await run();
    await settle();
    const added = anonBytes() - before;
    // The answer, against a plain dot product of a few columns.
    for (const j of [0, 1, 2047, 4095]) {
      let want = 0;
      for (let k = 0; k < K; k++) want += x[k]! * w[k * N + j]!;
      expect(Math.abs(y[j]! - want)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want)));
    }
    // The session holds one copy (64 MiB, ONNX Runtime's packing of it included); the built
    // model left uncollected would add another 64 MiB.
    expect(added).toBeGreaterThan(0.5 * WEIGHT_BYTES);
    expect(added).toBeLessThan(1.5 * WEIGHT_BYTES);
  }, 60_000);
});
