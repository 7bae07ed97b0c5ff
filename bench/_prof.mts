import { readFileSync } from "node:fs";
const { InterpreterManager, Tensor } = await import("wasmdeploy");
const name = process.argv[2] ?? "lstm_tagger";
const N = Number(process.argv[3] ?? 3000);
const dir = "/work/wt-floor/bench/.cache/zoo/";
const input = Tensor.fromNpy(new Uint8Array(readFileSync(dir + name + ".input.npy")));
const m = await InterpreterManager.create({ isolation: "trusted", snapshotDir: "/work/wt-floor/bench/.cache/snapshots" });
const model = (await m.loadPackage(dir + name + ".pt")).loadPickle("model", "model.pkl");
const ours = () => model.call(new Tensor(input.dtype, input.data, input.shape));
for (let i = 0; i < 50; i++) await ours();
const { Session } = await import("node:inspector/promises");
const s = new Session(); s.connect();
await s.post("Profiler.enable"); await s.post("Profiler.setSamplingInterval", { interval: 25 });
await s.post("Profiler.start");
const t = performance.now();
for (let i = 0; i < N; i++) await ours();
const per = (performance.now() - t) / N;
const { profile } = await s.post("Profiler.stop") as any;
// self time per function
const self = new Map<string, number>();
const byId = new Map(profile.nodes.map((n: any) => [n.id, n]));
const counts = new Map<number, number>();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
let total = 0;
for (const [id, c] of counts) { const n: any = byId.get(id); const k = `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) ?? 0) + c); total += c; }
console.log(name, "per call", (per * 1000).toFixed(1), "us");
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((100 * c / total).toFixed(1).padStart(5), "%", (per * 1000 * c / total).toFixed(1).padStart(6), "us", k);
await m.close(); process.exit(0);
