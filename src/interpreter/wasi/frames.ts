// The byte layout requests, results and bridge messages take in a WASI instance's linear
// memory (mirrors frame_pack/frame_unpack in wasm/src/wasmdeploy.c): u32 count, then for
// each item a u32 length and its bytes, little endian.

export function frameSize(items: Uint8Array[]): number {
  return items.reduce((n, b) => n + 4 + b.length, 4);
}

export function writeFrame(mem: Uint8Array, at: number, items: Uint8Array[]): void {
  const dv = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  dv.setUint32(at, items.length, true);
  let p = at + 4;
  for (const b of items) {
    dv.setUint32(p, b.length, true);
    mem.set(b, p + 4);
    p += 4 + b.length;
  }
}

export function encodeFrame(items: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frameSize(items));
  writeFrame(out, 0, items);
  return out;
}

/** Items of the frame at `at`, copied out of `mem` (which the instance may reuse or grow). */
export function readFrame(mem: Uint8Array, at: number, limit = mem.byteLength): Uint8Array[] {
  const dv = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  const n = dv.getUint32(at, true);
  const items: Uint8Array[] = [];
  let p = at + 4;
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(p, true);
    if (p + 4 + len > limit) throw new Error("malformed frame");
    items.push(mem.slice(p + 4, p + 4 + len));
    p += 4 + len;
  }
  return items;
}
