// The JavaScript around a host-replayed call (issue 26), for this checkout and a baseline build,
// in ONE process: each build's own InterpreterManager, calls alternated in blocks, so both see the
// same machine at the same moment (this VM's speed drifts by 2x within minutes, which swamps a
// few µs between processes). Per call: its wall time, and its wall time minus the time spent in
// the manager's Engine.run (the graph's native run and the engine's own wrappers): what the call
// machinery costs around the run (queue turn, signature lookup, plan, admission, result).
//
//   npm run build && node --import tsx bench/experiments/call-machinery.ts --baseline DIR \
//     [--models lstm_tagger,tinygpt] [--rounds 40] [--block 200] [--tag T]
//
// DIR is a built checkout of the baseline (git worktree add, npx tsc -p tsconfig.json there).
// Needs the zoo (/usr/bin/python3 bench/make_zoo_models.py --out bench/.cache/zoo).

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { arg, CACHE_DIR, log, median, round, SNAPSHOT_DIR, writeResult } from "../lib/common.js";

interface Side {
  call: () => Promise<unknown>;
  /** Milliseconds spent inside Engine.run so far. */
  engineMs: () => number;
  close: () => Promise<void>;
}

async function side(root: string, model: string): Promise<Side> {
  const api = (await import(pathToFileURL(path.join(root, "dist", "index.js")).href)) as typeof import("../../dist/index.js");
  const testing = (await import(pathToFileURL(path.join(root, "dist", "testing.js")).href)) as typeof import("../../dist/testing.js");
  const file = (s: string) => path.join(CACHE_DIR, "zoo", model + s);
  const input = api.Tensor.fromNpy(new Uint8Array(readFileSync(file(".input.npy"))));
  const manager = await api.InterpreterManager.create({ isolation: "trusted", snapshotDir: SNAPSHOT_DIR });
  const obj = (await manager.loadPackage(file(".pt"))).loadPickle("model", "model.pkl");
  const call = () => obj.call(new api.Tensor(input.dtype, input.data, input.shape));
  // Recording, host replay's plans on every interpreter, the placement's samples.
  for (let i = 0; i < 300; i++) await call();
  const engine = await testing.engine(manager);
  const run = engine.run.bind(engine);
  let spent = 0;
  engine.run = async (...a) => {
    const t = performance.now();
    try {
      return await run(...a);
    } finally {
      spent += performance.now() - t;
    }
  };
  return { call, engineMs: () => spent, close: () => manager.close() };
}

interface Layer {
  callUs: number;
  aroundRunUs: number;
  aroundRunP10Us: number;
}

async function measure(model: string, baseline: string, rounds: number, block: number) {
  const sides: Record<"baseline" | "this", Side> = { baseline: await side(baseline, model), this: await side(process.cwd(), model) };
  const wall: Record<string, number[]> = { baseline: [], this: [] };
  const around: Record<string, number[]> = { baseline: [], this: [] };
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? (["this", "baseline"] as const) : (["baseline", "this"] as const);
    const med: Record<string, number> = {};
    for (const k of order) {
      const s = sides[k];
      const ts: number[] = [];
      for (let i = 0; i < block; i++) {
        const e0 = s.engineMs();
        const t = performance.now();
        await s.call();
        const us = (performance.now() - t) * 1000;
        ts.push(us);
        around[k]!.push(us - (s.engineMs() - e0) * 1000);
      }
      wall[k]!.push(...ts);
      med[k] = median(ts);
    }
    ratios.push(med.this! / med.baseline!);
  }
  await sides.baseline.close();
  await sides.this.close();
  const layer = (k: string): Layer => {
    const a = [...around[k]!].sort((x, y) => x - y);
    return { callUs: round(median(wall[k]!), 1), aroundRunUs: round(median(a), 1), aroundRunP10Us: round(a[Math.floor(a.length / 10)]!, 1) };
  };
  const geomean = Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length);
  return { baseline: layer("baseline"), this: layer("this"), callRatioGeomean: round(geomean, 3), thisFasterRounds: ratios.filter((x) => x < 1).length, rounds };
}

const baseline = arg("baseline", "");
if (!baseline) throw new Error("--baseline DIR: a built checkout to compare with");
const models = arg("models", "lstm_tagger,tinygpt").split(",");
const rounds = Number(arg("rounds", "40"));
const block = Number(arg("block", "200"));
const commit = (dir: string) => execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
const result: Record<string, unknown> = { date: new Date().toISOString(), commit: commit("."), baseline, baselineCommit: commit(baseline), rounds, block, models: {} };
for (const m of models) {
  log(`call machinery: ${m}`);
  const r = await measure(m, baseline, rounds, block);
  (result.models as Record<string, unknown>)[m] = r;
  console.log(
    `| ${m} | call µs (median) | around the run µs (median / p10) |\n|---|---:|---:|\n` +
      `| baseline | ${r.baseline.callUs} | ${r.baseline.aroundRunUs} / ${r.baseline.aroundRunP10Us} |\n` +
      `| this | ${r.this.callUs} | ${r.this.aroundRunUs} / ${r.this.aroundRunP10Us} |\n` +
      `call time this/baseline, geometric mean of ${rounds} rounds: ${r.callRatioGeomean} (this faster in ${r.thisFasterRounds})\n`,
  );
}
writeResult("call-machinery", result as { date: string });
process.exit(0);
