// One fuzzing process: random graphs and malformed requests (generate.ts) sent to a real engine
// host over real ONNX Runtime (ort-node), as an interpreter's bridge requests would arrive,
// interleaved with a neighbour tenant's graph whose answer is known exactly. A native fault
// ends this process, which is the point: the parent (the test, or bench/fuzz.ts) counts that as
// a host death. Prints one JSON report line at the end.
//
//   node --import tsx test/fuzz/run.ts --seed 1 --count 500 [--engine inline|threads|lone]
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
     * load 0), so graphs go wide or inline as timing decides.
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
const host =
  values.engine === "inline"
    ? new EngineHost(() => Engine.create({ backend: "ort-node" }), weightsOf)
    : values.engine === "threads" || values.engine === "lone"
      ? new EngineHost(async () => new EngineThreads("ort-node", 2, 1, 2), weightsOf, values.engine === "lone" ? () => 0 : () => Infinity)
      : (() => {
          throw new RangeError(`--engine must be inline, threads or lone, got ${JSON.stringify(values.engine)}`);
        })();
const attacker = tenant("attacker:1", []);
const neighbour = tenant("neighbour:1", ["p1"]);

const report = { seed, graphs: 0, requests: 0, ok: 0, refused: 0, memory: 0, engine: 0, otherTyped: 0, untyped: [] as string[], inference: [] as string[], neighbour: [] as string[] };

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
    let made: string[] = [];
    try {
      for (const [name, f] of Object.entries(c.feeds)) ids[name] = [host.put(typed(f.dtype, f.data, f.shape), attacker.owner), 0];
      const reply = await host.handle({ kind: "run", json: JSON.stringify({ key: `k${i}`, spec: c.spec, feeds: ids }), buffers: [] }, attacker);
      made = (JSON.parse(reply.json) as { storages: string[] }).storages;
      report.ok++;
    } catch (e) {
      classify(e, what);
    } finally {
      host.release([...Object.values(ids).map(([id]) => id), ...made]);
    }
  }
  if (i % 10 === 0) await checkNeighbour(i);
}
await checkNeighbour(count);
await host.close();
process.stdout.write(JSON.stringify(report) + "\n");
