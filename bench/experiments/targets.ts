// Experiment 5: the small-model targets of issue 10, each a ratio against a baseline measured in
// the same run (wasmdeploy and ONNX Runtime in the same child process, alternating blocks).
//
//   tiny GPT (2 layers, n_embd 64, batch 2 x 20 tokens): wasmdeploy, 1 interpreter, vs
//     onnxruntime-node on its torch.onnx export in graph mode (1 intra-op thread, all graph
//     optimizations): target <= 1.3x (issue 23; issue 10 had 1.5x).
//   resnet18, batch 1, one caller: wasmdeploy with default settings vs onnxruntime-node with
//     its default session options: target <= 1.15x.
//   mlp throughput at 2 interpreters (4 callers) vs PyTorch with 2 Python threads sharing one
//     model (experiment 2's baseline): target > 1x.
//   mlp and resnet18 throughput at `cores` interpreters with replay on vs off (the path before),
//     alternating windows in one process: target >= 1x (replay must not cost throughput); the
//     same with host replay on vs off (src/pool/host-replay.ts).
// Every row for both interpreter kinds (WASI, Pyodide) and both isolations. Plus the per-hop
// breakdown of one call (bench/hops.ts): replay off, Python replay, host replay.

import { readFileSync } from "node:fs";
import { measureHops, type HopRow } from "../hops.js";
import {
  type Manifest,
  SNAPSHOT_DIR,
  type Summary,
  type TimingSettings,
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
import type { ThroughputPoint } from "./throughput.js";

export interface TargetRow {
  id: string;
  label: string;
  target: string;
  isolation?: string;
  /** The interpreter kind ("wasi" when absent: results from before the column existed). */
  interpreter?: Kind;
  ok: boolean;
  error?: string;
  ours?: number;
  baseline?: number;
  unit: "ms" | "calls/s";
  /** ours / baseline (latency: lower is better; throughput: higher is better). */
  ratio?: number;
  met?: boolean;
  oursMs?: Summary;
  baselineMs?: Summary;
}

type Kind = "wasi" | "pyodide";
const KINDS: Kind[] = ["wasi", "pyodide"];
const ISOLATIONS = ["sandboxed", "trusted"] as const;

interface ChildArgs {
  manifestPath: string;
  isolation: "sandboxed" | "trusted";
  interpreter: Kind;
  timing: TimingSettings;
}

export async function runTargets(ctx: Ctx): Promise<unknown> {
  if (!ctx.manifest) {
    ctx.skip("targets", "no model cache (needs /usr/bin/python3 with torch)");
    return { skipped: "no models" };
  }
  const rows: TargetRow[] = [];
  const timing = ctx.settings.latencyTiming;
  for (const interpreter of KINDS) {
    for (const isolation of ISOLATIONS) {
      log(`targets: latency rows, wasmdeploy ${interpreter} ${isolation} vs onnxruntime-node`);
      const r = await runTsChild<{ rows: TargetRow[] }>("targets", { manifestPath: ctx.manifestPath, isolation, interpreter, timing } satisfies ChildArgs, { timeoutMs: 30 * 60_000 });
      if (r.ok) rows.push(...r.value!.rows);
      else rows.push({ id: "latency", label: "latency rows", target: "", isolation, interpreter, ok: false, error: r.error, unit: "ms" });
    }
  }
  // mlp throughput at 2: wasmdeploy (both isolations) vs PyTorch threads, same settings as experiment 2.
  const common = { manifestPath: ctx.manifestPath, counts: [2], workloads: ["mlp"], durationMs: ctx.settings.throughputMs, warmupMs: ctx.settings.throughputWarmupMs };
  log("targets: mlp throughput at 2 interpreters vs PyTorch with 2 threads");
  const torch = ctx.python.ok
    ? await runPython<{ points: ThroughputPoint[] }>("throughput.py", { ...common, mode: "threads", system: "torch-threads" }, { timeoutMs: 10 * 60_000, env: { OMP_NUM_THREADS: "1" } })
    : { ok: false as const, error: ctx.python.reason };
  const base = torch.ok ? torch.value!.points[0] : undefined;
  for (const [interpreter, isolation] of KINDS.flatMap((k) => ISOLATIONS.map((i) => [k, i] as const))) {
    const row: TargetRow = { id: "mlp-throughput-2", label: "mlp throughput, 2 interpreters vs PyTorch 2 threads", target: "> 1x", isolation, interpreter, ok: false, unit: "calls/s" };
    rows.push(row);
    const ours = await runTsChild<{ points: ThroughputPoint[] }>("throughput", { ...common, isolation, interpreter, system: `wasmdeploy-${isolation}` }, { timeoutMs: 10 * 60_000 });
    const p = ours.ok ? ours.value!.points[0] : undefined;
    if (!p?.ok || !base?.ok) {
      row.error = !p?.ok ? (p?.error ?? (ours.ok ? "no point" : ours.error)) : (base?.error ?? (torch.ok ? "no baseline" : torch.error));
      continue;
    }
    Object.assign(row, { ok: true, ours: p.callsPerS, baseline: base.callsPerS, ratio: round(p.callsPerS! / base.callsPerS!, 3), met: p.callsPerS! > base.callsPerS! });
    progress(`mlp x2 ${interpreter} ${isolation}: ${p.callsPerS} vs ${base.callsPerS} calls/s`);
  }
  // Throughput under full load with host replay on against off (the path before it), same
  // process, alternating windows: answering on the host must not cost throughput.
  for (const [interpreter, isolation] of KINDS.flatMap((k) => ISOLATIONS.map((i) => [k, i] as const))) {
    log(`targets: throughput at ${ctx.cores} interpreters, host replay on vs off (${interpreter} ${isolation})`);
    const args: OptionAbArgs = { manifestPath: ctx.manifestPath, isolation, interpreter, n: ctx.cores, windowMs: ctx.settings.throughputMs / 2, warmupMs: ctx.settings.throughputWarmupMs / 2, id: "host-ab", what: "host replay", off: { hostReplay: false } };
    const r = await runTsChild<{ rows: TargetRow[] }>("option-ab", args, { timeoutMs: 20 * 60_000 });
    if (r.ok) rows.push(...r.value!.rows);
    else rows.push({ id: "host-ab", label: "throughput, host replay on vs off", target: ">= 1x", isolation, interpreter, ok: false, error: r.error, unit: "calls/s" });
  }
  // Throughput under full load with replay on against off (the path before), same process,
  // alternating windows: replay must not cost throughput.
  for (const isolation of ["sandboxed", "trusted"] as const) {
    log(`targets: throughput at ${ctx.cores} interpreters, replay on vs off (${isolation})`);
    const r = await runTsChild<{ rows: TargetRow[] }>("replay-ab", { manifestPath: ctx.manifestPath, isolation, n: ctx.cores, windowMs: ctx.settings.throughputMs / 2, warmupMs: ctx.settings.throughputWarmupMs / 2 } satisfies AbArgs, { timeoutMs: 20 * 60_000 });
    if (r.ok) rows.push(...r.value!.rows);
    else rows.push({ id: "replay-ab", label: "throughput, replay on vs off", target: ">= 1x", isolation, ok: false, error: r.error, unit: "calls/s" });
  }
  for (const isolation of ["sandboxed", "trusted"] as const) {
    log(`targets: throughput at ${ctx.cores} interpreters, lone-call threads on vs off (${isolation})`);
    const args: OptionAbArgs = { manifestPath: ctx.manifestPath, isolation, n: ctx.cores, windowMs: ctx.settings.throughputMs / 2, warmupMs: ctx.settings.throughputWarmupMs / 2, id: "wide-ab", what: "lone-call threads", off: { loneCallThreads: 1 } };
    const r = await runTsChild<{ rows: TargetRow[] }>("option-ab", args, { timeoutMs: 20 * 60_000 });
    if (r.ok) rows.push(...r.value!.rows);
    else rows.push({ id: "wide-ab", label: "throughput, lone-call threads on vs off", target: ">= 1x", isolation, ok: false, error: r.error, unit: "calls/s" });
  }
  log("targets: per-hop breakdown (trusted, 1 interpreter, each kind)");
  let hops: HopRow[] | { error: string } = [];
  for (const interpreter of KINDS) {
    const h = await runTsChild<{ rows: HopRow[] }>("hops", { models: ["tinygpt", "resnet18"], calls: ctx.settings.quick ? 60 : 300, isolation: "trusted", interpreter }, { timeoutMs: 20 * 60_000 });
    if (!h.ok) {
      hops = { error: `${interpreter}: ${h.error ?? "failed"}` };
      break;
    }
    hops.push(...h.value!.rows);
  }
  return {
    method:
      "Ratios against baselines measured in the same run: the latency rows time wasmdeploy and onnxruntime-node in one child " +
      "process, in alternating blocks, one call at a time; the throughput row uses experiment 2's closed loop for both systems. " +
      "Every row for both interpreter kinds. The hop table times one interpreter's calls with replay off (every call records), " +
      "Python replay (host replay off) and host replay (the default).",
    rows,
    hops,
  };
}

export async function hopsChild(args: { models: string[]; calls: number; isolation: "trusted" | "sandboxed"; interpreter?: Kind }): Promise<unknown> {
  return { rows: await measureHops(args) };
}

// ------------------------------------------------------------------------------------------
// Child: wasmdeploy and onnxruntime-node, alternating blocks in one process
// ------------------------------------------------------------------------------------------

export async function targetsChild(args: ChildArgs): Promise<unknown> {
  const { InterpreterManager, Tensor } = await import("wasmdeploy");
  const ort = await import("onnxruntime-node");
  const manifest = JSON.parse(readFileSync(args.manifestPath, "utf8")) as Manifest;
  const rows: TargetRow[] = [];
  const cases = [
    // Issue 10 set 1.5x; issue 23 lowered it to 1.3x.
    { id: "tinygpt-vs-ort-graph", label: "tiny GPT (2 layers, d 64, 2x20 tokens) vs onnxruntime-node graph mode", target: "<= 1.3x", model: "tinygpt", batch: 2, interpreters: 1 as number | undefined, ortOpts: { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" as const, graphOptimizationLevel: "all" as const } },
    { id: "resnet18-b1-vs-ort-default", label: "resnet18 batch 1, one caller, default settings vs onnxruntime-node defaults", target: "<= 1.15x", model: "resnet18", batch: 1, interpreters: undefined, ortOpts: {} },
    // The same with lone calls kept on one core (loneCallThreads 1): what a lone call got before.
    { id: "resnet18-b1-narrow-vs-ort-default", label: "resnet18 batch 1, one caller, lone call on 1 core (loneCallThreads 1) vs onnxruntime-node defaults", target: "<= 1.15x", model: "resnet18", batch: 1, interpreters: undefined, ortOpts: {}, managerOpts: { loneCallThreads: 1 } },
  ] as { id: string; label: string; target: string; model: string; batch: number; interpreters: number | undefined; ortOpts: Record<string, unknown>; managerOpts?: Record<string, unknown> }[];
  for (const c of cases) {
    const row: TargetRow = { id: c.id, label: c.label, target: c.target, isolation: args.isolation, interpreter: args.interpreter, ok: false, unit: "ms" };
    rows.push(row);
    let manager;
    let session;
    try {
      const e = findModel(manifest, c.model, c.batch);
      if (!e?.onnx) throw new Error(`no ${c.model} batch ${c.batch} ONNX export in the model cache`);
      const inputs = e.inputs.map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file)))));
      manager = await InterpreterManager.create({ interpreters: c.interpreters, interpreter: args.interpreter, isolation: args.isolation, snapshotDir: SNAPSHOT_DIR, callTimeoutMs: 300_000, ...c.managerOpts });
      const model = (await manager.loadPackage(repoPath(e.archive))).loadPickle(e.pickle[0], e.pickle[1]);
      session = await ort.InferenceSession.create(new Uint8Array(readFileSync(repoPath(e.onnx))), c.ortOpts);
      const names = inputs.map((_, i) => (i === 0 ? "input" : `input${i}`));
      const freshOrt = () => Object.fromEntries(inputs.map((t, i) => [names[i]!, new ort.Tensor(t.dtype as "float32", t.data as Float32Array, t.shape as number[])]));
      const freshOurs = () => inputs.map((t) => new Tensor(t.dtype, t.data, t.shape));
      const s = session;
      await model.call(...freshOurs());
      await s.run(freshOrt());
      // Alternating blocks, so drift on a shared machine hits both alike.
      const block: TimingSettings = { ...args.timing, budgetMs: args.timing.budgetMs / 4, minReps: Math.max(3, Math.ceil(args.timing.minReps / 4)) };
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let b = 0; b < 4; b++) {
        theirs.push(...(await timeCalls(block, freshOrt, (f) => s.run(f))));
        ours.push(...(await timeCalls(block, freshOurs, (a) => model.call(...a))));
      }
      row.oursMs = summarize(ours);
      row.baselineMs = summarize(theirs);
      row.ours = row.oursMs.median;
      row.baseline = row.baselineMs.median;
      row.ratio = round(row.ours / row.baseline, 3);
      row.met = row.ratio <= Number(c.target.replace(/[^0-9.]/g, ""));
      row.ok = true;
      progress(`${c.id} ${args.interpreter} ${args.isolation}: ${row.ours.toFixed(3)} ms vs ${row.baseline.toFixed(3)} ms = ${row.ratio}x`);
    } catch (err) {
      row.error = errorString(err);
      progress(`${c.id} ${args.interpreter} ${args.isolation}: failed: ${row.error}`);
    } finally {
      await session?.release();
      await manager?.close();
    }
  }
  return { rows };
}

// ------------------------------------------------------------------------------------------
// Child: throughput with replay on and off, alternating windows in one process
// ------------------------------------------------------------------------------------------

interface AbArgs {
  manifestPath: string;
  isolation: "sandboxed" | "trusted";
  n: number;
  windowMs: number;
  warmupMs: number;
}

export async function replayAbChild(args: AbArgs): Promise<unknown> {
  const { InterpreterManager, Tensor } = await import("wasmdeploy");
  const manifest = JSON.parse(readFileSync(args.manifestPath, "utf8")) as Manifest;
  const rows: TargetRow[] = [];
  let manager;
  try {
    manager = await InterpreterManager.create({ interpreters: args.n, isolation: args.isolation, snapshotDir: SNAPSHOT_DIR, callTimeoutMs: 300_000 });
    const m = manager;
    const setMode = (mode: string) =>
      Promise.all(m.allInstances().map(async (inst) => {
        const s = inst.acquireSession();
        try {
          await (await s.global("torch._replay", "set_default_mode")).call(mode);
        } finally {
          await s.release();
        }
      }));
    for (const model of ["mlp", "resnet18"]) {
      const row: TargetRow = { id: `replay-ab-${model}`, label: `${model} throughput at ${args.n} interpreters (${2 * args.n} callers), replay on vs off`, target: ">= 1x", isolation: args.isolation, ok: false, unit: "calls/s" };
      rows.push(row);
      try {
        const e = findModel(manifest, model, 1);
        if (!e) throw new Error(`no ${model} in the model cache`);
        const obj = (await m.loadPackage(repoPath(e.archive))).loadPickle(e.pickle[0], e.pickle[1]);
        const inputs = e.inputs.map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file)))));
        const fresh = () => inputs.map((t) => new Tensor(t.dtype, t.data, t.shape));
        const window = (ms: number) => closedLoopRate(obj, fresh, 2 * args.n, ms);
        const on: number[] = [];
        const off: number[] = [];
        for (let k = 0; k < 3; k++) {
          for (const [mode, into] of [["off", off], ["exact", on]] as const) {
            await setMode(mode);
            await window(args.warmupMs);
            into.push(await window(args.windowMs));
          }
        }
        const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
        Object.assign(row, { ok: true, ours: round(med(on), 1), baseline: round(med(off), 1), ratio: round(med(on) / med(off), 3), met: med(on) >= med(off) });
        progress(`${row.id} ${args.isolation}: on ${on.map((x) => x.toFixed(0)).join("/")}, off ${off.map((x) => x.toFixed(0)).join("/")} calls/s`);
      } catch (err) {
        row.error = errorString(err);
      }
    }
    await setMode("exact");
  } catch (err) {
    rows.push({ id: "replay-ab", label: "throughput, replay on vs off", target: ">= 1x", isolation: args.isolation, ok: false, error: errorString(err), unit: "calls/s" });
  } finally {
    await manager?.close();
  }
  return { rows };
}

// ------------------------------------------------------------------------------------------
// Child: throughput under full load with a feature on (default) vs off, one process
// ------------------------------------------------------------------------------------------

interface OptionAbArgs extends AbArgs {
  interpreter?: Kind;
  /** Row id prefix ("wide-ab", "host-ab") and what is switched ("lone-call threads"). */
  id: string;
  what: string;
  /** Manager options that turn the feature off. */
  off: Record<string, unknown>;
}

/**
 * Two managers in one process, the default one and one with `off` (e.g. loneCallThreads 1:
 * every run on one core, as before; hostReplay false: every call enters Python), loaded in
 * alternating windows: a busy pool must not lose throughput to the feature.
 */
export async function optionAbChild(args: OptionAbArgs): Promise<unknown> {
  const { InterpreterManager, Tensor } = await import("wasmdeploy");
  const manifest = JSON.parse(readFileSync(args.manifestPath, "utf8")) as Manifest;
  const rows: TargetRow[] = [];
  const managers: Awaited<ReturnType<typeof InterpreterManager.create>>[] = [];
  const label = (model: string) => `${model} throughput at ${args.n} interpreters (${2 * args.n} callers), ${args.what} on vs off`;
  try {
    for (const extra of [{}, args.off]) {
      managers.push(await InterpreterManager.create({ interpreters: args.n, interpreter: args.interpreter, isolation: args.isolation, snapshotDir: SNAPSHOT_DIR, callTimeoutMs: 300_000, ...extra }));
    }
    for (const model of ["mlp", "resnet18"]) {
      const row: TargetRow = { id: `${args.id}-${model}`, label: label(model), target: ">= 1x", isolation: args.isolation, interpreter: args.interpreter, ok: false, unit: "calls/s" };
      rows.push(row);
      try {
        const e = findModel(manifest, model, 1);
        if (!e) throw new Error(`no ${model} in the model cache`);
        const objs: import("wasmdeploy").ReplicatedObj[] = [];
        for (const m of managers) objs.push((await m.loadPackage(repoPath(e.archive))).loadPickle(e.pickle[0], e.pickle[1]));
        const inputs = e.inputs.map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file)))));
        const fresh = () => inputs.map((t) => new Tensor(t.dtype, t.data, t.shape));
        const window = (obj: (typeof objs)[number], ms: number) => closedLoopRate(obj, fresh, 2 * args.n, ms);
        const on: number[] = [];
        const off: number[] = [];
        for (let k = 0; k < 3; k++) {
          for (const [obj, into] of [[objs[1]!, off], [objs[0]!, on]] as const) {
            await window(obj, args.warmupMs);
            into.push(await window(obj, args.windowMs));
          }
        }
        const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
        Object.assign(row, { ok: true, ours: round(med(on), 1), baseline: round(med(off), 1), ratio: round(med(on) / med(off), 3), met: med(on) >= med(off) });
        progress(`${row.id} ${args.interpreter ?? ""} ${args.isolation}: on ${on.map((x) => x.toFixed(0)).join("/")}, off ${off.map((x) => x.toFixed(0)).join("/")} calls/s`);
      } catch (err) {
        row.error = errorString(err);
      }
    }
  } catch (err) {
    rows.push({ id: args.id, label: `throughput, ${args.what} on vs off`, target: ">= 1x", isolation: args.isolation, interpreter: args.interpreter, ok: false, error: errorString(err), unit: "calls/s" });
  } finally {
    await Promise.all(managers.map((m) => m.close()));
  }
  return { rows };
}

/** Calls/s of `callers` concurrent callers calling `obj` back to back for `ms` (a closed loop). */
async function closedLoopRate(obj: import("wasmdeploy").ReplicatedObj, inputs: () => import("wasmdeploy").Tensor[], callers: number, ms: number): Promise<number> {
  const start = performance.now();
  const until = start + ms;
  let calls = 0;
  let last = start;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < until) {
        await obj.call(...inputs());
        calls++;
        last = performance.now();
      }
    }),
  );
  return calls / ((last - start) / 1000);
}
