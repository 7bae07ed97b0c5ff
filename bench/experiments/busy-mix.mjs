// A busy pool (issue 26): 4 interpreters, 4 callers that keep a call in flight each, one calling
// resnet18 and three mobilenet_v3_small, for 15 s. Calls per second, p50 and p99 latency. Compares
// the build in `root`/dist (default: this checkout) with another checkout's, e.g. a worktree of an
// older commit:
//   git worktree add /tmp/old <commit> && (cd /tmp/old && npm ci && npm run build)
//   node bench/experiments/busy-mix.mjs /tmp/old; node bench/experiments/busy-mix.mjs .
// Needs the zoo (`npm run bench:zoo` makes it). Measured: docs/benchmarks.md section 8.
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
const root = path.resolve(process.argv[2] ?? ".");
const { InterpreterManager, Tensor } = await import(pathToFileURL(path.join(root, "dist/index.js")).href);
const zoo = path.resolve("bench/.cache/zoo");
const manager = await InterpreterManager.create({ interpreters: 4 });
const load = async (name) => {
  const model = (await manager.loadPackage(path.join(zoo, `${name}.pt`))).loadPickle("model", "model.pkl");
  const x = Tensor.fromNpy(new Uint8Array(readFileSync(path.join(zoo, `${name}.input.npy`))));
  return () => model.call(x);
};
const [resnet, mobilenet] = [await load("resnet18"), await load("mobilenet_v3_small")];
for (let i = 0; i < 40; i++) await Promise.all([resnet(), mobilenet(), mobilenet(), mobilenet()]);
const latencies = [];
const end = performance.now() + 15_000;
const caller = async (call) => {
  while (performance.now() < end) {
    const t = performance.now();
    await call();
    latencies.push(performance.now() - t);
  }
};
const t0 = performance.now();
await Promise.all([resnet, mobilenet, mobilenet, mobilenet].map(caller));
const seconds = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.floor(latencies.length * q)].toFixed(2);
console.log(`${root}: ${(latencies.length / seconds).toFixed(1)} calls/s, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
await manager.close();
