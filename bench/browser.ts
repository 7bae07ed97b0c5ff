// bench/browser: wasmdeploy in Chromium, in one page and one run.
//   npm run bench:browser [-- --runs 5 --gpu-runs 2]
// - Latency: resnet18 and mobilenet_v3_small (224x224, batch 1, random weights) through
//   wasmdeploy on engine "ort-web" and "webgpu", against onnxruntime-web used directly on the
//   ONNX export of the same weights (torch.onnx.export), same page, same ONNX Runtime instance,
//   same execution provider and thread count (1). Median of the timed runs after one warm-up,
//   the two alternating run by run.
//   WebGPU here is SwiftShader: a CPU implementation of WebGPU, not a GPU. Its numbers say
//   what our overhead is around the same provider, not how fast a real GPU would be.
// - Memory per interpreter worker: performance.measureUserAgentSpecificMemory() (needs the
//   page to be cross-origin isolated) with 1 and with 4 interpreters.
// - Boot: cold (nothing cached: compile python.wasm, boot CPython, make the snapshot) against
//   cached (second visit: module from the Cache API, snapshot restored).
// Results: bench/results/<date>-browser.json and a table on stdout.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium, type Page } from "@playwright/test";
import { findChromium } from "../test/browser/chromium.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, "gpu-runs": { type: "string", default: "2" } } });
const RUNS = Number(values.runs);
const GPU_RUNS = Number(values["gpu-runs"]);
const MODELS = ["mobilenet_v3_small", "resnet18"];

const dir = path.join(tmpdir(), "wasmdeploy-bench-browser");
mkdirSync(dir, { recursive: true });
process.stderr.write("making models with /usr/bin/python3 ...\n");
if (!MODELS.every((m) => existsSync(path.join(dir, `${m}.onnx`)))) {
  execFileSync("/usr/bin/python3", [path.join(ROOT, "bench", "make_browser_bench.py"), dir, ...MODELS.map((m) => `${m}:224`)], { stdio: "pipe" });
}

const server: ChildProcess = spawn("node", [path.join(ROOT, "dist", "cli", "main.js"), "web", "--port", "0", "--root", dir], { stdio: ["ignore", "pipe", "inherit"] });
const origin = await new Promise<string>((resolve) => server.stdout!.on("data", (d) => {
  const m = /http:\/\/[^/\s]+/.exec(String(d));
  if (m) resolve(m[0]);
}));
const browser = await chromium.launch({
  executablePath: findChromium(process.env, chromium.executablePath())?.path, // as the browser suite finds it
  args: ["--no-sandbox", "--enable-unsafe-webgpu", "--enable-blink-features=ForceEagerMeasureMemory"],
});

async function freshPage(): Promise<Page> {
  const context = await browser.newContext();
  // tsx compiles this file with esbuild's keepNames: functions passed to page.evaluate call __name.
  await context.addInitScript("globalThis.__name = (f) => f;");
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  return page;
}

// ----- boot: cold, then the second visit -----
const bootOnce = (page: Page) =>
  page.evaluate(async () => {
    const w = await import(`${location.origin}/wasmdeploy.js`);
    const t = performance.now();
    const m = await w.InterpreterManager.create({ interpreters: 1 });
    const ms = performance.now() - t;
    const s = m.stats().boot;
    await m.close();
    return { ms, snapshot: s.snapshot as string, snapshotMs: s.snapshotMs as number, wasmCompileMs: s.wasmCompileMs as number };
  });
process.stderr.write("boot ...\n");
const bootPage = await freshPage();
const cold = await bootOnce(bootPage);
await bootPage.reload();
const cached = await bootOnce(bootPage);
await bootPage.context().close();

// ----- memory per worker -----
process.stderr.write("memory ...\n");
const memPage = await freshPage();
const memory = await memPage.evaluate(async () => {
  const w = await import(`${location.origin}/wasmdeploy.js`);
  type Measure = { bytes: number; breakdown: { bytes: number; attribution: { url: string; scope: string }[] }[] };
  const measure = async () => {
    const r = (await (performance as unknown as { measureUserAgentSpecificMemory(): Promise<Measure> }).measureUserAgentSpecificMemory());
    const workers = r.breakdown.filter((b) => b.attribution.some((a) => a.scope === "DedicatedWorkerGlobalScope" && a.url.includes("wasi-worker.js")));
    return { total: r.bytes, workerBytes: workers.map((b) => b.bytes) };
  };
  const out: Record<string, unknown> = { isolated: crossOriginIsolated };
  for (const n of [1, 4]) {
    const m = await w.InterpreterManager.create({ interpreters: n });
    const model = (await m.loadPackage("/files/mobilenet_v3_small.pt")).loadPickle("model", "model.pkl");
    const x = w.Tensor.fromNpy(new Uint8Array(await (await fetch("/files/mobilenet_v3_small.input.npy")).arrayBuffer()));
    await Promise.all(Array.from({ length: n }, () => model.call(x)));
    out[`n${n}`] = { ...(await measure()), linearMemory: m.stats().interpreters.map((i: { heapBytes: number }) => i.heapBytes) };
    await m.close();
  }
  return out;
});
await memPage.context().close();

// ----- latency -----
interface Row { model: string; engine: string; oursFirstMs: number; oursMs: number; directFirstMs: number; directMs: number; maxAbsDiff: number }
const rows: Row[] = [];
const latPage = await freshPage();
for (const engine of ["ort-web", "webgpu"] as const) {
  for (const model of MODELS) {
    process.stderr.write(`latency ${engine} ${model} ...\n`);
    const runs = engine === "webgpu" ? GPU_RUNS : RUNS;
    const r = await latPage.evaluate(
      async ({ engine, model, runs }) => {
        const w = await import(`${location.origin}/wasmdeploy.js`);
        const bytes = async (f: string) => new Uint8Array(await (await fetch(`/files/${f}`)).arrayBuffer());
        const x = w.Tensor.fromNpy(await bytes(`${model}.input.npy`));
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
        const timed = async (fn: () => Promise<unknown>) => {
          const t = performance.now();
          const y = await fn();
          return [performance.now() - t, y] as const;
        };
        // wasmdeploy (its engine loads ONNX Runtime first, with its settings: 1 thread)
        const m = await w.InterpreterManager.create({ interpreters: 1, engine });
        const obj = (await m.loadPackage(`/files/${model}.pt`)).loadPickle("model", "model.pkl");
        const [oursFirstMs, ours] = await timed(() => obj.call(x));
        // onnxruntime-web directly, the same module instance and provider
        const ort = await import(`${location.origin}/ort/ort.webgpu.min.mjs`);
        const onnx = await bytes(`${model}.onnx`);
        const feeds = { x: new ort.Tensor("float32", x.data, x.shape) };
        const session = await ort.InferenceSession.create(onnx, { executionProviders: [engine === "webgpu" ? "webgpu" : "wasm"], graphOptimizationLevel: "all" });
        const [directFirstMs, direct] = await timed(() => session.run(feeds));
        // Alternate the two, so a busy machine slows both alike.
        const oursT: number[] = [];
        const directT: number[] = [];
        for (let i = 0; i < runs; i++) {
          oursT.push((await timed(() => obj.call(x)))[0]);
          directT.push((await timed(() => session.run(feeds)))[0]);
        }
        const a = (ours as { data: Float32Array }).data;
        const b = (direct as Record<string, { data: Float32Array }>).y!.data;
        let maxAbsDiff = 0;
        for (let i = 0; i < b.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i]! - b[i]!));
        await session.release();
        await m.close();
        return { oursFirstMs, oursMs: median(oursT), directFirstMs, directMs: median(directT), maxAbsDiff };
      },
      { engine, model, runs },
    );
    rows.push({ model, engine, ...r });
  }
}
await browser.close();
server.kill();

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const MB = (n: number) => (n / 2 ** 20).toFixed(1);
const lines = [
  `Chromium ${browser.version()} headless, this machine; WebGPU = SwiftShader (a CPU). Runs: ${RUNS} (wasm), ${GPU_RUNS} (webgpu), after one warm-up.`,
  "",
  "| model (224x224, b1) | engine | wasmdeploy first call | wasmdeploy median | ORT Web direct first | ORT Web direct median | ratio | max |diff| |",
  "|---|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.model} | ${r.engine} | ${fmt(r.oursFirstMs)} ms | ${fmt(r.oursMs)} ms | ${fmt(r.directFirstMs)} ms | ${fmt(r.directMs)} ms | ${(r.oursMs / r.directMs).toFixed(2)}x | ${r.maxAbsDiff.toExponential(1)} |`),
  "",
  `| boot (1 interpreter) | total | snapshot | python.wasm compile |`,
  "|---|---|---|---|",
  `| cold (first visit: snapshot ${cold.snapshot}) | ${fmt(cold.ms)} ms | ${fmt(cold.snapshotMs)} ms | ${fmt(cold.wasmCompileMs)} ms |`,
  `| cached (second visit: snapshot from ${cached.snapshot === "disk" ? "Cache API" : cached.snapshot}) | ${fmt(cached.ms)} ms | ${fmt(cached.snapshotMs)} ms | ${fmt(cached.wasmCompileMs)} ms |`,
  "",
  `memory (measureUserAgentSpecificMemory, cross-origin isolated: ${String(memory.isolated)}):`,
  ...[1, 4].map((n) => {
    const m = memory[`n${n}`] as { total: number; workerBytes: number[]; linearMemory: number[] };
    return `  ${n} interpreter(s): page total ${MB(m.total)} MB; per worker ${m.workerBytes.map(MB).join(", ")} MB; linear memory per instance ${m.linearMemory.map(MB).join(", ")} MB`;
  }),
];
process.stdout.write(`${lines.join("\n")}\n`);
mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
const file = path.join(ROOT, "bench", "results", `${new Date().toISOString().slice(0, 10)}-browser.json`);
writeFileSync(file, JSON.stringify({ chromium: browser.version(), runs: RUNS, gpuRuns: GPU_RUNS, boot: { cold, cached }, memory, latency: rows }, null, 1));
process.stderr.write(`wrote ${file}\n`);
