// A full collection of the calling thread's V8 heap, on demand. For garbage that V8 would keep
// a long time on a thread that allocates little: a compile's model bytes, a dropped instance's
// linear memory. V8's flags are per process: this exposes `gc` only to the fresh context that
// fetches it (every context created after holds it too, as `node --expose-gc` would).

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: ((options?: { type: "minor" | "major" }) => void) | undefined;

function exposed(): NonNullable<typeof gc> {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as NonNullable<typeof gc>;
  }
  return gc;
}

export function collectGarbage(): void {
  exposed()();
}

/**
 * A minor collection (the young generation only): under a millisecond where a full one of a
 * thread's heap takes several. Frees buffers that died young, such as a call's inputs.
 */
export function collectYoungGarbage(): void {
  exposed()({ type: "minor" });
}
