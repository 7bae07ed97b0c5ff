// InterpreterManager: the entry point of the host API (mirrors torch::deploy's
// InterpreterManager). A thin façade: the pool (src/pool/) owns the interpreters and does the
// work; the platform the entry point installed (src/platform/installed.ts: Node's, the
// browser's or the edge isolate's) supplies files, threads, processes and the engine.

import { ClosedError, PackageFormatError } from "./errors.js";
import type { Interpreter } from "./interpreter/interpreter.js";
import { type ArchiveFile, parseTorchPackage, type TorchPackageArchive } from "./package/archive.js";
import type { ZipLimits } from "./package/zip.js";
import { makePackage, type Package } from "./package.js";
import { installedPlatform } from "./platform/installed.js";
import type { BootStats, Platform } from "./platform/platform.js";
import { Pool } from "./pool/dispatcher.js";
import { pools } from "./pool/registry.js";
import { ENGINE_NAMES, isEngineName, type EngineName } from "./protocol.js";
import { type InterpreterSession, openSession } from "./session.js";

export type { CallLimits } from "./pool/port.js";

export interface InterpreterManagerOptions {
  /** Number of interpreters. Default: the number of CPU cores. */
  interpreters?: number;
  /**
   * Which interpreter runs Python. "wasi" (default): CPython built for WASI (wasm/), many per
   * worker thread in this process; WebAssembly
   * is their boundary (docs/security.md), not a process: `isolation` then only decides tenancy
   * ("sandboxed": one package per interpreter, so packages cannot see each other; "trusted": several).
   * "pyodide": Pyodide, isolated as `isolation` says; for code that needs Pyodide's packages.
   * "component": the same CPython as a WebAssembly component (wit/interpreter.wit), run through
   * jco's bindings with WASI 0.2 from preview2-shim; as "wasi" but each interpreter boots cold
   * (docs/architecture.md compares the two).
   */
  interpreter?: "wasi" | "pyodide" | "component";
  /**
   * WASI only: which build of the interpreter. "default": wasm/python.wasm, the standard library
   * only (smallest module, fastest first start). "sci": wasm/python-sci.wasm, the same CPython
   * with numpy 1.24.2 and Pillow 9.4.0 (PNG, JPEG, zlib) linked in, for packages that extern
   * numpy or PIL; a larger module to compile once per process, while an interpreter that does
   * not import them costs about what a default one does (docs/architecture.md, "numpy and
   * Pillow"). Default "default". Not available for "pyodide" (a RangeError). To choose from an
   * archive: `wasiBuildFor(parseTorchPackage(bytes).externModules)`; `wasmdeploy serve`, `call`
   * and `run` do that for each model.
   */
  wasiBuild?: "default" | "sci";
  /**
   * "sandboxed" (default): archives may be untrusted (docs/security.md): one package per
   * interpreter, and a Pyodide interpreter is a locked-down child process. "trusted": several
   * packages per interpreter, Pyodide in worker threads of this process (faster start and calls,
   * but its Python code can reach this process's JavaScript realm).
   */
  isolation?: "sandboxed" | "trusted";
  /** Sandboxed only: cap on each interpreter process's JS heap, MB. Default 512. */
  sandboxJsHeapMb?: number;
  /** Where the boot snapshot is cached; false keeps it in memory only. Default: see defaultSnapshotDir(). */
  snapshotDir?: string | false;
  /** Default deadline for every call, in ms. Default: none. */
  callTimeoutMs?: number;
  /**
   * Memory an interpreter may use while running a call, MB. Sandboxed interpreters are
   * watched during the call (resident memory of their process) and replaced past it;
   * trusted ones are checked after each call. Default: none.
   */
  memoryLimitMb?: number;
  /**
   * Engine memory one call may use, MB: the results it keeps, tensors Python writes, and each
   * graph's intermediates at its peak (inferred before ONNX Runtime allocates anything; past the
   * budget the run is refused with an EngineMemoryError). Default 1024.
   */
  engineMemoryPerCallMb?: number;
  /**
   * Engine tensors one interpreter may hold across calls (results and written tensors Python
   * keeps alive), MB. Past it, runs and writes are refused until Python releases some. Default 256.
   */
  engineMemoryHeldMb?: number;
  /**
   * An interpreter whose memory a call left above this many MB is replaced after that call
   * (its packages load again on its next call). WebAssembly memory never shrinks, so this is how
   * memory one large call needed goes back to the host; like uWSGI's reload-on-rss. Default 512.
   */
  recycleAboveMb?: number;
  /** How long interrupted Python code may take to stop before its worker is terminated. Default 1000 ms. */
  interruptGraceMs?: number;
  /** Limits applied when reading archives (per-package overrides go to loadPackage). */
  archiveLimits?: Partial<ZipLimits>;
  /**
   * The tensor engine: ONNX Runtime native ("ort-node", default under Node), WebAssembly
   * ("ort-web", default in browsers), or onnxruntime-web's WebGPU provider ("webgpu", browsers).
   */
  engine?: EngineName;
  /**
   * Debug mode: the torch layer runs every op as soon as it is recorded instead of whole
   * graphs. Slow; results must be the same. Default false.
   */
  debugEager?: boolean;
  /**
   * ort-node: how many engine worker threads run graphs in parallel (they share one copy of
   * the weights, in shared memory, and each compiles its own sessions). onnxruntime-node
   * computes on the thread that calls it, so one thread would serialise every interpreter's
   * engine work. Default: min(interpreters, CPU cores). 0 runs the engine on the main thread.
   * Threads past the first start when a run finds every started one busy (each costs about 15 MB).
   */
  engineWorkers?: number;
  /** Intra-op threads per ONNX Runtime session. Default 1: the interpreters are the parallelism. */
  intraOpThreads?: number;
  /**
   * ort-node: intra-op threads of a lone call, one running while nothing else is running or
   * queued (a busy pool gives each call `intraOpThreads`). Default: the CPU cores; 1 turns it off.
   */
  loneCallThreads?: number;
  /** @deprecated The old name of `intraOpThreads` (threads per session, not engine workers); still honoured. */
  engineThreads?: number;
  /**
   * Host replay: once an interpreter replayed a call from a one-graph trace, its next calls with
   * the same arguments' signature run that graph on the host alone until anything else reaches
   * that interpreter (docs/tensor-layer.md, "Replay"). Default true; false always enters Python.
   * Per object: `__wasmdeploy_host_replay__ = False` on the object or its class.
   */
  hostReplay?: boolean;
  /** Where Python's print() goes. Default: process.stderr, prefixed with the interpreter index. */
  onOutput?: (interpreter: number, stream: "stdout" | "stderr", text: string) => void;
}

export interface LoadPackageOptions {
  /** Zip limits for this archive (entry count, sizes, compression ratio). */
  limits?: Partial<ZipLimits>;
  /** Defaults for calls on this package's objects; override the manager's. */
  callTimeoutMs?: number;
  memoryLimitMb?: number;
  engineMemoryPerCallMb?: number;
}

export interface ManagerStats {
  boot: BootStats & { firstReadyMs: number; allReadyMs: number };
  interpreters: {
    index: number;
    state: string;
    generation: number;
    load: number;
    completed: number;
    crashes: number;
    heapBytes: number;
    /** Resident memory of the interpreter's own process (sandboxed isolation). */
    residentBytes?: number;
    /** The worker thread it shares with other interpreters (WASI), if any. */
    thread?: number;
    bootMs?: number;
    fromSnapshot?: boolean;
    /** Calls answered by host replay, without entering this interpreter (its generations together). */
    hostReplays?: number;
  }[];
  /** Bytes the engine holds for this manager: weights registered once, and live tensors (inputs, results, intermediates Python keeps). */
  engineBytes?: {
    /** Weight bytes in memory (Node: not those a session baked in, let go until needed again; see loadPackage). */
    weights: number;
    tensors: number;
    /** Compiled graphs (ONNX Runtime sessions) the tenants hold, and their estimated bytes (mostly weights copied in). */
    compiledGraphs: number;
    compiledGraphBytes: number;
  };
}


const DEFAULT_ENGINE_MEMORY_PER_CALL_MB = 1024;
const DEFAULT_ENGINE_MEMORY_HELD_MB = 256;
const DEFAULT_RECYCLE_ABOVE_MB = 512;

let createInstance: (pool: Pool, interp: Interpreter) => InterpreterInstance;

/** A view of one interpreter for `allInstances()`. */
export class InterpreterInstance {
  static {
    createInstance = (pool, interp) => {
      const inst = new InterpreterInstance(interp.index);
      instances.set(inst, { pool, interp });
      return inst;
    };
  }

  private constructor(readonly index: number) {}

  acquireSession(): InterpreterSession {
    const { pool, interp } = instances.get(this)!;
    return openSession(pool, pool.interpreterFor(undefined, interp.index));
  }
}
const instances = new WeakMap<InterpreterInstance, { pool: Pool; interp: Interpreter }>();

export class InterpreterManager {
  readonly #pool: Pool;
  readonly #platform: Platform;
  readonly #options: InterpreterManagerOptions;
  readonly #boot: ManagerStats["boot"];
  /** Stops what the interpreters ran on (the WASI kind's shared threads). */
  readonly #closeInterpreters?: () => Promise<void>;
  #nextPackageId = 1;

  private constructor(
    pool: Pool,
    platform: Platform,
    options: InterpreterManagerOptions,
    boot: ManagerStats["boot"],
    closeInterpreters?: () => Promise<void>,
  ) {
    this.#pool = pool;
    this.#platform = platform;
    this.#options = options;
    this.#boot = boot;
    this.#closeInterpreters = closeInterpreters;
    pools.set(this, pool);
  }

  static async create(options: InterpreterManagerOptions = {}): Promise<InterpreterManager> {
    const platform = installedPlatform();
    const count = options.interpreters ?? platform.cores();
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`interpreters must be a positive integer, got ${String(options.interpreters)}`);
    }
    const isolation = options.isolation ?? "sandboxed";
    if (isolation !== "sandboxed" && isolation !== "trusted") {
      throw new RangeError(`isolation must be "sandboxed" or "trusted", got ${JSON.stringify(isolation)}`);
    }
    const engineName = options.engine ?? platform.defaults?.engine ?? "ort-node";
    if (!isEngineName(engineName)) {
      throw new RangeError(`engine must be one of ${ENGINE_NAMES.map((n) => JSON.stringify(n)).join(", ")}, got ${JSON.stringify(engineName)}`);
    }
    if (options.loneCallThreads !== undefined && !(Number.isSafeInteger(options.loneCallThreads) && options.loneCallThreads >= 1)) {
      throw new RangeError(`loneCallThreads must be a positive integer, got ${String(options.loneCallThreads)}`);
    }
    const kind = options.interpreter ?? platform.defaults?.interpreter ?? "wasi";
    if (options.wasiBuild !== undefined && options.wasiBuild !== "default" && options.wasiBuild !== "sci") {
      throw new RangeError(`wasiBuild must be "default" or "sci", got ${JSON.stringify(options.wasiBuild)}`);
    }
    if (options.wasiBuild === "sci" && kind !== "wasi") {
      throw new RangeError(`wasiBuild "sci" is a build of the WASI interpreter; interpreter is ${JSON.stringify(kind)}`);
    }
    const started = performance.now();
    const prepared = await platform.prepareInterpreters({
      kind,
      wasiBuild: options.wasiBuild,
      isolation,
      snapshotDir: options.snapshotDir,
      sandboxJsHeapMb: options.sandboxJsHeapMb ?? 512,
      interpreters: count,
      memoryLimitMb: options.memoryLimitMb,
      eager: options.debugEager ?? false,
    });
    const engineSetup = {
      intraOpThreads: options.intraOpThreads ?? options.engineThreads ?? 1,
      engineWorkers: options.engineWorkers ?? Math.min(count, platform.cores()),
      wideThreads: options.loneCallThreads,
    };
    const pool = new Pool({
      count,
      spawn: prepared.spawn,
      sandboxed: isolation === "sandboxed",
      eager: options.debugEager ?? false,
      interruptGraceMs: options.interruptGraceMs ?? 1000,
      onOutput: options.onOutput ?? ((i, _s, text) => platform.writeStderr(`[interpreter ${i}] ${text}\n`)),
      defaults: {
        timeoutMs: options.callTimeoutMs,
        memoryLimitMb: options.memoryLimitMb,
        engineMemoryPerCallMb: options.engineMemoryPerCallMb ?? DEFAULT_ENGINE_MEMORY_PER_CALL_MB,
      },
      engineHeldBytes: (options.engineMemoryHeldMb ?? DEFAULT_ENGINE_MEMORY_HELD_MB) * 2 ** 20,
      recycleAboveBytes: (options.recycleAboveMb ?? DEFAULT_RECYCLE_ABOVE_MB) * 2 ** 20,
      engineName,
      createEngine: () => platform.createEngine(engineName, engineSetup),
      hostReplay: options.hostReplay,
    });
    let firstReadyMs = 0;
    try {
      await pool.ready(() => {
        firstReadyMs ||= performance.now() - started;
      });
    } catch (e) {
      await pool.close();
      await prepared.close?.();
      throw e;
    }
    prepared.booted(pool.interpreters.some((i) => i.lastBoot?.snapshotError !== undefined));
    return new InterpreterManager(pool, platform, options, { ...prepared.stats, firstReadyMs, allReadyMs: performance.now() - started }, prepared.close);
  }

  get closed(): boolean {
    return this.#pool.closed;
  }

  get sandboxed(): boolean {
    return (this.#options.isolation ?? "sandboxed") === "sandboxed";
  }

  /**
   * Load a torch.package archive from a path (a URL in browsers), a URL, a fetch Response, or
   * bytes. Interpreters import it lazily, at first use.
   *
   * In Node, a package from a path keeps its file open: once a graph reading 16 MB of weights or
   * more has them baked into its session, their bytes are let go and read again from the file
   * (checked against the archive's CRC-32) when another compile or Python needs them. Replace a
   * served package file by renaming a new one over it (the open file still reads the old one);
   * one rewritten in place makes those reads fail, with an error that says to load the package
   * again.
   */
  async loadPackage(source: string | URL | Response | Uint8Array, options: LoadPackageOptions = {}): Promise<Package> {
    this.#assertOpen();
    let bytes: Uint8Array;
    let label: string;
    /** Bytes read here, which nothing else holds: the archive may copy its entries out and let them go. */
    let ours = true;
    /** The file kept open, so that storages can be let go and read again (Node). */
    let file: ArchiveFile | undefined;
    if (typeof Response !== "undefined" && source instanceof Response) {
      label = source.url || "<response>";
      if (!source.ok) throw new PackageFormatError(`the response has status ${source.status} ${source.statusText}`.trim(), label);
      bytes = new Uint8Array(await source.arrayBuffer());
    } else if (typeof source === "string" || source instanceof URL) {
      label = String(source);
      try {
        if (this.#platform.openArchive) ({ bytes, file } = await this.#platform.openArchive(source));
        else bytes = await this.#platform.readFile(source);
      } catch (e) {
        const code = (e as { code?: string }).code;
        throw new PackageFormatError(
          code === "ENOENT" ? "file not found; check the path" : `cannot read the file (${code ?? String(e)})`,
          label,
        );
      }
    } else if (source instanceof Uint8Array) {
      label = "<bytes>";
      bytes = source;
      ours = false; // the caller holds them: copying the weights out would hold them twice
    } else {
      throw new TypeError("loadPackage takes a file path, a URL, a Response or a Uint8Array of the archive's bytes");
    }
    let archive: TorchPackageArchive;
    try {
      const parsed = parseTorchPackage(bytes, label, { ...this.#options.archiveLimits, ...options.limits });
      // The file's bytes go once the entries are copied out: the weights are then held once
      // (in shared memory the engine threads adopt), not in the file's bytes and again in the engine.
      archive = ours ? parsed.detached(file) : parsed;
      this.#assertOpen();
    } catch (e) {
      file?.close();
      throw e;
    }
    const { pkg, ref } = makePackage(this.#pool, `p${this.#nextPackageId++}`, archive, {
      timeoutMs: options.callTimeoutMs,
      memoryLimitMb: options.memoryLimitMb,
      engineMemoryPerCallMb: options.engineMemoryPerCallMb,
    });
    this.#pool.addPackage(ref);
    return pkg;
  }

  /** An InterpreterSession on the least-loaded interpreter, held until release(). */
  async acquireOne(): Promise<InterpreterSession> {
    return openSession(this.#pool, this.#pool.interpreterFor(undefined));
  }

  /** Every interpreter, to run something on each (e.g. warm-up, configuration). */
  allInstances(): InterpreterInstance[] {
    return this.#pool.interpreters.map((i) => createInstance(this.#pool, i));
  }

  /**
   * Make a module importable in every interpreter (now and after any respawn), as
   * torch::deploy's registerModuleSource does. Later registrations of the same name replace it.
   */
  async registerModuleSource(name: string, source: string): Promise<void> {
    this.#assertOpen();
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) {
      throw new TypeError(`module name ${JSON.stringify(name)} is not a dotted Python identifier`);
    }
    await this.#pool.registerModule(name, source);
  }

  stats(): ManagerStats {
    return {
      boot: { ...this.#boot },
      engineBytes: this.#pool.engineHost.memory(),
      interpreters: this.#pool.interpreters.map((i) => ({
        index: i.index,
        state: i.state,
        generation: i.generation,
        load: this.#pool.load(i),
        completed: i.completed,
        crashes: i.crashes,
        heapBytes: i.heapBytes,
        residentBytes: i.residentBytes(),
        thread: i.thread,
        bootMs: i.lastBoot?.bootMs,
        fromSnapshot: i.lastBoot?.fromSnapshot,
        hostReplays: this.#pool.hostReplay?.counts[i.index] ?? 0,
      })),
    };
  }

  async close(): Promise<void> {
    await this.#pool.close();
    await this.#closeInterpreters?.();
  }

  #assertOpen() {
    if (this.#pool.closed) throw new ClosedError("the interpreter manager is closed; create a new one");
  }
}
