// glibc's malloc_trim(0), through the small addon native/malloc-trim.c: gives back to the system
// the free memory every thread's malloc arena kept (serving resnet18, 50-60 MB the process held
// after compiling). A no-op where the addon was not built (no compiler, not Linux, not glibc).

import { createRequire } from "node:module";

let addon: { trim(): boolean; trimInBackground?(): void } | null | undefined;

/** Whether the addon is loaded (it is built by `npm run build` on Linux with a C compiler). */
export function mallocTrimAvailable(): boolean {
  return load() !== null;
}

/** Give free malloc memory back to the system; whether any was. Costs a few ms: call it after large frees, not per run. */
export function trimMalloc(): boolean {
  return load()?.trim() ?? false;
}

/**
 * The same on one of libuv's pool threads: the calling thread goes on at once (a trim took 4-47
 * ms of a WASI thread's time, measured), and the work is done by the time the pool runs it.
 */
export function trimMallocInBackground(): void {
  const a = load();
  if (a?.trimInBackground) a.trimInBackground();
  else a?.trim();
}

function load() {
  if (addon !== undefined) return addon;
  try {
    addon = createRequire(import.meta.url)("../../native/malloc-trim.node") as NonNullable<typeof addon>;
  } catch {
    addon = null;
  }
  return addon;
}
