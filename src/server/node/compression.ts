// Body compression with node:zlib, off the event loop (libuv's thread pool): gzip and deflate
// requests are decoded with the body limit applied to what they decode to (a compression bomb
// stops at the limit). Tensor responses (JSON digits, raw numbers) are compressed with Huffman
// coding only: LZ77 finds little to match in them, and skipping it made a tiny-GPT response
// (20 KB of JSON) as small as zlib's level 6 does (9.5 KB) in a quarter of level 6's time and a
// third of level 1's. Other text (Prometheus metrics, repetitive) gets level 1.

import zlib from "node:zlib";
import type { BodyCodec, Coding } from "../handler.js";
import { HttpError } from "../errors.js";

const isZlib = (b: Uint8Array) => b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;

type Zip = (buf: Uint8Array, opts: zlib.ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void;

function run(fn: Zip, data: Uint8Array, opts: zlib.ZlibOptions): Promise<Uint8Array> {
  return new Promise((resolve, reject) => fn(data, opts, (err, out) => (err ? reject(err) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)))));
}

export const nodeCodec: BodyCodec = {
  async decompress(data: Uint8Array, coding: Coding, max: number) {
    const fn: Zip = coding === "gzip" ? zlib.gunzip : isZlib(data) ? zlib.inflate : zlib.inflateRaw;
    try {
      return await run(fn, data, { maxOutputLength: Math.max(1, max) });
    } catch (e) {
      if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw new HttpError(400, `the request body decompresses to more than the ${max}-byte limit`);
      throw new HttpError(400, `the request body is not valid ${coding} data: ${(e as Error).message}`);
    }
  },
  compress(data: Uint8Array, coding: Coding, contentType?: string) {
    const tensors = contentType === undefined || /^application\/(json|octet-stream)/.test(contentType);
    return run(coding === "gzip" ? zlib.gzip : zlib.deflate, data, tensors ? { level: 1, strategy: zlib.constants.Z_HUFFMAN_ONLY } : { level: 1 });
  },
};
