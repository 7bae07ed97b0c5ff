// Messages between the host and a WASI worker thread, which runs many interpreter instances.
// Each interpreter's own traffic is the ToInterpreter/FromInterpreter protocol of src/protocol.ts,
// wrapped with the instance id.

import type { MessagePort } from "node:worker_threads";
import type { FileImage, MovedInstance, WasiSnapshot } from "../../../interpreter/wasi/image.js";
import type { FromInterpreter, ToInterpreter } from "../../../protocol.js";

export type { WasiSnapshot };

/** What a thread runs: instances of python.wasm, or of the interpreter component (wit/). */
export type ThreadInit =
  | { kind: "wasi"; module: WebAssembly.Module; minPages: number; files: FileImage }
  | {
      kind: "component";
      /** The transpiled component's core modules by file name, compiled once per process. */
      modules: Record<string, WebAssembly.Module>;
      /** URL of jco's bindings (an ES module exporting `instantiate`). */
      bindings: string;
      files: FileImage;
    };

/**
 * The instance's Int32 slots in `InstanceInit.interruptBuffer`: the pending signal, and which
 * call may start. Each call is sent with a number, stored in SLOT_CALL as it is sent; the thread
 * runs it only if it swaps that number for its negation first. The host takes a call back
 * while it waits in the thread's queue (the instance moves to another thread, and the call goes
 * with it) by swapping the number for 0. Compare-and-swap on both sides: exactly one wins, and a
 * taken-back call can never run, even after a later call stored its own number.
 */
export const SLOT_SIGNAL = 0;
export const SLOT_CALL = 1;

export interface InstanceInit {
  eager?: boolean;
  /** Linear memory cap in bytes: growing past it fails the call and replaces the instance. */
  memoryMaxBytes: number;
  /** Int32 slots (SLOT_*): the host writes a signal number (2, SIGINT) to interrupt running Python, and takes back queued calls. */
  interruptBuffer: SharedArrayBuffer;
  bridgePort?: MessagePort;
  bridgeFlag?: SharedArrayBuffer;
}

export type ToThread =
  | { type: "snapshot" }
  /** `silent`: the instance replaces one that already said "ready" (a move before its first call). */
  | { type: "spawn"; inst: number; init: InstanceInit; snapshot: WasiSnapshot | null; silent?: boolean }
  | { type: "call"; inst: number; msg: ToInterpreter; seq: number }
  | { type: "kill"; inst: number }
  /** Hand the instance over for a move to another thread (answered by "movedOut"). */
  | { type: "moveOut"; inst: number }
  /** Take over an instance another thread moved out. */
  | { type: "moveIn"; inst: number; init: InstanceInit; state: MovedInstance };

export type FromThread =
  | { type: "up" }
  | { type: "snapshot"; snapshot?: WasiSnapshot; error?: string; ms: number }
  | { type: "msg"; inst: number; msg: FromInterpreter }
  /** The instance is gone (trap, memory limit, runtime failure); a "fatal" message preceded this. */
  | { type: "exit"; inst: number; reason: string }
  /** The instance left this thread with `state`; or, with `refused`, it stays here and why. */
  | { type: "movedOut"; inst: number; state?: MovedInstance; refused?: string };
