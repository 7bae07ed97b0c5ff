// What starting WASI threads as calls overlap costs a busy pool (issue 20): 2 interpreters, 4
// closed-loop clients calling pure Python (slow_counter.pt's work(50000), about 3 ms), calls per
// second over the first 6 s (which include the overlaps that start the second thread and the
// moves) and over 3-9 s (steady state). Each run is a fresh child process; ours and a baseline
// checkout alternate. Writes bench/results/<date>-overlap-throughput.json.
//
//   node --import tsx bench/experiments/overlap-throughput.ts --baseline DIR [--rounds 3]

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { log, REPO, RESULTS_DIR, round } from "../lib/common.js";

const CLIENTS = 4;
const WORK = 50_000;

interface Run {
  root: string;
  firstSixSecondsPerS: number;
  steadyPerS: number;
  /** The first 12 calls' latencies (ms), in the order they finished. */
  firstLatenciesMs: number[];
  threads: (number | undefined)[];
}

async function child(root: string): Promise<Run> {
  const { InterpreterManager } = (await import(pathToFileURL(path.join(root, "dist", "index.js")).href)) as typeof import("../../dist/index.js");
  const m = await InterpreterManager.create({ interpreters: 2, onOutput: () => {} });
  const obj = (await m.loadPackage(path.join(REPO, "packages", "archives", "slow_counter.pt"))).loadPickle("slow", "obj.pkl");
  const t0 = performance.now();
  const done: number[] = []; // finish times, ms from t0
  const firstLatenciesMs: number[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() - t0 < 9000) {
        const t = performance.now();
        await obj.callMethod("work", WORK);
        done.push(performance.now() - t0);
        if (firstLatenciesMs.length < 12) firstLatenciesMs.push(round(performance.now() - t, 1));
      }
    }),
  );
  const run: Run = {
    root,
    firstSixSecondsPerS: round(done.filter((t) => t < 6000).length / 6, 1),
    steadyPerS: round(done.filter((t) => t >= 3000 && t < 9000).length / 6, 1),
    firstLatenciesMs,
    threads: m.stats().interpreters.map((i) => i.thread),
  };
  await m.close();
  return run;
}

const { values } = parseArgs({ options: { child: { type: "string" }, baseline: { type: "string" }, rounds: { type: "string", default: "3" } } });
if (values.child) {
  process.stdout.write(JSON.stringify(await child(values.child)) + "\n");
  process.exit(0);
}
if (!values.baseline) throw new Error("--baseline DIR: a checkout with its dist/ built, to alternate with this one");
const roots = [path.resolve(values.baseline), REPO];
const runs: Run[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  for (const root of roots) {
    log(`round ${r + 1}: ${root}`);
    const p = spawnSync(process.execPath, ["--import", "tsx", path.join(REPO, "bench", "experiments", "overlap-throughput.ts"), "--child", root], { encoding: "utf8", cwd: REPO, timeout: 120_000 });
    const line = p.stdout.trim().split("\n").at(-1);
    if (p.status !== 0 || !line) throw new Error(`child for ${root} failed: ${p.stderr.slice(-1000)}`);
    runs.push(JSON.parse(line) as Run);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = Object.fromEntries(
  roots.map((root) => {
    const mine = runs.filter((x) => x.root === root);
    return [root === REPO ? "ours" : "baseline", { firstSixSecondsPerS: median(mine.map((x) => x.firstSixSecondsPerS)), steadyPerS: median(mine.map((x) => x.steadyPerS)), runs: mine.length }];
  }),
);
log(JSON.stringify(summary));
const date = new Date().toISOString();
mkdirSync(RESULTS_DIR, { recursive: true });
const file = path.join(RESULTS_DIR, `${date.slice(0, 10)}-overlap-throughput.json`);
writeFileSync(file, JSON.stringify({ date, machine: { load: loadavg() }, clients: CLIENTS, work: WORK, baseline: roots[0], summary, runs }, null, 2) + "\n");
log(`wrote ${path.relative(REPO, file)}`);
