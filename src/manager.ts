// InterpreterManager: the pool of interpreters, load balancing, and the entry point
// of the host API (mirrors torch::deploy's InterpreterManager).

import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { EngineHost, type EngineName } from "./bridge/engine-host.js";
import { CallTimeoutError, ClosedError, PackageFormatError, WasmdeployError } from "./errors.js";
import { pyodideDir, runtimeFiles, snapshotKey } from "./interpreter/assets.js";
import { Interpreter, type JobSpec } from "./interpreter/interpreter.js";
import { defaultSnapshotDir, loadOrMakeSnapshot, type SnapshotResult } from "./interpreter/snapshot.js";
import { WasiThreadPool } from "./interpreter/wasi/pool.js";
import { HandleCodec, type HandleHost, type InvokeOptions, PyObject } from "./objects.js";
import { parseTorchPackage } from "./package/archive.js";
import type { ZipLimits } from "./package/zip.js";
import { Package } from "./package.js";
import { InterpreterSession } from "./session.js";
import { decode, encode } from "./wire.js";

export interface InterpreterManagerOptions {
  /** Number of interpreters. Default: the number of CPU cores. */
  interpreters?: number;
  /**
   * "sandboxed" (default): each interpreter is a locked-down child process, so archives may be
   * untrusted (docs/security.md). "trusted": worker threads in this process; faster start and
   * calls, but Python code can reach this process's JavaScript realm.
   */
  isolation?: "sandboxed" | "trusted";
  /**
   * "pyodide" (default): Pyodide interpreters, isolated as `isolation` says. "wasi": CPython
   * built for WASI (wasm/), many per worker thread in this process; WebAssembly is their
   * boundary (docs/security.md), so `isolation` does not apply to them.
   */
  interpreter?: "pyodide" | "wasi";
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
  /** Engine memory a call may ask for (graph results and tensors written from Python), MB. Default: none. */
  engineMemoryPerCallMb?: number;
  /** How long interrupted Python code may take to stop before its worker is terminated. Default 1000 ms. */
  interruptGraceMs?: number;
  /** Limits applied when reading archives (per-package overrides go to loadPackage). */
  archiveLimits?: Partial<ZipLimits>;
  /** The tensor engine: ONNX Runtime native ("ort-node", default) or WebAssembly ("ort-web"). */
  engine?: EngineName;
  /**
   * Debug mode: the torch layer runs every op as soon as it is recorded instead of whole
   * graphs. Slow; results must be the same. Default false.
   */
  debugEager?: boolean;
  /**
   * ort-node: how many engine threads run graphs in parallel (each holds its own copy of the
   * weights it uses and its own compiled sessions). onnxruntime-node computes on the thread
   * that calls it, so one thread would serialise every interpreter's engine work.
   * Default: min(interpreters, CPU cores). 0 runs the engine on the main thread.
   */
  engineWorkers?: number;
  /** Threads per engine session. Default 1: the interpreters are the parallelism. */
  engineThreads?: number;
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

/** Per-call limits, resolved from the call, its package and the manager. */
export interface CallLimits {
  timeoutMs?: number;
  memoryLimitMb?: number;
  engineMemoryPerCallMb?: number;
}

export interface ManagerStats {
  boot: {
    snapshot: "disk" | "made";
    snapshotMs: number;
    snapshotPath?: string;
    wasmCompileMs: number;
    firstReadyMs: number;
    allReadyMs: number;
  };
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
    bootMs?: number;
    fromSnapshot?: boolean;
  }[];
}

/** A view of one interpreter for `allInstances()`. */
export class InterpreterInstance {
  constructor(
    private readonly manager: InterpreterManager,
    readonly interpreter: Interpreter,
  ) {}
  get index(): number {
    return this.interpreter.index;
  }
  acquireSession(): InterpreterSession {
    return this.manager.sessionOn(this.interpreter);
  }
}

export class InterpreterManager implements HandleHost {
  readonly interpreters: readonly Interpreter[];
  #closed = false;
  /** Stops what the interpreters ran on (the WASI threads). */
  #afterClose?: () => Promise<void>;
  #rr = 0;
  #modules: { id: number; name: string; source: string }[] = [];
  #nextModuleId = 1;
  #packages = new Set<Package>();
  #nextPackageId = 1;
  readonly #finalizer = new FinalizationRegistry<{ interp: Interpreter; generation: number; id: number }>((h) =>
    this.freeHandles(h.interp, h.generation, [h.id]),
  );

  /** Engine tensors and the Engine itself (created at the first tensor operation). */
  readonly engineHost: EngineHost;

  private constructor(
    interpreters: Interpreter[],
    engineHost: EngineHost,
    private readonly options: InterpreterManagerOptions,
    private readonly bootStats: ManagerStats["boot"],
  ) {
    this.interpreters = interpreters;
    this.engineHost = engineHost;
  }

  static async create(options: InterpreterManagerOptions = {}): Promise<InterpreterManager> {
    const count = options.interpreters ?? availableParallelism();
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`interpreters must be a positive integer, got ${String(options.interpreters)}`);
    }
    const kind = options.interpreter ?? "pyodide";
    if (kind !== "pyodide" && kind !== "wasi") {
      throw new RangeError(`interpreter must be "pyodide" or "wasi", got ${JSON.stringify(kind)}`);
    }
    const started = performance.now();
    const dir = pyodideDir();
    const wasmStart = performance.now();
    const files = runtimeFiles();
    const wasi =
      kind === "wasi"
        ? new WasiThreadPool(files, { threads: Math.min(count, availableParallelism()), snapshotDir: options.snapshotDir ?? defaultSnapshotDir() })
        : undefined;
    const wasmModule = wasi ? new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) : await WebAssembly.compile(await readFile(path.join(dir, "pyodide.asm.wasm")));
    const wasmCompileMs = performance.now() - wasmStart;
    const isolation = options.isolation ?? "sandboxed";
    if (isolation !== "sandboxed" && isolation !== "trusted") {
      throw new RangeError(`isolation must be "sandboxed" or "trusted", got ${JSON.stringify(isolation)}`);
    }
    const sandboxed = isolation === "sandboxed";
    let snapshotDir = options.snapshotDir ?? defaultSnapshotDir();
    // Sandboxed interpreters are other processes: they read the snapshot from a file.
    if (sandboxed && snapshotDir === false) snapshotDir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-snapshot-"));
    const snap: SnapshotResult = wasi
      ? await wasi.ensureSnapshot().then(() => ({ bytes: new Uint8Array(0), source: wasi.snapshotSource ?? "made", ms: wasi.snapshotMs ?? 0 }))
      : await loadOrMakeSnapshot({
      dir: snapshotDir,
      key: snapshotKey(files, isolation),
      pyodideDir: dir,
      wasmModule,
      runtimeFiles: files,
      sandboxed,
    });
    if (sandboxed && !wasi && !snap.path) throw new WasmdeployError("sandboxed interpreters need the boot snapshot on disk; set snapshotDir to a writable folder");
    // One copy of the snapshot for every worker: a SharedArrayBuffer is shared, not cloned.
    const sharedSnapshot = new Uint8Array(new SharedArrayBuffer(snap.bytes.byteLength));
    sharedSnapshot.set(snap.bytes);
    const engineName = options.engine ?? "ort-node";
    if (engineName !== "ort-node" && engineName !== "ort-web") {
      throw new RangeError(`engine must be "ort-node" or "ort-web", got ${JSON.stringify(engineName)}`);
    }
    // Weights are looked up in the manager's packages; the manager exists once the pool is up.
    const managerRef: { m?: InterpreterManager } = {};
    const engineHost = new EngineHost(
      engineName,
      (id) => managerRef.m?.weightBytes(id),
      options.engineThreads ?? 1,
      options.engineWorkers ?? Math.min(count, availableParallelism()),
    );
    const onOutput =
      options.onOutput ?? ((i: number, _s: string, text: string) => process.stderr.write(`[interpreter ${i}] ${text}\n`));
    const interps: Interpreter[] = [];
    for (let index = 0; index < count; index++) {
      interps.push(
        new Interpreter({
          index,
          pyodideDir: dir,
          wasmModule,
          snapshot: sharedSnapshot,
          runtimeFiles: files,
          interruptGraceMs: options.interruptGraceMs ?? 1000,
          onOutput,
          isolation,
          eager: options.debugEager ?? false,
          sandbox: { snapshotPath: snap.path ?? null, jsHeapMb: options.sandboxJsHeapMb ?? 512 },
          bridge: (req, from, owner) =>
            engineHost.handle(req, {
              owner,
              charge: (bytes) => from.chargeEngine(bytes),
              mayUseWeights: (pkgId) => from.loaded.has(pkgId),
            }),
          onRelease: (ids, owner) => engineHost.release(ids, owner),
          onOwnerGone: (owner) => engineHost.releaseOwner(owner),
          spawn: wasi
            ? (init, h) => wasi.spawn(h, { eager: init.eager, memoryMaxBytes: options.memoryLimitMb ? options.memoryLimitMb * 2 ** 20 : undefined })
            : undefined,
        }),
      );
    }
    let firstReadyMs = 0;
    try {
      await Promise.all(
        interps.map((i) =>
          i.ready().then(() => {
            firstReadyMs ||= performance.now() - started;
          }),
        ),
      );
    } catch (e) {
      await Promise.all(interps.map((i) => i.close()));
      await wasi?.close();
      throw e;
    }
    if (snap.source === "disk" && snap.path && interps.some((i) => i.lastBoot?.snapshotError)) {
      // The cached snapshot did not restore (corrupt, or another build): drop it so the next
      // process makes a fresh one instead of booting cold forever.
      rmSync(snap.path, { force: true });
    }
    managerRef.m = new InterpreterManager(interps, engineHost, options, {
      snapshot: snap.source,
      snapshotMs: snap.ms,
      snapshotPath: snap.path,
      wasmCompileMs,
      firstReadyMs,
      allReadyMs: performance.now() - started,
    });
    managerRef.m.#afterClose = wasi ? () => wasi.close() : undefined;
    return managerRef.m;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get sandboxed(): boolean {
    return (this.options.isolation ?? "sandboxed") === "sandboxed";
  }

  /** Load a torch.package archive from a path or bytes. Interpreters import it lazily, at first use. */
  async loadPackage(source: string | Uint8Array, options: LoadPackageOptions = {}): Promise<Package> {
    this.assertOpen();
    let bytes: Uint8Array;
    let label: string;
    if (typeof source === "string") {
      label = source;
      try {
        bytes = new Uint8Array(await readFile(source));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new PackageFormatError(
          code === "ENOENT" ? "file not found; check the path" : `cannot read the file (${code ?? String(e)})`,
          source,
        );
      }
    } else if (source instanceof Uint8Array) {
      label = "<bytes>";
      bytes = source;
    } else {
      throw new TypeError("loadPackage takes a file path or a Uint8Array of the archive's bytes");
    }
    const archive = parseTorchPackage(bytes, label, { ...this.options.archiveLimits, ...options.limits });
    this.assertOpen();
    const pkg = new Package(this, `p${this.#nextPackageId++}`, archive, {
      timeoutMs: options.callTimeoutMs,
      memoryLimitMb: options.memoryLimitMb,
      engineMemoryPerCallMb: options.engineMemoryPerCallMb,
    });
    this.#packages.add(pkg);
    return pkg;
  }

  /** An InterpreterSession on the least-loaded interpreter, held until release(). */
  async acquireOne(): Promise<InterpreterSession> {
    this.assertOpen();
    return this.sessionOn(this.pick());
  }

  /** Every interpreter, to run something on each (e.g. warm-up, configuration). */
  allInstances(): InterpreterInstance[] {
    return this.interpreters.map((i) => new InterpreterInstance(this, i));
  }

  /**
   * Make a module importable in every interpreter (now and after any respawn), as
   * torch::deploy's registerModuleSource does. Later registrations of the same name replace it.
   */
  async registerModuleSource(name: string, source: string): Promise<void> {
    this.assertOpen();
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) {
      throw new TypeError(`module name ${JSON.stringify(name)} is not a dotted Python identifier`);
    }
    const entry = { id: this.#nextModuleId++, name, source };
    this.#modules.push(entry);
    // Apply now on every live interpreter so errors surface here, not at some later call.
    try {
      await Promise.all(
        this.interpreters.filter((i) => i.alive).map((i) => this.invoke(i, "stats", {}, { context: `registering module ${name}` })),
      );
    } catch (e) {
      this.#modules = this.#modules.filter((m) => m !== entry);
      throw e;
    }
  }

  stats(): ManagerStats {
    return {
      boot: { ...this.bootStats },
      interpreters: this.interpreters.map((i) => ({
        index: i.index,
        state: i.state,
        generation: i.generation,
        load: i.load,
        completed: i.completed,
        crashes: i.crashes,
        heapBytes: i.heapBytes,
        residentBytes: i.residentBytes(),
        bootMs: i.lastBoot?.bootMs,
        fromSnapshot: i.lastBoot?.fromSnapshot,
      })),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#packages) p.markClosed();
    await Promise.all(this.interpreters.map((i) => i.close()));
    await this.engineHost.close();
    await this.#afterClose?.();
  }

  // ----- internal API used by Package, ReplicatedObj, sessions and handles -----

  /**
   * Least outstanding work wins; ties go round-robin so load spreads. Sandboxed, a package's
   * calls go only to interpreters that serve no other package (an interpreter switches
   * tenant by being replaced, the fallback when every interpreter serves someone else).
   */
  pick(pkg?: Package): Interpreter {
    const n = this.interpreters.length;
    const tenantOk = (i: Interpreter) => !this.sandboxed || !pkg || i.tenant === undefined || i.tenant === pkg.id;
    let best: Interpreter | undefined;
    for (const pass of [true, false]) {
      for (let k = 0; k < n; k++) {
        const cand = this.interpreters[(this.#rr + k) % n]!;
        if (!cand.alive || (pass && !tenantOk(cand))) continue;
        if (!best || cand.load < best.load) best = cand;
        if (best.load === 0) break;
      }
      if (best) break;
    }
    if (!best) throw new WasmdeployError("no interpreter is alive: every one failed to boot; see the earlier errors");
    this.#rr = (best.index + 1) % n;
    return best;
  }

  sessionOn(interp: Interpreter): InterpreterSession {
    this.assertOpen();
    return new InterpreterSession(this, interp);
  }

  forgetPackage(pkg: Package): void {
    this.#packages.delete(pkg);
  }

  /** Bytes of a package storage "<package id>/<key>", for the engine. */
  weightBytes(id: string): Uint8Array | undefined {
    const slash = id.indexOf("/");
    const pkgId = id.slice(0, slash);
    const key = id.slice(slash + 1);
    for (const p of this.#packages) if (p.id === pkgId) return p.archive.storageBytesOf(key);
    return undefined;
  }

  async invoke(
    target: Interpreter | undefined,
    op: string,
    payload: Record<string, unknown>,
    opts: InvokeOptions & CallLimits & { pkg?: Package; onHandle?: (h: PyObject) => void },
  ): Promise<unknown> {
    this.assertOpen();
    const holder: { interp: Interpreter } = { interp: undefined as unknown as Interpreter };
    const codec = new HandleCodec(this, (h) => this.trackHandle(h, opts.onHandle), holder, this.engineHost);
    const msg = encode(payload, codec);
    const pinned = codec.pinnedInterpreter();
    if (pinned && target && pinned !== target) {
      throw new WasmdeployError(
        `a Python object handle from interpreter ${pinned.index} was passed to a call on interpreter ${target.index}`,
      );
    }
    const interp = target ?? pinned ?? this.pick(opts.pkg);
    // Sandboxed: claim a free interpreter for this package now, so its next calls do not
    // scatter over other free interpreters while the package is still loading.
    if (this.sandboxed && opts.pkg && interp.tenant === undefined && interp.loaded.size === 0) interp.tenant = opts.pkg.id;
    holder.interp = interp;
    const pkg = opts.pkg;
    const spec: JobSpec = {
      op,
      msg,
      context: opts.context,
      timeoutMs: opts.timeoutMs ?? this.options.callTimeoutMs,
      memoryLimitBytes: mb(opts.memoryLimitMb ?? this.options.memoryLimitMb),
      engineBytesPerRun: mb(opts.engineMemoryPerCallMb ?? this.options.engineMemoryPerCallMb),
      prepare: (i) => this.prerequisite(i, pkg),
      // Inputs belong to the interpreter generation that runs the call (known only at dispatch).
      onStart: codec.tensorsPut.length ? (i) => this.engineHost.adopt(codec.tensorsPut, i.owner) : undefined,
      check: pkg ? () => (pkg.closed ? new ClosedError(`package ${pkg.label} was unloaded`) : undefined) : undefined,
    };
    let result;
    try {
      result = await interp.submit(spec);
    } catch (e) {
      // Inputs of a call that never reached Python are not Python's to release.
      if (e instanceof ClosedError || (e instanceof CallTimeoutError && e.how === "queued")) this.engineHost.release(codec.tensorsPut);
      throw e;
    }
    return decode(result, codec);
  }

  freeHandles(interp: Interpreter, generation: number, ids: number[]): void {
    if (this.#closed || interp.generation !== generation || !interp.alive) return;
    const msg = encode({ handles: ids });
    interp.submit({ op: "free", msg, context: "releasing handles" }).catch(() => {});
  }

  /** Submit an op to one interpreter without result decoding (package housekeeping). */
  housekeeping(interp: Interpreter, op: string, payload: Record<string, unknown>, context: string): Promise<unknown> {
    return interp.submit({ op, msg: encode(payload), context, prepare: (i) => this.prerequisite(i, undefined) });
  }

  private trackHandle(h: PyObject, onHandle?: (h: PyObject) => void) {
    this.#finalizer.register(h, { interp: h.interpreter, generation: h.generation, id: h.id }, h);
    onHandle?.(h);
  }

  /** What an interpreter must run before a job: registered modules, then the job's package. */
  private prerequisite(interp: Interpreter, pkg: Package | undefined): JobSpec | undefined {
    for (const m of this.#modules) {
      const key = `module:${m.id}`;
      if (!interp.loaded.has(key)) {
        return {
          op: "register_module",
          msg: encode({ name: m.name, source: m.source }),
          context: `registering module ${m.name}`,
          onDone: () => interp.loaded.add(key),
        };
      }
    }
    if (pkg && this.sandboxed && interp.tenant !== undefined && interp.tenant !== pkg.id) {
      return { op: "recycle", msg: encode(null), context: `switching interpreter ${interp.index} to ${pkg.label}`, recycle: true };
    }
    if (pkg && !pkg.closed && !interp.loaded.has(pkg.id)) {
      return {
        op: "load_package",
        msg: pkg.loadMessage(),
        context: `loading package ${pkg.label}`,
        onDone: () => {
          interp.loaded.add(pkg.id);
          if (this.sandboxed) interp.tenant = pkg.id;
        },
      };
    }
    return undefined;
  }

  private assertOpen() {
    if (this.#closed) throw new ClosedError("the interpreter manager is closed; create a new one");
  }
}

const mb = (x: number | undefined) => (x === undefined ? undefined : x * 2 ** 20);
