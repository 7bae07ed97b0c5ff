// Where the zoo's remaining gap to onnxruntime-node on every core lies (issue 26): in the graph
// we lower, in the session options, or around the run. For each zoo model, one child process:
// - serves the model on a default InterpreterManager, with the "ort-node" backend wrapped so that
//   the host thread's sessions hand over the graph they compile and time each native run;
// - then times, in alternating blocks, the call itself and four plain onnxruntime-node sessions:
//   the model's torch.onnx export and the graph we lowered, each with one intra-op thread per core
//   (other options default) and with the engine's wide-session options.
// Ratios: our graph over the export under the same options (1.00: the graph costs nothing), and
// the call's latency less its native run (what the call path adds around the engine).
//
//   npm run build && node --import tsx bench/experiments/graph-vs-export.ts [--only resnet18,squeezenet] [--blocks 8]

import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { BackendSession, EngineBackend } from "../../dist/engine/backend-api.js";
import { CACHE_DIR, checkArray, log, RESULTS_DIR, repoPath, round, SNAPSHOT_DIR, summarize, timeCalls, type Manifest, type TimingSettings } from "../lib/common.js";

const ZOO_MANIFEST = path.join(CACHE_DIR, "zoo", "zoo.json");
const SELF = fileURLToPath(import.meta.url);
const BLOCK_MS = 300;

interface Row {
  model: string;
  ok: boolean;
  error?: string;
  /** Median ms per run or call. */
  ms?: Record<string, number>;
  /** Our lowered graph over the export, same options. */
  graphRatioCores?: number;
  graphRatioWide?: number;
  /** The call over the export on every core. */
  callRatioCores?: number;
  /** Median of (call latency - its native run), calls whose run was on the host thread. */
  callOverheadMs?: number;
  callsTimedOnHost?: number;
  calls?: number;
}

async function child(model: string, blocks: number, perBlock: number): Promise<Row> {
  const manifest = JSON.parse(readFileSync(ZOO_MANIFEST, "utf8")) as Manifest;
  const e = manifest.models.find((m) => m.model === model);
  if (!e?.onnx) return { model, ok: false, error: `no ${model} with an ONNX export in ${ZOO_MANIFEST}` };
  const ort = await import("onnxruntime-node");
  const { engineSessionOptions } = await import("../../dist/platform/node/ort-node.js");
  const { registerBackend } = await import("../../dist/engine/backend.js");
  const { registerNodeBackends } = await import("../../dist/platform/node/backends.js");
  const { createOrtNodeBackend } = await import("../../dist/platform/node/ort-node.js");
  const { InterpreterManager, Tensor } = await import("../../dist/index.js");

  // The host thread's backend, wrapped: registered after the Node backends, so it replaces them here.
  const graphs: { bytes: Uint8Array; runs: number }[] = [];
  let lastRunMs = -1;
  registerNodeBackends();
  registerBackend("ort-node", async (o) => {
    const inner: EngineBackend = await createOrtNodeBackend(o);
    return {
      name: inner.name,
      widens: inner.widens,
      async createSession(bytes, opts) {
        const g = { bytes: bytes.slice(), runs: 0 };
        graphs.push(g);
        const s = await inner.createSession(bytes, opts);
        const wrapped: BackendSession = {
          preoptimized: s.preoptimized,
          run: async (feeds, names) => {
            const t = performance.now();
            const out = await s.run(feeds, names);
            lastRunMs = performance.now() - t;
            g.runs++;
            return out;
          },
          release: () => s.release(),
        };
        return wrapped;
      },
    };
  });

  const input = Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(e.inputs[0]!.file))));
  const expected = Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(e.expected[0]!.file))));
  const manager = await InterpreterManager.create({ snapshotDir: SNAPSHOT_DIR, callTimeoutMs: 600_000 });
  try {
    const obj = (await manager.loadPackage(repoPath(e.archive))).loadPickle(e.pickle[0], e.pickle[1]);
    const call = () => obj.call(new Tensor(input.dtype, input.data, input.shape));
    const first = (await call()) as InstanceType<typeof Tensor>;
    const check = checkArray(first.data as Float32Array, first.shape, expected.data as Float32Array, expected.shape);
    if (!check.ok) throw new Error(`our output is wrong: ${check.error}`);
    // Warm until a graph has settled on the host thread (a big graph's session moves there after
    // a streak of lone calls, compiled in the background), or 60 s.
    const hostRuns = () => Math.max(0, ...graphs.map((g) => g.runs));
    for (let i = 0, t0 = performance.now(); i < 40 || (hostRuns() < 20 && performance.now() - t0 < 60_000); i++) await call();
    const ours = [...graphs].sort((a, b) => b.runs - a.runs)[0];
    if (!ours || ours.runs === 0) throw new Error("no graph ran on the host thread (its runs went to engine threads), so none was captured");

    const cores = availableParallelism();
    const everyCore = { intraOpNumThreads: cores, logSeverityLevel: 4 as const };
    const wide = engineSessionOptions(cores, true); // what the engine gives a wide session
    const exportBytes = new Uint8Array(readFileSync(repoPath(e.onnx)));
    const sessions = {
      "export, every core": await ort.InferenceSession.create(exportBytes, everyCore),
      "ours, every core": await ort.InferenceSession.create(ours.bytes, everyCore),
      "export, wide options": await ort.InferenceSession.create(exportBytes, wide),
      "ours, wide options": await ort.InferenceSession.create(ours.bytes, wide),
    };
    for (const [name, s] of Object.entries(sessions)) {
      if (s.inputNames.length !== 1) throw new Error(`${name} has ${s.inputNames.length} inputs (weights fed as inputs?); this compares one-input graphs`);
    }
    const feedsOf = (s: { inputNames: readonly string[] }) => ({ [s.inputNames[0]!]: new ort.Tensor(input.dtype as "float32", input.data as Float32Array, input.shape as number[]) });
    const times: Record<string, number[]> = { call: [], ...Object.fromEntries(Object.keys(sessions).map((k) => [k, [] as number[]])) };
    const overhead: number[] = [];
    for (const s of Object.values(sessions)) for (let i = 0; i < 5; i++) await s.run(feedsOf(s));
    // A block is at least perBlock calls and BLOCK_MS, as in bench/zoo.ts: small graphs get
    // hundreds of calls in a row, as a server's steady stream would give them.
    const block: TimingSettings = { warmup: 0, minReps: perBlock, maxReps: Infinity, budgetMs: BLOCK_MS };
    const none = () => undefined;
    for (let b = 0; b < blocks; b++) {
      const runMs: number[] = [];
      const callMs = await timeCalls(block, none, async () => {
        lastRunMs = -1;
        await call();
        runMs.push(lastRunMs);
      });
      times.call!.push(...callMs);
      for (const [i, dt] of callMs.entries()) if (runMs[i]! >= 0) overhead.push(dt - runMs[i]!);
      for (const [name, s] of Object.entries(sessions)) {
        const f = feedsOf(s);
        times[name]!.push(...(await timeCalls(block, none, () => s.run(f))));
      }
    }
    const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round(summarize(v).median, 3)]));
    for (const s of Object.values(sessions)) await s.release();
    return {
      model,
      ok: true,
      ms,
      graphRatioCores: round(ms["ours, every core"]! / ms["export, every core"]!, 3),
      graphRatioWide: round(ms["ours, wide options"]! / ms["export, wide options"]!, 3),
      callRatioCores: round(ms.call! / ms["export, every core"]!, 3),
      callOverheadMs: overhead.length ? round(summarize(overhead).median, 3) : undefined,
      callsTimedOnHost: overhead.length,
      calls: times.call!.length,
    };
  } catch (err) {
    return { model, ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await manager.close();
  }
}

const { values } = parseArgs({
  options: { child: { type: "string" }, only: { type: "string" }, blocks: { type: "string", default: "8" }, calls: { type: "string", default: "30" }, tag: { type: "string" } },
});
const blocks = Number(values.blocks);
const perBlock = Number(values.calls);
if (values.child) {
  console.log(JSON.stringify(await child(values.child, blocks, perBlock)));
} else {
  const manifest = JSON.parse(readFileSync(ZOO_MANIFEST, "utf8")) as Manifest;
  const models = values.only ? values.only.split(",") : manifest.models.map((m) => m.model);
  const rows: Row[] = [];
  const load = loadavg()[0]!;
  for (const model of models) {
    const r = spawnSync(process.execPath, ["--import", "tsx", SELF, "--child", model, "--blocks", String(blocks), "--calls", String(perBlock)], { encoding: "utf8", maxBuffer: 1 << 24 });
    const line = r.stdout.trim().split("\n").pop() ?? "";
    let row: Row;
    try {
      row = JSON.parse(line) as Row;
    } catch {
      row = { model, ok: false, error: `child exited ${r.status}: ${r.stderr.slice(-400)}` };
    }
    rows.push(row);
    log(row.ok ? `${model}: graph ${row.graphRatioCores}x (every core), ${row.graphRatioWide}x (wide options); call ${row.callRatioCores}x, ${row.callOverheadMs} ms around the run` : `${model}: ${row.error}`);
  }
  console.log("\n| model | export, every core | our graph, every core | ratio | export, wide options | our graph, wide options | ratio | the call | ÷ export, every core | around the run |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    if (!r.ok) {
      console.log(`| ${r.model} | ${r.error} |||||||||`);
      continue;
    }
    const m = r.ms!;
    console.log(`| ${r.model} | ${m["export, every core"]} ms | ${m["ours, every core"]} ms | ${r.graphRatioCores}x | ${m["export, wide options"]} ms | ${m["ours, wide options"]} ms | ${r.graphRatioWide}x | ${m.call} ms | ${r.callRatioCores}x | ${r.callOverheadMs} ms (${r.callsTimedOnHost}/${r.calls}) |`);
  }
  const file = path.join(RESULTS_DIR, `${new Date().toISOString().slice(0, 10)}-graph-vs-export${values.tag ? `-${values.tag}` : ""}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), loadAverage: round(load, 2), cpus: availableParallelism(), blocks, perBlock, rows }, null, 1) + "\n");
  log(`wrote ${path.relative(repoPath("."), file)}`);
}
