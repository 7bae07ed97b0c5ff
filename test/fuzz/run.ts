// One fuzzing process: random graphs and malformed requests (generate.ts) sent to a real engine
// host over real ONNX Runtime (ort-node), as an interpreter's bridge requests would arrive,
// interleaved with a neighbour tenant's graph whose answer is known exactly. A native fault
// ends this process, which is the point: the parent (the test, or bench/fuzz.ts) counts that as
// a host death. Prints one JSON report line at the end.
//
//   node --import tsx test/fuzz/run.ts --seed 1 --count 500 [--engine inline|threads|lone|lone-wide]
// It drives dist/ (npm run build first), so engine threads find their worker script.

import { parseArgs } from "node:util";
import { EngineHost, type Requester } from "../../dist/bridge/engine-host.js";
import { Engine } from "../../dist/engine/engine.js";
import { EngineError } from "../../dist/engine/errors.js";
import { GraphRefusedError, EngineMemoryError } from "../../dist/engine/errors.js";
import type { DType } from "../../src/engine/graph.js";
import { WasmdeployError } from "../../dist/errors.js";
import { registerNodeBackends } from "../../dist/platform/node/backends.js";
import { EngineThreads } from "../../dist/platform/node/engine-threads.js";
import { Tensor } from "../../dist/tensor.js";
import { spec as neighbourSpec, wBytes } from "../engine/mul-add-graph.js";
import { mangleRequest, randomGraph, rng } from "./generate.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    count: { type: "string", default: "200" },
    "max-nodes": { type: "string", default: "6" },
    /** Only these ops (comma-separated), e.g. to probe one op. */
    ops: { type: "string" },
    /** Probability that a graph input has an empty dimension. */
    empty: { type: "string", default: "0.15" },
    /** Generate every case but send only case N (to reproduce one). */
    only: { type: "string" },
    /**
     * "inline": one Engine on this thread. "threads": engine threads as a default Node manager
     * runs them (2 threads of 1, wide runs on 2, small graphs inline), so feeds are staged,
     * copied and sent as in production. "lone": the same with every run a lone call (pool
     * load 0), each graph run REPEATS times so it runs 1-thread, wide and inline, and every run
     * must end as its first did (report.placement). Small graphs' wide runs are inline too (on
     * a wide session on this thread); "lone-wide" forbids inline lone runs, so they go to the
     * wide session on engine thread 0.
     */
    engine: { type: "string", default: "inline" },
  },
});
const seed = Number(values.seed);
const count = Number(values.count);
const r = rng(seed);
registerNodeBackends();

const BUDGET = 64 * 2 ** 20;
function tenant(owner: string, pkgs: string[]): Requester & { used: number } {
  const who = {
    owner,
    tenant: owner,
    used: 0,
    maxHeldBytes: 256 * 2 ** 20,
    mayUseWeights: (p: string) => pkgs.includes(p),
    reserve(bytes: number) {
      if (who.used + bytes > BUDGET) throw new EngineMemoryError(`fuzz budget: ${bytes} bytes more than the ${BUDGET} left`);
    },
    charge(bytes: number) {
      who.reserve(bytes);
      who.used += bytes;
    },
  };
  return who;
}

const weightsOf = (id: string) => (id === "p1/w" ? wBytes : undefined);
/** Runs by place (engine threads only): the lone fuzzer must reach every place. */
const places = { narrow: 0, wide: 0, inline: 0, wideInline: 0 };
function countingPlaces(threads: EngineThreads): EngineThreads {
  const run = threads.run.bind(threads);
  threads.run = (graph, feeds, key, mode) => {
    places[mode?.inline ? (mode.wide ? "wideInline" : "inline") : mode?.wide ? "wide" : "narrow"]++;
    return run(graph, feeds, key, mode);
  };
  return threads;
}
const host =
  values.engine === "inline"
    ? new EngineHost(() => Engine.create({ backend: "ort-node" }), weightsOf)
    : values.engine === "threads" || values.engine === "lone"
      ? new EngineHost(async () => countingPlaces(new EngineThreads("ort-node", 2, 1, 2)), weightsOf, ...(values.engine === "lone" ? ([() => 0, 0] as const) : ([() => Infinity] as const)))
      : values.engine === "lone-wide"
        ? new EngineHost(async () => countingPlaces(new EngineThreads("ort-node", 2, 1, 2)), weightsOf, () => 0, 0, undefined, {}, 0)
      : (() => {
          throw new RangeError(`--engine must be inline, threads, lone or lone-wide, got ${JSON.stringify(values.engine)}`);
        })();
const attacker = tenant("attacker:1", []);
const neighbour = tenant("neighbour:1", ["p1"]);

const report = { seed, graphs: 0, requests: 0, ok: 0, refused: 0, memory: 0, engine: 0, otherTyped: 0, untyped: [] as string[], inference: [] as string[], neighbour: [] as string[], placement: [] as string[] };

/**
 * Lone runs: each graph runs this often, so that it runs at every place a lone run can take
 * (SAMPLES + 1 = 4 timed runs each: 1 thread, wide, then inline; wideMinMs is 0 so even tiny
 * graphs go wide), and every run must end as the first did.
 */
const REPEATS = values.engine === "lone" || values.engine === "lone-wide" ? 12 : 1;

/** How a run ended, for comparing the runs of one graph at different places. */
type Outcome = { ok: true; outputs: { dtype: string; shape: number[]; values: (number | bigint)[] }[] } | { ok: false; error: unknown };

/** Whether two runs of one graph agree: the same error class, or outputs equal (floats within 1e-4 relative: wide runs may sum in another order). */
function sameOutcome(a: Outcome, b: Outcome): string | undefined {
  if (!a.ok || !b.ok) {
    const name = (o: Outcome) => (o.ok ? "ok" : o.error instanceof Error ? o.error.name : "non-Error");
    return name(a) === name(b) ? undefined : `${name(a)} then ${name(b)}${b.ok ? "" : `: ${String((b.error as Error).message).slice(0, 200)}`}`;
  }
  for (const [k, x] of a.outputs.entries()) {
    const y = b.outputs[k]!;
    if (x.dtype !== y.dtype || x.shape.join() !== y.shape.join()) return `output ${k}: ${x.dtype}[${x.shape}] then ${y.dtype}[${y.shape}]`;
    const [xs, ys] = [x.values, y.values];
    for (let j = 0; j < xs.length; j++) {
      const [u, v] = [xs[j]!, ys[j]!];
      if (u === v || (typeof u === "number" && typeof v === "number" && ((Number.isNaN(u) && Number.isNaN(v)) || Math.abs(u - v) <= 1e-4 * Math.max(1, Math.abs(u), Math.abs(v))))) continue;
      return `output ${k}[${j}]: ${u} then ${v}`;
    }
  }
  return undefined;
}

function typed(DT: DType, data: (number | bigint | boolean)[], shape: number[]): Tensor {
  if (DT === "bool") return Tensor.from("bool", data.map(Boolean), shape);
  if (DT === "float16") return Tensor.from("float16", data.map(Number), shape);
  return Tensor.from(DT, data as never, shape);
}

function classify(e: unknown, what: string): void {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof EngineError && /is declared .* but ONNX Runtime produced/.test(message)) report.inference.push(`${what}: ${message.slice(0, 300)}`);
  else if (e instanceof GraphRefusedError) report.refused++;
  else if (e instanceof EngineMemoryError) report.memory++;
  else if (e instanceof EngineError) report.engine++;
  else if (e instanceof WasmdeployError) report.otherTyped++;
  else if (report.untyped.length < 20) report.untyped.push(`${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`.slice(0, 400));
  else report.untyped.push("...");
}

async function checkNeighbour(i: number) {
  const x = host.put(new Tensor("float32", new Float32Array([1, 1]), [2]), neighbour.owner);
  try {
    const reply = await host.handle({ kind: "run", json: JSON.stringify({ key: "n", spec: neighbourSpec, feeds: { i0: [x, 0] } }), buffers: [] }, neighbour);
    const id = (JSON.parse(reply.json) as { storages: string[] }).storages[0]!;
    const got = Array.from(host.take(id, "float32", 0, [2]).data as Float32Array);
    host.release([id]);
    if (got[0] !== 3 || got[1] !== 4) report.neighbour.push(`case ${i}: neighbour got [${got}]`);
  } catch (e) {
    report.neighbour.push(`case ${i}: neighbour failed: ${(e as Error).message}`);
  } finally {
    host.release([x]);
    neighbour.used = 0;
  }
}

for (let i = 0; i < count; i++) {
  attacker.used = 0;
  const c = randomGraph(r, { maxNodes: Number(values["max-nodes"]), ops: values.ops?.split(","), empty: Number(values.empty) });
  const what = `seed ${seed} case ${i}`;
  if (values.only !== undefined && i !== Number(values.only)) {
    if (r.chance(0.15)) mangleRequest(r, c); // the same random stream as a full run
    continue;
  }
  if (process.env.FUZZ_TRACE) process.stderr.write(`${what}: ${JSON.stringify(c.spec)}\n`);
  if (r.chance(0.15)) {
    // A malformed request built from this graph.
    const bad = mangleRequest(r, c);
    report.requests++;
    try {
      await host.handle({ kind: bad.kind as "run", json: bad.json, buffers: [] }, attacker);
      report.ok++;
    } catch (e) {
      classify(e, `${what} (malformed ${bad.kind})`);
    }
  } else {
    report.graphs++;
    if (process.env.FUZZ_DUMP) (await import("node:fs")).writeFileSync(process.env.FUZZ_DUMP, JSON.stringify(c, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));
    const ids: Record<string, [string, number]> = {};
    const runOnce = async (): Promise<Outcome> => {
      let made: string[] = [];
      try {
        const reply = await host.handle({ kind: "run", json: JSON.stringify({ key: `k${i}`, spec: c.spec, feeds: ids }), buffers: [] }, attacker);
        made = (JSON.parse(reply.json) as { storages: string[] }).storages;
        const outputs = made.map((id, k) => {
          const t = host.take(id, c.spec.outputs[k]!.dtype, 0, c.spec.outputs[k]!.shape);
          return { dtype: t.dtype, shape: [...t.shape], values: Array.from(t.data as ArrayLike<number | bigint>) };
        });
        return { ok: true, outputs };
      } catch (error) {
        return { ok: false, error };
      } finally {
        host.release(made);
        attacker.used = 0;
      }
    };
    try {
      for (const [name, f] of Object.entries(c.feeds)) ids[name] = [host.put(typed(f.dtype, f.data, f.shape), attacker.owner), 0];
      const first = await runOnce();
      if (first.ok) report.ok++;
      else classify(first.error, what);
      for (let k = 1; k < REPEATS; k++) {
        const differs = sameOutcome(first, await runOnce());
        if (differs) {
          report.placement.push(`${what}, run ${k + 1}: ${differs}`);
          break;
        }
      }
    } catch (e) {
      classify(e, what);
    } finally {
      host.release(Object.values(ids).map(([id]) => id));
    }
  }
  if (i % 10 === 0) await checkNeighbour(i);
}
await checkNeighbour(count);
await host.close();
process.stdout.write(JSON.stringify(values.engine === "inline" ? report : { ...report, places }) + "\n");
