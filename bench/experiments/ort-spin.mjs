// How onnxruntime-node's intra-op spinning settings compare on one graph (issue 26): median ms of
// runs in alternating 30-run blocks, and the CPU the process burns in the 50 ms after a block (in
// cores: what a spinning tail takes from whoever runs next). Run from the repository root after
// `npm run bench:zoo` has made the zoo's exports:
//   node bench/experiments/ort-spin.mjs mobilenet_v3_small
// and again with other processes holding the cores, e.g. two `sh -c 'while :; do :; done' &`.
// Measured: docs/benchmarks.md section 8 (the table of spinning settings).
import { readFileSync } from "node:fs";
const ort = await import("onnxruntime-node");
const model = process.argv[2] ?? "mobilenet_v3_small";
const bytes = new Uint8Array(readFileSync(`bench/.cache/zoo/${model}.onnx`));
const ours = { graphOptimizationLevel: "all", enableCpuMemArena: false };
const session = (intraOp, extra = {}, threads = 2) =>
  ort.InferenceSession.create(bytes, { ...ours, intraOpNumThreads: threads, extra: { session: { intra_op: intraOp, ...extra } } });
const settings = {
  "ORT defaults": await ort.InferenceSession.create(bytes),
  "2 threads, no spinning": await session({ allow_spinning: "0" }),
  "2 threads, spin bounded to 100 µs": await session({ allow_spinning: "1", spin_duration_us: "100" }),
  "2 threads, force_spinning_stop": await session({ allow_spinning: "1" }, { force_spinning_stop: "1" }),
  "1 thread": await session({ allow_spinning: "0" }, {}, 1),
};
const name = settings["ORT defaults"].inputNames[0];
const x = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i));
const feeds = () => ({ [name]: new ort.Tensor("float32", x, [1, 3, 224, 224]) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const times = {};
const after = {};
for (const [k, s] of Object.entries(settings)) {
  times[k] = [];
  after[k] = [];
  for (let i = 0; i < 20; i++) await s.run(feeds());
}
for (let block = 0; block < 8; block++) {
  for (const [k, s] of Object.entries(settings)) {
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await s.run(feeds());
      times[k].push(performance.now() - t);
    }
    const cpu = process.cpuUsage();
    const t = performance.now();
    await sleep(50);
    const used = process.cpuUsage(cpu);
    after[k].push((used.user + used.system) / 1000 / (performance.now() - t));
  }
}
for (const k of Object.keys(settings)) console.log(`${k.padEnd(36)} ${median(times[k]).toFixed(3)} ms   after: ${median(after[k]).toFixed(2)} cores`);
