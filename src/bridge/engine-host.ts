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
import { dtypeInfo, sameShape, shapeSize, viewAs } from "../engine/dtype.js";
import { admitGraph } from "../engine/admission/admit.js";
import { DEFAULT_ADMISSION_LIMITS, type AdmissionLimits } from "../engine/admission/limits.js";
import { EngineMemoryError } from "../engine/errors.js";
import { WasmdeployError } from "../errors.js";
import type { BridgeKind, WireMessage } from "../protocol.js";
import { engineTensor, Tensor } from "../tensor.js";
import { type BridgeLimits, DEFAULT_BRIDGE_LIMITS, type Feeds, parseBridgeBody } from "./requests.js";
import { DEFAULT_TENANT_LIMITS, TenantLedger, type TenantLimits } from "./tenant-ledger.js";

/**
 * Supplies the bytes of a package storage, given its id "<package id>/<key>"; `reloadable`, for
 * a storage whose bytes can be let go and read again (a package read from a file).
 */
export type WeightSource = ((id: string) => Uint8Array | undefined) & { reloadable?: (id: string) => ReloadableWeight | undefined };

/**
 * A weight storage whose bytes need not stay in memory: once the engine has baked them into the
 * one session of a graph that reads them, `evict` lets them go, and `reload` reads them again
 * (from the package file, checked against its CRC-32) when a compile or a read needs them.
 */
export interface ReloadableWeight {
  reload(): Uint8Array;
  /** Let the bytes go (a package lets its other storages go with them: they share memory). */
  evict(): void;
}

interface StoredTensor {
  tensor: Tensor;
  /** "<interpreter index>:<generation>", or "host" for call inputs the host owns. */
  owner: string;
}

/** Who is asking: the interpreter generation, its tenant, and which packages' weights it may read. */
export interface Requester {
  owner: string;
  /**
   * Whose share the specs and compiled graphs it causes count against (the package a sandboxed
   * interpreter serves). Default: the owner.
   */
  tenant?: string;
  /** Bytes of engine tensors this owner may hold across calls (engineMemoryHeldMb). Default: no bound. */
  maxHeldBytes?: number;
  /** Whether the requester may use the weights of package `pkgId` (it has that package loaded). */
  mayUseWeights(pkgId: string): boolean;
  /**
   * Account `bytes` of engine memory to the call now running; throws when that passes the
   * call's budget (engineMemoryPerCallMb), before anything is allocated.
   */
  charge(bytes: number): void;
  /**
   * Check that `bytes` more, held only for a moment (a run's intermediates at its peak), fit in
   * what is left of the call's budget; throws like charge, counts nothing.
   */
  reserve(bytes: number): void;
}

/** Bounds the engine host enforces, whatever the interpreter asks (see each type's docs). */
export interface EngineHostLimits {
  bridge?: BridgeLimits;
  admission?: AdmissionLimits;
  tenant?: TenantLimits;
}

export interface BridgeRequest {
  kind: BridgeKind;
  json: string;
  buffers: Uint8Array[];
}

/** A spec an interpreter sent once, admitted, kept so later runs of it send only its key. */
interface CachedSpec {
  /** The admitted graph (integer division rewritten). */
  spec: GraphSpec;
  /** The engine's structuralKey of `spec`, computed once here. */
  structural: string;
  /** Bytes of the graph's outputs (what a run charges to its call). */
  outBytes: number;
  /** Bytes a run holds at its peak (what must fit in the call's budget while it runs). */
  peakBytes: number;
  /** The compiled graph's estimated size: its constants and the weights it bakes in. */
  sessionBytes: number;
  /** Bytes of the weights it reads. */
  weightBytes: number;
  /** Characters of the spec's JSON (its share of the tenant's spec cache). */
  chars: number;
  /** The packages whose weights the graph reads, each with one of its storage ids (for errors). */
  weightPackages: [pkgId: string, storage: string][];
}

/** Timed runs a place needs before a lone run's placement compares it. */
const SAMPLES = 3;

/**
 * Once the places are timed, the place that lost is re-timed after this many lone runs, and
 * after twice as many each time it loses again, up to EXPLORE_MAX; whenever the lead changes
 * hands, from EXPLORE_MIN again. The first re-timing comes soon after a change, since a leader
 * can lose only for a moment (another process's work starting, a cold first run after a pause)
 * and a graph sent to the slower place stays there until then; later ones come rarely, since a
 * burst at the slower place is 4 slow runs (re-timed every 64th run, mobilenet_v3_small spent
 * 6% of its lone runs at 1.6 ms instead of 1.2)...
 */
const EXPLORE_MIN = 8;
const EXPLORE_MAX = 512;
/**
 * ...in a burst of this many runs in a row, the first not counted: one run at a place that has
 * not run for a while is cold (mobilenet_v3_small's wide session, 1.3 ms warm, took 2.1-3.7 ms
 * as the one run in 32 that re-timed it), and judged by such runs a place that lost once never
 * wins again.
 */
const EXPLORE_BURST = 4;
/** Lone runs inline only for graphs whose estimated peak memory is at most this. */
const LONE_INLINE_MAX_PEAK_BYTES = 64 * 2 ** 20;
/** Timed runs per place that say what a run costs there now (their median). */
const RECENT = 5;
/**
 * A place takes the lead only from a leader at least this much slower. Without it, two places
 * within a few percent of each other traded the lead on noise, and each change re-timed the
 * loser soon again: shufflenet_v2 on a 2-core VM, 1-thread inline 5.7 ms against wide 4.7 ms,
 * changed hands about 60 times in 1700 lone calls, half of them on recent medians under 5%
 * apart, and ran 24% of them inline. With the margin, the small convnets' lone calls took
 * 1.112x onnxruntime-node's time on every core against 1.134x (geometric mean of three,
 * bench/experiments/lead-margin.ts); a place that is 5% faster may stay second until a
 * re-timing shows it faster by more.
 */
const LEAD_MARGIN = 0.05;
/**
 * A big graph's one session moves to the host's thread after this many lone runs in a row on its
 * engine thread (see #sharedOnCaller)...
 */
export const MOVE_TO_CALLER_AFTER = 16;
/**
 * ...and not sooner than this after it last moved back: each move is a compile (about a second
 * of CPU for resnet18), so traffic alternating between lone and busy moves it at most this often.
 */
export const MOVE_TO_CALLER_GAP_MS = 30_000;

function median(xs: readonly number[]): number {
  if (xs.length === 0) return Infinity;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Timings kept, by graph (cleared when full). */
const SPEC_CACHE_MAX = 512;

/** Graphs reading at least this many weight bytes are compiled once per process (see #execute). */
export const SHARED_SESSION_MIN_WEIGHT_BYTES = 16 * 2 ** 20;

/**
 * A compiled session's size against its graph: ONNX Runtime copies baked-in weights and
 * pre-packs MatMul/Conv weights again (src/engine/engine.ts measured 2-3.5x the weight bytes).
 */
const SESSION_WEIGHT_FACTOR = 3;

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
  /**
   * `adoptShared`: bytes in shared memory nobody writes (a detached package's storages) are
   * adopted, not copied. `reloadable`: the engine may let the bytes go after baking them.
   */
  registerStorage(id: string, dtype: DType, data: Uint8Array, opts?: { adoptShared?: boolean; reloadable?: ReloadableWeight }): void;
  /** Forget a storage and every compiled session that reads it. */
  releaseStorage(id: string): void;
  /** Drop the compiled sessions of graph `key` (its tenant's share is full). */
  forget?(key: string): void;
  /**
   * Engines with engine threads: compile graph `key`'s wide session on the calling thread, call
   * `moved`, then drop the engine threads' sessions of it (a big graph's one session moving here;
   * its runs keep going to the engine thread until `moved`).
   */
  moveToCaller?(graph: GraphSpec, key: string, moved: () => void): Promise<void>;
  /** Drop graph `key`'s sessions on the calling thread (its runs go back to an engine thread). */
  forgetOnCaller?(key: string): void;
  /** Weight bytes in memory, when the engine can let some go (see ReloadableWeight). */
  readonly weightBytes?: number;
  /** `wide`: run on all cores (see EngineHost: a lone call on an idle pool). */
  run(graph: GraphSpec, feeds: Record<string, Tensor>, key: string, opts?: RunMode): Promise<Record<string, Tensor>>;
  close(): Promise<void>;
}

/** A run's feeds: stored tensors by [id, offset] (what Python sends), or the host's own tensors (host replay). */
export type HostFeeds = Record<string, Feeds[string] | Tensor>;

export class EngineHost {
  #engine?: Promise<EngineLike>;
  /** The engine once made: runs use it without awaiting a settled promise (a microtask turn each). */
  #started?: EngineLike;
  readonly #store = new Map<string, StoredTensor>();
  /** Bytes of stored tensors per owner. */
  readonly #held = new Map<string, number>();
  // "<owner>\n<key>" -> spec. Keyed by owner: a key names only a spec that this interpreter
  // generation sent itself, so one interpreter can never run another's cached graph.
  readonly #specs = new Map<string, CachedSpec & { tenant: string }>();
  /** Per requester (one per interpreter generation): the spec key runCached ran last, and its cache key. */
  readonly #lastRunKey = new WeakMap<Requester, { key: string; cacheKey: string }>();
  readonly #ledger: TenantLedger;
  readonly #limits: { bridge: BridgeLimits; admission: AdmissionLimits };
  /** Weight storages registered in the engine (id -> bytes), so a package's can be released with it. */
  readonly #registered = new Map<string, number>();
  #next = 1;
  /** Engine runs in flight, from every interpreter. */
  #running = 0;
  /** Per structural key: fastest run (ms) on 1-thread sessions, wide ones, inline. */
  readonly #timing = new Map<string, Timing>();
  /**
   * Bumped whenever weight storages leave the engine. A graph whose weights were all found
   * registered at the current value needs no look at each of them again (mobilenet_v3_small
   * reads 140 storages: the look cost 10-20 µs of a 1.2 ms call).
   */
  #storageEpoch = 0;
  readonly #weightsPresent = new WeakMap<GraphSpec, number>();

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
     * Above it, a lone run takes whichever of wide, narrow and (below loneInlineMaxMs) inline
     * has run fastest lately (each place timed SAMPLES times first).
     */
    private readonly wideMinMs = 1,
    /**
     * Graphs whose 1-thread runs take less than this run inline even on a busy pool: posting
     * them to an engine thread and back costs the host thread more than running them (mlp
     * throughput at 2 interpreters: 11.7k calls/s through engine threads, 26k inline).
     */
    private readonly inlineMaxMs = 0.2,
    limits: EngineHostLimits = {},
    /**
     * Lone runs of graphs whose 1-thread runs take less than this may also run inline, on this
     * thread, when that is fastest: the engine-thread hop (copying the feeds out and the thread's
     * wake-up) cost mobilenet_v3_small 0.2-0.5 ms of a 2 ms run, and squeezenet, googlenet,
     * resnet18 and ViT-tiny (21-25 ms wide on a 2-core VM) 2-11% of theirs. A lone run has no
     * other run to hold up, and onnxruntime-node's own run() blocks its caller's thread for every
     * run; what the bound caps is the wait of a call that arrives at an idle pool just after one
     * began (this thread dispatches it when the run ends).
     */
    private readonly loneInlineMaxMs = 50,
  ) {
    this.#ledger = new TenantLedger(limits.tenant ?? DEFAULT_TENANT_LIMITS);
    this.#limits = { bridge: limits.bridge ?? DEFAULT_BRIDGE_LIMITS, admission: limits.admission ?? DEFAULT_ADMISSION_LIMITS };
  }

  /** What a tenant keeps here (specs, compiled graphs), for stats and tests. */
  tenantUsage(tenant: string) {
    return this.#ledger.usage(tenant);
  }

  /** Bytes of engine tensors `owner` holds. */
  heldBy(owner: string): number {
    return this.#held.get(owner) ?? 0;
  }

  engine(): Promise<EngineLike> {
    this.#engine ??= this.createEngine().then((e) => (this.#started = e));
    return this.#engine;
  }

  /**
   * Forget package `pkgId`'s weights in the engine (every engine thread), the sessions
   * compiled over them, and the cached specs that read them.
   */
  async releasePackage(pkgId: string): Promise<void> {
    const prefix = `${pkgId}/`;
    for (const [k, c] of this.#specs) {
      if (!c.spec.weights.some((w) => w.storage.startsWith(prefix))) continue;
      this.#dropSpec(k);
      this.#ledger.dropSession(c.structural);
    }
    if (!this.#engine) return;
    const engine = await this.#engine;
    this.#storageEpoch++;
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
    this.#hold(owner, tensor.data.byteLength);
    return id;
  }

  #hold(owner: string, bytes: number): void {
    this.#held.set(owner, (this.#held.get(owner) ?? 0) + bytes);
  }

  #unstore(id: string, t: StoredTensor): void {
    this.#store.delete(id);
    const left = (this.#held.get(t.owner) ?? 0) - t.tensor.data.byteLength;
    if (left > 0) this.#held.set(t.owner, left);
    else this.#held.delete(t.owner);
  }

  /** Refuse before allocating when `bytes` more would take `who` past what it may hold. */
  #checkHeld(who: Requester, bytes: number): void {
    const max = who.maxHeldBytes;
    if (max === undefined) return;
    const held = this.heldBy(who.owner);
    if (held + bytes > max) {
      throw new EngineMemoryError(
        `engine memory held: this interpreter holds ${mib(held)} of engine tensors across calls and asked for ${mib(bytes)} more, ` +
          `over its ${mib(max)} limit (engineMemoryHeldMb); release tensors it keeps (del them) or raise the limit`,
      );
    }
  }

  /** A copy of a stored tensor's elements [offset, offset + numel) under `shape` (as `who` may see them). */
  take(id: string, dtype: DType, offset: number, shape: number[], who?: Requester): Tensor {
    const data = this.elements(id, dtype, offset, shapeSize(shape), who);
    return new Tensor(dtype, data.slice(), [...shape]);
  }

  /** Hand tensors put for a call to the interpreter that runs it. */
  adopt(ids: Iterable<string>, owner: string): void {
    for (const id of ids) {
      const t = this.#store.get(id);
      if (!t) continue;
      this.#unstore(id, t);
      t.owner = owner;
      this.#store.set(id, t);
      this.#hold(owner, t.tensor.data.byteLength);
    }
  }

  /** Release tensors; with `owner`, only those it owns (an interpreter cannot free another's). */
  release(ids: Iterable<string>, owner?: string): void {
    for (const id of ids) {
      const t = this.#store.get(id);
      if (t && (owner === undefined || t.owner === owner)) this.#unstore(id, t);
    }
  }

  /** Drop every tensor an interpreter owned (it died or was respawned). */
  releaseOwner(owner: string): void {
    for (const [id, t] of this.#store) if (t.owner === owner) this.#unstore(id, t);
    const prefix = owner + "\n";
    for (const k of this.#specs.keys()) if (k.startsWith(prefix)) this.#dropSpec(k);
  }

  #dropSpec(cacheKey: string): void {
    const c = this.#specs.get(cacheKey);
    if (!c) return;
    this.#specs.delete(cacheKey);
    this.#ledger.dropSpec(c.tenant, cacheKey);
  }

  get cachedSpecs(): number {
    return this.#specs.size;
  }

  get storedTensors(): number {
    return this.#store.size;
  }

  /**
   * Bytes the engine holds: weight storages registered once per process, live tensors, and the
   * compiled graphs (their count, and the bytes estimated for them: ONNX Runtime copies the
   * weights a session bakes in and pre-packs some again; it reports no sizes of its own).
   */
  memory(): { weights: number; tensors: number; compiledGraphs: number; compiledGraphBytes: number } {
    let weights = this.#started?.weightBytes;
    if (weights === undefined) {
      weights = 0;
      for (const b of this.#registered.values()) weights += b;
    }
    let tensors = 0;
    for (const t of this.#store.values()) tensors += t.tensor.data.byteLength;
    return { weights, tensors, ...this.#ledger.sessionTotals() };
  }

  async handle(req: BridgeRequest, who: Requester): Promise<WireMessage> {
    const { owner } = who;
    const body = parseBridgeBody(req.kind, req.json, req.buffers, this.#limits.bridge);
    if (body.release) this.release(body.release, owner);
    switch (body.kind) {
      case "run":
        return this.run(body, req.json.length, who);
      case "read": {
        const { storage, dtype, offset, numel } = body;
        // The reply is a copy: it counts against the call while it exists.
        who.reserve(numel * dtypeInfo(dtype).itemSize);
        const data = this.elements(storage, dtype, offset, numel, who);
        return { json: "{}", buffers: [new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()] };
      }
      case "write": {
        const { dtype, numel } = body;
        const bytes = req.buffers[0]!;
        const info = dtypeInfo(dtype);
        if (bytes.byteLength !== numel * info.itemSize) {
          throw new WasmdeployError(`bridge write: ${bytes.byteLength} bytes is not ${numel} ${dtype} elements`);
        }
        this.#checkHeld(who, bytes.byteLength);
        who.charge(bytes.byteLength);
        const data = viewAs(dtype, bytes.slice(), 0, numel);
        return { json: JSON.stringify({ storage: this.put(new Tensor(dtype, data, [numel]), owner) }), buffers: [] };
      }
      case "release":
        return { json: "{}", buffers: [] };
    }
  }

  private async run(req: RunRequest, chars: number, who: Requester): Promise<WireMessage> {
    const { owner } = who;
    const tenant = who.tenant ?? owner;
    let cached: CachedSpec | undefined;
    let cacheKey: string | undefined;
    if (typeof req.key === "string") {
      cacheKey = owner + "\n" + req.key;
      if (req.spec === undefined) {
        cached = this.#specs.get(cacheKey);
        // Evicted (or never sent by this interpreter): ask Python for the full spec.
        if (!cached) return { json: '{"resend":true}', buffers: [] };
      }
    }
    const entry = cached ?? this.#admit(req.spec, chars);
    const out = await this.#execute(entry, req.feeds, who);
    if (cacheKey !== undefined) {
      // Kept only after a run succeeded. LRU per tenant: a tenant filling its share evicts its own.
      this.#specs.delete(cacheKey);
      this.#specs.set(cacheKey, { ...entry, tenant });
      for (const k of this.#ledger.useSpec(tenant, cacheKey, entry.chars)) if (k !== cacheKey) this.#dropSpec(k);
    }
    const ids = entry.spec.outputs.map((o) => this.put(out[o.name]!, owner));
    return { json: JSON.stringify({ storages: ids }), buffers: [] };
  }

  /** Admission (engine/admission): a spec from an interpreter is hostile until it passes. */
  #admit(raw: unknown, chars: number): CachedSpec {
    const admitted = admitGraph(raw, this.#limits.admission);
    const spec = admitted.spec;
    let weightBytes = 0;
    const packages = new Map<string, string>();
    for (const w of spec.weights) {
      weightBytes += shapeSize(w.shape) * dtypeInfo(w.dtype).itemSize;
      const pkgId = w.storage.slice(0, w.storage.indexOf("/"));
      if (!packages.has(pkgId)) packages.set(pkgId, w.storage);
    }
    return {
      spec,
      structural: structuralKey(spec),
      outBytes: admitted.outputBytes,
      peakBytes: admitted.peakBytes,
      sessionBytes: admitted.constantBytes + SESSION_WEIGHT_FACTOR * weightBytes,
      weightBytes,
      chars,
      weightPackages: [...packages],
    };
  }

  /**
   * Run a graph this interpreter generation sent before (by its key) for the host itself (host
   * replay): the outputs in the graph's order, not stored; undefined when the spec is no longer
   * cached. Placement (inline / wide / engine threads), charging and access checks as for a run
   * Python asks for.
   */
  async runCached(key: string, feeds: HostFeeds, who: Requester): Promise<Tensor[] | undefined> {
    // The key this requester ran last (repeat calls of one model): the same string, whose hash
    // the Maps below have already computed, not a new one to hash.
    let memo = this.#lastRunKey.get(who);
    if (memo?.key !== key) this.#lastRunKey.set(who, (memo = { key, cacheKey: who.owner + "\n" + key }));
    const cacheKey = memo.cacheKey;
    const cached = this.#specs.get(cacheKey);
    if (!cached) return undefined;
    this.#ledger.useSpec(cached.tenant, cacheKey, cached.chars);
    const out = await this.#execute(cached, feeds, who);
    return cached.spec.outputs.map((o) => out[o.name]!);
  }

  async #execute(entry: CachedSpec, reqFeeds: HostFeeds, who: Requester): Promise<Record<string, Tensor>> {
    const { spec: graph, structural } = entry;
    // Refuse before ONNX Runtime allocates: the run's peak must fit in what is left of the
    // call's budget, and its results (which the call and the interpreter keep) must fit both.
    who.reserve(entry.peakBytes);
    this.#checkHeld(who, entry.outBytes);
    who.charge(entry.outBytes);
    const engine = this.#started ?? (await this.engine());
    // The compiled graph counts against its tenant's share; its least recently used graphs go.
    for (const k of this.#ledger.useSession(who.tenant ?? who.owner, structural, entry.sessionBytes)) engine.forget?.(k);
    // Access is per package: checked once for each package the graph reads, not per weight.
    for (const [pkgId, storage] of entry.weightPackages) if (!who.mayUseWeights(pkgId)) throw new WasmdeployError(`tensor ${storage} does not exist`);
    if (this.#weightsPresent.get(graph) !== this.#storageEpoch) {
      for (const w of graph.weights) {
        if (!engine.hasStorage(w.storage)) {
          const bytes = this.weights(w.storage);
          if (!bytes) throw new WasmdeployError(`graph reads weight storage ${w.storage}, which no loaded package holds`);
          const reloadable = this.weights.reloadable?.(w.storage);
          engine.registerStorage(w.storage, w.dtype, bytes, reloadable ? { adoptShared: true, reloadable } : { adoptShared: true });
          this.#registered.set(w.storage, bytes.byteLength);
        }
      }
      this.#weightsPresent.set(graph, this.#storageEpoch);
    }
    const feeds: Record<string, Tensor> = {};
    for (const input of graph.inputs) {
      const feed = reqFeeds[input.name];
      const numel = shapeSize(input.shape);
      if (feed instanceof Tensor) {
        // A host replay's call argument, read in place as elements() reads a stored one (as is
        // when its shape is the input's, the usual case).
        if (feed.dtype !== input.dtype || feed.size < numel) {
          throw new WasmdeployError(`graph input ${input.name} is ${numel} ${input.dtype} elements; its argument is ${feed.size} ${feed.dtype}`);
        }
        feeds[input.name] = feed.size === numel && sameShape(feed.shape, input.shape) ? feed : engineTensor(input.dtype, feed.data.subarray(0, numel), input.shape);
        continue;
      }
      const [id, offset] = feed ?? [];
      if (id === undefined) throw new WasmdeployError(`graph input ${input.name} has no feed`);
      // elements() gives exactly shapeSize(shape) elements of the input's dtype, or throws.
      feeds[input.name] = engineTensor(input.dtype, this.elements(id, input.dtype, offset ?? 0, numel, who), input.shape);
    }
    let timing = this.#timing.get(structural);
    if (!timing) {
      if (this.#timing.size >= SPEC_CACHE_MAX) this.#timing.clear();
      this.#timing.set(structural, (timing = { runs: { narrow: 0, wide: 0, inline: 0 }, recent: { narrow: [], wide: [], inline: [] }, sinceExplore: 0, exploreGap: EXPLORE_MIN, bursts: 0 }));
    }
    const lone = this.#running === 0 && this.poolLoad() <= 1;
    const tiny = timing.runs.narrow > SAMPLES && timing.narrow! < this.inlineMaxMs;
    // A graph with large weights keeps one compiled session per process, since each session holds
    // its own copy of them (about 100 MB for resnet18): all its runs go to its wide session, on one
    // engine thread, using every core. Busy, its runs queue there instead of each engine thread
    // compiling a copy; every other graph is placed as below.
    // Where that session lives follows the runs: lone ones run it on this thread (#sharedOnCaller).
    const shared = entry.weightBytes >= SHARED_SESSION_MIN_WEIGHT_BYTES;
    const mode: RunPlace = shared ? "wide" : lone ? this.#loneMode(timing, entry.peakBytes) : tiny ? "inline" : "narrow";
    // A lone wide run of a graph small enough to run inline runs on this thread too (the hop to
    // an engine thread and back is 0.2-0.5 ms of mobilenet_v3_small's 1.5 ms wide run).
    const runMode: RunMode | undefined = shared
      ? this.#sharedOnCaller(timing, lone, entry.peakBytes, engine, graph, structural)
        ? { wide: true, inline: true }
        : { wide: true }
      : mode === "narrow"
        ? undefined
        : mode === "wide" && this.#inlineOk(timing, entry.peakBytes)
          ? { wide: true, inline: true }
          : { [mode]: true };
    this.#running++;
    let out: Record<string, Tensor>;
    const t0 = performance.now();
    try {
      out = await engine.run(graph, feeds, structural, runMode);
    } finally {
      this.#running--;
    }
    const ms = performance.now() - t0;
    // A place's first run compiled its session: not a run time. The fastest run is kept (what
    // the graph needs: other processes only ever add to a run) and the last few (what a run
    // costs at that place under the machine's present load).
    if (timing.runs[mode]++ > 0 && !timing.cold) {
      timing[mode] = Math.min(timing[mode] ?? Infinity, ms);
      const recent = timing.recent[mode];
      if (recent.push(ms) > RECENT) recent.shift();
    }
    timing.cold = false;
    return out;
  }

  /**
   * Where a lone run of a graph goes. Each place is tried until it has SAMPLES timed runs
   * (one slow run on a busy machine must not decide): 1-thread first, then inline if that was
   * under wideMinMs; else wide, and inline too for graphs under loneInlineMaxMs; then whichever
   * of them has run fastest lately.
   */
  #loneMode(t: Timing, peakBytes: number): RunPlace {
    if (t.runs.narrow <= SAMPLES) return "narrow";
    if (t.narrow! < this.wideMinMs) return "inline";
    if (t.runs.wide <= SAMPLES) return "wide";
    // A small graph first timed during a burst of other work looks big: once a wide run shows
    // it is under wideMinMs after all, it runs inline (else it would stay wide for good).
    if (t.wide! < this.wideMinMs) return "inline";
    // A graph that may run inline has no use for 1 thread on an engine thread when alone: inline
    // is the same run without the hop there and back.
    const places: RunPlace[] = this.#inlineOk(t, peakBytes) ? ["wide", "inline"] : ["narrow", "wide"];
    for (const p of places) if (t.runs[p] <= SAMPLES) return p;
    let retimed: RunPlace | undefined;
    if (t.burst) {
      if (t.burst.left > 0) {
        t.burst.left--;
        return t.burst.place;
      }
      retimed = t.burst.place;
      t.burst = undefined;
    }
    // By their recent runs, not their fastest ever: two threads can lose to one whenever another
    // process holds a core, and a fastest time from a moment the machine was free would keep a
    // graph wide for good (mobilenet_v3_small under another job: 2.7 ms wide against 2.2 ms
    // 1-thread, wide chosen by a 1.4 ms best).
    const typical = new Map(places.map((p) => [p, median(t.recent[p])]));
    places.sort((a, b) => typical.get(a)! - typical.get(b)!);
    // The leader keeps the lead unless another place is faster by more than LEAD_MARGIN.
    const leader = t.leader !== undefined && places.includes(t.leader) ? t.leader : undefined;
    if (leader && typical.get(places[0]!)! >= typical.get(leader)! * (1 - LEAD_MARGIN)) places.unshift(...places.splice(places.indexOf(leader), 1));
    if (places[0] !== t.leader) {
      t.leader = places[0];
      t.exploreGap = EXPLORE_MIN;
      t.sinceExplore = 0;
    } else if (retimed) t.exploreGap = Math.min(2 * t.exploreGap, EXPLORE_MAX);
    // Every exploreGap-th lone run starts a burst at one of the others, in turn: a place timed
    // during a burst of other work keeps slow recent times, and without new ones would lose for good.
    if (++t.sinceExplore >= t.exploreGap) {
      t.sinceExplore = 0;
      const place = places[1 + (t.bursts++ % (places.length - 1))]!;
      t.burst = { place, left: EXPLORE_BURST - 1 };
      t.cold = true;
      return place;
    }
    return places[0]!;
  }

  /**
   * Whether a big graph's one session runs on this thread. It starts on an engine thread (engine
   * thread 0, where its wide runs go), and moves here once MOVE_TO_CALLER_AFTER runs in a row were
   * lone, if a lone run may block this thread that long (#inlineOk's bounds, on its wide time):
   * a lone run here skips the hop to the engine thread and back, two thread wake-ups that cost
   * 0.4-0.6 ms of resnet18's 11 ms on a 2-core VM, where an idle core wakes slowly. The session
   * is compiled here before the engine thread's is dropped, so no run waits for the move. The
   * first run that is not lone sends it back at once (compiled again on the engine thread, by that
   * run): a busy pool needs this thread for every other call, and the process keeps one session.
   */
  #sharedOnCaller(t: Timing, lone: boolean, peakBytes: number, engine: EngineLike, graph: GraphSpec, key: string): boolean {
    if (t.onCaller) {
      if (lone) return true;
      t.onCaller = false;
      t.loneStreak = 0;
      t.movedBackAt = performance.now();
      engine.forgetOnCaller?.(key);
      return false;
    }
    const may = lone && engine.moveToCaller && !t.moveFailed && t.runs.wide > SAMPLES && t.wide! < this.loneInlineMaxMs && peakBytes <= LONE_INLINE_MAX_PEAK_BYTES;
    if (!may) {
      t.loneStreak = 0;
      return false;
    }
    t.loneStreak = (t.loneStreak ?? 0) + 1;
    if (t.loneStreak < MOVE_TO_CALLER_AFTER || t.moving || performance.now() - (t.movedBackAt ?? -Infinity) < MOVE_TO_CALLER_GAP_MS) return false;
    t.moving = true;
    engine.moveToCaller!(graph, key, () => (t.onCaller = true)).then(
      () => {
        t.moving = false;
      },
      () => {
        // Compiled on the engine thread already; a graph this thread cannot compile stays there.
        t.moving = false;
        t.moveFailed = true;
      },
    );
    return false;
  }

  /**
   * Whether a lone run of the graph may run on this thread. Not a graph whose intermediates are
   * large: what ONNX Runtime allocates on this thread stays in its malloc arena, and the host
   * thread is what every other call needs.
   */
  #inlineOk(t: Timing, peakBytes: number): boolean {
    return t.narrow! < this.loneInlineMaxMs && peakBytes <= LONE_INLINE_MAX_PEAK_BYTES;
  }

  /** Package weights are readable only by interpreters that loaded the package. */
  private checkWeightAccess(id: string, who: Requester) {
    const pkgId = id.slice(0, id.indexOf("/"));
    if (!who.mayUseWeights(pkgId)) throw new WasmdeployError(`tensor ${id} does not exist`);
  }

  /** A view of `numel` elements of a stored tensor, or of a package weight storage. */
  private elements(id: string, dtype: DType, offset: number, numel: number, who?: Requester) {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(numel) || offset < 0 || numel < 0) throw new WasmdeployError(`invalid range of tensor ${id}`);
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
    if ((offset + numel) * item > bytes.byteLength) throw new WasmdeployError(`read of ${numel} ${dtype} elements at ${offset} past the end of storage ${id}`);
    // Archive entries are not aligned for typed-array views; copy the range out.
    const range = bytes.slice(offset * item, (offset + numel) * item);
    return viewAs(dtype, range, 0, numel);
  }

  async close(): Promise<void> {
    this.#store.clear();
    this.#held.clear();
    this.#specs.clear();
    this.#ledger.clear();
    this.#registered.clear();
    if (this.#engine) await (await this.#engine).close();
  }
}

type RunPlace = "narrow" | "wide" | "inline";

/** The fastest run (ms) of one graph at each place it ran. */
interface Timing {
  /** The fastest timed run at each place. */
  narrow?: number;
  wide?: number;
  inline?: number;
  /** Runs at each place; the first compiled its session, so it is not timed. */
  runs: Record<RunPlace, number>;
  /** The last RECENT timed runs at each place (ms), oldest first. */
  recent: Record<RunPlace, number[]>;
  /** The place that ran fastest lately, as of the last lone run placed by comparing the places. */
  leader?: RunPlace;
  /** Such runs since the last re-timing burst began or the lead changed, and the runs between bursts now (EXPLORE_MIN up to EXPLORE_MAX). */
  sinceExplore: number;
  exploreGap: number;
  /** Re-timing bursts begun (which place the next one re-times, in turn). */
  bursts: number;
  /** A re-timing burst under way: its place and the runs left in it. */
  burst?: { place: RunPlace; left: number };
  /** The next run is a burst's first: not counted. */
  cold?: boolean;
  /** A big graph's one session (#sharedOnCaller): lives on this thread now; being moved here. */
  onCaller?: boolean;
  moving?: boolean;
  /** Lone runs in a row on the engine thread; when it last moved back there; whether a move failed. */
  loneStreak?: number;
  movedBackAt?: number;
  moveFailed?: boolean;
}

interface RunRequest {
  /** Python's key for the spec; sent alone once the host holds the spec for this interpreter. */
  key?: string;
  /** Untrusted until admitted. */
  spec?: unknown;
  feeds: Feeds;
}

/** "12.5 MB", or "4096 bytes" below a megabyte (where one decimal of MB would say 0.0). */
const mib = (bytes: number) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : `${bytes} bytes`);
