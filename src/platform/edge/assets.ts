// What an edge isolate is given instead of a file system: every input as a module the worker
// imports (workerd's config embeds them; Cloudflare's uploader does the same from wrangler.toml).
// Wasm arrives compiled (workerd refuses to compile bytes at run time); the rest is bytes.

import type { FileImage, WasiSnapshot } from "../../interpreter/wasi/image.js";
import { parseSnapshotFile } from "../../interpreter/wasi/snapshot-file.js";

export type { FileImage, WasiSnapshot };

/** The onnxruntime-web module the worker imported (ort.wasm.bundle.min.mjs). */
export type OrtWeb = typeof import("onnxruntime-web");

export interface EdgeAssets {
  /** python.wasm, imported as a `wasm` module. */
  python: WebAssembly.Module;
  /** Its memory import's minimum, in 64 KiB pages (read at build time: a Module does not expose it). */
  minPages: number;
  /** The stdlib subset and runtime/ laid out by `wasmdeploy edge`. */
  files: FileImage;
  /** The boot snapshot (Node's cache-file layout), asked for at each instance's boot; undefined boots every instance cold. */
  snapshot?: () => Promise<WasiSnapshot>;
  /** Snapshot bytes the isolate keeps between boots. */
  snapshotHeldBytes: number;
  ort: OrtWeb;
  /** ort-wasm-simd-threaded.wasm, imported as a `wasm` module. */
  ortWasm: WebAssembly.Module;
}

/** The file image as `wasmdeploy edge` writes it: a JSON index of [path, offset, length] and one blob. */
export function fileImage(index: [string, number, number][], blob: ArrayBuffer): FileImage {
  // The WASI file tree only makes views into `data`; an ArrayBuffer serves as well as a shared one.
  return { data: blob as unknown as SharedArrayBuffer, entries: index };
}

/**
 * Reads a snapshot file (src/interpreter/wasi/snapshot-file.ts). The checksum is not recomputed
 * here: the file was made at build time and ships with the worker. Pages are read in place: the
 * file's bytes stay in memory anyway, a copy would double them.
 */
export function decodeSnapshot(file: ArrayBuffer): WasiSnapshot {
  const parsed = parseSnapshotFile(new Uint8Array(file), true);
  if (typeof parsed === "string") throw new Error(`${parsed}: rebuild the project with this version's \`wasmdeploy edge\``);
  return parsed.snapshot;
}
