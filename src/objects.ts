// Handles to Python objects that live in one interpreter (torch::deploy's `Obj`).

import { ClosedError } from "./errors.js";
import type { Interpreter } from "./interpreter/interpreter.js";
import type { PoolPort } from "./pool/port.js";

/** Where a handle points: one object in one interpreter generation. */
export interface HandleRef {
  readonly interp: Interpreter;
  readonly generation: number;
  readonly id: number;
}

const refs = new WeakMap<PyObject, HandleRef>();
let create: (port: PoolPort, ref: HandleRef, pyType: string) => PyObject;

/**
 * A Python object held in one interpreter. Valid until disposed, its session is released, or
 * its interpreter is respawned. Pass it back as an argument to calls on the same interpreter.
 */
export class PyObject {
  static {
    create = (port, ref, pyType) => {
      const h = new PyObject(port, pyType);
      refs.set(h, ref);
      return h;
    };
  }

  #disposed = false;
  readonly #port: PoolPort;
  /** Python type of the object, e.g. "builtins.function" or "toy_tokenizer.Tokenizer". */
  readonly pyType: string;

  private constructor(port: PoolPort, pyType: string) {
    this.#port = port;
    this.pyType = pyType;
  }

  /** Index of the interpreter the object lives in. */
  get interpreter(): number {
    return refs.get(this)!.interp.index;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  call(...args: unknown[]): Promise<unknown> {
    return this.callKwargs(args, {});
  }

  callKwargs(args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    return this.#run({ op: "call", payload: { handle: this, args, kwargs } }, `calling ${this.pyType}`);
  }

  callMethod(name: string, ...args: unknown[]): Promise<unknown> {
    return this.callMethodKwargs(name, args, {});
  }

  callMethodKwargs(name: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    return this.#run({ op: "call", payload: { handle: this, method: name, args, kwargs } }, `calling ${this.pyType}.${name}`);
  }

  /** The attribute's value: plain data arrives as JS values, anything else as a PyObject. */
  getattr(name: string): Promise<unknown> {
    return this.#run({ op: "getattr", payload: { handle: this, name } }, `reading ${this.pyType}.${name}`);
  }

  /** The attribute as a handle, whatever its type. */
  attr(name: string): Promise<PyObject> {
    return this.#run({ op: "getattr", payload: { handle: this, name, as_handle: true } }, `reading ${this.pyType}.${name}`) as Promise<PyObject>;
  }

  async hasattr(name: string): Promise<boolean> {
    return (await this.#run({ op: "hasattr", payload: { handle: this, name } }, `hasattr(${this.pyType}, ${name})`)) as boolean;
  }

  /** Convert the object to a JS value (fails for objects that are not plain data). */
  toJs(): Promise<unknown> {
    return this.#run({ op: "target", payload: { handle: this } }, `converting ${this.pyType}`);
  }

  /** Release the Python object in its interpreter. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const ref = refs.get(this)!;
    this.#port.disposeHandle(this, ref.interp, ref.generation, ref.id);
  }

  /** Throws at once (not through the promise) if the handle can no longer be used. */
  #run(req: Parameters<PoolPort["invoke"]>[1], context: string): Promise<unknown> {
    return this.#port.invoke(liveRef(this).interp, req, { context });
  }
}

/** @internal A new handle (the pool's codec makes them from results). */
export function makeHandle(port: PoolPort, ref: HandleRef, pyType: string): PyObject {
  return create(port, ref, pyType);
}

/** @internal Where a handle points, usable or not. */
export function refOf(h: PyObject): HandleRef {
  return refs.get(h)!;
}

/** @internal Where a handle points; throws ClosedError if it can no longer be used. */
export function liveRef(h: PyObject): HandleRef {
  if (h.disposed) throw new ClosedError(`handle to ${h.pyType} was disposed`);
  const ref = refs.get(h)!;
  if (ref.generation !== ref.interp.generation) {
    throw new ClosedError(`handle to ${h.pyType} belonged to interpreter ${ref.interp.index} before it was respawned; get the object again`);
  }
  return ref;
}
