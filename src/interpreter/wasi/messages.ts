// Messages between the host and a WASI worker thread, which runs many interpreter instances.
// Each interpreter's own traffic is the ToWorker/FromWorker protocol of ../protocol.ts,
// wrapped with the instance id.

import type { MessagePort } from "node:worker_threads";
import type { FromWorker, ToWorker } from "../protocol.js";
import type { FileImage } from "./assets.js";

/** Non-zero 64 KiB pages of linear memory after the runtime is imported. */
export interface WasiSnapshot {
  /** Memory size when taken, in pages. */
  pages: number;
  /** Indices of the pages stored in `data`, ascending. */
  index: Int32Array;
  data: SharedArrayBuffer;
}

export interface ThreadInit {
  module: WebAssembly.Module;
  minPages: number;
  files: FileImage;
}

export interface InstanceInit {
  eager?: boolean;
  /** Linear memory cap in bytes: growing past it fails the call and replaces the instance. */
  memoryMaxBytes: number;
  /** Int32 slot: the host writes a signal number (2, SIGINT) to interrupt running Python. */
  interruptBuffer: SharedArrayBuffer;
  bridgePort?: MessagePort;
  bridgeFlag?: SharedArrayBuffer;
}

export type ToThread =
  | { type: "snapshot" }
  | { type: "spawn"; inst: number; init: InstanceInit; snapshot: WasiSnapshot | null }
  | { type: "call"; inst: number; msg: ToWorker }
  | { type: "kill"; inst: number };

export type FromThread =
  | { type: "snapshot"; snapshot?: WasiSnapshot; error?: string; ms: number }
  | { type: "msg"; inst: number; msg: FromWorker }
  /** The instance is gone (trap, memory limit, runtime failure); a "fatal" message preceded this. */
  | { type: "exit"; inst: number; reason: string };
