// Experiment 2: throughput against the number of interpreters (torch::deploy's central
// experiment). Closed loop: a fixed number of callers each issue their next call as soon as the
// previous one answers; calls completed in the measuring window / its length.
//
//   wasmdeploy (sandboxed and trusted): n interpreters, 2n concurrent callers through
//     ReplicatedObj (the manager balances them), every interpreter warmed up and its output
//     checked first.
//   PyTorch, Python threads: one process, n threads sharing one GIL and one model object,
//     torch.set_num_threads(1), each thread calling in a loop.
//   PyTorch, processes: n processes, each with its own copy of the model, 1 thread, calling in
//     a loop (no dispatching between them: an upper bound for a multi-process server).

import { readFileSync } from "node:fs";
import {
  type CheckResult,
  type Manifest,
  SNAPSHOT_DIR,
  checkArray,
  checkValue,
  errorString,
  findModel,
  log,
  progress,
  repoPath,
  round,
  runPython,
  runTsChild,
} from "../lib/common.js";
import type { Ctx } from "../run.js";

export interface Workload {
  id: string;
  kind: "model" | "python";
  describe: string;
  /** Where the time goes: "python" or "engine". */
  dominated: "python" | "engine";
}

export interface ThroughputPoint {
  workload: string;
  system: string;
  n: number;
  callers?: number;
  ok: boolean;
  error?: string;
  skipped?: string;
  callsPerS?: number;
  calls?: number;
  seconds?: number;
  /** Calls completed per interpreter / thread / process in the window. */
  perWorker?: number[];
  check?: CheckResult;
  setupMs?: number;
}

export const THROUGHPUT_SYSTEMS = [
  { id: "wasmdeploy-sandboxed", label: "wasmdeploy, sandboxed", note: "n interpreter processes, 2n callers" },
  { id: "wasmdeploy-trusted", label: "wasmdeploy, trusted", note: "n interpreter worker threads, 2n callers" },
  { id: "torch-threads", label: "PyTorch, Python threads (one GIL)", note: "n threads in one process, one model" },
  { id: "torch-processes", label: "PyTorch, one process each", note: "n processes, a model each" },
];

export function throughputWorkloads(ctx: Ctx): Workload[] {
  const all: Workload[] = [
    { id: "mlp", kind: "model", dominated: "python", describe: "small MLP (64-128-128-10), batch 1: a few tiny ops, Python and call overhead dominate" },
    { id: "tokenizer", kind: "python", dominated: "python", describe: ctx.manifest?.python_calls.tokenizer?.describe ?? "toy tokenizer encode()" },
    { id: "slow_counter", kind: "python", dominated: "python", describe: ctx.manifest?.python_calls.slow_counter?.describe ?? "pure-Python loop" },
    { id: "resnet18", kind: "model", dominated: "engine", describe: "torchvision resnet18, batch 1, 224x224: the tensor engine dominates" },
  ];
  return all.filter((w) => ctx.settings.throughputWorkloads.includes(w.id));
}

export async function runThroughput(ctx: Ctx): Promise<unknown> {
  const counts = ctx.settings.throughputCounts;
  const workloads = throughputWorkloads(ctx);
  const points: ThroughputPoint[] = [];
  if (!ctx.manifest) {
    ctx.skip("throughput", "no model cache (needs /usr/bin/python3 with torch)");
    return { skipped: "no models" };
  }
  const common = { manifestPath: ctx.manifestPath, counts, workloads: workloads.map((w) => w.id), durationMs: ctx.settings.throughputMs, warmupMs: ctx.settings.throughputWarmupMs };
  let i = 0;
  for (const sys of THROUGHPUT_SYSTEMS) {
    i++;
    const py = sys.id.startsWith("torch");
    if (py && !ctx.python.ok) {
      log(`throughput [${i}/${THROUGHPUT_SYSTEMS.length}] ${sys.label}: skipped (${ctx.python.reason})`);
      for (const w of workloads) for (const n of counts) points.push({ workload: w.id, system: sys.id, n, ok: false, skipped: ctx.python.reason });
      continue;
    }
    log(`throughput [${i}/${THROUGHPUT_SYSTEMS.length}] ${sys.label}: ${workloads.map((w) => w.id).join(", ")} at ${counts.join(", ")}`);
    const r = py
      ? await runPython<{ points: ThroughputPoint[] }>("throughput.py", { ...common, mode: sys.id === "torch-threads" ? "threads" : "processes", system: sys.id }, { timeoutMs: 30 * 60_000, env: { OMP_NUM_THREADS: "1" } })
      : await runTsChild<{ points: ThroughputPoint[] }>("throughput", { ...common, isolation: sys.id === "wasmdeploy-trusted" ? "trusted" : "sandboxed", system: sys.id }, { timeoutMs: 30 * 60_000 });
    if (!r.ok) {
      log(`  ${sys.label} failed: ${r.error}`);
      for (const w of workloads) for (const n of counts) points.push({ workload: w.id, system: sys.id, n, ok: false, error: r.error });
    } else points.push(...r.value!.points);
  }
  return {
    method:
      `Closed loop. wasmdeploy: n interpreters and 2n concurrent callers through one ReplicatedObj; PyTorch: n Python threads ` +
      `sharing one model in one process (one GIL), or n processes with a model each; torch.set_num_threads(1) everywhere ` +
      `and wasmdeploy's engine on 1 thread per session. Every worker's output is checked first; then ${common.warmupMs} ms of ` +
      `warm-up and a ${common.durationMs} ms window; throughput = calls completed in the window / (last completion - start).`,
    counts,
    cores: ctx.cores,
    systems: THROUGHPUT_SYSTEMS,
    workloads,
    points,
  };
}

// ------------------------------------------------------------------------------------------
// Child: wasmdeploy
// ------------------------------------------------------------------------------------------

interface ChildArgs {
  manifestPath: string;
  isolation: "sandboxed" | "trusted";
  /** The interpreter kind (default: the manager's, WASI). */
  interpreter?: "wasi" | "pyodide";
  system: string;
  counts: number[];
  workloads: string[];
  durationMs: number;
  warmupMs: number;
}

export async function throughputChild(args: ChildArgs): Promise<unknown> {
  const { InterpreterManager, Tensor } = await import("wasmdeploy");
  const manifest = JSON.parse(readFileSync(args.manifestPath, "utf8")) as Manifest;
  const points: ThroughputPoint[] = [];
  const failed = new Map<string, string>();

  // What one call of each workload is, and how to check its result.
  type Caller = (target: { call(...a: unknown[]): Promise<unknown>; callMethod(m: string, ...a: unknown[]): Promise<unknown> }) => Promise<unknown>;
  const specs = new Map<string, { archive: string; pickle: [string, string]; invoke: Caller; check: (out: unknown) => CheckResult }>();
  for (const w of args.workloads) {
    const pc = manifest.python_calls[w];
    if (pc) {
      specs.set(w, { archive: pc.archive, pickle: pc.pickle, invoke: (t) => t.callMethod(pc.method, ...pc.args), check: (out) => checkValue(out, pc.expected) });
      continue;
    }
    const e = findModel(manifest, w, 1);
    if (!e) {
      failed.set(w, `no ${w} in the model cache`);
      continue;
    }
    const inputs = e.inputs.map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file)))));
    const want = Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(e.expected[0]!.file))));
    specs.set(w, {
      archive: e.archive,
      pickle: e.pickle,
      invoke: (t) => t.call(...inputs.map((x) => new Tensor(x.dtype, x.data, x.shape))),
      check: (out) =>
        out instanceof Tensor
          ? checkArray(out.data as ArrayLike<number>, out.shape, want.data as ArrayLike<number>, want.shape)
          : { ok: false, error: `expected a tensor result, got ${typeof out}` },
    });
  }

  for (const n of args.counts) {
    const t0 = performance.now();
    let manager;
    try {
      manager = await InterpreterManager.create({ interpreters: n, interpreter: args.interpreter, isolation: args.isolation, snapshotDir: SNAPSHOT_DIR, callTimeoutMs: 300_000 });
    } catch (e) {
      for (const w of args.workloads) points.push({ workload: w, system: args.system, n, ok: false, error: `manager: ${errorString(e)}` });
      continue;
    }
    const bootMs = performance.now() - t0;
    try {
      for (const w of args.workloads) {
        const point: ThroughputPoint = { workload: w, system: args.system, n, callers: 2 * n, ok: false };
        points.push(point);
        const spec = specs.get(w);
        if (!spec || failed.has(w)) {
          point.error = failed.get(w) ?? "no workload";
          continue;
        }
        try {
          const setup = performance.now();
          const pkg = await manager.loadPackage(repoPath(spec.archive));
          const obj = pkg.loadPickle(spec.pickle[0], spec.pickle[1]);
          // Every interpreter loads the object and answers correctly before anything is timed.
          await Promise.all(
            manager.allInstances().map(async (inst) => {
              const s = inst.acquireSession();
              try {
                const h = await s.fromMovable(obj);
                const c = spec.check(await spec.invoke(h));
                if (!c.ok) throw new Error(c.error);
                point.check = c;
              } finally {
                await s.release();
              }
            }),
          );
          point.setupMs = round(performance.now() - setup + (w === args.workloads[0] ? bootMs : 0));
          const callers = 2 * n;
          const loop = async (until: number, count: boolean) => {
            let calls = 0;
            let last = 0;
            while (performance.now() < until) {
              await spec.invoke(obj);
              if (count) {
                calls++;
                last = performance.now();
              }
            }
            return { calls, last };
          };
          await Promise.all(Array.from({ length: callers }, () => loop(performance.now() + args.warmupMs, false)));
          const before = manager.stats().interpreters.map((s) => s.completed);
          const start = performance.now();
          const res = await Promise.all(Array.from({ length: callers }, () => loop(start + args.durationMs, true)));
          const end = Math.max(...res.map((r) => r.last));
          const calls = res.reduce((a, r) => a + r.calls, 0);
          point.ok = true;
          point.calls = calls;
          point.seconds = round((end - start) / 1000, 4);
          point.callsPerS = round(calls / ((end - start) / 1000), 2);
          point.perWorker = manager.stats().interpreters.map((s, i) => s.completed - before[i]!);
          await pkg.unload();
          progress(`${w} n=${n}: ${point.callsPerS.toFixed(1)} calls/s (${calls} calls, per interpreter ${point.perWorker.join("/")})`);
        } catch (e) {
          point.error = errorString(e);
          failed.set(w, `${point.error} (n=${n}; not retried at larger n)`);
          progress(`${w} n=${n}: failed: ${point.error}`);
        }
      }
    } finally {
      await manager.close();
    }
  }
  return { points };
}
