// A call's inputs reach an interpreter's thread as transferred buffers, garbage once the call
// has read them. V8 counts them as external memory and, on a thread that allocates little else,
// collects for them late: a WASI thread receiving 2 MB per call held 30-43 MB more than one
// that collected (bench/experiments/thread-inputs.ts). So after every COLLECT_AFTER_BYTES
// received, a minor collection (under a millisecond) once the call is done. Per thread: each
// worker has its own copy of this module. (A Pyodide worker grew by 30 MB in the same experiment
// too, and collecting changed nothing there: its wasm heap stayed at 30 MB, so more likely its
// pages, first touched by the copies. Not used there.)

import { collectYoungGarbage } from "./collect-garbage.js";

const COLLECT_AFTER_BYTES = 8 * 2 ** 20;
let received = 0;

/** Counts a call's input buffers; schedules a collection when enough have arrived. */
export function receivedInputs(buffers: readonly Uint8Array[]): void {
  for (const b of buffers) received += b.byteLength;
  if (received < COLLECT_AFTER_BYTES) return;
  received = 0;
  setImmediate(collectYoungGarbage);
}
