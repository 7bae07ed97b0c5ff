// Graph-mode speed across a model zoo (issue 26): each model made by real PyTorch
// (bench/make_zoo_models.py), called alone on a default InterpreterManager, against
// onnxruntime-node with default session options on the model's own ONNX export. Both run in
// one child process per model, in alternating blocks (drift on a shared machine hits both
// alike); the ratio is our median over onnxruntime-node's. A third system in the same blocks,
// onnxruntime-node with the engine's own session options (1 thread, no spinning), is the
// baseline other processes' load does not throw off a cliff (the default options' spinning
// pool loses several-fold when another process wants a core). A fourth, onnxruntime-node with
// one intra-op thread per core: its default counts physical cores, and some VMs report 1.
// Results in bench/results/.
//
//   npm run bench:zoo -- [--quick] [--only lstm_tagger,tinygpt] [--tag NAME] [--isolation trusted]
//
// Also a child task of bench/child.ts ("zoo"), one model per child.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import {
  arg,
  CACHE_DIR,
  type Manifest,
  PYTHON,
  SNAPSHOT_DIR,
  type Summary,
  checkArray,
  errorString,
  log,
  progress,
  repoPath,
  round,
  runTsChild,
  summarize,
  writeResult,
} from "./lib/common.js";

const ZOO_DIR = path.join(CACHE_DIR, "zoo");
const MANIFEST = path.join(ZOO_DIR, "zoo.json");

export interface ZooRow {
  model: string;
  ok: boolean;
  error?: string;
  /** Median ms per call: ours, onnxruntime-node's. */
  ours?: number;
  ort?: number;
  ratio?: number;
  /** Ratio of medians in each block pair (its spread says how steady the machine was). */
  blockRatios?: number[];
  /**
   * onnxruntime-node on the same export with the engine's own session options (1 intra-op
   * thread, no spinning pool, no arena): the baseline that other processes' load does not
   * throw off a cliff. Median ms and our ratio to it.
   */
  ort1?: number;
  ratio1?: number;
  /**
   * onnxruntime-node with one intra-op thread per core, its other options default: its default
   * thread count is the physical cores it detects, which on some virtual machines is 1 (this
   * machine's 2-core VM since 2026-12-06), and then the default column is a 1-thread run.
   */
  ortAll?: number;
  ratioAll?: number;
  ortAllMs?: Summary;
  ort1Ms?: Summary;
  oursMs?: Summary;
  ortMs?: Summary;
  /** Calls the host answered without entering Python (host replay), of all calls made. */
  hostReplayed?: number;
  calls?: number;
  /** Largest |ours - PyTorch| against its bound (bench/lib/common.ts TOL). */
  maxAbsErr?: number;
}

interface ChildArgs {
  manifestPath: string;
  model: string;
  isolation: "trusted" | "sandboxed";
  blocks: number;
  /** Timed ms per block and system (at least minCalls calls). */
  blockMs: number;
  minCalls: number;
  warmup: number;
}

export async function zooChild(args: ChildArgs): Promise<ZooRow> {
  const { InterpreterManager, Tensor } = await import("wasmdeploy");
  const ort = await import("onnxruntime-node");
  const { engineSessionOptions } = await import("../dist/platform/node/ort-node.js");
  const manifest = JSON.parse(readFileSync(args.manifestPath, "utf8")) as Manifest;
  const e = manifest.models.find((m) => m.model === args.model);
  const row: ZooRow = { model: args.model, ok: false };
  if (!e?.onnx) return { ...row, error: `no ${args.model} in ${args.manifestPath}` };
  let manager;
  let session;
  let session1;
  let sessionAll;
  try {
    const input = Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(e.inputs[0]!.file))));
    const expected = Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(e.expected[0]!.file))));
    manager = await InterpreterManager.create({ isolation: args.isolation, snapshotDir: SNAPSHOT_DIR, callTimeoutMs: 600_000 });
    const model = (await manager.loadPackage(repoPath(e.archive))).loadPickle(e.pickle[0], e.pickle[1]);
    session = await ort.InferenceSession.create(new Uint8Array(readFileSync(repoPath(e.onnx))));
    session1 = await ort.InferenceSession.create(new Uint8Array(readFileSync(repoPath(e.onnx))), engineSessionOptions(1, false));
    sessionAll = await ort.InferenceSession.create(new Uint8Array(readFileSync(repoPath(e.onnx))), { intraOpNumThreads: availableParallelism() });
    const s = session;
    const s1 = session1;
    const sAll = sessionAll;
    const ortFeeds = () => ({ input: new ort.Tensor(input.dtype as "float32", input.data as Float32Array, input.shape as number[]) });
    const ours = () => model.call(new Tensor(input.dtype, input.data, input.shape));
    const first = (await ours()) as InstanceType<typeof Tensor>;
    const check = checkArray(first.data as Float32Array, first.shape, expected.data as Float32Array, expected.shape);
    row.maxAbsErr = check.maxAbsErr;
    if (!check.ok) throw new Error(`our output is wrong: ${check.error}`);
    await s.run(ortFeeds());
    await s1.run(ortFeeds());
    await sAll.run(ortFeeds());
    for (let i = 0; i < args.warmup; i++) {
      await ours();
      await s.run(ortFeeds());
      await s1.run(ortFeeds());
      await sAll.run(ortFeeds());
    }
    const block = async (f: () => Promise<unknown>) => {
      const xs: number[] = [];
      let spent = 0;
      while (xs.length < args.minCalls || spent < args.blockMs) {
        const t = performance.now();
        await f();
        const dt = performance.now() - t;
        xs.push(dt);
        spent += dt;
      }
      return xs;
    };
    const med = (xs: number[]) => summarize(xs).median;
    const mine: number[] = [];
    const theirs: number[] = [];
    const one: number[] = [];
    const all: number[] = [];
    row.blockRatios = [];
    for (let b = 0; b < args.blocks; b++) {
      const t = await block(() => s.run(ortFeeds()));
      const o = await block(ours);
      const t1 = await block(() => s1.run(ortFeeds()));
      const tAll = await block(() => sAll.run(ortFeeds()));
      theirs.push(...t);
      mine.push(...o);
      one.push(...t1);
      all.push(...tAll);
      row.blockRatios.push(round(med(o) / med(t), 3));
    }
    row.ort1Ms = summarize(one);
    row.ort1 = row.ort1Ms.median;
    row.oursMs = summarize(mine);
    row.ortMs = summarize(theirs);
    row.ours = row.oursMs.median;
    row.ort = row.ortMs.median;
    row.ratio = round(row.ours / row.ort, 3);
    row.ratio1 = round(row.ours / row.ort1, 3);
    row.ortAllMs = summarize(all);
    row.ortAll = row.ortAllMs.median;
    row.ratioAll = round(row.ours / row.ortAll, 3);
    const stats = manager.stats();
    row.hostReplayed = stats.interpreters.reduce((n, i) => n + (i.hostReplays ?? 0), 0);
    row.calls = 1 + args.warmup + mine.length;
    row.ok = true;
    progress(`${args.model}: ${row.ours.toFixed(3)} ms vs ${row.ort.toFixed(3)} ms = ${row.ratio}x (blocks ${row.blockRatios.join(", ")}); vs 1 thread ${row.ort1.toFixed(3)} ms = ${row.ratio1}x; vs every core ${row.ortAll.toFixed(3)} ms = ${row.ratioAll}x`);
  } catch (err) {
    row.error = errorString(err);
    progress(`${args.model}: failed: ${row.error}`);
  } finally {
    await session?.release();
    await session1?.release();
    await sessionAll?.release();
    await manager?.close();
  }
  return row;
}

function gitCommit(): string | undefined {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoPath("."), encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: repoPath("."), encoding: "utf8" }).trim() !== "";
    return head + (dirty ? " (uncommitted changes)" : "");
  } catch {
    return undefined;
  }
}

async function main() {
  const quick = process.argv.includes("--quick");
  const startLoad = round(loadavg()[0]!, 2);
  log(`zoo: making the models if needed (${PYTHON} bench/make_zoo_models.py)`);
  execFileSync(PYTHON, [repoPath("bench/make_zoo_models.py"), "--out", ZOO_DIR], { stdio: ["ignore", "ignore", "inherit"] });
  const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest;
  const only = arg("only", "") ? arg("only", "").split(",") : undefined;
  const isolation = arg("isolation", "trusted") as "trusted" | "sandboxed";
  const names = manifest.models.map((m) => m.model).filter((m) => !only || only.includes(m));
  const rows: ZooRow[] = [];
  for (const model of names) {
    log(`zoo: ${model}`);
    const args: ChildArgs = { manifestPath: MANIFEST, model, isolation, blocks: quick ? 4 : 8, blockMs: quick ? 400 : 1000, minCalls: quick ? 5 : 10, warmup: quick ? 15 : 30 };
    const r = await runTsChild<ZooRow>("zoo", args, { timeoutMs: 20 * 60_000 });
    rows.push(r.ok ? r.value! : { model, ok: false, error: r.error });
  }
  const ok = rows.filter((r) => r.ok);
  const gm = (f: (r: ZooRow) => number) => (ok.length ? round(Math.exp(ok.reduce((s, r) => s + Math.log(f(r)), 0) / ok.length), 3) : undefined);
  const geomean = gm((r) => r.ratio!);
  const withOne = ok.filter((r) => r.ratio1 !== undefined);
  const geomean1 = withOne.length === ok.length ? gm((r) => r.ratio1!) : undefined;
  const geomeanAll = ok.every((r) => r.ratioAll !== undefined) ? gm((r) => r.ratioAll!) : undefined;
  const result = {
    date: new Date().toISOString(),
    quick,
    loadAverage: startLoad,
    commit: gitCommit(),
    isolation,
    method:
      "One child process per model: a default InterpreterManager (trusted unless --isolation) and onnxruntime-node " +
      "(default session options) on the model's torch.onnx export, batch 1 (tinygpt 2), alternating blocks of lone calls; " +
      "ratio = our median ms / onnxruntime-node's median ms. Geometric mean over the models. A third system in the same blocks, " +
      "onnxruntime-node with the engine's session options (1 thread, no spinning, no arena), gives ratio1 / geomean1; " +
      "a fourth, onnxruntime-node with intraOpNumThreads = the machine's cores (its default counts physical cores, which some VMs report as 1), ratioAll / geomeanAll.",
    cpus: availableParallelism(),
    rows,
    geomean,
    geomean1,
    geomeanAll,
    maxRatioAll: ok.every((r) => r.ratioAll !== undefined) ? Math.max(...ok.map((r) => r.ratioAll!)) : undefined,
    maxRatio: ok.length ? Math.max(...ok.map((r) => r.ratio!)) : undefined,
  };
  console.log("\n| model | ours ms | onnxruntime-node ms | ratio | block ratios | ort 1 thread ms | ratio | ort every core ms | ratio |\n|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      r.ok
        ? `| ${r.model} | ${r.ours!.toFixed(3)} | ${r.ort!.toFixed(3)} | ${r.ratio!.toFixed(2)}x | ${Math.min(...r.blockRatios!).toFixed(2)}-${Math.max(...r.blockRatios!).toFixed(2)} | ${r.ort1!.toFixed(3)} | ${r.ratio1!.toFixed(2)}x | ${r.ortAll!.toFixed(3)} | ${r.ratioAll!.toFixed(2)}x |`
        : `| ${r.model} | failed: ${r.error} | | | | | | | |`,
    );
  }
  console.log(`\ngeometric mean ${geomean}x, worst ${result.maxRatio}x; against 1-thread onnxruntime-node ${geomean1}x; against onnxruntime-node on every core ${geomeanAll}x, worst ${result.maxRatioAll}x`);
  writeResult(quick ? "zoo-quick" : "zoo", result);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname) && existsSync(repoPath("bench"))) {
  await main();
  process.exit(0);
}
