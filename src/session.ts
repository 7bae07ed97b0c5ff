// InterpreterSession: exclusive-feeling access to one interpreter (torch::deploy's
// InterpreterSession). Handles made through it are released with it.

import { ClosedError } from "./errors.js";
import type { Interpreter } from "./interpreter/interpreter.js";
import type { PyObject } from "./objects.js";
import { type Disposable, movables, type PoolPort } from "./pool/port.js";

/** A replicated object (ReplicatedObj), which a session can bring onto its interpreter. */
export interface Movable {
  readonly name: string;
}

const opened = new WeakMap<InterpreterSession, { port: PoolPort; interp: Interpreter }>();
let open: (port: PoolPort, interp: Interpreter) => InterpreterSession;

export class InterpreterSession {
  static {
    open = (port, interp) => {
      const s = new InterpreterSession();
      opened.set(s, { port, interp });
      port.sessionOpened(interp);
      return s;
    };
  }

  #released = false;
  readonly #handles = new Set<Disposable>();

  private constructor() {}

  /** Index of the interpreter this session is pinned to. */
  get index(): number {
    return opened.get(this)!.interp.index;
  }

  /** Any importable global, e.g. `global("json", "dumps")`, as a handle. */
  async global(module: string, name: string): Promise<PyObject> {
    const { port, interp } = this.#open();
    return (await port.invoke(
      interp,
      { op: "global", payload: { module, name, as_handle: true } },
      { context: `importing ${module}.${name}`, onHandle: (h) => this.#handles.add(h) },
    )) as PyObject;
  }

  /** The replicated object as it exists on this session's interpreter (unpickled if needed). */
  async fromMovable(obj: Movable): Promise<PyObject> {
    const { interp } = this.#open();
    const move = movables.get(obj);
    if (!move) throw new TypeError("fromMovable takes a ReplicatedObj (from pkg.loadPickle)");
    return (await move(interp, (h) => this.#handles.add(h))) as PyObject;
  }

  /** Release the session and every handle made through it. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const { port, interp } = opened.get(this)!;
    port.sessionClosed(interp);
    for (const h of this.#handles) h.dispose();
    this.#handles.clear();
  }

  #open() {
    const o = opened.get(this)!;
    if (this.#released) throw new ClosedError("this InterpreterSession was released; acquire a new one");
    if (o.port.closed) throw new ClosedError("the interpreter manager is closed");
    return o;
  }
}

/** @internal A session pinned to `interp` (the pool's sessions are made only here). */
export function openSession(port: PoolPort, interp: Interpreter): InterpreterSession {
  return open(port, interp);
}
