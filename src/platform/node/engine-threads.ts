// A pool of engine threads (see engine-worker.ts): onnxruntime-node computes on the thread
// that calls run(), so engine work from several interpreters runs in parallel only on several
// threads. A run goes to the thread with the fewest runs in flight.
//
// Weights are held once per process: each is copied into a SharedArrayBuffer when registered,
// and every thread adopts a view of that memory instead of a copy of its own. Each thread still
// compiles its own sessions (a session baking weights in as initializers holds ORT's copy).
// A thread that dies fails only the runs it had in flight and is replaced by a fresh one, which
// is sent weights as it needs them.
//
// Per run, a thread is sent only the graph's key once it holds the graph (a GraphSpec of a
// resnet is tens of KB of structured clone), and each input's elements once: copied out of the
// host's store and transferred, not cloned (large ones into a buffer the thread sends back, see
// stage). A wide run (a lone call on an idle pool, see
// EngineHost) always goes to thread 0, so only one thread compiles all-cores sessions.
// An inline run (a lone call's small graph, see EngineHost) runs on this thread instead: for a
// graph that takes ORT a fraction of a millisecond, two thread switches cost more than the run,
// and blocking this thread that briefly delays nothing else (nothing else is running). A run
// both inline and wide uses a wide session compiled on this thread.

import { Worker } from "node:worker_threads";
import { type EngineLike, type ReloadableWeight, SHARED_SESSION_MIN_WEIGHT_BYTES } from "../../bridge/engine-host.js";
import type { DType, GraphSpec } from "../../engine/graph.js";
import { EngineError } from "../../engine/errors.js";
import type { EngineName, FromEngineThread, ToEngineThread, WireTensor } from "../../protocol.js";
import { Tensor, type TypedArray } from "../../tensor.js";
import { Engine, type RunOptions } from "../../engine/engine.js";
import { dtypeInfo, shapeSize, viewAs } from "../../engine/dtype.js";
import { collectGarbage } from "./collect-garbage.js";
import { IdleTidy } from "./idle-tidy.js";
import { trimMallocInBackground } from "./malloc-trim.js";

/** Graphs each thread keeps by key (beyond it the least recently run are dropped). */
const GRAPHS_PER_THREAD = 512;

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  inFlight: number;
  /** Weight storages this thread already holds. */
  weights: Set<string>;
  /** Graph keys this thread holds (LRU order) with the storages each reads; keys to drop next run. */
  graphs: Map<string, string[]>;
  forget: string[];
  pending: Map<number, { resolve: (o: Record<string, Tensor>) => void; reject: (e: Error) => void; graph: GraphSpec }>;
  /** Feed buffers back from the thread, free for the next run (see stage). */
  staging: ArrayBuffer[];
  /** Graphs whose weights this thread held at a storage epoch (see EngineThreads.#epoch). */
  weightsSent: WeakMap<GraphSpec, number>;
  exited: boolean;
}

/**
 * A storage held here: its bytes, unless they were let go (see #evictBaked) and can be read again.
 */
interface HeldWeight {
  dtype: DType;
  bytes?: Uint8Array;
  reloadable?: ReloadableWeight;
}

/** How long close() waits for a thread still in a run (see EngineThreads.#exit). */
const CLOSE_GRACE_MS = 10_000;

/** Runs whose feeds come to at least this many bytes copy them into a reused buffer (see stage). */
const STAGING_MIN_BYTES = 2 ** 16;
/**
 * Feed buffers each thread keeps for reuse, and the largest kept: what they hold stays with the
 * process after the run and is charged to no tenant, so a caller's large inputs must not leave
 * hundreds of MB behind (at 64 MB each, 4 per thread kept 256 MB). Inputs like resnet18's 600 KB
 * fit in one.
 */
const STAGING_KEPT = 4;
const STAGING_MAX_BYTES = 4 * 2 ** 20;
/** Feeds start at multiples of this in a staging buffer (every dtype's alignment). */
const FEED_ALIGN = 8;

export class EngineThreads implements EngineLike {
  /** The threads started so far: thread 0 at once, the others as the load asks (#leastBusy). */
  readonly #slots: Slot[] = [];
  /** The most threads to start. */
  readonly #count: number;
  readonly #weights = new Map<string, HeldWeight>();
  readonly #backend: EngineName;
  readonly #intraOpThreads: number;
  readonly #wideThreads: number;
  #next = 1;
  #closed = false;
  /** The engine inline runs use, on this thread; made on the first one. */
  #inline?: Promise<Engine>;
  /** The same, once made (no await of a settled promise per inline run). */
  #inlineEngine?: Engine;
  /**
   * Gives back what a session moved to or dropped from this thread left (a collection, a trim) once
   * its inline runs pause, so the trim, which walks every malloc arena, does not land on one.
   */
  readonly #callerTidy = new IdleTidy(
    () => {
      if (this.#callerCollects) collectGarbage();
      this.#callerCollects = false;
      trimMallocInBackground();
    },
    { idleMs: 100, maxPostponeMs: 10_000, unref: true },
  );
  /** The pending caller tidy collects too (a move's compile left a model's copy of the weights). */
  #callerCollects = false;
  /** Threads replaced after dying (diagnostics). */
  replaced = 0;
  /**
   * Bumped whenever a weight storage is released. A graph whose weights were all found held at
   * the current value (here, inline, on a thread) needs no look at each of them again: runs of a
   * graph of 140 weights did four lookups per weight.
   */
  #epoch = 0;
  readonly #weightsHeld = new WeakMap<GraphSpec, number>();
  readonly #weightsInline = new WeakMap<GraphSpec, number>();

  /** `wideThreads`: intra-op threads of the sessions wide runs use (default: no wide sessions). */
  constructor(backend: EngineName, count: number, intraOpThreads: number, wideThreads = intraOpThreads) {
    this.#backend = backend;
    this.#intraOpThreads = intraOpThreads;
    this.#wideThreads = wideThreads;
    this.#count = count;
    this.#slots.push(this.#start());
  }

  /** The most engine threads this runs on (see started). */
  get size(): number {
    return this.#count;
  }

  /** Engine threads started so far. */
  get started(): number {
    return this.#slots.length;
  }

  /**
   * The started thread with the fewest runs, or a new one when every started thread is busy.
   * An engine thread costs 10-20 MB (its V8 heap, ONNX Runtime's per-thread state, a malloc
   * arena), and a process whose runs never overlap (one caller; or a big graph, whose runs all
   * go to thread 0) never needs a second; under load they start as runs overlap, up to `size`.
   */
  #leastBusy(): Slot {
    const least = this.#slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    if (least.inFlight === 0 || this.#slots.length >= this.#count) return least;
    const slot = this.#start();
    this.#slots.push(slot);
    return slot;
  }

  #start(): Slot {
    const worker = new Worker(new URL("./engine-worker.js", import.meta.url), {
      workerData: { backend: this.#backend, threads: this.#intraOpThreads, wideThreads: this.#wideThreads },
    });
    const slot: Slot = { worker, ready: Promise.resolve(), inFlight: 0, weights: new Set(), graphs: new Map(), forget: [], pending: new Map(), staging: [], weightsSent: new WeakMap(), exited: false };
    slot.ready = new Promise((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
    });
    slot.ready.catch(() => {}); // a start failure is reported to the runs that wait for it
    worker.on("message", (m: FromEngineThread) => {
      if (m.type === "need") return this.#sendWeights(slot, m.id, m.storages);
      if (m.type !== "result") return;
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      slot.inFlight--;
      // The thread is done reading the feeds: their buffer serves the next run.
      if (m.feedBuffer && slot.staging.length < STAGING_KEPT && m.feedBuffer.byteLength <= STAGING_MAX_BYTES) slot.staging.push(m.feedBuffer);
      if (m.ok) {
        if (m.baked) this.#evictBaked(p.graph);
        const out: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(m.outputs)) out[name] = new Tensor(t.dtype, t.data, t.shape);
        p.resolve(out);
      } else p.reject(new EngineError(m.error));
    });
    worker.on("error", () => {}); // reported by "exit"
    worker.on("exit", (code) => {
      slot.exited = true;
      this.#died(slot, code);
    });
    return slot;
  }

  /** Fail the runs that were on a dead thread, and put a fresh thread in its place. */
  #died(slot: Slot, code: number) {
    for (const p of slot.pending.values()) p.reject(new EngineError(`the engine thread running this graph died (exit code ${code}); it was replaced`));
    slot.pending.clear();
    slot.inFlight = 0;
    const i = this.#slots.indexOf(slot);
    if (this.#closed || i < 0) return;
    this.#slots[i] = this.#start();
    this.replaced++;
  }

  /**
   * Testing hook: end engine thread `i` as if it died (exit code 1), at its next turn. A thread
   * can die only between ONNX Runtime's calls: a crash inside one takes the whole process.
   */
  async kill(i: number): Promise<void> {
    if (!Number.isInteger(i) || i < 0 || i >= this.#count) throw new RangeError(`no engine thread ${i}; there are ${this.#count}`);
    while (this.#slots.length <= i) this.#slots.push(this.#start());
    const slot = this.#slots[i]!;
    await this.#exit(slot, 1, Infinity);
  }

  /**
   * Ask a thread to exit (it does at its next turn) and wait up to `graceMs` for it. Never
   * worker.terminate(): landing inside an ONNX Runtime call, it aborted the whole process
   * (onnxruntime-node's binding, failing to make its outputs on a terminating thread, throws a
   * C++ exception it cannot hand to JavaScript: std::terminate). A thread still in a run past the
   * grace is unreferenced, and exits when the run returns.
   */
  #exit(slot: Slot, code: number, graceMs: number): Promise<void> {
    if (slot.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = Number.isFinite(graceMs)
        ? setTimeout(() => {
            slot.worker.unref();
            resolve();
          }, graceMs)
        : undefined;
      slot.worker.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      slot.worker.postMessage({ type: "exit", code } satisfies ToEngineThread);
    });
  }

  hasStorage(id: string): boolean {
    return this.#weights.has(id);
  }

  /**
   * Keep the weight's bytes once, in shared memory every thread reads: adopted when they are
   * already shared (a package detached from its file), copied into shared memory otherwise.
   */
  registerStorage(id: string, dtype: DType, bytes: Uint8Array, opts: { reloadable?: ReloadableWeight } = {}): void {
    if (this.#weights.has(id)) return;
    this.#weights.set(id, { dtype, bytes: shared(bytes), ...(opts.reloadable ? { reloadable: opts.reloadable } : {}) });
  }

  /** A storage's bytes, read again if they were let go. */
  #bytesOf(held: HeldWeight): Uint8Array {
    return (held.bytes ??= shared(held.reloadable!.reload()));
  }

  /** Answer a thread's "need": the bytes of storages it must compile a graph over. */
  #sendWeights(slot: Slot, id: number, storages: string[]): void {
    const weights: { id: string; dtype: DType; bytes: Uint8Array }[] = [];
    try {
      for (const s of storages) {
        const held = this.#weights.get(s);
        if (!held) continue; // released: the compile fails naming it
        weights.push({ id: s, dtype: held.dtype, bytes: this.#bytesOf(held) });
        slot.weights.add(s);
      }
    } catch (e) {
      slot.worker.postMessage({ type: "weights", id, weights: [], error: e instanceof Error ? e.message : String(e) } satisfies ToEngineThread);
      return;
    }
    slot.worker.postMessage({ type: "weights", id, weights } satisfies ToEngineThread);
  }

  /**
   * After a graph's one session baked its weights in: let the bytes of its storages go, here and
   * on every thread, where they can be read again (a package from a file), so the process holds
   * the weights once (in the session), not also in shared memory.
   */
  #evictBaked(graph: GraphSpec): void {
    let bytes = 0;
    for (const w of graph.weights) bytes += shapeSize(w.shape) * dtypeInfo(w.dtype).itemSize;
    // Such a graph keeps one session per process (EngineHost), so once that session has baked
    // them in, nothing else reads them until another graph over them compiles, or Python reads one.
    if (bytes < SHARED_SESSION_MIN_WEIGHT_BYTES) return;
    const gone: string[] = [];
    for (const w of graph.weights) {
      const held = this.#weights.get(w.storage);
      if (!held?.reloadable || !held.bytes) continue;
      held.bytes = undefined;
      held.reloadable.evict();
      gone.push(w.storage);
    }
    if (gone.length === 0) return;
    this.#epoch++;
    for (const id of gone) this.#inlineEngine?.dropStorageBytes(id);
    for (const s of this.#slots) {
      const held = gone.filter((id) => s.weights.delete(id));
      if (held.length > 0) s.worker.postMessage({ type: "evict", storages: held } satisfies ToEngineThread);
    }
  }

  releaseStorage(id: string): void {
    if (!this.#weights.delete(id)) return;
    this.#epoch++;
    void this.#inline?.then((e) => e.releaseStorage(id), () => {});
    for (const s of this.#slots) {
      // The thread drops the graphs that read it on "release" (they can never run again); it may
      // hold such graphs without the storage's bytes (let go after they were baked in).
      let held = s.weights.delete(id);
      for (const [key, storages] of s.graphs) {
        if (!storages.includes(id)) continue;
        s.graphs.delete(key);
        held = true;
      }
      if (held) s.worker.postMessage({ type: "release", storages: [id] } satisfies ToEngineThread);
    }
  }

  /** Drop graph `key` and its sessions on every thread that holds it, and inline. */
  forget(key: string): void {
    void this.#inline?.then((e) => e.forget(key), () => {});
    this.#forgetOnThreads(key);
  }

  /** Drop graph `key` and its sessions on every engine thread that holds it. */
  #forgetOnThreads(key: string): void {
    for (const s of this.#slots) if (s.graphs.delete(key)) s.worker.postMessage({ type: "forget", keys: [key] } satisfies ToEngineThread);
  }

  /** Weight bytes held (once, whatever the number of threads; not those let go after baking). */
  get weightBytes(): number {
    let n = 0;
    for (const w of this.#weights.values()) n += w.bytes?.byteLength ?? 0;
    return n;
  }

  async run(graph: GraphSpec, feeds: Record<string, Tensor>, key: string, opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    if (this.#weightsHeld.get(graph) !== this.#epoch) {
      for (const w of graph.weights) {
        if (!this.#weights.has(w.storage)) throw new EngineError(`graph reads weight storage ${w.storage}, which is not registered`);
      }
      this.#weightsHeld.set(graph, this.#epoch);
    }
    if (opts.inline) {
      this.#callerTidy.begin();
      try {
        return await this.#runInline(graph, feeds, key, opts.wide === true);
      } finally {
        this.#callerTidy.end();
      }
    }
    const wide = opts.wide === true;
    const slot = wide ? this.#slots[0]! : this.#leastBusy();
    slot.inFlight++;
    try {
      await slot.ready;
    } catch (e) {
      slot.inFlight--;
      throw new EngineError(`engine thread failed to start: ${e instanceof Error ? e.message : String(e)}`);
    }
    const weights: { id: string; dtype: DType; bytes: Uint8Array }[] = [];
    if (slot.weightsSent.get(graph) !== this.#epoch) {
      for (const w of graph.weights) {
        if (slot.weights.has(w.storage)) continue;
        const held = this.#weights.get(w.storage);
        if (!held) throw new EngineError(`weight storage ${w.storage} was released while this graph waited`);
        // Bytes let go after baking are not read again here: the thread asks if it compiles.
        if (!held.bytes) continue;
        weights.push({ id: w.storage, dtype: held.dtype, bytes: held.bytes });
        slot.weights.add(w.storage);
      }
      slot.weightsSent.set(graph, this.#epoch);
    }
    const { wireFeeds, feedBuffer, transfer } = stage(slot, feeds);
    // Send the graph only if the thread does not hold it; keep the thread's set bounded.
    const held = slot.graphs.delete(key);
    slot.graphs.set(key, graph.weights.map((w) => w.storage));
    if (slot.graphs.size > GRAPHS_PER_THREAD) {
      const oldest = slot.graphs.keys().next().value!;
      slot.graphs.delete(oldest);
      slot.forget.push(oldest);
    }
    const id = this.#next++;
    const msg: ToEngineThread = { type: "run", id, key, feeds: wireFeeds, weights };
    if (feedBuffer) msg.feedBuffer = feedBuffer;
    if (!held) msg.graph = graph;
    if (wide) msg.wide = true;
    if (slot.forget.length > 0) {
      msg.forget = slot.forget;
      slot.forget = [];
    }
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, graph });
      slot.worker.postMessage(msg, transfer);
    });
  }

  /** On this thread; `wide`: on the graph's wide session here (its pool threads spin only during the run). */
  async #runInline(graph: GraphSpec, feeds: Record<string, Tensor>, key: string, wide: boolean): Promise<Record<string, Tensor>> {
    const engine = await this.#inlineReady(graph, key, wide);
    const place = wide ? { wide } : {};
    const compiles = !engine.hasSession(key, place);
    const out = await engine.run(graph, feeds, key, place);
    if (compiles && engine.sessionBakesAll(key, place)) this.#evictBaked(graph);
    return out;
  }

  /** The engine on this thread, with what a compile of `graph` there needs registered. */
  async #inlineReady(graph: GraphSpec, key: string, wide: boolean): Promise<Engine> {
    this.#inline ??= Engine.create({ backend: this.#backend, threads: this.#intraOpThreads, wideThreads: this.#wideThreads }).then((e) => (this.#inlineEngine = e));
    const engine = this.#inlineEngine ?? (await this.#inline);
    if (this.#weightsInline.get(graph) !== this.#epoch) {
      // Only what a compile needs: a compiled session reads no storage.
      for (const id of engine.missingStorages(graph, key, wide ? { wide } : {})) {
        const held = this.#weights.get(id);
        if (!held) throw new EngineError(`weight storage ${id} was released while this graph waited`);
        engine.registerStorage(id, held.dtype, this.#bytesOf(held), { adoptShared: true });
      }
      this.#weightsInline.set(graph, this.#epoch);
    }
    return engine;
  }

  /**
   * A big graph's one wide session, moved to this thread (EngineHost decides when): compiled here
   * first, then `moved()` (the caller's runs come here from then on) and the engine threads' copy
   * is dropped, so runs go on meanwhile and two sessions exist only for the time of the compile.
   * Then the weights it baked in are let go again.
   */
  async moveToCaller(graph: GraphSpec, key: string, moved: () => void): Promise<void> {
    const engine = await this.#inlineReady(graph, key, true);
    await engine.compile(graph, key, { wide: true });
    if (this.#closed) return;
    // Runs go here from now on; one already posted to a thread runs there before its "forget".
    moved();
    this.#forgetOnThreads(key);
    if (engine.sessionBakesAll(key, { wide: true })) this.#evictBaked(graph);
    // The compile left its model (a copy of the weights: 45 MB for resnet18) as garbage on this
    // thread's heap, and what ONNX Runtime freed loading the session in this thread's malloc
    // arena: resnet18's process held 50 MB more than with the session on an engine thread. Once
    // per move, as an engine thread does after each compile, once the caller's runs pause.
    this.#callerCollects = true;
    this.#callerTidy.want();
  }

  /** Sessions compiled on this thread, and graphs held by each engine thread (for stats and tests). */
  sessionPlaces(): { caller: number; threads: number[] } {
    return { caller: this.#inlineEngine?.stats().sessionsCached ?? 0, threads: this.#slots.map((s) => s.graphs.size) };
  }

  /** Drops graph `key`'s sessions on this thread: its runs go back to an engine thread. */
  forgetOnCaller(key: string): void {
    if (!this.#inlineEngine) return;
    this.#inlineEngine.forget(key);
    // What ONNX Runtime frees on this thread stays in its malloc arena otherwise; the session is
    // released once a run still on it returns.
    this.#callerTidy.want();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#inline?.then((e) => e.close(), () => {});
    await Promise.all(this.#slots.map((s) => this.#exit(s, 0, CLOSE_GRACE_MS)));
    // Runs still on a thread past the grace end with the engine.
    for (const s of this.#slots) {
      for (const p of s.pending.values()) p.reject(new EngineError("the engine was closed while this graph ran"));
      s.pending.clear();
    }
    this.#weights.clear();
  }
}

/** Bytes in shared memory, which every engine thread can adopt: copied there unless they are. */
function shared(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const out = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  out.set(bytes);
  return out;
}

/**
 * The feeds as sent to an engine thread: copies it owns, moved there. Large ones are copied into
 * one buffer that the thread sends back with the result, taken from the buffers it sent back
 * when one is large enough: a fresh buffer per run meets pages the process has not touched yet
 * (resnet18's 600 KB input took 0.1-0.3 ms to copy that way, about 20 µs into a buffer used
 * before). Small ones are copied as they are (returning a buffer costs more than they do). Not
 * shared memory: onnxruntime-node refuses feeds over a SharedArrayBuffer ("Invalid argument").
 */
function stage(slot: Slot, feeds: Record<string, Tensor>): { wireFeeds: Record<string, WireTensor>; feedBuffer?: ArrayBuffer; transfer: ArrayBuffer[] } {
  const wireFeeds: Record<string, WireTensor> = {};
  let bytes = 0;
  for (const name in feeds) bytes += Math.ceil(feeds[name]!.data.byteLength / FEED_ALIGN) * FEED_ALIGN;
  if (bytes < STAGING_MIN_BYTES) {
    const transfer: ArrayBuffer[] = [];
    for (const name in feeds) {
      const t = feeds[name]!;
      // slice(): only the elements, not the whole buffer a view may sit in.
      const data = t.data.slice() as TypedArray;
      wireFeeds[name] = { dtype: t.dtype, data, shape: t.shape as number[] };
      transfer.push(data.buffer as ArrayBuffer);
    }
    return { wireFeeds, transfer };
  }
  const i = slot.staging.findIndex((b) => b.byteLength >= bytes);
  // Sizes round up to a power of two, so that similar runs share buffers.
  const feedBuffer = i >= 0 ? slot.staging.splice(i, 1)[0]! : new ArrayBuffer(2 ** Math.ceil(Math.log2(bytes)));
  let offset = 0;
  for (const name in feeds) {
    const t = feeds[name]!;
    const dest = new Uint8Array(feedBuffer, offset, t.data.byteLength);
    dest.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    wireFeeds[name] = { dtype: t.dtype, data: viewAs(t.dtype, dest), shape: t.shape as number[] };
    offset += Math.ceil(t.data.byteLength / FEED_ALIGN) * FEED_ALIGN;
  }
  return { wireFeeds, feedBuffer, transfer: [feedBuffer] };
}
