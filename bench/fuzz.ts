// The long run of the engine fuzzer (`npm run bench:fuzz`; the suite runs a short one): many
// seeds, each a fresh process running test/fuzz/run.ts against a real engine host and real
// ONNX Runtime. A process that dies (by a signal, or any exit but 0) is a host death: a native
// fault a tenant could cause. Writes bench/results/<date>-fuzz.json.
//
//   npm run bench:fuzz -- --graphs 10000 [--per-process 1000] [--first-seed 1] [--empty 0.15] [--engine inline|threads|lone|lone-wide]
//
// --engine: one Engine on the host's thread (default), or engine threads as a default Node
// manager runs them, queued ("threads") or as lone calls at every place ("lone", "lone-wide");
// test/fuzz/run.ts says more.

import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { log, REPO, RESULTS_DIR, runChild } from "./lib/common.js";

const { values } = parseArgs({
  options: {
    graphs: { type: "string", default: "10000" },
    "per-process": { type: "string", default: "1000" },
    "first-seed": { type: "string", default: "1" },
    empty: { type: "string", default: "0.15" },
    engine: { type: "string", default: "inline" },
  },
});
const total = Number(values.graphs);
const per = Number(values["per-process"]);
const first = Number(values["first-seed"]);

interface Report {
  seed: number;
  graphs: number;
  requests: number;
  ok: number;
  refused: number;
  memory: number;
  engine: number;
  otherTyped: number;
  untyped: string[];
  inference: string[];
  neighbour: string[];
  /** Runs of one graph that ended differently at different places (lone modes). */
  placement: string[];
}

const started = performance.now();
const runs: Report[] = [];
const deaths: { seed: number; error: string }[] = [];
for (let seed = first; runs.reduce((n, r) => n + r.graphs + r.requests, 0) + deaths.length * per < total; seed++) {
  const r = await runChild<Report>(process.execPath, ["--import", "tsx", path.join(REPO, "test", "fuzz", "run.ts"), "--seed", String(seed), "--count", String(per), "--empty", String(values.empty), "--engine", String(values.engine)], {
    timeoutMs: 30 * 60_000,
  });
  if (r.ok) runs.push(r.value!);
  else deaths.push({ seed, error: r.error ?? "unknown" });
  const done = runs.reduce((n, x) => n + x.graphs + x.requests, 0);
  log(`fuzz seed ${seed}: ${r.ok ? "survived" : `DIED: ${r.error?.slice(0, 200)}`} (${done} cases so far)`);
}
const sum = (k: "graphs" | "requests" | "ok" | "refused" | "memory" | "engine" | "otherTyped") => runs.reduce((n, r) => n + r[k], 0);
const result = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
  settings: { total, perProcess: per, firstSeed: first, empty: Number(values.empty), engine: values.engine },
  seconds: Math.round((performance.now() - started) / 1000),
  processes: runs.length + deaths.length,
  hostDeaths: deaths,
  graphs: sum("graphs"),
  malformedRequests: sum("requests"),
  ran: sum("ok"),
  refusedByAdmission: sum("refused"),
  refusedForMemory: sum("memory"),
  engineErrors: sum("engine"),
  otherTypedErrors: sum("otherTyped"),
  untypedErrors: runs.flatMap((r) => r.untyped),
  inferenceMismatches: runs.flatMap((r) => r.inference),
  neighbourFailures: runs.flatMap((r) => r.neighbour),
  placementMismatches: runs.flatMap((r) => r.placement),
};
mkdirSync(RESULTS_DIR, { recursive: true });
const file = path.join(RESULTS_DIR, `${result.date.slice(0, 10)}-fuzz-seed${first}${values.engine === "inline" ? "" : `-${values.engine}`}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
log(
  `fuzz: ${result.graphs} graphs + ${result.malformedRequests} malformed requests in ${result.processes} processes, ${result.seconds} s: ` +
    `${deaths.length} host deaths, ${result.untypedErrors.length} untyped errors, ${result.inferenceMismatches.length} inference mismatches, ` +
    `${result.neighbourFailures.length} neighbour failures, ${result.placementMismatches.length} placement mismatches -> ${path.relative(REPO, file)}`,
);
process.exitCode = deaths.length || result.untypedErrors.length || result.inferenceMismatches.length || result.neighbourFailures.length || result.placementMismatches.length ? 1 : 0;
