// What an engine backend implements (the registry is backend.ts; the backends import only this,
// so the registry's lazy imports of them make no cycle).

import type { EngineName } from "../protocol.js";
import type { Tensor } from "../tensor.js";

export type BackendName = EngineName;

export interface BackendOptions {
  /**
   * Intra-op threads per session (ort-node) or wasm threads (ort-web). Default 1: the interpreter
   * pool already provides the parallelism. (Two threads measured: a 20-conv 64ch 56x56 net ran in
   * 21 ms instead of 41 on ort-node, 91 instead of 175 on ort-web, for one caller at a time.)
   */
  threads?: number;
  /**
   * Intra-op threads of a "wide" session: the one a lone call on an idle pool runs on, so it
   * gets the machine (ort-node; ort-web's thread count is global, it has no wide sessions).
   * Default: `threads` (no wide sessions).
   */
  wideThreads?: number;
}

export interface SessionOptions {
  /** In-memory files that initializers with external data refer to (see onnx-builder). */
  externalData?: { path: string; data: Uint8Array }[];
  /** Compile with the backend's wideThreads instead of its threads. */
  wide?: boolean;
  /**
   * Optimize the graph apart and make the session from the result, so that it holds its baked
   * weights once, not twice (ort-node: in a child process, saved in ONNX Runtime's own format).
   * A backend that cannot (or fails to) compiles the ordinary way and leaves
   * BackendSession.preoptimized unset.
   */
  preoptimize?: boolean;
}

export interface BackendSession {
  /** The session was made from a graph optimized apart (SessionOptions.preoptimize was honoured). */
  readonly preoptimized?: boolean;
  run(feeds: Record<string, Tensor>, outputNames: string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export interface EngineBackend {
  name: EngineName;
  /** Whether wide sessions differ from the others (wideThreads > threads). */
  readonly widens?: boolean;
  createSession(model: Uint8Array, options?: SessionOptions): Promise<BackendSession>;
}

