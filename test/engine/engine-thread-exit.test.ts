// An engine thread that ends while ONNX Runtime runs a graph on it. worker.terminate() landing
// inside a run aborted the whole process: onnxruntime-node's binding fails to make its outputs on
// a terminating thread and throws a C++ exception it cannot hand to JavaScript (std::terminate;
// seen as a test process that "exited unexpectedly"). A thread ends at its next turn instead, on
// close and on a death alike; this process must outlive both, and the pool keep serving.

import { afterEach, describe, expect, it } from "vitest";
import type { GraphSpec } from "../../src/engine/graph.js";
import { structuralKey } from "../../src/engine/structural-key.js";
// From the build: the engine threads load their worker script next to this module.
import { EngineThreads } from "../../dist/platform/node/engine-threads.js";
import { EngineError } from "../../dist/engine/errors.js";
import { registerNodeBackends } from "../../dist/platform/node/backends.js";
import { Tensor } from "../../dist/tensor.js";

registerNodeBackends();

const M = 256;
const K = 1024;
const LAYERS = 24; // ~0.5 GFLOP each: a run of a few hundred ms on one thread
// Uniform in ±0.054 (mulberry32): a gain near 1 per layer, so 24 layers neither vanish nor blow up.
let seed = 7;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const w = new Float32Array(K * K).map(() => (random() - 0.5) / 9.2);
const x = new Float32Array(M * K).map((_, i) => Math.sin(i));

const nodes: GraphSpec["nodes"] = [];
for (let l = 0; l < LAYERS; l++) nodes.push({ op: "MatMul", inputs: [l === 0 ? "x" : `h${l - 1}`, "w"], outputs: [`h${l}`] });
const slow: GraphSpec = {
  inputs: [{ name: "x", dtype: "float32", shape: [M, K] }],
  weights: [{ name: "w", storage: "p1/w", dtype: "float32", shape: [K, K] }],
  nodes,
  outputs: [{ name: `h${LAYERS - 1}`, dtype: "float32", shape: [M, K] }],
};
const key = structuralKey(slow);

/** The first rows of the answer, computed here (float64), to check a run that completes. */
function expectRight(y: Float32Array) {
  let h = Array.from(x.subarray(0, K), Number);
  for (let l = 0; l < LAYERS; l++) {
    const next = new Array<number>(K).fill(0);
    for (let k = 0; k < K; k++) for (let j = 0; j < K; j++) next[j]! += h[k]! * w[k * K + j]!;
    h = next;
  }
  const scale = Math.max(...h.map(Math.abs));
  expect(scale).toBeGreaterThan(1e-2); // informative, not vanishing
  expect(scale).toBeLessThan(1e4);
  for (const j of [0, 1, 511, 1023]) expect(Math.abs(y[j]! - h[j]!)).toBeLessThan(1e-3 * scale);
}

const settled = (p: Promise<Record<string, Tensor>>) => p.then((o) => ({ y: o[`h${LAYERS - 1}`]!.data as Float32Array }), (e: unknown) => ({ e }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("an engine thread ending mid-run", () => {
  const closing: EngineThreads[] = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((c) => c.close()));
  });

  const start = async () => {
    const threads = new EngineThreads("ort-node", 1, 1);
    closing.push(threads);
    threads.registerStorage("p1/w", "float32", new Uint8Array(w.buffer));
    const run = () => threads.run(slow, { x: new Tensor("float32", x, [M, K]) }, key, {});
    // Compiled, and timed: the kills below land well inside a run.
    const t0 = performance.now();
    expectRight((await settled(run()) as { y: Float32Array }).y);
    const t1 = performance.now();
    expectRight((await settled(run()) as { y: Float32Array }).y);
    return { threads, run, ms: performance.now() - t1, compileMs: t1 - t0 };
  };

  it("dies as a thread, not as the process: runs on it end typed, and later runs are served", async () => {
    const { threads, run, ms } = await start();
    expect(ms).toBeGreaterThan(20);
    // Three runs queued on the one thread; the death comes while the first computes.
    const during = [run(), run(), run()].map(settled);
    await sleep(ms / 3);
    await threads.kill(0);
    // The thread ends at its next turn: a run it had started completes (and is right), one it had
    // not fails typed.
    for (const r of await Promise.all(during)) {
      if ("y" in r) expectRight(r.y);
      else {
        expect(r.e).toBeInstanceOf(EngineError);
        expect((r.e as Error).message).toMatch(/engine thread running this graph died/);
      }
    }
    expect(threads.replaced).toBe(1);
    expectRight((await settled(run()) as { y: Float32Array }).y);
  }, 120_000);

  it("closes without aborting the process while a run computes", async () => {
    const { threads, run, ms } = await start();
    const during = settled(run());
    await sleep(ms / 3);
    await threads.close();
    const r = await during;
    if ("y" in r) expectRight(r.y);
    else expect(r.e).toBeInstanceOf(EngineError);
    // Still here: a second pool starts and serves.
    const again = await start();
    expect(again.ms).toBeGreaterThan(0);
  }, 120_000);
});
