// The narrow interface through which Package, ReplicatedObj, InterpreterSession and PyObject
// reach the pool, and the few facts they hand it. Nothing here is public API.

import type { ReloadableWeight } from "../bridge/engine-host.js";
import type { Interpreter } from "../interpreter/interpreter.js";
import type { HostRequest, ReplicatedAddress, WireMessage } from "../protocol.js";

/** Per-call limits, resolved from the call, its package and the manager. */
export interface CallLimits {
  timeoutMs?: number;
  memoryLimitMb?: number;
  engineMemoryPerCallMb?: number;
}

/** What the pool needs to know of a loaded package. */
export interface PackageRef {
  readonly id: string;
  readonly label: string;
  readonly closed: boolean;
  /** The archive's code and data, as sent to each interpreter that serves it (with compiled code once there is some). */
  loadMessage(): WireMessage;
  /**
   * The reply of a load_package that compiled the sources (the first interpreter's): later
   * interpreters get its marshalled code instead of compiling (runtime's package_importer).
   */
  compiled(reply: unknown): void;
  /** Bytes of one of its weight storages (for the engine), read again from its file if they were let go. */
  storageBytes(key: string): Uint8Array | undefined;
  /** For a storage whose bytes can be let go and read again from the package's file: how. */
  reloadableStorage?(key: string): ReloadableWeight | undefined;
  /** The package is gone: close its file. */
  release?(): void;
}

/** Anything a call can produce a handle into (a PyObject), seen only as disposable. */
export interface Disposable {
  dispose(): void;
}

export interface InvokeOptions extends CallLimits {
  /** Human description for errors, e.g. "calling tok.encode". */
  context: string;
  /** The package whose code the call runs (prerequisite and tenancy). */
  pkg?: PackageRef;
  /** Called with every handle the result holds (sessions release them with themselves). */
  onHandle?: (h: Disposable) => void;
}

export interface PoolPort {
  readonly closed: boolean;
  /** Number of interpreters. */
  readonly size: number;
  /** Run an operation on `target`, on the interpreter the arguments' handles live in, or on the least-loaded one. */
  invoke(target: Interpreter | undefined, req: HostRequest, opts: InvokeOptions): Promise<unknown>;
  /** The interpreter a new session for `pkg` should pin (least loaded), or interpreter `index`. */
  interpreterFor(pkg: PackageRef | undefined, index?: number): Interpreter;
  /** Pinned sessions count as load for balancing. */
  sessionOpened(interp: Interpreter): void;
  sessionClosed(interp: Interpreter): void;
  /**
   * Release the Python object behind a handle its owner disposed (`handle` is the PyObject): once,
   * now, and not again when the handle is collected.
   */
  disposeHandle(handle: object, interp: Interpreter, generation: number, id: number): void;
  /** Drop an unpickled object from every interpreter that holds it. */
  dropReplicated(address: ReplicatedAddress): Promise<void>;
  /** Drop a package from every interpreter and its weights from the engine. */
  unloadPackage(pkg: PackageRef): Promise<void>;
}

/** How a session brings a replicated object onto its interpreter. */
export type MoveFn = (target: Interpreter, onHandle: (h: Disposable) => void) => Promise<unknown>;

/** ReplicatedObj registers itself here; InterpreterSession.fromMovable looks it up. */
export const movables = new WeakMap<object, MoveFn>();
