// Can a session use weights in place instead of copying them (issue 20)? ONNX Runtime can save the
// graph it optimized in its own format (.ort) and, loading that format, use the model's bytes for
// its initializers (session.use_ort_model_bytes_directly, session.use_ort_model_bytes_for_initializers).
// "save" (its own process) writes the .ort file and the plain ONNX session's output; each variant
// then runs in a fresh process: PSS the session adds (with the model bytes the process must keep
// for it), a run's median, the largest difference from the plain session's output, and whether
// zeroing the bytes after creation changes the output (the session reads them in place). From the
// repository root, after `npm run bench:zoo` made the exports:
//   node bench/experiments/ort-format.mjs resnet18 save
//   for v in onnx ort ort+inplace ort+inplace+noprepack; do node --expose-gc bench/experiments/ort-format.mjs resnet18 $v; done
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
const ort = await import("onnxruntime-node");
const [model, variant = "onnx", level = "all"] = process.argv.slice(2);
const dir = "/tmp/wasmdeploy-ort-format";
mkdirSync(dir, { recursive: true });
const pss = () => Number(readFileSync("/proc/self/smaps_rollup", "utf8").match(/^Pss:\s+(\d+) kB/m)[1]) / 1024;
const settle = async () => { for (let i = 0; i < 3; i++) { globalThis.gc?.(); await new Promise((r) => setTimeout(r, 300)); } };
const base = { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: level, enableCpuMemArena: false, logSeverityLevel: 3 };
const ortPath = `${dir}/${model}-${level}.ort`;
const x = new ort.Tensor("float32", new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i)), [1, 3, 224, 224]);
const first = async (s) => (await s.run({ [s.inputNames[0]]: x }))[s.outputNames[0]].data;
if (variant === "save") {
  const onnx = readFileSync(`bench/.cache/zoo/${model}.onnx`);
  const ref = await first(await ort.InferenceSession.create(onnx, base));
  writeFileSync(`${dir}/${model}.reference`, Buffer.from(ref.buffer, ref.byteOffset, ref.byteLength));
  await ort.InferenceSession.create(onnx, { ...base, optimizedModelFilePath: ortPath, extra: { session: { save_model_format: "ORT" } } });
  console.log(`wrote ${ortPath}`);
  process.exit(0);
}
const reference = new Float32Array(Uint8Array.from(readFileSync(`${dir}/${model}.reference`)).buffer);
await settle();
const before = pss();
const [, ...flags] = variant.split("+");
const session = {
  ...(flags.includes("inplace") ? { use_ort_model_bytes_directly: "1", use_ort_model_bytes_for_initializers: "1" } : {}),
  ...(flags.includes("noprepack") ? { disable_prepacking: "1" } : {}),
};
const file = variant === "onnx" ? `bench/.cache/zoo/${model}.onnx` : ortPath;
const bytes = new Uint8Array(readFileSync(file));
const s = await ort.InferenceSession.create(bytes, { ...base, extra: { session } });
const out = await first(s);
const feeds = { [s.inputNames[0]]: x };
const times = [];
for (let i = 0; i < 15; i++) { const t = performance.now(); await s.run(feeds); times.push(performance.now() - t); }
await settle();
const added = pss() - before;
let maxDiff = 0;
for (let i = 0; i < out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - reference[i]));
bytes.fill(0);
const zeroed = await first(s);
times.sort((a, b) => a - b);
console.log(JSON.stringify({ model, variant, level, fileMb: +(statSync(file).size / 2 ** 20).toFixed(1), addedMb: +added.toFixed(1), runMs: +times[7].toFixed(2), maxDiff, readsBytesInPlace: zeroed[0] !== out[0] }));
