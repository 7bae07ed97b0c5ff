// Messages between the host and an interpreter worker.

import type { MessagePort } from "node:worker_threads";
import type { RuntimeFile } from "./assets.js";

export interface WorkerInit {
  mode: "snapshot" | "serve";
  index: number;
  pyodideDir: string;
  /** pyodide.asm.wasm, compiled once per process and shared by every worker. */
  wasmModule: WebAssembly.Module;
  snapshot: Uint8Array | null;
  runtimeFiles: RuntimeFile[];
  /** Harden the realm Python can reach: empty `js` globals, no `pyodide_js`. */
  sandboxed: boolean;
  /** Debug mode: the torch layer materializes after every op (results must not change). */
  eager?: boolean;
  /** Int32 slot: the host writes 2 (SIGINT) to interrupt the running Python code. */
  interruptBuffer: SharedArrayBuffer;
  /** The synchronous engine bridge: requests go out on this port, the worker blocks on bridgeFlag. */
  bridgePort?: MessagePort;
  bridgeFlag?: SharedArrayBuffer;
}

/** Worker -> host over the bridge port. */
export interface BridgeRequestMessage {
  id: number;
  kind: "run" | "read" | "write" | "release";
  json: string;
  buffers: Uint8Array[];
}

/** Host -> worker over the bridge port. */
export type BridgeReply =
  | { id: number; ok: true; json: string; buffers: Uint8Array[] }
  | { id: number; ok: false; error: string };

export type ToWorker = {
  type: "call";
  id: number;
  op: string;
  json: string;
  buffers: Uint8Array[];
  /** The job's memory limit: WASI instances enforce it inside the call (Pyodide workers ignore it). */
  memoryLimitBytes?: number;
};

export type FromWorker =
  | { type: "ready"; bootMs: number; fromSnapshot: boolean; snapshotError?: string; heapBytes: number }
  | { type: "snapshot"; snapshot: Uint8Array }
  | { type: "result"; id: number; ok: boolean; json: string; buffers: Uint8Array[]; heapBytes: number; release: string[] }
  | { type: "stdout"; stream: "stdout" | "stderr"; text: string }
  | { type: "fatal"; reason: string };

/** A Python exception as the runtime reports it. */
export interface PyErrorPayload {
  type: string;
  message: string;
  traceback: string;
}
