// A lone call on an idle pool runs on all cores ("wide"); a busy pool keeps one core per call.
// The engine keeps a graph's wide session beside its 1-thread one; the engine host decides when
// a run goes wide from the pool's load and the runs in flight; engine threads are sent each
// graph once and run wide graphs on thread 0.

import { afterEach, describe, expect, it, vi } from "vitest";
import { InterpreterManager } from "wasmdeploy";
import { EngineHost, type EngineLike, type Requester } from "../../src/bridge/engine-host.js";
import { EngineHost as BuiltEngineHost, MOVE_TO_CALLER_AFTER } from "../../dist/bridge/engine-host.js";
import { Engine } from "../../src/engine/engine.js";
import { structuralKey } from "../../src/engine/structural-key.js";
import { registerNodeBackends } from "../../src/platform/node/backends.js";
// From the build: the engine threads load their worker script next to this module.
import { EngineThreads } from "../../dist/platform/node/engine-threads.js";
import { registerNodeBackends as registerBuiltBackends } from "../../dist/platform/node/backends.js";
import { Tensor as BuiltTensor } from "../../dist/tensor.js";
import { Tensor } from "../../src/tensor.js";
import { spec, wBytes } from "./mul-add-graph.js";

registerNodeBackends();
registerBuiltBackends();

const who: Requester = { owner: "0:1", mayUseWeights: (p) => p === "p1", charge: () => {}, reserve: () => {} };
const x = () => new Tensor("float32", new Float32Array([1, 1]), [2]);

/** A real engine that notes where the host placed each run. */
function noting(engine: EngineLike, seen: string[]): EngineLike {
  const run = engine.run.bind(engine);
  engine.run = (g, f, k, o) => {
    seen.push(o?.wide ? (o.inline ? "wide-inline" : "wide") : o?.inline ? "inline" : "narrow");
    return run(g, f, k, o);
  };
  return engine;
}

describe("wide (all-cores) runs", () => {
  const closing: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((c) => c.close()));
  });

  async function runVia(host: EngineHost) {
    const id = host.put(x(), who.owner);
    const reply = await host.handle({ kind: "run", json: JSON.stringify({ key: "k", spec, feeds: { i0: [id, 0] } }), buffers: [] }, who);
    const out = JSON.parse(reply.json) as { storages: string[] };
    return Array.from(host.take(out.storages[0]!, "float32", 0, [2]).data);
  }

  it("the engine compiles a graph's wide session beside its 1-thread one, with the same results", async () => {
    const engine = await Engine.create({ backend: "ort-node", wideThreads: 2 });
    closing.push(engine);
    engine.registerStorage("p1/w", "float32", wBytes);
    expect(Array.from((await engine.run(spec, { i0: x() }))["v2"]!.data)).toEqual([3, 4]);
    expect(Array.from((await engine.run(spec, { i0: x() }, undefined, { wide: true }))["v2"]!.data)).toEqual([3, 4]);
    expect(Array.from((await engine.run(spec, { i0: x() }, undefined, { wide: true }))["v2"]!.data)).toEqual([3, 4]);
    expect(engine.stats().sessionsCompiled).toBe(2);
  });

  it("has no wide sessions when wideThreads is not above threads", async () => {
    const engine = await Engine.create({ backend: "ort-node" });
    closing.push(engine);
    engine.registerStorage("p1/w", "float32", wBytes);
    await engine.run(spec, { i0: x() });
    await engine.run(spec, { i0: x() }, undefined, { wide: true });
    expect(engine.stats().sessionsCompiled).toBe(1);
  });

  it("the host goes wide only for a lone call: pool load at most 1 and no other run in flight", async () => {
    let load = 1;
    const seen: string[] = [];
    const host = new EngineHost(
      async () => noting(await Engine.create({ backend: "ort-node", wideThreads: 2 }), seen),
      (id) => (id === "p1/w" ? wBytes : undefined),
      () => load,
      0, // no minimum run time: this graph is tiny
      0, // and a busy pool never runs it inline
    );
    closing.push(host);
    // Lone runs: 1 thread first (one compiles, three are timed: what wide has to beat).
    for (let i = 0; i < 4; i++) expect(await runVia(host)).toEqual([3, 4]);
    load = 2;
    expect(await runVia(host)).toEqual([3, 4]);
    load = 1;
    // Two runs at once (e.g. a lone call's runs overlapping another's): the second stays narrow.
    const both = await Promise.all([runVia(host), runVia(host)]);
    expect(both).toEqual([[3, 4], [3, 4]]);
    // The wide run stays on this thread: the graph is under loneInlineMaxMs (no hop for a lone run).
    expect(seen).toEqual(["narrow", "narrow", "narrow", "narrow", "narrow", "wide-inline", "narrow"]);
  });

  it("a lone graph small enough to run inline compares wide and inline on this thread, re-timing the loser in bursts", async () => {
    const seen: string[] = [];
    // Runs made slower by a fixed delay, so that the faster place wins on its merits: wide by
    // 2 ms, inline 1-thread by 8 ms (wide wins), until the test takes inline's delay away. The
    // margins outlast a timer's lateness on a loaded machine (1 against 3 ms did not, once).
    let inlineDelayMs = 8;
    const slowed = (engine: EngineLike): EngineLike => {
      const run = engine.run.bind(engine);
      engine.run = async (g, f, k, o) => {
        const ms = o?.wide ? 2 : o?.inline ? inlineDelayMs : 0;
        if (ms > 0) await new Promise((r) => setTimeout(r, ms));
        return run(g, f, k, o);
      };
      return engine;
    };
    const host = new EngineHost(
      async () => slowed(noting(await Engine.create({ backend: "ort-node", wideThreads: 2 }), seen)),
      (id) => (id === "p1/w" ? wBytes : undefined),
      () => 1,
      0, // no minimum run time for wide runs
      0, // never inline because tiny
      {},
      60_000, // every lone run may run inline
    );
    closing.push(host);
    const burstStarts = (after: string[], place: string) => after.flatMap((p, i) => (p === place && after[i - 1] !== place ? [i] : []));
    for (let i = 0; i < 12; i++) expect(await runVia(host)).toEqual([3, 4]);
    // Timed in turn: 1 thread (to know the graph's size), then wide and 1 thread, both on this thread.
    expect(seen).toEqual([...new Array(4).fill("narrow"), ...new Array(4).fill("wide-inline"), ...new Array(4).fill("inline")]);
    const after = () => seen.slice(12);
    // Until inline has been re-timed nine times (the ninth burst's first run is not timed).
    while (burstStarts(after(), "inline").length < 9) expect(await runVia(host)).toEqual([3, 4]);
    // An engine thread's 1 thread is the same run with a hop: never chosen again.
    expect(new Set(after())).toEqual(new Set(["wide-inline", "inline"]));
    // The place that lost is re-timed in bursts of 4 in a row (one run alone would be cold, and
    // judge it), first at the 8th placement, then half as often each time it loses again, down to
    // once in 512 placements (a burst's later runs are not placements of their own).
    const lost = burstStarts(after(), "inline");
    for (const i of lost.slice(0, 8)) expect(after().slice(i, i + 5)).toEqual(["inline", "inline", "inline", "inline", "wide-inline"]);
    expect(lost[0]).toBe(7);
    expect(lost.slice(1).map((s, k) => s - lost[k]!)).toEqual([19, 35, 67, 131, 259, 515, 515, 515]);
    // Inline is now the faster place: the rest of the ninth burst shows it, and it leads from then on.
    inlineDelayMs = 0;
    while (burstStarts(after(), "wide-inline").length < 12) expect(await runVia(host)).toEqual([3, 4]);
    const later = after().slice(lost[8]!);
    expect(later.slice(0, 5)).toEqual(["inline", "inline", "inline", "inline", "inline"]);
    // With the lead changed hands, wide is re-timed soon (after 8 placements), then half as often.
    const wideBursts = burstStarts(later, "wide-inline");
    expect(wideBursts.slice(0, 2)).toEqual([11, 11 + 19]);
    expect(later.slice(11, 11 + 5)).toEqual(["wide-inline", "wide-inline", "wide-inline", "wide-inline", "inline"]);
  });

  it("a place takes the lead only when it is faster than the leader by more than the margin (5%), not on noise", async () => {
    const seen: string[] = [];
    // Simulated run times, added to the host's clock during each run: 1000 ms wide, inline as
    // the test sets it. Real run times (well under 1 ms here, a few ms on a loaded machine) are
    // noise against them.
    let inlineMs = 1030;
    let offset = 0;
    const realNow = performance.now.bind(performance);
    const clock = vi.spyOn(performance, "now").mockImplementation(() => realNow() + offset);
    try {
      const timed = (engine: EngineLike): EngineLike => {
        const run = engine.run.bind(engine);
        engine.run = async (g, f, k, o) => {
          offset += o?.wide ? 1000 : o?.inline ? inlineMs : 0;
          return run(g, f, k, o);
        };
        return engine;
      };
      const host = new EngineHost(
        async () => timed(noting(await Engine.create({ backend: "ort-node", wideThreads: 2 }), seen)),
        (id) => (id === "p1/w" ? wBytes : undefined),
        () => 1,
        0, // no minimum run time for wide runs
        0, // never inline because tiny
        {},
        600_000, // every lone run may run inline
      );
      closing.push(host);
      // The longest stretch of runs in a row at `place` among `runs`.
      const longest = (runs: string[], place: string) => {
        let best = 0;
        for (let i = 0, n = 0; i < runs.length; i++) best = Math.max(best, (n = runs[i] === place ? n + 1 : 0));
        return best;
      };
      for (let i = 0; i < 40; i++) await runVia(host);
      expect(seen.slice(12).filter((p) => p === "wide-inline").length).toBeGreaterThan(20); // wide leads
      // Inline 3% faster than wide: re-timed in its bursts of 4, but never the leader.
      inlineMs = 970;
      const from = seen.length;
      for (let i = 0; i < 120; i++) await runVia(host);
      const during = seen.slice(from);
      expect(during.filter((p) => p === "inline").length).toBeGreaterThanOrEqual(8); // re-timed at least twice
      expect(longest(during, "inline")).toBeLessThanOrEqual(4);
      // 10% faster: it takes the lead at its next re-timing (the gap has grown to at most 256 runs).
      inlineMs = 900;
      const later = seen.length;
      for (let i = 0; i < 300 && longest(seen.slice(later), "inline") <= 20; i++) await runVia(host);
      expect(longest(seen.slice(later), "inline")).toBeGreaterThan(20);
    } finally {
      clock.mockRestore();
    }
  });

  it("graphs faster than the minimum on 1 thread run inline when alone, not wide", async () => {
    const seen: string[] = [];
    const host = new EngineHost(
      async () => noting(await Engine.create({ backend: "ort-node", wideThreads: 2 }), seen),
      (id) => (id === "p1/w" ? wBytes : undefined),
      () => 1,
      60_000,
    );
    closing.push(host);
    for (let i = 0; i < 6; i++) await runVia(host);
    expect(seen).toEqual(["narrow", "narrow", "narrow", "narrow", "inline", "inline"]);
  });

  it("graphs under inlineMaxMs on 1 thread run inline on a busy pool too; others stay narrow", async () => {
    for (const [inlineMaxMs, then] of [[60_000, "inline"], [0, "narrow"]] as const) {
      const seen: string[] = [];
      const host = new EngineHost(
        async () => noting(await Engine.create({ backend: "ort-node", wideThreads: 2 }), seen),
        (id) => (id === "p1/w" ? wBytes : undefined),
        () => 3, // busy: never lone
        1,
        inlineMaxMs,
      );
      closing.push(host);
      for (let i = 0; i < 6; i++) await runVia(host);
      expect(seen).toEqual(["narrow", "narrow", "narrow", "narrow", then, then]);
    }
  });

  // 16 MB of float32 (zeros) the graph sums and adds: x * w + 1 + 0
  const n = 4 * 2 ** 20;
  const big = new Float32Array(n + 2);
  big.set([2, 3], n);
  const bigSpec = {
    ...spec,
    weights: [{ ...spec.weights[0]!, offset: n }, { name: "w1", storage: "p1/w", dtype: "float32" as const, shape: [n] }],
    nodes: [
      ...spec.nodes.slice(0, 2),
      { op: "ReduceSum", inputs: ["w1"], outputs: ["s"], attrs: { keepdims: 0 } },
      { op: "Add", inputs: ["v0", "s"], outputs: ["v0s"] },
      { op: "Add", inputs: ["v0s", "v1"], outputs: ["v2"] },
    ],
  };
  const bigWeights = (id: string) => (id === "p1/w" ? new Uint8Array(big.buffer) : undefined);
  // EngineHost from src or, with engine threads (which run dist's Engine), from dist with dist's tensors.
  const runBig = async (host: EngineHost | BuiltEngineHost) => {
    const id = host instanceof BuiltEngineHost ? host.put(new BuiltTensor("float32", new Float32Array([1, 1]), [2]), who.owner) : host.put(x(), who.owner);
    const reply = await host.handle({ kind: "run", json: JSON.stringify({ key: "big", spec: bigSpec, feeds: { i0: [id, 0] } }), buffers: [] }, who);
    return Array.from(host.take((JSON.parse(reply.json) as { storages: string[] }).storages[0]!, "float32", 0, [2]).data);
  };

  it("a graph with 16 MB of weights or more always runs on its one wide session, busy or not (one copy of its weights in ONNX Runtime)", async () => {
    const seen: string[] = [];
    let load = 3;
    const host = new EngineHost(async () => noting(await Engine.create({ backend: "ort-node", wideThreads: 2 }), seen), bigWeights, () => load);
    closing.push(host);
    for (let i = 0; i < 3; i++) expect(await runBig(host)).toEqual([3, 4]);
    load = 1;
    for (let i = 0; i < 5; i++) expect(await runBig(host)).toEqual([3, 4]);
    expect(seen).toEqual(new Array(8).fill("wide"));
  });

  it("engine threads: a big graph's one session moves to this thread after a run of lone calls, and back at the first busy one", async () => {
    const seen: string[] = [];
    const threads = new EngineThreads("ort-node", 2, 1, 2);
    let load = 1;
    const host = new BuiltEngineHost(async () => noting(threads as unknown as EngineLike, seen) as never, bigWeights, () => load);
    closing.push(host);
    // The first runs (a compile, then the timed ones) and MOVE_TO_CALLER_AFTER lone ones in a row
    // stay on engine thread 0; the last of them starts the move...
    for (let i = 0; i < 4 + MOVE_TO_CALLER_AFTER; i++) expect(await runBig(host)).toEqual([3, 4]);
    expect(seen).toEqual(new Array(4 + MOVE_TO_CALLER_AFTER).fill("wide"));
    // ...a compile on this thread, while runs go on there; then they run here and the engine
    // thread has dropped its session: one session in the process.
    for (let i = 0; i < 500 && seen.at(-1) !== "wide-inline"; i++) {
      expect(await runBig(host)).toEqual([3, 4]);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(seen.at(-1)).toBe("wide-inline");
    expect(threads.sessionPlaces()).toEqual({ caller: 1, threads: [0] });
    for (let i = 0; i < 3; i++) expect(await runBig(host)).toEqual([3, 4]);
    expect(seen.slice(-3)).toEqual(["wide-inline", "wide-inline", "wide-inline"]);
    // A busy pool: back to engine thread 0 at once, and this thread lets its session go.
    load = 3;
    const before = seen.length;
    for (let i = 0; i < 3; i++) expect(await runBig(host)).toEqual([3, 4]);
    expect(seen.slice(before)).toEqual(["wide", "wide", "wide"]);
    expect(threads.sessionPlaces()).toEqual({ caller: 0, threads: [1] });
    // Lone again: it stays there (a move at most every MOVE_TO_CALLER_GAP_MS).
    load = 1;
    for (let i = 0; i < MOVE_TO_CALLER_AFTER + 4; i++) expect(await runBig(host)).toEqual([3, 4]);
    expect(seen.slice(before)).toEqual(new Array(MOVE_TO_CALLER_AFTER + 7).fill("wide"));
  });

  it("a host that is not told the pool's load never goes wide", async () => {
    const seen: string[] = [];
    const host = new EngineHost(async () => noting(await Engine.create({ backend: "ort-node", wideThreads: 2 }), seen), (id) => (id === "p1/w" ? wBytes : undefined), undefined, 0, 0);
    closing.push(host);
    for (let i = 0; i < 3; i++) await runVia(host);
    expect(seen).toEqual(["narrow", "narrow", "narrow"]);
  });

  it("engine threads: a graph is sent once per thread; wide, narrow and inline agree; a replaced thread is sent it again", async () => {
    const threads = new EngineThreads("ort-node", 2, 1, 2);
    closing.push(threads);
    threads.registerStorage("p1/w", "float32", wBytes);
    const key = structuralKey(spec);
    const feed = new Float32Array([5, 6, 1, 1]).subarray(2); // a view inside a larger buffer
    const run = (wide: boolean, inline = false) => threads.run(spec, { i0: new BuiltTensor("float32", feed, [2]) }, key, { wide, inline });
    for (const wide of [false, true, false, true, false]) expect(Array.from((await run(wide))["v2"]!.data)).toEqual([3, 4]);
    expect(Array.from((await run(false, true))["v2"]!.data)).toEqual([3, 4]);
    // Wide on this thread: a wide session compiled here, not on thread 0.
    expect(Array.from((await run(true, true))["v2"]!.data)).toEqual([3, 4]);
    // A released weight is gone for inline runs too.
    threads.releaseStorage("p1/w");
    await expect(run(false, true)).rejects.toThrow(/not registered/);
    threads.registerStorage("p1/w", "float32", wBytes);
    // The feed was copied for the thread, not moved away from its owner.
    expect(Array.from(feed)).toEqual([1, 1]);
    await threads.kill(0);
    await new Promise((r) => setTimeout(r, 50));
    for (const wide of [true, false, false]) expect(Array.from((await run(wide))["v2"]!.data)).toEqual([3, 4]);
  });

  it("engine threads start as runs overlap: one while they never do, up to the count", async () => {
    const threads = new EngineThreads("ort-node", 3, 1, 2);
    closing.push(threads);
    threads.registerStorage("p1/w", "float32", wBytes);
    const key = structuralKey(spec);
    const run = () => threads.run(spec, { i0: new BuiltTensor("float32", new Float32Array([1, 1]), [2]) }, key);
    for (let i = 0; i < 4; i++) expect(Array.from((await run())["v2"]!.data)).toEqual([3, 4]);
    expect(threads.started).toBe(1);
    // Two at once: the second finds thread 0 busy and starts thread 1; then at most 3.
    for (const y of await Promise.all([run(), run()])) expect(Array.from(y["v2"]!.data)).toEqual([3, 4]);
    expect(threads.started).toBe(2);
    for (const y of await Promise.all(Array.from({ length: 8 }, run))) expect(Array.from(y["v2"]!.data)).toEqual([3, 4]);
    expect(threads.started).toBe(3);
    expect(threads.size).toBe(3);
  });

  it("rejects a loneCallThreads that is not a positive integer before booting anything", async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await expect(InterpreterManager.create({ interpreters: 1, loneCallThreads: bad })).rejects.toThrow(/loneCallThreads must be a positive integer/);
    }
  });
});
