// The models a server holds, each with its own runtime (its own interpreters: tenancy), and
// the model repository extension's index / load / unload. Platform work (reading archives,
// starting interpreters) is behind ModelLoader, so this module runs wherever Fetch does.

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

  constructor(
    private readonly loader: ModelLoader,
    private readonly logger?: Logger,
    /** The server's defaults, on which a load request's config applies. */
    private readonly defaults: ModelConfig = DEFAULT_CONFIG,
  ) {}

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
