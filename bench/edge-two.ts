// bench/edge-two: two small models in one workerd isolate under concurrent load (issue 20: under
// 128 MB after 64 concurrent requests, counting the JS heap, ArrayBuffers and linear memories).
//   npm run bench:edge-two [-- --rounds 3 --concurrency 64]
// One `wasmdeploy edge` project with mobilenet_v3_small and the tiny GPT (defaults), one warm-up
// call each, then --rounds rounds of --concurrency requests at once, split between the models.
// After each round: V8's heap (used, committed) and ArrayBuffers through workerd's inspector, the
// linear memories (GET /edge/memory) and the process RSS. The isolate total is committed heap +
// ArrayBuffers + linear memories. Results: bench/results/<date>-edge-two.json and a table.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { Tensor } from "../dist/index.js";
import { buildProject, freePort } from "../test/edge/workerd.js";
import { REPO, RESULTS_DIR } from "./lib/common.js";
import { edgeMemoryReader } from "./lib/edge-memory.js";
import { spawnInspected } from "./lib/inspector.js";

const args = process.argv.slice(2);
const opt = (name: string, d: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : d);
const ROUNDS = opt("rounds", 3);
const CONCURRENCY = opt("concurrency", 64);
const MB = 2 ** 20;
const MODELS = path.join(REPO, "packages", "models");

const body = (file: string) => {
  const x = Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, file))));
  const datatype = x.dtype === "int64" ? "INT64" : "FP32";
  return JSON.stringify({ inputs: [{ name: "INPUT__0", shape: [...x.shape], datatype, data: Array.from(x.data as ArrayLike<number | bigint>, Number) }] });
};

const work = mkdtempSync(path.join(tmpdir(), "wasmdeploy-bench-edge-two-"));
try {
  const dir = path.join(work, "project");
  const port = await freePort();
  buildProject(["--model", `mnv3=${path.join(MODELS, "mobilenet_v3_small.pt")}`, "--model", `gpt=${path.join(MODELS, "tiny_gpt.pt")}`, "--out", dir, "--port", String(port)]);
  const bodies = { mnv3: body("mobilenet_v3_small.input.npy"), gpt: body("tiny_gpt.input.npy") };
  const w = await spawnInspected(path.join(dir, "config.capnp"));
  const url = `http://127.0.0.1:${port}`;
  const rounds: Record<string, number>[] = [];
  try {
    const memory = await edgeMemoryReader(w, url);
    const call = async (model: "mnv3" | "gpt") => {
      const r = await fetch(`${url}/v2/models/${model}/infer`, { method: "POST", body: bodies[model], headers: { "content-type": "application/json" } });
      await r.arrayBuffer();
      return r.status;
    };
    const measure = async (label: string, statuses: number[]) => {
      const m = await memory.read();
      const { heap } = m;
      const linear = m.interpreterLinearMemory + m.ortLinearMemory;
      const row = {
        round: rounds.length,
        ok: statuses.filter((s) => s === 200).length,
        requests: statuses.length,
        heapUsedMb: heap.usedSize / MB,
        heapCommittedMb: heap.totalSize / MB,
        arrayBuffersMb: heap.backingStorageSize / MB,
        interpreterLinearMb: m.interpreterLinearMemory / MB,
        interpreters: m.interpreters,
        ortLinearMb: m.ortLinearMemory / MB,
        isolateTotalMb: (heap.totalSize + heap.backingStorageSize + linear) / MB,
        rssMb: m.rss / MB,
      };
      rounds.push(row);
      process.stderr.write(`${label}: ${JSON.stringify(row)}\n`);
    };
    await measure("warm-up", [await call("mnv3"), await call("gpt")]);
    for (let i = 0; i < ROUNDS; i++) {
      const statuses = await Promise.all(Array.from({ length: CONCURRENCY }, (_, k) => call(k % 2 ? "gpt" : "mnv3")));
      await measure(`round ${i + 1}`, statuses);
    }
    memory.close();
  } finally {
    await w.kill();
  }
  const results = { date: new Date().toISOString(), concurrency: CONCURRENCY, loadavg: loadavg(), rounds };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = path.join(RESULTS_DIR, `${results.date.slice(0, 10)}-edge-two.json`);
  writeFileSync(out, JSON.stringify(results, null, 1));
  const f = (x: number) => x.toFixed(1);
  const lines = ["| after | answered | JS heap used | JS heap committed | ArrayBuffers | linear memories (interpreters + ort-web) | isolate total | RSS |", "|---|---:|---:|---:|---:|---:|---:|---:|"];
  for (const r of rounds) {
    lines.push(`| ${r.round === 0 ? "warm-up" : `round ${r.round}`} | ${r.ok}/${r.requests} | ${f(r.heapUsedMb!)} | ${f(r.heapCommittedMb!)} | ${f(r.arrayBuffersMb!)} | ${f(r.interpreterLinearMb! + r.ortLinearMb!)} (${f(r.interpreterLinearMb!)} in ${r.interpreters} + ${f(r.ortLinearMb!)}) | **${f(r.isolateTotalMb!)}** | ${f(r.rssMb!)} |`);
  }
  process.stdout.write(`${lines.join("\n")}\n\nresults: ${path.relative(REPO, out)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
