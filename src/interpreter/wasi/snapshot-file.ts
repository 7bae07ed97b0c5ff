// The boot snapshot as bytes: one layout for Node's disk cache, the browser's Cache API entry and
// the edge project's asset file.
//
//   magic ("wasmdeploy-wasi-snapshot-03\n", 28 bytes), sha256 of the body, body:
//   u32 memory pages, u32 count, count × (u32 memory offset, u32 length), the runs' bytes.
//
// A run is a stretch of memory that differs from what a freshly instantiated module holds there
// (its data segments, or zeros), stored XORed with that fresh content; stretches of 32 or more
// unchanged bytes end a run (WasiInstance.snapshot). So neither unchanged pages nor the unchanged
// bytes of a changed page (two thirds of them) are stored: the file, and what a platform holds
// to restore from it, is about half the size of the changed pages. Everything after the magic
// is 4-aligned, so a file read in place is XORed a word at a time. Older versions (raw pages,
// XORed pages) are refused, and remade, by the magic.
//
// The checksum is computed and checked by the callers, with what their platform has (Node's
// crypto, Web Crypto); the edge skips the check (the file was made at build time and ships with
// the worker).

import type { WasiSnapshot } from "./image.js";

export const SNAPSHOT_MAGIC = new TextEncoder().encode("wasmdeploy-wasi-snapshot-03\n");
/** Bytes before the body: the magic and the body's sha256. */
export const SNAPSHOT_HEAD = SNAPSHOT_MAGIC.length + 32;
const PAGE = 65536;

/** The body of a snapshot file (what the checksum covers). */
export function snapshotBody(s: WasiSnapshot): Uint8Array<ArrayBuffer> {
  const count = s.runs.length / 2;
  let stored = 0;
  for (let r = 1; r < s.runs.length; r += 2) stored += s.runs[r]!;
  const body = new Uint8Array(8 + 8 * count + stored);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, s.pages, true);
  dv.setUint32(4, count, true);
  s.runs.forEach((v, i) => dv.setUint32(8 + 4 * i, v, true));
  body.set(new Uint8Array(s.data, s.dataOffset ?? 0, stored), 8 + 8 * count);
  return body;
}

/** The whole file: magic, `sha256` (of `body`), body. */
export function snapshotFile(body: Uint8Array, sha256: Uint8Array): Uint8Array<ArrayBuffer> {
  const file = new Uint8Array(SNAPSHOT_HEAD + body.length);
  file.set(SNAPSHOT_MAGIC, 0);
  file.set(sha256, SNAPSHOT_MAGIC.length);
  file.set(body, SNAPSHOT_HEAD);
  return file;
}

export interface ParsedSnapshotFile {
  snapshot: WasiSnapshot;
  /** What the checksum covers, and the checksum the file states, for the caller to verify. */
  body: Uint8Array<ArrayBuffer>;
  sha256: Uint8Array;
}

/**
 * Reads a snapshot file; a string says why it is not one (wrong magic or version, truncated).
 * `inPlace`: the pages stay in `file` (the edge, where a copy would double them); otherwise they
 * are copied into a SharedArrayBuffer that threads and workers can share.
 */
export function parseSnapshotFile(file: Uint8Array, inPlace = false): ParsedSnapshotFile | string {
  if (file.length < SNAPSHOT_HEAD + 8 || SNAPSHOT_MAGIC.some((b, i) => file[i] !== b)) {
    return "not a wasmdeploy WASI snapshot of this version (wasmdeploy-wasi-snapshot-03)";
  }
  const body = file.subarray(SNAPSHOT_HEAD) as Uint8Array<ArrayBuffer>; // (a Buffer's backing store is an ArrayBuffer too)
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const pages = dv.getUint32(0, true);
  const count = dv.getUint32(4, true);
  const dataAt = 8 + 8 * count;
  if (body.length < dataAt) return "truncated WASI snapshot";
  const runs = new Uint32Array(2 * count);
  let stored = 0;
  for (let i = 0; i < count; i++) {
    const offset = dv.getUint32(8 + 8 * i, true);
    const length = dv.getUint32(12 + 8 * i, true);
    // A run outside the memory, or across a page, would write where the checksum cannot vouch
    // for the file's maker.
    if (offset + length > pages * PAGE || Math.floor(offset / PAGE) !== Math.floor((offset + length - 1) / PAGE)) return "WASI snapshot with a run outside its memory";
    runs[2 * i] = offset;
    runs[2 * i + 1] = length;
    stored += length;
  }
  if (body.length !== dataAt + stored) return "truncated WASI snapshot";
  const sha256 = file.subarray(SNAPSHOT_MAGIC.length, SNAPSHOT_HEAD);
  if (inPlace) {
    // Read in place from a plain ArrayBuffer: the instance only copies out of it.
    const snapshot = { pages, runs, data: body.buffer as unknown as SharedArrayBuffer, dataOffset: body.byteOffset + dataAt };
    return { snapshot, body, sha256 };
  }
  const data = new SharedArrayBuffer(stored);
  new Uint8Array(data).set(body.subarray(dataAt));
  return { snapshot: { pages, runs, data }, body, sha256 };
}
