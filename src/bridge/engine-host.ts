// The host end of the bridge: serves the interpreters' synchronous engine requests
// (run a graph, read a tensor's bytes, write bytes as a tensor, release tensors). It runs on
// the host's main thread; the engine it drives is either a pool of engine threads (ort-node's
// default: onnxruntime-node computes on the calling thread) or one Engine on this thread.
//
// Tensors live here, not in Python: weight storages are registered in the engine once
// per process (read from the package archive on first use, shared by every interpreter);
// transient tensors (call inputs, graph outputs, tensors Python built from data) live in
// this store, owned by the interpreter that made them, and are dropped when Python
// releases them or the interpreter dies.

import { structuralKey } from "../engine/structural-key.js";
import type { DType, GraphSpec } from "../engine/graph.js";
import { dtypeInfo, shapeSize, viewAs } from "../engine/dtype.js";
import { WasmdeployError } from "../errors.js";
import type { BridgeKind, WireMessage } from "../protocol.js";
import { Tensor } from "../tensor.js";

/** Supplies the bytes of a package storage, given its id "<package id>/<key>". */
export type WeightSource = (id: string) => Uint8Array | undefined;

interface StoredTensor {
  tensor: Tensor;
  /** "<interpreter index>:<generation>", or "host" for call inputs the host owns. */
  owner: string;
}

/** Who is asking: the interpreter generation, and which packages' weights it may read. */
export interface Requester {
  owner: string;
  /** Whether the requester may use the weights of package `pkgId` (it has that package loaded). */
  mayUseWeights(pkgId: string): boolean;
  /**
   * Account `bytes` of engine memory to the call now running; throws when that passes the
   * call's budget (engineMemoryPerCallMb), before anything is allocated.
   */
  charge(bytes: number): void;
}

export interface BridgeRequest {
  kind: BridgeKind;
  json: string;
  buffers: Uint8Array[];
}

/** A spec an interpreter sent once, kept so later runs of it send only its key. */
interface CachedSpec {
  spec: GraphSpec;
  /** The engine's structuralKey of `spec`, computed once here. */
  structural: string;
  /** Bytes of the graph's outputs (what a run charges). */
  outBytes: number;
}

/** Timed runs a place needs before a lone run's placement compares it. */
const SAMPLES = 3;

/** One lone run in this many (once both places are timed) re-times the place that lost. */
const EXPLORE = 32;

/** Specs kept across all interpreters (LRU). */
const SPEC_CACHE_MAX = 512;

/**
 * How a run is placed: `wide` on all cores (a lone call's big graph), `inline` on the calling
 * thread rather than an engine thread (a lone call's small graph); neither: one core, on an
 * engine thread.
 */
export interface RunMode {
  wide?: boolean;
  inline?: boolean;
}

/** What the host needs of an engine: one Engine on this thread, or a pool of engine threads. */
export interface EngineLike {
  hasStorage(id: string): boolean;
  registerStorage(id: string, dtype: DType, data: Uint8Array): void;
  /** Forget a storage and every compiled session that reads it. */
  releaseStorage(id: string): void;
  /** `wide`: run on all cores (see EngineHost: a lone call on an idle pool). */
  run(graph: GraphSpec, feeds: Record<string, Tensor>, key: string, opts?: RunMode): Promise<Record<string, Tensor>>;
  close(): Promise<void>;
}

export class EngineHost {
  #engine?: Promise<EngineLike>;
  readonly #store = new Map<string, StoredTensor>();
  // "<owner>\n<key>" -> spec. Keyed by owner: a key names only a spec that this interpreter
  // generation sent itself, so one interpreter can never run another's cached graph.
  readonly #specs = new Map<string, CachedSpec>();
  /** Weight storages registered in the engine (id -> bytes), so a package's can be released with it. */
  readonly #registered = new Map<string, number>();
  #next = 1;
  /** Engine runs in flight, from every interpreter. */
  #running = 0;
  /** Per structural key: fastest run (ms) on 1-thread sessions, wide ones, inline. */
  readonly #timing = new Map<string, Timing>();

  constructor(
    private readonly createEngine: () => Promise<EngineLike>,
    private readonly weights: WeightSource,
    /**
     * The pool's load: calls running or queued on every interpreter. A run may go wide (all
     * cores) only when it is the one engine run in flight and this is at most 1, so a lone
     * call gets the machine and a busy pool keeps one core per call. Default: never wide.
     */
    private readonly poolLoad: () => number = () => Infinity,
    /**
     * Graphs whose 1-thread runs take less than this do not go wide even when alone: waking
     * ONNX Runtime's pool threads for every small op costs more than they give. They run
     * inline instead (on this thread: the engine-thread hop costs more than such a run).
     * Above it, a lone run goes wide, then takes whichever of wide and narrow ran faster
     * (each place timed SAMPLES times first).
     */
    private readonly wideMinMs = 1,
    /**
     * Graphs whose 1-thread runs take less than this run inline even on a busy pool: posting
     * them to an engine thread and back costs the host thread more than running them (mlp
     * throughput at 2 interpreters: 11.7k calls/s through engine threads, 26k inline).
     */
    private readonly inlineMaxMs = 0.2,
  ) {}

  engine(): Promise<EngineLike> {
    this.#engine ??= this.createEngine();
    return this.#engine;
  }

  /**
   * Forget package `pkgId`'s weights in the engine (every engine thread), the sessions
   * compiled over them, and the cached specs that read them.
   */
  async releasePackage(pkgId: string): Promise<void> {
    const prefix = `${pkgId}/`;
    for (const [k, c] of this.#specs) if (c.spec.weights.some((w) => w.storage.startsWith(prefix))) this.#specs.delete(k);
    if (!this.#engine) return;
    const engine = await this.#engine;
    for (const id of [...this.#registered.keys()]) {
      if (!id.startsWith(prefix)) continue;
      this.#registered.delete(id);
      engine.releaseStorage(id);
    }
  }

  get engineStarted(): boolean {
    return this.#engine !== undefined;
  }

  /** Put a host tensor in the store (call inputs); returns its storage id. */
  put(tensor: Tensor, owner: string): string {
    const id = `t${this.#next++}`;
    this.#store.set(id, { tensor, owner });
    return id;
  }

  /** A copy of a stored tensor's elements [offset, offset + numel) under `shape` (as `who` may see them). */
  take(id: string, dtype: DType, offset: number, shape: number[], who?: Requester): Tensor {
    const data = this.elements(id, dtype, offset, shapeSize(shape), who);
    return new Tensor(dtype, data.slice(), [...shape]);
  }

  /** A copy of a whole stored tensor (a call input). */
  takeWhole(id: string, who: Requester): Tensor {
    const t = this.#store.get(id)?.tensor;
    if (!t) throw new WasmdeployError(`tensor ${id} does not exist`);
    return this.take(id, t.dtype, 0, [...t.shape], who);
  }

  /** Hand tensors put for a call to the interpreter that runs it. */
  adopt(ids: Iterable<string>, owner: string): void {
    for (const id of ids) {
      const t = this.#store.get(id);
      if (t) t.owner = owner;
    }
  }

  /** Release tensors; with `owner`, only those it owns (an interpreter cannot free another's). */
  release(ids: Iterable<string>, owner?: string): void {
    for (const id of ids) {
      if (owner === undefined || this.#store.get(id)?.owner === owner) this.#store.delete(id);
    }
  }

  /** Drop every tensor an interpreter owned (it died or was respawned). */
  releaseOwner(owner: string): void {
    for (const [id, t] of this.#store) if (t.owner === owner) this.#store.delete(id);
    const prefix = owner + "\n";
    for (const k of this.#specs.keys()) if (k.startsWith(prefix)) this.#specs.delete(k);
  }

  get cachedSpecs(): number {
    return this.#specs.size;
  }

  get storedTensors(): number {
    return this.#store.size;
  }

  /** Bytes the engine holds: weight storages registered once per process, and live tensors. */
  memory(): { weights: number; tensors: number } {
    let weights = 0;
    for (const b of this.#registered.values()) weights += b;
    let tensors = 0;
    for (const t of this.#store.values()) tensors += t.tensor.data.byteLength;
    return { weights, tensors };
  }

  async handle(req: BridgeRequest, who: Requester): Promise<WireMessage> {
    const { owner } = who;
    const body = JSON.parse(req.json) as Record<string, unknown>;
    if (Array.isArray(body.release)) this.release(body.release as string[], owner);
    switch (req.kind) {
      case "run":
        return this.run(body as unknown as RunRequest, who);
      case "read": {
        const { storage, dtype, offset, numel } = body as { storage: string; dtype: DType; offset: number; numel: number };
        const data = this.elements(storage, dtype, offset, numel, who);
        return { json: "{}", buffers: [new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()] };
      }
      case "write": {
        const { dtype, numel } = body as { dtype: DType; numel: number };
        who.charge(req.buffers[0]!.byteLength);
        const bytes = req.buffers[0]!;
        const info = dtypeInfo(dtype);
        if (bytes.byteLength !== numel * info.itemSize) {
          throw new WasmdeployError(`bridge write: ${bytes.byteLength} bytes is not ${numel} ${dtype} elements`);
        }
        const data = viewAs(dtype, bytes.slice(), 0, numel);
        return { json: JSON.stringify({ storage: this.put(new Tensor(dtype, data, [numel]), owner) }), buffers: [] };
      }
      case "release":
        return { json: "{}", buffers: [] };
    }
  }

  private async run(req: RunRequest, who: Requester): Promise<WireMessage> {
    const { owner } = who;
    let cached: CachedSpec | undefined;
    let cacheKey: string | undefined;
    if (typeof req.key === "string") {
      cacheKey = owner + "\n" + req.key;
      if (req.spec === undefined) {
        cached = this.#specs.get(cacheKey);
        // Evicted (or never sent by this interpreter): ask Python for the full spec.
        if (!cached) return { json: '{"resend":true}', buffers: [] };
        this.#specs.delete(cacheKey); // LRU: re-inserted below, after a successful run
      }
    } else if (req.spec === undefined) {
      throw new WasmdeployError("bridge run: no spec");
    }
    const graph = cached ? cached.spec : req.spec!;
    let bytes: number;
    if (cached) bytes = cached.outBytes;
    else {
      bytes = 0;
      for (const o of graph.outputs) bytes += shapeSize(o.shape) * dtypeInfo(o.dtype).itemSize;
    }
    const structural = cached ? cached.structural : structuralKey(graph);
    const out = await this.#execute(graph, structural, bytes, req.feeds, who);
    if (cacheKey !== undefined) {
      // Cached only after a run succeeded: the spec passed the engine's validation.
      this.#specs.set(cacheKey, cached ?? { spec: graph, structural, outBytes: bytes });
      if (this.#specs.size > SPEC_CACHE_MAX) this.#specs.delete(this.#specs.keys().next().value!);
    }
    const ids = graph.outputs.map((o) => this.put(out[o.name]!, owner));
    return { json: JSON.stringify({ storages: ids }), buffers: [] };
  }

  /**
   * Run a graph this interpreter generation sent before (by its key) for the host itself (host
   * replay): the outputs in the graph's order, not stored; undefined when the spec is no longer
   * cached. Placement (inline / wide / engine threads), charging and access checks as for a run
   * Python asks for.
   */
  async runCached(key: string, feeds: Record<string, [string, number]>, who: Requester): Promise<Tensor[] | undefined> {
    const cacheKey = who.owner + "\n" + key;
    const cached = this.#specs.get(cacheKey);
    if (!cached) return undefined;
    this.#specs.delete(cacheKey); // LRU: most recently used last
    this.#specs.set(cacheKey, cached);
    const out = await this.#execute(cached.spec, cached.structural, cached.outBytes, feeds, who);
    return cached.spec.outputs.map((o) => out[o.name]!);
  }

  async #execute(
    graph: GraphSpec,
    structural: string,
    bytes: number,
    reqFeeds: Record<string, [string, number]>,
    who: Requester,
  ): Promise<Record<string, Tensor>> {
    // Refuse before ONNX Runtime allocates: a graph's results are what a call keeps.
    who.charge(bytes);
    const engine = await this.engine();
    for (const w of graph.weights) {
      this.checkWeightAccess(w.storage, who);
      if (!engine.hasStorage(w.storage)) {
        const bytes = this.weights(w.storage);
        if (!bytes) throw new WasmdeployError(`graph reads weight storage ${w.storage}, which no loaded package holds`);
        engine.registerStorage(w.storage, w.dtype, bytes);
        this.#registered.set(w.storage, bytes.byteLength);
      }
    }
    const feeds: Record<string, Tensor> = {};
    for (const input of graph.inputs) {
      const [id, offset] = reqFeeds[input.name] ?? [];
      if (id === undefined) throw new WasmdeployError(`graph input ${input.name} has no feed`);
      feeds[input.name] = new Tensor(input.dtype, this.elements(id, input.dtype, offset ?? 0, shapeSize(input.shape), who), input.shape);
    }
    let timing = this.#timing.get(structural);
    if (!timing) {
      if (this.#timing.size >= SPEC_CACHE_MAX) this.#timing.clear();
      this.#timing.set(structural, (timing = { runs: { narrow: 0, wide: 0, inline: 0 }, lone: 0 }));
    }
    const lone = this.#running === 0 && this.poolLoad() <= 1;
    const tiny = timing.runs.narrow > SAMPLES && timing.narrow! < this.inlineMaxMs;
    const mode: RunPlace = lone ? this.#loneMode(timing) : tiny ? "inline" : "narrow";
    this.#running++;
    let out: Record<string, Tensor>;
    const t0 = performance.now();
    try {
      out = await engine.run(graph, feeds, structural, mode === "narrow" ? undefined : { [mode]: true });
    } finally {
      this.#running--;
    }
    const ms = performance.now() - t0;
    // A place's first run compiled its session: not a run time. The fastest run is kept: other
    // processes can make a run slower than the graph needs, never faster.
    if (timing.runs[mode]++ > 0) timing[mode] = Math.min(timing[mode] ?? Infinity, ms);
    return out;
  }

  /**
   * Where a lone run of a graph goes. Each place is tried until it has SAMPLES timed runs
   * (one slow run on a busy machine must not decide): 1-thread first, then inline if that was
   * under wideMinMs, else wide, then whichever of wide and 1-thread was faster.
   */
  #loneMode(t: Timing): RunPlace {
    if (t.runs.narrow <= SAMPLES) return "narrow";
    if (t.narrow! < this.wideMinMs) return "inline";
    if (t.runs.wide <= SAMPLES) return "wide";
    // A small graph first timed during a burst of other work looks big: once a wide run shows
    // it is under wideMinMs after all, it runs inline (else it would stay wide for good).
    if (t.wide! < this.wideMinMs) return "inline";
    const best: RunPlace = t.wide! < t.narrow! ? "wide" : "narrow";
    // Every EXPLORE-th lone run goes to the other place: a place first timed during a burst of
    // other work keeps a slow "fastest" time, and without a new sample would lose for good.
    if (++t.lone % EXPLORE === 0) return best === "wide" ? "narrow" : "wide";
    return best;
  }

  /** Package weights are readable only by interpreters that loaded the package. */
  private checkWeightAccess(id: string, who: Requester) {
    const pkgId = id.slice(0, id.indexOf("/"));
    if (!who.mayUseWeights(pkgId)) throw new WasmdeployError(`tensor ${id} does not exist`);
  }

  /** A view of `numel` elements of a stored tensor, or of a package weight storage. */
  private elements(id: string, dtype: DType, offset: number, numel: number, who?: Requester) {
    const stored = this.#store.get(id);
    // Another interpreter's tensors are invisible: same answer as for an id that never existed.
    if (stored && who && stored.owner !== who.owner) throw new WasmdeployError(`tensor ${id} does not exist`);
    if (!stored && who) this.checkWeightAccess(id, who);
    if (stored) {
      const t = stored.tensor;
      if (t.dtype !== dtype) throw new WasmdeployError(`tensor ${id} is ${t.dtype}, read as ${dtype}`);
      if (offset + numel > t.size) throw new WasmdeployError(`read of ${numel} elements at ${offset} past the end of tensor ${id} (${t.size})`);
      return t.data.subarray(offset, offset + numel);
    }
    const bytes = this.weights(id);
    if (!bytes) throw new WasmdeployError(`tensor ${id} does not exist (released, or its interpreter was respawned)`);
    const item = dtypeInfo(dtype).itemSize;
    // Archive entries are not aligned for typed-array views; copy the range out.
    const range = bytes.slice(offset * item, (offset + numel) * item);
    return viewAs(dtype, range, 0, numel);
  }

  async close(): Promise<void> {
    this.#store.clear();
    this.#specs.clear();
    this.#registered.clear();
    if (this.#engine) await (await this.#engine).close();
  }
}

type RunPlace = "narrow" | "wide" | "inline";

/** The fastest run (ms) of one graph at each place it ran. */
interface Timing {
  narrow?: number;
  wide?: number;
  inline?: number;
  /** Runs at each place; the first compiled its session, so it is not timed. */
  runs: Record<RunPlace, number>;
  /** Lone runs placed by comparing wide and narrow. */
  lone: number;
}

interface RunRequest {
  /** Python's key for the spec; sent alone once the host holds the spec for this interpreter. */
  key?: string;
  spec?: GraphSpec;
  feeds: Record<string, [string, number]>;
}
