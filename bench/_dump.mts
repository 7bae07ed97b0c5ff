import { readFileSync, writeFileSync } from "node:fs";
const { InterpreterManager, Tensor } = await import("wasmdeploy");
const { engine: engineOf } = await import("wasmdeploy/testing");
const { buildModel } = await import("../dist/engine/onnx-builder.js");
const ort = await import("onnxruntime-node");
const name = process.argv[2] ?? "tinygpt";
const dir = "/work/wt-floor/bench/.cache/zoo/";
const input = Tensor.fromNpy(new Uint8Array(readFileSync(dir + name + ".input.npy")));
const m = await InterpreterManager.create({ isolation: "trusted", snapshotDir: "/work/wt-floor/bench/.cache/snapshots" });
const model = (await m.loadPackage(dir + name + ".pt")).loadPickle("model", "model.pkl");
const eng = await engineOf(m);
const graphs: any[] = [];
const run = eng.run.bind(eng);
eng.run = async (g, f, k, o) => { graphs.push(g); return run(g, f, k, o); };
await model.call(new Tensor(input.dtype, input.data, input.shape));
const g = graphs[graphs.length - 1];
const built = buildModel(g, { weights: "initializers", locate: (w: any) => { const n = w.shape.reduce((a: number, b: number) => a * b, 1) * 4; const b = new Uint8Array(n); return { storageBytes: b, byteOffset: 0, byteLength: n }; } });
writeFileSync(`/tmp/prof/${name}.ours.onnx`, built.bytes);
for (const [tag, file] of [["ours", `/tmp/prof/${name}.ours.onnx`], ["export", dir + name + ".onnx"]]) {
  await ort.InferenceSession.create(file, { graphOptimizationLevel: "all", intraOpNumThreads: 1, optimizedModelFilePath: `/tmp/prof/${name}.${tag}.opt.onnx` });
}
await m.close(); process.exit(0);
