import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { registerNodeBackends } from "../../src/platform/node/backends.js";

registerNodeBackends();
import { EngineError } from "../../src/engine/errors.js";
import type { GraphSpec } from "../../src/engine/graph.js";
import { ClosedError } from "../../src/errors.js";
import { structuralKey } from "../../src/engine/structural-key.js";
import { Tensor } from "../../src/tensor.js";
import { assertClose, expected, GRAPHS, toTensor } from "./cases.js";

/** y = x * 2 + 1 on float32 [n]. */
function affine(n: number): GraphSpec {
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

/** y = x @ W, W [4,4] read from `storage` at `offset`. */
function linear(storage: string, offset = 0): GraphSpec {
  return {
    inputs: [{ name: "x", dtype: "float32", shape: [1, 4] }],
    weights: [{ name: "W", storage, dtype: "float32", shape: [4, 4], offset }],
    nodes: [{ op: "MatMul", inputs: ["x", "W"], outputs: ["y"] }],
    outputs: [{ name: "y", dtype: "float32", shape: [1, 4] }],
  };
}

const vec = (...v: number[]) => Tensor.from("float32", v);
const identity4 = () => Float32Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0));

const engines: Engine[] = [];
async function engine(opts: Parameters<typeof Engine.create>[0] = {}): Promise<Engine> {
  const e = await Engine.create(opts);
  engines.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

describe("session cache", () => {
  it("compiles the same structure once", async () => {
    const e = await engine();
    const a = await e.run(affine(3), { x: vec(1, 2, 3) });
    const b = await e.run(affine(3), { x: vec(0, -1, 5) }); // a fresh but identical GraphSpec
    expect([...a.y!.data]).toEqual([3, 5, 7]);
    expect([...b.y!.data]).toEqual([1, -1, 11]);
    expect(e.stats()).toMatchObject({ sessionsCompiled: 1, cacheMisses: 1, cacheHits: 1, evictions: 0 });
  });

  it("compiles different shapes separately", async () => {
    const e = await engine();
    await e.run(affine(3), { x: vec(1, 2, 3) });
    await e.run(affine(2), { x: vec(1, 2) });
    expect(e.stats()).toMatchObject({ sessionsCompiled: 2, cacheMisses: 2, cacheHits: 0 });
  });

  it("evicts the least recently used session at capacity", async () => {
    const e = await engine({ cacheEntries: 2 });
    await e.run(affine(1), { x: vec(1) });
    await e.run(affine(2), { x: vec(1, 2) });
    await e.run(affine(1), { x: vec(1) }); // hit: 1 becomes most recent
    await e.run(affine(3), { x: vec(1, 2, 3) }); // evicts 2
    expect(e.stats()).toMatchObject({ sessionsCompiled: 3, cacheHits: 1, evictions: 1, sessionsCached: 2 });
    await e.run(affine(1), { x: vec(1) }); // still cached
    expect(e.stats()).toMatchObject({ sessionsCompiled: 3, cacheHits: 2 });
    const y = await e.run(affine(2), { x: vec(4, 5) }); // recompiled
    expect([...y.y!.data]).toEqual([9, 11]);
    expect(e.stats()).toMatchObject({ sessionsCompiled: 4, evictions: 2 });
  });

  it("compiles once when first runs of a new structure overlap", async () => {
    const e = await engine();
    const outs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((v) => e.run(affine(2), { x: vec(v, -v) })));
    expect(outs.map((o) => o.y!.data[0])).toEqual([3, 5, 7, 9, 11, 13, 15, 17]);
    expect(e.stats()).toMatchObject({ sessionsCompiled: 1, cacheMisses: 1, cacheHits: 7 });
  });

  it("does not release a session under a run in flight", async () => {
    const e = await engine({ cacheEntries: 1 });
    const runs = [];
    for (let n = 1; n <= 6; n++) runs.push(e.run(affine(n), { x: Tensor.from("float32", new Array(n).fill(1)) }));
    const outs = await Promise.all(runs);
    expect(outs.every((o) => o.y!.data.every((v) => v === 3))).toBe(true);
    expect(e.stats()).toMatchObject({ sessionsCompiled: 6, evictions: 5, sessionsCached: 1 });
  });

  it("forgets a failed compile so a later run retries", async () => {
    const e = await engine();
    await expect(e.run(linear("late"), { x: vec(1, 2, 3, 4).reshape([1, 4]) })).rejects.toThrow(/storage "late".*not registered/);
    e.registerStorage("late", "float32", identity4());
    const y = await e.run(linear("late"), { x: vec(1, 2, 3, 4).reshape([1, 4]) });
    expect([...y.y!.data]).toEqual([1, 2, 3, 4]);
    expect(e.stats()).toMatchObject({ sessionsCompiled: 1, cacheMisses: 2 });
  });
});

describe("weight storages", () => {
  it("keeps one copy of a storage registered twice, shared by graphs reading it", async () => {
    const e = await engine();
    const w = new Float32Array(32);
    w.set(identity4(), 0);
    w.set(identity4().map((v) => v * 3), 16);
    e.registerStorage("shared", "float32", w);
    e.registerStorage("shared", "float32", new Float32Array(32)); // a second interpreter loading the same package
    expect(e.stats()).toMatchObject({ storages: 1, storageBytes: 128 });
    const x = { x: vec(1, 2, 3, 4).reshape([1, 4]) };
    const a = await e.run(linear("shared", 0), x);
    const b = await e.run(linear("shared", 16), x);
    expect([...a.y!.data]).toEqual([1, 2, 3, 4]);
    expect([...b.y!.data]).toEqual([3, 6, 9, 12]);
    expect(e.stats().sessionsCompiled).toBe(2);
  });

  it("refuses to re-register an id with a different dtype or size", async () => {
    const e = await engine();
    e.registerStorage("s", "float32", new Float32Array(4));
    expect(() => e.registerStorage("s", "float32", new Float32Array(5))).toThrow(EngineError);
    expect(() => e.registerStorage("s", "int32", new Int32Array(4))).toThrow(/already registered as float32/);
  });

  it("accepts raw bytes and checks the typed array against the dtype", async () => {
    const e = await engine();
    e.registerStorage("raw", "float32", new Uint8Array(identity4().buffer));
    expect(() => e.registerStorage("bad", "float32", new Float64Array(2))).toThrow(/float32 storage takes a Float32Array or raw bytes/);
    expect(() => e.registerStorage("odd", "float32", new Uint8Array(6))).toThrow(RangeError);
    const y = await e.run(linear("raw"), { x: vec(5, 6, 7, 8).reshape([1, 4]) });
    expect([...y.y!.data]).toEqual([5, 6, 7, 8]);
  });

  it("copies a view into a larger buffer (it may be a wasm heap or a whole archive)", async () => {
    const e = await engine({ weights: "inputs" }); // inputs: the session reads the storage on every run
    const big = new Float32Array(32);
    big.set(identity4(), 16);
    e.registerStorage("view", "float32", big.subarray(16));
    big.fill(0);
    const y = await e.run(linear("view"), { x: vec(1, 2, 3, 4).reshape([1, 4]) });
    expect([...y.y!.data]).toEqual([1, 2, 3, 4]);
  });

  it("releasing a storage evicts the sessions that read it", async () => {
    const e = await engine();
    e.registerStorage("w", "float32", identity4());
    await e.run(linear("w"), { x: vec(1, 1, 1, 1).reshape([1, 4]) });
    await e.run(affine(2), { x: vec(1, 2) });
    e.releaseStorage("w");
    expect(e.hasStorage("w")).toBe(false);
    expect(e.stats()).toMatchObject({ storages: 0, storageBytes: 0, evictions: 1, sessionsCached: 1 });
    // Re-registered with other values, the graph must not reuse the old baked-in weights.
    e.registerStorage("w", "float32", identity4().map((v) => v * 2));
    const y = await e.run(linear("w"), { x: vec(1, 1, 1, 1).reshape([1, 4]) });
    expect([...y.y!.data]).toEqual([2, 2, 2, 2]);
  });

  it("a storage's bytes dropped after baking: the session serves on, a new compile needs them again, and a release still evicts", async () => {
    const e = await engine();
    e.registerStorage("w", "float32", identity4().map((v) => v * 3));
    const x = { x: vec(1, 2, 3, 4).reshape([1, 4]) };
    expect(e.missingStorages(linear("w"), structuralKey(linear("w")))).toEqual([]);
    await e.run(linear("w"), x);
    expect(e.sessionBakesAll(structuralKey(linear("w")))).toBe(true);
    e.dropStorageBytes("w");
    expect(e.stats()).toMatchObject({ storages: 0, storageBytes: 0, sessionsCached: 1 });
    expect([...(await e.run(linear("w"), x)).y!.data]).toEqual([3, 6, 9, 12]);
    // Another graph over it cannot compile until the bytes are back.
    const batch2 = linear("w");
    batch2.inputs[0]!.shape = [2, 4];
    batch2.outputs[0]!.shape = [2, 4];
    expect(e.missingStorages(batch2, structuralKey(batch2))).toEqual(["w"]);
    await expect(e.run(batch2, { x: vec(1, 2, 3, 4, 1, 1, 1, 1).reshape([2, 4]) })).rejects.toThrow(/storage "w", which is not registered/);
    // Released (a package unloaded) with its bytes gone: its sessions go all the same.
    e.releaseStorage("w");
    expect(e.stats()).toMatchObject({ sessionsCached: 0 });
  });

  it("rejects a weight that reads past the end of its storage", async () => {
    const e = await engine();
    e.registerStorage("small", "float32", new Float32Array(20));
    await expect(e.run(linear("small", 8), { x: vec(1, 1, 1, 1).reshape([1, 4]) })).rejects.toThrow(
      /weight "W" .* needs bytes 32\.\.96 of storage "small", which has 80/,
    );
  });

  it("auto policy bakes weights until the budget, then feeds them as inputs", async () => {
    const e = await engine({ initializerBudgetBytes: 100 }); // one 64-byte [4,4] weight fits, two do not
    e.registerStorage("a", "float32", identity4());
    e.registerStorage("b", "float32", identity4().map((v) => v * 2));
    const x = { x: vec(1, 2, 3, 4).reshape([1, 4]) };
    expect([...(await e.run(linear("a"), x)).y!.data]).toEqual([1, 2, 3, 4]);
    expect(e.stats().bakedWeightBytes).toBe(64);
    expect([...(await e.run(linear("b"), x)).y!.data]).toEqual([2, 4, 6, 8]);
    expect(e.stats().bakedWeightBytes).toBe(64);
    e.releaseStorage("a");
    await new Promise((r) => setTimeout(r, 10)); // release of the evicted session is asynchronous
    expect(e.stats().bakedWeightBytes).toBe(0);
  });
});

describe("validation and errors", () => {
  it("names the input, the expected and the given dtype/shape", async () => {
    const e = await engine();
    await expect(e.run(affine(3), { x: vec(1, 2) })).rejects.toThrow('feed "x": expected float32 [3], given float32 [2]');
    await expect(e.run(affine(2), { x: Tensor.from("float64", [1, 2]) })).rejects.toThrow('feed "x": expected float32 [2], given float64 [2]');
    await expect(e.run(affine(2), {})).rejects.toThrow('missing feed for input "x" (expected float32 [2])');
    await expect(e.run(affine(2), { x: vec(1, 2), z: vec(1) })).rejects.toThrow('unknown feed "z"; the graph\'s inputs are "x"');
    const notTensor = { dtype: "float32", shape: [2], data: new Float32Array(2) } as unknown as Tensor;
    await expect(e.run(affine(2), { x: notTensor })).rejects.toThrow('feed "x" is not a Tensor');
    expect(e.stats().cacheMisses).toBe(0);
  });

  it("wraps an ONNX Runtime compile error in an EngineError naming the op", async () => {
    const e = await engine();
    const g: GraphSpec = {
      inputs: [
        { name: "a", dtype: "float32", shape: [2, 3] },
        { name: "b", dtype: "float32", shape: [2, 3] },
      ],
      weights: [],
      nodes: [
        { op: "Relu", inputs: ["a"], outputs: ["r"] },
        { op: "MatMul", inputs: ["r", "b"], outputs: ["y"] },
      ],
      outputs: [{ name: "y", dtype: "float32", shape: [2, 3] }],
    };
    const err = await e.run(g, { a: Tensor.from("float32", [1, 2, 3, 4, 5, 6], [2, 3]), b: Tensor.from("float32", [1, 2, 3, 4, 5, 6], [2, 3]) }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).name).toBe("EngineError");
    expect((err as EngineError).op).toBe("MatMul");
    expect((err as EngineError).nodeIndex).toBe(1);
    expect((err as Error).message).toMatch(/^ONNX Runtime failed compiling the graph at node 1 \(MatMul: r, b -> y\)/);
  });

  it("wraps an ONNX Runtime run error in an EngineError naming the op", async () => {
    for (const backend of ["ort-node", "ort-web"] as const) {
      const e = await engine({ backend });
      const c = expected.cases.embedding!;
      e.registerStorage("emb.weight", "float32", toTensor(c.storages["emb.weight"]!).data);
      const g = GRAPHS.embedding!(c);
      const ok = await e.run(g, { idx: toTensor(c.inputs.idx!) });
      assertClose(ok.y!, c.outputs.y!, "embedding");
      const bad = Tensor.from("int64", [0n, 1n, 2n, 3n, 4n, 99n], [2, 3]); // 99 is out of range of the 10-row table
      const err = await e.run(g, { idx: bad }).catch((x: unknown) => x);
      expect(err, backend).toBeInstanceOf(EngineError);
      expect((err as EngineError).op, backend).toBe("Gather");
      expect((err as Error).message, backend).toMatch(/failed running the graph at node 0 \(Gather/);
    }
  });

  it("rejects unknown ops with an EngineError naming them", async () => {
    for (const backend of ["ort-node", "ort-web"] as const) {
      const e = await engine({ backend });
      const g = affine(2);
      g.nodes[2] = { op: "Frobnicate", inputs: ["x", "two"], outputs: ["t"] };
      const err = await e.run(g, { x: vec(1, 2) }).catch((x: unknown) => x);
      expect(err, backend).toBeInstanceOf(EngineError);
      expect((err as EngineError).op, backend).toBe("Frobnicate");
      expect((err as EngineError).nodeIndex, backend).toBe(2);
    }
  });

  it("rejects a float given as an INT attribute, naming node and attribute", async () => {
    const e = await engine();
    const g = affine(2);
    g.nodes[2]!.attrs = { bogus: 0.5 };
    await expect(e.run(g, { x: vec(1, 2) })).rejects.toThrow('node 2 (Mul) attribute "bogus": 0.5 is not an integer; mark float attributes as { float: 0.5 }');
  });

  it("checks results against the declared output shapes", async () => {
    const e = await engine();
    const g = affine(2);
    g.outputs[0]!.shape = [1, 2];
    await expect(e.run(g, { x: vec(1, 2) })).rejects.toThrow('graph output "y" is declared float32 [1, 2] but ONNX Runtime produced float32 [2]');
  });

  it("refuses use after close", async () => {
    const e = await Engine.create();
    await e.run(affine(2), { x: vec(1, 2) });
    await e.close();
    await expect(e.run(affine(2), { x: vec(1, 2) })).rejects.toThrow(ClosedError);
    expect(() => e.registerStorage("x", "float32", new Float32Array(1))).toThrow(ClosedError);
  });
});

describe("backends", () => {
  it("ort-web gives the same results as ort-node with com.microsoft ops", async () => {
    const g: GraphSpec = {
      inputs: [{ name: "x", dtype: "float32", shape: [2, 3] }],
      weights: [],
      nodes: [{ op: "Gelu", domain: "com.microsoft", inputs: ["x"], outputs: ["y"] }],
      outputs: [{ name: "y", dtype: "float32", shape: [2, 3] }],
    };
    const x = Tensor.from("float32", [-2, -1, 0, 0.5, 1, 3], [2, 3]);
    const [a, b] = await Promise.all([(await engine({ backend: "ort-node" })).run(g, { x }), (await engine({ backend: "ort-web" })).run(g, { x })]);
    // torch.nn.functional.gelu (erf form) of the same values
    const torchGelu = [-0.045500099658966064, -0.1586552858352661, 0.0, 0.3457311987876892, 0.8413447141647339, 2.995950222015381];
    assertClose(a.y!, { dtype: "float32", shape: [2, 3], data: torchGelu }, "ort-node gelu");
    assertClose(b.y!, { dtype: "float32", shape: [2, 3], data: torchGelu }, "ort-web gelu");
  });
});
