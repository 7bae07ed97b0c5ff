// What a Node interpreter worker (worker.ts) starts with: the common boot settings plus the
// Node-specific means to share memory with the host (src/protocol.ts has the messages).

import type { MessagePort } from "node:worker_threads";
import type { InterpreterBoot } from "../../protocol.js";
import type { RuntimeFile } from "./assets.js";

export interface WorkerInit extends InterpreterBoot {
  pyodideDir: string;
  /** pyodide.asm.wasm, compiled once per process and shared by every worker. */
  wasmModule: WebAssembly.Module;
  snapshot: Uint8Array | null;
  runtimeFiles: RuntimeFile[];
  /** Int32 slot: the host writes 2 (SIGINT) to interrupt the running Python code. */
  interruptBuffer: SharedArrayBuffer;
  /** The synchronous engine bridge: requests go out on this port, the worker blocks on bridgeFlag. */
  bridgePort?: MessagePort;
  bridgeFlag?: SharedArrayBuffer;
}

/**
 * Sent by the host when it closes the interpreter on purpose: the worker exits from its message
 * handler, where no Python runs. (Terminated instead, a worker can be stopped inside Python run
 * from a JavaScript callback, such as a proxy's finalizer, which Pyodide takes for a fatal error.)
 */
export interface WorkerShutdown {
  type: "shutdown";
}
