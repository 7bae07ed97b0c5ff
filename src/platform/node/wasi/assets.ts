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

/**
 * The interpreter module: wasm/python.wasm, or the file WASMDEPLOY_PYTHON_WASM names (for
 * benchmarking other builds of it, bench/pure.ts; the snapshot cache key follows the bytes).
 */
export function pythonWasmPath(): string {
  return process.env.WASMDEPLOY_PYTHON_WASM || path.join(WASM_DIR, "python.wasm");
}

/** The standard library zip: wasm/stdlib.zip, or the file WASMDEPLOY_STDLIB_ZIP names (as above). */
export function stdlibZipPath(): string {
  return process.env.WASMDEPLOY_STDLIB_ZIP || path.join(WASM_DIR, "stdlib.zip");
}

/** Compile python.wasm and build the file image, once per process. */
export function wasiAssets(runtime: RuntimeFile[]): WasiAssets {
  if (cached) return cached;
  const wasm = new Uint8Array(readFileSync(pythonWasmPath()));
  const stdlib = new Uint8Array(readFileSync(stdlibZipPath()));
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
