// Feeds sent to an engine thread: small ones as copies of their own, large ones (64 KB or more in
// all) packed into one buffer that the thread sends back with the result for the next run. A
// reused buffer must carry each run's own data, runs in flight at once must not share one, and
// feeds of different dtypes must keep their alignment inside it.

import { afterEach, describe, expect, it } from "vitest";
import type { GraphSpec } from "../../src/engine/graph.js";
import { structuralKey } from "../../src/engine/structural-key.js";
// From the build: the engine threads load their worker script next to this module.
import { EngineThreads } from "../../dist/platform/node/engine-threads.js";
import { registerNodeBackends } from "../../dist/platform/node/backends.js";
import { Tensor } from "../../dist/tensor.js";

registerNodeBackends();

// a: float32[3] (12 bytes, so b starts past padding), b: float64[n]; outputs a + a and b * b.
function graph(n: number): GraphSpec {
  return {
    inputs: [
      { name: "a", dtype: "float32", shape: [3] },
      { name: "b", dtype: "float64", shape: [n] },
    ],
    weights: [],
    nodes: [
      { op: "Add", inputs: ["a", "a"], outputs: ["a2"] },
      { op: "Mul", inputs: ["b", "b"], outputs: ["b2"] },
    ],
    outputs: [
      { name: "a2", dtype: "float32", shape: [3] },
      { name: "b2", dtype: "float64", shape: [n] },
    ],
  };
}

describe("feeds sent to engine threads", () => {
  const closing: EngineThreads[] = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((c) => c.close()));
  });

  for (const [label, n] of [
    ["small (copied one by one)", 16],
    ["large (one reused buffer)", 3 * 8192],
  ] as const) {
    it(`${label}: each run computes on its own data, one after another and several at once`, async () => {
      const threads = new EngineThreads("ort-node", 1, 1);
      closing.push(threads);
      const spec = graph(n);
      const key = structuralKey(spec);
      const run = async (seed: number) => {
        const a = Float32Array.from([seed, seed + 0.5, -seed]);
        // A view inside a larger buffer: only its elements are sent.
        const b = new Float64Array(n + 4).map((_, i) => (i - 2) * 0.001 + seed).subarray(2, n + 2);
        const out = await threads.run(spec, { a: new Tensor("float32", a, [3]), b: new Tensor("float64", b, [n]) }, key);
        expect(Array.from(out["a2"]!.data as Float32Array)).toEqual(Array.from(a, (v) => v + v));
        const b2 = out["b2"]!.data as Float64Array;
        expect(b2.length).toBe(n);
        for (const i of [0, 1, n >> 1, n - 1]) expect(b2[i]).toBe(b[i]! * b[i]!);
        // The caller's tensors are untouched (copied, not moved away).
        expect(a[0]).toBe(seed);
        expect(b[0]).toBe(seed);
      };
      for (let seed = 1; seed <= 6; seed++) await run(seed);
      await Promise.all([7, 8, 9, 10].map(run));
      for (let seed = 11; seed <= 13; seed++) await run(seed);
    });
  }

  it("a run that fails still returns its buffer, and the next run computes on its own data", async () => {
    const threads = new EngineThreads("ort-node", 1, 1);
    closing.push(threads);
    const n = 3 * 8192;
    const spec = graph(n);
    // The declared shape says n; ORT refuses the feed of another length.
    const bad = graph(n);
    bad.inputs[1] = { name: "b", dtype: "float64", shape: [n + 1] };
    const feeds = (len: number, seed: number) => ({
      a: new Tensor("float32", Float32Array.from([seed, seed, seed]), [3]),
      b: new Tensor("float64", new Float64Array(len).fill(seed), [len]),
    });
    await expect(threads.run(bad, feeds(n, 1), structuralKey(bad))).rejects.toThrow();
    const out = await threads.run(spec, feeds(n, 3), structuralKey(spec));
    expect(Array.from((out["b2"]!.data as Float64Array).subarray(0, 3))).toEqual([9, 9, 9]);
  });
});
