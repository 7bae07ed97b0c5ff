// A loaded torch.package archive (torch::deploy's Package) and the objects pickled in
// it (ReplicatedObj), unpickled lazily on each interpreter at first use there.

import { ClosedError, ResourceNotFoundError } from "./errors.js";
import type { Interpreter } from "./interpreter/interpreter.js";
import type { CallLimits, InterpreterManager } from "./manager.js";
import type { PyObject } from "./objects.js";
import type { TorchPackageArchive } from "./package/archive.js";
import type { InterpreterSession } from "./session.js";
import { encode, type WireMessage } from "./wire.js";

export class Package {
  #closed = false;
  #loadMessage?: WireMessage;

  constructor(
    private readonly manager: InterpreterManager,
    /** Process-unique id: the key of this package in every interpreter. */
    readonly id: string,
    readonly archive: TorchPackageArchive,
    /** Defaults for calls on this package's objects. */
    readonly limits: CallLimits = {},
  ) {}

  get label(): string {
    return this.archive.label;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The object pickled at `<package>/<resource>` (e.g. "model", "model.pkl"), replicated across interpreters. */
  loadPickle(pkg: string, resource: string): ReplicatedObj {
    this.assertOpen();
    if (!this.archive.hasPickle(pkg, resource)) {
      const known = this.archive.pickles.map((p) => `${p.package}/${p.resource}`);
      throw new ResourceNotFoundError(
        `${this.label} has no pickle ${pkg}/${resource}; it holds ${known.length ? known.join(", ") : "no pickles"}`,
      );
    }
    return new ReplicatedObj(this.manager, this, pkg, resource);
  }

  async loadText(pkg: string, resource: string, encoding = "utf-8"): Promise<string> {
    return new TextDecoder(encoding, { fatal: true }).decode(await this.loadBinary(pkg, resource));
  }

  async loadBinary(pkg: string, resource: string): Promise<Uint8Array> {
    this.assertOpen();
    return this.archive.readResource(pkg, resource);
  }

  /** Drop the package from every interpreter. Pending calls on it fail with ClosedError. */
  async unload(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.manager.forgetPackage(this);
    await Promise.all(
      this.manager.interpreters
        .filter((i) => i.alive && i.loaded.has(this.id))
        .map((i) => {
          i.loaded.delete(this.id);
          return this.manager.housekeeping(i, "unload_package", { pkg: this.id }, `unloading ${this.label}`).catch(() => {});
        }),
    );
  }

  /** The archive's code and data (all but storages), encoded once and sent to each interpreter. */
  loadMessage(): WireMessage {
    this.#loadMessage ??= encode({
      pkg: this.id,
      label: this.label,
      files: Object.fromEntries(this.archive.codeAndData()),
    });
    return this.#loadMessage;
  }

  markClosed(): void {
    this.#closed = true;
  }

  private assertOpen() {
    if (this.#closed) throw new ClosedError(`package ${this.label} was unloaded; load it again`);
  }
}

/** Per-call limits: deadline (timeoutMs), interpreter memory and engine memory (MB). */
export type CallOptions = CallLimits;

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * An object pickled in a package, callable on any interpreter (torch::deploy's
 * ReplicatedObj). Each call goes to the least-loaded interpreter; the pickle is loaded
 * there on first use, once.
 */
export class ReplicatedObj {
  #unloaded = false;

  constructor(
    private readonly manager: InterpreterManager,
    readonly pkg: Package,
    readonly packageName: string,
    readonly resource: string,
    private readonly callOptions: CallOptions = {},
  ) {}

  get name(): string {
    return `${this.packageName}/${this.resource}`;
  }

  /** The same object with per-call options, e.g. `obj.withOptions({ timeoutMs: 100 }).call(x)`. */
  withOptions(options: CallOptions): ReplicatedObj {
    return new ReplicatedObj(this.manager, this.pkg, this.packageName, this.resource, { ...this.callOptions, ...options });
  }

  call(...args: unknown[]): Promise<unknown> {
    return this.callKwargs(args, {});
  }

  callKwargs(args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    return this.run("call", { args, kwargs }, `calling ${this.name}`);
  }

  callMethod(method: string, ...args: unknown[]): Promise<unknown> {
    return this.callMethodKwargs(method, args, {});
  }

  callMethodKwargs(method: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    return this.run("call", { method, args, kwargs }, `calling ${this.name}.${method}`);
  }

  getattr(name: string): Promise<unknown> {
    return this.run("getattr", { name }, `reading ${this.name}.${name}`);
  }

  async hasattr(name: string): Promise<boolean> {
    return (await this.run("hasattr", { name }, `hasattr(${this.name}, ${name})`)) as boolean;
  }

  /** A session pinned to one interpreter (the least loaded, or the one given). */
  acquireSession(interpreter?: number | Interpreter): InterpreterSession {
    this.assertUsable();
    if (interpreter === undefined) return this.manager.sessionOn(this.manager.pick(this.pkg));
    const interp = typeof interpreter === "number" ? this.manager.interpreters[interpreter] : interpreter;
    if (!interp) throw new RangeError(`no interpreter ${String(interpreter)}; the manager has ${this.manager.interpreters.length}`);
    return this.manager.sessionOn(interp);
  }

  /** Drop this object from every interpreter; later calls fail with ClosedError. */
  async unload(): Promise<void> {
    if (this.#unloaded) return;
    this.#unloaded = true;
    await Promise.all(
      this.manager.interpreters
        .filter((i) => i.alive && i.loaded.has(this.pkg.id))
        .map((i) =>
          this.manager
            .housekeeping(i, "drop_replicated", this.address(), `unloading ${this.name}`)
            .catch(() => {}),
        ),
    );
  }

  /** The wire address of this object inside an interpreter. */
  address(): { pkg: string; package: string; resource: string } {
    return { pkg: this.pkg.id, package: this.packageName, resource: this.resource };
  }

  /** Run on a given interpreter (sessions) or the least-loaded one. */
  run(
    op: string,
    payload: Record<string, unknown>,
    context: string,
    on?: Interpreter,
    onHandle?: (h: PyObject) => void,
  ): Promise<unknown> {
    try {
      this.assertUsable();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.manager.invoke(on, op, { ...this.address(), ...payload }, {
      ...definedOnly(this.pkg.limits),
      ...definedOnly(this.callOptions),
      context,
      pkg: this.pkg,
      onHandle,
    });
  }

  private assertUsable() {
    if (this.#unloaded) throw new ClosedError(`${this.name} was unloaded; call pkg.loadPickle again`);
    if (this.pkg.closed) throw new ClosedError(`package ${this.pkg.label} was unloaded; load it again`);
  }
}
