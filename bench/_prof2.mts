import { readFileSync } from "node:fs";
const { InterpreterManager, Tensor } = await import("wasmdeploy");
const name = process.argv[2] ?? "lstm_tagger";
const N = Number(process.argv[3] ?? 3000);
const dir = "/work/wt-floor/bench/.cache/zoo/";
const input = Tensor.fromNpy(new Uint8Array(readFileSync(dir + name + ".input.npy")));
const m = await InterpreterManager.create({ isolation: "trusted", snapshotDir: "/work/wt-floor/bench/.cache/snapshots" });
const model = (await m.loadPackage(dir + name + ".pt")).loadPickle("model", "model.pkl");
const ours = () => model.call(new Tensor(input.dtype, input.data, input.shape));
for (let i = 0; i < 100; i++) await ours();
const { Session } = await import("node:inspector/promises");
const s = new Session(); s.connect();
await s.post("Profiler.enable"); await s.post("Profiler.setSamplingInterval", { interval: 20 });
await s.post("Profiler.start");
const t = performance.now();
for (let i = 0; i < N; i++) await ours();
const per = (performance.now() - t) / N;
const { profile } = await s.post("Profiler.stop") as any;
const byId = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]));
const counts = new Map<number, number>();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const total = profile.samples.length;
const incl = new Map<string, number>();
const label = (n: any) => `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`;
function walk(id: number, stack: Set<string>): number {
  const n = byId.get(id); let sum = counts.get(id) ?? 0;
  const k = label(n); const fresh = !stack.has(k); if (fresh) stack.add(k);
  for (const c of n.children ?? []) sum += walk(c, stack);
  if (fresh) { stack.delete(k); incl.set(k, (incl.get(k) ?? 0) + sum); }
  return sum;
}
walk(profile.nodes[0].id, new Set());
console.log(name, "per call", (per * 1000).toFixed(1), "us (profiled)");
for (const [k, c] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, 60)) if (!k.includes("node:internal")) console.log((100 * c / total).toFixed(1).padStart(5), "%", (per * 1000 * c / total).toFixed(1).padStart(6), "us", k);
await m.close(); process.exit(0);
