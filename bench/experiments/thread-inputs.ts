// What a WASI thread holds of the inputs it received: a call's inputs arrive as transferred
// buffers, garbage once copied into linear memory, and V8 collects for them late on a thread
// that allocates little else. One interpreter, host replay off, CALLS calls of `len(b)` on a
// 2 MB buffer; the process's RSS (the threads live in it) after every 20 calls, with the host
// thread's garbage collected and malloc's arenas trimmed first, so what remains is held. Each
// run is a fresh child process; ours and a baseline checkout alternate. Writes
// bench/results/<date>-thread-inputs.json.
//
//   node --expose-gc --import tsx bench/experiments/thread-inputs.ts --baseline DIR [--rounds 3]

import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { alternateWithBaseline } from "../lib/alternate.js";
import { median, round } from "../lib/common.js";
import { trimMalloc } from "../../src/platform/node/malloc-trim.js";

const INPUT_BYTES = 2 * 2 ** 20;
const CALLS = 120;
const MB = 2 ** 20;

interface Run {
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
  return { rssMb, grewMb: round(Math.max(...rssMb) - rssMb[0]!, 1) };
}

await alternateWithBaseline<Run>({
  name: "thread-inputs",
  script: import.meta.url,
  nodeArgs: ["--expose-gc"],
  child,
  summarize: (runs) => ({ grewMb: median(runs.map((x) => x.grewMb)), grewRangeMb: [Math.min(...runs.map((x) => x.grewMb)), Math.max(...runs.map((x) => x.grewMb))] }),
  settings: { inputBytes: INPUT_BYTES, calls: CALLS },
});
