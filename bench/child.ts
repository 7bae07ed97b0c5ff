// Entry point of the TypeScript child processes of the benchmark suite:
//   node --import tsx bench/child.ts <task> '<json args>'
// Progress goes to stderr; the result is one JSON line on stdout.

import { edgeNodeChild } from "./experiments/edge-node.js";
import { latencyChild } from "./experiments/latency.js";
import { throughputChild } from "./experiments/throughput.js";
import { poolChild } from "./experiments/coldstart.js";
import { memoryChild } from "./experiments/memory.js";
import { hopsChild, optionAbChild, replayAbChild, targetsChild } from "./experiments/targets.js";
import { zooChild } from "./zoo.js";

const tasks: Record<string, (args: never) => Promise<unknown>> = {
  latency: latencyChild,
  throughput: throughputChild,
  pool: poolChild,
  memory: memoryChild,
  targets: targetsChild,
  hops: hopsChild,
  "replay-ab": replayAbChild,
  "option-ab": optionAbChild,
  "edge-node": edgeNodeChild,
  zoo: zooChild,
};

const [task, json] = process.argv.slice(2);
const fn = tasks[task ?? ""];
if (!fn) {
  process.stderr.write(`unknown task ${task}; one of ${Object.keys(tasks).join(", ")}\n`);
  process.exit(2);
}
const out = await fn(JSON.parse(json ?? "{}") as never);
process.stdout.write(JSON.stringify(out) + "\n");
// Engines and worker pools may keep handles open; the result is written.
process.exit(0);
