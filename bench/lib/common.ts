// Shared pieces of the benchmark suite: paths, progress output, statistics, child processes,
// process memory (/proc), the model manifest and output checks.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const REPO = path.dirname(BENCH_DIR);
export const CACHE_DIR = path.join(BENCH_DIR, ".cache");
export const MODELS_DIR = path.join(CACHE_DIR, "models");
export const SNAPSHOT_DIR = path.join(CACHE_DIR, "snapshots");
export const RESULTS_DIR = path.join(BENCH_DIR, "results");
/** The Python with Debian's python3-torch; WASMDEPLOY_BENCH_PYTHON overrides it. */
export const PYTHON = process.env.WASMDEPLOY_BENCH_PYTHON || "/usr/bin/python3";
export const repoPath = (p: string) => (path.isAbsolute(p) ? p : path.join(REPO, p));

// ------------------------------------------------------------------------------------------
// Progress
// ------------------------------------------------------------------------------------------

const t0 = Date.now();
/** The value after `--name` on the command line, or `dflt`. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

/** Write a bench's result as bench/results/<date>-<name>[-<--tag>].json and say where. */
export function writeResult(name: string, result: { date: string }): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const tag = process.argv.includes("--tag") ? `-${arg("tag", "")}` : "";
  const out = path.join(RESULTS_DIR, `${result.date.slice(0, 10)}-${name}${tag}.json`);
  writeFileSync(out, JSON.stringify(result, null, 1) + "\n");
  log(`wrote ${path.relative(process.cwd(), out)}`);
  return out;
}

export function elapsed(): string {
  const s = Math.floor((Date.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}
export function log(msg: string): void {
  process.stdout.write(`[${elapsed()}] ${msg}\n`);
}
/** Progress from a child process: goes to stderr so stdout stays JSON. */
export function progress(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

// ------------------------------------------------------------------------------------------
// Statistics
// ------------------------------------------------------------------------------------------

export interface Summary {
  n: number;
  median: number;
  p10: number;
  p90: number;
  q1: number;
  q3: number;
  mean: number;
  min: number;
  max: number;
}

/** The middle element (the upper one of an even count): a value that was measured, not interpolated. */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Quantile with linear interpolation (numpy's default). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    n: s.length,
    median: r(quantile(s, 0.5)),
    p10: r(quantile(s, 0.1)),
    p90: r(quantile(s, 0.9)),
    q1: r(quantile(s, 0.25)),
    q3: r(quantile(s, 0.75)),
    mean: r(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
    min: r(s[0] ?? NaN),
    max: r(s[s.length - 1] ?? NaN),
  };
}

export const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface TimingSettings {
  warmup: number;
  minReps: number;
  maxReps: number;
  budgetMs: number;
}

/**
 * Times `f` after warm-up: at least minReps calls, then more until budgetMs of timed calls or
 * maxReps. Returns per-call milliseconds. `fresh` prepares each call's arguments outside the
 * timed region.
 */
export async function timeCalls<A>(s: TimingSettings, fresh: () => A, f: (a: A) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < s.warmup; i++) await f(fresh());
  const samples: number[] = [];
  let spent = 0;
  while (samples.length < s.minReps || (spent < s.budgetMs && samples.length < s.maxReps)) {
    const a = fresh();
    const t = performance.now();
    await f(a);
    const dt = performance.now() - t;
    samples.push(dt);
    spent += dt;
  }
  return samples;
}

// ------------------------------------------------------------------------------------------
// Child processes: progress on stderr (forwarded, indented), one JSON object on stdout
// ------------------------------------------------------------------------------------------

export interface ChildOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Prefix of forwarded stderr lines. */
  label?: string;
  /** Forward the child's stderr (default true). */
  forward?: boolean;
}

export interface ChildResult<T> {
  ok: boolean;
  value?: T;
  error?: string;
  wallMs: number;
}

export function runChild<T>(cmd: string, args: string[], opts: ChildOptions = {}): Promise<ChildResult<T>> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: REPO, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let errTail = "";
    let pending = "";
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, opts.timeoutMs)
      : undefined;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      errTail = (errTail + d).slice(-4000);
      if (opts.forward === false) return;
      pending += d;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const l of lines) if (l.trim()) process.stdout.write(`         ${opts.label ? opts.label + " " : ""}${l}\n`);
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `cannot start ${cmd}: ${e.message}`, wallMs: performance.now() - started });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      const line = out
        .trim()
        .split("\n")
        .reverse()
        .find((l) => l.startsWith("{"));
      if (timedOut) return resolve({ ok: false, error: `timed out after ${opts.timeoutMs} ms`, wallMs });
      if (code !== 0 || !line) {
        const last = errTail.trim().split("\n").slice(-3).join(" | ");
        return resolve({ ok: false, error: `exit ${code ?? signal}: ${last || "no output"}`.slice(0, 600), wallMs });
      }
      try {
        resolve({ ok: true, value: JSON.parse(line) as T, wallMs });
      } catch (e) {
        resolve({ ok: false, error: `bad JSON from child: ${String(e)}`, wallMs });
      }
    });
  });
}

/** A TypeScript child: `node [--expose-gc] --import tsx bench/child.ts <task> <json args>`. */
export function runTsChild<T>(task: string, args: unknown, opts: ChildOptions & { gc?: boolean } = {}): Promise<ChildResult<T>> {
  const flags = opts.gc ? ["--expose-gc"] : [];
  return runChild<T>(process.execPath, [...flags, "--import", "tsx", path.join(BENCH_DIR, "child.ts"), task, JSON.stringify(args)], opts);
}

/** A Python baseline: `/usr/bin/python3 bench/baselines/<script> <json args>`, 1 OpenMP thread unless told. */
export function runPython<T>(script: string, args: unknown, opts: ChildOptions = {}): Promise<ChildResult<T>> {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...(opts.env ?? {}) };
  delete env.PYTHONPATH;
  return runChild<T>(PYTHON, [path.join(BENCH_DIR, "baselines", script), JSON.stringify(args)], { ...opts, env });
}

// ------------------------------------------------------------------------------------------
// Process memory from /proc
// ------------------------------------------------------------------------------------------

function statusField(pid: number, field: string): number | undefined {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
export const vmRss = (pid: number) => statusField(pid, "VmRSS");

/** Proportional set size (shared pages split between the processes sharing them). */
export function pss(pid: number): number | undefined {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").match(/^Pss:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** pid and all its descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid)!.push(Number(d));
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// The model manifest (bench/make_bench_models.py) and output checks
// ------------------------------------------------------------------------------------------

export interface ArrayFile {
  file: string;
  dtype: string;
  shape: number[];
}
export interface ModelEntry {
  model: string;
  batch: number;
  archive: string;
  pickle: [string, string];
  inputs: ArrayFile[];
  expected: ArrayFile[];
  onnx: string | null;
  onnx_error: string | null;
  params: number;
  archive_bytes: number;
  describe: string;
}
export interface PythonCall {
  archive: string;
  pickle: [string, string];
  method: string;
  args: unknown[];
  expected: unknown;
  describe: string;
}
export interface Manifest {
  recipe: string;
  made_with: Record<string, string>;
  models: ModelEntry[];
  python_calls: Record<string, PythonCall>;
}

export function readManifest(): Manifest | undefined {
  const p = path.join(MODELS_DIR, "bench.json");
  return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as Manifest) : undefined;
}

export function findModel(m: Manifest, model: string, batch: number): ModelEntry | undefined {
  return m.models.find((e) => e.model === model && e.batch === batch);
}

/** Relative tolerance of every output check: |got - expected| <= TOL * max(1, max|expected|). */
export const TOL = 1e-4;

export interface CheckResult {
  ok: boolean;
  maxAbsErr?: number;
  bound?: number;
  error?: string;
}

type Numeric = ArrayLike<number | bigint>;

/** Compares a result with PyTorch's expected output. */
export function checkArray(got: Numeric, gotShape: readonly number[], want: Numeric, wantShape: readonly number[]): CheckResult {
  if (gotShape.length !== wantShape.length || gotShape.some((d, i) => d !== wantShape[i])) {
    return { ok: false, error: `output shape [${gotShape.join(", ")}] is not PyTorch's [${wantShape.join(", ")}]` };
  }
  let maxAbsExp = 0;
  let maxErr = 0;
  for (let i = 0; i < want.length; i++) {
    const w = Number(want[i]);
    const g = Number(got[i]);
    maxAbsExp = Math.max(maxAbsExp, Math.abs(w));
    const e = Math.abs(g - w);
    if (!(e <= maxErr)) maxErr = Number.isNaN(e) ? Infinity : e;
  }
  const bound = TOL * Math.max(1, maxAbsExp);
  const ok = maxErr <= bound;
  return { ok, maxAbsErr: maxErr, bound, error: ok ? undefined : `output differs from PyTorch's: max |error| ${maxErr.toExponential(2)} > ${bound.toExponential(2)}` };
}

export function checkValue(got: unknown, want: unknown): CheckResult {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  return { ok, error: ok ? undefined : `result differs from PyTorch's: ${JSON.stringify(got)?.slice(0, 80)} vs ${JSON.stringify(want).slice(0, 80)}` };
}

export function errorString(e: unknown): string {
  if (e instanceof Error) {
    const name = e.constructor?.name && e.constructor.name !== "Error" ? `${e.constructor.name}: ` : "";
    return (name + e.message).split("\n")[0]!.slice(0, 300);
  }
  return String(e).slice(0, 300);
}
