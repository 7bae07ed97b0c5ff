// A fleet on one server (`npm run bench:fleet`, issue 20): N distinct models (copies of a small
// convnet archive, each its own model with its own weights) in a repository served by
// `wasmdeploy serve --memory-budget MB`, a skewed request mix (Zipf over the models) from C
// closed-loop clients. Reports latency p50/p99 of all requests, of hits (a model already
// loaded: a second phase asks only the models loaded at the end), cold-load times (the server's
// "model loaded" log lines), evictions, and the server's peak PSS (its process tree, sampled).
// Writes bench/results/<date>-fleet[-tag].json.
//
//   npm run bench:fleet -- [--models 200] [--requests 2000] [--clients 8] [--budget-mb 1024]
//                          [--zipf 1.1] [--cells off|per-model] [--tag name]

import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Tensor } from "../dist/index.js";
import { CACHE_DIR, log, processTree, pss, REPO, RESULTS_DIR, round, summarize } from "./lib/common.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "200" },
    requests: { type: "string", default: "2000" },
    clients: { type: "string", default: "8" },
    "budget-mb": { type: "string", default: "1024" },
    zipf: { type: "string", default: "1.1" },
    cells: { type: "string", default: "off" },
    seed: { type: "string", default: "1" },
    tag: { type: "string" },
  },
});
const N = Number(values.models);
const REQUESTS = Number(values.requests);
const CLIENTS = Number(values.clients);
const BUDGET = Number(values["budget-mb"]);
const S = Number(values.zipf);

const ARCHIVE = path.join(REPO, "packages", "models", "resnet_basic.pt");
const input = Tensor.fromNpy(new Uint8Array(readFileSync(path.join(REPO, "packages", "models", "resnet_basic.input.npy"))));
const body = JSON.stringify({ inputs: [{ name: "INPUT__0", datatype: "FP32", shape: input.shape, data: Array.from(input.data as Float32Array) }] });

const repo = path.join(CACHE_DIR, "fleet-repo");
rmSync(repo, { recursive: true, force: true });
for (let i = 0; i < N; i++) {
  mkdirSync(path.join(repo, `m${i}`, "1"), { recursive: true });
  copyFileSync(ARCHIVE, path.join(repo, `m${i}`, "1", "model.pt"));
}

// Zipf over the models: model k (0-based) with weight 1/(k+1)^s; a seeded generator.
let seed = Number(values.seed) >>> 0 || 1;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const weights = Array.from({ length: N }, (_, k) => 1 / (k + 1) ** S);
const cdf: number[] = [];
weights.reduce((acc, w, k) => (cdf[k] = acc + w), 0);
const total = cdf[N - 1]!;
const pick = () => {
  const x = rand() * total;
  let lo = 0;
  let hi = N - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

const child = spawn(
  process.execPath,
  [path.join(REPO, "dist", "cli", "main.js"), "serve", "--repository", repo, "--memory-budget", String(BUDGET), "--interpreters", "1", "--cells", String(values.cells), "--port", "0", "--log-level", "info", "--max-queue", "4096"],
  { stdio: ["ignore", "pipe", "pipe"] },
);
let stderr = "";
const loads: number[] = [];
let unloads = 0;
let outBuf = "";
child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
child.stdout.on("data", (d: Buffer) => {
  outBuf += d.toString();
  let nl;
  while ((nl = outBuf.indexOf("\n")) >= 0) {
    const line = outBuf.slice(0, nl);
    outBuf = outBuf.slice(nl + 1);
    if (line.includes('"model loaded"')) loads.push((JSON.parse(line) as { ms: number }).ms);
    else if (line.includes("memory budget")) unloads++;
  }
});
for (let i = 0; i < 600 && !/wasmdeploy: ready/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
const url = /on (http:\/\/[0-9.:]+)/.exec(stderr)?.[1];
if (!url) throw new Error(`serve did not start:\n${stderr}`);
log(`serving ${N} models at ${url}, budget ${BUDGET} MB, cells ${values.cells}`);

let peak = 0;
const sampler = setInterval(() => {
  const p = processTree(child.pid!).reduce((n, pid) => n + (pss(pid) ?? 0), 0);
  if (p > peak) peak = p;
}, 200);

async function infer(model: number): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${url}/v2/models/m${model}/infer`, { method: "POST", body, headers: { "content-type": "application/json" } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`m${model}: HTTP ${res.status}`);
  return performance.now() - t;
}

const all: number[] = [];
const asked = new Set<number>();
let sent = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CLIENTS }, async () => {
    while (sent < REQUESTS) {
      sent++;
      const m = pick();
      asked.add(m);
      all.push(await infer(m));
    }
  }),
);
const wallS = (performance.now() - t0) / 1e3;
const loadsInRun = loads.length;
log(`${REQUESTS} requests in ${wallS.toFixed(1)} s; ${loadsInRun} loads, ${unloads} unloads`);

// Hits: only models loaded now, one client at a time.
const index = (await (await fetch(`${url}/v2/repository/index`, { method: "POST", body: "{}" })).json()) as { name: string; state: string }[];
const resident = index.filter((e) => e.state === "READY").map((e) => Number(e.name.slice(1)));
const hits: number[] = [];
for (let round_ = 0; round_ < 5; round_++) for (const m of resident) hits.push(await infer(m));
clearInterval(sampler);
child.kill("SIGTERM");
await new Promise((r) => child.on("exit", r));

const ms = (xs: number[]) => {
  const s = summarize(xs);
  const sorted = [...xs].sort((a, b) => a - b);
  return { n: s.n, p50: round(s.median, 1), p99: round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? NaN, 1), max: round(s.max, 1) };
};
const summary = {
  models: N,
  requests: REQUESTS,
  clients: CLIENTS,
  zipf: S,
  budgetMb: BUDGET,
  cells: values.cells,
  distinctModelsAsked: asked.size,
  requestsPerSecond: round(REQUESTS / wallS, 1),
  allMs: ms(all),
  hitMs: ms(hits),
  coldLoadMs: ms(loads),
  coldLoads: loadsInRun,
  unloads,
  residentAtEnd: resident.length,
  peakPssMb: round(peak / 2 ** 20, 0),
};
log(JSON.stringify(summary));
const result = { date: new Date().toISOString(), machine: { cpus: os.cpus().length, load: os.loadavg(), node: process.version }, summary };
mkdirSync(RESULTS_DIR, { recursive: true });
const file = path.join(RESULTS_DIR, `${result.date.slice(0, 10)}-fleet${values.tag ? `-${values.tag}` : ""}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
log(`wrote ${path.relative(REPO, file)}`);
rmSync(repo, { recursive: true, force: true });
