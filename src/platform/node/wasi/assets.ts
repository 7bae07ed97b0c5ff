// The WASI interpreter's assets, prepared once per process: python.wasm compiled once (every
// instance on every thread shares its code), and one read-only file image (the stdlib subset
// from wasm/stdlib.zip plus runtime/) in a SharedArrayBuffer that every thread's file system
// views without copying.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { unzipSync } from "fflate";
import type { FileImage } from "../../../interpreter/wasi/image.js";
import { PACKAGE_ROOT, type RuntimeFile } from "../assets.js";

export type { FileImage };

export const WASM_DIR = path.join(PACKAGE_ROOT, "wasm");
export const STDLIB_PREFIX = "lib/python3.11";
export const RUNTIME_PREFIX = "runtime";

export interface WasiAssets {
  module: WebAssembly.Module;
  /** The module's declared minimum memory (64 KiB pages). */
  minPages: number;
  files: FileImage;
  /** Snapshot cache key: the build, the stdlib and the runtime sources. */
  key: string;
}

export function buildFileImage(runtime: RuntimeFile[], stdlibZip: Uint8Array): FileImage {
  const parts: [string, Uint8Array][] = [];
  for (const [name, bytes] of Object.entries(unzipSync(stdlibZip))) {
    if (!name.endsWith("/")) parts.push([`${STDLIB_PREFIX}/${name}`, bytes]);
  }
  const enc = new TextEncoder();
  for (const f of runtime) parts.push([`${RUNTIME_PREFIX}/${f.path}`, enc.encode(f.source)]);
  parts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const total = parts.reduce((n, [, b]) => n + b.length, 0);
  const data = new SharedArrayBuffer(total);
  const view = new Uint8Array(data);
  const entries: [string, number, number][] = [];
  let off = 0;
  for (const [p, b] of parts) {
    view.set(b, off);
    entries.push([p, off, b.length]);
    off += b.length;
  }
  return { data, entries };
}

/** Reads the memory import's minimum from the module's import section (the JS API does not expose it). */
export function memoryImportMinPages(bytes: Uint8Array): number {
  let p = 8; // magic + version
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
  };
  const skipName = () => {
    const n = leb();
    p += n;
  };
  while (p < bytes.length) {
    const id = bytes[p++]!;
    const size = leb();
    const end = p + size;
    if (id === 2) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        skipName();
        skipName();
        const kind = bytes[p++]!;
        if (kind === 0) leb(); // function: type index
        else if (kind === 1) {
          p++; // table: reftype, then limits
          const flags = bytes[p++]!;
          leb();
          if (flags & 1) leb();
        } else if (kind === 2) {
          bytes[p++]; // limits flags
          return leb();
        } else if (kind === 3) p += 2; // global: valtype, mutability
      }
      break;
    }
    p = end;
  }
  throw new Error("python.wasm imports no memory");
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
