import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ort = await import("onnxruntime-node");
const { binding, initOrt } = require("onnxruntime-node/dist/binding.js");
const name = process.argv[2] ?? "lstm_tagger";
const dir = "/work/wt-floor/bench/.cache/zoo/";
const bytes = new Uint8Array(readFileSync(dir + name + ".onnx"));
const { Tensor } = await import("wasmdeploy");
const input = Tensor.fromNpy(new Uint8Array(readFileSync(dir + name + ".input.npy")));
const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" as const, graphOptimizationLevel: "all" as const, enableCpuMemArena: false };
const s1 = await ort.InferenceSession.create(bytes, opts);
initOrt();
const raw = new binding.InferenceSession();
raw.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, opts);
const feeds = () => ({ input: new ort.Tensor(input.dtype as any, input.data as any, input.shape as number[]) });
const fns: Record<string, () => unknown> = {
  common: () => s1.run(feeds()),
  rawSync: () => raw.run(feeds(), { output: null }, {}),
  rawAsyncWrap: async () => raw.run(feeds(), { output: null }, {}),
};
for (let i = 0; i < 200; i++) for (const f of Object.values(fns)) await f();
const cpu: Record<string, number[]> = {}, wall: Record<string, number[]> = {};
for (let r = 0; r < 10; r++) for (const [k, f] of Object.entries(fns)) {
  const c0 = process.cpuUsage(); const t = performance.now();
  for (let i = 0; i < 500; i++) await f();
  const c = process.cpuUsage(c0); (cpu[k] ??= []).push((c.user + c.system) / 500); (wall[k] ??= []).push((performance.now() - t) * 2);
}
for (const k of Object.keys(fns)) console.log(k.padEnd(14), "cpu min", Math.min(...cpu[k]!).toFixed(1), "med", [...cpu[k]!].sort((a,b)=>a-b)[5]!.toFixed(1), "| wall min", Math.min(...wall[k]!).toFixed(1), "med", [...wall[k]!].sort((a,b)=>a-b)[5]!.toFixed(1));
process.exit(0);
