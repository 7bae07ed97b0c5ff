// Regenerates docs/benchmarks.md and docs/bench/*.svg from the newest results in bench/results/.
// Run alone: npm run bench:report. Called by bench/run.ts at the end of a run.
//
// Each experiment comes from the newest results file that has it (a run with --only updates
// only its experiments; the page says which file every section comes from).

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REPO, RESULTS_DIR, type Summary } from "./lib/common.js";
import { type Bar, type BarGroup, type LineSeries, barChart, fmtNum, lineChart } from "./lib/svg.js";
import type { LatencyCell, LatencySystem } from "./experiments/latency.js";
import type { ThroughputPoint, Workload } from "./experiments/throughput.js";
import type { FirstCallRun, PoolRun } from "./experiments/coldstart.js";
import type { MemoryPoint } from "./experiments/memory.js";
import type { TargetRow } from "./experiments/targets.js";
import { type HopRow, hopTable } from "./hops.js";

const DOC = path.join(REPO, "docs", "benchmarks.md");
const SVG_DIR = path.join(REPO, "docs", "bench");

// ------------------------------------------------------------------------------------------
// Results files
// ------------------------------------------------------------------------------------------

interface Results {
  schema: number;
  mode: string;
  command: string;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  experimentSeconds?: Record<string, number>;
  machine: { host: string; cpu: string; cores: number; memGiB: number; os: string; arch: string; loadAvgStart?: number; loadAvgEnd?: number; otherCpuShare?: number };
  versions: Record<string, string | boolean | undefined>;
  settings: Record<string, unknown>;
  skipped: { what: string; reason: string }[];
  experiments: Record<string, unknown>;
  file: string;
}

interface LatencyData {
  method: string;
  systems: LatencySystem[];
  models: { model: string; describe?: string; params?: number; archiveBytes?: number }[];
  cells: LatencyCell[];
}
interface ThroughputData {
  method: string;
  counts: number[];
  cores: number;
  systems: { id: string; label: string; note: string }[];
  workloads: Workload[];
  points: ThroughputPoint[];
}
interface ColdData {
  method: string;
  pools: PoolRun[];
  firstCalls: FirstCallRun[];
}
interface MemoryData {
  method: string;
  counts: number[];
  workloads: string[];
  systems: { id: string; label: string }[];
  points: MemoryPoint[];
}

interface TargetsData {
  method: string;
  rows: TargetRow[];
  hops: HopRow[] | { error: string };
}

function loadResults(): Results[] {
  let files: string[] = [];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith(".json"));
  } catch {
    /* none */
  }
  const out: Results[] = [];
  for (const f of files) {
    try {
      const r = JSON.parse(readFileSync(path.join(RESULTS_DIR, f), "utf8")) as Results;
      if (r.schema === 1 && r.experiments) out.push({ ...r, file: f });
    } catch {
      /* not ours */
    }
  }
  return out.sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
}

interface WasiPoint {
  system: string;
  n: number;
  ok: boolean;
  allReadyMs: number;
  pssBytes: number;
  pythonRunsMs?: number[];
  callMedianUs?: number;
}

interface WasiRun {
  file: string;
  when: string;
  load?: number;
  ready: Record<string, number>;
  pss: Record<string, number>;
  call: Record<string, number>;
  pyRatio?: number;
}

/** bench/wasi.ts results, newest first, reduced to per-additional-interpreter numbers. */
function loadWasiRuns(): WasiRun[] {
  const out: WasiRun[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => /-wasi[^/]*\.json$/.test(f));
  } catch {
    /* none */
  }
  for (const file of files) {
    try {
      const r = JSON.parse(readFileSync(path.join(RESULTS_DIR, file), "utf8")) as { when: string; loadAverage?: number; points: WasiPoint[] };
      const at = (sys: string, n: number) => r.points.find((p) => p.system === sys && p.n === n && p.ok);
      const run: WasiRun = { file, when: r.when, load: r.loadAverage, ready: {}, pss: {}, call: {} };
      for (const sys of ["wasi", "pyodide-trusted", "pyodide-sandboxed"]) {
        const one = at(sys, 1);
        const five = at(sys, 5);
        if (one && five) {
          run.ready[sys] = (five.allReadyMs - one.allReadyMs) / 4;
          run.pss[sys] = (five.pssBytes - one.pssBytes) / 4 / 2 ** 20;
        }
        if (one?.callMedianUs !== undefined) run.call[sys] = one.callMedianUs;
      }
      const last = (sys: string) => at(sys, 1)?.pythonRunsMs?.at(-1);
      const w = last("wasi");
      const p = last("pyodide-trusted");
      if (w !== undefined && p !== undefined) run.pyRatio = w / p;
      out.push(run);
    } catch {
      /* not a bench:wasi result */
    }
  }
  return out.sort((a, b) => b.when.localeCompare(a.when));
}

interface PureSystem {
  label: string;
  wasm?: string;
  v8Flags?: string[];
  wall: { geomeanRatio: number; sumRatio: number };
  cpu: { geomeanRatio: number; sumRatio: number };
}

interface PureRun {
  file: string;
  when: string;
  load?: number;
  endLoad?: number;
  rounds: number;
  systems: PureSystem[];
  rows: { name: string; medianMs: number[]; ratio: number[] }[];
  cpuRows: { name: string; medianMs: number[]; ratio: number[] }[];
}

/** bench/pure.ts results (with CPU times: the runs since they were recorded), newest first. */
function loadPureRuns(): PureRun[] {
  const out: PureRun[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => /-pure[^/]*\.json$/.test(f));
  } catch {
    /* none */
  }
  for (const file of files) {
    try {
      const r = JSON.parse(readFileSync(path.join(RESULTS_DIR, file), "utf8")) as Omit<PureRun, "file" | "load" | "endLoad"> & { loadAverage?: number; endLoadAverage?: number };
      if (!r.cpuRows || !r.systems?.[0]?.cpu) continue;
      out.push({ ...r, file, load: r.loadAverage, endLoad: r.endLoadAverage });
    } catch {
      /* not a bench:pure result */
    }
  }
  return out.sort((a, b) => b.when.localeCompare(a.when));
}

/** bench/zoo.ts results, newest first. */
interface ZooRun {
  file: string;
  date: string;
  quick: boolean;
  loadAverage?: number;
  commit?: string;
  rows: { model: string; ok: boolean; error?: string; ours?: number; ort?: number; ratio?: number; blockRatios?: number[]; ort1?: number; ratio1?: number; hostReplayed?: number; calls?: number }[];
  geomean?: number;
  geomean1?: number;
  maxRatio?: number;
}

function loadZooRuns(): ZooRun[] {
  const out: ZooRun[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => /-zoo[^/]*\.json$/.test(f));
  } catch {
    /* none */
  }
  for (const file of files) {
    try {
      const r = JSON.parse(readFileSync(path.join(RESULTS_DIR, file), "utf8")) as Omit<ZooRun, "file">;
      if (Array.isArray(r.rows)) out.push({ ...r, file });
    } catch {
      /* not a bench:zoo result */
    }
  }
  return out.sort((a, b) => b.date.localeCompare(a.date));
}

interface FloorLayer {
  wallP10Us: number;
  wallP50Us: number;
}

/** The newest bench/floor.ts result. */
function loadFloorRun(): { file: string; loadAverage?: number; rounds: number; calls: number; models: Record<string, Record<string, FloorLayer>> } | undefined {
  let files: string[] = [];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => /-floor[^/]*\.json$/.test(f));
  } catch {
    /* none */
  }
  const runs = files.flatMap((file) => {
    try {
      const r = JSON.parse(readFileSync(path.join(RESULTS_DIR, file), "utf8"));
      return r.models ? [{ ...r, file }] : [];
    } catch {
      return [];
    }
  });
  return runs.sort((a, b) => b.date.localeCompare(a.date))[0];
}

function usable(e: unknown): boolean {
  return !!e && typeof e === "object" && !("error" in (e as object)) && !("skipped" in (e as object));
}

// ------------------------------------------------------------------------------------------
// Formatting helpers
// ------------------------------------------------------------------------------------------

const COLORS: Record<string, string> = {
  "wasmdeploy-ort-node": "#1f5fbf",
  "wasmdeploy-sandboxed": "#1f5fbf",
  "wasmdeploy-ort-node-trusted": "#74a9e6",
  "wasmdeploy-trusted": "#74a9e6",
  "wasmdeploy-ort-web": "#8e5cc4",
  "ort-node-graph": "#2e9e44",
  "ort-web-graph": "#9ad18f",
  "torch-1t": "#d33c2c",
  "torch-threads": "#d33c2c",
  torch: "#d33c2c",
  "torch-processes": "#f08c28",
};
const colorOf = (id: string) => COLORS[id] ?? (id.startsWith("torch-") ? "#f08c28" : "#777");

const cellText = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const short = (s: string, n = 140) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "—" : x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);
const mib = (b: number | undefined) => (b === undefined ? "—" : `${(b / 2 ** 20).toFixed(0)} MB`);
const spread = (s: Summary) => `${ms(s.median)} (${fmtNum(s.p10)}–${fmtNum(s.p90)})`;
const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(a > 0) || !(b > 0)) return "—";
  const r = a / b;
  return `${r.toFixed(2)}× (${r > 1.005 ? "slower" : r < 0.995 ? "faster" : "same"})`;
}
function failText(c: { error?: string; skipped?: string } | undefined): string {
  if (!c) return "not run";
  if (c.skipped) return `skipped: ${c.skipped}`;
  return `failed: ${c.error ?? "unknown"}`;
}
const yesNo = (ok: boolean | undefined) => (ok === undefined ? "not measured" : ok ? "**met**" : "**missed**");

function slope(points: { x: number; y: number }[]): number | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx === 0 ? undefined : points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
}

// ------------------------------------------------------------------------------------------
// Report
// ------------------------------------------------------------------------------------------

interface Target {
  target: string;
  measured: string;
  met?: boolean;
}

export function generateReport(): string[] {
  const all = loadResults();
  mkdirSync(SVG_DIR, { recursive: true });
  for (const f of readdirSync(SVG_DIR)) if (f.endsWith(".svg")) rmSync(path.join(SVG_DIR, f));
  const written: string[] = [];
  const svg = (name: string, content: string) => {
    const p = path.join(SVG_DIR, name);
    writeFileSync(p, content);
    written.push(p);
    return `bench/${name}`;
  };
  const md: string[] = [];
  md.push("# Benchmarks", "");
  md.push("<!-- Generated by bench/report.ts from bench/results/*.json (npm run bench / npm run bench:report). Do not edit by hand. -->", "");
  if (all.length === 0) {
    md.push("No results yet: run `npm run bench -- --quick` (a few minutes) or `npm run bench` (the full run).", "");
    writeFileSync(DOC, md.join("\n"));
    return [DOC];
  }
  const newest = all[0]!;
  const pick = <T>(name: string): { data: T; from: Results } | undefined => {
    const r = all.find((x) => usable(x.experiments[name]));
    return r ? { data: r.experiments[name] as T, from: r } : undefined;
  };
  const lat = pick<LatencyData>("latency");
  const thr = pick<ThroughputData>("throughput");
  const cold = pick<ColdData>("coldstart");
  const mem = pick<MemoryData>("memory");
  const tgt = pick<TargetsData>("targets");
  const sources = new Set([lat, thr, cold, mem, tgt].filter(Boolean).map((x) => x!.from));

  md.push(
    "wasmdeploy against the systems torch::deploy was measured against, on one machine, in one run: " +
      "PyTorch eager (Debian's python3-torch) on 1 thread and on all cores, PyTorch from Python threads sharing one GIL " +
      "and from one process per worker, and ONNX Runtime on `torch.onnx.export` of the same model (graph mode, the " +
      "TorchScript analogue). Reproduce with `npm run bench` (full) or `npm run bench -- --quick` (a few minutes); " +
      "the page is regenerated from the newest `bench/results/*.json`.",
    "",
  );
  md.push("| run | mode | machine | versions |", "|---|---|---|---|");
  for (const r of sources) {
    const v = r.versions;
    md.push(
      `| \`bench/results/${r.file}\` (${r.finishedAt.slice(0, 16).replace("T", " ")} UTC, ${r.durationS.toFixed(0)} s) | ${r.mode} (\`${r.command}\`) | ${cellText(r.machine.cpu)}, ${r.machine.cores} cores, ${r.machine.memGiB} GiB, ${r.machine.os}${r.machine.otherCpuShare !== undefined ? `; other processes used ${(100 * r.machine.otherCpuShare).toFixed(0)}% of the CPU during the run` : r.machine.loadAvgStart !== undefined ? `; load average ${r.machine.loadAvgStart} at the start` : ""} | wasmdeploy ${v.wasmdeploy} (${v.gitCommit ?? "?"}${v.gitDirty ? ", uncommitted changes" : ""}), node ${v.node}, pyodide ${v.pyodide}, onnxruntime-node ${v.onnxruntimeNode}, onnxruntime-web ${v.onnxruntimeWeb}, python ${v.python ?? "—"}, torch ${v.torch ?? "—"}, torchvision ${v.torchvision ?? "—"} |`,
    );
  }
  md.push("");
  const others = all.filter((r) => !sources.has(r));
  if (others.length) md.push(`Older results, not shown: ${others.map((r) => `\`bench/results/${r.file}\` (${r.mode}, ${r.finishedAt.slice(0, 10)})`).join(", ")}.`, "");
  const busy = [...sources].filter((r) => (r.machine.otherCpuShare ?? (r.machine.loadAvgStart ?? 0) / r.machine.cores) > 0.1);
  if (busy.length) md.push(`> The machine was shared: other processes used ${busy.map((r) => r.machine.otherCpuShare !== undefined ? `${(100 * r.machine.otherCpuShare).toFixed(0)}%` : `(load average ${r.machine.loadAvgStart})`).join(", ")} of its CPU during \`${busy.map((r) => r.file).join("`, `")}\`. Figures are noisier and slower than on an idle machine, and a system measured during a burst of other work is penalised more than the others; look at the spreads.`, "");
  const blas = [...sources].map((r) => String(r.versions.blas ?? "")).find((b) => b.includes("/blas/libblas.so"));
  if (blas) md.push(`> PyTorch here is Debian's build, which does its matrix multiplications through the system BLAS, and \`libblas.so.3\` resolves to the netlib reference BLAS (\`${blas}\`): PyTorch eager is far slower on matmul-heavy models (MLP, transformer, GPT) than it would be with OpenBLAS (Debian's libopenblas0, picked up through update-alternatives) or MKL. Convolutions mostly go through oneDNN, except that torch 1.13 on 1 thread sends 1x1 convolutions to its im2col + BLAS path (profiled here: about 90% of \"PyTorch eager, 1 thread\" on resnet50 is \`aten::_slow_conv2d_forward\`; on 2 threads every convolution runs in oneDNN), so the 1-thread PyTorch figures for resnet50 and the matmul-heavy models flatter wasmdeploy. ONNX Runtime and wasmdeploy's engine bring their own kernels.`, "");
  if (newest.mode === "quick") md.push("> A `--quick` run: few repetitions and short windows, so the spreads are wide. The full run (`npm run bench`) repeats more and sweeps further.", "");

  const targets: Target[] = [];
  const summary: string[] = [];
  const body: string[] = [];
  const failures: { where: string; why: string }[] = [];

  // ---------------------------------------------------------------------------------------
  // 1. Latency
  // ---------------------------------------------------------------------------------------
  body.push("## 1. Latency per model", "");
  if (!lat) body.push("Not measured yet (`npm run bench -- --only latency`).", "");
  else {
    const { data } = lat;
    body.push(`From \`${lat.from.file}\`. ${data.method}`, "");
    body.push("| system | how |", "|---|---|");
    for (const s of data.systems) body.push(`| ${s.label} | ${s.note} |`);
    body.push("");
    const cell = (model: string, batch: number, sys: string) => data.cells.find((c) => c.model === model && c.batch === batch && c.system === sys);
    const batches = [...new Set(data.cells.map((c) => c.batch))].sort((a, b) => a - b);
    const torchN = data.systems.find((s) => s.kind === "torch" && s.threads !== 1);
    for (const m of data.models) {
      body.push(`### ${m.model}`, "");
      if (m.describe) body.push(`${m.describe}${m.params ? `; ${(m.params / 1e6).toFixed(2)} M parameters` : ""}${m.archiveBytes ? `, archive ${(m.archiveBytes / 2 ** 20).toFixed(1)} MB` : ""}.`, "");
      const groups: BarGroup[] = batches.map((b) => ({
        label: `batch ${b}`,
        bars: data.systems.map((s): Bar => {
          const c = cell(m.model, b, s.id);
          return c?.ok && c.ms
            ? { label: s.label, color: colorOf(s.id), value: c.ms.median, lo: c.ms.p10, hi: c.ms.p90, text: `${fmtNum(c.ms.median)} ms` }
            : { label: s.label, color: colorOf(s.id), note: c?.skipped ? "skipped" : c ? "failed (see the table)" : "not run" };
        }),
      }));
      const file = svg(`latency-${m.model}.svg`, barChart({ title: `${m.model}: latency per call`, subtitle: "median, whiskers p10–p90; shorter is better; each batch size on its own scale", xLabel: "milliseconds", groups, perGroupScale: true }));
      body.push(`![${m.model} latency](${file})`, "");
      body.push(`| system | ${batches.map((b) => `batch ${b}, median (p10–p90)`).join(" | ")} |`, `|---|${batches.map(() => "---").join("|")}|`);
      for (const s of data.systems) {
        body.push(
          `| ${s.label} | ${batches
            .map((b) => {
              const c = cell(m.model, b, s.id);
              return c?.ok && c.ms ? spread(c.ms) : cellText(short(failText(c), 160));
            })
            .join(" | ")} |`,
        );
      }
      body.push("");
    }

    // Ratios
    body.push("### wasmdeploy against each baseline", "");
    body.push(
      "Latency of wasmdeploy divided by the baseline's (medians): below 1 wasmdeploy is faster, above 1 it loses. The ort-web column compares like with like: wasmdeploy on onnxruntime-web against onnxruntime-web on the exported graph.",
      "",
    );
    body.push(
      `| model | batch | wasmdeploy (ort-node) | vs onnxruntime-node (graph) | vs PyTorch eager, 1 thread | vs ${torchN?.label ?? "PyTorch eager, all threads"} | trusted (ort-node) vs onnxruntime-node | wasmdeploy (ort-web) vs onnxruntime-web (graph) |`,
      "|---|---|---|---|---|---|---|---|",
    );
    let within = 0;
    let withinOf = 0;
    let ahead = 0;
    let aheadOf = 0;
    const worst: string[] = [];
    for (const m of data.models) {
      for (const b of batches) {
        const w = cell(m.model, b, "wasmdeploy-ort-node");
        const wt = cell(m.model, b, "wasmdeploy-ort-node-trusted");
        const ww = cell(m.model, b, "wasmdeploy-ort-web");
        const o = cell(m.model, b, "ort-node-graph");
        const ow = cell(m.model, b, "ort-web-graph");
        const t1 = cell(m.model, b, "torch-1t");
        const tn = torchN ? cell(m.model, b, torchN.id) : undefined;
        const v = (c: LatencyCell | undefined) => (c?.ok ? c.ms?.median : undefined);
        if (v(w) !== undefined && v(o) !== undefined) {
          withinOf++;
          if (v(w)! / v(o)! <= 1.15) within++;
          else worst.push(`${m.model} b${b} ${(v(w)! / v(o)!).toFixed(2)}×`);
        }
        if (v(w) !== undefined && v(t1) !== undefined) {
          aheadOf++;
          if (v(w)! < v(t1)!) ahead++;
        }
        body.push(
          `| ${m.model} | ${b} | ${w?.ok ? ms(v(w)) : "failed"} | ${ratio(v(w), v(o))} | ${ratio(v(w), v(t1))} | ${ratio(v(w), v(tn))} | ${ratio(v(wt), v(o))} | ${ratio(v(ww), v(ow))} |`,
        );
      }
    }
    body.push("");
    targets.push({
      target: "Latency within 1.15× of onnxruntime-node graph mode",
      measured: withinOf ? `${within} of ${withinOf} model/batch cells${worst.length ? `; over: ${worst.join(", ")}` : ""}` : "wasmdeploy did not run any model (see failures)",
      met: withinOf ? within === withinOf : undefined,
    });
    targets.push({
      target: "Latency ahead of PyTorch eager (1 thread)",
      measured: aheadOf ? `ahead in ${ahead} of ${aheadOf} cells` : "wasmdeploy did not run any model (see failures)",
      met: aheadOf ? ahead === aheadOf : undefined,
    });

    {
      const rs: { k: string; r: number; ov?: number }[] = [];
      const rt: number[] = [];
      for (const m of data.models) for (const b of batches) {
        const w = cell(m.model, b, "wasmdeploy-ort-node");
        const o = cell(m.model, b, "ort-node-graph");
        const t1 = cell(m.model, b, "torch-1t");
        if (w?.ok && o?.ok) rs.push({ k: `${m.model} b${b}`, r: w.ms!.median / o.ms!.median, ov: w.overheadMs?.median });
        if (w?.ok && t1?.ok) rt.push(t1.ms!.median / w.ms!.median);
      }
      if (rs.length) {
        rs.sort((a, b) => a.r - b.r);
        const ovs = rs.map((x) => x.ov).filter((x): x is number => x !== undefined);
        summary.push(
          `**Latency.** wasmdeploy (ort-node, sandboxed) takes ${rs[0]!.r.toFixed(2)}× (${rs[0]!.k}) to ${rs[rs.length - 1]!.r.toFixed(2)}× (${rs[rs.length - 1]!.k}) the time of onnxruntime-node on the exported graph; ` +
            `within the 1.15× target in ${rs.filter((x) => x.r <= 1.15).length} of ${rs.length} cells. Its own overhead per call is ${fmtNum(Math.min(...ovs))}–${fmtNum(Math.max(...ovs))} ms (median per cell), ` +
            `which is most of the call for the small transformer and GPT at batch 1 and little for the convnets and at batch 8.` +
            (rt.length ? ` Against PyTorch eager on 1 thread it is ${fmtNum(Math.min(...rt))}× to ${fmtNum(Math.max(...rt))}× faster${rt.some((x) => x < 1) ? " (below 1: slower)" : ""}.` : ""),
        );
      } else summary.push("**Latency.** wasmdeploy did not run any model: see what failed below.");
    }

    // Overhead
    body.push("### wasmdeploy's own overhead per call", "");
    body.push(
      "Method: during each timed call the bench times `Engine.run` in the host process (the engine every interpreter uses is driven from there: with ort-node its graphs run on the process's engine threads); overhead = call latency − engine time, per call, then the median. It is the Python side (the torch layer recording the graph, lowering and hashing it) plus the bridge and the host↔interpreter messages.",
      "",
    );
    body.push("| model | batch | system | call (median) | in Engine.run | overhead | overhead share |", "|---|---|---|---|---|---|---|");
    let any = false;
    for (const m of data.models) {
      for (const b of batches) {
        for (const sid of ["wasmdeploy-ort-node", "wasmdeploy-ort-node-trusted", "wasmdeploy-ort-web"]) {
          const c = cell(m.model, b, sid);
          if (!c?.ok || !c.ms || !c.engineMs || !c.overheadMs) continue;
          any = true;
          const label = data.systems.find((s) => s.id === sid)!.label;
          body.push(`| ${m.model} | ${b} | ${label} | ${ms(c.ms.median)} | ${ms(c.engineMs.median)} | ${ms(c.overheadMs.median)} (p10 ${fmtNum(c.overheadMs.p10)}, p90 ${fmtNum(c.overheadMs.p90)}) | ${((100 * c.overheadMs.median) / c.ms.median).toFixed(0)}% |`);
        }
      }
    }
    if (!any) body.push("| — | — | — | no wasmdeploy model call succeeded | | | |");
    body.push("");
    for (const c of data.cells) if (!c.ok && c.error) failures.push({ where: `latency, ${data.systems.find((s) => s.id === c.system)?.label ?? c.system}, ${c.model} batch ${c.batch}`, why: c.error });
  }

  // ---------------------------------------------------------------------------------------
  // 2. Throughput
  // ---------------------------------------------------------------------------------------
  body.push("## 2. Throughput against the number of interpreters", "");
  if (!thr) body.push("Not measured yet (`npm run bench -- --only throughput`).", "");
  else {
    const { data } = thr;
    const cores = data.cores;
    body.push(`From \`${thr.from.file}\`. ${data.method}`, "");
    const pt = (w: string, sys: string, n: number) => data.points.find((p) => p.workload === w && p.system === sys && p.n === n);
    const label = (sys: string) => data.systems.find((s) => s.id === sys)?.label ?? sys;
    for (const w of data.workloads) {
      body.push(`### ${w.id} (${w.dominated === "python" ? "Python dominates" : "the engine dominates"})`, "", `${w.describe}.`, "");
      const series: LineSeries[] = data.systems.map((s) => ({
        label: label(s.id),
        color: colorOf(s.id),
        points: data.counts.flatMap((n) => {
          const p = pt(w.id, s.id, n);
          return p?.ok && p.callsPerS !== undefined ? [{ x: n, y: p.callsPerS }] : [];
        }),
      }));
      const base = pt(w.id, "wasmdeploy-sandboxed", 1);
      if (base?.ok) series.push({ label: "linear scaling (wasmdeploy, sandboxed)", color: "#999", dash: true, points: data.counts.filter((n) => n <= cores).map((n) => ({ x: n, y: n * base.callsPerS! })) });
      const file = svg(`throughput-${w.id}.svg`, lineChart({ title: `${w.id}: throughput against interpreters / threads / processes`, subtitle: `calls per second, higher is better; ${cores} cores`, xLabel: "interpreters (wasmdeploy), threads or processes (PyTorch)", yLabel: "calls / s", series, xTicks: data.counts, marker: { x: cores, label: `${cores} cores` } }));
      body.push(`![${w.id} throughput](${file})`, "");
      body.push(`| n | ${data.systems.map((s) => label(s.id)).join(" | ")} | wasmdeploy scaling (sandboxed / trusted) | sandboxed vs threads | sandboxed vs processes |`, `|---|${data.systems.map(() => "---").join("|")}|---|---|---|`);
      for (const n of data.counts) {
        const vals = data.systems.map((s) => {
          const p = pt(w.id, s.id, n);
          return p?.ok ? `${fmtNum(p.callsPerS!)}/s` : cellText(short(failText(p), 90));
        });
        const eff = (sys: string) => {
          const p = pt(w.id, sys, n);
          const b1 = pt(w.id, sys, 1);
          return p?.ok && b1?.ok ? `${((100 * p.callsPerS!) / (n * b1.callsPerS!)).toFixed(0)}%` : "—";
        };
        const sb = pt(w.id, "wasmdeploy-sandboxed", n);
        const th = pt(w.id, "torch-threads", n);
        const pr = pt(w.id, "torch-processes", n);
        const x = (a?: ThroughputPoint, b?: ThroughputPoint) => (a?.ok && b?.ok ? `${(a.callsPerS! / b.callsPerS!).toFixed(2)}×` : "—");
        body.push(`| ${n} | ${vals.join(" | ")} | ${eff("wasmdeploy-sandboxed")} / ${eff("wasmdeploy-trusted")} | ${x(sb, th)} | ${x(sb, pr)} |`);
      }
      body.push("", "Scaling = throughput(n) / (n × throughput(1)) of the same system: 100% is linear. The ratio columns are wasmdeploy's calls/s over the baseline's (above 1 wasmdeploy wins).", "");
      if (w.dominated === "engine") {
        body.push(
          "Engine-bound work: onnxruntime-node's `run` computes on the thread that calls it, so wasmdeploy runs graphs on a pool of engine threads (`engineWorkers`, default min(interpreters, cores); docs/architecture.md). Past the machine's cores, more interpreters only queue for the same cores, as PyTorch's processes do.",
          "",
        );
      }

      // Targets
      for (const sys of ["wasmdeploy-sandboxed", "wasmdeploy-trusted"]) {
        const b1 = pt(w.id, sys, 1);
        const effs = data.counts.filter((n) => n > 1 && n <= cores).map((n) => ({ n, p: pt(w.id, sys, n) }));
        if (b1?.ok && effs.length && effs.every((e) => e.p?.ok)) {
          const list = effs.map((e) => ({ n: e.n, e: e.p!.callsPerS! / (e.n * b1.callsPerS!) }));
          targets.push({ target: `Throughput scaling within 10% of linear up to ${cores} cores: ${w.id}, ${label(sys)}`, measured: list.map((l) => `${(100 * l.e).toFixed(0)}% at ${l.n}`).join(", "), met: list.every((l) => l.e >= 0.9) });
        } else targets.push({ target: `Throughput scaling within 10% of linear up to ${cores} cores: ${w.id}, ${label(sys)}`, measured: "no data (failed: see below)" });
        const above = data.counts.filter((n) => n > 1).map((n) => ({ n, a: pt(w.id, sys, n), b: pt(w.id, "torch-threads", n) }));
        if (above.length && above.every((x) => x.a?.ok && x.b?.ok)) {
          targets.push({ target: `Ahead of Python threads at every count above 1: ${w.id}, ${label(sys)}`, measured: above.map((x) => `${(x.a!.callsPerS! / x.b!.callsPerS!).toFixed(2)}× at ${x.n}`).join(", "), met: above.every((x) => x.a!.callsPerS! > x.b!.callsPerS!) });
        } else targets.push({ target: `Ahead of Python threads at every count above 1: ${w.id}, ${label(sys)}`, measured: "no data (failed: see below)" });
      }
    }
    {
      const at = data.counts.filter((n) => n <= cores).pop() ?? 1;
      const parts = data.workloads.map((w) => {
        const sb = pt(w.id, "wasmdeploy-sandboxed", at);
        const tr = pt(w.id, "wasmdeploy-trusted", at);
        const th = pt(w.id, "torch-threads", at);
        const pr = pt(w.id, "torch-processes", at);
        const r = (a?: ThroughputPoint, b?: ThroughputPoint) => (a?.ok && b?.ok ? `${(a.callsPerS! / b.callsPerS!).toFixed(2)}×` : "n/a");
        return `${w.id} ${r(sb, th)} / ${r(sb, pr)} (trusted ${r(tr, th)} / ${r(tr, pr)})`;
      });
      summary.push(
        `**Throughput** at ${at} workers (= ${at === cores ? "the core count" : "the largest count up to the cores"}), wasmdeploy sandboxed over PyTorch threads / over PyTorch processes: ${parts.join("; ")}. ` +
          `Above 1 wasmdeploy serves more calls per second.`,
      );
    }
    const seen = new Set<string>();
    for (const p of data.points) {
      if (p.ok || !p.error) continue;
      const k = `${p.system}/${p.workload}`;
      if (seen.has(k)) continue;
      seen.add(k);
      failures.push({ where: `throughput, ${label(p.system)}, ${p.workload} (from n=${p.n})`, why: p.error });
    }
  }

  // ---------------------------------------------------------------------------------------
  // 3. Cold start
  // ---------------------------------------------------------------------------------------
  body.push("## 3. Cold start", "");
  if (!cold) body.push("Not measured yet (`npm run bench -- --only coldstart`).", "");
  else {
    const { data } = cold;
    body.push(`From \`${cold.from.file}\`. ${data.method}`, "");
    const iso = ["sandboxed", "trusted"];
    // A run "from the snapshot" that had to make it (the runtime changed since it was cached)
    // is not a snapshot start: left out.
    const pools = (i: string, n: number, c: boolean) => data.pools.filter((p) => p.ok && p.isolation === i && p.n === n && p.cold === c && (c || p.snapshot === "disk"));
    const remade = data.pools.filter((p) => p.ok && !p.cold && p.snapshot !== "disk").length;
    const counts = [...new Set(data.pools.filter((p) => !p.cold).map((p) => p.n))].sort((a, b) => a - b);
    const maxN = Math.max(...counts);
    const row = (name: string, f: (i: string) => number | undefined, unit = ms) => `| ${name} | ${iso.map((i) => unit(f(i))).join(" | ")} |`;
    const alone = (i: string) => median(pools(i, 1, false).flatMap((p) => p.bootMs ?? []));
    const together = (i: string, n: number) => median(pools(i, n, false).flatMap((p) => p.bootMs ?? []));
    const allReady = (i: string, n: number) => median(pools(i, n, false).map((p) => p.allReadyMs!));
    const marginal = (i: string, n: number) => (allReady(i, n) - allReady(i, 1)) / (n - 1);
    body.push("| (median of runs) | wasmdeploy, sandboxed | wasmdeploy, trusted |", "|---|---|---|");
    body.push(row("first interpreter ready, **no snapshot** (cold Pyodide boot + runtime import + snapshot written, then restored)", (i) => median(pools(i, 1, true).map((p) => p.firstReadyMs!))));
    body.push(row("… of which making the snapshot: a cold Pyodide boot + runtime import, what **each additional interpreter would cost without a snapshot**", (i) => median(pools(i, 1, true).map((p) => p.snapshotMs!))));
    body.push(row("first interpreter ready, snapshot on disk (compiling Pyodide's wasm included)", (i) => median(pools(i, 1, false).map((p) => p.firstReadyMs!))));
    body.push(row("one interpreter restored from the snapshot, alone (its bootMs)", alone));
    for (const n of counts.filter((n) => n > 1)) {
      body.push(row(`pool of ${n}: all ready`, (i) => allReady(i, n)));
      body.push(row(`pool of ${n}: each interpreter's own start, started together on ${thr?.data.cores ?? "the"} cores (median bootMs)`, (i) => together(i, n)));
    }
    if (counts.includes(2)) body.push(row("**second interpreter**: extra wall time of a pool of 2 over a pool of 1", (i) => marginal(i, 2)));
    if (maxN > 2) body.push(row(`each additional interpreter: (pool of ${maxN} − pool of 1) / ${maxN - 1}`, (i) => marginal(i, maxN)));
    body.push("");
    if (remade) body.push(`${remade} pool run(s) found the cached snapshot stale (the runtime's files changed during the run) and made it again; they are left out above.`, "");
    for (const i of iso) {
      const second = marginal(i, 2);
      const own = alone(i);
      if (Number.isFinite(second) || Number.isFinite(own)) {
        targets.push({
          target: `Second interpreter ready under 100 ms from the snapshot (${i})`,
          measured: `restored alone in ${ms(own)}; a pool of 2 takes ${ms(second)} longer than a pool of 1`,
          met: Number.isFinite(second) && Number.isFinite(own) ? second < 100 && own < 100 : undefined,
        });
      }
    }
    summary.push(
      `**Cold start.** From the cached snapshot the first interpreter is ready in ${ms(median(pools("sandboxed", 1, false).map((p) => p.firstReadyMs!)))} sandboxed / ${ms(median(pools("trusted", 1, false).map((p) => p.firstReadyMs!)))} trusted; ` +
        `one interpreter restores in ${ms(alone("sandboxed"))} / ${ms(alone("trusted"))}; without a snapshot the first takes ${ms(median(pools("sandboxed", 1, true).map((p) => p.firstReadyMs!)))} / ${ms(median(pools("trusted", 1, true).map((p) => p.firstReadyMs!)))}.`,
    );
    // First inference
    const workloads = [...new Set(data.firstCalls.map((f) => f.workload))];
    const systems = ["wasmdeploy-sandboxed", "wasmdeploy-trusted", "torch"];
    const sysLabel: Record<string, string> = { "wasmdeploy-sandboxed": "wasmdeploy, sandboxed", "wasmdeploy-trusted": "wasmdeploy, trusted", torch: "PyTorch (fresh python3)" };
    body.push("First inference from an archive on disk, in a fresh process (median wall time from spawn to exit, and the phases inside):", "");
    body.push("| workload | system | spawn → exit | phases (median) |", "|---|---|---|---|");
    const fc = (w: string, s: string) => data.firstCalls.filter((f) => f.workload === w && f.system === s);
    for (const w of workloads) {
      for (const s of systems) {
        const runs = fc(w, s);
        const ok = runs.filter((r) => r.ok);
        if (!ok.length) {
          const err = runs[0]?.error ?? "not run";
          body.push(`| ${w} | ${sysLabel[s]} | ${cellText(short(`failed: ${err}`, 160))} | |`);
          if (runs[0]) failures.push({ where: `cold start, first ${w} inference, ${sysLabel[s]}`, why: err });
          continue;
        }
        const ph = s === "torch" ? { "import torch": "importTorchMs", "load archive": "loadMs", "first call": "firstCallMs" } : { "node + import": "nodeStartMs", "manager ready": "createMs", loadPackage: "loadPackageMs", "first call (unpickle + run)": "firstCallMs" };
        const phases = Object.entries(ph)
          .map(([k, key]) => `${k} ${ms(median(ok.map((r) => r.phases?.[key] ?? NaN)))}`)
          .join(", ");
        body.push(`| ${w} | ${sysLabel[s]} | ${ms(median(ok.map((r) => r.wallMs!)))} (${ok.length} runs) | ${phases} |`);
      }
    }
    body.push("");
    const groups: BarGroup[] = [
      { label: "first interpreter, no snapshot", bars: iso.map((i) => ({ label: `wasmdeploy, ${i}`, color: colorOf(`wasmdeploy-${i}`), value: median(pools(i, 1, true).map((p) => p.firstReadyMs!)) })) },
      { label: "first interpreter, snapshot on disk", bars: iso.map((i) => ({ label: `wasmdeploy, ${i}`, color: colorOf(`wasmdeploy-${i}`), value: median(pools(i, 1, false).map((p) => p.firstReadyMs!)) })) },
      { label: "one interpreter restored from the snapshot, alone", bars: iso.map((i) => ({ label: `wasmdeploy, ${i}`, color: colorOf(`wasmdeploy-${i}`), value: alone(i) })), reference: { x: 100, label: "target 100 ms" } },
      { label: "second interpreter: pool of 2 minus pool of 1", bars: iso.map((i) => ({ label: `wasmdeploy, ${i}`, color: colorOf(`wasmdeploy-${i}`), value: marginal(i, 2) })), reference: { x: 100, label: "target 100 ms" } },
      ...workloads.map((w) => ({
        label: `first ${w} inference, spawn → exit`,
        bars: systems.map((s) => {
          const ok = fc(w, s).filter((r) => r.ok);
          return { label: sysLabel[s]!, color: colorOf(s), value: ok.length ? median(ok.map((r) => r.wallMs!)) : undefined, note: "failed (see the table)" };
        }),
      })),
    ];
    for (const g of groups) for (const b of g.bars) if (b.value !== undefined && !(Number.isFinite(b.value) && b.value >= 0)) {
      b.note = Number.isFinite(b.value) ? `${b.value.toFixed(0)} ms (noise)` : "no data";
      b.value = undefined;
    }
    const file = svg("coldstart.svg", barChart({ title: "Cold start", subtitle: "milliseconds, median of runs; shorter is better; each group on its own scale", xLabel: "milliseconds", groups, perGroupScale: true }));
    body.push(`![cold start](${file})`, "");
    for (const p of data.pools) if (!p.ok) failures.push({ where: `cold start, pool of ${p.n} (${p.isolation}${p.cold ? ", no snapshot" : ""})`, why: p.error ?? "unknown" });
  }

  // ---------------------------------------------------------------------------------------
  // 4. Memory
  // ---------------------------------------------------------------------------------------
  body.push("## 4. Memory", "");
  if (!mem) body.push("Not measured yet (`npm run bench -- --only memory`).", "");
  else {
    const { data } = mem;
    body.push(`From \`${mem.from.file}\`. ${data.method}`, "");
    const pt = (w: string, s: string, n: number) => data.points.find((p) => p.workload === w && p.system === s && p.n === n);
    for (const w of data.workloads) {
      body.push(`### ${w}`, "");
      const series: LineSeries[] = [];
      for (const s of data.systems) {
        const pts = (key: "rssBytes" | "pssBytes") => data.counts.flatMap((n) => {
          const p = pt(w, s.id, n);
          return p?.ok && p[key] !== undefined ? [{ x: n, y: p[key]! / 2 ** 20 }] : [];
        });
        series.push({ label: `${s.label}, RSS`, color: colorOf(s.id), points: pts("rssBytes") });
        series.push({ label: `${s.label}, PSS`, color: colorOf(s.id), dash: true, points: pts("pssBytes") });
      }
      const file = svg(`memory-${w}.svg`, lineChart({ title: `${w}: resident memory against interpreters / processes`, subtitle: "MB; solid RSS, dashed PSS (shared pages split); lower is better", xLabel: "interpreters (wasmdeploy) or processes (PyTorch)", yLabel: "MB", series, xTicks: data.counts }));
      body.push(`![${w} memory](${file})`, "");
      body.push(`| n | ${data.systems.map((s) => `${s.label}: RSS (PSS)`).join(" | ")} |`, `|---|${data.systems.map(() => "---").join("|")}|`);
      for (const n of data.counts) {
        body.push(`| ${n} | ${data.systems.map((s) => {
          const p = pt(w, s.id, n);
          return p?.ok ? `${mib(p.rssBytes)} (${mib(p.pssBytes)})` : cellText(short(failText(p), 100));
        }).join(" | ")} |`);
      }
      const per = (s: string, key: "rssBytes" | "pssBytes") => slope(data.counts.flatMap((n) => {
        const p = pt(w, s, n);
        return p?.ok && p[key] !== undefined ? [{ x: n, y: p[key]! / 2 ** 20 }] : [];
      }));
      const second = (s: string) => {
        const a = pt(w, s, 1);
        const b = pt(w, s, 2);
        return a?.ok && b?.ok ? (b.rssBytes! - a.rssBytes!) / 2 ** 20 : undefined;
      };
      const f1 = (x: number | undefined) => (x === undefined ? "—" : `${x.toFixed(0)} MB`);
      body.push(`| **per additional one** (least-squares slope, RSS / PSS) | ${data.systems.map((s) => `${f1(per(s.id, "rssBytes"))} / ${f1(per(s.id, "pssBytes"))}`).join(" | ")} |`);
      body.push(`| **second one** (RSS of 2 − RSS of 1) | ${data.systems.map((s) => f1(second(s.id))).join(" | ")} |`);
      const held = data.points.filter((p) => p.workload === w && p.ok && p.held && p.held !== "model after one inference");
      if (held.length) body.push("", `Note: ${held[0]!.system}: ${cellText(short(held[0]!.held!, 300))}, so this measures the interpreters without the engine's weights and activations.`);
      body.push("");
      for (const s of ["wasmdeploy-sandboxed", "wasmdeploy-trusted"]) {
        const sec = second(s);
        if (sec !== undefined) targets.push({ target: `Second interpreter under 40 MB (${w}, ${s.replace("wasmdeploy-", "")})`, measured: `${sec.toFixed(0)} MB RSS (slope ${f1(per(s, "rssBytes"))} per interpreter; PSS slope ${f1(per(s, "pssBytes"))})`, met: sec < 40 });
      }
      summary.push(
        `**Memory, ${w}.** Each additional holder costs (RSS / PSS): ${data.systems.map((s) => `${s.label} ${f1(per(s.id, "rssBytes"))} / ${f1(per(s.id, "pssBytes"))}`).join("; ")}.`,
      );
      const seen = new Set<string>();
      for (const p of data.points) {
        if (p.workload !== w || p.ok || !p.error || seen.has(p.system)) continue;
        seen.add(p.system);
        failures.push({ where: `memory, ${p.system}, ${w} (from n=${p.n})`, why: p.error });
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // 5. Small-model targets and the hops of a call
  // ---------------------------------------------------------------------------------------
  body.push("## 5. Small models: per-call overhead against graph mode", "");
  if (!tgt) body.push("Not measured yet (`npm run bench -- --only targets`).", "");
  else {
    const { data } = tgt;
    body.push(`From \`${tgt.from.file}\`. ${data.method}`, "");
    body.push("| case | interpreter | isolation | wasmdeploy | baseline | ratio | target | |", "|---|---|---|---:|---:|---:|---|---|");
    for (const r of data.rows) {
      const fmt = (x: number | undefined) => (x === undefined ? "—" : r.unit === "ms" ? ms(x) : `${x.toFixed(0)} calls/s`);
      const kindName = r.interpreter === "pyodide" ? "Pyodide" : "WASI";
      body.push(`| ${cellText(r.label)} | ${kindName} | ${r.isolation ?? ""} | ${r.ok ? fmt(r.ours) : cellText(short(failText(r), 100))} | ${fmt(r.baseline)} | ${r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}x`} | ${r.target} | ${r.ok ? yesNo(r.met) : ""} |`);
      if (r.ok) targets.push({ target: `${r.label} (${kindName}, ${r.isolation}): ${r.target}`, measured: `${r.ratio!.toFixed(2)}x (${fmt(r.ours)} vs ${fmt(r.baseline)})`, met: !!r.met });
      else failures.push({ where: `targets, ${r.id} (${kindName}, ${r.isolation})`, why: r.error ?? "unknown" });
    }
    body.push("");
    body.push(
      "Tiny GPT and mlp calls are answered by host replay after their first two calls (docs/tensor-layer.md, \"Host replay\"). " +
        "The resnet18 rows compare against ONNX Runtime's default session options, whose spinning intra-op pool loses about 3x " +
        "whenever another process wants a core: run in plain onnxruntime-node on this machine, the graph wasmdeploy builds and " +
        "`torch.onnx.export`'s ran at the same speed under every session setting (1 thread, 2 threads with and without spinning), " +
        "so how far below 1.15x these rows land measures the machine's load more than wasmdeploy (docs/architecture.md, \"Host replay\").",
      "",
    );
    if (Array.isArray(data.hops) && data.hops.length) {
      body.push("### Where a call's time goes (ms per call; trusted, 1 interpreter, ort-node)", "");
      body.push(
        "Before: replay off, every call records its graph op by op (the path every call took before record/replay). " +
          "Python replay: host replay off, the interpreter replays the recorded graph (the path before host replay). " +
          "Host replay: the default; once a call replayed a one-graph trace, the host runs the graph and builds the result " +
          "itself, without a message to the interpreter (src/pool/host-replay.ts), so every Python hop is zero. Measured by `bench/hops.ts`; " +
          "hops are timed while the run's other work may share the cores (see the load average above).",
        "",
      );
      body.push(hopTable(data.hops), "");
    } else if (data.hops && !Array.isArray(data.hops)) failures.push({ where: "targets, hop breakdown", why: data.hops.error });
  }

  // ---------------------------------------------------------------------------------------
  // 6. WASI interpreters against Pyodide (bench/wasi.ts results, one row per run)
  // ---------------------------------------------------------------------------------------
  const wasiRuns = loadWasiRuns();
  body.push("## 6. WASI interpreters against Pyodide", "");
  if (!wasiRuns.length) body.push("Not measured yet (`npm run bench:wasi`).", "");
  else {
    body.push(
      "`npm run bench:wasi` starts 1 and then 5 interpreters of each kind, each serving the same package, in one run. " +
        "Per additional interpreter: time to ready and PSS of the whole process tree (sandbox processes included). " +
        "Pure Python: the 5th run of a loop (after V8's tier-up), as a ratio to Pyodide trusted. One row per run, newest first; " +
        "the load average says how busy the machine was.",
      "",
      "| run | load | +1 ready: WASI / Pyodide trusted / sandboxed | +1 PSS: WASI / trusted / sandboxed | pure Python, WASI vs Pyodide | trivial call: WASI / trusted / sandboxed |",
      "|---|---|---|---|---|---|",
    );
    for (const r of wasiRuns) {
      const f = (x: number | undefined, d = 0) => (x === undefined ? "—" : x.toFixed(d));
      body.push(
        `| ${r.file} | ${r.load === undefined ? "busy (not recorded)" : r.load.toFixed(1)} | ${f(r.ready.wasi)} / ${f(r.ready["pyodide-trusted"])} / ${f(r.ready["pyodide-sandboxed"])} ms | ` +
          `${f(r.pss.wasi, 1)} / ${f(r.pss["pyodide-trusted"], 1)} / ${f(r.pss["pyodide-sandboxed"], 1)} MB | ${f(r.pyRatio, 2)}x | ` +
          `${f(r.call.wasi)} / ${f(r.call["pyodide-trusted"])} / ${f(r.call["pyodide-sandboxed"])} µs |`,
      );
    }
    body.push("");
    const best = wasiRuns.find((r) => r.load !== undefined && r.load < 1) ?? wasiRuns[0]!;
    const t = (target: string, measured: string, met: boolean | undefined) => targets.push({ target: `WASI, ${target}`, measured: `${measured} (${best.file})`, met });
    t("one more interpreter ready in under 30 ms", `${best.ready.wasi?.toFixed(0)} ms`, best.ready.wasi === undefined ? undefined : best.ready.wasi < 30);
    t("one more interpreter under 20 MB PSS", `${best.pss.wasi?.toFixed(1)} MB`, best.pss.wasi === undefined ? undefined : best.pss.wasi < 20);
    t("pure Python within 1.3x of Pyodide", `${best.pyRatio?.toFixed(2)}x`, best.pyRatio === undefined ? undefined : best.pyRatio <= 1.3);
    t(
      "call overhead no worse than Pyodide trusted",
      `${best.call.wasi?.toFixed(0)} vs ${best.call["pyodide-trusted"]?.toFixed(0)} µs`,
      best.call.wasi === undefined || best.call["pyodide-trusted"] === undefined ? undefined : best.call.wasi <= best.call["pyodide-trusted"],
    );
  }

  // ---------------------------------------------------------------------------------------
  // 7. Pure Python: the WASI interpreter against native CPython 3.11 (bench/pure.ts)
  // ---------------------------------------------------------------------------------------
  const pureRuns = loadPureRuns();
  body.push("## 7. Pure Python: the WASI interpreter against native CPython 3.11", "");
  if (!pureRuns.length) body.push("Not measured yet (`npm run bench:pure`).", "");
  else {
    const x = (v: number) => `${v.toFixed(2)}x`;
    const latest = pureRuns[0]!;
    body.push(
      "`npm run bench:pure` runs the workloads of `bench/pure/suite.py` (dicts and strings, method calls, a BPE tokenizer, sorts, recursion, " +
        "beam search, NMS) on Debian's `/usr/bin/python3.11` (built with PGO and LTO) and on WASI interpreters (one per build compared, " +
        "`--variant LABEL=python.wasm[@V8 flags]`), one long-lived process each, every round running each workload once on every system in " +
        "rotating order, after one warm-up round. Each cell is the median of the rounds; the suite's ratio is the geometric mean of the " +
        "per-workload ratios to native. CPU time is the figure to read on a busy machine: the wall times of all systems stretch with the " +
        "load of other jobs (native CPython got well under one core in these runs), CPU time far less.",
      "",
      `Newest run, \`${latest.file}\` (${latest.rounds} rounds, load average ${latest.load?.toFixed(1) ?? "?"} at the start):`,
      "",
      `| workload | ${latest.systems.map((s) => s.label).join(" | ")} |`,
      `|---|${latest.systems.map(() => "---:").join("|")}|`,
    );
    for (const r of latest.cpuRows) {
      const wall = latest.rows.find((w) => w.name === r.name)!;
      body.push(`| ${r.name} | ${r.medianMs.map((m, i) => `${m.toFixed(1)} ms${i ? ` (${x(r.ratio[i]!)})` : ""} CPU, ${wall.medianMs[i]!.toFixed(1)} ms wall`).join(" | ")} |`);
    }
    body.push(`| **geometric mean, CPU (wall)** | ${latest.systems.map((s, i) => (i ? `**${x(s.cpu.geomeanRatio)}** (${x(s.wall.geomeanRatio)})` : "1")).join(" | ")} |`, "");
    body.push(
      "Every run, newest first: each system's geometric mean against native, CPU time (wall time in brackets). The labels name the builds " +
        "compared (docs/architecture.md, \"WASI interpreters\", says what each step is); `wasi` is wasm/python.wasm as committed when the run was made.",
      "",
      "| run | load | systems: CPU (wall) |",
      "|---|---|---|",
    );
    for (const r of pureRuns) {
      body.push(`| ${r.file} | ${r.load?.toFixed(1) ?? "?"} | ${r.systems.slice(1).map((s) => `${s.label}${s.v8Flags?.length ? ` (${s.v8Flags.join(" ")})` : ""}: ${x(s.cpu.geomeanRatio)} (${x(s.wall.geomeanRatio)})`).join("; ")} |`);
    }
    body.push("");
    const shipped = latest.systems.find((s) => s.label === "wasi");
    if (shipped) {
      targets.push({
        target: "WASI, pure-Python suite within 2x of native CPython 3.11 (median of rounds, same run, geometric mean; CPU time)",
        measured: `${x(shipped.cpu.geomeanRatio)} CPU, ${x(shipped.wall.geomeanRatio)} wall (${latest.file})`,
        met: shipped.cpu.geomeanRatio <= 2,
      });
    }
  }

  // ---------------------------------------------------------------------------------------
  // 8. Graph mode across a model zoo (bench/zoo.ts)
  // ---------------------------------------------------------------------------------------
  const zooRuns = loadZooRuns();
  body.push("## 8. Graph mode across a model zoo", "");
  if (!zooRuns.length) body.push("Not measured yet (`npm run bench:zoo`).", "");
  else {
    const latest = zooRuns[0]!;
    const x = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(2)}x`);
    // Sub-millisecond calls in microseconds: two decimals of a millisecond would hide the gap.
    const zms = (v: number | undefined) => (v !== undefined && v < 1 ? `${(v * 1000).toFixed(0)} µs` : ms(v));
    body.push(
      "`npm run bench:zoo` times models made by real PyTorch (`bench/make_zoo_models.py`: torchvision 0.14 at full size with calibrated " +
        "BatchNorm, a ViT-Ti/16-sized VisionTransformer, the tiny GPT, an LSTM tagger), each as a lone call on a default InterpreterManager " +
        "(trusted), against onnxruntime-node with its default session options on the model's own `torch.onnx.export`. One child process per " +
        "model runs both in alternating blocks; the ratio is our median over onnxruntime-node's, and each block pair gives a ratio of its own " +
        "(their range says how steady the machine was). onnxruntime-node's defaults spin their intra-op threads, which loses badly whenever " +
        "another process wants a core: on a busy machine the convnet rows say more about the load than about either system. So the same " +
        "blocks also time onnxruntime-node with the engine's own session options (1 intra-op thread, no spinning, no arena), which load " +
        "does not throw off a cliff: the \"1-thread\" columns. Our lone calls may use every core (wide runs), so below 1x there is not a " +
        "faster kernel, only a second core.",
      "",
      `Newest run, \`${latest.file}\`${latest.quick ? " (--quick)" : ""}${latest.loadAverage === undefined ? "" : `, load average ${latest.loadAverage.toFixed(1)} at the start`}:`,
      "",
      "| model | wasmdeploy | onnxruntime-node | ratio | block ratios | 1-thread onnxruntime-node | ratio | host-replayed calls |",
      "|---|---:|---:|---:|---|---:|---:|---:|",
    );
    for (const r of latest.rows) {
      if (!r.ok) body.push(`| ${r.model} | failed: ${cellText(short(r.error ?? "", 200))} | | | | | | |`);
      else body.push(`| ${r.model} | ${zms(r.ours!)} | ${zms(r.ort!)} | ${x(r.ratio)} | ${x(Math.min(...r.blockRatios!))}-${x(Math.max(...r.blockRatios!))} | ${zms(r.ort1)} | ${x(r.ratio1)} | ${r.hostReplayed ?? 0} of ${r.calls ?? "?"} |`);
    }
    body.push(`| **geometric mean** | | | **${x(latest.geomean)}** | | | **${x(latest.geomean1)}** | |`, "");
    body.push("Every run, newest first (the tag in a file's name says what it measured, e.g. `before`: the branch before the change it names).", "", "| run | commit | load | geometric mean | worst | per model (1-thread baseline) |", "|---|---|---|---:|---:|---|");
    for (const r of zooRuns) {
      body.push(`| ${r.file} | ${cellText(r.commit ?? "?")} | ${r.loadAverage?.toFixed(1) ?? "?"} | ${x(r.geomean)}${r.geomean1 === undefined ? "" : ` (${x(r.geomean1)})`} | ${x(r.maxRatio)} | ${r.rows.map((m) => `${m.model} ${m.ok ? x(m.ratio) + (m.ratio1 === undefined ? "" : ` (${x(m.ratio1)})`) : "failed"}`).join(", ")} |`);
    }
    body.push("");
    const floor = loadFloorRun();
    if (floor) {
      body.push(
        "### The per-call floor of a host-replayed call",
        "",
        "`npm run bench:floor` splits a small host-replayed call into layers, each timed in rotating rounds in one process: onnxruntime-node " +
          "on the export (default options, and 1 thread), our lowered graph run through the manager's engine as a host-replayed call runs it " +
          "(captured from a real call: graph plus Engine.run), and the whole `model.call()`. \"call - engine\" is the call machinery (queue " +
          "turn, wire encoding, signature and plan lookup, admission bookkeeping, the result from the template). Wall time of a call: 10th " +
          "percentile and median over every round (other processes only ever add to a call).",
        "",
        `\`${floor.file}\` (${floor.rounds} rounds of ${floor.calls} calls, load average ${floor.loadAverage?.toFixed(1) ?? "?"}):`,
        "",
        "| model | ort default | ort 1 thread | engine | call | call - engine | call - ort default |",
        "|---|---:|---:|---:|---:|---:|---:|",
      );
      const us = (p10: number, p50: number) => `${p10.toFixed(1)} / ${p50.toFixed(1)} µs`;
      for (const [m, r] of Object.entries(floor.models)) {
        const l = (k: string) => r[k]!;
        const d = (a: string, b: string) => us(l(a).wallP10Us - l(b).wallP10Us, l(a).wallP50Us - l(b).wallP50Us);
        body.push(`| ${m} | ${["ort default", "ort 1 thread", "engine", "call"].map((k) => us(l(k).wallP10Us, l(k).wallP50Us)).join(" | ")} | ${d("call", "engine")} | ${d("call", "ort default")} |`);
      }
      body.push("");
    }
    targets.push({
      target: "Model zoo: geometric mean of our time over onnxruntime-node's at most 1.0x, no model above 1.3x (same run, alternating)",
      measured: `${x(latest.geomean)} geometric mean, worst ${x(latest.maxRatio)} (${latest.file})`,
      met: latest.geomean !== undefined && latest.maxRatio !== undefined && latest.geomean <= 1 && latest.maxRatio <= 1.3,
    });
  }

  // ---------------------------------------------------------------------------------------
  // Page
  // ---------------------------------------------------------------------------------------
  if (summary.length) md.push("## In short", "", ...summary.map((x) => `- ${x}`), "");
  md.push("## Targets", "", "Reported, not asserted.", "", "| target | measured | |", "|---|---|---|");
  for (const t of targets) md.push(`| ${cellText(t.target)} | ${cellText(t.measured)} | ${yesNo(t.met)} |`);
  md.push("");
  md.push(...body);
  md.push("## What failed or was skipped", "");
  const skipped = [...sources].flatMap((r) => r.skipped.map((s) => `${s.what}: ${s.reason}`));
  if (!failures.length && !skipped.length) md.push("Nothing.", "");
  else {
    const grouped = new Map<string, string[]>();
    for (const { where, why } of failures) {
      if (!grouped.has(why)) grouped.set(why, []);
      grouped.get(why)!.push(where);
    }
    for (const [why, where] of grouped) md.push(`- ${where.join("; ")}: ${short(why, 400)}`);
    for (const s of skipped) md.push(`- skipped: ${s}`);
    md.push("");
  }
  md.push("## Notes on fairness", "");
  md.push(
    "- Same inputs for every system (the `.npy` files of `bench/.cache/models`, made by `bench/make_bench_models.py` and `packages/make_models.py` with real PyTorch), and every system's output is checked against PyTorch's eager output (|error| ≤ 1e-4 × max(1, max|expected|)) before it is timed; a system that fails the check is reported as failed, not timed.",
    "- wasmdeploy gets new Tensor objects on every call; its engine caches compiled sessions per graph structure (what a real request also uses), never results. ONNX Runtime sessions are created once per model, as a server would.",
    "- One thread per model execution everywhere except the \"PyTorch eager, N threads\" row: wasmdeploy's engine runs each session on 1 thread (its default: the interpreters are the parallelism), ONNX Runtime baselines use 1 intra-op thread, PyTorch uses `torch.set_num_threads(1)`.",
    "- The ONNX exports are traced at a fixed batch size (wasmdeploy compiles one session per input shape too), opset 17, with ONNX Runtime's full graph optimizations, like wasmdeploy's engine.",
    "- The PyTorch process baseline has no dispatcher in front of its processes (each loops on its own), so it is an upper bound for a multi-process server; wasmdeploy's numbers include its own dispatching.",
    "- PSS splits pages shared between processes (libtorch, the node binary, Pyodide's compiled code) among them; RSS counts them in every process. Sandboxed wasmdeploy interpreters and PyTorch processes share such pages, so their RSS sums overstate the real cost; compare PSS for that.",
    "",
  );
  writeFileSync(DOC, md.join("\n"));
  written.unshift(DOC);
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = generateReport();
  for (const f of files) console.log(path.relative(REPO, f));
}
