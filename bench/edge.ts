// bench/edge: a `wasmdeploy edge` project under workerd (npm's binary), on this machine.
//   npm run bench:edge [-- --runs 3 --calls 50]
// - cold start: workerd process spawned -> first successful /infer answer (models load at the
//   first request), with the snapshot shipped and without (--no-snapshot: every instance boots
//   CPython cold inside the isolate), median of --runs fresh processes;
// - warm latency over HTTP (sequential, after 5 warm-up calls) for mobilenet_v3_small (64x64,
//   batch 2) and the tiny GPT (int64 [2,16]); baseline in the same run: the same archive and input
//   called in this Node process through InterpreterManager with the same interpreter and engine
//   (interpreter "wasi", engine "ort-web"; no HTTP, no isolate);
// - workerd's resident memory with one model loaded and warm, and an empty worker's (baseline);
// - the project's size: raw, gzip -9 and brotli -q 11 per file.
// Results: bench/results/<date>-edge.json and a table on stdout.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { InterpreterManager, Tensor } from "../dist/index.js";
import { buildProject, freePort, rssBytes, startWorkerd, waitUntilUp } from "../test/edge/workerd.js";
import { REPO, RESULTS_DIR } from "./lib/common.js";

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const RUNS = opt("runs", 3);
const CALLS = opt("calls", 50);
const MODELS = path.join(REPO, "packages", "models");
const work = mkdtempSync(path.join(tmpdir(), "wasmdeploy-bench-edge-"));

const OIP: Record<string, string> = { float32: "FP32", int64: "INT64" };
const npy = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));
const body = (x: Tensor) => JSON.stringify({ inputs: [{ name: "INPUT__0", shape: [...x.shape], datatype: OIP[x.dtype], data: Array.from(x.data as ArrayLike<number | bigint>, Number) }] });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const CASES = [
  { model: "mnv3", file: "mobilenet_v3_small" },
  { model: "gpt", file: "tiny_gpt" },
];

async function project(name: string, extra: string[], models = CASES): Promise<{ dir: string; port: number }> {
  const dir = path.join(work, name);
  const port = await freePort();
  buildProject([...models.flatMap((c) => ["--model", `${c.model}=${path.join(MODELS, `${c.file}.pt`)}:model/model.pkl`]), "--out", dir, "--port", String(port), ...extra]);
  return { dir, port };
}

async function post(url: string, payload: string): Promise<number> {
  const r = await fetch(url, { method: "POST", body: payload });
  await r.arrayBuffer();
  return r.status;
}

/** workerd spawned -> first 200 from /infer (the models load on the first request). */
async function coldStart(dir: string, port: number, model: string, payload: string): Promise<{ upMs: number; firstAnswerMs: number }> {
  const t0 = performance.now();
  const w = startWorkerd(dir, port);
  try {
    await waitUntilUp(w, 30000);
    const upMs = performance.now() - t0;
    // /v2/health/live answered from the handler only after the models loaded (the first
    // request starts them), so this is process start to the first answer in practice.
    const status = await post(`${w.url}/v2/models/${model}/infer`, payload);
    if (status !== 200) throw new Error(`cold infer: ${status}\n${w.log()}`);
    return { upMs, firstAnswerMs: performance.now() - t0 };
  } finally {
    await w.stop();
  }
}

async function warmLatency(url: string, payload: string): Promise<number[]> {
  for (let i = 0; i < 5; i++) await post(url, payload);
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    const s = await post(url, payload);
    ms.push(performance.now() - t);
    if (s !== 200) throw new Error(`warm infer: ${s}`);
  }
  return ms;
}

async function nodeBaseline(file: string): Promise<number[]> {
  const m = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", engine: "ort-web" });
  try {
    const obj = (await m.loadPackage(path.join(MODELS, `${file}.pt`))).loadPickle("model", "model.pkl");
    const x = npy(path.join(MODELS, `${file}.input.npy`));
    for (let i = 0; i < 5; i++) await obj.call(x);
    const ms: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await obj.call(x);
      ms.push(performance.now() - t);
    }
    return ms;
  } finally {
    await m.close();
  }
}

function sizes(dir: string) {
  const rows: { file: string; raw: number; gzip: number; brotli: number }[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const b = readFileSync(p);
        rows.push({
          file: path.relative(dir, p),
          raw: b.length,
          gzip: gzipSync(b, { level: 9 }).length,
          brotli: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }).length,
        });
      }
    }
  };
  walk(dir);
  return rows;
}

async function emptyWorkerRss(): Promise<number> {
  const dir = path.join(work, "empty");
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  writeFileSync(path.join(dir, "w.mjs"), `export default { async fetch() { return new Response("ok"); } };`);
  writeFileSync(
    path.join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = ( services = [ (name = "main", worker = .w) ], sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ] );
const w :Workerd.Worker = ( modules = [ (name = "w.mjs", esModule = embed "w.mjs") ], compatibilityDate = "2025-06-01" );
`,
  );
  const w = startWorkerd(dir, port);
  try {
    await waitUntilUp(w);
    return rssBytes(w.proc.pid!);
  } finally {
    await w.stop();
  }
}

const MB = 2 ** 20;
const f1 = (x: number) => x.toFixed(1);

async function main() {
  const results: Record<string, unknown> = { date: new Date().toISOString(), runs: RUNS, calls: CALLS };

  // Cold start and memory: one model (mobilenet-class) per project.
  const one = [CASES[0]!];
  const snap = await project("snapshot", [], one);
  const cold = await project("no-snapshot", ["--no-snapshot"], one);
  const mnv3Body = body(npy(path.join(MODELS, "mobilenet_v3_small.input.npy")));
  const coldRuns: Record<string, { upMs: number; firstAnswerMs: number }[]> = { snapshot: [], "no-snapshot": [] };
  for (let i = 0; i < RUNS; i++) {
    coldRuns.snapshot!.push(await coldStart(snap.dir, snap.port, "mnv3", mnv3Body));
    coldRuns["no-snapshot"]!.push(await coldStart(cold.dir, cold.port, "mnv3", mnv3Body));
  }
  results.coldStart = coldRuns;

  // Memory: one model loaded and warm, against an empty worker.
  const w1 = startWorkerd(snap.dir, snap.port);
  let rss: number;
  let rssIdle: number;
  let isolate: Record<string, number>;
  try {
    await waitUntilUp(w1);
    rssIdle = rssBytes(w1.proc.pid!);
    await warmLatency(`${w1.url}/v2/models/mnv3/infer`, mnv3Body);
    rss = rssBytes(w1.proc.pid!);
    isolate = (await (await fetch(`${w1.url}/edge/memory`)).json()) as Record<string, number>;
  } finally {
    await w1.stop();
  }
  const rssEmpty = await emptyWorkerRss();
  results.memory = { rssOneModelWarm: rss, rssAfterFirstAnswer: rssIdle, rssEmptyWorker: rssEmpty, isolate };

  // Warm latency: both models in one project, against the same calls in Node.
  const both = await project("both", []);
  const w2 = startWorkerd(both.dir, both.port);
  const latency: Record<string, { edge: number[]; node: number[] }> = {};
  try {
    await waitUntilUp(w2);
    for (const c of CASES) {
      const edge = await warmLatency(`${w2.url}/v2/models/${c.model}/infer`, body(npy(path.join(MODELS, `${c.file}.input.npy`))));
      latency[c.file] = { edge, node: [] };
    }
  } finally {
    await w2.stop();
  }
  for (const c of CASES) latency[c.file]!.node = await nodeBaseline(c.file);
  results.latency = latency;

  const sizeRows = sizes(snap.dir);
  const sizeRowsCold = sizes(cold.dir);
  results.size = { snapshot: sizeRows, noSnapshot: sizeRowsCold };

  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = path.join(RESULTS_DIR, `${new Date().toISOString().slice(0, 10)}-edge.json`);
  writeFileSync(out, JSON.stringify(results, null, 1));

  const lines: string[] = [];
  lines.push(`| cold start (workerd spawned -> first /infer answer), median of ${RUNS} | ms |`, "|---|---:|");
  for (const k of ["snapshot", "no-snapshot"]) lines.push(`| ${k} | ${f1(median(coldRuns[k]!.map((r) => r.firstAnswerMs)))} (min ${f1(Math.min(...coldRuns[k]!.map((r) => r.firstAnswerMs)))}, max ${f1(Math.max(...coldRuns[k]!.map((r) => r.firstAnswerMs)))}) |`);
  lines.push("", `| warm latency, ${CALLS} sequential calls | edge median | edge p90 | Node same interpreter+engine median | ratio |`, "|---|---:|---:|---:|---:|");
  for (const [k, v] of Object.entries(latency)) lines.push(`| ${k} | ${f1(median(v.edge))} ms | ${f1(pct(v.edge, 0.9))} ms | ${f1(median(v.node))} ms | ${(median(v.edge) / median(v.node)).toFixed(2)}x |`);
  lines.push("", "| workerd resident memory | MB |", "|---|---:|");
  lines.push(`| one model (mobilenet_v3_small), after the first answer | ${f1(rssIdle / MB)} |`, `| same, after ${CALLS + 5} calls | ${f1(rss / MB)} |`, `| empty worker (baseline) | ${f1(rssEmpty / MB)} |`, `| difference (what the project adds) | ${f1((rss - rssEmpty) / MB)} |`);
  lines.push("", "| inside the isolate (GET /edge/memory), one model warm | MB |", "|---|---:|");
  for (const [k, v] of Object.entries(isolate)) lines.push(`| ${k} | ${k === "interpreters" ? v : f1(v / MB)} |`);
  const total = (rows: typeof sizeRows, k: "raw" | "gzip" | "brotli") => rows.reduce((n, r) => n + r[k], 0);
  lines.push("", "| project file | raw MB | gzip MB | brotli MB |", "|---|---:|---:|---:|");
  for (const r of sizeRows) lines.push(`| ${r.file} | ${(r.raw / MB).toFixed(2)} | ${(r.gzip / MB).toFixed(2)} | ${(r.brotli / MB).toFixed(2)} |`);
  lines.push(`| **total, with snapshot** | ${(total(sizeRows, "raw") / MB).toFixed(2)} | ${(total(sizeRows, "gzip") / MB).toFixed(2)} | ${(total(sizeRows, "brotli") / MB).toFixed(2)} |`);
  lines.push(`| **total, --no-snapshot** | ${(total(sizeRowsCold, "raw") / MB).toFixed(2)} | ${(total(sizeRowsCold, "gzip") / MB).toFixed(2)} | ${(total(sizeRowsCold, "brotli") / MB).toFixed(2)} |`);
  process.stdout.write(`${lines.join("\n")}\n\nresults: ${path.relative(REPO, out)}\n`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
