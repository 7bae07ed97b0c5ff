// Experiment 3: cold start. Every figure comes from a fresh process.
//
//   pool ready: InterpreterManager.create with n interpreters, then one trivial call on each;
//     with an empty snapshot directory (cold: Pyodide boots from scratch, imports the runtime,
//     the snapshot is taken, then restored) and with the snapshot cached on disk.
//   additional interpreter: per-interpreter restore time (stats().interpreters[].bootMs) and the
//     marginal wall time of a pool of n over a pool of 1.
//   first inference from an archive on disk: a fresh `node` process (plain JS, no tsx) that
//     creates a 1-interpreter manager, loads the archive and makes the first call; against a
//     fresh /usr/bin/python3 that imports torch, loads the archive with torch.package and calls.
//     Both wall times are measured by the parent from spawn to exit.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BENCH_DIR,
  SNAPSHOT_DIR,
  errorString,
  findModel,
  log,
  progress,
  repoPath,
  round,
  runChild,
  runPython,
  runTsChild,
} from "../lib/common.js";
import type { Ctx } from "../run.js";

export interface PoolRun {
  isolation: string;
  n: number;
  cold: boolean;
  ok: boolean;
  error?: string;
  snapshot?: string;
  snapshotMs?: number;
  wasmCompileMs?: number;
  firstReadyMs?: number;
  allReadyMs?: number;
  bootMs?: number[];
  processStartToReadyMs?: number;
}

export interface FirstCallRun {
  system: string;
  workload: string;
  ok: boolean;
  error?: string;
  wallMs?: number;
  phases?: Record<string, number>;
}

export async function runColdstart(ctx: Ctx): Promise<unknown> {
  const s = ctx.settings;
  const pools: PoolRun[] = [];
  const firstCalls: FirstCallRun[] = [];
  for (const isolation of ["sandboxed", "trusted"] as const) {
    log(`cold start, ${isolation}: first interpreter with no snapshot cached (x${s.coldReps})`);
    for (let r = 0; r < s.coldReps; r++) {
      const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-bench-cold-"));
      try {
        pools.push(await pool(isolation, 1, dir, true));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    log(`cold start, ${isolation}: pools of ${s.poolCounts.join(", ")} from the cached snapshot`);
    for (const n of s.poolCounts) for (let r = 0; r < (n === 1 ? s.coldReps : s.poolReps); r++) pools.push(await pool(isolation, n, SNAPSHOT_DIR, false));
  }

  const workloads = s.firstCallWorkloads.filter((w) => ctx.manifest && (ctx.manifest.python_calls[w] || findModel(ctx.manifest, w, 1)));
  for (const w of workloads) {
    const spec = firstCallSpec(ctx, w);
    for (const isolation of ["sandboxed", "trusted"] as const) {
      log(`cold start: first ${w} inference from the archive on disk, wasmdeploy ${isolation} (x${s.coldReps})`);
      for (let r = 0; r < s.coldReps; r++) {
        const res = await runChild<Record<string, number | string | boolean>>(
          process.execPath,
          [path.join(BENCH_DIR, "experiments", "first-call.mjs"), JSON.stringify({ ...spec, isolation, snapshotDir: SNAPSHOT_DIR })],
          { timeoutMs: 300_000, label: "", forward: false },
        );
        const v = res.value;
        const run: FirstCallRun = { system: `wasmdeploy-${isolation}`, workload: w, ok: !!(res.ok && v?.ok), wallMs: round(res.wallMs) };
        if (!res.ok) run.error = res.error;
        else if (!v!.ok) run.error = String(v!.error);
        if (v) run.phases = pickNumbers(v, ["nodeStartMs", "createMs", "loadPackageMs", "firstCallMs", "firstResultAtMs"]);
        firstCalls.push(run);
        progress(`         ${w} ${isolation}: ${run.ok ? `${run.wallMs!.toFixed(0)} ms spawn to exit` : `failed: ${run.error}`}`);
      }
    }
    if (!ctx.python.ok) {
      firstCalls.push({ system: "torch", workload: w, ok: false, error: `skipped: ${ctx.python.reason}` });
      continue;
    }
    log(`cold start: first ${w} inference from the archive on disk, PyTorch process (x${s.coldReps})`);
    for (let r = 0; r < s.coldReps; r++) {
      const res = await runPython<Record<string, number | string | boolean>>("coldstart.py", { workload: w }, { timeoutMs: 300_000, forward: false, env: { OMP_NUM_THREADS: "1" } });
      const v = res.value;
      const run: FirstCallRun = { system: "torch", workload: w, ok: !!(res.ok && v?.ok), wallMs: round(res.wallMs) };
      if (!res.ok) run.error = res.error;
      else if (!v!.ok) run.error = String(v!.error);
      if (v) run.phases = pickNumbers(v, ["importTorchMs", "loadMs", "firstCallMs", "firstResultAtMs"]);
      firstCalls.push(run);
      progress(`         ${w} PyTorch: ${run.ok ? `${run.wallMs!.toFixed(0)} ms spawn to exit` : `failed: ${run.error}`}`);
    }
  }
  return {
    method:
      `Fresh processes only. Pool: InterpreterManager.create({interpreters: n}) plus one trivial call per interpreter; ` +
      `"cold" = empty snapshot directory (Pyodide boots from scratch, imports the runtime and the torch layer, the snapshot ` +
      `is written, then restored); otherwise the snapshot is on disk. bootMs is each interpreter's own start (worker or process ` +
      `start + restore + runtime set-up). First inference: wall time from spawn to exit of a fresh plain-node process ` +
      `(create a 1-interpreter manager, loadPackage from disk, loadPickle, first call; the result checked after the clock) ` +
      `vs a fresh /usr/bin/python3 (import torch, PackageImporter + load_pickle, first call under no_grad, 1 thread).`,
    pools,
    firstCalls,
  };
}

async function pool(isolation: "sandboxed" | "trusted", n: number, snapshotDir: string, cold: boolean): Promise<PoolRun> {
  const r = await runTsChild<PoolRun>("pool", { isolation, n, snapshotDir, cold }, { timeoutMs: 300_000 });
  const run: PoolRun = r.ok ? r.value! : { isolation, n, cold, ok: false, error: r.error };
  progress(
    `         ${isolation} n=${n}${cold ? " (no snapshot)" : ""}: ` +
      (run.ok ? `first ready ${run.firstReadyMs!.toFixed(0)} ms, all ready ${run.allReadyMs!.toFixed(0)} ms, boots ${run.bootMs!.map((b) => b.toFixed(0)).join("/")} ms` : `failed: ${run.error}`),
  );
  return run;
}

function pickNumbers(v: Record<string, unknown>, keys: string[]): Record<string, number> {
  const o: Record<string, number> = {};
  for (const k of keys) if (typeof v[k] === "number") o[k] = round(v[k] as number);
  return o;
}

function firstCallSpec(ctx: Ctx, w: string): Record<string, unknown> {
  const pc = ctx.manifest!.python_calls[w];
  if (pc) return { archive: repoPath(pc.archive), pickle: pc.pickle, method: pc.method, args: pc.args, expected: pc.expected };
  const e = findModel(ctx.manifest!, w, 1)!;
  return { archive: repoPath(e.archive), pickle: e.pickle, inputs: e.inputs.map((f) => repoPath(f.file)), expected: repoPath(e.expected[0]!.file) };
}

// ------------------------------------------------------------------------------------------
// Child: a pool of n interpreters
// ------------------------------------------------------------------------------------------

export async function poolChild(a: { isolation: "sandboxed" | "trusted"; n: number; snapshotDir: string; cold: boolean }): Promise<PoolRun> {
  const { InterpreterManager } = await import("wasmdeploy");
  const run: PoolRun = { isolation: a.isolation, n: a.n, cold: a.cold, ok: false };
  let m;
  try {
    m = await InterpreterManager.create({ interpreters: a.n, isolation: a.isolation, snapshotDir: a.snapshotDir });
    await Promise.all(
      m.allInstances().map(async (inst) => {
        const s = inst.acquireSession();
        await (await s.global("builtins", "len")).call([1, 2, 3]);
        await s.release();
      }),
    );
    run.processStartToReadyMs = round(performance.now());
    const st = m.stats();
    Object.assign(run, {
      ok: true,
      snapshot: st.boot.snapshot,
      snapshotMs: round(st.boot.snapshotMs),
      wasmCompileMs: round(st.boot.wasmCompileMs),
      firstReadyMs: round(st.boot.firstReadyMs),
      allReadyMs: round(st.boot.allReadyMs),
      bootMs: st.interpreters.map((i) => round(i.bootMs ?? NaN)),
    });
  } catch (e) {
    run.error = errorString(e);
  } finally {
    await m?.close();
  }
  return run;
}
