// Server benchmark: `npm run bench:serve [-- --quick]`.
//
// Throughput and latency (p50/p99) of `wasmdeploy serve` for resnet18, mobilenet_v2 and the
// tiny GPT, at 1 and 2 interpreters per model, with dynamic batching off and on, against direct
// library calls (ReplicatedObj.call in this process) measured in the same run on the same
// archives. Closed loop: CALLERS clients each send their next request as soon as the previous
// one is answered; every request is batch 1 and uses the binary tensor extension (a JSON
// 224x224 image is 1.5 MB of text). Outputs are checked against PyTorch before timing.
//
// Writes bench/results/<date>-serve[-quick].json and prints a Markdown table.
// Options: --quick, --models resnet18,mobilenet_v2,tiny_gpt, --interpreters 1,2 (a narrowed run
// writes ...-partial.json). --overload runs the goodput-under-overload benchmark instead
// (bench/overload.ts: hey at 1x, 4x, 16x and 32x capacity, optionally against a --baseline build).

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import http from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { InterpreterManager, Tensor } from "wasmdeploy";
import { PYTHON, REPO, RESULTS_DIR, log, quantile, round } from "./lib/common.js";

const quick = process.argv.includes("--quick");
const argValue = (flag: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
/** --models resnet18,tiny_gpt and --interpreters 2 narrow the run. */
const ONLY_MODELS = argValue("--models")?.split(",");
const COUNTS = (argValue("--interpreters") ?? "1,2").split(",").map(Number);
const WINDOW_MS = quick ? 2500 : 8000;
// Long enough for every engine thread to compile the graphs of every batch size it will see.
const WARMUP_MS = quick ? 2500 : 5000;
const CALLERS = 8;
const BATCH = { max_batch_size: 8, max_queue_delay_ms: 4 };
const SIZE = quick ? 112 : 224;

interface Model {
  id: string;
  file: string;
  input: Tensor;
  expected: Tensor;
}

interface Point {
  model: string;
  interpreters: number;
  system: "direct" | "server" | "server+batching";
  callsPerS: number;
  p50Ms: number;
  p99Ms: number;
  calls: number;
  errors: number;
  meanBatch?: number;
}

const npy = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));

function maxRelErr(a: Tensor, b: Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  let m = 0;
  let s = 1;
  for (let i = 0; i < y.length; i++) {
    m = Math.max(m, Math.abs(x[i]! - y[i]!));
    s = Math.max(s, Math.abs(y[i]!));
  }
  return m / s;
}

function makeModels(dir: string): Model[] {
  const out: Model[] = [];
  for (const name of ["resnet18", "mobilenet_v2"].filter((n) => !ONLY_MODELS || ONLY_MODELS.includes(n))) {
    execFileSync(PYTHON, [path.join(REPO, "packages", "make_torchvision_model.py"), name, dir, "--size", String(SIZE), "--seed", "5"], { stdio: "pipe" });
    out.push({ id: `${name}@${SIZE}`, file: path.join(dir, `${name}.pt`), input: npy(path.join(dir, `${name}.input.npy`)), expected: npy(path.join(dir, `${name}.expected.npy`)) });
  }
  // The tiny GPT of the conformance suite: batch 1 of its [2, 16] token input.
  const models = path.join(REPO, "packages", "models");
  const x = npy(path.join(models, "tiny_gpt.input.npy"));
  const y = npy(path.join(models, "tiny_gpt.expected.npy"));
  if (ONLY_MODELS && !ONLY_MODELS.includes("tiny_gpt")) return out;
  out.push({
    id: "tiny_gpt",
    file: path.join(models, "tiny_gpt.pt"),
    input: new Tensor("int64", (x.data as BigInt64Array).slice(0, 16), [1, 16]),
    expected: new Tensor("float32", (y.data as Float32Array).slice(0, 16 * 64), [1, 16, 64]),
  });
  return out;
}

/** Closed loop: CALLERS callers for WARMUP_MS, then WINDOW_MS measured. */
async function closedLoop(call: () => Promise<void>): Promise<{ lat: number[]; calls: number; errors: number; seconds: number }> {
  const lat: number[] = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const t = performance.now();
      try {
        await call();
        if (measuring) lat.push(performance.now() - t);
      } catch {
        if (measuring) errors++;
      }
    }
  };
  const loops = Array.from({ length: CALLERS }, loop);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(loops);
  return { lat: lat.sort((a, b) => a - b), calls: lat.length, errors, seconds };
}

function point(model: string, interpreters: number, system: Point["system"], r: Awaited<ReturnType<typeof closedLoop>>, meanBatch?: number): Point {
  const p = {
    model,
    interpreters,
    system,
    callsPerS: round(r.calls / r.seconds, 1),
    p50Ms: round(quantile(r.lat, 0.5), 1),
    p99Ms: round(quantile(r.lat, 0.99), 1),
    calls: r.calls,
    errors: r.errors,
    ...(meanBatch ? { meanBatch: round(meanBatch, 2) } : {}),
  };
  log(`${model} n=${interpreters} ${system}: ${p.callsPerS} calls/s, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms${meanBatch ? `, mean batch ${p.meanBatch}` : ""}${r.errors ? `, ${r.errors} errors` : ""}`);
  return p;
}

async function direct(m: Model, n: number): Promise<Point> {
  const manager = await InterpreterManager.create({ interpreters: n, onOutput: () => {} });
  try {
    const obj = (await manager.loadPackage(m.file)).loadPickle("model", "model.pkl");
    const y = (await obj.call(m.input)) as Tensor;
    if (maxRelErr(y, m.expected) > 1e-4) throw new Error(`${m.id}: direct output differs from PyTorch`);
    return point(m.id, n, "direct", await closedLoop(async () => void (await obj.call(m.input))));
  } finally {
    await manager.close();
  }
}

function binaryRequest(t: Tensor): { body: Uint8Array; headers: Record<string, string> } {
  const datatype = t.dtype === "int64" ? "INT64" : "FP32";
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const header = new TextEncoder().encode(
    JSON.stringify({ inputs: [{ name: "INPUT__0", datatype, shape: t.shape, parameters: { binary_data_size: bytes.length } }], parameters: { binary_data_output: true } }),
  );
  const body = new Uint8Array(header.length + bytes.length);
  body.set(header);
  body.set(bytes, header.length);
  return { body, headers: { "inference-header-content-length": String(header.length), "content-type": "application/octet-stream" } };
}

async function startServer(dir: string, models: Model[], n: number): Promise<{ child: ChildProcess; url: string }> {
  // A repository: every model twice, batching off and on, each with n interpreters of its own.
  const repo = path.join(dir, `repo-${n}`);
  for (const m of models) {
    for (const [suffix, extra] of [["", {}], ["_b", BATCH]] as const) {
      const d = path.join(repo, `${m.id.replace("@", "_")}${suffix}`);
      mkdirSync(path.join(d, "1"), { recursive: true });
      writeFileSync(path.join(d, "1", "model.pt"), readFileSync(m.file));
      writeFileSync(path.join(d, "config.json"), JSON.stringify({ interpreters: n, max_queue: 256, ...extra }));
    }
  }
  const child = spawn("node", [path.join(REPO, "dist", "cli", "main.js"), "serve", "--repository", repo, "--port", "0", "--log-level", "warn"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 1200 && !/wasmdeploy: ready/.test(err); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /on (http:\/\/[0-9.:]+)/.exec(err)?.[1];
  if (!url || !/wasmdeploy: ready/.test(err)) throw new Error(`the server did not start:\n${err}`);
  return { child, url };
}

async function batchMean(url: string, model: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (k: string) => Number(new RegExp(`^wasmdeploy_batch_requests_${k}\\{model="${model}"\\} (\\S+)$`, "m").exec(text)?.[1]);
  const s = get("sum");
  const c = get("count");
  return c ? s / c : undefined;
}

async function viaServer(url: string, m: Model, n: number, batching: boolean): Promise<Point> {
  const name = `${m.id.replace("@", "_")}${batching ? "_b" : ""}`;
  const req = binaryRequest(m.input);
  // node:http with keep-alive: a lighter client than fetch, since it shares the 2 cores.
  const agent = new http.Agent({ keepAlive: true, maxSockets: CALLERS });
  const target = new URL(`${url}/v2/models/${name}/infer`);
  const once = () =>
    new Promise<Uint8Array>((resolve, reject) => {
      const r = http.request(target, { method: "POST", agent, headers: { ...req.headers, "content-length": String(req.body.length) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => (res.statusCode === 200 ? resolve(new Uint8Array(Buffer.concat(chunks))) : reject(new Error(`${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
        res.on("error", reject);
      });
      r.on("error", reject);
      r.end(req.body);
    });
  const first = await once();
  const out = new Float32Array(first.slice(first.length - m.expected.data.byteLength).buffer);
  if (maxRelErr(new Tensor("float32", out, m.expected.shape), m.expected) > 1e-4) throw new Error(`${name}: server output differs from PyTorch`);
  const r = await closedLoop(async () => void (await once()));
  agent.destroy();
  return point(m.id, n, batching ? "server+batching" : "server", r, batching ? await batchMean(url, name) : undefined);
}

async function main() {
  if (process.argv.includes("--overload")) return (await import("./overload.js")).overload();
  const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-bench-serve-"));
  const points: Point[] = [];
  try {
    log(`bench:serve ${quick ? "(quick) " : ""}on ${os.cpus().length} cores; ${CALLERS} callers, batch-1 requests, ${WINDOW_MS} ms windows`);
    const models = makeModels(dir);
    for (const n of COUNTS) {
      for (const m of models) points.push(await direct(m, n));
      const server = await startServer(dir, models, n);
      try {
        for (const m of models) {
          points.push(await viaServer(server.url, m, n, false));
          points.push(await viaServer(server.url, m, n, true));
        }
      } finally {
        server.child.kill("SIGTERM");
        await new Promise<void>((r) => server.child.once("exit", () => r()));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const partial = ONLY_MODELS || argValue("--interpreters") ? "-partial" : "";
  const file = path.join(RESULTS_DIR, `${date}-serve${quick ? "-quick" : ""}${partial}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), quick, cores: os.cpus().length, node: process.version, callers: CALLERS, windowMs: WINDOW_MS, inputSize: SIZE, batching: BATCH, points }, null, 2)}\n`);
  log(`wrote ${path.relative(REPO, file)}`);
  const rows = points.map((p) => `| ${p.model} | ${p.interpreters} | ${p.system} | ${p.callsPerS} | ${p.p50Ms} | ${p.p99Ms} | ${p.meanBatch ?? ""} |`);
  process.stdout.write(`\n| model | interpreters | system | calls/s | p50 ms | p99 ms | mean batch |\n|---|---|---|---|---|---|---|\n${rows.join("\n")}\n`);
}

await main();
