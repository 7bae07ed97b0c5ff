// What a WASI thread holds of the inputs it received: a call's inputs arrive as transferred
// buffers, garbage once copied into linear memory, and V8 collects for them late on a thread
// that allocates little else. One interpreter, host replay off, CALLS calls of `len(b)` on a
// 2 MB buffer; the process's RSS (the threads live in it) after every 20 calls, with the host
// thread's garbage collected and malloc's arenas trimmed first, so what remains is held. Each
// run is a fresh child process; ours and a baseline checkout alternate. Writes
// bench/results/<date>-thread-inputs.json.
//
//   node --expose-gc --import tsx bench/experiments/thread-inputs.ts --baseline DIR [--rounds 3]

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { log, REPO, RESULTS_DIR, round } from "../lib/common.js";
import { trimMalloc } from "../../src/platform/node/malloc-trim.js";

const INPUT_BYTES = 2 * 2 ** 20;
const CALLS = 120;
const MB = 2 ** 20;

interface Run {
  root: string;
  /** RSS (MB) after the first call, then after every 20 more. */
  rssMb: number[];
  /** The highest of those over the first. */
  grewMb: number;
}

const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;

async function child(root: string): Promise<Run> {
  const { InterpreterManager } = (await import(pathToFileURL(path.join(root, "dist", "index.js")).href)) as typeof import("../../dist/index.js");
  const m = await InterpreterManager.create({ interpreters: 1, hostReplay: false, onOutput: () => {} });
  const len = await m.allInstances()[0]!.acquireSession().global("builtins", "len");
  const input = new Uint8Array(INPUT_BYTES).fill(7);
  const rssMb: number[] = [];
  for (let i = 0; i <= CALLS; i++) {
    if ((await len.call(input)) !== INPUT_BYTES) throw new Error("len() returned a wrong length");
    if (i % 20 === 0) {
      global.gc?.();
      await new Promise((r) => setTimeout(r, 300));
      trimMalloc();
      rssMb.push(round(rss() / MB, 1));
    }
  }
  await m.close();
  return { root, rssMb, grewMb: round(Math.max(...rssMb) - rssMb[0]!, 1) };
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
    const p = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", path.join(REPO, "bench", "experiments", "thread-inputs.ts"), "--child", root], { encoding: "utf8", cwd: REPO, timeout: 120_000 });
    const line = p.stdout.trim().split("\n").at(-1);
    if (p.status !== 0 || !line) throw new Error(`child for ${root} failed: ${p.stderr.slice(-1000)}`);
    runs.push(JSON.parse(line) as Run);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = Object.fromEntries(
  roots.map((root) => {
    const mine = runs.filter((x) => x.root === root);
    return [root === REPO ? "ours" : "baseline", { grewMb: median(mine.map((x) => x.grewMb)), grewRangeMb: [Math.min(...mine.map((x) => x.grewMb)), Math.max(...mine.map((x) => x.grewMb))], runs: mine.length }];
  }),
);
log(JSON.stringify(summary));
const date = new Date().toISOString();
mkdirSync(RESULTS_DIR, { recursive: true });
const file = path.join(RESULTS_DIR, `${date.slice(0, 10)}-thread-inputs.json`);
writeFileSync(file, JSON.stringify({ date, machine: { load: loadavg() }, inputBytes: INPUT_BYTES, calls: CALLS, baseline: roots[0], summary, runs }, null, 2) + "\n");
log(`wrote ${path.relative(REPO, file)}`);
