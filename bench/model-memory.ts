// Memory per model (`npm run bench:model-memory`): what serving one model adds to a process,
// against onnxruntime-node alone running the same model's ONNX export, and what each additional
// interpreter serving it adds. Every figure comes from a fresh child process: PSS of the process
// (its threads included) after the model has run, less its PSS with the libraries imported and
// nothing loaded. Writes bench/results/<date>-model-memory.json.
//
//   npm run bench:model-memory -- [--models resnet18,tinygpt] [--counts 1,2,4] [--tag name] [--baseline DIR] [--repeat K] [--lone-calls N]
//
// MALLOC_ARENA_MAX=2 npm run bench:model-memory ...: glibc's malloc held to 2 arenas in every
// child, as `wasmdeploy serve` runs its cells (docs/serving.md); the results record it.
//
// --baseline DIR: another checkout with its dist/ built, measured in the same run (its children
// interleaved with ours), e.g. `git archive main | tar -x -C DIR` then `npx tsc` there.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { findModel, log, type Manifest, median, MODELS_DIR, pss, repoPath, REPO, RESULTS_DIR, round } from "./lib/common.js";

const MB = 2 ** 20;
const roundedMedian = (xs: number[]) => (xs.length ? round(median(xs), 1) : undefined);
const settle = async (ms = 300) => {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, ms));
  }
};
// The last measure waits 3 x 1 s: an interpreter thread gives its malloc arena's free memory back
// at most once per 2 s (TIDY_GAP_MS in src/platform/node/wasi/thread.ts), so a thread that ran
// two interpreters' loads in a row may still hold the second's for up to 2 s.
const SETTLE_LAST_MS = 1000;

interface Point {
  system: string;
  model: string;
  interpreters?: number;
  addedMb: number;
  readyMs?: number;
  /** Per interpreter, in order: unpickling the model there, then its first call. */
  unpickleMs?: number[];
  firstCallMs?: number[];
  breakdown?: unknown;
}

async function child(mode: string, model: string, n: number, root: string, loneCalls = 0): Promise<Point> {
  const manifest = JSON.parse(readFileSync(path.join(MODELS_DIR, "bench.json"), "utf8")) as Manifest;
  const e = findModel(manifest, model, model === "tinygpt" ? 2 : 1)!;
  if (mode === "ort") {
    const ort = await import("onnxruntime-node");
    const { Tensor } = await import("../dist/index.js");
    await settle();
    const base = pss(process.pid)!;
    const s = await ort.InferenceSession.create(readFileSync(repoPath(e.onnx!)), { logSeverityLevel: 4 });
    const feeds = Object.fromEntries(
      e.inputs.map((f, i) => {
        const t = Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file))));
        return [s.inputNames[i]!, new ort.Tensor(t.dtype as "float32", t.data as Float32Array, t.shape as number[])];
      }),
    );
    await s.run(feeds);
    await settle();
    return { system: "onnxruntime-node alone (its ONNX export, default options)", model, addedMb: round((pss(process.pid)! - base) / MB, 1) };
  }
  const { InterpreterManager, Tensor } = (await import(pathToFileURL(path.join(root, "dist", "index.js")).href)) as typeof import("../dist/index.js");
  await settle();
  const base = pss(process.pid)!;
  const t0 = performance.now();
  const m = await InterpreterManager.create({ interpreters: n });
  // The manager alone (interpreters booted, engine threads up, nothing loaded): the fixed part.
  await settle();
  const managerMb = round((pss(process.pid)! - base) / MB, 1);
  const obj = (await m.loadPackage(repoPath(e.archive))).loadPickle(e.pickle[0], e.pickle[1]);
  const inputs = e.inputs.map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file)))));
  // The interpreters one after another, each pinned by a session: "ready" is the unpickling of
  // the model there (its package's modules imported, its objects made), "first call" the call after.
  const ready: number[] = [];
  const firstCall: number[] = [];
  for (const inst of m.allInstances()) {
    const session = inst.acquireSession();
    const t = performance.now();
    const h = await session.fromMovable(obj);
    ready.push(performance.now() - t);
    const t1 = performance.now();
    await h.call(...inputs);
    firstCall.push(performance.now() - t1);
    await session.release();
  }
  // Then served as usual (replicated calls, replay), all at once.
  await Promise.all(Array.from({ length: n }, () => obj.call(...inputs)));
  const readyMs = performance.now() - t0;
  // --lone-calls: then, outside the ready time, served one call at a time as a lone client would
  // (a big graph's session moves to the host's thread after a run of them: the memory after that
  // move). Twice, with a pause for the move's compile between.
  for (let round = 0; round < 2 && loneCalls > 0; round++) {
    for (let i = 0; i < loneCalls; i++) await obj.call(...inputs);
    await new Promise((r) => setTimeout(r, 3000));
  }
  await settle(SETTLE_LAST_MS);
  const added = pss(process.pid)! - base;
  const stats = m.stats();
  await m.close();
  const breakdown = {
    managerAloneMb: managerMb,
    engine: stats.engineBytes,
    interpreterHeapBytes: stats.interpreters.reduce((s, i) => s + i.heapBytes, 0),
  };
  return {
    system: root === REPO ? "wasmdeploy (default manager)" : `baseline ${root} (default manager)`,
    model,
    interpreters: n,
    addedMb: round(added / MB, 1),
    readyMs: round(readyMs, 1),
    unpickleMs: ready.map((x) => round(x, 1)),
    firstCallMs: firstCall.map((x) => round(x, 1)),
    breakdown,
  };
}

const { values } = parseArgs({ options: { child: { type: "string" }, models: { type: "string", default: "resnet18,tinygpt" }, counts: { type: "string", default: "1,2,4" }, tag: { type: "string" }, baseline: { type: "string" }, repeat: { type: "string", default: "1" }, "lone-calls": { type: "string", default: "0" } }, allowPositionals: true, strict: false });
if (values.child) {
  const [mode, model, n, root, loneCalls] = String(values.child).split(":");
  process.stdout.write(JSON.stringify(await child(mode!, model!, Number(n), root || REPO, Number(loneCalls ?? 0))) + "\n");
  process.exit(0);
}

const run = (spec: string): Point => {
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", path.join(REPO, "bench", "model-memory.ts"), "--child", spec], { encoding: "utf8", cwd: REPO, timeout: 600_000 });
  const line = r.stdout.trim().split("\n").at(-1);
  if (r.status !== 0 || !line) throw new Error(`child ${spec} failed: ${r.stderr.slice(-1000)}`);
  return JSON.parse(line) as Point;
};

const points: Point[] = [];
const summary: Record<string, unknown> = {};
for (const model of String(values.models).split(",")) {
  const orts: Point[] = [];
  for (let rep = 0; rep < Number(values.repeat); rep++) {
    log(`${model}: onnxruntime-node alone`);
    orts.push(run(`ort:${model}:1`));
  }
  points.push(...orts);
  const ortMb = roundedMedian(orts.map((p) => p.addedMb))!;
  const roots: [string, string][] = values.baseline ? [["baseline", path.resolve(String(values.baseline))], ["ours", REPO]] : [["ours", REPO]];
  const byRoot = new Map<string, Point[]>(roots.map(([name]) => [name, []]));
  for (let rep = 0; rep < Number(values.repeat); rep++)
  for (const n of String(values.counts).split(",").map(Number)) {
    for (const [name, root] of roots) {
      log(`${model}: ${name}, ${n} interpreter${n > 1 ? "s" : ""}`);
      const p = run(`ours:${model}:${n}:${root}:${Number(values["lone-calls"])}`);
      points.push(p);
      byRoot.get(name)!.push(p);
    }
  }
  // Over --repeat rounds: medians of the memory figures, and of every additional interpreter's timings.
  const summarizeRoot = (ours: Point[]) => {
    const counts = ours.map((p) => p.interpreters!);
    const lo = Math.min(...counts);
    const hi = Math.max(...counts);
    const ones = ours.filter((p) => p.interpreters === lo);
    const lasts = ours.filter((p) => p.interpreters === hi);
    const oneMb = roundedMedian(ones.map((p) => p.addedMb))!;
    const lastMb = roundedMedian(lasts.map((p) => p.addedMb))!;
    return {
      oursOneInterpreterMb: oneMb,
      oursOverOrt: round(oneMb / ortMb, 2),
      managerAloneMb: roundedMedian(ones.map((p) => (p.breakdown as { managerAloneMb: number }).managerAloneMb)),
      perAdditionalInterpreterMb: hi > lo ? round((lastMb - oneMb) / (hi - lo), 1) : undefined,
      // Ready: the model unpickled on an interpreter after the first already serves it (median).
      firstInterpreterUnpickleMs: roundedMedian(ones.map((p) => p.unpickleMs![0]!)),
      additionalInterpreterUnpickleMs: roundedMedian(lasts.flatMap((p) => p.unpickleMs!.slice(1))),
      additionalInterpreterFirstCallMs: roundedMedian(lasts.flatMap((p) => p.firstCallMs!.slice(1))),
      rounds: ones.length,
    };
  };
  summary[model] = {
    ortAloneMb: ortMb,
    ...summarizeRoot(byRoot.get("ours")!),
    ...(values.baseline ? { baseline: summarizeRoot(byRoot.get("baseline")!) } : {}),
  };
  log(`${model}: ${JSON.stringify(summary[model])}`);
}
// Every child inherits this process's environment: MALLOC_ARENA_MAX (glibc's arenas, which
// `wasmdeploy serve` sets for its cells) applies to every system alike, and is recorded.
const result = { date: new Date().toISOString(), machine: { cpus: os.cpus().length, load: os.loadavg(), node: process.version, mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null }, loneCalls: Number(values["lone-calls"]), summary, points };
mkdirSync(RESULTS_DIR, { recursive: true });
const file = path.join(RESULTS_DIR, `${result.date.slice(0, 10)}-model-memory${values.tag ? `-${String(values.tag)}` : ""}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
log(`wrote ${path.relative(REPO, file)}`);
