// Models in cells: each model the server loads runs in a process of its own (cell-main.ts), so a
// native fault in its engine (ONNX Runtime running graphs a tenant sent) ends only that model's
// in-flight requests. The server answers them with 503, keeps serving every other model, and
// starts the cell again; requests that arrive meanwhile wait for it. This is the defence in
// depth behind graph admission (src/engine/admission), for faults nobody foresaw.

import { type ChildProcess, fork } from "node:child_process";
import type { ManagerStats } from "../../manager.js";
import { HttpError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ModelRuntime } from "../model.js";
import type { ModelLoader, ModelSpec } from "../registry.js";
import type { ModelConfig, TensorSpec } from "../config.js";
import { scanRepository } from "./loader.js";
import { type CellError, type CellInit, decodeValue, encodeValue, type FromCell, type ToCell } from "./cell-protocol.js";

export interface CellLoaderOptions {
  repository?: string;
  defaults: ModelConfig;
  manager?: CellInit["manager"];
  logLevel?: string;
  logger?: Logger;
  debug?: boolean;
}

/** Restarts back off from this delay, doubling per crash within a minute, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;
/** How long a closing cell may take before it is killed. */
const CLOSE_GRACE_MS = 10_000;

export function cellLoader(opts: CellLoaderOptions): ModelLoader {
  return {
    open: (spec) => Cell.start(spec, opts),
    scan: opts.repository ? async () => scanRepository(opts.repository!, opts.defaults) : undefined,
  };
}

const fromError = (e: CellError) => new HttpError(e.status, e.message, e.extra);

class Cell implements ModelRuntime {
  #child?: ChildProcess;
  #ready?: Promise<void>;
  #stats!: ManagerStats;
  #signature?: TensorSpec[];
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #closed = false;
  #crashes: number[] = [];
  /** Cells started after a crash (stats). */
  restarts = 0;

  private constructor(
    private readonly spec: ModelSpec,
    private readonly opts: CellLoaderOptions,
  ) {}

  static async start(spec: ModelSpec, opts: CellLoaderOptions): Promise<Cell> {
    const cell = new Cell(spec, opts);
    try {
      await cell.#spawn();
    } catch (e) {
      cell.#closed = true; // never served: nothing to restart
      throw e;
    }
    return cell;
  }

  /** Start the cell process and open the model in it; resolves when it serves. */
  #spawn(): Promise<void> {
    // The model's name in the arguments says which process is whose (ps, tests).
    const child = fork(new URL("./cell-main.js", import.meta.url), [`--cell=${this.spec.name}`], {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: cellEnv(process.env),
    });
    this.#child = child;
    const ready = new Promise<void>((resolve, reject) => {
      child.on("message", (m: FromCell) => {
        switch (m.type) {
          case "ready":
            this.#stats = m.stats;
            this.#signature = m.signature;
            resolve();
            return;
          case "open-failed":
            reject(fromError(m.error));
            return;
          case "stats":
            this.#stats = m.stats;
            return;
          case "result": {
            this.#stats = m.stats;
            const p = this.#pending.get(m.id);
            if (!p) return;
            this.#pending.delete(m.id);
            if (m.ok) p.resolve(decodeValue(m.value));
            else p.reject(fromError(m.error));
          }
        }
      });
      child.once("exit", (code, signal) => {
        const how = signal ?? `exit code ${code}`;
        reject(new HttpError(503, `model ${this.spec.name}'s cell ended (${how}) while it was loading`));
        if (this.#child === child) this.#died(how);
      });
    });
    ready.catch(() => {});
    const init: CellInit = { spec: this.spec, defaults: this.opts.defaults, manager: this.opts.manager ?? {}, logLevel: this.opts.logLevel ?? "info", debug: this.opts.debug ?? false };
    child.send({ type: "open", init } satisfies ToCell);
    this.#ready = ready;
    return ready;
  }

  /** The cell process ended without being asked to: fail its requests in flight, start it again. */
  #died(how: string) {
    this.#child = undefined;
    const err = new HttpError(
      503,
      `model ${this.spec.name}'s cell ended (${how}) while running this request; no other model was affected, and the cell is restarting. Retry.`,
    );
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    if (this.#closed) return;
    const now = Date.now();
    this.#crashes = [...this.#crashes.filter((t) => now - t < 60_000), now];
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.#crashes.length - 1));
    this.opts.logger?.error({ model: this.spec.name, how, restart_in_ms: delay }, "model cell ended; restarting it");
    // Requests arriving meanwhile wait for the new cell.
    this.#ready = new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        if (this.#closed) return reject(new HttpError(503, `model ${this.spec.name} was unloaded`));
        this.restarts++;
        this.#spawn().then(resolve, reject);
      }, delay);
    });
    this.#ready.catch((e: unknown) => this.opts.logger?.error({ model: this.spec.name, err: String(e) }, "model cell failed to restart"));
  }

  async call(args: unknown[], timeoutMs: number | undefined): Promise<unknown> {
    if (this.#closed) throw new HttpError(503, `model ${this.spec.name} was unloaded`);
    await this.#ready;
    const child = this.#child;
    if (!child) throw new HttpError(503, `model ${this.spec.name}'s cell is restarting; retry`);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      child.send({ type: "call", id, args: args.map(encodeValue), ...(timeoutMs === undefined ? {} : { timeoutMs }) } satisfies ToCell);
    });
  }

  stats(): ManagerStats {
    return this.#stats;
  }

  get signature(): TensorSpec[] | undefined {
    return this.#signature;
  }

  /** The cell's process id (tests kill it to stand for a native fault). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.send({ type: "close" } satisfies ToCell);
    const timer = setTimeout(() => child.kill("SIGKILL"), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * A cell's environment: the server's, with glibc's malloc held to 2 arenas unless the operator
 * chose otherwise. A cell runs many threads (interpreters, engine threads, ONNX Runtime's pool)
 * and glibc gives each its own arena, which keeps what the thread freed: serving resnet18 held
 * 252-273 MB with the default against 230-237 MB with 2 arenas, at the same speed
 * (docs/architecture.md, "Garbage a compile leaves, and memory the allocator keeps"). glibc
 * reads it only at process start.
 */
function cellEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.MALLOC_ARENA_MAX === undefined ? { ...env, MALLOC_ARENA_MAX: "2" } : env;
}
