// The boot snapshot as bytes: one layout for Node's disk cache, the browser's Cache API entry and
// the edge project's asset file.
//
//   magic ("wasmdeploy-wasi-snapshot-2\n"), sha256 of the body, body:
//   u32 memory pages, u32 count, count × u32 page indices (ascending), count × 64 KiB pages.
//
// Each stored page is the XOR of the page's content with what a freshly instantiated module holds
// there (its data segments, or zeros): pages equal to that are not stored, and the data region,
// which the boot changes only here and there, stores as mostly zeros (it compresses 1.1 MB
// better than the raw pages did). Version 1 stored raw non-zero pages; its files are refused
// (and remade) by the magic.
//
// The checksum is computed and checked by the callers, with what their platform has (Node's
// crypto, Web Crypto); the edge skips the check (the file was made at build time and ships with
// the worker).

import type { WasiSnapshot } from "./image.js";

export const SNAPSHOT_MAGIC = new TextEncoder().encode("wasmdeploy-wasi-snapshot-2\n");
/** Bytes before the body: the magic and the body's sha256. */
export const SNAPSHOT_HEAD = SNAPSHOT_MAGIC.length + 32;
const PAGE = 65536;

/** The body of a snapshot file (what the checksum covers). */
export function snapshotBody(s: WasiSnapshot): Uint8Array<ArrayBuffer> {
  const count = s.index.length;
  const body = new Uint8Array(8 + 4 * count + count * PAGE);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, s.pages, true);
  dv.setUint32(4, count, true);
  s.index.forEach((p, i) => dv.setUint32(8 + 4 * i, p, true));
  body.set(new Uint8Array(s.data, s.dataOffset ?? 0, count * PAGE), 8 + 4 * count);
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
    return "not a wasmdeploy WASI snapshot of this version (wasmdeploy-wasi-snapshot-2)";
  }
  const body = file.subarray(SNAPSHOT_HEAD) as Uint8Array<ArrayBuffer>; // (a Buffer's backing store is an ArrayBuffer too)
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const pages = dv.getUint32(0, true);
  const count = dv.getUint32(4, true);
  const dataAt = 8 + 4 * count;
  if (body.length !== dataAt + count * PAGE) return "truncated WASI snapshot";
  const index = new Int32Array(count);
  for (let i = 0; i < count; i++) index[i] = dv.getUint32(8 + 4 * i, true);
  const sha256 = file.subarray(SNAPSHOT_MAGIC.length, SNAPSHOT_HEAD);
  if (inPlace) {
    // Read in place from a plain ArrayBuffer: the instance only copies out of it.
    const snapshot = { pages, index, data: body.buffer as unknown as SharedArrayBuffer, dataOffset: body.byteOffset + dataAt };
    return { snapshot, body, sha256 };
  }
  const data = new SharedArrayBuffer(count * PAGE);
  new Uint8Array(data).set(body.subarray(dataAt));
  return { snapshot: { pages, index, data }, body, sha256 };
}
