// The zip reader on good and hostile input. Every zip here is written by hand (a tiny
// writer with controllable names, sizes, methods, CRCs and offsets) or by fflate: no
// PyTorch needed.

import * as zlib from "node:zlib";
import { deflateSync, strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";

import { PackageFormatError, ResourceNotFoundError } from "../../src/errors.js";
import { DEFAULT_ZIP_LIMITS, crc32, readZip, type ZipLimits } from "../../src/package/zip.js";

// ---------------------------------------------------------------------------------------
// A tiny zip writer.

interface TestEntry {
  name: string;
  /** Uncompressed content. */
  data?: Uint8Array;
  /** 0 STORE (default) or 8 DEFLATE, or anything else to test refusal. */
  method?: number;
  /** Bytes actually written after the local header (default: data, or deflate(data)). */
  payload?: Uint8Array;
  /** Central-directory overrides. */
  crc?: number;
  size?: number;
  compressedSize?: number;
  flags?: number;
  offset?: number;
  /** Name bytes written in the central directory (default: UTF-8 of name). */
  rawName?: Uint8Array;
  /** Local-header overrides. */
  localName?: string;
  localMethod?: number;
  localExtra?: Uint8Array;
  /** Zero CRC/sizes in the local header and write a data descriptor after the data (what miniz does). */
  descriptor?: boolean;
  /** Saturate size, compressed size and offset in the central directory and put them in a ZIP64 extra field. */
  zip64?: boolean;
}

interface ZipOptions {
  /** Write a ZIP64 end record and locator. */
  zip64End?: boolean;
  /** With zip64End: put 0xFFFF/0xFFFFFFFF in the classic end record. */
  saturateEnd?: boolean;
  comment?: Uint8Array;
  /** Overrides for the (classic or ZIP64) end record fields. */
  cdOffset?: number;
  cdSize?: number;
  entryCount?: number;
}

class Buf {
  private parts: number[] = [];
  get length(): number {
    return this.parts.length;
  }
  u8(...xs: number[]): this {
    this.parts.push(...xs);
    return this;
  }
  u16(v: number): this {
    return this.u8(v & 0xff, (v >>> 8) & 0xff);
  }
  u32(v: number): this {
    return this.u8(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  u64(v: number): this {
    return this.u32(v % 0x100000000).u32(Math.floor(v / 0x100000000));
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function makeZip(entries: TestEntry[], opts: ZipOptions = {}): Uint8Array {
  const out = new Buf();
  const central = new Buf();
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    const method = e.method ?? 0;
    const payload = e.payload ?? (method === 8 ? deflateSync(data) : data);
    const crc = e.crc ?? crc32(data);
    const size = e.size ?? data.length;
    const csize = e.compressedSize ?? payload.length;
    const flags = (e.flags ?? 0) | (e.descriptor ? 0x808 : 0);
    const offset = e.offset ?? out.length;
    const nameBytes = e.rawName ?? enc(e.name);
    const localName = e.localName !== undefined ? enc(e.localName) : nameBytes;
    const localExtra = e.localExtra ?? new Uint8Array(0);
    out.u32(0x04034b50).u16(20).u16(flags).u16(e.localMethod ?? method).u16(0).u16(0);
    if (e.descriptor) out.u32(0).u32(0).u32(0);
    else out.u32(crc).u32(csize).u32(size);
    out.u16(localName.length).u16(localExtra.length).bytes(localName).bytes(localExtra).bytes(payload);
    if (e.descriptor) out.u32(0x08074b50).u32(crc).u32(csize).u32(size);

    const extra = new Buf();
    if (e.zip64) extra.u16(0x0001).u16(24).u64(size).u64(csize).u64(offset);
    const ex = extra.done();
    central
      .u32(0x02014b50)
      .u16(0x031e)
      .u16(e.zip64 ? 45 : 20)
      .u16(flags)
      .u16(method)
      .u16(0)
      .u16(0)
      .u32(crc)
      .u32(e.zip64 ? 0xffffffff : csize)
      .u32(e.zip64 ? 0xffffffff : size)
      .u16(nameBytes.length)
      .u16(ex.length)
      .u16(0)
      .u16(0)
      .u16(0)
      .u32(0)
      .u32(e.zip64 ? 0xffffffff : offset)
      .bytes(nameBytes)
      .bytes(ex);
  }
  const cdOffset = opts.cdOffset ?? out.length;
  const cd = central.done();
  const cdSize = opts.cdSize ?? cd.length;
  const count = opts.entryCount ?? entries.length;
  out.bytes(cd);
  if (opts.zip64End) {
    const eocd64 = out.length;
    out.u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(count).u64(count).u64(cdSize).u64(cdOffset);
    out.u32(0x07064b50).u32(0).u64(eocd64).u32(1);
  }
  const sat = opts.zip64End && opts.saturateEnd;
  const comment = opts.comment ?? new Uint8Array(0);
  out
    .u32(0x06054b50)
    .u16(0)
    .u16(0)
    .u16(sat ? 0xffff : count)
    .u16(sat ? 0xffff : count)
    .u32(sat ? 0xffffffff : cdSize)
    .u32(sat ? 0xffffffff : cdOffset)
    .u16(comment.length)
    .bytes(comment);
  return out.done();
}

function formatError(fn: () => unknown): PackageFormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PackageFormatError);
    return err as PackageFormatError;
  }
  throw new Error("expected a PackageFormatError, nothing was thrown");
}

const hello = enc("hello, world\n");

// ---------------------------------------------------------------------------------------

describe("crc32", () => {
  it("matches the standard check value and zlib", () => {
    expect(crc32(enc("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const data = new Uint8Array(100_003);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const zc = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
    if (zc) expect(crc32(data)).toBe(zc(data));
    // Incremental use gives the same result.
    expect(crc32(data.subarray(37), crc32(data.subarray(0, 37)))).toBe(crc32(data));
  });
});

describe("readZip: good archives", () => {
  it("reads STORE entries as views into the archive, without copying", () => {
    const bytes = makeZip([{ name: "r/a.txt", data: hello }, { name: "r/empty", data: new Uint8Array(0) }]);
    const z = readZip(bytes, "t.zip");
    expect(z.entries.map((e) => e.name)).toEqual(["r/a.txt", "r/empty"]);
    expect(z.has("r/a.txt")).toBe(true);
    expect(z.has("r/nope")).toBe(false);
    const e = z.entry("r/a.txt")!;
    expect(e).toMatchObject({ name: "r/a.txt", size: hello.length, compressedSize: hello.length, method: 0, crc32: crc32(hello), localHeaderOffset: 0 });
    const out = z.read("r/a.txt");
    expect(out).toEqual(hello);
    expect(out.buffer).toBe(bytes.buffer);
    expect(z.read("r/a.txt")).toEqual(hello); // second read (cached verification)
    expect(z.read("r/empty").length).toBe(0);
    expect(z.label).toBe("t.zip");
  });

  it("inflates DEFLATE entries into a buffer of exactly the declared size", () => {
    const text = enc("the quick brown fox jumps over the lazy dog\n".repeat(2000));
    const bytes = makeZip([{ name: "r/t.txt", data: text, method: 8 }, { name: "r/e", data: new Uint8Array(0), method: 8 }]);
    const z = readZip(bytes);
    const out = z.read("r/t.txt");
    expect(out).toEqual(text);
    expect(out.byteLength).toBe(text.length);
    expect(out.buffer.byteLength).toBe(text.length);
    expect(z.read("r/e").length).toBe(0);
  });

  it("reads fflate zipSync archives (mixed methods, multi-step inflate)", () => {
    const big = new Uint8Array(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const bytes = zipSync({
      "root/a.txt": strToU8("hello ".repeat(1000)),
      "root/b.bin": [big, { level: 6 }],
      "root/c.raw": [hello, { level: 0 }],
    });
    const z = readZip(bytes);
    expect(z.read("root/a.txt")).toEqual(strToU8("hello ".repeat(1000)));
    expect(z.read("root/b.bin")).toEqual(big);
    expect(z.read("root/c.raw")).toEqual(hello);
    expect(z.entry("root/c.raw")!.method).toBe(0);
    expect(z.entry("root/a.txt")!.method).toBe(8);
  });

  it("reads the layout PyTorch's writer produces: data descriptors, padded local headers, ZIP64 end records", () => {
    // miniz pads each local header with an extra field so data starts on a 64-byte boundary,
    // and leaves the real sizes to the data descriptor and the central directory.
    const pad = (n: number): Uint8Array => new Buf().u16(0x4246).u16(n).bytes(new Uint8Array(n)).done();
    const bytes = makeZip(
      [
        { name: "m/.data/0.storage", data: new Uint8Array(32).fill(7), descriptor: true, localExtra: pad(9) },
        { name: "m/.data/version", data: enc("6\n"), descriptor: true, localExtra: pad(40) },
      ],
      { zip64End: true },
    );
    const z = readZip(bytes);
    expect(z.read("m/.data/0.storage")).toEqual(new Uint8Array(32).fill(7));
    expect(new TextDecoder().decode(z.read("m/.data/version"))).toBe("6\n");
  });

  it("reads ZIP64 archives: saturated end record, ZIP64 end record and per-entry ZIP64 extra fields", () => {
    const text = enc("zip64 ".repeat(100));
    const bytes = makeZip(
      [
        { name: "r/a", data: hello, zip64: true },
        { name: "r/b", data: text, method: 8, zip64: true },
      ],
      { zip64End: true, saturateEnd: true },
    );
    const z = readZip(bytes);
    expect(z.entries.length).toBe(2);
    expect(z.entry("r/a")).toMatchObject({ size: hello.length, localHeaderOffset: 0 });
    expect(z.read("r/a")).toEqual(hello);
    expect(z.read("r/b")).toEqual(text);
  });

  it("finds the end record behind an archive comment", () => {
    const bytes = makeZip([{ name: "r/a", data: hello }], { comment: enc("PK\x05\x06 not a real record ".repeat(10)) });
    expect(readZip(bytes).read("r/a")).toEqual(hello);
  });

  it("accepts directory entries and unicode names", () => {
    const z = readZip(makeZip([{ name: "r/" }, { name: "r/héllo wörld.txt", data: hello, flags: 0x800 }]));
    expect(z.entries.map((e) => e.name)).toEqual(["r/", "r/héllo wörld.txt"]);
    expect(z.read("r/héllo wörld.txt")).toEqual(hello);
  });

  it("views a Node Buffer as a plain Uint8Array, without copying", () => {
    const buf = Buffer.from(makeZip([{ name: "r/a", data: hello }]));
    const out = readZip(buf).read("r/a");
    expect(out.constructor).toBe(Uint8Array);
    expect(out.buffer).toBe(buf.buffer);
    expect(out).toEqual(hello);
  });

  it("throws ResourceNotFoundError for a missing entry", () => {
    const z = readZip(makeZip([{ name: "r/a", data: hello }]), "t.zip");
    expect(() => z.read("r/b")).toThrow(ResourceNotFoundError);
  });

  it("exports sensible default limits", () => {
    expect(DEFAULT_ZIP_LIMITS).toEqual({
      maxArchiveBytes: 4 * 2 ** 30,
      maxEntries: 100_000,
      maxEntryBytes: 2 * 2 ** 30,
      maxTotalBytes: 8 * 2 ** 30,
      maxCompressionRatio: 200,
    } satisfies ZipLimits);
  });
});

describe("readZip: not a zip, truncated", () => {
  it("refuses an empty file", () => {
    expect(formatError(() => readZip(new Uint8Array(0), "e.pt")).message).toMatch(/^e\.pt: empty file \(0 bytes\)/);
  });

  it("refuses random bytes and a bare pickle", () => {
    const rnd = new Uint8Array(4096);
    for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 1103515245 + 12345) >>> 16;
    expect(formatError(() => readZip(rnd)).message).toBe(
      "not a zip archive (no end-of-central-directory record); torch.package archives are zip files written by torch.package.PackageExporter",
    );
    expect(formatError(() => readZip(enc("tiny"))).message).toMatch(/not a zip archive/);
    const pickle = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, ...new Uint8Array(40)]);
    expect(formatError(() => readZip(pickle)).message).toMatch(/bare pickle .*torch\.save/);
  });

  it("says a zip cut short is truncated", () => {
    const bytes = makeZip([{ name: "r/a", data: new Uint8Array(500) }]);
    const err = formatError(() => readZip(bytes.subarray(0, 300), "cut.pt"));
    expect(err.message).toMatch(/^cut\.pt: truncated: .*the file was cut short, copy it again$/);
    expect(err.archive).toBe("cut.pt");
  });

  it("says so when the central directory runs past the end of the file", () => {
    const bytes = makeZip([{ name: "r/a", data: hello }], { cdOffset: 1000 });
    expect(formatError(() => readZip(bytes)).message).toBe(
      `truncated: central directory at offset 1000 extends past the end of the ${bytes.length}-byte file; the file was cut short, copy it again`,
    );
  });

  it("refuses more entries than the central directory can hold", () => {
    const bytes = makeZip([{ name: "r/a", data: hello }], { entryCount: 5 });
    expect(formatError(() => readZip(bytes)).message).toMatch(/declares 5 entries but its central directory holds only/);
  });

  it("refuses a saturated end record without a ZIP64 locator, and a locator pointing nowhere", () => {
    const plain = makeZip([{ name: "r/a", data: hello }]);
    const sat = plain.slice();
    const eocd = sat.length - 22;
    sat.fill(0xff, eocd + 16, eocd + 20); // cd offset = 0xFFFFFFFF
    expect(formatError(() => readZip(sat)).message).toMatch(/says ZIP64 but there is no ZIP64 locator/);

    const z64 = makeZip([{ name: "r/a", data: hello }], { zip64End: true, saturateEnd: true });
    const loc = z64.length - 22 - 20;
    z64[loc + 8] = 3; // point the locator at offset 3
    z64.fill(0, loc + 9, loc + 16);
    expect(formatError(() => readZip(z64)).message).toMatch(/ZIP64 end-of-central-directory locator points at offset 3/);
  });

  it("refuses an entry whose central record says ZIP64 but has no ZIP64 extra field", () => {
    const bytes = makeZip([{ name: "r/a", data: hello, size: 0xffffffff, compressedSize: 0xffffffff }]);
    expect(formatError(() => readZip(bytes)).message).toMatch(/entry "r\/a": .*says ZIP64 but has no ZIP64 extra field/);
  });
});

describe("readZip: entry names", () => {
  const unsafe = ["../x", "/etc/passwd", "a/../../b", "a\\b", "C:/x", "c:x", "a\0b", ".."];
  for (const name of unsafe) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      const err = formatError(() => readZip(makeZip([{ name: "r/ok", data: hello }, { name, data: hello }]), "t.pt"));
      expect(err.message).toBe(
        `t.pt: unsafe entry name ${JSON.stringify(name)}: absolute paths, ".." components, backslashes, drive letters and NUL bytes are refused`,
      );
    });
  }

  for (const name of ["a//b", "./a", "a/./b", ""]) {
    it(`refuses the ambiguous name ${JSON.stringify(name)}`, () => {
      expect(formatError(() => readZip(makeZip([{ name, data: hello }]))).message).toMatch(/empty|"\." path components/);
    });
  }

  it("refuses names that are not UTF-8", () => {
    const bytes = makeZip([{ name: "x", rawName: Uint8Array.from([0x72, 0x2f, 0xff, 0xfe]), data: hello }]);
    expect(formatError(() => readZip(bytes)).message).toMatch(/not valid UTF-8/);
  });

  it("refuses duplicate names", () => {
    const bytes = makeZip([{ name: "r/a", data: hello }, { name: "r/a", data: enc("other") }]);
    expect(formatError(() => readZip(bytes)).message).toMatch(/^duplicate entry name "r\/a"/);
  });

  it("refuses a local header that names a different file", () => {
    const z = readZip(makeZip([{ name: "r/a", localName: "r/b", data: hello }]));
    expect(formatError(() => z.read("r/a")).message).toMatch(/local header names a different file/);
  });
});

describe("readZip: methods, flags, sizes", () => {
  it("refuses encrypted entries", () => {
    const bytes = makeZip([{ name: "r/a", data: hello, flags: 1 }]);
    expect(formatError(() => readZip(bytes)).message).toMatch(/^entry "r\/a" is encrypted; .*without encryption$/);
  });

  it("refuses unsupported compression methods", () => {
    for (const [method, what] of [[12, "BZIP2"], [14, "LZMA"], [93, "Zstandard"], [77, "unknown"]] as const) {
      const bytes = makeZip([{ name: "r/a", data: hello, method, payload: hello }]);
      expect(formatError(() => readZip(bytes)).message).toMatch(
        new RegExp(`^entry "r/a" uses compression method ${method} \\(${what}\\); only STORE \\(0\\) and DEFLATE \\(8\\) are supported`),
      );
    }
  });

  it("refuses a local header whose method disagrees with the central directory", () => {
    const z = readZip(makeZip([{ name: "r/a", data: hello, localMethod: 8 }]));
    expect(formatError(() => z.read("r/a")).message).toMatch(/local header says compression method 8, central directory says 0/);
  });

  it("refuses a STORE entry whose sizes disagree", () => {
    const bytes = makeZip([{ name: "r/a", data: hello, size: 5 }]);
    expect(formatError(() => readZip(bytes)).message).toMatch(/stored uncompressed but declares 5 bytes and 13 stored bytes/);
  });

  it("refuses an entry bigger than maxEntryBytes, before reading anything", () => {
    const bytes = makeZip([{ name: "a/b", data: hello, size: 3_000_000_000, compressedSize: 3_000_000_000 }]);
    expect(formatError(() => readZip(bytes)).message).toBe(
      'entry "a/b" declares 3000000000 bytes, over the 2147483648-byte limit (limits.maxEntryBytes)',
    );
    // ZIP64 sizes beyond 4 GiB are read and limited the same way.
    const big = makeZip([{ name: "a/c", data: hello, zip64: true, size: 5 * 2 ** 30, compressedSize: 5 * 2 ** 30 }], {
      zip64End: true,
    });
    expect(formatError(() => readZip(big)).message).toMatch(/^entry "a\/c" declares 5368709120 bytes, over the 2147483648-byte limit/);
  });

  it("refuses entries whose data lies outside the file", () => {
    const bytes = makeZip([{ name: "r/a", data: hello, size: 1_000_000, compressedSize: 1_000_000 }]);
    expect(formatError(() => readZip(bytes)).message).toMatch(/^entry "r\/a": its data .*lies outside the file's data area/);
    const past = makeZip([{ name: "r/a", data: hello, offset: 10_000 }]);
    expect(formatError(() => readZip(past)).message).toMatch(/lies outside/);
  });

  it("refuses overlapping entries (the non-recursive zip bomb trick)", () => {
    const payload = deflateSync(new Uint8Array(1000));
    const bytes = makeZip([
      { name: "r/a", data: new Uint8Array(1000), method: 8 },
      { name: "r/b", data: new Uint8Array(1000), method: 8, payload, offset: 0 },
    ]);
    expect(formatError(() => readZip(bytes)).message).toMatch(/^entries "r\/(a|b)" and "r\/(a|b)" overlap in the file/);
  });

  it("checks the CRC-32 of STORE and DEFLATE entries", () => {
    const bytes = makeZip([
      { name: "r/s", data: hello, crc: 0x12345678 },
      { name: "r/d", data: hello, method: 8, crc: 0xdeadbeef },
    ]);
    const z = readZip(bytes);
    expect(formatError(() => z.read("r/s")).message).toMatch(
      /^entry "r\/s": CRC-32 mismatch \(computed 0x[0-9a-f]{8}, the archive declares 0x12345678\); the data is corrupt/,
    );
    expect(formatError(() => z.read("r/d")).message).toMatch(/CRC-32 mismatch .*declares 0xdeadbeef/);
  });

  it("catches corrupted STORE data", () => {
    const bytes = makeZip([{ name: "r/a", data: hello }]);
    bytes[34] = bytes[34]! ^ 0xff; // a byte of the data (local header 30 + name 3 = 33)
    expect(formatError(() => readZip(bytes).read("r/a")).message).toMatch(/CRC-32 mismatch/);
  });

  it("refuses a DEFLATE entry that inflates to more than it declares (even with a matching CRC)", () => {
    const data = enc("0123456789abcdefghij"); // 20 bytes; the header says 10
    const bytes = makeZip([{ name: "r/lie", data, method: 8, size: 10, crc: crc32(data.subarray(0, 10)) }]);
    const z = readZip(bytes);
    expect(formatError(() => z.read("r/lie")).message).toBe(
      'entry "r/lie": inflates to more than the 10 bytes the archive declares; refusing a crafted or corrupt entry, export the archive again',
    );
  });

  it("stops inflating a lying entry early instead of decoding all of it", () => {
    // Declared as 100 bytes: a DEFLATE stream of 1 MiB cut off after 512 KiB of its compressed
    // bytes. Decoding all of it would end in "unexpected EOF"; a reader that stops after its
    // first bounded step, once the output passed 100 bytes, never reaches the cut. (Checked by
    // what is decoded, not by a time limit, which a loaded machine could miss.)
    const data = new Uint8Array(2 ** 20).map((_, i) => (i * 2654435761) >>> 24);
    const payload = deflateSync(data, { level: 0 }).subarray(0, 2 ** 19);
    const z = readZip(makeZip([{ name: "r/lie", data: data.subarray(0, 100), method: 8, payload }]));
    expect(formatError(() => z.read("r/lie")).message).toMatch(/inflates to more than the 100 bytes/);
    // The same stream declared at its full size is read to the cut, and refused there.
    const whole = readZip(makeZip([{ name: "r/cut", data, method: 8, payload }]));
    expect(formatError(() => whole.read("r/cut")).message).toMatch(/invalid DEFLATE data/);
  });

  it("refuses a DEFLATE entry that inflates to less than it declares", () => {
    const bytes = makeZip([{ name: "r/short", data: hello, method: 8, size: 30 }]);
    expect(formatError(() => readZip(bytes).read("r/short")).message).toMatch(
      /^entry "r\/short": inflates to 13 bytes but the archive declares 30/,
    );
  });

  it("turns invalid DEFLATE data into a PackageFormatError naming the entry", () => {
    const bytes = makeZip([{ name: "r/bad", data: hello, method: 8, payload: Uint8Array.from([0xff, 0xff, 0xff, 0xff]) }]);
    expect(formatError(() => readZip(bytes).read("r/bad")).message).toMatch(/^entry "r\/bad": invalid DEFLATE data \(/);
    const empty = makeZip([{ name: "r/none", data: hello, method: 8, payload: new Uint8Array(0) }]);
    expect(formatError(() => readZip(empty).read("r/none")).message).toMatch(/declares 13 bytes but has no compressed data/);
  });
});

describe("readZip: limits", () => {
  it("refuses a likely zip bomb by its compression ratio, before inflating", () => {
    const zeros = new Uint8Array(2 * 1024 * 1024); // 2 MiB of zeros deflate to about 2 KiB
    const bytes = makeZip([{ name: "r/bomb", data: zeros, method: 8 }]);
    const err = formatError(() => readZip(bytes, "bomb.pt"));
    expect(err.message).toMatch(
      /^bomb\.pt: entry "r\/bomb" compresses \d+(\.\d)?:1, over the 200:1 limit: refusing a likely zip bomb \(limits\.maxCompressionRatio\)$/,
    );
    // Trusted: raise the limit and it reads.
    expect(readZip(bytes, "bomb.pt", { maxCompressionRatio: Infinity }).read("r/bomb").length).toBe(zeros.length);
    // A declared size with (almost) no data is refused the same way, without any real data.
    const fake = makeZip([{ name: "r/x", data: hello, method: 8, payload: new Uint8Array(1000), size: 1_000_000_000, crc: 0 }]);
    expect(formatError(() => readZip(fake)).message).toBe(
      'entry "r/x" compresses 1000000:1, over the 200:1 limit: refusing a likely zip bomb (limits.maxCompressionRatio)',
    );
  });

  it("leaves small compressed entries out of the ratio limit", () => {
    const zeros = new Uint8Array(1024 * 1024); // exactly 1 MiB: exempt
    expect(readZip(makeZip([{ name: "r/z", data: zeros, method: 8 }])).read("r/z").length).toBe(zeros.length);
  });

  it("refuses more entries than maxEntries", () => {
    const bytes = makeZip([{ name: "r/a" }, { name: "r/b" }, { name: "r/c" }]);
    expect(formatError(() => readZip(bytes, undefined, { maxEntries: 2 })).message).toMatch(
      /^the archive has 3 entries, over the 2-entry limit \(limits\.maxEntries\)/,
    );
  });

  it("refuses a total over maxTotalBytes", () => {
    const bytes = makeZip([{ name: "r/a", data: new Uint8Array(600) }, { name: "r/b", data: new Uint8Array(600) }]);
    expect(formatError(() => readZip(bytes, undefined, { maxTotalBytes: 1000 })).message).toMatch(
      /^the entries declare 1200 bytes or more in total, over the 1000-byte limit \(limits\.maxTotalBytes\)/,
    );
  });

  it("refuses a file over maxArchiveBytes", () => {
    const bytes = makeZip([{ name: "r/a", data: new Uint8Array(600) }]);
    expect(formatError(() => readZip(bytes, undefined, { maxArchiveBytes: 100 })).message).toMatch(
      new RegExp(`^the archive is ${bytes.length} bytes, over the 100-byte limit \\(limits\\.maxArchiveBytes\\)`),
    );
  });

  it("rejects nonsensical limits", () => {
    expect(() => readZip(makeZip([]), undefined, { maxEntries: -1 })).toThrow(/limits\.maxEntries must be a non-negative number/);
  });
});
