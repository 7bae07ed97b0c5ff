// The seam between an interpreter and where it runs. An interpreter kind (worker thread,
// sandbox process, WASI CPython, Web Worker, edge isolate) is one adapter that implements
// Transport and carries the messages of src/protocol.ts; nothing else in the host changes.
// Node's adapters live in src/platform/node/transports.ts.

import type { BridgeHandler, FromInterpreter, InterpreterBoot, ToInterpreter } from "../protocol.js";

export interface Transport {
  send(msg: ToInterpreter): void;
  /** Ask the running Python code to raise KeyboardInterrupt. */
  interrupt(): void;
  terminate(): Promise<void>;
  /**
   * End it on purpose (the manager is closing): where the kind can, at a point where no Python
   * runs, else as terminate(). Not for a stuck call: that is terminate().
   */
  close?(): Promise<void>;
  /** Resident memory of the interpreter's own process, when it has one (else undefined). */
  residentBytes(): number | undefined;
  /** The thread it shares with other interpreters (kinds that pack several per thread), for balancing. */
  readonly thread?: number;
}

export interface TransportHandlers {
  onMessage(msg: FromInterpreter): void;
  /** The interpreter died on its own (not through terminate()). */
  onExit(reason: string): void;
  /** Serves the interpreter's synchronous engine requests. */
  bridge?: BridgeHandler;
}

/** Starts one interpreter generation. */
export type TransportFactory = (boot: InterpreterBoot, handlers: TransportHandlers) => Transport;
