// InterpreterSession: exclusive-feeling access to one interpreter (torch::deploy's
// InterpreterSession). Handles made through it are released with it.

import { ClosedError } from "./errors.js";
import type { Interpreter } from "./interpreter/interpreter.js";
import type { InterpreterManager } from "./manager.js";
import type { PyObject } from "./objects.js";
import type { ReplicatedObj } from "./package.js";

export class InterpreterSession {
  #released = false;
  readonly #handles = new Set<PyObject>();

  constructor(
    private readonly manager: InterpreterManager,
    readonly interpreter: Interpreter,
  ) {
    interpreter.sessions++;
  }

  get index(): number {
    return this.interpreter.index;
  }

  /** Any importable global, e.g. `global("json", "dumps")`, as a handle. */
  async global(module: string, name: string): Promise<PyObject> {
    this.assertOpen();
    return (await this.manager.invoke(
      this.interpreter,
      "global",
      { module, name, as_handle: true },
      { context: `importing ${module}.${name}`, onHandle: (h) => this.#handles.add(h) },
    )) as PyObject;
  }

  /** The replicated object as it exists on this session's interpreter (unpickled if needed). */
  async fromMovable(obj: ReplicatedObj): Promise<PyObject> {
    this.assertOpen();
    return (await obj.run("target", { as_handle: true }, `getting ${obj.name}`, this.interpreter, (h) =>
      this.#handles.add(h),
    )) as PyObject;
  }

  /** Release the session and every handle made through it. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.interpreter.sessions--;
    for (const h of this.#handles) h.dispose();
    this.#handles.clear();
  }

  private assertOpen() {
    if (this.#released) throw new ClosedError("this InterpreterSession was released; acquire a new one");
    if (this.manager.closed) throw new ClosedError("the interpreter manager is closed");
  }
}
