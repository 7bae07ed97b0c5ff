// Experiment 4: resident memory against the number of interpreters holding a model.
//
//   wasmdeploy: a fresh process per (isolation, n, model): n interpreters, the archive loaded,
//     the model unpickled on every interpreter and called once there; then GC, a pause, and
//     VmRSS of the host process plus, sandboxed, every interpreter's residentBytes
//     (manager.stats()). PSS of the whole process tree (/proc/<pid>/smaps_rollup, shared pages
//     split) is recorded too.
//   PyTorch: n Python processes, each holding the model after one inference; sum of VmRSS and
//     of PSS (bench/baselines/memory.py).

import { setTimeout as sleep } from "node:timers/promises";
import { readFileSync } from "node:fs";
import {
  type Manifest,
  SNAPSHOT_DIR,
  checkArray,
  checkValue,
  errorString,
  findModel,
  log,
  processTree,
  progress,
  pss,
  repoPath,
  runPython,
  runTsChild,
  vmRss,
} from "../lib/common.js";
import type { Ctx } from "../run.js";

export interface MemoryPoint {
  system: string;
  workload: string;
  n: number;
  ok: boolean;
  error?: string;
  /** What the interpreters hold: "model after one inference" or why less. */
  held?: string;
  rssBytes?: number;
  pssBytes?: number;
  hostRssBytes?: number;
  interpreterRssBytes?: number[];
  perProcessRss?: number[];
}

export const MEMORY_SYSTEMS = [
  { id: "wasmdeploy-sandboxed", label: "wasmdeploy, sandboxed" },
  { id: "wasmdeploy-trusted", label: "wasmdeploy, trusted" },
  { id: "torch-processes", label: "PyTorch, one process each" },
];

export async function runMemory(ctx: Ctx): Promise<unknown> {
  const counts = ctx.settings.memoryCounts;
  const workloads = ctx.settings.memoryWorkloads.filter((w) => ctx.manifest && (ctx.manifest.python_calls[w] || findModel(ctx.manifest, w, 1)));
  const points: MemoryPoint[] = [];
  for (const w of workloads) {
    for (const isolation of ["sandboxed", "trusted"] as const) {
      log(`memory: ${w}, wasmdeploy ${isolation}, ${counts.join(", ")} interpreters`);
      for (const n of counts) {
        const r = await runTsChild<MemoryPoint>("memory", { manifestPath: ctx.manifestPath, isolation, n, workload: w }, { timeoutMs: 600_000, gc: true });
        const p: MemoryPoint = r.ok ? r.value! : { system: `wasmdeploy-${isolation}`, workload: w, n, ok: false, error: r.error };
        points.push(p);
        progress(`         ${w} ${isolation} n=${n}: ${p.ok ? `${mb(p.rssBytes)} MB RSS, ${mb(p.pssBytes)} MB PSS (${p.held})` : `failed: ${p.error}`}`);
      }
    }
    if (!ctx.python.ok) {
      for (const n of counts) points.push({ system: "torch-processes", workload: w, n, ok: false, error: `skipped: ${ctx.python.reason}` });
      continue;
    }
    log(`memory: ${w}, PyTorch processes, ${counts.join(", ")}`);
    const r = await runPython<{ ok: boolean; error?: string; points: { n: number; rssBytes: number; pssBytes: number; perProcessRss: number[] }[] }>(
      "memory.py",
      { workload: w, counts },
      { timeoutMs: 600_000, env: { OMP_NUM_THREADS: "1" } },
    );
    const got = r.value?.points ?? [];
    for (const n of counts) {
      const q = got.find((x) => x.n === n);
      if (q) points.push({ system: "torch-processes", workload: w, n, ok: true, held: "model after one inference", rssBytes: q.rssBytes, pssBytes: q.pssBytes, perProcessRss: q.perProcessRss });
      else points.push({ system: "torch-processes", workload: w, n, ok: false, error: r.error ?? r.value?.error ?? "no data" });
    }
  }
  return {
    method:
      `Fresh process per configuration. wasmdeploy: n interpreters, the archive loaded, the model unpickled and called once on ` +
      `every interpreter (InterpreterSession.fromMovable), GC, 0.5 s pause; RSS = host VmRSS + each sandboxed interpreter ` +
      `process's residentBytes (manager.stats()). PyTorch: n /usr/bin/python3 processes each holding the model after one ` +
      `inference; RSS = sum of VmRSS. PSS (proportional set size: pages shared between processes, e.g. libtorch or the ` +
      `node binary, counted once in total) is given for both.`,
    counts,
    workloads,
    systems: MEMORY_SYSTEMS,
    points,
  };
}

const mb = (b: number | undefined) => (b === undefined ? "?" : (b / 2 ** 20).toFixed(0));

// ------------------------------------------------------------------------------------------
// Child: n interpreters holding one workload
// ------------------------------------------------------------------------------------------

export async function memoryChild(a: { manifestPath: string; isolation: "sandboxed" | "trusted"; n: number; workload: string }): Promise<MemoryPoint> {
  const { InterpreterManager, Tensor } = await import("wasmdeploy");
  const manifest = JSON.parse(readFileSync(a.manifestPath, "utf8")) as Manifest;
  const p: MemoryPoint = { system: `wasmdeploy-${a.isolation}`, workload: a.workload, n: a.n, ok: false };
  let m;
  try {
    m = await InterpreterManager.create({ interpreters: a.n, isolation: a.isolation, snapshotDir: SNAPSHOT_DIR, callTimeoutMs: 300_000 });
    const pc = manifest.python_calls[a.workload];
    const e = pc ? undefined : findModel(manifest, a.workload, 1)!;
    const pkg = await m.loadPackage(repoPath(pc ? pc.archive : e!.archive));
    const [pk, res] = pc ? pc.pickle : e!.pickle;
    const obj = pkg.loadPickle(pk, res);
    const inputs = e ? e.inputs.map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file))))) : [];
    const want = e ? Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(e.expected[0]!.file)))) : undefined;
    const failures: string[] = [];
    for (const inst of m.allInstances()) {
      const s = inst.acquireSession();
      try {
        const h = await s.fromMovable(obj); // unpickled on this interpreter
        try {
          const out = pc ? await h.callMethod(pc.method, ...pc.args) : await h.call(...inputs);
          const c = pc ? checkValue(out, pc.expected) : out instanceof Tensor ? checkArray(out.data as ArrayLike<number>, out.shape, want!.data as ArrayLike<number>, want!.shape) : { ok: false, error: "not a tensor" };
          if (!c.ok) failures.push(c.error ?? "wrong result");
        } catch (err) {
          failures.push(errorString(err));
        }
      } finally {
        await s.release();
      }
    }
    p.held = failures.length === 0 ? "model after one inference" : `model unpickled only; inference failed: ${failures[0]}`;
    global.gc?.();
    await sleep(500);
    global.gc?.();
    const st = m.stats();
    p.hostRssBytes = vmRss(process.pid);
    p.interpreterRssBytes = st.interpreters.map((i) => i.residentBytes ?? 0);
    p.rssBytes = p.hostRssBytes! + p.interpreterRssBytes.reduce((x, y) => x + y, 0);
    p.pssBytes = processTree(process.pid).reduce((acc, pid) => acc + (pss(pid) ?? 0), 0);
    p.ok = true;
  } catch (err) {
    p.error = errorString(err);
  } finally {
    await m?.close();
  }
  return p;
}
