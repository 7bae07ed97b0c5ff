// Every message between the host and an interpreter, in one place: the operations the host
// asks an interpreter to run, the synchronous bridge requests an interpreter makes of the
// engine, and the envelopes a transport carries (worker thread, sandbox process, and any
// later kind: WASI, Web Worker, edge). Transports move these; they define none of their own.
// Plain data only: no runtime-specific imports, so every platform shares it.

import type { DType, GraphSpec } from "./engine/graph.js";
import type { TypedArray } from "./engine/dtype.js";

/** The tensor engine backends. */
/** "webgpu": onnxruntime-web's WebGPU execution provider (browsers only). */
export const ENGINE_NAMES = ["ort-node", "ort-web", "webgpu"] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export function isEngineName(x: unknown): x is EngineName {
  return (ENGINE_NAMES as readonly unknown[]).includes(x);
}

// ----- host -> interpreter operations (runtime/wasmdeploy_runtime/host.py, _OPS) -----

/** Where a replicated object lives inside an interpreter. */
export interface ReplicatedAddress {
  pkg: string;
  package: string;
  resource: string;
}

/** What a call addresses: a replicated object, or a handle (a PyObject, encoded as {"$o": id}). */
export type Target = ReplicatedAddress | { handle: unknown };

/** Payload of each operation. `as_handle` asks for the result as a handle, whatever its type. */
export interface OpPayloads {
  /** no_plan: the host does not replay calls itself (hostReplay: false), so Python makes no plan. */
  call: Target & { method?: string; args: unknown[]; kwargs: Record<string, unknown>; no_plan?: boolean };
  getattr: Target & { name: string; as_handle?: boolean };
  hasattr: Target & { name: string };
  global: { module: string; name: string; as_handle: true };
  target: Target & { as_handle?: boolean };
  load_package: { pkg: string; label: string; files: Record<string, Uint8Array> };
  unload_package: { pkg: string };
  drop_replicated: ReplicatedAddress;
  free: { handles: number[] };
  register_module: { name: string; source: string };
  stats: Record<string, never>;
}

export type HostOp = keyof OpPayloads;

/** The operation names, as host.py's _OPS table must list them (test/structure checks). */
export const HOST_OPS = [
  "call",
  "getattr",
  "hasattr",
  "global",
  "target",
  "load_package",
  "unload_package",
  "drop_replicated",
  "free",
  "register_module",
  "stats",
] as const satisfies readonly HostOp[];

/** One operation with its payload: a union discriminated by `op`. */
export type HostRequest = { [K in HostOp]: { op: K; payload: OpPayloads[K] } }[HostOp];

/** Values as they cross: JSON text plus the byte buffers it refers to (src/wire.ts). */
export interface WireMessage {
  json: string;
  buffers: Uint8Array[];
}

/** A Python exception as the runtime reports it. */
export interface PyErrorPayload {
  type: string;
  message: string;
  traceback: string;
}

// ----- interpreter -> host: the synchronous engine bridge -----

export type BridgeKind = "run" | "read" | "write" | "release";

export interface BridgeRequest {
  id: number;
  kind: BridgeKind;
  json: string;
  buffers: Uint8Array[];
}

export type BridgeReply =
  | { id: number; ok: true; json: string; buffers: Uint8Array[] }
  | { id: number; ok: false; error: string };

/** Serves bridge requests (the engine host, on behalf of one interpreter generation). */
export type BridgeHandler = (req: BridgeRequest) => Promise<WireMessage>;

/**
 * The interpreter's end of the bridge, as a platform provides it: a synchronous call that blocks
 * until the engine answers (Atomics.wait on a thread, or a JSPI suspension where there are none).
 */
export type SyncBridge = (kind: string, json: string, buffers: Uint8Array[]) => [string, Uint8Array[]];

/** The one place a bridge request is answered: success or a message Python raises as an error. */
export async function answerBridge(handler: BridgeHandler | undefined, req: BridgeRequest): Promise<BridgeReply> {
  if (!handler) return { id: req.id, ok: false, error: "no engine is attached" };
  try {
    const res = await handler(req);
    return { id: req.id, ok: true, json: res.json, buffers: res.buffers };
  } catch (e) {
    return { id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

// ----- the envelopes every transport carries -----

export type ToInterpreter = {
  type: "call";
  id: number;
  op: HostOp;
  json: string;
  buffers: Uint8Array[];
  /** The job's memory limit: WASI instances enforce it inside the call (Pyodide workers ignore it). */
  memoryLimitBytes?: number;
};

export type FromInterpreter =
  | { type: "ready"; bootMs: number; fromSnapshot: boolean; snapshotError?: string; heapBytes: number }
  | { type: "snapshot"; snapshot: Uint8Array }
  | { type: "result"; id: number; ok: boolean; json: string; buffers: Uint8Array[]; heapBytes: number; release: string[] }
  | { type: "stdout"; stream: "stdout" | "stderr"; text: string }
  | { type: "fatal"; reason: string; memory?: { usedBytes: number; capBytes: number } };

/** What every interpreter kind boots with, whatever carries it. */
export interface InterpreterBoot {
  mode: "snapshot" | "serve";
  index: number;
  /** Harden the realm Python can reach: empty `js` globals, no `pyodide_js`. */
  sandboxed: boolean;
  /** Debug mode: the torch layer materializes after every op (results must not change). */
  eager?: boolean;
}

/** Host -> sandbox process (IPC), besides ToInterpreter messages it relays to its worker. */
export type ToSandbox<Init = unknown> =
  | { type: "init"; init: Init; snapshotPath: string | null; netns: boolean }
  | { type: "interrupt" }
  | { type: "bridge-reply"; reply: BridgeReply }
  | ToInterpreter;

/** Sandbox process -> host (IPC): its worker's messages, and the worker's bridge requests. */
export type FromSandbox = FromInterpreter | { type: "bridge"; req: BridgeRequest };

// ----- host -> engine thread -----

export interface WireTensor {
  dtype: DType;
  data: TypedArray;
  shape: number[];
}

export type ToEngineThread =
  | {
      type: "run";
      id: number;
      /** The graph's structural key; the thread keeps each graph it was sent under its key. */
      key: string;
      /** Sent the first time this thread runs `key` (and again after the host told it to forget). */
      graph?: GraphSpec;
      /** Keys the thread may drop (the host keeps a bounded set per thread). */
      forget?: string[];
      /** Moved here. Large feeds are views of one buffer, `feedBuffer`, sent back with the result for reuse. */
      feeds: Record<string, WireTensor>;
      feedBuffer?: ArrayBuffer;
      /** Weights this thread does not hold yet: views of process-wide shared memory, not copies. */
      weights: { id: string; dtype: DType; bytes: Uint8Array }[];
      /** Run on the graph's all-cores session (a lone call on an idle pool). */
      wide?: boolean;
    }
  | { type: "release"; storages: string[] }
  /** Drop these graphs and their compiled sessions (their tenant's share is full). */
  | { type: "forget"; keys: string[] }
  /** The weights run `id` asked for ("need"), or why they cannot be had. */
  | { type: "weights"; id: number; weights: { id: string; dtype: DType; bytes: Uint8Array }[]; error?: string }
  /** Let these storages' bytes go; the sessions that baked them in stay. */
  | { type: "evict"; storages: string[] }
  /**
   * End the thread at its next turn, with this exit code (0 on close, non-zero as a death). The
   * thread is never terminated from outside: see EngineThreads.#exit.
   */
  | { type: "exit"; code: number };

export type FromEngineThread =
  | { type: "ready" }
  /** Run `id` compiles a session and the thread does not hold these storages (the host let them go). */
  | { type: "need"; id: number; storages: string[] }
  /** `baked`: this run compiled its session, and the session reads no storage when it runs. */
  | { type: "result"; id: number; ok: true; outputs: Record<string, WireTensor>; feedBuffer?: ArrayBuffer; baked?: boolean }
  | { type: "result"; id: number; ok: false; error: string; feedBuffer?: ArrayBuffer };
