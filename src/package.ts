// A loaded torch.package archive (torch::deploy's Package) and the objects pickled in
// it (ReplicatedObj), unpickled lazily on each interpreter at first use there.

import { ClosedError, ResourceNotFoundError } from "./errors.js";
import type { Interpreter } from "./interpreter/interpreter.js";
import type { TorchPackageArchive } from "./package/archive.js";
import type { CallLimits, Disposable, PackageRef, PoolPort } from "./pool/port.js";
import { movables } from "./pool/port.js";
import type { HostRequest, ReplicatedAddress, WireMessage } from "./protocol.js";
import { type InterpreterSession, openSession } from "./session.js";
import { encode, sharedBuffers } from "./wire.js";

/**
 * A load_package reply's compiled code, checked for shape and bounded in size (it came out of an
 * interpreter; it goes only to interpreters of the same package, so it can harm no other).
 */
function compiledCode(reply: unknown, archive: TorchPackageArchive): { code: Record<string, Uint8Array>; code_prefix: string } | undefined {
  if (typeof reply !== "object" || reply === null) return undefined;
  const { prefix, code } = reply as { prefix?: unknown; code?: unknown };
  if (typeof prefix !== "string" || typeof code !== "object" || code === null) return undefined;
  let sourceBytes = 0;
  for (const [, bytes] of archive.codeAndData()) sourceBytes += bytes.byteLength;
  let total = 0;
  const out: Record<string, Uint8Array> = {};
  for (const [path, bytes] of Object.entries(code)) {
    if (!(bytes instanceof Uint8Array)) return undefined;
    total += bytes.byteLength;
    out[path] = bytes;
  }
  // Marshalled code is 1-2x its source; far more than that is not what compile_all makes.
  if (total > 8 * sourceBytes + 2 ** 20) return undefined;
  return { code: out, code_prefix: prefix };
}

/** Per-call limits: deadline (timeoutMs), interpreter memory and engine memory (MB). */
export type CallOptions = CallLimits;

let createPackage: (port: PoolPort, id: string, archive: TorchPackageArchive, limits: CallLimits) => Package;
/** What the pool sees of each package. */
const refs = new WeakMap<Package, PackageRef>();

export class Package {
  static {
    createPackage = (port, id, archive, limits) => {
      const pkg = new Package(port, id, archive, limits);
      let loadMessage: WireMessage | undefined;
      let code: { code: Record<string, Uint8Array>; code_prefix: string } | undefined;
      const build = () =>
        sharedBuffers(
          encode({
            pkg: id,
            label: pkg.label,
            files: Object.fromEntries(archive.codeAndData()),
            ...(code ?? (port.size > 1 ? { compile: true } : {})),
          }),
        );
      refs.set(pkg, {
        id,
        get label() {
          return pkg.label;
        },
        get closed() {
          return pkg.closed;
        },
        // The archive's code and data (all but storages), encoded once and sent to each interpreter;
        // until one of them has compiled the sources, it asks for that (when there are others to share it with).
        loadMessage: () => (loadMessage ??= build()),
        compiled: (reply) => {
          if (code || pkg.closed) return;
          code = compiledCode(reply, archive);
          if (!code) return;
          loadMessage = undefined;
          // Made while the first interpreter goes on with its job, not when the second needs it:
          // made then, it took 5 ms of the second interpreter's unpickling of resnet18 (22-33 ms).
          // A failure here (the archive's file gone) is left for that interpreter's load to report.
          setTimeout(() => {
            try {
              if (!pkg.closed) loadMessage ??= build();
            } catch {}
          }, 0);
        },
        storageBytes: (key) => archive.storageBytesOf(key),
        reloadableStorage: (key) =>
          archive.canEvictStorage(key) ? { reload: () => archive.storageBytesOf(key), evict: () => void archive.evictStorage(key) } : undefined,
        release: () => archive.close(),
      });
      return pkg;
    };
  }

  #closed = false;
  readonly #port: PoolPort;
  /** Process-unique id: the key of this package in every interpreter. */
  readonly id: string;
  readonly archive: TorchPackageArchive;
  /** Defaults for calls on this package's objects. */
  readonly limits: CallLimits;

  private constructor(port: PoolPort, id: string, archive: TorchPackageArchive, limits: CallLimits) {
    this.#port = port;
    this.id = id;
    this.archive = archive;
    this.limits = limits;
  }

  get label(): string {
    return this.archive.label;
  }

  /** Unloaded, or its manager closed. */
  get closed(): boolean {
    return this.#closed || this.#port.closed;
  }

  /** The object pickled at `<package>/<resource>` (e.g. "model", "model.pkl"), replicated across interpreters. */
  loadPickle(pkg: string, resource: string): ReplicatedObj {
    this.#assertOpen();
    if (!this.archive.hasPickle(pkg, resource)) {
      const known = this.archive.pickles.map((p) => `${p.package}/${p.resource}`);
      throw new ResourceNotFoundError(
        `${this.label} has no pickle ${pkg}/${resource}; it holds ${known.length ? known.join(", ") : "no pickles"}`,
      );
    }
    return newReplicated(this.#port, this, pkg, resource, {});
  }

  async loadText(pkg: string, resource: string, encoding = "utf-8"): Promise<string> {
    return new TextDecoder(encoding, { fatal: true }).decode(await this.loadBinary(pkg, resource));
  }

  async loadBinary(pkg: string, resource: string): Promise<Uint8Array> {
    this.#assertOpen();
    return this.archive.readResource(pkg, resource);
  }

  /**
   * Drop the package from every interpreter, and its weights and compiled graphs from the
   * engine. Pending calls on it fail with ClosedError.
   */
  async unload(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#port.unloadPackage(refs.get(this)!);
  }

  #assertOpen() {
    if (this.closed) throw new ClosedError(`package ${this.label} was unloaded; load it again`);
  }
}

/** @internal A Package on `port` (the manager makes them), and what the pool sees of it. */
export function makePackage(port: PoolPort, id: string, archive: TorchPackageArchive, limits: CallLimits): { pkg: Package; ref: PackageRef } {
  const pkg = createPackage(port, id, archive, limits);
  return { pkg, ref: refs.get(pkg)! };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface ReplicatedState {
  port: PoolPort;
  options: CallOptions;
  /** Shared by every withOptions() view of the same object. */
  unloaded: { value: boolean };
  /** The package's limits overridden by `options` (made on the first call). */
  limits?: Partial<CallOptions>;
}

const replicated = new WeakMap<ReplicatedObj, ReplicatedState>();
let createReplicated: (pkg: Package, packageName: string, resource: string) => ReplicatedObj;

function newReplicated(port: PoolPort, pkg: Package, packageName: string, resource: string, options: CallOptions, unloaded = { value: false }) {
  const obj = createReplicated(pkg, packageName, resource);
  replicated.set(obj, { port, options, unloaded });
  movables.set(obj, (target, onHandle) => run(obj, { op: "target", payload: { ...obj.address, as_handle: true } }, `getting ${obj.name}`, target, onHandle));
  return obj;
}

/**
 * An object pickled in a package, callable on any interpreter (torch::deploy's
 * ReplicatedObj). Each call goes to the least-loaded interpreter; the pickle is loaded
 * there on first use, once.
 */
export class ReplicatedObj {
  static {
    createReplicated = (pkg, packageName, resource) => new ReplicatedObj(pkg, packageName, resource);
  }

  /** The wire address of this object inside an interpreter (made once: every call sends it). */
  readonly address: ReplicatedAddress;
  /** What errors of its calls say they were doing (made once). */
  #callContext?: string;

  private constructor(
    readonly pkg: Package,
    readonly packageName: string,
    readonly resource: string,
  ) {
    this.address = Object.freeze({ pkg: pkg.id, package: packageName, resource });
  }

  get name(): string {
    return `${this.packageName}/${this.resource}`;
  }

  /** The same object with per-call options, e.g. `obj.withOptions({ timeoutMs: 100 }).call(x)`. */
  withOptions(options: CallOptions): ReplicatedObj {
    const s = replicated.get(this)!;
    return newReplicated(s.port, this.pkg, this.packageName, this.resource, { ...s.options, ...options }, s.unloaded);
  }

  call(...args: unknown[]): Promise<unknown> {
    return this.callKwargs(args, {});
  }

  callKwargs(args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    const { pkg, package: name, resource } = this.address;
    this.#callContext ??= `calling ${this.name}`;
    return run(this, { op: "call", payload: { pkg, package: name, resource, args, kwargs } }, this.#callContext);
  }

  callMethod(method: string, ...args: unknown[]): Promise<unknown> {
    return this.callMethodKwargs(method, args, {});
  }

  callMethodKwargs(method: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    return run(this, { op: "call", payload: { ...this.address, method, args, kwargs } }, `calling ${this.name}.${method}`);
  }

  getattr(name: string): Promise<unknown> {
    return run(this, { op: "getattr", payload: { ...this.address, name } }, `reading ${this.name}.${name}`);
  }

  async hasattr(name: string): Promise<boolean> {
    return (await run(this, { op: "hasattr", payload: { ...this.address, name } }, `hasattr(${this.name}, ${name})`)) as boolean;
  }

  /** A session pinned to one interpreter: the least loaded, or interpreter number `interpreter`. */
  acquireSession(interpreter?: number): InterpreterSession {
    assertUsable(this);
    const { port } = replicated.get(this)!;
    return openSession(port, port.interpreterFor(refs.get(this.pkg), interpreter));
  }

  /** Drop this object from every interpreter; later calls fail with ClosedError. */
  async unload(): Promise<void> {
    const s = replicated.get(this)!;
    if (s.unloaded.value) return;
    s.unloaded.value = true;
    await s.port.dropReplicated(this.address);
  }
}

function assertUsable(obj: ReplicatedObj) {
  if (replicated.get(obj)!.unloaded.value) throw new ClosedError(`${obj.name} was unloaded; call pkg.loadPickle again`);
  if (obj.pkg.closed) throw new ClosedError(`package ${obj.pkg.label} was unloaded; load it again`);
}

/** @internal Run an operation on the object: on `on` (sessions, tests) or the least-loaded interpreter. */
export function run(obj: ReplicatedObj, req: HostRequest, context: string, on?: Interpreter, onHandle?: (h: Disposable) => void): Promise<unknown> {
  try {
    assertUsable(obj);
  } catch (e) {
    return Promise.reject(e);
  }
  const state = replicated.get(obj)!;
  // The package's limits and this view's options do not change: merged once, not per call.
  const limits = (state.limits ??= { ...definedOnly(obj.pkg.limits), ...definedOnly(state.options) });
  // Field by field (CallLimits), not a spread: this runs on every call.
  return state.port.invoke(on, req, {
    timeoutMs: limits.timeoutMs,
    memoryLimitMb: limits.memoryLimitMb,
    engineMemoryPerCallMb: limits.engineMemoryPerCallMb,
    context,
    pkg: refs.get(obj.pkg),
    onHandle,
  });
}
