// glibc's malloc_trim(0), through the small addon native/malloc-trim.c: gives back to the system
// the free memory every thread's malloc arena kept (serving resnet18, 50-60 MB the process held
// after compiling). A no-op where the addon was not built (no compiler, not Linux, not glibc).

import { createRequire } from "node:module";

let addon: { trim(): boolean } | null | undefined;

/** Whether the addon is loaded (it is built by `npm run build` on Linux with a C compiler). */
export function mallocTrimAvailable(): boolean {
  return load() !== null;
}

/** Give free malloc memory back to the system; whether any was. Costs a few ms: call it after large frees, not per run. */
export function trimMalloc(): boolean {
  return load()?.trim() ?? false;
}

function load() {
  if (addon !== undefined) return addon;
  try {
    addon = createRequire(import.meta.url)("../../native/malloc-trim.node") as { trim(): boolean };
  } catch {
    addon = null;
  }
  return addon;
}
