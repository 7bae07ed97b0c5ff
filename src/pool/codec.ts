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
  /** The store id of each tensor occurrence in the message, in wire order (Python's argument order). */
  readonly tensorArgs: string[] = [];
  readonly #ids = new Map<Tensor, string>();
  /** The tensors were put by putArgs: encoding the message later must not list them again. */
  #argsPut = false;
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
      if (!this.#argsPut) this.tensorArgs.push(id);
      return { $x: "tensor", storage: id, dtype: v.dtype, shape: [...v.shape] };
    }
    return undefined;
  }

  /**
   * Put a call's tensor arguments in the engine store as encoding them would, in the same order,
   * without encoding the call (host replay may answer it without a message; see
   * HostReplay.fastKey). A message encoded afterwards names the same storages.
   */
  putArgs(args: readonly Tensor[]): void {
    for (const t of args) this.encode(t);
    this.#argsPut = true;
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
