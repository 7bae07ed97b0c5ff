// The WASI interpreter's assets, prepared once per process: python.wasm compiled once (every
// instance on every thread shares its code), and one read-only file image (the stdlib subset
// from wasm/stdlib.zip plus runtime/) in a SharedArrayBuffer that every thread's file system
// views without copying.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { buildFileImage, type FileImage, memoryImportMinPages } from "../../../interpreter/wasi/image.js";
import { PACKAGE_ROOT, type RuntimeFile } from "../assets.js";

export { buildFileImage, type FileImage, memoryImportMinPages };

export const WASM_DIR = path.join(PACKAGE_ROOT, "wasm");

export interface WasiAssets {
  module: WebAssembly.Module;
  /** The module's declared minimum memory (64 KiB pages). */
  minPages: number;
  files: FileImage;
  /** Snapshot cache key: the build, the stdlib and the runtime sources. */
  key: string;
}

let cached: WasiAssets | undefined;

/** Compile python.wasm and build the file image, once per process. */
export function wasiAssets(runtime: RuntimeFile[]): WasiAssets {
  if (cached) return cached;
  const wasm = new Uint8Array(readFileSync(path.join(WASM_DIR, "python.wasm")));
  const stdlib = new Uint8Array(readFileSync(path.join(WASM_DIR, "stdlib.zip")));
  const h = createHash("sha256").update(wasm).update(stdlib);
  for (const f of runtime) h.update(`${f.path}\0${f.source}\0`);
  cached = {
    module: new WebAssembly.Module(wasm),
    minPages: memoryImportMinPages(wasm),
    files: buildFileImage(runtime, stdlib),
    key: h.digest("hex").slice(0, 24),
  };
  return cached;
}
