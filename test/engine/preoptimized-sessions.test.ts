// Sessions that bake 4 MB of weights or more hold them once: ONNX Runtime optimizes the graph in
// a child process and saves it in its own format, and the session is made from that
// (src/platform/node/ort-node.ts). The results must be PyTorch's; a session that cannot be made
// that way is made the ordinary way, with the same results.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import type { GraphSpec } from "../../src/engine/graph.js";
import { structuralKey } from "../../src/engine/structural-key.js";
import { registerNodeBackends } from "../../src/platform/node/backends.js";
import { Tensor } from "../../src/tensor.js";
import { ROOT } from "../helpers.js";

registerNodeBackends();

const PYTHON = "/usr/bin/python3";
// relu(x @ W + b) for a Linear(1024, 1536): 6 MB of weights, made and computed by PyTorch.
const MAKE = `
import sys, numpy as np, torch
torch.manual_seed(0)
lin = torch.nn.Linear(1024, 1536)
x = torch.randn(4, 1024)
with torch.no_grad():
    y = torch.relu(lin(x))
out = sys.argv[1]
np.save(out + "/w.npy", lin.weight.detach().numpy().T.copy())
np.save(out + "/b.npy", lin.bias.detach().numpy())
np.save(out + "/x.npy", x.numpy())
np.save(out + "/y.npy", y.numpy())
`;

const graph: GraphSpec = {
  inputs: [{ name: "x", dtype: "float32", shape: [4, 1024] }],
  weights: [
    { name: "w", storage: "p1/w", dtype: "float32", shape: [1024, 1536] },
    { name: "b", storage: "p1/b", dtype: "float32", shape: [1536] },
  ],
  nodes: [
    { op: "MatMul", inputs: ["x", "w"], outputs: ["v0"] },
    { op: "Add", inputs: ["v0", "b"], outputs: ["v1"] },
    { op: "Relu", inputs: ["v1"], outputs: ["y"] },
  ],
  outputs: [{ name: "y", dtype: "float32", shape: [4, 1536] }],
};

describe.runIf(spawnSync(PYTHON, ["-c", "import torch"]).status === 0)("sessions made from a graph optimized apart", () => {
  let dir: string;
  let npy: (name: string) => Tensor;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-preoptimized-"));
    execFileSync(PYTHON, ["-c", MAKE, dir], { stdio: "pipe" });
    npy = (name) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(dir, `${name}.npy`))));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function engineWithWeights(): Promise<Engine> {
    const engine = await Engine.create({ backend: "ort-node", wideThreads: 2 });
    engine.registerStorage("p1/w", "float32", npy("w").data);
    engine.registerStorage("p1/b", "float32", npy("b").data);
    return engine;
  }

  function expectPyTorch(out: Record<string, Tensor>) {
    const got = out["y"]!.data as Float32Array;
    const want = npy("y").data as Float32Array;
    expect(got.length).toBe(want.length);
    let maxWant = 0;
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) {
      maxWant = Math.max(maxWant, Math.abs(want[i]!));
      maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
    }
    expect(maxWant).toBeGreaterThan(0.5); // an informative output, not all zeros
    expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, maxWant));
  }

  it("makes each session (1-thread and wide) from its graph optimized apart, with PyTorch's results, again after it is evicted", async () => {
    const engine = await engineWithWeights();
    try {
      expectPyTorch(await engine.run(graph, { x: npy("x") }));
      expect(engine.stats().preoptimizedSessions).toBe(1);
      expectPyTorch(await engine.run(graph, { x: npy("x") }, undefined, { wide: true }));
      expect(engine.stats().preoptimizedSessions).toBe(2);
      for (let i = 0; i < 3; i++) expectPyTorch(await engine.run(graph, { x: npy("x") }));
      engine.forget(structuralKey(graph));
      // The evicted sessions are released once their runs finish: nothing holds them now.
      await new Promise((r) => setTimeout(r, 10));
      expect(engine.stats().preoptimizedSessions).toBe(0);
      expectPyTorch(await engine.run(graph, { x: npy("x") }));
      expect(engine.stats().preoptimizedSessions).toBe(1);
    } finally {
      await engine.close();
    }
  });

  it("keeps this thread free while the child optimizes (an inline compile must not stall the host's other calls)", async () => {
    const engine = await engineWithWeights();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    try {
      const t = performance.now();
      expectPyTorch(await engine.run(graph, { x: npy("x") }));
      const ms = performance.now() - t;
      expect(engine.stats().preoptimizedSessions).toBe(1);
      // The child takes most of the compile (Node and ONNX Runtime start there): the timer fired
      // through it, at least a third as often as it would on an idle thread.
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(ms / 5 / 3));
      expect(ticks).toBeGreaterThanOrEqual(5);
    } finally {
      clearInterval(ticker);
      await engine.close();
    }
  });

  it("makes an ordinary session, with the same results, when the optimized model cannot be written", async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = path.join(dir, "no-such-directory");
    const engine = await engineWithWeights();
    try {
      expectPyTorch(await engine.run(graph, { x: npy("x") }));
      expect(engine.stats().preoptimizedSessions).toBe(0);
      expect(engine.stats().sessionsCompiled).toBe(1);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await engine.close();
    }
  });

  it("leaves no file behind", async () => {
    const before = readdirTmp();
    const engine = await engineWithWeights();
    try {
      expectPyTorch(await engine.run(graph, { x: npy("x") }));
      expect(engine.stats().preoptimizedSessions).toBe(1);
    } finally {
      await engine.close();
    }
    expect(readdirTmp()).toStrictEqual(before);
  });
});

// A graph whose constant folding faults natively: ONNX Runtime 1.30's int64 Div traps in x86's
// idiv on INT64_MIN / -1 (SIGFPE), and its optimizer runs that kernel to fold the constants.
// Admission rewrites every integer Div so the engine never sends this; the backend is driven
// directly here, as if something got past admission. Done in this process, the compile would end
// it; the child it crashes in must be the only casualty, and the graph refused. In a child of the
// test, so a regression kills that, not the suite.
describe("a graph that crashes ONNX Runtime's optimizer", () => {
  it("is refused with a GraphRefusedError naming the signal; the process lives and keeps compiling", () => {
    const dist = (p: string) => JSON.stringify(pathToFileURL(path.join(ROOT, "dist", p)).href);
    const script = `
      import { loadBackend } from ${dist("engine/backend.js")};
      import { buildModel } from ${dist("engine/onnx-builder.js")};
      import { registerNodeBackends } from ${dist("platform/node/backends.js")};
      registerNodeBackends();
      const backend = await loadBackend("ort-node", {});
      const graph = (a, b) => ({
        inputs: [{ name: "x", dtype: "int64", shape: [1] }],
        weights: [],
        nodes: [
          { op: "Constant", inputs: [], outputs: ["a"], attrs: { value: { tensor: { dtype: "int64", shape: [2], data: [a, 7n] } } } },
          { op: "Constant", inputs: [], outputs: ["b"], attrs: { value: { tensor: { dtype: "int64", shape: [], data: [b] } } } },
          { op: "Div", inputs: ["a", "b"], outputs: ["c"] },
          { op: "Add", inputs: ["c", "x"], outputs: ["y"] },
        ],
        outputs: [{ name: "y", dtype: "int64", shape: [2] }],
      });
      const bytes = (g) => buildModel(g, { weights: "initializers", locate: () => { throw new Error("no weights"); } }).bytes;
      const out = {};
      try {
        await backend.createSession(bytes(graph(-9223372036854775808n, -1n)), { preoptimize: true });
        out.crashing = "made";
      } catch (e) {
        out.crashing = { name: e.name, message: e.message };
      }
      // The same process still compiles and runs: (-9 / 2) + 1 and (7 / 2) + 1, truncated.
      const s = await backend.createSession(bytes(graph(-9n, 2n)), { preoptimize: true });
      out.preoptimized = s.preoptimized === true;
      const { Tensor } = await import(${dist("tensor.js")});
      const r = await s.run({ x: new Tensor("int64", new BigInt64Array([1n]), [1]) }, ["y"]);
      out.sane = Array.from(r.y.data, String);
      console.log(JSON.stringify(out));
    `;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(run.signal, `the process died (${run.signal}): the graph was compiled in it; stderr: ${run.stderr.slice(-1500)}`).toBeNull();
    expect(run.status, run.stderr.slice(-1500)).toBe(0);
    const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { crashing: { name: string; message: string } | string; preoptimized: boolean; sane: string[] };
    expect(out.crashing).toMatchObject({ name: "GraphRefusedError", message: expect.stringMatching(/ONNX Runtime crashed \(SIGFPE\) optimizing this graph in a child process; it was not compiled in the host/) });
    expect(out.preoptimized).toBe(true);
    expect(out.sane).toStrictEqual(["-3", "4"]);
  });
});

function readdirTmp(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith("wasmdeploy-ort-")).sort();
}
