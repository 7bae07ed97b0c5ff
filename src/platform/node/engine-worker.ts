// One engine thread: an Engine (its own ONNX Runtime sessions) serving runs posted by the
// host. Weights arrive as views of the host's shared memory and are adopted, not copied.

import { parentPort, workerData } from "node:worker_threads";
import { Engine } from "../../engine/engine.js";
import type { GraphSpec } from "../../engine/graph.js";
import type { EngineName, FromEngineThread, ToEngineThread, WireTensor } from "../../protocol.js";
import { Tensor, type TypedArray } from "../../tensor.js";
import { registerNodeBackends } from "./backends.js";
import { collectGarbage } from "./collect-garbage.js";
import { IdleTidy } from "./idle-tidy.js";
import { trimMallocInBackground } from "./malloc-trim.js";

registerNodeBackends();
const { backend, threads, wideThreads } = workerData as { backend: EngineName; threads: number; wideThreads?: number };
const engine = await Engine.create({ backend, threads, wideThreads });
/** Graphs by key: the host sends each once (ToEngineThread "run"). */
const graphs = new Map<string, GraphSpec>();
const port = parentPort!;
const post = (m: FromEngineThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

// An idle engine thread allocates nothing, so V8 may never collect the weights a released
// package left in it (views of shared memory, whose bytes live until every thread drops them),
// nor the model a compile built (its initializers are a copy of the weights: 45 MB for
// resnet18, garbage once ONNX Runtime has its session): collect once after a release or a
// compile, when there is something to give back.
// Then glibc is asked to give back what its arenas kept (malloc-trim.ts): a compile's garbage is
// freed on this thread and on ONNX Runtime's and V8's own, whose arenas keep it otherwise.
// Once the thread is idle (idle-tidy.ts): a collection or trim that lands on the next run, or on
// the next Python call's mallocs elsewhere in the process, delays it.
const tidy = new IdleTidy(
  () => {
    collectGarbage();
    trimMallocInBackground();
  },
  { idleMs: 100, maxPostponeMs: 10_000 },
);

/** Runs waiting for the weights they asked the host for ("need"), by run id. */
const waiting = new Map<number, (m: Extract<ToEngineThread, { type: "weights" }>) => void>();
const askWeights = (id: number, storages: string[]) =>
  new Promise<Extract<ToEngineThread, { type: "weights" }>>((resolve) => {
    waiting.set(id, resolve);
    post({ type: "need", id, storages });
  });

port.on("message", async (m: ToEngineThread) => {
  // A message is handled only between ONNX Runtime's calls (they are synchronous on this
  // thread), so the thread ends where no native call is in flight.
  if (m.type === "exit") process.exit(m.code);
  if (m.type === "weights") {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
    return;
  }
  if (m.type === "evict") {
    for (const id of m.storages) engine.dropStorageBytes(id);
    tidy.want();
    return;
  }
  if (m.type === "release") {
    for (const id of m.storages) engine.releaseStorage(id);
    // Graphs reading a released storage can never run again (the host forgot them too).
    const gone = new Set(m.storages);
    for (const [key, g] of graphs) if (g.weights.some((w) => gone.has(w.storage))) graphs.delete(key);
    // After the evicted sessions' release (asynchronous) has run.
    tidy.want();
    return;
  }
  if (m.type === "forget") {
    for (const k of m.keys) {
      graphs.delete(k);
      engine.forget(k);
    }
    // A big graph's session that moved to the host's thread: give back what it held.
    tidy.want();
    return;
  }
  // Graphs the host no longer tracks for this thread: their sessions go with them.
  if (m.forget) {
    for (const k of m.forget) {
      graphs.delete(k);
      engine.forget(k);
    }
  }
  if (m.graph) graphs.set(m.key, m.graph);
  tidy.begin();
  try {
    const graph = graphs.get(m.key);
    if (!graph) throw new Error(`engine thread: no graph held for key ${m.key}`);
    for (const w of m.weights) engine.registerStorage(w.id, w.dtype, w.bytes, { adoptShared: true });
    const place = m.wide ? { wide: true } : {};
    // A compile reading weights whose bytes the host let go after baking them elsewhere. Asked
    // again if an "evict" came while waiting (a few rounds at most: each follows a compile).
    for (let round = 0, missing = engine.missingStorages(graph, m.key, place); missing.length > 0 && round < 4; round++) {
      const got = await askWeights(m.id, missing);
      if (got.error !== undefined) throw new Error(got.error);
      for (const w of got.weights) engine.registerStorage(w.id, w.dtype, w.bytes, { adoptShared: true });
      missing = engine.missingStorages(graph, m.key, place);
    }
    const feeds: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new Tensor(t.dtype, t.data, t.shape);
    const didCompile = !engine.hasSession(m.key, place);
    const out = await engine.run(graph, feeds, m.key, place);
    if (didCompile) tidy.want();
    const baked = didCompile && engine.sessionBakesAll(m.key, place);
    const outputs: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(out)) {
      // ORT's outputs own their buffers; copy into a fresh one we can transfer.
      const data = t.data.slice() as TypedArray;
      outputs[name] = { dtype: t.dtype, data, shape: [...t.shape] };
      transfer.push(data.buffer as ArrayBuffer);
    }
    if (m.feedBuffer) transfer.push(m.feedBuffer);
    post({ type: "result", id: m.id, ok: true, outputs, feedBuffer: m.feedBuffer, ...(baked ? { baked } : {}) }, transfer);
  } catch (e) {
    post({ type: "result", id: m.id, ok: false, error: e instanceof Error ? e.message : String(e), feedBuffer: m.feedBuffer }, m.feedBuffer ? [m.feedBuffer] : []);
  } finally {
    tidy.end();
  }
});
post({ type: "ready" });
