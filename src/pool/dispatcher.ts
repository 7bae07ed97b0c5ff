// The pool's dispatcher: the one owner of every interpreter and of everything the host knows
// about each (the packages and modules loaded into it, its tenant, the sessions pinned to it).
// It balances jobs, runs each job's prerequisites, enforces tenancy, and serves the engine
// bridge. InterpreterManager is a façade over it; Package, ReplicatedObj, InterpreterSession
// and PyObject reach it only through PoolPort.

import { EngineHost, type EngineLike, type ReloadableWeight, type Requester } from "../bridge/engine-host.js";
import { CallTimeoutError, ClosedError, WasmdeployError } from "../errors.js";
import { Interpreter, type JobSpec, LocalResult } from "../interpreter/interpreter.js";
import type { TransportFactory } from "../interpreter/transport.js";
import { type PyObject, refOf } from "../objects.js";
import type { Tensor } from "../tensor.js";
import type { EngineName, HostRequest, ReplicatedAddress, WireMessage } from "../protocol.js";
import { decode, encode } from "../wire.js";
import { chooseInterpreter } from "./balance.js";
import { HandleCodec } from "./codec.js";
import { fastCall, HostReplay } from "./host-replay.js";
import type { CallLimits, InvokeOptions, PackageRef, PoolPort } from "./port.js";

export interface PoolOptions {
  count: number;
  /** Starts one interpreter generation (the platform's transport). */
  spawn: TransportFactory;
  /** Sandboxed isolation: hardened realms and one package per interpreter (exclusive tenancy). */
  sandboxed: boolean;
  eager: boolean;
  interruptGraceMs: number;
  onOutput: (interpreter: number, stream: "stdout" | "stderr", text: string) => void;
  /** The manager's defaults for every call. */
  defaults: CallLimits;
  engineName: EngineName;
  /** Makes the engine, at the first tensor operation. */
  createEngine: () => Promise<EngineLike>;
  /** Answer repeat calls of replayed one-graph traces on the host (src/pool/host-replay.ts). Default true. */
  hostReplay?: boolean;
  /** Bytes of engine tensors each interpreter may hold across calls; undefined: no bound. */
  engineHeldBytes?: number;
  /** Replace an interpreter after a call that left its memory above this; undefined: never. */
  recycleAboveBytes?: number;
}

/** What the pool knows of one interpreter generation. */
interface GenerationState {
  generation: number;
  /** Prerequisites done in this generation: package ids and "module:<id>". */
  loaded: Set<string>;
  /** Exclusive tenancy: the one package this generation serves. */
  tenant?: string;
}

interface Slot {
  interp: Interpreter;
  gen: GenerationState;
  /** Sessions pinned to this interpreter (they outlive respawns). */
  sessions: number;
  /** The engine host's view of the current generation (#requester). */
  requester?: Requester;
}

const mb = (x: number | undefined) => (x === undefined ? undefined : x * 2 ** 20);

export class Pool implements PoolPort {
  readonly #slots: Slot[];
  readonly #byInterp = new Map<Interpreter, Slot>();
  readonly #opts: PoolOptions;
  readonly engineHost: EngineHost;
  /** Undefined when host replay is off. */
  readonly hostReplay?: HostReplay;
  #closed = false;
  #rr = 0;
  #modules: { id: number; name: string; source: string }[] = [];
  #nextModuleId = 1;
  readonly #packages = new Map<string, PackageRef>();
  readonly #finalizer = new FinalizationRegistry<{ interp: Interpreter; generation: number; id: number }>((h) =>
    this.#freeHandles(h.interp, h.generation, [h.id]),
  );

  constructor(opts: PoolOptions) {
    this.#opts = opts;
    this.engineHost = new EngineHost(
      opts.createEngine,
      Object.assign((id: string) => this.#weightBytes(id), { reloadable: (id: string) => this.#reloadable(id) }),
      () => this.#slots.reduce((n, s) => n + s.interp.pending, 0),
    );
    if (opts.hostReplay !== false) this.hostReplay = new HostReplay(this.engineHost);
    const hostReplay = this.hostReplay;
    this.#slots = [];
    for (let index = 0; index < opts.count; index++) {
      const interp = new Interpreter({
        index,
        spawn: opts.spawn,
        sandboxed: opts.sandboxed,
        eager: opts.eager,
        interruptGraceMs: opts.interruptGraceMs,
        onOutput: opts.onOutput,
        bridge: (req, from, owner) => this.engineHost.handle(req, this.#requester(from, owner)),
        onRelease: (ids, owner) => this.engineHost.release(ids, owner),
        onOwnerGone: (owner) => this.engineHost.releaseOwner(owner),
        onSend: hostReplay ? (i) => hostReplay.invalidate(i) : undefined,
        recycleAboveBytes: opts.recycleAboveBytes,
      });
      const slot: Slot = { interp, gen: { generation: interp.generation, loaded: new Set() }, sessions: 0 };
      this.#slots.push(slot);
      this.#byInterp.set(interp, slot);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get size(): number {
    return this.#slots.length;
  }

  get interpreters(): readonly Interpreter[] {
    return this.#slots.map((s) => s.interp);
  }

  /** Resolves when every interpreter booted; calls `onFirst` when the first one did. */
  async ready(onFirst: () => void): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.interp.ready().then(onFirst)));
  }

  addPackage(pkg: PackageRef): void {
    this.#packages.set(pkg.id, pkg);
  }

  /** Queued + running jobs + pinned sessions of one interpreter. */
  load(interp: Interpreter): number {
    return interp.pending + this.#byInterp.get(interp)!.sessions;
  }

  /** Test and diagnostics view: the tenant of each interpreter (sandboxed), by index. */
  tenants(): (string | undefined)[] {
    return this.#slots.map((s) => this.#state(s.interp).tenant);
  }

  // ----- PoolPort -----

  interpreterFor(pkg: PackageRef | undefined, index?: number): Interpreter {
    this.#assertOpen();
    if (index === undefined) return this.#pick(pkg);
    const slot = Number.isInteger(index) ? this.#slots[index] : undefined;
    if (!slot) throw new RangeError(`no interpreter ${String(index)}; the manager has ${this.#slots.length}`);
    return slot.interp;
  }

  sessionOpened(interp: Interpreter): void {
    this.#byInterp.get(interp)!.sessions++;
  }

  sessionClosed(interp: Interpreter): void {
    this.#byInterp.get(interp)!.sessions--;
  }

  async invoke(target: Interpreter | undefined, req: HostRequest, opts: InvokeOptions): Promise<unknown> {
    this.#assertOpen();
    const codec = new HandleCodec(this, this.engineHost, (h) => this.#trackHandle(h, opts.onHandle));
    const hr = this.hostReplay;
    // With host replay off, Python need not build plans only to have them dropped.
    const payload = req.op === "call" && !hr ? { ...req.payload, no_plan: true } : req.payload;
    // A call of tensors alone whose like was encoded before has a known signature: its message
    // is made only if Python has to run it (the host answers most such calls alone).
    const fast = hr && req.op === "call" ? fastCall(payload as Record<string, unknown>) : undefined;
    let sig = fast === undefined ? undefined : hr!.knownSignature(fast);
    let msg: WireMessage | ((i: Interpreter) => WireMessage);
    if (sig !== undefined) {
      codec.argsOnly(fast!.args);
      // Encoded only when Python runs the call: its tensors enter the store then, as that interpreter's.
      msg = (i) => {
        const m = encode(payload, codec);
        this.engineHost.adopt(codec.tensorsPut, i.owner);
        return m;
      };
    } else {
      msg = encode(payload, codec);
      // Calls of replicated objects only: a handle's object is reachable from the host at any time.
      sig = hr && req.op === "call" && !("handle" in payload) ? hr.signature(msg, codec.passed.length) : undefined;
      if (fast !== undefined && sig !== undefined) hr!.rememberSignature(fast, sig);
    }
    const pinned = codec.pinnedInterpreter();
    if (pinned && target && pinned !== target) {
      throw new WasmdeployError(
        `a Python object handle from interpreter ${pinned.index} was passed to a call on interpreter ${target.index}`,
      );
    }
    const interp = target ?? pinned ?? this.#pick(opts.pkg);
    const pkg = opts.pkg;
    const state = this.#state(interp);
    // Exclusive tenancy: claim a free interpreter for this package now, so its next calls do
    // not scatter over other free interpreters while the package is still loading.
    if (this.#opts.sandboxed && pkg && state.tenant === undefined && state.loaded.size === 0) state.tenant = pkg.id;
    codec.target = interp;
    const d = this.#opts.defaults;
    const spec: JobSpec = {
      op: req.op,
      msg,
      context: opts.context,
      timeoutMs: opts.timeoutMs ?? d.timeoutMs,
      memoryLimitBytes: mb(opts.memoryLimitMb ?? d.memoryLimitMb),
      engineBytesPerRun: mb(opts.engineMemoryPerCallMb ?? d.engineMemoryPerCallMb),
      prepare: (i) => this.#prerequisite(i, pkg),
      // Inputs belong to the interpreter generation that runs the call (known only at dispatch).
      onStart: codec.tensorsPut.length ? (i) => this.engineHost.adopt(codec.tensorsPut, i.owner) : undefined,
      check: pkg ? () => (pkg.closed ? new ClosedError(`package ${pkg.label} was unloaded`) : undefined) : undefined,
      local: hr && sig !== undefined ? (i) => hr.run(i, sig, codec.tensorArgs, codec.tensorsPut, this.#requester(i)) : undefined,
      // Only with host replay on does Python put a plan before a call's result (no_plan above).
      onReply: hr && req.op === "call" ? (m) => hr.takePlan(interp, sig, m) : undefined,
    };
    let result;
    try {
      result = await interp.submit(spec);
    } catch (e) {
      // Inputs of a call that never reached Python are not Python's to release.
      if (e instanceof ClosedError || (e instanceof CallTimeoutError && e.how === "queued")) this.engineHost.release(codec.tensorsPut);
      throw e;
    }
    if (result instanceof LocalResult) return result.value;
    return decode(result, codec);
  }

  disposeHandle(handle: object, interp: Interpreter, generation: number, id: number): void {
    // Registered with itself as the token: left registered, a disposed handle was freed a second
    // time whenever V8 collected it, and that "free", like anything sent to an interpreter, voided
    // its host-replay plans at a moment only the collector chose (the next call entered Python).
    this.#finalizer.unregister(handle);
    this.#freeHandles(interp, generation, [id]);
  }

  #freeHandles(interp: Interpreter, generation: number, ids: number[]): void {
    if (this.#closed || interp.generation !== generation || !interp.alive) return;
    interp.submit({ op: "free", msg: encode({ handles: ids }), context: "releasing handles" }).catch(() => {});
  }

  async dropReplicated(address: ReplicatedAddress): Promise<void> {
    await Promise.all(
      this.#holding(address.pkg).map((i) => this.#housekeeping(i, { op: "drop_replicated", payload: address }, `unloading ${address.package}/${address.resource}`)),
    );
  }

  async unloadPackage(pkg: PackageRef): Promise<void> {
    this.#packages.delete(pkg.id);
    const holders = this.#holding(pkg.id);
    for (const i of holders) this.#state(i).loaded.delete(pkg.id);
    await Promise.all(holders.map((i) => this.#housekeeping(i, { op: "unload_package", payload: { pkg: pkg.id } }, `unloading ${pkg.label}`)));
    // Its weights, in every engine thread, and the compiled graphs that read them.
    await this.engineHost.releasePackage(pkg.id);
    pkg.release?.();
  }

  // ----- the manager's own operations -----

  /**
   * Make a module importable in every interpreter (now and after any respawn). Applied now on
   * every live interpreter so errors surface here, not at some later call.
   */
  async registerModule(name: string, source: string): Promise<void> {
    this.#assertOpen();
    const entry = { id: this.#nextModuleId++, name, source };
    this.#modules.push(entry);
    try {
      await Promise.all(
        this.#slots
          .filter((s) => s.interp.alive)
          .map((s) => this.invoke(s.interp, { op: "stats", payload: {} }, { context: `registering module ${name}` })),
      );
    } catch (e) {
      this.#modules = this.#modules.filter((m) => m !== entry);
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const packages = [...this.#packages.values()];
    this.#packages.clear();
    await Promise.all(this.#slots.map((s) => s.interp.close()));
    await this.engineHost.close();
    for (const p of packages) p.release?.();
  }

  // ----- internals -----

  /** The state of the interpreter's current generation (fresh after every respawn). */
  #state(interp: Interpreter): GenerationState {
    const slot = this.#byInterp.get(interp)!;
    if (slot.gen.generation !== interp.generation) slot.gen = { generation: interp.generation, loaded: new Set() };
    return slot.gen;
  }

  #pick(pkg?: PackageRef): Interpreter {
    // The round-robin next one, idle on an idle thread and free to serve pkg, is what
    // chooseInterpreter picks (the first it looks at, and nothing beats it): found without
    // building its views, on every call of a lone caller.
    const next = this.#slots[this.#rr];
    if (next && this.#idleFor(next, pkg)) {
      this.#rr = (this.#rr + 1) % this.#slots.length;
      return next.interp;
    }
    const views = this.#slots.map((s) => ({ alive: s.interp.alive, load: this.load(s.interp), tenant: this.#state(s.interp).tenant, thread: s.interp.thread }));
    const i = chooseInterpreter(views, this.#rr, pkg?.id, this.#opts.sandboxed);
    if (i < 0) throw new WasmdeployError("no interpreter is alive: every one failed to boot; see the earlier errors");
    this.#rr = (i + 1) % this.#slots.length;
    return this.#slots[i]!.interp;
  }

  /** Alive, no load, alone on its thread or on one where no interpreter has load, and not another package's tenant. */
  #idleFor(slot: Slot, pkg: PackageRef | undefined): boolean {
    const { interp } = slot;
    if (!interp.alive || this.load(interp) !== 0) return false;
    if (this.#opts.sandboxed && pkg) {
      const tenant = this.#state(interp).tenant;
      if (tenant !== undefined && tenant !== pkg.id) return false;
    }
    const thread = interp.thread;
    if (thread !== undefined) for (const s of this.#slots) if (s.interp.thread === thread && s.interp.alive && this.load(s.interp) !== 0) return false;
    return true;
  }

  /** Live interpreters whose current generation loaded package `pkgId`. */
  #holding(pkgId: string): Interpreter[] {
    return this.#slots.map((s) => s.interp).filter((i) => i.alive && this.#state(i).loaded.has(pkgId));
  }

  /** An op with no result to decode (package housekeeping); failures are moot (the interpreter is gone). */
  #housekeeping(interp: Interpreter, req: HostRequest, context: string): Promise<unknown> {
    return interp
      .submit({ op: req.op, msg: encode(req.payload), context, prepare: (i) => this.#prerequisite(i, undefined) })
      .catch(() => {});
  }

  #trackHandle(h: PyObject, onHandle?: (h: PyObject) => void) {
    this.#finalizer.register(h, handleKey(h), h);
    onHandle?.(h);
  }

  /** An interpreter generation as the engine host sees it: what it owns, may read, and is charged. */
  #requester(from: Interpreter, owner = from.owner): Requester {
    // One per interpreter generation, kept: host-replayed calls ask for it on every call.
    const slot = this.#byInterp.get(from)!;
    if (slot.requester?.owner === owner) return slot.requester;
    const pool = this;
    const requester: Requester = {
      owner,
      // Sandboxed, an interpreter serves one package: its specs and compiled graphs count
      // against that package's share. Trusted interpreters each have a share of their own.
      // Read at each use: the tenant is claimed when the first package loads.
      get tenant() {
        return pool.#state(from).tenant ?? owner;
      },
      maxHeldBytes: this.#opts.engineHeldBytes,
      charge: (bytes) => from.chargeEngine(bytes),
      reserve: (bytes) => from.reserveEngine(bytes),
      mayUseWeights: (pkgId) => this.#state(from).loaded.has(pkgId),
    };
    if (owner === from.owner) slot.requester = requester;
    return requester;
  }

  /** The package of storage "<package id>/<key>", and the key. */
  #storage(id: string): [PackageRef | undefined, string] {
    const slash = id.indexOf("/");
    return [this.#packages.get(id.slice(0, slash)), id.slice(slash + 1)];
  }

  /** Bytes of a package storage, for the engine. */
  #weightBytes(id: string): Uint8Array | undefined {
    const [pkg, key] = this.#storage(id);
    return pkg?.storageBytes(key);
  }

  /** How to let a package storage's bytes go and read them again, if its package can. */
  #reloadable(id: string): ReloadableWeight | undefined {
    const [pkg, key] = this.#storage(id);
    return pkg?.reloadableStorage?.(key);
  }

  /** What an interpreter must run before a job: registered modules, then the job's package. */
  #prerequisite(interp: Interpreter, pkg: PackageRef | undefined): JobSpec | undefined {
    const state = this.#state(interp);
    for (const m of this.#modules) {
      const key = `module:${m.id}`;
      if (!state.loaded.has(key)) {
        return {
          op: "register_module",
          msg: encode({ name: m.name, source: m.source }),
          context: `registering module ${m.name}`,
          onDone: () => state.loaded.add(key),
        };
      }
    }
    if (pkg && this.#opts.sandboxed && state.tenant !== undefined && state.tenant !== pkg.id) {
      return { op: "stats", msg: encode({}), context: `switching interpreter ${interp.index} to ${pkg.label}`, recycle: true };
    }
    if (pkg && !pkg.closed && !state.loaded.has(pkg.id)) {
      return {
        op: "load_package",
        msg: pkg.loadMessage(),
        context: `loading package ${pkg.label}`,
        onDone: (reply) => {
          pkg.compiled(decode(reply));
          state.loaded.add(pkg.id);
          if (this.#opts.sandboxed) state.tenant = pkg.id;
        },
      };
    }
    return undefined;
  }

  #assertOpen() {
    if (this.#closed) throw new ClosedError("the interpreter manager is closed; create a new one");
  }
}

/** The finalizer's key for a handle: a copy of its ref, so it does not keep the handle alive. */
function handleKey(h: PyObject) {
  const r = refOf(h);
  return { interp: r.interp, generation: r.generation, id: r.id };
}
