// Handles to Python objects that live in one interpreter, and the wire codec that
// turns them into {"$o": id} and back.

import type { EngineHost } from "./bridge/engine-host.js";
import type { DType } from "./engine/graph.js";
import { ClosedError, ValueConversionError } from "./errors.js";
import { Tensor } from "./tensor.js";
import type { Interpreter } from "./interpreter/interpreter.js";
import type { WireCodec } from "./wire.js";

/** What a handle needs from the manager: run an op on its interpreter. */
export interface HandleHost {
  invoke(interp: Interpreter | undefined, op: string, payload: Record<string, unknown>, opts: InvokeOptions): Promise<unknown>;
  freeHandles(interp: Interpreter, generation: number, ids: number[]): void;
}

export interface InvokeOptions {
  context: string;
  timeoutMs?: number;
}

/**
 * A Python object held in one interpreter (torch::deploy's `Obj`). Valid until disposed,
 * its session is released, or its interpreter is respawned. Pass it back as an argument
 * to calls on the same interpreter.
 */
export class PyObject {
  #disposed = false;

  constructor(
    private readonly host: HandleHost,
    readonly interpreter: Interpreter,
    readonly generation: number,
    readonly id: number,
    /** Python type of the object, e.g. "builtins.function" or "toy_tokenizer.Tokenizer". */
    readonly pyType: string,
  ) {}

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Throws if the handle can no longer be used. */
  assertLive(): void {
    if (this.#disposed) throw new ClosedError(`handle to ${this.pyType} was disposed`);
    if (this.generation !== this.interpreter.generation) {
      throw new ClosedError(
        `handle to ${this.pyType} belonged to interpreter ${this.interpreter.index} before it was respawned; get the object again`,
      );
    }
  }

  call(...args: unknown[]): Promise<unknown> {
    return this.callKwargs(args, {});
  }

  callKwargs(args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    return this.run("call", { args, kwargs }, `calling ${this.pyType}`);
  }

  callMethod(name: string, ...args: unknown[]): Promise<unknown> {
    return this.run("call", { method: name, args, kwargs: {} }, `calling ${this.pyType}.${name}`);
  }

  callMethodKwargs(name: string, args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> {
    return this.run("call", { method: name, args, kwargs }, `calling ${this.pyType}.${name}`);
  }

  /** The attribute's value: plain data arrives as JS values, anything else as a PyObject. */
  getattr(name: string): Promise<unknown> {
    return this.run("getattr", { name }, `reading ${this.pyType}.${name}`);
  }

  /** The attribute as a handle, whatever its type. */
  attr(name: string): Promise<PyObject> {
    return this.run("getattr", { name, as_handle: true }, `reading ${this.pyType}.${name}`) as Promise<PyObject>;
  }

  async hasattr(name: string): Promise<boolean> {
    return (await this.run("hasattr", { name }, `hasattr(${this.pyType}, ${name})`)) as boolean;
  }

  /** Convert the object to a JS value (fails for objects that are not plain data). */
  toJs(): Promise<unknown> {
    return this.run("target", {}, `converting ${this.pyType}`);
  }

  /** Release the Python object in its interpreter. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.host.freeHandles(this.interpreter, this.generation, [this.id]);
  }

  private run(op: string, payload: Record<string, unknown>, context: string): Promise<unknown> {
    this.assertLive();
    return this.host.invoke(this.interpreter, op, { handle: this, ...payload }, { context });
  }
}

/** Codec for one invocation: collects handles passed as arguments, builds handles for results. */
export class HandleCodec implements WireCodec {
  readonly passed: PyObject[] = [];
  /** Engine store ids of the host tensors this call sends (the interpreter adopts them). */
  readonly tensorsPut: string[] = [];

  constructor(
    private readonly host: HandleHost,
    private readonly onCreate?: (h: PyObject) => void,
    private readonly target?: { interp: Interpreter },
    private readonly tensors?: EngineHost,
  ) {}

  encode(v: object): unknown {
    if (v instanceof PyObject) {
      v.assertLive();
      this.passed.push(v);
      return { $o: v.id };
    }
    if (v instanceof Tensor && this.tensors) {
      // The data stays on the host: Python gets a handle to an engine-resident tensor.
      const id = this.tensors.put(v, "pending");
      this.tensorsPut.push(id);
      return { $x: "tensor", storage: id, dtype: v.dtype, shape: [...v.shape] };
    }
    return undefined;
  }

  decode(tagged: Record<string, unknown>): unknown {
    if (tagged.$x === "tensor" && this.tensors) {
      return this.tensors.take(tagged.storage as string, tagged.dtype as DType, tagged.offset as number, tagged.shape as number[]);
    }
    if ("$o" in tagged && this.target) {
      const interp = this.target.interp;
      const h = new PyObject(this.host, interp, interp.generation, tagged.$o as number, String(tagged.t));
      this.onCreate?.(h);
      return h;
    }
    throw new ValueConversionError(`cannot decode wire value with tags ${Object.keys(tagged).join(",")}`);
  }

  /** The interpreter every passed handle lives in (they must agree). */
  pinnedInterpreter(): Interpreter | undefined {
    const first = this.passed[0];
    if (!first) return undefined;
    for (const h of this.passed) {
      if (h.interpreter !== first.interpreter) {
        throw new ValueConversionError(
          `arguments hold handles from interpreters ${first.interpreter.index} and ${h.interpreter.index}; ` +
            `a Python object can only be passed to calls on its own interpreter`,
        );
      }
    }
    return first.interpreter;
  }
}
