// Experiment 1: latency per model and batch size.
//
// Systems, each in its own process, one call at a time, same inputs:
//   wasmdeploy on each engine (ort-node sandboxed and trusted, ort-web sandboxed), 1 interpreter,
//   onnxruntime-node and onnxruntime-web on torch.onnx.export of the same model (graph mode, the
//   TorchScript analogue), PyTorch eager (the archive loaded with torch.package) on 1 thread and
//   on all cores.
// Every system's output is checked against PyTorch's expected output before it is timed. For
// wasmdeploy, the engine's share of each call is measured by timing Engine.run inside the host
// process (the engine is driven from there; ort-node runs graphs on engine threads); the rest of the call is wasmdeploy's own
// overhead: Python recording the graph and hashing it, the bridge, the message hops.

import { readFileSync } from "node:fs";
import type { Tensor as TensorT } from "wasmdeploy";
import {
  type CheckResult,
  type Manifest,
  type ModelEntry,
  type Summary,
  SNAPSHOT_DIR,
  type TimingSettings,
  checkArray,
  errorString,
  findModel,
  log,
  progress,
  repoPath,
  round,
  runPython,
  runTsChild,
  summarize,
  timeCalls,
} from "../lib/common.js";
import type { Ctx } from "../run.js";
import * as testing from "wasmdeploy/testing";

export interface LatencyCell {
  model: string;
  batch: number;
  system: string;
  ok: boolean;
  error?: string;
  skipped?: string;
  check?: CheckResult;
  firstCallMs?: number;
  ms?: Summary;
  samples?: number[];
  /** wasmdeploy: time inside Engine.run per call, and the rest (wasmdeploy's own overhead). */
  engineMs?: Summary;
  overheadMs?: Summary;
  sessionsCompiled?: number;
}

export interface LatencySystem {
  id: string;
  label: string;
  kind: "wasmdeploy" | "ort" | "torch";
  engine?: "ort-node" | "ort-web";
  isolation?: "sandboxed" | "trusted";
  threads?: number;
  note: string;
}

export function latencySystems(cores: number): LatencySystem[] {
  return [
    { id: "wasmdeploy-ort-node", label: "wasmdeploy, ort-node", kind: "wasmdeploy", engine: "ort-node", isolation: "sandboxed", note: "1 interpreter, sandboxed (default), engine 1 thread" },
    { id: "wasmdeploy-ort-node-trusted", label: "wasmdeploy, ort-node, trusted", kind: "wasmdeploy", engine: "ort-node", isolation: "trusted", note: "1 interpreter as a worker thread, engine 1 thread" },
    { id: "wasmdeploy-ort-web", label: "wasmdeploy, ort-web", kind: "wasmdeploy", engine: "ort-web", isolation: "sandboxed", note: "1 interpreter, sandboxed, onnxruntime-web wasm, 1 thread" },
    { id: "ort-node-graph", label: "onnxruntime-node (graph)", kind: "ort", engine: "ort-node", note: "torch.onnx.export, opset 17, 1 intra-op thread" },
    { id: "ort-web-graph", label: "onnxruntime-web (graph)", kind: "ort", engine: "ort-web", note: "torch.onnx.export, opset 17, wasm, 1 thread" },
    { id: "torch-1t", label: "PyTorch eager, 1 thread", kind: "torch", threads: 1, note: "torch.package archive, no_grad, torch.set_num_threads(1)" },
    { id: `torch-${cores}t`, label: `PyTorch eager, ${cores} threads`, kind: "torch", threads: cores, note: `torch.set_num_threads(${cores})` },
  ];
}

interface ChildArgs {
  manifestPath: string;
  system: LatencySystem;
  cells: { model: string; batch: number }[];
  timing: TimingSettings;
}

export async function runLatency(ctx: Ctx): Promise<unknown> {
  const systems = latencySystems(ctx.cores);
  const models = ctx.settings.latencyModels;
  const cellsAll: LatencyCell[] = [];
  const manifest = ctx.manifest;
  if (!manifest) {
    ctx.skip("latency", "no models: they need /usr/bin/python3 with torch and torchvision");
    return { skipped: "no models" };
  }
  let i = 0;
  for (const sys of systems) {
    i++;
    const want: { model: string; batch: number }[] = [];
    for (const model of models) {
      for (const batch of ctx.settings.batches) {
        const e = findModel(manifest, model, batch);
        const skipped = skipReason(ctx, sys, e, model, batch);
        if (skipped) cellsAll.push({ model, batch, system: sys.id, ok: false, skipped });
        else want.push({ model, batch });
      }
    }
    if (sys.kind === "torch" && !ctx.python.ok) {
      for (const c of want) cellsAll.push({ ...c, system: sys.id, ok: false, skipped: ctx.python.reason });
      log(`latency [${i}/${systems.length}] ${sys.label}: skipped (${ctx.python.reason})`);
      continue;
    }
    if (want.length === 0) continue;
    log(`latency [${i}/${systems.length}] ${sys.label}: ${want.map((c) => `${c.model} b${c.batch}`).join(", ")}`);
    const args: ChildArgs = { manifestPath: ctx.manifestPath, system: sys, cells: want, timing: ctx.settings.latencyTiming };
    const r =
      sys.kind === "torch"
        ? await runPython<{ cells: LatencyCell[] }>("latency.py", args, { timeoutMs: 30 * 60_000, env: { OMP_NUM_THREADS: String(sys.threads) } })
        : await runTsChild<{ cells: LatencyCell[] }>("latency", args, { timeoutMs: 30 * 60_000 });
    if (!r.ok) {
      log(`  ${sys.label} failed: ${r.error}`);
      for (const c of want) cellsAll.push({ ...c, system: sys.id, ok: false, error: r.error });
    } else {
      for (const c of r.value!.cells) cellsAll.push({ ...c, system: sys.id });
    }
  }
  return {
    method:
      `One call at a time from one caller, same input arrays for every system. Per cell: one call checked against PyTorch's ` +
      `expected output (|err| <= 1e-4 * max(1, max|expected|)) that also serves as warm-up, ${ctx.settings.latencyTiming.warmup ? `${ctx.settings.latencyTiming.warmup} more warm-up calls` : "no further warm-up"}, then at least ` +
      `${ctx.settings.latencyTiming.minReps} timed calls (more until ${ctx.settings.latencyTiming.budgetMs} ms, at most ` +
      `${ctx.settings.latencyTiming.maxReps}). Each wasmdeploy call gets new Tensor objects (no result can be reused). ` +
      `wasmdeploy's overhead per call = call latency minus the time spent in Engine.run during that call (measured in the ` +
      `host process, where the engine runs): Python recording and hashing the graph, the bridge, messages.`,
    systems,
    models: models.map((m) => {
      const e = findModel(manifest, m, 1);
      return { model: m, describe: e?.describe, params: e?.params, archiveBytes: e?.archive_bytes };
    }),
    cells: cellsAll,
  };
}

function skipReason(ctx: Ctx, sys: LatencySystem, e: ModelEntry | undefined, model: string, batch: number): string | undefined {
  if (!e) return `no ${model} batch ${batch} in the model cache`;
  if (sys.kind === "ort" && !e.onnx) return `no ONNX export: ${e.onnx_error ?? "unknown"}`;
  if (ctx.settings.quick && sys.engine === "ort-web" && model === "resnet50" && batch > 1) return "skipped in --quick (several seconds per call on onnxruntime-web)";
  return undefined;
}

// ------------------------------------------------------------------------------------------
// Child: wasmdeploy or ONNX Runtime
// ------------------------------------------------------------------------------------------

function loadArrays(files: { file: string }[], Tensor: typeof TensorT): TensorT[] {
  return files.map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file)))));
}

function checkOutput(got: unknown, want: TensorT, Tensor: typeof TensorT): CheckResult {
  if (!(got instanceof Tensor)) return { ok: false, error: `expected a tensor result, got ${describeValue(got)}` };
  return checkArray(got.data as ArrayLike<number>, got.shape, want.data as ArrayLike<number>, want.shape);
}

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === "object" ? (v as object).constructor?.name ?? "object" : typeof v;
}

export async function latencyChild(args: ChildArgs): Promise<unknown> {
  const { system } = args;
  const manifest = JSON.parse(readFileSync(args.manifestPath, "utf8")) as Manifest;
  const cells: LatencyCell[] = [];
  if (system.kind === "wasmdeploy") await wasmdeployCells(args, manifest, cells);
  else await ortCells(args, manifest, cells);
  return { cells };
}

async function wasmdeployCells(args: ChildArgs, manifest: Manifest, cells: LatencyCell[]) {
  const { InterpreterManager, Tensor } = await import("wasmdeploy");
  let manager;
  try {
    manager = await InterpreterManager.create({
      interpreters: 1,
      engine: args.system.engine,
      isolation: args.system.isolation,
      snapshotDir: SNAPSHOT_DIR,
      callTimeoutMs: 300_000,
    });
  } catch (e) {
    for (const c of args.cells) cells.push({ ...c, system: args.system.id, ok: false, error: `manager: ${errorString(e)}` });
    return;
  }
  // Time spent in the engine: wrap Engine.run of this process's engine (the host runs it for
  // every interpreter, on its engine threads).
  const engine = await testing.engine(manager);
  const run = engine.run.bind(engine);
  let engineMs = 0;
  engine.run = async (g, f, k) => {
    const t = performance.now();
    try {
      return await run(g, f, k);
    } finally {
      engineMs += performance.now() - t;
    }
  };
  const packages = new Map<string, Awaited<ReturnType<typeof manager.loadPackage>>>();
  try {
    for (const c of args.cells) {
      const e = findModel(manifest, c.model, c.batch)!;
      const cell: LatencyCell = { ...c, system: args.system.id, ok: false };
      cells.push(cell);
      try {
        let pkg = packages.get(e.archive);
        if (!pkg) packages.set(e.archive, (pkg = await manager.loadPackage(repoPath(e.archive))));
        const model = pkg.loadPickle(e.pickle[0], e.pickle[1]);
        const inputs = loadArrays(e.inputs, Tensor);
        const want = loadArrays(e.expected, Tensor)[0]!;
        const fresh = () => inputs.map((t) => new Tensor(t.dtype, t.data, t.shape));
        const t = performance.now();
        const out = await model.call(...fresh());
        cell.firstCallMs = round(performance.now() - t);
        cell.check = checkOutput(out, want, Tensor);
        if (!cell.check.ok) {
          cell.error = cell.check.error;
          progress(`${c.model} b${c.batch}: failed: ${cell.error}`);
          continue;
        }
        const eng: number[] = [];
        const samples = await timeCalls(args.timing, fresh, async (a) => {
          engineMs = 0;
          await model.call(...a);
          eng.push(engineMs);
        });
        const engSamples = eng.slice(eng.length - samples.length);
        cell.ok = true;
        cell.ms = summarize(samples);
        cell.samples = samples.map((x) => round(x));
        cell.engineMs = summarize(engSamples);
        cell.overheadMs = summarize(samples.map((x, i) => x - engSamples[i]!));
        cell.sessionsCompiled = (engine as { stats?: () => { sessionsCompiled: number } }).stats?.().sessionsCompiled;
        progress(`${c.model} b${c.batch}: ${fmt(cell.ms)}; engine ${cell.engineMs.median.toFixed(2)} ms, overhead ${cell.overheadMs.median.toFixed(2)} ms`);
      } catch (err) {
        cell.error = errorString(err);
        progress(`${c.model} b${c.batch}: failed: ${cell.error}`);
      }
    }
  } finally {
    await manager.close();
  }
}

const fmt = (s: Summary) => `median ${s.median.toFixed(2)} ms (p10 ${s.p10.toFixed(2)}, p90 ${s.p90.toFixed(2)}, n=${s.n})`;

type Ort = typeof import("onnxruntime-node");

async function ortCells(args: ChildArgs, manifest: Manifest, cells: LatencyCell[]) {
  const { Tensor } = await import("wasmdeploy");
  const web = args.system.engine === "ort-web";
  const ort = (web ? await import("onnxruntime-web") : await import("onnxruntime-node")) as unknown as Ort;
  if (web) {
    (ort.env as unknown as { wasm: { numThreads: number } }).wasm.numThreads = 1;
    ort.env.logLevel = "fatal";
  }
  for (const c of args.cells) {
    const e = findModel(manifest, c.model, c.batch)!;
    const cell: LatencyCell = { ...c, system: args.system.id, ok: false };
    cells.push(cell);
    let session: Awaited<ReturnType<Ort["InferenceSession"]["create"]>> | undefined;
    try {
      const opts = web
        ? { executionProviders: ["wasm"], graphOptimizationLevel: "all" as const }
        : { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" as const, graphOptimizationLevel: "all" as const };
      session = await ort.InferenceSession.create(new Uint8Array(readFileSync(repoPath(e.onnx!))), opts);
      const inputs = loadArrays(e.inputs, Tensor);
      const want = loadArrays(e.expected, Tensor)[0]!;
      const names = inputs.map((_, i) => (i === 0 ? "input" : `input${i}`));
      const fresh = () => Object.fromEntries(inputs.map((t, i) => [names[i]!, new ort.Tensor(t.dtype as "float32", t.data as Float32Array, t.shape as number[])]));
      const s = session;
      const t = performance.now();
      const out = await s.run(fresh());
      cell.firstCallMs = round(performance.now() - t);
      const o = out.output!;
      cell.check = checkArray(o.data as ArrayLike<number>, o.dims, want.data as ArrayLike<number>, want.shape);
      if (!cell.check.ok) {
        cell.error = cell.check.error;
        progress(`${c.model} b${c.batch}: failed: ${cell.error}`);
        continue;
      }
      const samples = await timeCalls(args.timing, fresh, (f) => s.run(f));
      cell.ok = true;
      cell.ms = summarize(samples);
      cell.samples = samples.map((x) => round(x));
      progress(`${c.model} b${c.batch}: ${fmt(cell.ms)}`);
    } catch (err) {
      cell.error = errorString(err);
      progress(`${c.model} b${c.batch}: failed: ${cell.error}`);
    } finally {
      await session?.release();
    }
  }
}
