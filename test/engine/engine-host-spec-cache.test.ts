import { afterEach, describe, expect, it } from "vitest";
import { EngineHost, type Requester } from "../../src/bridge/engine-host.js";
import { Engine } from "../../src/engine/engine.js";
import { registerNodeBackends } from "../../src/platform/node/backends.js";
import { Tensor } from "../../src/tensor.js";
import { spec, wBytes } from "./mul-add-graph.js";

registerNodeBackends();
const ortNode = () => Engine.create({ backend: "ort-node" });


function who(owner: string, pkgs = ["p1"]): Requester {
  return { owner, mayUseWeights: (p) => pkgs.includes(p), charge: () => {}, reserve: () => {} };
}

describe("EngineHost spec cache", () => {
  let host: EngineHost | undefined;
  afterEach(async () => host?.close());

  async function run(h: EngineHost, r: Requester, body: Record<string, unknown>) {
    const reply = await h.handle({ kind: "run", json: JSON.stringify(body), buffers: [] }, r);
    return JSON.parse(reply.json) as { storages?: string[]; resend?: boolean };
  }

  function read(h: EngineHost, id: string, _r: Requester) {
    return h.take(id, "float32", 0, [2]).data;
  }

  it("runs a spec by key after it was sent once, per owner only", async () => {
    host = new EngineHost(ortNode, (id) => (id === "p1/w" ? wBytes : undefined));
    const a = who("0:1"), b = who("1:1");
    const xa = host.put(new Tensor("float32", new Float32Array([1, 1]), [2]), a.owner);
    // Unknown key: the host asks for the spec.
    expect(await run(host, a, { key: "k", feeds: { i0: [xa, 0] } })).toEqual({ resend: true });
    const r1 = await run(host, a, { key: "k", spec, feeds: { i0: [xa, 0] } });
    expect(Array.from(read(host, r1.storages![0]!, a))).toEqual([3, 4]);
    expect(host.cachedSpecs).toBe(1);
    const r2 = await run(host, a, { key: "k", feeds: { i0: [xa, 0] } });
    expect(Array.from(read(host, r2.storages![0]!, a))).toEqual([3, 4]);
    // Another interpreter cannot use a's key.
    const xb = host.put(new Tensor("float32", new Float32Array([5, 5]), [2]), b.owner);
    expect(await run(host, b, { key: "k", feeds: { i0: [xb, 0] } })).toEqual({ resend: true });
    // Weight access is checked on cached runs too.
    const noWeights = who("0:1", []);
    await expect(run(host, noWeights, { key: "k", feeds: { i0: [xa, 0] } })).rejects.toThrow(/does not exist/);
    // A dead owner's specs go with it.
    host.releaseOwner(a.owner);
    expect(host.cachedSpecs).toBe(0);
  });

  it("does not cache a spec whose run failed", async () => {
    host = new EngineHost(ortNode, (id) => (id === "p1/w" ? wBytes : undefined));
    const a = who("0:1");
    const bad = { ...spec, nodes: [...spec.nodes, { op: "NoSuchOp", inputs: ["v2"], outputs: ["v3"] }], outputs: [{ name: "v3", dtype: "float32", shape: [2] }] };
    const xa = host.put(new Tensor("float32", new Float32Array([1, 1]), [2]), a.owner);
    await expect(run(host, a, { key: "bad", spec: bad, feeds: { i0: [xa, 0] } })).rejects.toThrow();
    expect(host.cachedSpecs).toBe(0);
    expect(await run(host, a, { key: "bad", feeds: { i0: [xa, 0] } })).toEqual({ resend: true });
  });
});

describe("EngineHost per-tenant shares", () => {
  let host: EngineHost | undefined;
  afterEach(async () => host?.close());

  async function run(h: EngineHost, r: Requester, key: string, n: number) {
    const x = h.put(new Tensor("float32", new Float32Array(n).fill(1), [n]), r.owner);
    const g = {
      inputs: [{ name: "x", dtype: "float32" as const, shape: [n] }],
      weights: [],
      nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
      outputs: [{ name: "y", dtype: "float32" as const, shape: [n] }],
    };
    const reply = await h.handle({ kind: "run", json: JSON.stringify({ key, spec: g, feeds: { x: [x, 0] } }), buffers: [] }, r);
    return { input: x, ...(JSON.parse(reply.json) as { storages: string[] }) };
  }
  const cached = async (h: EngineHost, r: Requester, key: string) =>
    JSON.parse((await h.handle({ kind: "run", json: JSON.stringify({ key, feeds: { x: [h.put(new Tensor("float32", new Float32Array(1), [1]), r.owner), 0] } }), buffers: [] }, r)).json).resend !== true;

  it("a tenant filling its spec share evicts only its own least recently used specs", async () => {
    host = new EngineHost(ortNode, () => undefined, undefined, undefined, undefined, { tenant: { specs: 2, specChars: 1e9, sessions: 100, sessionBytes: 1e12 } });
    const a = { ...who("0:1"), tenant: "A" };
    const b = { ...who("1:1"), tenant: "B" };
    await run(host, b, "b1", 1);
    for (const k of ["a1", "a2", "a3"]) await run(host, a, k, 1);
    expect(host.tenantUsage("A").specs).toBe(2);
    expect(await cached(host, a, "a1")).toBe(false); // evicted: the host asks for the spec again
    expect(await cached(host, b, "b1")).toBe(true); // the other tenant's spec is untouched
  });

  it("tensors an interpreter holds across calls stop at maxHeldBytes, and count again once released", async () => {
    host = new EngineHost(ortNode, () => undefined);
    const a = { ...who("0:1"), maxHeldBytes: 4096 };
    const first = await run(host, a, "k", 256); // 1 KB in, 1 KB out
    expect(host.heldBy(a.owner)).toBe(2048);
    await expect(run(host, a, "k", 512)).rejects.toThrow(/holds 4096 bytes .* asked for 2048 bytes more, over its 4096 bytes limit \(engineMemoryHeldMb\)/);
    host.release([first.input, ...first.storages], a.owner);
    expect(host.heldBy(a.owner)).toBe(2048); // the refused run's input, which its caller still holds
    expect((await run(host, a, "k2", 256)).storages).toHaveLength(1);
  });
});
