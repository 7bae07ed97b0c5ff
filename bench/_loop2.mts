import { readFileSync } from "node:fs";
const { InterpreterManager, Tensor } = await import("wasmdeploy");
const { engine: engineOf } = await import("wasmdeploy/testing");
const ort = await import("onnxruntime-node");
const name = process.argv[2] ?? "lstm_tagger";
const N = Number(process.argv[3] ?? 3000);
const dir = "/work/wt-floor/bench/.cache/zoo/";
const input = Tensor.fromNpy(new Uint8Array(readFileSync(dir + name + ".input.npy")));
const m = await InterpreterManager.create({ isolation: "trusted", snapshotDir: "/work/wt-floor/bench/.cache/snapshots" });
const model = (await m.loadPackage(dir + name + ".pt")).loadPickle("model", "model.pkl");
const s = await ort.InferenceSession.create(new Uint8Array(readFileSync(dir + name + ".onnx")));
const s1 = await ort.InferenceSession.create(new Uint8Array(readFileSync(dir + name + ".onnx")), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all", enableCpuMemArena: false });
const eng = await engineOf(m);
let captured: any;
const run = eng.run.bind(eng);
eng.run = async (g, f, k, o) => { captured = [g, f, k, o]; return run(g, f, k, o); };
const ours = () => model.call(new Tensor(input.dtype, input.data, input.shape));
const feeds = () => ({ input: new ort.Tensor(input.dtype as any, input.data as any, input.shape as number[]) });
for (let i = 0; i < 100; i++) { await ours(); await s.run(feeds()); await s1.run(feeds()); }
eng.run = run;
const fns: Record<string, () => Promise<unknown>> = {
  ortDefault: () => s.run(feeds()),
  ort1: () => s1.run(feeds()),
  engineInline: () => run(captured[0], captured[1], captured[2], captured[3]),
  call: ours,
};
const wall: Record<string, number[]> = {}, cpu: Record<string, number[]> = {};
const n = 200; const R = Number(process.argv[4] ?? 30);
for (let r = 0; r < R; r++) for (const [k, f] of Object.entries(fns)) {
  const c0 = process.cpuUsage(); const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  const dt = (performance.now() - t) / n; const c = process.cpuUsage(c0);
  (wall[k] ??= []).push(dt * 1000); (cpu[k] ??= []).push((c.user + c.system) / n);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 2]!;
const min = (xs: number[]) => Math.min(...xs);
console.log(name, "mode", JSON.stringify(captured[3]));
for (const k of Object.keys(fns)) console.log(k.padEnd(14), "wall med", med(wall[k]!).toFixed(1).padStart(7), "min", min(wall[k]!).toFixed(1).padStart(7), "| cpu med", med(cpu[k]!).toFixed(1).padStart(7), "min", min(cpu[k]!).toFixed(1).padStart(7), "us");
await m.close();
process.exit(0);
