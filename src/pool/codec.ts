// The wire codec of one invocation: handles passed as arguments become {"$o": id}, handles
// in results become PyObjects, and host tensors cross as engine-resident storages.

import type { EngineHost } from "../bridge/engine-host.js";
import type { DType } from "../engine/graph.js";
import { ValueConversionError } from "../errors.js";
import type { Interpreter } from "../interpreter/interpreter.js";
import { type HandleRef, liveRef, makeHandle, PyObject } from "../objects.js";
import { Tensor } from "../tensor.js";
import type { WireCodec } from "../wire.js";
import type { PoolPort } from "./port.js";

export class HandleCodec implements WireCodec {
  readonly passed: HandleRef[] = [];
  /** Engine store ids of the host tensors this call sends (the interpreter adopts them). */
  readonly tensorsPut: string[] = [];
  /** Each tensor occurrence in the message, in wire order (Python's argument order). */
  readonly tensorArgs: Tensor[] = [];
  readonly #ids = new Map<Tensor, string>();
  /** The tensors were listed by argsOnly: encoding the message later must not list them again. */
  #argsListed = false;
  /** The interpreter that runs the call, set once known (results are decoded after). */
  target?: Interpreter;

  constructor(
    private readonly port: PoolPort,
    private readonly tensors: EngineHost,
    private readonly onCreate: (h: PyObject) => void,
  ) {}

  encode(v: object): unknown {
    if (v instanceof PyObject) {
      const ref = liveRef(v);
      this.passed.push(ref);
      return { $o: ref.id };
    }
    if (v instanceof Tensor) {
      // The data stays on the host: Python gets a handle to an engine-resident tensor. The same
      // Tensor passed twice crosses once, so Python sees one tensor twice, as PyTorch would.
      let id = this.#ids.get(v);
      if (id === undefined) {
        id = this.tensors.put(v, "pending");
        this.#ids.set(v, id);
        this.tensorsPut.push(id);
      }
      if (!this.#argsListed) this.tensorArgs.push(v);
      return { $x: "tensor", storage: id, dtype: v.dtype, shape: [...v.shape] };
    }
    return undefined;
  }

  /**
   * List a call's tensor arguments as encoding it would, without encoding it or putting them in
   * the engine store: host replay may answer the call from the tensors themselves, and the store
   * gets them only if a message is encoded after all (host-replay.ts, fastCall: every argument is a
   * Tensor, so wire order is argument order).
   */
  argsOnly(args: readonly Tensor[]): void {
    this.tensorArgs.push(...args);
    this.#argsListed = true;
  }

  decode(tagged: Record<string, unknown>): unknown {
    if (tagged.$x === "tensor") {
      return this.tensors.take(tagged.storage as string, tagged.dtype as DType, tagged.offset as number, tagged.shape as number[]);
    }
    if ("$o" in tagged && this.target) {
      const interp = this.target;
      const h = makeHandle(this.port, { interp, generation: interp.generation, id: tagged.$o as number }, String(tagged.t));
      this.onCreate(h);
      return h;
    }
    throw new ValueConversionError(`cannot decode wire value with tags ${Object.keys(tagged).join(",")}`);
  }

  /** The interpreter every passed handle lives in (they must agree). */
  pinnedInterpreter(): Interpreter | undefined {
    const first = this.passed[0];
    if (!first) return undefined;
    for (const h of this.passed) {
      if (h.interp !== first.interp) {
        throw new ValueConversionError(
          `arguments hold handles from interpreters ${first.interp.index} and ${h.interp.index}; ` +
            `a Python object can only be passed to calls on its own interpreter`,
        );
      }
    }
    return first.interp;
  }
}
