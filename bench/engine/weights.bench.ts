// How should weights enter a compiled graph? Per mode (onnx-builder WeightMode) and model:
// session creation time, run latency, and resident memory added per extra session.
// ORT fuses Conv+BatchNormalization and prepacks MatMul/Conv weights only for initializers.
// Each (model, mode) runs in a fresh process so its RSS delta is its own.
// Run: npx tsx bench/engine/weights.bench.ts [ort-node|ort-web] [model...]

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { buildModel, type WeightMode } from "../../src/engine/onnx-builder.js";
import { registerNodeBackends } from "../../src/platform/node/backends.js";
import { loadBackend, type BackendName, type BackendSession } from "../../src/engine/backend.js";
import type { GraphSpec } from "../../src/engine/graph.js";
import { bytesOf } from "../../src/engine/dtype.js";
import { median } from "../lib/common.js";
import { Tensor } from "../../src/tensor.js";
import { makeConvNet, makeMlp, type Storages } from "./graphs.js";

registerNodeBackends();

type Model = () => { graph: GraphSpec; storages: Storages; x: Tensor };
const input = (shape: number[]): Tensor =>
  new Tensor("float32", new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape);
const MODELS: Record<string, Model> = {
  // 8 x (3x3 conv 256->256 + BN + Relu) on 14x14: 18 MB of weights.
  convnet: () => ({ ...makeConvNet({ batch: 1, channels: 256, size: 14, blocks: 8 }), x: input([1, 256, 14, 14]) }),
  // 4 x MLP(512 -> 2048 -> 512) on one row (a decoder step): 32 MB of weights.
  mlp1: () => ({ ...makeMlp({ rows: 1, d: 512, layers: 4 }), x: input([1, 512]) }),
  // The same on 64 rows (a short prompt).
  mlp64: () => ({ ...makeMlp({ rows: 64, d: 512, layers: 4 }), x: input([64, 512]) }),
  // 20 x (3x3 conv 16->16 + BN + Relu) on 8x8: 122 small weights, so per-feed overhead shows.
  small: () => ({ ...makeConvNet({ batch: 1, channels: 16, size: 8, blocks: 20 }), x: input([1, 16, 8, 8]) }),
};
const MODES: WeightMode[] = ["initializers", "external", "inputs"];

async function measure(backendName: BackendName, mode: WeightMode, model: string): Promise<void> {
  const { graph, storages, x } = MODELS[model]!();
  let weightBytes = 0;
  for (const s of storages.values()) weightBytes += s.byteLength;
  const locate = (w: { storage: string }) => {
    const data = storages.get(w.storage)!;
    return { storageBytes: bytesOf(data), fileName: w.storage + ".bin", byteOffset: 0, byteLength: data.byteLength };
  };
  const backend = await loadBackend(backendName);
  const gc = (globalThis as { gc?: () => void }).gc!;

  gc();
  const rss0 = process.memoryUsage().rss;
  const sessions: BackendSession[] = [];
  const createMs: number[] = [];
  const N = 6;
  let feeds: Record<string, Tensor> = {};
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const built = buildModel(graph, { weights: mode, locate });
    const ext = built.externalData.length ? built.externalData : undefined;
    const s = await backend.createSession(built.bytes, { externalData: ext });
    createMs.push(performance.now() - t0);
    sessions.push(s);
    feeds = { x };
    for (const w of built.weightInputs) feeds[w.name] = new Tensor("float32", storages.get(w.storage)!, w.shape);
    await s.run(feeds, ["y"]); // the first run allocates activations
  }
  gc();
  const rssPerSession = (process.memoryUsage().rss - rss0) / N;

  const s = sessions[0]!;
  const runMs: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    await s.run(feeds, ["y"]);
    runMs.push(performance.now() - t0);
  }
  const y = (await s.run(feeds, ["y"])).y!.data as Float32Array;
  console.log(
    `${backendName} ${model.padEnd(8)} ${mode.padEnd(12)} weights ${(weightBytes / 2 ** 20).toFixed(1).padStart(5)} MB | ` +
      `create ${median(createMs).toFixed(1).padStart(6)} ms (first ${createMs[0]!.toFixed(1).padStart(6)}) | ` +
      `run ${median(runMs).toFixed(3).padStart(7)} ms | +RSS/session ${(rssPerSession / 2 ** 20).toFixed(1).padStart(5)} MB | y[0] ${y[0]!.toFixed(5)}`,
  );
  for (const ss of sessions) await ss.release();
}

const [, , backendArg = "ort-node", ...rest] = process.argv;
if (rest[0] === "--child") {
  await measure(backendArg as BackendName, rest[1] as WeightMode, rest[2]!);
} else {
  for (const model of rest.length ? rest : Object.keys(MODELS)) {
    for (const mode of MODES) {
      const args = ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), backendArg, "--child", mode, model];
      process.stdout.write(execFileSync(process.execPath, args, { encoding: "utf8" }));
    }
  }
}
