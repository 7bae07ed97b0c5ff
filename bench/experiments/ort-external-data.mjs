// Does onnxruntime-node read weights given as externalData from the process's own buffer, or copy
// them? (issue 20). One variant per process (optimization level, "+noprepack" for
// session.disable_prepacking): PSS a resnet18 session adds, a run's median, and whether zeroing the
// buffer after creation changes the output. Setup (real onnx, Debian's python3):
//   python3 -c "import onnx; from onnx.external_data_helper import convert_model_to_external_data as c; \
//     m = onnx.load('bench/.cache/models/resnet18.onnx'); c(m, True, 'weights.bin', 0); onnx.save_model(m, '/tmp/ext/model.onnx')"
//   for v in all extended basic+noprepack disabled+noprepack; do node --expose-gc bench/experiments/ort-external-data.mjs /tmp/ext $v; done
// Measured (1.30): copied at every level; see docs/architecture.md ("ONNX Runtime options").
import { readFileSync, statSync } from "node:fs";
const ort = await import("onnxruntime-node");
const [dir, variant] = process.argv.slice(2);
const pss = () => Number(readFileSync("/proc/self/smaps_rollup", "utf8").match(/^Pss:\s+(\d+) kB/m)[1]) / 1024;
const settle = async () => { for (let i = 0; i < 3; i++) { globalThis.gc?.(); await new Promise((r) => setTimeout(r, 300)); } };
const weights = new Uint8Array(new SharedArrayBuffer(statSync(`${dir}/weights.bin`).size));
weights.set(readFileSync(`${dir}/weights.bin`));
const model = readFileSync(`${dir}/model.onnx`);
const levels = { all: "all", extended: "extended", basic: "basic", disabled: "disabled" };
const [level, prepack] = variant.split("+");
await settle();
const base = pss();
const s = await ort.InferenceSession.create(model, {
  executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential",
  graphOptimizationLevel: levels[level], enableCpuMemArena: false, logSeverityLevel: 4,
  externalData: [{ path: "weights.bin", data: weights }],
  ...(prepack === "noprepack" ? { extra: { session: { disable_prepacking: "1" } } } : {}),
});
const x = new ort.Tensor("float32", new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
const feeds = { [s.inputNames[0]]: x };
const out1 = (await s.run(feeds))[s.outputNames[0]].data.slice(0, 3);
const times = [];
for (let i = 0; i < 15; i++) { const t = performance.now(); await s.run(feeds); times.push(performance.now() - t); }
await settle();
const added = pss() - base;
// Does the session read our buffer? Zero it and run again.
weights.fill(0);
const out2 = (await s.run(feeds))[s.outputNames[0]].data.slice(0, 3);
times.sort((a, b) => a - b);
console.log(JSON.stringify({ variant, addedMb: +added.toFixed(1), runMs: +times[7].toFixed(1), readsOurBuffer: out1[0] !== out2[0] }));
