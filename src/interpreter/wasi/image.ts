// What a WASI interpreter instance is made from, on any platform: the read-only file image it
// mounts, and the memory snapshot it restores. Plain data (SharedArrayBuffer-backed), so one
// copy can be shared by every thread or worker that runs instances.

import { unzipSync } from "fflate";

/** Files as [path, offset, length] into one shared byte buffer. */
export interface FileImage {
  data: SharedArrayBuffer;
  entries: [string, number, number][];
}

/**
 * Linear memory after the runtime is imported, as what differs from a freshly instantiated
 * module's memory, XORed with that fresh content (WasiInstance.snapshot): the non-zero runs of
 * those XORed pages, so unchanged bytes (most of a changed page) are not stored either.
 */
export interface WasiSnapshot {
  /** Memory size when taken, in 64 KiB pages. */
  pages: number;
  /**
   * [memory offset, length] pairs, ascending; no run crosses a page boundary. Their bytes lie
   * one after the other in `data`. Offsets and lengths are multiples of 4.
   */
  runs: Uint32Array;
  data: SharedArrayBuffer;
  /** Where the first run starts in `data` (default 0): lets a snapshot file be used in place, uncopied. */
  dataOffset?: number;
}

/**
 * A live instance on its way to another thread (WasiInstance.moveOut/moveIn): its whole linear
 * memory, as the pages that are not zero, and the call limit the host side of it had set.
 */
export interface MovedInstance {
  /** Memory size, in 64 KiB pages. */
  pages: number;
  /** Indexes of the pages stored in `data`, ascending; every other page is zero. */
  stored: Uint32Array;
  /** The stored pages, back to back. */
  data: ArrayBuffer;
  /** The call memory limit in force (bytes, 0: none). */
  callLimit: number;
}

/**
 * One image of the stdlib (under lib/python3.11) and runtime/ sources, in a SharedArrayBuffer
 * every instance views. `omit`: paths (as Python sees them, "/lib/python3.11/os.py") to leave out.
 */
export function buildFileImage(runtime: readonly { path: string; source: string }[], stdlibZip: Uint8Array, omit: ReadonlySet<string> = new Set()): FileImage {
  const parts: [string, Uint8Array][] = [];
  const add = (p: string, bytes: Uint8Array) => {
    if (!omit.has(`/${p}`)) parts.push([p, bytes]);
  };
  for (const [name, bytes] of Object.entries(unzipSync(stdlibZip))) {
    if (!name.endsWith("/")) add(`lib/python3.11/${name}`, bytes);
  }
  const enc = new TextEncoder();
  for (const f of runtime) add(`runtime/${f.path}`, enc.encode(f.source));
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
