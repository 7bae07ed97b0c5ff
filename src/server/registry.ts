// The models a server holds, each with its own runtime (its own interpreters: tenancy), and
// the model repository extension's index / load / unload. Platform work (reading archives,
// starting interpreters) is behind ModelLoader, so this module runs wherever Fetch does.
//
// As a fleet (a memory budget): models are known from the start but load on their first
// request; after a load, the least recently used models with nothing queued or running are
// unloaded until the loaded ones fit the budget again, and load again when asked for.

import { ConfigError, DEFAULT_CONFIG, type ModelConfig, parseLoadConfig } from "./config.js";
import { HttpError } from "./errors.js";
import type { Logger } from "./logger.js";
import { type ModelRuntime, ServedModel } from "./model.js";

export interface ModelSpec {
  name: string;
  version: string;
  /** The archive: a path, URL or label the loader understands. */
  source: string;
  config: ModelConfig;
  /** Why this repository entry cannot load (e.g. a bad config.json); loading it fails with this. */
  error?: string;
}

export interface ModelLoader {
  open(spec: ModelSpec): Promise<ModelRuntime>;
  /** The repository's models, read now (config.json included). Undefined without a repository. */
  scan?(): Promise<ModelSpec[]>;
}

/** Serve as a fleet: lazy loads, LRU unloads of idle models past a memory budget. */
export interface FleetOptions {
  budgetBytes: number;
  /** What a loaded model holds; default: its weights, engine tensors, compiled graphs and interpreter heaps. */
  sizeOf?: (model: ServedModel) => number;
  /**
   * Added to each loaded model's size: what its stats do not show (its manager's threads, its
   * cell process). Measured for a one-interpreter convnet in the server's process: 48 MB of PSS per
   * model against 25 MB in its stats.
   */
  overheadBytes?: number;
}

/** Loads on demand and unloads under the budget, for metrics. */
export interface FleetStats {
  coldLoads: number;
  coldLoadSeconds: number[];
  evictions: number;
  loadedBytes: number;
}

/** A loaded model's bytes as its stats tell (the process's fixed costs are not counted). */
export function modelBytes(model: ServedModel): number {
  if (model.state !== "READY" || !model.runtime) return 0;
  const s = model.runtime.stats();
  const e = s.engineBytes;
  return (e ? e.weights + e.tensors + e.compiledGraphBytes : 0) + s.interpreters.reduce((n, i) => n + i.heapBytes, 0);
}

export interface IndexEntry {
  name: string;
  version?: string;
  state: string;
  reason: string;
}

export class ModelRegistry {
  readonly #models = new Map<string, ServedModel>();
  readonly #specs = new Map<string, ModelSpec>();
  #closed = false;
  // Fleet mode: loads under way, unloads under way, when each model was last asked for, the size
  // each had when last loaded (the room to make before loading it again).
  readonly #loads = new Map<string, Promise<ServedModel>>();
  readonly #unloading = new Map<string, Promise<void>>();
  readonly #lastUsed = new Map<string, number>();
  readonly #lastSize = new Map<string, number>();
  readonly fleetStats: FleetStats = { coldLoads: 0, coldLoadSeconds: [], evictions: 0, loadedBytes: 0 };
  /** Fleet mode: called after each load on demand (metrics). */
  onColdLoad?: (model: string, seconds: number) => void;

  constructor(
    private readonly loader: ModelLoader,
    private readonly logger?: Logger,
    /** The server's defaults, on which a load request's config applies. */
    private readonly defaults: ModelConfig = DEFAULT_CONFIG,
    readonly fleet?: FleetOptions,
  ) {}

  /** Fleet mode: a model to load on its first request. */
  register(spec: ModelSpec): void {
    this.#specs.set(spec.name, spec);
  }

  /** Fleet mode: a known model that is not loaded and serving now (a request would load it). */
  loadsOnDemand(name: string): boolean {
    return this.fleet !== undefined && this.#specs.has(name) && this.#models.get(name)?.state !== "READY";
  }

  /**
   * Fleet mode: the model, loaded if it is not (waiting for a load or unload under way). Every
   * call counts as a use for the LRU order. Throws HttpError 404 for an unknown model, 400 when
   * it fails to load.
   */
  async ensure(name: string): Promise<ServedModel> {
    for (;;) {
      if (this.#closed) throw new HttpError(503, "the server is shutting down");
      this.#lastUsed.set(name, performance.now());
      const m = this.#models.get(name);
      if (m?.state === "READY") return m;
      const unloading = this.#unloading.get(name);
      if (unloading) {
        await unloading;
        continue;
      }
      const loading = this.#loads.get(name);
      if (loading) {
        await loading;
        continue;
      }
      if (m?.state === "UNAVAILABLE") throw new HttpError(503, `model ${name} is unavailable: ${m.reason}`);
      const spec = this.#specs.get(name);
      if (!spec || !this.fleet) throw new HttpError(404, `unknown model ${JSON.stringify(name)}`);
      const p = this.#coldLoad(spec);
      this.#loads.set(name, p);
      try {
        return await p;
      } finally {
        this.#loads.delete(name);
      }
    }
  }

  async #coldLoad(spec: ModelSpec): Promise<ServedModel> {
    await this.#makeRoom(this.#lastSize.get(spec.name) ?? 0);
    const t0 = performance.now();
    const model = await this.loadSpec(spec);
    const seconds = (performance.now() - t0) / 1e3;
    this.fleetStats.coldLoads++;
    this.fleetStats.coldLoadSeconds.push(seconds);
    if (this.fleetStats.coldLoadSeconds.length > 1024) this.fleetStats.coldLoadSeconds.shift();
    this.onColdLoad?.(spec.name, seconds);
    this.#lastSize.set(spec.name, this.#sizeOf(model));
    await this.#makeRoom(0, model);
    return model;
  }

  #sizeOf(m: ServedModel): number {
    return (this.fleet?.sizeOf ?? modelBytes)(m) + (this.fleet?.overheadBytes ?? 0);
  }

  /** Unload least recently used idle models until `extra` more bytes fit the budget. */
  async #makeRoom(extra: number, keep?: ServedModel): Promise<void> {
    if (!this.fleet) return;
    const loaded = this.list().filter((m) => m.state === "READY");
    let total = loaded.reduce((n, m) => n + this.#sizeOf(m), 0);
    this.fleetStats.loadedBytes = total;
    if (total + extra <= this.fleet.budgetBytes) return;
    const idle = loaded
      .filter((m) => m !== keep && m.scheduler !== undefined && m.scheduler.inFlight === 0 && m.scheduler.queued === 0)
      .sort((a, b) => (this.#lastUsed.get(a.name) ?? 0) - (this.#lastUsed.get(b.name) ?? 0));
    const retiring: Promise<void>[] = [];
    for (const m of idle) {
      if (total + extra <= this.fleet.budgetBytes) break;
      const bytes = this.#sizeOf(m);
      total -= bytes;
      this.#models.delete(m.name);
      this.fleetStats.evictions++;
      // #retire marks it UNLOADING at once: a request arriving now waits for the unload, then reloads it.
      const done = this.#retire(m).finally(() => this.#unloading.delete(m.name));
      this.#unloading.set(m.name, done);
      retiring.push(done);
      this.logger?.info({ model: m.name, bytes, budget_bytes: this.fleet.budgetBytes }, "model unloaded (memory budget)");
    }
    this.fleetStats.loadedBytes = total;
    await Promise.all(retiring);
  }

  get(name: string): ServedModel | undefined {
    return this.#models.get(name);
  }

  list(): ServedModel[] {
    return [...this.#models.values()];
  }

  /** Every model loaded and none loading. */
  get ready(): boolean {
    return !this.#closed && this.list().every((m) => m.state === "READY" || m.state === "UNAVAILABLE");
  }

  /**
   * Load (or reload) a model from its spec. Throws HttpError 400 with the reason when it fails.
   * `override` marks a spec made from a load request's config: it is served, but a later load
   * without a config goes back to the model's own.
   */
  async loadSpec(spec: ModelSpec, override = false): Promise<ServedModel> {
    if (this.#closed) throw new HttpError(503, "the server is shutting down");
    if (!override) this.#specs.set(spec.name, spec);
    const old = this.#models.get(spec.name);
    if (old?.state === "LOADING") throw new HttpError(409, `model ${spec.name} is already loading`);
    const model = new ServedModel(spec.name, spec.version, spec.config, spec.source);
    this.#models.set(spec.name, model);
    if (old) await this.#retire(old);
    const started = performance.now();
    try {
      if (spec.error) throw new HttpError(400, `cannot load model ${spec.name}: ${spec.error}`);
      const runtime = await this.loader.open(spec);
      if (this.#models.get(spec.name) !== model || this.#closed) {
        await runtime.close();
        throw new HttpError(409, `model ${spec.name} was unloaded while it loaded`);
      }
      model.attach(runtime, (reason) => this.logger?.warn({ model: spec.name, reason }, "batched outputs could not be split; ran requests one by one"));
      this.logger?.info({ model: spec.name, version: spec.version, source: spec.source, ms: Math.round(performance.now() - started), interpreters: spec.config.interpreters }, "model loaded");
      return model;
    } catch (e) {
      model.state = "UNAVAILABLE";
      model.reason = e instanceof Error ? e.message : String(e);
      this.logger?.error({ model: spec.name, source: spec.source, err: model.reason }, "model failed to load");
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, `failed to load model ${spec.name}: ${model.reason}`);
    }
  }

  /**
   * Repository extension: load NAME from the repository (rescanned), or reload a model given at
   * start. With `config` (the load request's, a config.json document or Triton's model config),
   * the model is served with that configuration instead of its own, as Triton does; a config
   * that cannot be applied is a 400 and the model is left as it was.
   */
  async load(name: string, config?: unknown): Promise<ServedModel> {
    const scanned = this.loader.scan ? (await this.loader.scan()).find((s) => s.name === name) : undefined;
    const spec = scanned ?? this.#specs.get(name);
    if (!spec) throw new HttpError(404, `no model ${name} in the repository`);
    if (config === undefined) return this.loadSpec(spec);
    let applied: ModelConfig;
    try {
      applied = parseLoadConfig(config, this.defaults, spec.config, name);
    } catch (e) {
      if (e instanceof ConfigError) throw new HttpError(400, `cannot apply the config to model ${name}: ${e.message}`);
      throw e;
    }
    this.#specs.set(name, spec);
    return this.loadSpec({ name, version: spec.version, source: spec.source, config: applied }, true);
  }

  async unload(name: string): Promise<void> {
    const model = this.#models.get(name);
    if (!model) throw new HttpError(404, `model ${name} is not loaded`);
    this.#models.delete(name);
    await this.#retire(model);
    this.logger?.info({ model: name }, "model unloaded");
  }

  async index(): Promise<IndexEntry[]> {
    const out = new Map<string, IndexEntry>();
    for (const s of this.loader.scan ? await this.loader.scan() : []) out.set(s.name, { name: s.name, version: s.version, state: "UNAVAILABLE", reason: "unloaded" });
    for (const s of this.#specs.values()) if (!out.has(s.name)) out.set(s.name, { name: s.name, version: s.version, state: "UNAVAILABLE", reason: "unloaded" });
    for (const m of this.#models.values()) out.set(m.name, { name: m.name, version: m.version, state: m.state, reason: m.reason });
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Waits for every queued and running request of every model to be answered. */
  async idle(): Promise<void> {
    await Promise.all(this.list().map((m) => m.scheduler?.idle()));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const models = this.list();
    this.#models.clear();
    await Promise.all(models.map((m) => this.#retire(m)));
  }

  /** Stop taking requests for a model, let its running calls finish, free its interpreters. */
  async #retire(model: ServedModel): Promise<void> {
    model.state = "UNLOADING";
    model.scheduler?.rejectQueued(new HttpError(503, `model ${model.name} was unloaded`));
    await model.scheduler?.idle();
    await model.runtime?.close().catch((e: unknown) => this.logger?.error({ model: model.name, err: String(e) }, "closing the model's interpreters failed"));
  }
}
