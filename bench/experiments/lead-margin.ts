// Lone calls of small zoo convnets, where a graph's two places for a lone run (wide on every core,
// and 1 thread inline on the host's thread) are within a few tens of percent of each other (issue
// 26): our call's median and onnxruntime-node's on every core, in alternating blocks in one
// process, for this checkout and a baseline, alternating fresh processes. Made for LEAD_MARGIN
// (src/bridge/engine-host.ts): the two places traded the lead on noise, and each change re-timed
// the loser soon again.
//
//   npm run build && node --import tsx bench/experiments/lead-margin.ts --baseline DIR [--rounds 3] [--tag T]
//
// Needs the zoo (/usr/bin/python3 bench/make_zoo_models.py --out bench/.cache/zoo).

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { alternateWithBaseline } from "../lib/alternate.js";
import { CACHE_DIR, type Manifest, median, repoPath, round, SNAPSHOT_DIR, timeCalls, type TimingSettings } from "../lib/common.js";

const MODELS = ["mobilenet_v3_small", "shufflenet_v2", "squeezenet"];
const BLOCKS = 6;
const BLOCK_MS = 700;
const WARMUP_CALLS = 60;
const PAUSE_MS = 150;
/** A block: at least 10 calls and BLOCK_MS. */
const BLOCK: TimingSettings = { warmup: 0, minReps: 10, maxReps: Infinity, budgetMs: BLOCK_MS };

type Run = Record<string, { oursMs: number; ortAllMs: number; ratio: number }>;

async function child(root: string): Promise<Run> {
  const { InterpreterManager, Tensor } = (await import(pathToFileURL(path.join(root, "dist", "index.js")).href)) as typeof import("../../dist/index.js");
  const ort = await import("onnxruntime-node");
  const manifest = JSON.parse(readFileSync(path.join(CACHE_DIR, "zoo", "zoo.json"), "utf8")) as Manifest;
  const manager = await InterpreterManager.create({ isolation: "trusted", snapshotDir: SNAPSHOT_DIR });
  const run: Run = {};
  for (const name of MODELS) {
    const e = manifest.models.find((m) => m.model === name);
    if (!e?.onnx) throw new Error(`no ${name} in the zoo`);
    const input = Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(e.inputs[0]!.file))));
    const model = (await manager.loadPackage(repoPath(e.archive))).loadPickle(e.pickle[0], e.pickle[1]);
    const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(repoPath(e.onnx))), { intraOpNumThreads: availableParallelism() });
    const systems = {
      ours: () => model.call(new Tensor(input.dtype, input.data, input.shape)),
      ortAll: () => session.run({ [session.inputNames[0]!]: new ort.Tensor(input.dtype as "float32", input.data as Float32Array, input.shape as number[]) }),
    };
    for (let i = 0; i < WARMUP_CALLS; i++) for (const f of Object.values(systems)) await f();
    const times: Record<keyof typeof systems, number[]> = { ours: [], ortAll: [] };
    for (let b = 0; b < BLOCKS; b++) {
      for (const [k, f] of Object.entries(systems) as [keyof typeof systems, () => Promise<unknown>][]) {
        // onnxruntime-node's pool threads spin on after its block and slowed the next block's
        // first calls 2x: each block starts on an idle machine.
        await new Promise((r) => setTimeout(r, PAUSE_MS));
        times[k].push(...(await timeCalls(BLOCK, () => undefined, f)));
      }
    }
    await session.release();
    const oursMs = median(times.ours);
    const ortAllMs = median(times.ortAll);
    run[name] = { oursMs: round(oursMs, 3), ortAllMs: round(ortAllMs, 3), ratio: round(oursMs / ortAllMs, 3) };
  }
  await manager.close();
  return run;
}

await alternateWithBaseline<Run>({
  name: "lead-margin",
  script: import.meta.url,
  child,
  summarize: (runs) => {
    const ratios = MODELS.map((m) => median(runs.map((r) => r[m]!.ratio)));
    return {
      ...Object.fromEntries(MODELS.map((m, i) => [m, { ratioToOrtEveryCore: ratios[i], oursMs: median(runs.map((r) => r[m]!.oursMs)) }])),
      geomean: round(Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length), 3),
    };
  },
  settings: { models: MODELS, blocks: BLOCKS, blockMs: BLOCK_MS, warmupCalls: WARMUP_CALLS, pauseMs: PAUSE_MS },
});
