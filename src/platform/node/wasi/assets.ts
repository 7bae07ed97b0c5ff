// The WASI interpreter's assets, prepared once per process: python.wasm compiled once (every
// instance on every thread shares its code), and one read-only file image (the stdlib subset
// from wasm/stdlib.zip plus runtime/) in a SharedArrayBuffer that every thread's file system
// views without copying.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { setFlagsFromString } from "node:v8";
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

/**
 * Which build of the interpreter: "default" (wasm/python.wasm, the standard library only) or
 * "sci" (wasm/python-sci.wasm with numpy and Pillow linked in, wasm/build-sci.sh).
 */
export type WasiBuild = "default" | "sci";

const cached = new Map<WasiBuild, WasiAssets>();

/**
 * The interpreter module: wasm/python.wasm, or the file WASMDEPLOY_PYTHON_WASM names (for
 * benchmarking other builds of it, bench/pure.ts; the snapshot cache key follows the bytes);
 * wasm/python-sci.wasm for the "sci" build.
 */
export function pythonWasmPath(build: WasiBuild = "default"): string {
  if (build === "sci") return path.join(WASM_DIR, "python-sci.wasm");
  return process.env.WASMDEPLOY_PYTHON_WASM || path.join(WASM_DIR, "python.wasm");
}

/** The standard library zip: wasm/stdlib.zip, or the file WASMDEPLOY_STDLIB_ZIP names (as above); wasm/stdlib-sci.zip for "sci". */
export function stdlibZipPath(build: WasiBuild = "default"): string {
  if (build === "sci") return path.join(WASM_DIR, "stdlib-sci.zip");
  return process.env.WASMDEPLOY_STDLIB_ZIP || path.join(WASM_DIR, "stdlib.zip");
}

/** Compile the build's module and build its file image, once per process and build. */
export function wasiAssets(runtime: RuntimeFile[], build: WasiBuild = "default"): WasiAssets {
  const hit = cached.get(build);
  if (hit) return hit;
  const wasm = new Uint8Array(readFileSync(pythonWasmPath(build)));
  const stdlib = new Uint8Array(readFileSync(stdlibZipPath(build)));
  const h = createHash("sha256").update(wasm).update(stdlib);
  for (const f of runtime) h.update(`${f.path}\0${f.source}\0`);
  const assets: WasiAssets = {
    module: compileEagerTierUp(wasm),
    minPages: memoryImportMinPages(wasm),
    files: buildFileImage(runtime, stdlib),
    key: h.digest("hex").slice(0, 24),
  };
  cached.set(build, assets);
  return assets;
}

/**
 * The module compiled so that every function, once it has run, is optimized (TurboFan) in the
 * background at once, instead of when V8's dynamic tiering finds it hot. A function the first
 * interpreter ran a few times (a package's module bodies, an unpickling) otherwise stays on
 * baseline code (Liftoff) until some later interpreter has run it enough: the second
 * interpreter's unpickling of resnet18 took 117-125 ms against 70-99 ms this way, the later
 * ones' 50-91 against 34-63 ms, for 5-15% more on the first load in the process, whose functions
 * are optimized while it runs (docs/architecture.md, "Eager tier-up"). V8 reads the flag when a
 * module is compiled, and its compiled code is shared by every thread, so it is set around this
 * compile only and other wasm in the process keeps V8's default. Left alone when the process was
 * started with either form of the flag.
 */
function compileEagerTierUp(wasm: Uint8Array<ArrayBuffer>): WebAssembly.Module {
  if (process.execArgv.some((a) => a.includes("wasm-dynamic-tiering"))) return new WebAssembly.Module(wasm);
  setFlagsFromString("--no-wasm-dynamic-tiering");
  try {
    return new WebAssembly.Module(wasm);
  } finally {
    setFlagsFromString("--wasm-dynamic-tiering");
  }
}
