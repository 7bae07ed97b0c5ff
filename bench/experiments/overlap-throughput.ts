// What starting WASI threads as calls overlap costs a busy pool (issue 20): 2 interpreters, 4
// closed-loop clients calling pure Python (slow_counter.pt's work(50000), about 3 ms), calls per
// second over the first 6 s (which include the overlaps that start the second thread and the
// moves) and over 3-9 s (steady state). Each run is a fresh child process; ours and a baseline
// checkout alternate. Writes bench/results/<date>-overlap-throughput.json.
//
//   node --import tsx bench/experiments/overlap-throughput.ts --baseline DIR [--rounds 3]

import path from "node:path";
import { pathToFileURL } from "node:url";
import { alternateWithBaseline } from "../lib/alternate.js";
import { median, REPO, round } from "../lib/common.js";

const CLIENTS = 4;
const WORK = 50_000;

interface Run {
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
    firstSixSecondsPerS: round(done.filter((t) => t < 6000).length / 6, 1),
    steadyPerS: round(done.filter((t) => t >= 3000 && t < 9000).length / 6, 1),
    firstLatenciesMs,
    threads: m.stats().interpreters.map((i) => i.thread),
  };
  await m.close();
  return run;
}

await alternateWithBaseline<Run>({
  name: "overlap-throughput",
  script: import.meta.url,
  child,
  summarize: (runs) => ({ firstSixSecondsPerS: median(runs.map((x) => x.firstSixSecondsPerS)), steadyPerS: median(runs.map((x) => x.steadyPerS)) }),
  settings: { clients: CLIENTS, work: WORK },
});
