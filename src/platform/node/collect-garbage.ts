// A full collection of the calling thread's V8 heap, on demand. For garbage that V8 would keep
// a long time on a thread that allocates little: a compile's model bytes, a dropped instance's
// linear memory. V8's flags are per process: this exposes `gc` only to the fresh context that
// fetches it (every context created after holds it too, as `node --expose-gc` would).

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}
