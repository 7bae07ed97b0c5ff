// What the host needs from the platform it runs on. The core (pool, package model, zip reader,
// wire format, engine, Tensor) uses only this; Node's implementation is src/platform/node/, and
// a browser or edge port adds its own adapter instead of forking the core.

import type { EngineLike } from "../bridge/engine-host.js";
import type { TransportFactory } from "../interpreter/transport.js";
import type { ArchiveFile } from "../package/archive.js";
import type { EngineName } from "../protocol.js";

export interface InterpreterSetup {
  /** Which interpreter runs Python: "pyodide" (CPython on Emscripten), or a kind an adapter registered. */
  kind: string;
  isolation: "sandboxed" | "trusted";
  /** Where the boot snapshot is cached; false keeps it in memory only. */
  snapshotDir?: string | false;
  /** Sandboxed: cap on each interpreter process's JS heap, MB. */
  sandboxJsHeapMb: number;
  /** How many interpreters the pool will run (a kind that packs several per thread spreads them). */
  interpreters: number;
  /** The pool's default per-call memory limit, MB, if any (a kind with capped memory sizes its cap from it). */
  memoryLimitMb?: number;
  /** Debug mode of the torch layer: materialize after every op. */
  eager: boolean;
  /** The WASI kind's build: "default" (python.wasm) or "sci" (python-sci.wasm, numpy and Pillow). Other kinds ignore it. */
  wasiBuild?: "default" | "sci";
}

export interface BootStats {
  /** Where the boot snapshot came from ("none": this kind boots every interpreter cold). */
  snapshot: "disk" | "made" | "none";
  snapshotMs: number;
  snapshotPath?: string;
  wasmCompileMs: number;
}

/** Interpreters ready to be spawned: their transport, and what preparing them cost. */
export interface PreparedInterpreters {
  spawn: TransportFactory;
  stats: BootStats;
  /** Called once the pool booted: `snapshotFailed` when a cached snapshot did not restore. */
  booted(snapshotFailed: boolean): void;
  /** Stops what the interpreters ran on (shared threads), after every interpreter is closed. */
  close?(): Promise<void>;
}

export interface EngineSetup {
  /** Intra-op threads per ONNX Runtime session. */
  intraOpThreads: number;
  /** Engine worker threads (0: the engine runs on the calling thread). */
  engineWorkers: number;
  /** Intra-op threads of a lone call on an idle pool (ort-node). Default: the platform's cores. */
  wideThreads?: number;
}

/** Prepares one kind of interpreter (loads its assets, makes its snapshot) and returns its transport. */
export type InterpreterKindAdapter = (setup: InterpreterSetup) => Promise<PreparedInterpreters>;

export interface Platform {
  /** CPU cores available to this process. */
  cores(): number;
  /** A file's bytes (a path, or a URL where the platform can fetch); throws an error whose `code` is "ENOENT" when it does not exist. */
  readFile(path: string | URL): Promise<Uint8Array>;
  /**
   * A package file's bytes and the file kept open, to read its storages again after their bytes
   * were let go (Node); without it a package's weights stay in memory for its lifetime.
   */
  openArchive?(path: string | URL): Promise<{ bytes: Uint8Array; file: ArchiveFile }>;
  /** Default sink for interpreter output. */
  writeStderr(text: string): void;
  prepareInterpreters(setup: InterpreterSetup): Promise<PreparedInterpreters>;
  createEngine(name: EngineName, setup: EngineSetup): Promise<EngineLike>;
  /** What the manager uses when its options leave them out (Node: "pyodide" and "ort-node"). */
  defaults?: { interpreter?: string; engine?: EngineName };
}
