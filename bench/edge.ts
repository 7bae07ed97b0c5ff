// bench/edge: a `wasmdeploy edge` project under workerd (npm's binary), on this machine.
//   npm run bench:edge [-- --runs 5 --calls 50]
// Every section records the load average (the machine's 2 cores are shared) with its result.
// - cold start, one model (mobilenet_v3_small), median of --runs fresh workerd processes, by
//   phase: spawned -> port open -> first /v2/health/live answer (the first request restores the
//   interpreter and parses the archive) -> first /infer answer (unpickling, recording, ort-web's
//   first instantiation and session, the run) -> a second /infer (warm, for reference); and
//   inside the isolate, what GET /edge/timings reports for those phases. Layouts:
//   the data files read from ASSETS (the default), the same with workerd's binary config
//   (`workerd compile --config-only`), the data embedded as modules (--embed-data, the layout
//   before ASSETS), and no snapshot (--no-snapshot);
// - workerd's resident memory with that model warm, ASSETS against --embed-data, and an empty
//   worker's (baseline), plus what the isolate reports it holds (GET /edge/memory);
// - the engine alone (baseline for all three): the same model exported to ONNX by real PyTorch,
//   served by a minimal worker that runs onnxruntime-web directly (no Python, no handler), with
//   the same JSON body: its cold start, warm RSS and warm latency;
// - warm latency (sequential, after 5 warm-up calls): mobilenet_v3_small (64x64, batch 2) with
//   JSON numbers and with the binary tensor extension, the tiny GPT, a no-op model (nn.Identity,
//   packaged now by real PyTorch) with mobilenet's input as JSON and as binary, and a GET of model
//   metadata (HTTP only: no Python, no engine). Baseline in the same run: the same archives and
//   inputs called in a fresh Node process (bench/experiments/edge-node.ts) through InterpreterManager with the same interpreter and
//   engine ("wasi", "ort-web"; no HTTP, no isolate);
// - the project's size: raw, gzip -9 and brotli -q 11 per file, split into what Cloudflare counts
//   toward the Worker's size limit (the modules) and the static assets (which it does not).
// Results: bench/results/<date>-edge.json and tables on stdout.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { Tensor } from "../dist/index.js";
import { buildProject, freePort, rssBytes, startWorkerd, waitUntilUp, WORKERD } from "../test/edge/workerd.js";
import { median, PYTHON, REPO, RESULTS_DIR } from "./lib/common.js";
import { attachInspector, type HeapUsage, spawnInspected } from "./lib/inspector.js";

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const RUNS = opt("runs", 5);
const CALLS = opt("calls", 50);
const MODELS = path.join(REPO, "packages", "models");
const work = mkdtempSync(path.join(tmpdir(), "wasmdeploy-bench-edge-"));
const load = () => loadavg().map((x) => Number(x.toFixed(2)));

const OIP: Record<string, string> = { float32: "FP32", int64: "INT64" };
const npy = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** An OIP request body: JSON numbers, or the binary tensor extension (input and outputs binary). */
interface Payload {
  body: Uint8Array | string;
  headers: Record<string, string>;
}
function jsonBody(x: Tensor): Payload {
  const body = JSON.stringify({ inputs: [{ name: "INPUT__0", shape: [...x.shape], datatype: OIP[x.dtype], data: Array.from(x.data as ArrayLike<number | bigint>, Number) }] });
  return { body, headers: { "content-type": "application/json" } };
}
function binaryBody(x: Tensor): Payload {
  const raw = new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength);
  const head = new TextEncoder().encode(
    JSON.stringify({ inputs: [{ name: "INPUT__0", shape: [...x.shape], datatype: OIP[x.dtype], parameters: { binary_data_size: raw.length } }], parameters: { binary_data_output: true } }),
  );
  const body = new Uint8Array(head.length + raw.length);
  body.set(head);
  body.set(raw, head.length);
  return { body, headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(head.length) } };
}

async function post(url: string, p: Payload): Promise<number> {
  const r = await fetch(url, { method: "POST", body: p.body as BodyInit, headers: p.headers });
  await r.arrayBuffer();
  return r.status;
}

async function project(name: string, models: [string, string][], extra: string[] = []): Promise<{ dir: string; port: number }> {
  const dir = path.join(work, name);
  const port = await freePort();
  buildProject([...models.flatMap(([n, f]) => ["--model", `${n}=${f}:model/model.pkl`]), "--out", dir, "--port", String(port), ...extra]);
  return { dir, port };
}

/** workerd with the project's text config, or the binary config compiled from it. */
function spawnWorkerd(dir: string, binary: boolean): ChildProcess {
  const argv = binary ? ["serve", "--binary", path.join(dir, "config.bin")] : ["serve", path.join(dir, "config.capnp")];
  return spawn(WORKERD, argv, { stdio: "ignore" });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once("exit", r));
  p.kill("SIGTERM");
  await gone;
}

interface ColdRun {
  /** Inside the isolate (GET /edge/timings after the first answer), ms. */
  phases: Record<string, number>;
  portMs: number;
  healthMs: number;
  firstInferMs: number;
  secondInferMs: number;
  rssPortOpen: number;
  rssFirstAnswer: number;
}

/** One fresh process: each phase's end, ms after spawn (secondInferMs: that call's own time). */
async function coldStart(dir: string, port: number, binary: boolean, model: string, payload: Payload): Promise<ColdRun> {
  const t0 = performance.now();
  const p = spawnWorkerd(dir, binary);
  try {
    const until = Date.now() + 30000;
    while (!(await portOpen(port))) {
      if (Date.now() > until || p.exitCode !== null) throw new Error(`workerd did not open port ${port}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    const portMs = performance.now() - t0;
    const rssPortOpen = rssBytes(p.pid!);
    const url = `http://127.0.0.1:${port}`;
    const h = await fetch(`${url}/v2/health/live`);
    await h.arrayBuffer();
    const healthMs = performance.now() - t0;
    const s1 = await post(`${url}/v2/models/${model}/infer`, payload);
    const firstInferMs = performance.now() - t0;
    if (s1 !== 200) throw new Error(`cold infer: ${s1}`);
    const rssFirstAnswer = rssBytes(p.pid!);
    const phases = isolatePhases((await (await fetch(`${url}/edge/timings`)).json()) as { phase: string; startMs: number; ms: number }[]);
    const t2 = performance.now();
    await post(`${url}/v2/models/${model}/infer`, payload);
    return { phases, portMs, healthMs, firstInferMs, secondInferMs: performance.now() - t2, rssPortOpen, rssFirstAnswer };
  } finally {
    await stop(p);
  }
}

/** The isolate's phases up to the first answer, by what they are (the first /infer is one host "call"). */
function isolatePhases(list: { phase: string; startMs: number; ms: number }[]): Record<string, number> {
  const first = (re: RegExp) => list.find((p) => re.test(p.phase));
  const call = first(/host request "call"/);
  const inCall = (p: { startMs: number }) => call !== undefined && p.startMs >= call.startMs && p.startMs <= call.startMs + call.ms;
  const sum = (re: RegExp) => list.filter((p) => re.test(p.phase) && inCall(p)).reduce((n, p) => n + p.ms, 0);
  const engine = sum(/^engine request/);
  return {
    "read the data files": first(/read the data files/)?.ms ?? NaN,
    "restore the interpreter": first(/interpreter: /)?.ms ?? NaN,
    "load the package (Python)": first(/host request "load_package"/)?.ms ?? NaN,
    "first call: Python (unpickle, record, export the graph)": (call?.ms ?? NaN) - engine,
    "first call: ort-web instantiate": sum(/ort-web: instantiate/),
    "first call: ort-web session create": sum(/ort-web: create a session/),
    "first call: ort-web run": sum(/ort-web: run/),
    "first call: rest of the engine requests (graph build, copies)": engine - sum(/ort-web: /),
  };
}

async function warmLatency(call: () => Promise<number>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await call();
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    const s = await call();
    ms.push(performance.now() - t);
    if (s !== 200) throw new Error(`warm call: ${s}`);
  }
  return ms;
}

/** The same call in a fresh Node process (bench/experiments/edge-node.ts). */
function nodeBaseline(archive: string, input: string): number[] {
  const out = execFileSync("node", ["--import", "tsx", path.join(REPO, "bench", "child.ts"), "edge-node", JSON.stringify({ archive, input, calls: CALLS })], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.toString().trim().split("\n").pop()!) as number[];
}

interface SizeRow {
  file: string;
  raw: number;
  gzip: number;
  brotli: number;
}
const compressed = new Map<string, { gzip: number; brotli: number }>();
function sizes(dir: string): SizeRow[] {
  const rows: SizeRow[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f !== "config.bin") {
        const b = readFileSync(p);
        // The projects share most files; brotli -q 11 is slow, so each content is compressed once.
        const key = createHash("sha256").update(b).digest("hex");
        let c = compressed.get(key);
        if (!c) {
          c = {
            gzip: gzipSync(b, { level: 9 }).length,
            brotli: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }).length,
          };
          compressed.set(key, c);
        }
        rows.push({ file: path.relative(dir, p), raw: b.length, ...c });
      }
    }
  };
  walk(dir);
  return rows;
}
/** What Cloudflare uploads as the Worker (its modules; the size limit applies) and as static assets (it does not). */
const isAsset = (r: SizeRow) => r.file.startsWith("assets/");
const isLocalOnly = (r: SizeRow) => r.file === "config.capnp" || r.file === "wrangler.toml";

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

/**
 * The engine alone: a worker that answers an OIP-shaped JSON body by running the model's ONNX
 * export (made by real PyTorch from the same archive) in onnxruntime-web, instantiated from the
 * imported wasm module as our edge backend does. What the target is measured against.
 */
async function engineAloneProject(archive: string, x: Tensor): Promise<{ dir: string; port: number }> {
  const dir = path.join(work, "engine-alone");
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  execFileSync(PYTHON, [
    "-c",
    `import sys, torch\nfrom torch.package import PackageImporter\nm = PackageImporter(sys.argv[1]).load_pickle("model", "model.pkl").eval()\ntorch.onnx.export(m, torch.zeros(${JSON.stringify([...x.shape])}), sys.argv[2], input_names=["x"], output_names=["y"], opset_version=17)`,
    archive,
    path.join(dir, "model.onnx"),
  ], { stdio: "pipe" });
  const ortDist = path.join(REPO, "node_modules", "onnxruntime-web", "dist");
  for (const f of ["ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"]) writeFileSync(path.join(dir, f), readFileSync(path.join(ortDist, f)));
  writeFileSync(
    path.join(dir, "w.mjs"),
    `import * as ort from "./ort.wasm.bundle.min.mjs";
import ortWasm from "./ort-wasm-simd-threaded.wasm";
import model from "./model.onnx";
const real = WebAssembly.instantiate.bind(WebAssembly);
let memory;
const findMemory = (instance, imports) => [...Object.values(instance.exports), ...Object.values(imports ?? {}).flatMap((m) => Object.values(m))].find((v) => v instanceof WebAssembly.Memory);
WebAssembly.instantiate = (src, imports) => src && src.byteLength === 8 ? real(ortWasm, imports).then((instance) => { memory = findMemory(instance, imports); return { instance, module: ortWasm }; }) : real(src, imports);
let session;
export default {
  async fetch(req) {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmBinary = new Uint8Array(8);
    session ??= await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    if (new URL(req.url).pathname === "/memory") return Response.json({ ortLinearMemory: memory?.buffer.byteLength ?? 0 });
    if (req.method !== "POST") return new Response("ok");
    const input = (await req.json()).inputs[0];
    const y = (await session.run({ x: new ort.Tensor("float32", Float32Array.from(input.data), input.shape) })).y;
    return Response.json({ outputs: [{ name: "OUTPUT__0", shape: y.dims, datatype: "FP32", data: Array.from(y.data) }] });
  },
};
`,
  );
  writeFileSync(
    path.join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = ( services = [ (name = "main", worker = .w) ], sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ] );
const w :Workerd.Worker = (
  modules = [ (name = "w.mjs", esModule = embed "w.mjs"), (name = "ort.wasm.bundle.min.mjs", esModule = embed "ort.wasm.bundle.min.mjs"),
    (name = "ort-wasm-simd-threaded.wasm", wasm = embed "ort-wasm-simd-threaded.wasm"), (name = "model.onnx", data = embed "model.onnx") ],
  compatibilityDate = "2025-06-01" );
`,
  );
  return { dir, port };
}

/** The engine alone from spawn to its first answer (its session made by that request), ms. */
async function engineAloneCold(e: { dir: string; port: number }, payload: Payload): Promise<{ firstInferMs: number; rssFirstAnswer: number }> {
  const t0 = performance.now();
  const p = spawnWorkerd(e.dir, false);
  try {
    const until = Date.now() + 30000;
    while (!(await portOpen(e.port))) {
      if (Date.now() > until || p.exitCode !== null) throw new Error(`workerd did not open port ${e.port}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    const s = await post(`http://127.0.0.1:${e.port}/`, payload);
    if (s !== 200) throw new Error(`engine alone: ${s}`);
    return { firstInferMs: performance.now() - t0, rssFirstAnswer: rssBytes(p.pid!) };
  } finally {
    await stop(p);
  }
}

/**
 * What the isolate itself holds, from V8 through workerd's inspector (Runtime.getHeapUsage) after
 * the same warm-up: the number Cloudflare's per-isolate limit is about, as far as a process here
 * can tell (code, workerd and the allocator's slack are process memory, not the isolate's).
 */
async function isolateHeap(dir: string, port: number, warm: (url: string) => Promise<unknown>): Promise<HeapUsage> {
  const w = await spawnInspected(path.join(dir, "config.capnp"));
  try {
    while (!(await portOpen(port))) await new Promise((r) => setTimeout(r, 5));
    await warm(`http://127.0.0.1:${port}`);
    const inspector = await attachInspector(w.inspectorPort);
    const usage = await inspector.heapUsage();
    inspector.close();
    return usage;
  } finally {
    await w.kill();
  }
}

function anonBytes(pid: number): number {
  const kb = /RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return kb ? Number(kb[1]) * 1024 : NaN;
}

const MB = 2 ** 20;
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

async function main() {
  const results: Record<string, unknown> = { date: new Date().toISOString(), runs: RUNS, calls: CALLS, loadavgStart: load() };
  const mnv3 = path.join(MODELS, "mobilenet_v3_small.pt");
  const gpt = path.join(MODELS, "tiny_gpt.pt");
  const mnv3In = path.join(MODELS, "mobilenet_v3_small.input.npy");
  const gptIn = path.join(MODELS, "tiny_gpt.input.npy");
  const mnv3X = npy(mnv3In);
  const gptX = npy(gptIn);
  // A model that does nothing (its output is its input): what serving costs without compute.
  const identity = path.join(work, "identity.pt");
  execFileSync(PYTHON, ["-c", `import sys, torch\nfrom torch.package import PackageExporter\nwith PackageExporter(sys.argv[1]) as e:\n    e.extern("sys")\n    e.save_pickle("model", "model.pkl", torch.nn.Identity())`, identity]);

  // Cold start, one model per project, each layout in turn within every round.
  const one: [string, string][] = [["mnv3", mnv3]];
  const assets = await project("assets", one);
  writeFileSync(path.join(assets.dir, "config.bin"), execFileSync(WORKERD, ["compile", "--config-only", path.join(assets.dir, "config.capnp")], { maxBuffer: 2 ** 30 }));
  const embed = await project("embed", one, ["--embed-data"]);
  const cold = await project("no-snapshot", one, ["--no-snapshot"]);
  const layouts = [
    { name: "ASSETS (default)", p: assets, binary: false },
    { name: "ASSETS, binary config", p: assets, binary: true },
    { name: "--embed-data (before)", p: embed, binary: false },
    { name: "ASSETS, --no-snapshot", p: cold, binary: false },
  ];
  const mnv3Json = jsonBody(mnv3X);
  const engine = await engineAloneProject(mnv3, mnv3X);
  const coldRuns: Record<string, ColdRun[]> = Object.fromEntries(layouts.map((l) => [l.name, []]));
  const engineCold: { firstInferMs: number; rssFirstAnswer: number }[] = [];
  const coldLoad = load();
  for (let i = 0; i < RUNS; i++) {
    for (const l of layouts) coldRuns[l.name]!.push(await coldStart(l.p.dir, l.p.port, l.binary, "mnv3", mnv3Json));
    engineCold.push(await engineAloneCold(engine, mnv3Json));
  }
  results.coldStart = { loadavgBefore: coldLoad, loadavgAfter: load(), runs: coldRuns, engineAlone: engineCold };

  // Memory: one model warm, ASSETS against embedded data, and an empty worker.
  const memory: Record<string, unknown> = { loadavg: load() };
  for (const l of layouts.slice(0, 3)) {
    const p = spawnWorkerd(l.p.dir, l.binary);
    try {
      while (!(await portOpen(l.p.port))) await new Promise((r) => setTimeout(r, 5));
      const url = `http://127.0.0.1:${l.p.port}`;
      await warmLatency(() => post(`${url}/v2/models/mnv3/infer`, mnv3Json));
      const isolate = (await (await fetch(`${url}/edge/memory`)).json()) as Record<string, number>;
      memory[l.name] = { rssWarm: rssBytes(p.pid!), anonWarm: anonBytes(p.pid!), isolate };
    } finally {
      await stop(p);
    }
  }
  memory.rssEmptyWorker = await emptyWorkerRss();
  memory.isolateHeap = await isolateHeap(assets.dir, assets.port, (url) => warmLatency(() => post(`${url}/v2/models/mnv3/infer`, mnv3Json)));
  memory.engineAloneIsolateHeap = await isolateHeap(engine.dir, engine.port, async (url) => {
    await warmLatency(() => post(`${url}/`, mnv3Json));
    memory.engineAloneLinear = ((await (await fetch(`${url}/memory`)).json()) as { ortLinearMemory: number }).ortLinearMemory;
  });
  const engineLatency: number[] = [];
  {
    const p = spawnWorkerd(engine.dir, false);
    try {
      while (!(await portOpen(engine.port))) await new Promise((r) => setTimeout(r, 5));
      engineLatency.push(...(await warmLatency(() => post(`http://127.0.0.1:${engine.port}/`, mnv3Json))));
      memory.engineAlone = { rssWarm: rssBytes(p.pid!), anonWarm: anonBytes(p.pid!) };
    } finally {
      await stop(p);
    }
  }
  results.memory = memory;

  // Warm latency: three models in one project, then the same calls in Node.
  const all = await project("all", [["mnv3", mnv3], ["gpt", gpt], ["noop", identity]]);
  const w = startWorkerd(all.dir, all.port);
  const latency: Record<string, { edge: number[]; node?: number[]; loadavg: number[] }> = {};
  const cases: { name: string; model: string; payload: Payload; archive: string; input: string }[] = [
    { name: "mobilenet_v3_small, JSON", model: "mnv3", payload: mnv3Json, archive: mnv3, input: mnv3In },
    { name: "mobilenet_v3_small, binary tensors", model: "mnv3", payload: binaryBody(mnv3X), archive: mnv3, input: mnv3In },
    { name: "tiny GPT, JSON", model: "gpt", payload: jsonBody(gptX), archive: gpt, input: gptIn },
    { name: "no-op, mobilenet's input, JSON", model: "noop", payload: jsonBody(mnv3X), archive: identity, input: mnv3In },
    { name: "no-op, mobilenet's input, binary tensors", model: "noop", payload: binaryBody(mnv3X), archive: identity, input: mnv3In },
  ];
  try {
    await waitUntilUp(w);
    for (const c of cases) latency[c.name] = { edge: await warmLatency(() => post(`${w.url}/v2/models/${c.model}/infer`, c.payload)), loadavg: load() };
    latency["GET model metadata (HTTP only)"] = {
      edge: await warmLatency(async () => {
        const r = await fetch(`${w.url}/v2/models/mnv3`);
        await r.arrayBuffer();
        return r.status;
      }),
      loadavg: load(),
    };
  } finally {
    await w.stop();
  }
  const nodeByArchive = new Map<string, number[]>();
  for (const c of cases) {
    const key = c.archive;
    if (!nodeByArchive.has(key)) nodeByArchive.set(key, nodeBaseline(c.archive, c.input));
    latency[c.name]!.node = nodeByArchive.get(key)!;
  }
  results.latency = latency;
  results.engineAloneLatency = { ms: engineLatency, loadavg: memory.loadavg };

  results.size = { assets: sizes(assets.dir), embed: sizes(embed.dir), noSnapshot: sizes(cold.dir) };
  results.loadavgEnd = load();

  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = path.join(RESULTS_DIR, `${new Date().toISOString().slice(0, 10)}-edge.json`);
  writeFileSync(out, JSON.stringify(results, null, 1));

  const lines: string[] = [];
  const med = (xs: ColdRun[], k: Exclude<keyof ColdRun, "phases">) => median(xs.map((r) => r[k]));
  lines.push(
    `cold start, one model, median of ${RUNS} (load average ${coldLoad.join(" ")} before, ${load().join(" ")} at the end)`,
    "| layout | port open | first health answer | first /infer answer (min-max) | second /infer | RSS at port open | RSS at first answer |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  for (const l of layouts) {
    const r = coldRuns[l.name]!;
    const first = r.map((x) => x.firstInferMs);
    lines.push(
      `| ${l.name} | ${f1(med(r, "portMs"))} ms | ${f1(med(r, "healthMs"))} ms | ${f1(median(first))} ms (${f1(Math.min(...first))}-${f1(Math.max(...first))}) | ${f1(med(r, "secondInferMs"))} ms | ${f1(med(r, "rssPortOpen") / MB)} MB | ${f1(med(r, "rssFirstAnswer") / MB)} MB |`,
    );
  }
  const engineFirst = engineCold.map((r) => r.firstInferMs);
  lines.push(
    `| engine alone (ort-web + ONNX export, no Python; baseline) | | | ${f1(median(engineFirst))} ms (${f1(Math.min(...engineFirst))}-${f1(Math.max(...engineFirst))}) | | | ${f1(median(engineCold.map((r) => r.rssFirstAnswer)) / MB)} MB |`,
    `default layout ÷ engine alone, first answer: ${(median(coldRuns[layouts[0]!.name]!.map((r) => r.firstInferMs)) / median(engineFirst)).toFixed(2)}x`,
  );
  lines.push("", "inside the isolate, first request and first /infer (median ms, GET /edge/timings)", `| phase | ${layouts.map((l) => l.name).join(" | ")} |`, `|---|${layouts.map(() => "---:").join("|")}|`);
  for (const k of Object.keys(coldRuns[layouts[0]!.name]![0]!.phases)) {
    lines.push(`| ${k} | ${layouts.map((l) => f1(median(coldRuns[l.name]!.map((r) => r.phases[k]!)))).join(" | ")} |`);
  }
  lines.push("", `memory, one model after ${CALLS + 5} calls (load average ${(memory.loadavg as number[]).join(" ")})`, "| layout | RSS MB | anonymous MB | isolate: interpreter | ort-web | snapshot held | file image | archives |", "|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const l of layouts.slice(0, 3)) {
    const m = memory[l.name] as { rssWarm: number; anonWarm: number; isolate: Record<string, number> };
    const i = m.isolate;
    lines.push(`| ${l.name} | ${f1(m.rssWarm / MB)} | ${f1(m.anonWarm / MB)} | ${f1(i.interpreterLinearMemory! / MB)} | ${f1(i.ortLinearMemory! / MB)} | ${f1(i.snapshotHeld! / MB)} | ${f1(i.fileImageModule! / MB)} | ${f1(i.archiveModules! / MB)} |`);
  }
  lines.push(`| empty worker (baseline) | ${f1((memory.rssEmptyWorker as number) / MB)} | | | | | | |`);
  const ea = memory.engineAlone as { rssWarm: number; anonWarm: number };
  lines.push(`| engine alone (baseline) | ${f1(ea.rssWarm / MB)} | ${f1(ea.anonWarm / MB)} | | | | | |`);
  lines.push(`default layout ÷ engine alone, warm RSS: ${((memory[layouts[0]!.name] as { rssWarm: number }).rssWarm / ea.rssWarm).toFixed(2)}x`);
  const ih = memory.isolateHeap as HeapUsage;
  const eh = memory.engineAloneIsolateHeap as HeapUsage;
  const iw = (memory[layouts[0]!.name] as { isolate: Record<string, number> }).isolate;
  const ours = ih.totalSize + ih.backingStorageSize + iw.interpreterLinearMemory! + iw.ortLinearMemory!;
  lines.push(
    "",
    "inside the isolate (V8 through the inspector, after the same warm-up; linear memories from GET /edge/memory), MB",
    "| | JS heap used | JS heap committed | ArrayBuffers | wasm linear memories | isolate total (committed + ArrayBuffers + linear) |",
    "|---|---:|---:|---:|---:|---:|",
    `| ASSETS (default) | ${f1(ih.usedSize / MB)} | ${f1(ih.totalSize / MB)} | ${f1(ih.backingStorageSize / MB)} | ${f1((iw.interpreterLinearMemory! + iw.ortLinearMemory!) / MB)} | ${f1(ours / MB)} |`,
    `| engine alone | ${f1(eh.usedSize / MB)} | ${f1(eh.totalSize / MB)} | ${f1(eh.backingStorageSize / MB)} | ${f1((memory.engineAloneLinear as number) / MB)} | ${f1((eh.totalSize + eh.backingStorageSize + (memory.engineAloneLinear as number)) / MB)} |`,
  );
  lines.push("", `warm latency, ${CALLS} sequential calls`, "| case | edge median | edge p90 | Node same interpreter+engine, median | ratio | load average |", "|---|---:|---:|---:|---:|---|");
  for (const [k, v] of Object.entries(latency)) {
    lines.push(`| ${k} | ${f1(median(v.edge))} ms | ${f1(pct(v.edge, 0.9))} ms | ${v.node ? `${f2(median(v.node))} ms` : ""} | ${v.node ? `${(median(v.edge) / median(v.node)).toFixed(1)}x` : ""} | ${v.loadavg.join(" ")} |`);
  }
  const mj = latency["mobilenet_v3_small, JSON"]!.edge;
  lines.push(`| engine alone in workerd, mobilenet_v3_small JSON (baseline) | ${f1(median(engineLatency))} ms | ${f1(pct(engineLatency, 0.9))} ms | | ours ÷ it: ${(median(mj) / median(engineLatency)).toFixed(1)}x | |`);
  const sum = (rows: SizeRow[], k: "raw" | "gzip" | "brotli") => rows.reduce((n, r) => n + r[k], 0);
  const total = (label: string, rows: SizeRow[]) => `| **${label}** | ${f2(sum(rows, "raw") / MB)} | ${f2(sum(rows, "gzip") / MB)} | ${f2(sum(rows, "brotli") / MB)} |`;
  const a = sizes(assets.dir);
  const deployed = a.filter((r) => !isLocalOnly(r));
  lines.push("", "| project file (ASSETS layout) | raw MB | gzip MB | brotli MB |", "|---|---:|---:|---:|");
  for (const r of deployed) lines.push(`| ${r.file} | ${f2(r.raw / MB)} | ${f2(r.gzip / MB)} | ${f2(r.brotli / MB)} |`);
  lines.push(total("Worker modules (Cloudflare's size limit)", deployed.filter((r) => !isAsset(r))));
  lines.push(total("static assets (not counted by that limit)", deployed.filter(isAsset)));
  lines.push(total("whole project", deployed));
  lines.push(total("whole project, --no-snapshot", sizes(cold.dir).filter((r) => !isLocalOnly(r))));
  lines.push(total("whole project, --embed-data (all counted)", sizes(embed.dir).filter((r) => !isLocalOnly(r))));
  process.stdout.write(`${lines.join("\n")}\n\nresults: ${path.relative(REPO, out)}\n`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
