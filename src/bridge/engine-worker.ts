// One engine thread: an Engine (its own ONNX Runtime sessions and weight copies) serving
// runs posted by the host. onnxruntime-node computes on the thread that calls run(), so
// running engines on their own threads is what lets several interpreters' graphs run at once.

import { parentPort, workerData } from "node:worker_threads";
import { Engine } from "../engine/engine.js";
import type { DType, GraphSpec } from "../engine/graph.js";
import { Tensor, type TypedArray } from "../tensor.js";

interface WireTensor {
  dtype: DType;
  data: TypedArray;
  shape: number[];
}

export type EngineWorkerRequest =
  | {
      type: "run";
      id: number;
      graph: GraphSpec;
      key: string;
      feeds: Record<string, WireTensor>;
      weights: { id: string; dtype: DType; bytes: Uint8Array }[];
    }
  | { type: "release"; storage: string };

export type EngineWorkerReply =
  | { id: number; ok: true; outputs: Record<string, WireTensor> }
  | { id: number; ok: false; error: string };

const { backend, threads } = workerData as { backend: "ort-node" | "ort-web"; threads: number };
const engine = await Engine.create({ backend, threads });
const port = parentPort!;

port.on("message", async (m: EngineWorkerRequest) => {
  if (m.type === "release") {
    engine.releaseStorage(m.storage);
    return;
  }
  try {
    for (const w of m.weights) engine.registerStorage(w.id, w.dtype, w.bytes);
    const feeds: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new Tensor(t.dtype, t.data, t.shape);
    const out = await engine.run(m.graph, feeds, m.key);
    const outputs: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(out)) {
      // ORT's outputs own their buffers; copy into a fresh one we can transfer.
      const data = t.data.slice() as TypedArray;
      outputs[name] = { dtype: t.dtype, data, shape: [...t.shape] };
      transfer.push(data.buffer as ArrayBuffer);
    }
    port.postMessage({ id: m.id, ok: true, outputs } satisfies EngineWorkerReply, transfer);
  } catch (e) {
    port.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies EngineWorkerReply);
  }
});
port.postMessage({ ready: true });
