// The benchmark suite: `npm run bench` (full) or `npm run bench -- --quick` (a few minutes).
//
// Reproduces the experiments that made the case for torch::deploy, with wasmdeploy and its
// alternatives measured in the same run on this machine: latency per model, throughput against
// the number of interpreters, cold start, memory. Writes bench/results/<date>-<host>[-quick].json
// and regenerates docs/benchmarks.md (+ docs/bench/*.svg) from the newest results.
//
// It installs nothing. The PyTorch baselines and the model archives need Debian's python3-torch
// and python3-torchvision (and python3-onnx for the ONNX exports) under /usr/bin/python3; when
// they are missing, what needs them is skipped with the reason printed.
//
// Options: --quick, --only latency,throughput,coldstart,memory,targets, --no-report, --help.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runColdstart } from "./experiments/coldstart.js";
import { runLatency } from "./experiments/latency.js";
import { runMemory } from "./experiments/memory.js";
import { runTargets } from "./experiments/targets.js";
import { runThroughput } from "./experiments/throughput.js";
import {
  CACHE_DIR,
  type Manifest,
  MODELS_DIR,
  PYTHON,
  REPO,
  RESULTS_DIR,
  SNAPSHOT_DIR,
  type TimingSettings,
  elapsed,
  log,
  readManifest,
  round,
  runChild,
  runTsChild,
} from "./lib/common.js";
import { generateReport } from "./report.js";

export interface Settings {
  quick: boolean;
  batches: number[];
  latencyModels: string[];
  latencyTiming: TimingSettings;
  throughputCounts: number[];
  throughputWorkloads: string[];
  throughputMs: number;
  throughputWarmupMs: number;
  memoryCounts: number[];
  memoryWorkloads: string[];
  coldReps: number;
  poolReps: number;
  poolCounts: number[];
  firstCallWorkloads: string[];
}

export interface Ctx {
  quick: boolean;
  cores: number;
  manifest?: Manifest;
  /** The manifest file children read (the model cache's, or the pure-Python fallback). */
  manifestPath: string;
  python: { ok: boolean; reason?: string; versions?: Record<string, string> };
  settings: Settings;
  skip(what: string, reason: string): void;
}

const EXPERIMENTS = ["latency", "throughput", "coldstart", "memory", "targets"] as const;
type Experiment = (typeof EXPERIMENTS)[number];

function settingsFor(quick: boolean, cores: number): Settings {
  // Interpreter counts from 1 to twice the cores: every count when that is a few, else powers
  // of two plus the core count.
  const upTo = 2 * cores;
  const full = upTo <= 8 ? Array.from({ length: upTo }, (_, i) => i + 1) : [...new Set([1, 2, 4, 8, 16, 32, 64, 128].filter((x) => x < upTo).concat([cores, upTo]))].sort((a, b) => a - b);
  return quick
    ? {
        quick,
        batches: [1, 8],
        latencyModels: ["resnet18", "resnet50", "transformer", "gpt"],
        latencyTiming: { warmup: 0, minReps: 3, maxReps: 40, budgetMs: 1200 },
        throughputCounts: [1, 2, 4],
        throughputWorkloads: ["mlp", "tokenizer", "slow_counter", "resnet18"],
        throughputMs: 1200,
        throughputWarmupMs: 400,
        memoryCounts: [1, 2, 4],
        memoryWorkloads: ["tokenizer", "resnet18"],
        coldReps: 2,
        poolReps: 1,
        poolCounts: [1, 2, 4],
        firstCallWorkloads: ["tokenizer", "resnet18"],
      }
    : {
        quick,
        batches: [1, 8],
        latencyModels: ["resnet18", "resnet50", "transformer", "gpt"],
        latencyTiming: { warmup: 3, minReps: 20, maxReps: 500, budgetMs: 8000 },
        throughputCounts: full,
        throughputWorkloads: ["mlp", "tokenizer", "slow_counter", "resnet18"],
        throughputMs: 8000,
        throughputWarmupMs: 2000,
        memoryCounts: [1, 2, 4, 8],
        memoryWorkloads: ["tokenizer", "resnet18", "resnet50"],
        coldReps: 5,
        poolReps: 3,
        poolCounts: [1, 2, 4, 8],
        firstCallWorkloads: ["tokenizer", "mlp", "resnet18", "resnet50"],
      };
}

function parseArgs(argv: string[]) {
  const o = { quick: false, only: [...EXPERIMENTS] as Experiment[], report: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") o.quick = true;
    else if (a === "--no-report") o.report = false;
    else if (a === "--only") {
      const v = (argv[++i] ?? "").split(",").filter(Boolean);
      const bad = v.filter((x) => !(EXPERIMENTS as readonly string[]).includes(x));
      if (bad.length) throw new Error(`--only: unknown experiment(s) ${bad.join(", ")}; have ${EXPERIMENTS.join(", ")}`);
      o.only = v as Experiment[];
    } else if (a === "--help" || a === "-h") {
      console.log(readFileSync(new URL(import.meta.url), "utf8").split("\n").filter((l) => l.startsWith("//")).map((l) => l.slice(3)).join("\n"));
      process.exit(0);
    } else throw new Error(`unknown option ${a}; see --help`);
  }
  return o;
}

/** CPU ticks: the whole machine's busy and total, and this process plus its reaped descendants. */
function cpuTicks(): { busy: number; total: number; ours: number } | undefined {
  try {
    const all = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = all.reduce((a, b) => a + b, 0);
    const idle = all[3]! + (all[4] ?? 0);
    const st = readFileSync("/proc/self/stat", "utf8");
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    // after the state field: utime, stime, cutime, cstime are fields 14-17 of stat, here 11-14
    const ours = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { busy: total - idle, total, ours };
  } catch {
    return undefined;
  }
}

function versionOf(pkg: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(REPO, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

async function checkPython(): Promise<Ctx["python"]> {
  if (!existsSync(PYTHON)) return { ok: false, reason: `${PYTHON} not found (apt-get install -y python3 python3-torch python3-torchvision python3-onnx)` };
  const code =
    "import json,sys,os\nv={'python':sys.version.split()[0]}\nmissing=[]\n" +
    "for m,deb in [('numpy','python3-numpy'),('torch','python3-torch'),('torchvision','python3-torchvision'),('onnx','python3-onnx')]:\n" +
    "    try:\n        v[m]=__import__(m).__version__\n    except Exception:\n        missing.append(deb)\n" +
    "b='/usr/lib/'+os.uname().machine+'-linux-gnu/libblas.so.3'\n" +
    "v['blas']=os.path.realpath(b) if os.path.exists(b) else 'unknown'\n" +
    "print(json.dumps({'versions':v,'missing':missing}))\n";
  const r = await runChild<{ versions: Record<string, string>; missing: string[] }>(PYTHON, ["-c", code], { timeoutMs: 120_000 });
  if (!r.ok) return { ok: false, reason: `${PYTHON} failed: ${r.error}` };
  const { versions, missing } = r.value!;
  const needed = missing.filter((m) => m !== "python3-onnx");
  if (needed.length) return { ok: false, reason: `${PYTHON} lacks ${needed.join(", ")} (apt-get install -y ${needed.join(" ")})`, versions };
  return { ok: true, versions, reason: missing.length ? `no ${missing.join(", ")}: ONNX exports skipped` : undefined };
}

/** Without PyTorch there are no model archives; the pure-Python workloads still run. */
function fallbackManifest(): Manifest {
  const exp = JSON.parse(readFileSync(path.join(REPO, "packages/archives/expected.json"), "utf8")) as Record<
    string,
    { calls: { method: string | null; args: unknown[]; result: unknown; package: string; resource: string }[] }
  >;
  const tok = exp["tokenizer.pt"]!.calls.find((c) => c.method === "encode")!;
  const slow = exp["slow_counter.pt"]!.calls.find((c) => c.method === "work" && c.args[0] === 1000)!;
  return {
    recipe: "fallback",
    made_with: {},
    models: [],
    python_calls: {
      tokenizer: { archive: "packages/archives/tokenizer.pt", pickle: [tok.package, tok.resource], method: "encode", args: tok.args, expected: tok.result, describe: "toy tokenizer encode() (expected.json's call)" },
      slow_counter: { archive: "packages/archives/slow_counter.pt", pickle: [slow.package, slow.resource], method: "work", args: slow.args, expected: slow.result, describe: "pure-Python loop work(1000)" },
    },
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const cores = os.availableParallelism();
  const settings = settingsFor(opts.quick, cores);
  const startedAt = new Date();
  const loadStart = os.loadavg()[0]!;
  const cpuStart = cpuTicks();
  const skipped: { what: string; reason: string }[] = [];
  console.log(`wasmdeploy benchmarks (${opts.quick ? "--quick" : "full run"}): ${opts.only.join(", ")}`);
  console.log(`  machine: ${os.cpus()[0]?.model ?? "?"}, ${cores} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  console.log(
    `  needs: ${PYTHON} with Debian's python3-torch and python3-torchvision (PyTorch baselines, and to make the model\n` +
      `  archives), python3-onnx (ONNX exports for the onnxruntime baselines). Nothing is installed; what is missing is skipped.`,
  );

  const python = await checkPython();
  if (python.ok) log(`python: ${Object.entries(python.versions!).map(([k, v]) => `${k} ${v}`).join(", ")}${python.reason ? ` (${python.reason})` : ""}`);
  else {
    log(`PyTorch baselines skipped: ${python.reason}`);
    skipped.push({ what: "PyTorch baselines and model archives", reason: python.reason! });
  }

  let manifest: Manifest | undefined;
  if (python.ok) {
    log(`model cache ${path.relative(REPO, MODELS_DIR)}: making what is missing (first run: about a minute)`);
    const r = await runChild(PYTHON, [path.join(REPO, "bench/make_bench_models.py"), "--out", MODELS_DIR], { timeoutMs: 30 * 60_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
    if (!r.ok) {
      log(`making the models failed: ${r.error}`);
      skipped.push({ what: "model archives", reason: r.error! });
    } else manifest = readManifest();
  }
  let manifestPath = path.join(MODELS_DIR, "bench.json");
  if (!manifest) {
    manifest = fallbackManifest();
    manifestPath = path.join(CACHE_DIR, "fallback-manifest.json");
    mkdirSync(CACHE_DIR, { recursive: true });
    writeFileSync(manifestPath, JSON.stringify(manifest));
    log("no model archives: only the pure-Python workloads (tokenizer, slow_counter) run");
  }

  const ctx: Ctx = {
    quick: opts.quick,
    cores,
    manifest,
    manifestPath,
    python,
    settings,
    skip: (what, reason) => {
      skipped.push({ what, reason });
      log(`skipped ${what}: ${reason}`);
    },
  };

  // The boot snapshots (one per isolation mode) are made once and cached in bench/.cache.
  log(`boot snapshots in ${path.relative(REPO, SNAPSHOT_DIR)}: making them if missing`);
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  for (const isolation of ["sandboxed", "trusted"]) {
    const r = await runTsChild<{ ok: boolean; snapshot?: string; error?: string }>("pool", { isolation, n: 1, snapshotDir: SNAPSHOT_DIR, cold: false }, { timeoutMs: 300_000 });
    if (!r.ok || !r.value!.ok) log(`  ${isolation}: wasmdeploy does not start: ${r.error ?? r.value?.error}`);
    else log(`  ${isolation}: snapshot ${r.value!.snapshot === "made" ? "made" : "cached"}`);
  }

  const experiments: Record<string, unknown> = {};
  const runners: Record<Experiment, (c: Ctx) => Promise<unknown>> = { latency: runLatency, throughput: runThroughput, coldstart: runColdstart, memory: runMemory, targets: runTargets };
  const timings: Record<string, number> = {};
  for (const e of opts.only) {
    log(`== ${e} ==`);
    const t = performance.now();
    try {
      experiments[e] = await runners[e](ctx);
    } catch (err) {
      log(`${e} aborted: ${String(err)}`);
      experiments[e] = { error: String(err) };
    }
    timings[e] = round((performance.now() - t) / 1000, 1);
    log(`${e} took ${timings[e]} s`);
  }

  const finishedAt = new Date();
  const cpuEnd = cpuTicks();
  // Share of the machine's CPU that other processes used during the run (ours: this process
  // and every child it waited for).
  const otherCpuShare =
    cpuStart && cpuEnd && cpuEnd.total > cpuStart.total
      ? round(Math.max(0, (cpuEnd.busy - cpuStart.busy - (cpuEnd.ours - cpuStart.ours)) / (cpuEnd.total - cpuStart.total)), 3)
      : undefined;
  if (otherCpuShare !== undefined) log(`other processes used ${(100 * otherCpuShare).toFixed(0)}% of the machine's CPU during the run`);
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, "_");
  const results = {
    schema: 1,
    mode: opts.quick ? "quick" : "full",
    command: `npm run bench${opts.quick || opts.only.length < EXPERIMENTS.length ? " --" : ""}${opts.quick ? " --quick" : ""}${opts.only.length < EXPERIMENTS.length ? ` --only ${opts.only.join(",")}` : ""}`,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: round((finishedAt.getTime() - startedAt.getTime()) / 1000, 1),
    experimentSeconds: timings,
    machine: {
      host: os.hostname(),
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores,
      memGiB: round(os.totalmem() / 2 ** 30, 1),
      os: `${os.type()} ${os.release()}`,
      arch: process.arch,
      /** 1-minute load average when the run started and ended: other work on the machine skews the figures. */
      loadAvgStart: round(loadStart, 2),
      loadAvgEnd: round(os.loadavg()[0]!, 2),
      /** Share of all cores' time used by processes other than the bench's during the run. */
      otherCpuShare,
    },
    versions: {
      wasmdeploy: (JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version,
      gitCommit: git(["rev-parse", "--short", "HEAD"]),
      gitDirty: (git(["status", "--porcelain", "--untracked-files=no"]) ?? "") !== "",
      node: process.version,
      pyodide: versionOf("pyodide"),
      onnxruntimeNode: versionOf("onnxruntime-node"),
      onnxruntimeWeb: versionOf("onnxruntime-web"),
      ...(python.versions ?? {}),
    },
    settings,
    skipped,
    experiments,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  // One file per day, host and kind of run (a later run of the same kind replaces it).
  const partial = opts.only.length < EXPERIMENTS.length ? `-only-${opts.only.join("+")}` : "";
  const file = path.join(RESULTS_DIR, `${startedAt.toISOString().slice(0, 10)}-${host}${opts.quick ? "-quick" : ""}${partial}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(results, null, 1) + "\n");
  renameSync(`${file}.tmp`, file);
  log(`results: ${path.relative(REPO, file)}`);
  if (opts.report) {
    const written = generateReport();
    log(`report: ${written.map((f) => path.relative(REPO, f)).join(", ")}`);
  }
  log(`done in ${elapsed()}`);
}

await main();
