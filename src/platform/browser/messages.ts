// Messages between the page and one interpreter's Web Worker. The interpreter's own traffic is
// the ToInterpreter/FromInterpreter protocol of src/protocol.ts; bridge requests travel as
// messages and their replies come back through shared memory (bridge.ts), since the worker is
// blocked in Atomics.wait while Python waits for the engine.

import type { FileImage, WasiSnapshot } from "../../interpreter/wasi/image.js";
import type { BridgeRequest, FromInterpreter, ToInterpreter } from "../../protocol.js";

export interface WorkerAssets {
  module: WebAssembly.Module;
  /** The module's declared minimum memory (64 KiB pages). */
  minPages: number;
  files: FileImage;
}

export interface WorkerInit extends WorkerAssets {
  snapshot: WasiSnapshot;
  eager: boolean;
  memoryMaxBytes: number;
  /** Int32 slot: the page writes a signal number (2, SIGINT) to interrupt running Python. */
  interruptBuffer: SharedArrayBuffer;
  /** Bridge reply channel (bridge.ts); absent when no engine is attached. */
  bridge?: { control: SharedArrayBuffer; data: SharedArrayBuffer };
}

export type ToWorker = { type: "init"; init: WorkerInit } | { type: "call"; msg: ToInterpreter };

export type FromWorker =
  | { type: "msg"; msg: FromInterpreter }
  | { type: "bridge"; req: BridgeRequest }
  /** The instance is gone (trap, memory limit); a "fatal" message preceded this. */
  | { type: "exit"; reason: string };

/** The snapshot worker's API (over comlink): boot one instance cold and keep its pages. */
export interface SnapshotMaker {
  make(assets: WorkerAssets): Promise<{ snapshot: WasiSnapshot; ms: number }>;
}
