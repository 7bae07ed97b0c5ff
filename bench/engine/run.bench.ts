// Per-call cost of the engine: raw ONNX Runtime vs Engine.run on a tiny graph (x*2+1 on 4
// floats), session creation for it, the first session of a process (ort-web compiles its
// wasm then), and a resnet18-sized conv net.
// Run: npx tsx bench/engine/run.bench.ts [ort-node|ort-web]   (one backend per process, so
// "first session" is really the first)

import { Engine } from "../../src/engine/engine.js";
import { buildModel } from "../../src/engine/onnx-builder.js";
import { registerNodeBackends } from "../../src/platform/node/backends.js";
import { loadBackend, type BackendName } from "../../src/engine/backend.js";
import { structuralKey } from "../../src/engine/structural-key.js";
import { Tensor } from "../../src/tensor.js";
import { makeConvNet, makeTiny } from "./graphs.js";
import { median } from "../lib/common.js";

registerNodeBackends();

const backendName = (process.argv[2] ?? "ort-node") as BackendName;
async function timeIt(iters: number, f: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(iters, 500); i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await f();
  return ((performance.now() - t0) * 1000) / iters;
}
const noWeights = () => {
  throw new Error("no weights");
};

const tiny = makeTiny(4);
const x = Tensor.from("float32", [1, 2, 3, 4]);
const model = buildModel(tiny, { weights: "initializers", locate: noWeights }).bytes;

let t0 = performance.now();
const backend = await loadBackend(backendName);
const loadMs = performance.now() - t0;
t0 = performance.now();
const first = await backend.createSession(model);
const firstMs = performance.now() - t0;
const creates: number[] = [];
for (let i = 0; i < 30; i++) {
  const t = performance.now();
  const s = await backend.createSession(buildModel(makeTiny(4 + i), { weights: "initializers", locate: noWeights }).bytes);
  creates.push(performance.now() - t);
  await s.release();
}
console.log(`${backendName}: import ${loadMs.toFixed(1)} ms, first session ${firstMs.toFixed(1)} ms, later sessions (tiny, incl. build) median ${median(creates).toFixed(2)} ms`);

await timeIt(20_000, () => first.run({ x }, ["y"])); // warm-up: the JIT and ORT caches
const rawUs = await timeIt(20_000, () => first.run({ x }, ["y"]));
const engine = await Engine.create({ backend: backendName });
const engineUs = await timeIt(20_000, () => engine.run(makeTiny(4), { x }));
const keyUs = await timeIt(20_000, async () => structuralKey(tiny));
console.log(`tiny run: backend session ${rawUs.toFixed(1)} us | Engine.run ${engineUs.toFixed(1)} us (of which structuralKey ${keyUs.toFixed(1)} us)`);

// Resnet18-sized: 20 x conv 64ch 56x56 (+BN+Relu), 1.4 MB of weights. Weight policy "auto".
const { graph, storages } = makeConvNet({ batch: 1, channels: 64, size: 56, blocks: 20 });
for (const [id, data] of storages) engine.registerStorage(id, "float32", data);
const cx = new Tensor("float32", new Float32Array(64 * 56 * 56).fill(0.5), [1, 64, 56, 56]);
t0 = performance.now();
await engine.run(graph, { x: cx });
const compileMs = performance.now() - t0;
const convUs = await timeIt(20, () => engine.run(graph, { x: cx }));
console.log(`convnet (20 conv 64ch 56x56): compile+first run ${compileMs.toFixed(0)} ms, run ${(convUs / 1000).toFixed(1)} ms`);
await engine.close();
await first.release();
