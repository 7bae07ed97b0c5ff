// The tensor engine: owns weight storages and runs GraphSpecs in ONNX Runtime, compiling each
// distinct graph structure once into a cached session.
//
// How weights enter a session. Measured on this machine (2 cores, Node 20, ORT 1.30, 1 thread),
// bench/engine/weights.bench.ts; RSS is what each extra session of the same graph adds, after GC:
//
//   ort-node                            initializers        external (in-memory)   inputs (fed per run)
//   model                     weights   run      RSS/sess   run      RSS/sess      run      RSS/sess
//   convnet 8x(conv3x3+BN+Relu) 18 MB   16.7 ms  64 MB      17.0 ms  51 MB         20.0 ms   7 MB
//   mlp1 4x MLP 512-2048, 1 row 32 MB    2.0 ms  71 MB       1.7 ms  66 MB          2.9 ms   5 MB
//   mlp64 the same, 64 rows     32 MB   13.9 ms  69 MB      14.1 ms  66 MB         21.2 ms   6 MB
//   small 20x(conv+BN+Relu)    0.2 MB   0.10 ms   5 MB      0.11 ms   5 MB         0.48 ms   5 MB
//   session creation (18-32 MB)         50-90 ms            36-67 ms               3-5 ms
//
//   ort-web (wasm, 1 thread): mlp1 1.3 ms as initializers vs 15.4 ms as inputs (it copies every
//   input into wasm memory on every run); convnet 75 ms vs 79 ms.
//
// Initializers win every run (ORT fuses Conv+BN and prepacks Conv/MatMul weights only for them,
// and there is no per-feed cost): 1.2-1.5x on big graphs, 5x on graphs of many small weights. But
// each session holds 2-3.5x the weight bytes, and sessions of the same weights at other input
// shapes multiply that. Fed as inputs, the one registered copy serves every session (ort-node
// wraps the JS buffer: no per-session copy, and mlp1's 2.9 ms leaves no room for a 32 MB one). External data is copied by ORT too (checked by zeroing
// the source after session creation) and saved little, so the engine does not use it.
//
// Policy "auto" (the default): bake weights in as initializers while the weight bytes baked into
// live sessions stay within initializerBudgetBytes; past it, new ort-node sessions take weights
// as inputs. ort-web always bakes (inputs cost it 12x on mlp1).
//
// Per call (bench/engine/run.bench.ts, x*2+1 on 4 floats): ort-node session.run 9.5-11.5 us,
// Engine.run 14-15 us (structuralKey 0.9 us of it); ort-web 10-13 us and 15-17 us. Session
// creation for a tiny graph: 0.5 ms ort-node, 0.9 ms ort-web; the first ort-web session of a
// process takes 240-260 ms (wasm compile), the first ort-node one 21-29 ms.

import { ClosedError } from "../errors.js";
import { Tensor } from "../tensor.js";
import type { TypedArray } from "./dtype.js";
import { dtypeInfo, shapeSize } from "./dtype.js";
import type { DType, GraphSpec } from "./graph.js";
import { defaultBackendName, loadBackend, type BackendName, type BackendSession, type EngineBackend } from "./backend.js";
import { buildModel } from "./onnx-builder.js";
import { SessionCache, type CacheStats } from "./session-cache.js";
import { StorageRegistry } from "./storage.js";
import { structuralKey } from "./structural-key.js";
import { checkOutputs, validateFeeds, validateGraph } from "./validate.js";
import { wrapOrtError } from "./ort-error.js";

/** How weights enter compiled sessions (see the measurements above). */
export type WeightPolicy = "auto" | "initializers" | "inputs";

export interface EngineOptions {
  /** Default: "ort-node" under Node.js, "ort-web" elsewhere. */
  backend?: BackendName;
  /** Compiled sessions kept (LRU). Default 256. */
  cacheEntries?: number;
  /** Threads per session (ort-node) or wasm threads (ort-web). Default 1. */
  threads?: number;
  /**
   * Threads of the sessions that `run(..., { wide: true })` uses (ort-node): a lone call on an
   * idle pool gets every core. Compiled lazily, beside the 1-thread session of the same graph.
   * Default: `threads` (wide runs use the ordinary sessions).
   */
  wideThreads?: number;
  /** Default "auto". */
  weights?: WeightPolicy;
  /** "auto": weight bytes that live sessions may bake in before new ones take weights as inputs. Default 512 MiB. */
  initializerBudgetBytes?: number;
}

export interface RunOptions {
  /** Run on the graph's wide session (all cores), compiling it on first use. */
  wide?: boolean;
  /**
   * For engines that run graphs on other threads (engine threads): run this one on the calling
   * thread, sparing two thread switches (a lone call's small graph). An Engine always does.
   */
  inline?: boolean;
}

export interface EngineStats extends CacheStats {
  storages: number;
  storageBytes: number;
  /** Sessions currently cached (including ones still compiling). */
  sessionsCached: number;
  /** Weight bytes copied into live sessions as initializers. */
  bakedWeightBytes: number;
  /** Live sessions made from a graph optimized apart, holding their weights once (SessionOptions.preoptimize). */
  preoptimizedSessions: number;
}

interface CompiledGraph {
  session: BackendSession;
  outputNames: string[];
  /** Views into shared storages, fed on every run when weights are inputs; else undefined. */
  weightFeeds: Record<string, Tensor> | undefined;
  release(): Promise<void>;
}

/**
 * Sessions baking at least this many weight bytes are made from their graph optimized apart
 * (SessionOptions.preoptimize), which holds the weights once instead of twice; below it the
 * child process (0.1-0.3 s more to compile) costs more than the copy.
 */
const PREOPTIMIZE_MIN_BYTES = 4 * 2 ** 20;

export class Engine {
  readonly #backend: EngineBackend;
  readonly #storages = new StorageRegistry();
  readonly #cache: SessionCache<CompiledGraph>;
  readonly #policy: WeightPolicy;
  readonly #budget: number;
  #bakedBytes = 0;
  #preoptimizedSessions = 0;
  #closed = false;

  private constructor(backend: EngineBackend, opts: EngineOptions) {
    this.#backend = backend;
    this.#cache = new SessionCache(opts.cacheEntries ?? 256);
    this.#policy = opts.weights ?? "auto";
    this.#budget = opts.initializerBudgetBytes ?? 512 * 2 ** 20;
  }

  static async create(opts: EngineOptions = {}): Promise<Engine> {
    const name = opts.backend ?? defaultBackendName();
    const backend = await loadBackend(name, { threads: opts.threads ?? 1, wideThreads: opts.wideThreads });
    return new Engine(backend, opts);
  }

  get backend(): BackendName {
    return this.#backend.name;
  }

  /**
   * Registers a weight storage under `id`: raw bytes, or a typed array of `dtype`'s type. An
   * array spanning a whole ArrayBuffer is adopted without a copy (do not modify it afterwards);
   * other views are copied. Idempotent: a storage is registered once per process and shared by
   * every graph that reads it; registering the same id again keeps the first copy.
   * `adoptShared` adopts a view of read-only shared memory too (weights shared by engine threads).
   */
  registerStorage(id: string, dtype: DType, data: TypedArray | Uint8Array, opts: { adoptShared?: boolean } = {}): void {
    this.#assertOpen();
    this.#storages.register(id, dtype, data, opts);
  }

  hasStorage(id: string): boolean {
    return this.#storages.has(id);
  }

  /** Drops the compiled sessions (1-thread and wide) of the graph with structural key `key`. */
  forget(key: string): void {
    this.#cache.evict(key);
    this.#cache.evict(this.#sessionKey(key, { wide: true }));
  }

  /**
   * Whether graph `key`'s session for `opts` is cached, compiled or compiling: a run now would
   * not compile it (callers check before a run to learn whether the run compiled).
   */
  hasSession(key: string, opts: RunOptions = {}): boolean {
    return this.#cache.has(this.#sessionKey(key, opts));
  }

  /** Whether `opts` asks for the wide session and this backend has one apart from the 1-thread one. */
  #widens(opts: RunOptions): boolean {
    return opts.wide === true && this.#backend.widens === true;
  }

  /** The session cache's key for graph `key` under `opts`. */
  #sessionKey(key: string, opts: RunOptions): string {
    return this.#widens(opts) ? key + "\nwide" : key;
  }

  /**
   * The storages a run of `graph` would need registered and are not: none when its session is
   * cached (compiled or compiling), since a baked session reads no storage.
   */
  missingStorages(graph: GraphSpec, key: string, opts: RunOptions = {}): string[] {
    if (this.hasSession(key, opts)) return [];
    return [...new Set(graph.weights.map((w) => w.storage))].filter((id) => !this.#storages.has(id));
  }

  /** Whether graph `key`'s cached session has every weight baked in (it reads no storage when it runs). */
  sessionBakesAll(key: string, opts: RunOptions = {}): boolean {
    const c = this.#cache.peek(this.#sessionKey(key, opts));
    return c !== undefined && c.weightFeeds === undefined;
  }

  /**
   * Forgets a storage's bytes but keeps the sessions that baked them in; a later compile that
   * reads it needs it registered again.
   */
  dropStorageBytes(id: string): void {
    this.#storages.release(id);
  }

  /** Forgets a storage, and evicts the compiled sessions that read it (its bytes may be gone already: dropStorageBytes). */
  releaseStorage(id: string): void {
    this.#storages.release(id);
    this.#cache.evictTagged(id);
  }

  /**
   * Runs `graph` on `feeds` (one Tensor per graph input) and returns its outputs by name.
   * `key`, when given, must be structuralKey(graph) (callers that run one unchanging graph
   * object many times compute it once). `wide` runs on the graph's session with wideThreads
   * (see EngineOptions); the caller decides when the machine is idle enough for that.
   */
  async run(graph: GraphSpec, feeds: Record<string, Tensor>, key?: string, opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    this.#assertOpen();
    validateFeeds(graph, feeds);
    key ??= structuralKey(graph);
    const wide = this.#widens(opts);
    return this.#cache.use(
      this.#sessionKey(key, opts),
      () => this.#compile(graph, wide),
      async (c) => {
        const all = c.weightFeeds ? { ...feeds, ...c.weightFeeds } : feeds;
        let out: Record<string, Tensor>;
        try {
          out = await c.session.run(all, c.outputNames);
        } catch (e) {
          throw wrapOrtError(e, graph, "run");
        }
        checkOutputs(graph, out);
        return out;
      },
      () => graph.weights.map((w) => w.storage),
    );
  }

  /** Compiles graph `key`'s session (`wide` or 1-thread) without running it, unless it is cached. */
  async compile(graph: GraphSpec, key: string, opts: RunOptions = {}): Promise<void> {
    this.#assertOpen();
    await this.#cache.use(
      this.#sessionKey(key, opts),
      () => this.#compile(graph, this.#widens(opts)),
      async () => {},
      () => graph.weights.map((w) => w.storage),
    );
  }

  stats(): EngineStats {
    return {
      ...this.#cache.stats,
      storages: this.#storages.count,
      storageBytes: this.#storages.byteLength,
      sessionsCached: this.#cache.size,
      bakedWeightBytes: this.#bakedBytes,
      preoptimizedSessions: this.#preoptimizedSessions,
    };
  }

  /** Releases every session and storage. Runs in flight finish first. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#cache.clear();
    this.#storages.clear();
  }

  async #compile(graph: GraphSpec, wide: boolean): Promise<CompiledGraph> {
    validateGraph(graph);
    let weightBytes = 0;
    for (const w of graph.weights) weightBytes += shapeSize(w.shape) * dtypeInfo(w.dtype).itemSize;
    const bake =
      this.#policy === "initializers" ||
      (this.#policy === "auto" && (this.#backend.name === "ort-web" || this.#bakedBytes + weightBytes <= this.#budget));
    const baked = bake ? weightBytes : 0;
    const built = buildModel(graph, { weights: bake ? "initializers" : "inputs", locate: (w) => this.#storages.locate(w) });
    let weightFeeds: Record<string, Tensor> | undefined;
    if (built.weightInputs.length > 0) {
      weightFeeds = {};
      for (const w of built.weightInputs) weightFeeds[w.name] = new Tensor(w.dtype, this.#storages.view(w), w.shape);
    }
    this.#bakedBytes += baked;
    let session: BackendSession;
    try {
      session = await this.#backend.createSession(built.bytes, { ...(wide ? { wide } : {}), ...(baked >= PREOPTIMIZE_MIN_BYTES ? { preoptimize: true } : {}) });
    } catch (e) {
      this.#bakedBytes -= baked;
      throw wrapOrtError(e, graph, "compile");
    }
    const preoptimized = session.preoptimized === true;
    if (preoptimized) this.#preoptimizedSessions++;
    return {
      session,
      outputNames: graph.outputs.map((o) => o.name),
      weightFeeds,
      release: async () => {
        this.#bakedBytes -= baked;
        if (preoptimized) this.#preoptimizedSessions--;
        await session.release();
      },
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError("the engine was used after close()");
  }
}
