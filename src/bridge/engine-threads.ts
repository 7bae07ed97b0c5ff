// A pool of engine threads (see engine-worker.ts). Each thread holds its own copy of the
// weights it has been sent and its own compiled sessions; a run goes to the thread with
// the fewest runs in flight. Costs: weight memory and session compiles times the number
// of threads. Gain: engine-bound calls from several interpreters run in parallel.

import { Worker } from "node:worker_threads";
import type { DType, GraphSpec } from "../engine/graph.js";
import { WasmdeployError } from "../errors.js";
import { Tensor, type TypedArray } from "../tensor.js";
import type { EngineWorkerReply, EngineWorkerRequest } from "./engine-worker.js";

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  inFlight: number;
  /** Weight storages this thread already holds. */
  weights: Set<string>;
  pending: Map<number, { resolve: (o: Record<string, Tensor>) => void; reject: (e: Error) => void }>;
}

export class EngineThreads {
  readonly #slots: Slot[];
  readonly #weights = new Map<string, { dtype: DType; bytes: Uint8Array }>();
  #next = 1;

  constructor(backend: "ort-node" | "ort-web", count: number, threadsPerEngine: number) {
    this.#slots = Array.from({ length: count }, () => {
      const worker = new Worker(new URL("./engine-worker.js", import.meta.url), { workerData: { backend, threads: threadsPerEngine } });
      const slot: Slot = { worker, ready: Promise.resolve(), inFlight: 0, weights: new Set(), pending: new Map() };
      slot.ready = new Promise((resolve, reject) => {
        worker.once("message", () => resolve());
        worker.once("error", reject);
      });
      worker.on("message", (m: EngineWorkerReply | { ready: true }) => {
        if (!("id" in m)) return;
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        slot.inFlight--;
        if (m.ok) {
          const out: Record<string, Tensor> = {};
          for (const [name, t] of Object.entries(m.outputs)) out[name] = new Tensor(t.dtype, t.data, t.shape);
          p.resolve(out);
        } else p.reject(new WasmdeployError(m.error));
      });
      worker.on("exit", (code) => {
        for (const p of slot.pending.values()) p.reject(new WasmdeployError(`engine thread exited (code ${code})`));
        slot.pending.clear();
      });
      return slot;
    });
  }

  hasStorage(id: string): boolean {
    return this.#weights.has(id);
  }

  /** Keep the weight's bytes (a copy: archive entries are views into the whole archive). */
  registerStorage(id: string, dtype: DType, bytes: Uint8Array): void {
    if (!this.#weights.has(id)) this.#weights.set(id, { dtype, bytes: bytes.slice() });
  }

  releaseStorage(id: string): void {
    if (!this.#weights.delete(id)) return;
    for (const s of this.#slots) {
      if (s.weights.delete(id)) s.worker.postMessage({ type: "release", storage: id } satisfies EngineWorkerRequest);
    }
  }

  async run(graph: GraphSpec, feeds: Record<string, Tensor>, key: string): Promise<Record<string, Tensor>> {
    const weights: { id: string; dtype: DType; bytes: Uint8Array }[] = [];
    for (const w of graph.weights) {
      if (!this.#weights.has(w.storage)) throw new WasmdeployError(`graph reads weight storage ${w.storage}, which is not registered`);
    }
    const slot = this.#slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    slot.inFlight++;
    try {
      await slot.ready;
    } catch (e) {
      slot.inFlight--;
      throw new WasmdeployError(`engine thread failed to start: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const w of graph.weights) {
      if (slot.weights.has(w.storage)) continue;
      weights.push({ id: w.storage, ...this.#weights.get(w.storage)! });
      slot.weights.add(w.storage);
    }
    const wireFeeds: Record<string, { dtype: DType; data: TypedArray; shape: number[] }> = {};
    // slice(): post only the elements, not the whole buffer a view may sit in.
    for (const [name, t] of Object.entries(feeds)) wireFeeds[name] = { dtype: t.dtype, data: t.data.slice() as TypedArray, shape: [...t.shape] };
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ type: "run", id, graph, key, feeds: wireFeeds, weights } satisfies EngineWorkerRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
