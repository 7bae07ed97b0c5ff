// What the engine's session options cost a zoo model's export against onnxruntime-node on every
// core (issue 26), and how much of it is the CPU arena the engine turns off (so that a run's
// intermediates go back to the system when it ends: docs/security.md). Three plain sessions of the
// export in one process, one intra-op thread per core each: onnxruntime-node's defaults otherwise,
// the engine's wide-session options, and those with the arena on. Blocks of 600 ms in rotating
// order, each after a 150 ms pause (a spinning pool left by the block before slows the next one's
// first runs); median run time and median minor page faults per run.
//
//   npm run build && node --import tsx bench/experiments/arena-cost.ts [--models vit_tiny,mobilenet_v3_small] [--rounds 8]
//
// Needs the zoo (/usr/bin/python3 bench/make_zoo_models.py --out bench/.cache/zoo).

import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { arg, CACHE_DIR, log, median, round, writeResult } from "../lib/common.js";

const BLOCK_MS = 600;
const PAUSE_MS = 150;

const ort = await import("onnxruntime-node");
const { engineSessionOptions } = await import("../../dist/platform/node/ort-node.js");
const { Tensor } = await import("../../dist/index.js");

async function measure(model: string, rounds: number) {
  const file = (s: string) => path.join(CACHE_DIR, "zoo", model + s);
  const input = Tensor.fromNpy(new Uint8Array(readFileSync(file(".input.npy"))));
  const onnx = new Uint8Array(readFileSync(file(".onnx")));
  const cores = availableParallelism();
  const sessions = {
    "every core": await ort.InferenceSession.create(onnx, { intraOpNumThreads: cores }),
    "engine wide options": await ort.InferenceSession.create(onnx, engineSessionOptions(cores, true)),
    "engine wide options, arena on": await ort.InferenceSession.create(onnx, { ...engineSessionOptions(cores, true), enableCpuMemArena: true }),
  };
  const names = Object.keys(sessions) as (keyof typeof sessions)[];
  const feeds = () => ({ input: new ort.Tensor(input.dtype as "float32", input.data as Float32Array, input.shape as number[]) });
  for (const s of Object.values(sessions)) for (let i = 0; i < 5; i++) await s.run(feeds());
  const ms: Record<string, number[]> = {};
  const faults: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < names.length; j++) {
      const k = names[(r + j) % names.length]!;
      await new Promise((res) => setTimeout(res, PAUSE_MS));
      const start = performance.now();
      while (performance.now() - start < BLOCK_MS) {
        const f0 = process.resourceUsage().minorPageFault;
        const t = performance.now();
        await sessions[k].run(feeds());
        (ms[k] ??= []).push(performance.now() - t);
        (faults[k] ??= []).push(process.resourceUsage().minorPageFault - f0);
      }
    }
  }
  for (const s of Object.values(sessions)) await s.release();
  const row: Record<string, { ms: number; runs: number; faultsPerRun: number }> = {};
  for (const k of names) row[k] = { ms: round(median(ms[k]!), 3), runs: ms[k]!.length, faultsPerRun: median(faults[k]!) };
  const off = row["engine wide options"]!.ms;
  const on = row["engine wide options, arena on"]!.ms;
  return { sessions: row, arenaOffOverOn: round(off / on, 3), wideOverEveryCore: round(off / row["every core"]!.ms, 3) };
}

const models = arg("models", "vit_tiny,mobilenet_v3_small,shufflenet_v2,squeezenet").split(",");
const rounds = Number(arg("rounds", "8"));
const result: Record<string, unknown> = { date: new Date().toISOString(), loadAverage: round(loadavg()[0]!, 2), cpus: availableParallelism(), rounds, blockMs: BLOCK_MS, models: {} };
console.log("| model | every core | engine wide options | arena on | arena off ÷ on | wide ÷ every core |\n|---|---:|---:|---:|---:|---:|");
for (const m of models) {
  log(`arena cost: ${m}`);
  const r = await measure(m, rounds);
  (result.models as Record<string, unknown>)[m] = r;
  const s = r.sessions;
  console.log(`| ${m} | ${s["every core"]!.ms} ms | ${s["engine wide options"]!.ms} ms | ${s["engine wide options, arena on"]!.ms} ms | ${r.arenaOffOverOn}x | ${r.wideOverEveryCore}x |`);
}
writeResult("arena-cost", result as { date: string });
process.exit(0);
