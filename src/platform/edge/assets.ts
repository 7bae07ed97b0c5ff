// What an edge isolate is given instead of a file system: every input as a module the worker
// imports (workerd's config embeds them; Cloudflare's uploader does the same from wrangler.toml).
// Wasm arrives compiled (workerd refuses to compile bytes at run time); the rest is bytes.

import type { FileImage, WasiSnapshot } from "../../interpreter/wasi/image.js";

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

const MAGIC = new TextEncoder().encode("wasmdeploy-wasi-snapshot-1\n");

/**
 * Reads a snapshot in the Node snapshot cache's file layout (src/platform/node/wasi/pool.ts):
 * magic, sha256 of the rest, u32 pages, u32 count, count u32 page indices, the pages. The
 * checksum is not recomputed here: the file was made at build time and ships with the worker.
 */
export function decodeSnapshot(file: ArrayBuffer): WasiSnapshot {
  const bytes = new Uint8Array(file);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw new Error("not a wasmdeploy WASI snapshot");
  const at = MAGIC.length + 32;
  const dv = new DataView(file, at);
  const pages = dv.getUint32(0, true);
  const count = dv.getUint32(4, true);
  const index = new Int32Array(count);
  for (let i = 0; i < count; i++) index[i] = dv.getUint32(8 + 4 * i, true);
  const dataAt = at + 8 + 4 * count;
  if (bytes.length !== dataAt + count * 65536) throw new Error("truncated WASI snapshot");
  // Pages are read in place: the module's bytes stay in memory anyway, a copy would double them.
  return { pages, index, data: file as unknown as SharedArrayBuffer, dataOffset: dataAt };
}
