// A zip reader that is safe on hostile input.
//
// torch.package archives are zip files written by PyTorch's PyTorchStreamWriter (miniz):
// entries are STOREd, aligned to 64 bytes with padding extra fields in the local headers,
// sizes and CRCs sit in data descriptors (flag bit 3) and in the central directory, and
// the archive always carries ZIP64 end records. Archives re-zipped by other tools may use
// DEFLATE. This reader:
//
// - parses the end-of-central-directory record (and the ZIP64 one) and the central
//   directory itself; it never trusts local headers for sizes,
// - validates every entry (name, sizes, method, encryption, position in the file, overlap
//   with its neighbours) and the archive-wide limits in `readZip`, before inflating
//   anything,
// - reads an entry's local header only when the entry is read,
// - returns STOREd data as a view into the archive bytes (no copy), and inflates DEFLATE
//   data in bounded steps into a buffer of exactly the declared size, stopping as soon as
//   the stream produces more than it declared,
// - checks the size and CRC-32 of every entry it returns.
//
// Every problem with the archive is a PackageFormatError that says what is wrong and what
// to do about it.

import { Inflate } from "fflate";

import { PackageFormatError, ResourceNotFoundError, WasmdeployError } from "../errors.js";

export interface ZipLimits {
  /** Largest archive accepted, in bytes. Default 4 GiB. */
  maxArchiveBytes: number;
  /** Most entries accepted. Default 100 000. */
  maxEntries: number;
  /** Largest uncompressed entry accepted, in bytes. Default 2 GiB. */
  maxEntryBytes: number;
  /** Largest sum of the uncompressed sizes declared in the central directory. Default 8 GiB. */
  maxTotalBytes: number;
  /**
   * Largest uncompressed/compressed ratio of one entry. Default 200. Applies only to
   * compressed entries larger than 1 MiB uncompressed (small files legitimately compress
   * better, and cannot make a bomb).
   */
  maxCompressionRatio: number;
}

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;

export const DEFAULT_ZIP_LIMITS: ZipLimits = Object.freeze({
  maxArchiveBytes: 4 * GiB,
  maxEntries: 100_000,
  maxEntryBytes: 2 * GiB,
  maxTotalBytes: 8 * GiB,
  maxCompressionRatio: 200,
});

/** Entries at or below this uncompressed size are exempt from the compression-ratio limit. */
const RATIO_EXEMPT_BYTES = MiB;

export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;

export interface ZipEntry {
  /** Entry name as stored (UTF-8 decoded), e.g. "model/.data/version". */
  name: string;
  /** Uncompressed size in bytes. */
  size: number;
  /** Compressed size in bytes (equals size for STORE). */
  compressedSize: number;
  /** Compression method: 0 STORE or 8 DEFLATE (others are refused by readZip). */
  method: number;
  /** CRC-32 of the uncompressed data, as declared in the central directory. */
  crc32: number;
  /** Offset of the entry's local header in the archive. */
  localHeaderOffset: number;
}

// ---------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), slicing-by-8.

const CRC_TABLES: Uint32Array[] = (() => {
  const tables: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  tables.push(t0);
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1]!;
    const cur = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      const p = prev[n]!;
      cur[n] = (t0[p & 0xff]! ^ (p >>> 8)) >>> 0;
    }
    tables.push(cur);
  }
  return tables;
})();

/** CRC-32 of `data`, continuing from `crc` (pass the previous result to checksum in pieces). */
export function crc32(data: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [
    Uint32Array, Uint32Array, Uint32Array, Uint32Array,
    Uint32Array, Uint32Array, Uint32Array, Uint32Array,
  ];
  let c = ~crc >>> 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const a = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
    i += 8;
  }
  while (i < n) c = t0[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------------------------------
// Little-endian readers with bounds checks.

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;

const EOCD_SIZE = 22;
const EOCD64_LOCATOR_SIZE = 20;
const EOCD64_MIN_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
/** A 64-bit little-endian integer, or undefined when it is beyond Number.MAX_SAFE_INTEGER. */
function u64(b: Uint8Array, o: number): number | undefined {
  const lo = u32(b, o);
  const hi = u32(b, o + 4);
  if (hi >= 0x200000) return undefined;
  return hi * 0x100000000 + lo;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function q(name: string): string {
  return JSON.stringify(name);
}

function fmtRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return "infinitely";
  const s = ratio >= 1000 ? String(Math.round(ratio)) : ratio.toFixed(1).replace(/\.0$/, "");
  return `${s}:1`;
}

const UNSAFE_NAME_HELP =
  'absolute paths, ".." components, backslashes, drive letters and NUL bytes are refused';

/** Why an entry name is unsafe to map onto a file system or module path, or undefined if it is fine. */
function unsafeNameReason(name: string): string | undefined {
  if (name.length === 0) return "empty entry name: every entry needs a name";
  if (
    name.startsWith("/") ||
    name.includes("\\") ||
    name.includes("\0") ||
    /^[A-Za-z]:/.test(name) ||
    name.split("/").some((c) => c === "..")
  ) {
    return `unsafe entry name ${q(name)}: ${UNSAFE_NAME_HELP}`;
  }
  const parts = name.split("/");
  // A trailing "/" marks a directory entry; other empty components and "." are ambiguous.
  const inner = name.endsWith("/") ? parts.slice(0, -1) : parts;
  if (inner.some((c) => c === "" || c === ".")) {
    return `unsafe entry name ${q(name)}: empty and "." path components are refused (they make two names mean one file)`;
  }
  return undefined;
}

function methodName(method: number): string {
  switch (method) {
    case 1: return "Shrink";
    case 6: return "Implode";
    case 9: return "Deflate64";
    case 12: return "BZIP2";
    case 14: return "LZMA";
    case 93: return "Zstandard";
    case 95: return "XZ";
    case 98: return "PPMd";
    case 99: return "AES encryption";
    default: return "unknown";
  }
}

function resolveLimits(partial: Partial<ZipLimits> | undefined): ZipLimits {
  const limits: ZipLimits = { ...DEFAULT_ZIP_LIMITS };
  if (partial) {
    for (const key of Object.keys(DEFAULT_ZIP_LIMITS) as (keyof ZipLimits)[]) {
      const v = partial[key];
      if (v === undefined) continue;
      if (typeof v !== "number" || Number.isNaN(v) || v < 0) {
        throw new WasmdeployError(`limits.${key} must be a non-negative number (Infinity disables it), got ${String(v)}`);
      }
      limits[key] = v;
    }
  }
  return limits;
}

/** @internal What readZip hands to ZipArchive. */
export interface ZipEntryRecord extends ZipEntry {
  flags: number;
  nameBytes: Uint8Array;
  /** End of the region this entry may occupy: the next entry's local header, or the central directory. */
  limit: number;
}

// ---------------------------------------------------------------------------------------

export class ZipArchive {
  readonly entries: readonly ZipEntry[];
  /** The label given to readZip (a path, or undefined), used in error messages. */
  readonly label: string | undefined;
  readonly #bytes: Uint8Array;
  readonly #byName: ReadonlyMap<string, ZipEntryRecord>;
  readonly #public: ReadonlyMap<string, ZipEntry>;
  /** Names whose STOREd bytes have been checked already (they cannot change: views into #bytes are read-only by contract). */
  readonly #verified = new Set<string>();

  /** @internal Use readZip. */
  constructor(bytes: Uint8Array, entries: ZipEntryRecord[], label: string | undefined) {
    this.#bytes = bytes;
    this.label = label;
    this.#byName = new Map(entries.map((e) => [e.name, e]));
    const pub = entries.map(
      (e): ZipEntry =>
        Object.freeze({
          name: e.name,
          size: e.size,
          compressedSize: e.compressedSize,
          method: e.method,
          crc32: e.crc32,
          localHeaderOffset: e.localHeaderOffset,
        }),
    );
    this.entries = Object.freeze(pub);
    this.#public = new Map(pub.map((e) => [e.name, e]));
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  entry(name: string): ZipEntry | undefined {
    return this.#public.get(name);
  }

  /**
   * The uncompressed bytes of an entry. STORE: a view into the archive bytes (no copy; do
   * not write to it). DEFLATE: a new buffer of exactly `size` bytes. The size and CRC-32 are
   * checked either way.
   */
  read(name: string): Uint8Array {
    const { e, dataStart, dataEnd, fail } = this.#locate(name);
    const data = this.#bytes.subarray(dataStart, dataEnd);

    let out: Uint8Array;
    if (e.method === METHOD_STORE) {
      out = data;
      if (this.#verified.has(e.name)) return out;
    } else {
      out = inflateExactly(data, e.size, (msg) => fail(`entry ${q(e.name)}: ${msg}`));
    }
    const actual = crc32(out);
    if (actual !== e.crc32) {
      fail(
        `entry ${q(e.name)}: CRC-32 mismatch (computed ${hex32(actual)}, the archive declares ${hex32(e.crc32)}); ` +
          `the data is corrupt, copy or export the archive again`,
      );
    }
    if (e.method === METHOD_STORE) this.#verified.add(e.name);
    return out;
  }

  /** Where a STOREd entry's bytes start in the archive (its local header checked); undefined for a compressed one. */
  storedOffset(name: string): number | undefined {
    const { e, dataStart } = this.#locate(name);
    return e.method === METHOD_STORE ? dataStart : undefined;
  }

  #locate(name: string): { e: ZipEntryRecord; dataStart: number; dataEnd: number; fail: (msg: string) => never } {
    const e = this.#byName.get(name);
    if (e === undefined) {
      throw new ResourceNotFoundError(`${this.label ? `${this.label}: ` : ""}no entry ${q(name)} in the zip archive`);
    }
    const fail: (msg: string) => never = (msg) => {
      throw new PackageFormatError(msg, this.label);
    };
    const b = this.#bytes;
    const off = e.localHeaderOffset;
    if (off + LOCAL_SIZE > e.limit || u32(b, off) !== SIG_LOCAL) {
      fail(`entry ${q(e.name)}: no local file header at offset ${off}; the archive is corrupt, copy or export it again`);
    }
    const flags = u16(b, off + 6);
    const method = u16(b, off + 8);
    const nameLen = u16(b, off + 26);
    const extraLen = u16(b, off + 28);
    if (flags & 1) fail(`entry ${q(e.name)} is encrypted (local header); encrypted archives are not supported, export it again without encryption`);
    if (method !== e.method) {
      fail(`entry ${q(e.name)}: local header says compression method ${method}, central directory says ${e.method}; the archive is corrupt or crafted, export it again`);
    }
    const dataStart = off + LOCAL_SIZE + nameLen + extraLen;
    const dataEnd = dataStart + e.compressedSize;
    if (dataEnd > e.limit) {
      fail(
        `entry ${q(e.name)}: its data (offset ${dataStart}, ${e.compressedSize} bytes) runs past the end of its region ` +
          `(offset ${e.limit}); the archive is corrupt or truncated, copy it again`,
      );
    }
    const localName = b.subarray(off + LOCAL_SIZE, off + LOCAL_SIZE + nameLen);
    if (!bytesEqual(localName, e.nameBytes)) {
      fail(`entry ${q(e.name)}: the local header names a different file; the archive is corrupt or crafted, export it again`);
    }
    return { e, dataStart, dataEnd, fail };
  }
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Compressed bytes fed to the inflater per step: bounds the output of one step to about 1032x this. */
const INFLATE_STEP = 64 * 1024;

class InflateOverflow extends Error {}

/**
 * Inflates raw DEFLATE `data` into a new buffer of exactly `size` bytes. Stops as soon as the
 * stream produces more than `size` bytes (fflate's inflateSync with a caller-provided buffer
 * silently drops the excess instead of reporting it, and keeps decoding to the end of the
 * input), and fails if it produces fewer.
 */
function inflateExactly(data: Uint8Array, size: number, fail: (msg: string) => never): Uint8Array {
  const out = new Uint8Array(size);
  if (data.length === 0) {
    if (size === 0) return out;
    return fail(`declares ${size} bytes but has no compressed data; the archive is corrupt, export it again`);
  }
  let written = 0;
  const inflater = new Inflate((chunk) => {
    if (written + chunk.length > size) throw new InflateOverflow();
    out.set(chunk, written);
    written += chunk.length;
  });
  try {
    for (let pos = 0; pos < data.length; pos += INFLATE_STEP) {
      const end = Math.min(pos + INFLATE_STEP, data.length);
      inflater.push(data.subarray(pos, end), end === data.length);
    }
  } catch (err) {
    if (err instanceof InflateOverflow) {
      return fail(
        `inflates to more than the ${size} bytes the archive declares; refusing a crafted or corrupt entry, export the archive again`,
      );
    }
    const why = err instanceof Error ? err.message : String(err);
    return fail(`invalid DEFLATE data (${why}); the archive is corrupt, copy or export it again`);
  }
  if (written !== size) {
    return fail(`inflates to ${written} bytes but the archive declares ${size}; the data is corrupt or truncated, copy or export the archive again`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------

interface EndRecord {
  entryCount: number;
  cdSize: number;
  cdOffset: number;
  /** Offset of the first end record (EOCD64 when present, else EOCD): the central directory must end at or before it. */
  endStart: number;
}

function findEnd(b: Uint8Array, fail: (msg: string) => never): EndRecord {
  const n = b.length;
  const notZip =
    "not a zip archive (no end-of-central-directory record); torch.package archives are zip files written by torch.package.PackageExporter";
  if (n < EOCD_SIZE) {
    if (n >= 4 && u32(b, 0) === SIG_LOCAL) fail(truncatedNoEnd(n));
    fail(`${notZip} (the file is only ${n} bytes)`);
  }
  let eocd = -1;
  const stop = Math.max(0, n - EOCD_SIZE - MAX_COMMENT);
  for (let i = n - EOCD_SIZE; i >= stop; i--) {
    if (b[i] === 0x50 && u32(b, i) === SIG_EOCD && i + EOCD_SIZE + u16(b, i + 20) <= n) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    if (u32(b, 0) === SIG_LOCAL) fail(truncatedNoEnd(n));
    if (b[0] === 0x80 && (b[1] ?? 0) <= 5) {
      fail(`${notZip}; this looks like a bare pickle (e.g. a legacy torch.save file), wrap the model with torch.package.PackageExporter`);
    }
    fail(notZip);
  }
  const diskNo = u16(b, eocd + 4);
  const cdDisk = u16(b, eocd + 6);
  const entriesOnDisk = u16(b, eocd + 8);
  let entryCount = u16(b, eocd + 10);
  let cdSize = u32(b, eocd + 12);
  let cdOffset = u32(b, eocd + 16);
  let endStart = eocd;

  const loc = eocd - EOCD64_LOCATOR_SIZE;
  if (loc >= 0 && u32(b, loc) === SIG_EOCD64_LOCATOR) {
    const eocd64 = u64(b, loc + 8);
    const totalDisks = u32(b, loc + 16);
    if (u32(b, loc + 4) !== 0 || totalDisks > 1) {
      fail("multi-disk (split) zip archives are not supported; join the parts into one file");
    }
    if (eocd64 === undefined || eocd64 + EOCD64_MIN_SIZE > loc || u32(b, eocd64) !== SIG_EOCD64) {
      fail(
        `the ZIP64 end-of-central-directory locator points at offset ${eocd64 ?? "(beyond 2^53)"}, where there is no ZIP64 record; ` +
          `the archive is corrupt or truncated, copy it again`,
      );
    }
    const d64 = u32(b, eocd64 + 16);
    const cdDisk64 = u32(b, eocd64 + 20);
    const onDisk64 = u64(b, eocd64 + 24);
    const count64 = u64(b, eocd64 + 32);
    const size64 = u64(b, eocd64 + 40);
    const off64 = u64(b, eocd64 + 48);
    if (d64 !== 0 || cdDisk64 !== 0) fail("multi-disk (split) zip archives are not supported; join the parts into one file");
    if (onDisk64 === undefined || count64 === undefined || size64 === undefined || off64 === undefined) {
      fail("the ZIP64 end-of-central-directory record holds sizes beyond 2^53; the archive is corrupt or crafted");
    }
    if (onDisk64 !== count64) fail("multi-disk (split) zip archives are not supported; join the parts into one file");
    entryCount = count64;
    cdSize = size64;
    cdOffset = off64;
    endStart = eocd64;
  } else {
    if (diskNo !== 0 || cdDisk !== 0 || entriesOnDisk !== entryCount) {
      fail("multi-disk (split) zip archives are not supported; join the parts into one file");
    }
    if (entryCount === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      fail("the end-of-central-directory record says ZIP64 but there is no ZIP64 locator before it; the archive is corrupt or truncated, copy it again");
    }
  }
  return { entryCount, cdSize, cdOffset, endStart };
}

function truncatedNoEnd(n: number): string {
  return (
    `truncated: the file starts like a zip archive but has no end-of-central-directory record in its ${n} bytes; ` +
    `the file was cut short, copy it again`
  );
}

/**
 * Parses and validates the central directory of a zip archive. Nothing is inflated here:
 * entries are read (and checked again) by ZipArchive.read.
 */
export function readZip(bytes: Uint8Array, label?: string, limits?: Partial<ZipLimits>): ZipArchive {
  const lim = resolveLimits(limits);
  const fail: (msg: string) => never = (msg) => {
    throw new PackageFormatError(msg, label);
  };
  // A Node Buffer (or other subclass) is viewed as a plain Uint8Array, without copying, so
  // that the views read() returns are plain Uint8Arrays too (pyodide refuses Buffers).
  const b =
    bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = b.length;
  if (n === 0) {
    fail("empty file (0 bytes); torch.package archives are zip files written by torch.package.PackageExporter, check the path or copy the file again");
  }
  if (n > lim.maxArchiveBytes) {
    fail(`the archive is ${n} bytes, over the ${lim.maxArchiveBytes}-byte limit (limits.maxArchiveBytes); raise the limit if you trust this file`);
  }

  const { entryCount, cdSize, cdOffset, endStart } = findEnd(b, fail);

  if (entryCount > lim.maxEntries) {
    fail(`the archive has ${entryCount} entries, over the ${lim.maxEntries}-entry limit (limits.maxEntries); raise the limit if you trust this file`);
  }
  if (cdOffset + cdSize > n) {
    fail(`truncated: central directory at offset ${cdOffset} extends past the end of the ${n}-byte file; the file was cut short, copy it again`);
  }
  if (cdOffset + cdSize > endStart) {
    fail(`the central directory (offset ${cdOffset}, ${cdSize} bytes) overlaps the end record at offset ${endStart}; the archive is corrupt, copy or export it again`);
  }
  if (entryCount * CENTRAL_SIZE > cdSize) {
    fail(`the archive declares ${entryCount} entries but its central directory holds only ${cdSize} bytes; the archive is corrupt, copy or export it again`);
  }

  const entries: ZipEntryRecord[] = [];
  const seen = new Set<string>();
  let total = 0;
  let p = cdOffset;
  const cdEnd = cdOffset + cdSize;
  for (let i = 0; i < entryCount; i++) {
    if (p + CENTRAL_SIZE > cdEnd || u32(b, p) !== SIG_CENTRAL) {
      fail(`central directory entry ${i} at offset ${p} is missing or malformed; the archive is corrupt, copy or export it again`);
    }
    const flags = u16(b, p + 8);
    const method = u16(b, p + 10);
    const crc = u32(b, p + 16);
    let compressedSize = u32(b, p + 20);
    let size = u32(b, p + 24);
    const nameLen = u16(b, p + 28);
    const extraLen = u16(b, p + 30);
    const commentLen = u16(b, p + 32);
    let disk = u16(b, p + 34);
    let localHeaderOffset = u32(b, p + 42);
    const next = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cdEnd) {
      fail(`central directory entry ${i} at offset ${p} runs past the end of the central directory; the archive is corrupt, copy or export it again`);
    }
    const nameBytes = b.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
    let name: string;
    try {
      name = utf8.decode(nameBytes);
    } catch {
      return fail(`central directory entry ${i} has a name that is not valid UTF-8; torch.package writes UTF-8 names, export the archive again`);
    }
    const unsafe = unsafeNameReason(name);
    if (unsafe !== undefined) fail(unsafe);

    // ZIP64 extended information: present for each field whose 32-bit value is saturated.
    const needSize = size === 0xffffffff;
    const needCompressed = compressedSize === 0xffffffff;
    const needOffset = localHeaderOffset === 0xffffffff;
    const needDisk = disk === 0xffff;
    let x = p + CENTRAL_SIZE + nameLen;
    const xEnd = x + extraLen;
    let sawZip64 = false;
    while (x + 4 <= xEnd) {
      const id = u16(b, x);
      const len = u16(b, x + 2);
      const body = x + 4;
      if (body + len > xEnd) fail(`entry ${q(name)}: malformed extra field in the central directory; the archive is corrupt, copy or export it again`);
      if (id === 0x0001 && !sawZip64) {
        sawZip64 = true;
        let f = body;
        const take64 = (what: string): number => {
          if (f + 8 > body + len) fail(`entry ${q(name)}: the ZIP64 extra field is too short for its ${what}; the archive is corrupt, copy or export it again`);
          const v = u64(b, f);
          if (v === undefined) fail(`entry ${q(name)}: its ZIP64 ${what} is beyond 2^53; the archive is corrupt or crafted`);
          f += 8;
          return v;
        };
        if (needSize) size = take64("uncompressed size");
        if (needCompressed) compressedSize = take64("compressed size");
        if (needOffset) localHeaderOffset = take64("local header offset");
        if (needDisk) {
          if (f + 4 > body + len) fail(`entry ${q(name)}: the ZIP64 extra field is too short for its disk number; the archive is corrupt`);
          disk = u32(b, f);
        }
      }
      x = body + len;
    }
    if ((needSize || needCompressed || needOffset || needDisk) && !sawZip64) {
      fail(`entry ${q(name)}: its central directory record says ZIP64 but has no ZIP64 extra field; the archive is corrupt, copy or export it again`);
    }
    if (disk !== 0) fail("multi-disk (split) zip archives are not supported; join the parts into one file");

    if (seen.has(name)) {
      fail(`duplicate entry name ${q(name)}: the archive lists it twice, so it is ambiguous which one is meant; refusing it, export the archive again`);
    }
    seen.add(name);
    if (flags & 1) {
      fail(`entry ${q(name)} is encrypted; encrypted zip entries are not supported, export the archive again without encryption`);
    }
    if (method !== METHOD_STORE && method !== METHOD_DEFLATE) {
      fail(
        `entry ${q(name)} uses compression method ${method} (${methodName(method)}); only STORE (0) and DEFLATE (8) are supported, ` +
          `re-zip it with those (torch.package.PackageExporter writes STORE)`,
      );
    }
    if (size > lim.maxEntryBytes) {
      fail(`entry ${q(name)} declares ${size} bytes, over the ${lim.maxEntryBytes}-byte limit (limits.maxEntryBytes)`);
    }
    total += size;
    if (total > lim.maxTotalBytes) {
      fail(
        `the entries declare ${total} bytes or more in total, over the ${lim.maxTotalBytes}-byte limit (limits.maxTotalBytes); ` +
          `raise the limit if you trust this file`,
      );
    }
    if (method === METHOD_STORE && size !== compressedSize) {
      fail(`entry ${q(name)} is stored uncompressed but declares ${size} bytes and ${compressedSize} stored bytes; the archive is corrupt, export it again`);
    }
    if (method !== METHOD_STORE && size > RATIO_EXEMPT_BYTES) {
      const ratio = compressedSize === 0 ? Infinity : size / compressedSize;
      if (ratio > lim.maxCompressionRatio) {
        fail(
          `entry ${q(name)} compresses ${fmtRatio(ratio)}, over the ${lim.maxCompressionRatio}:1 limit: refusing a likely zip bomb ` +
            `(limits.maxCompressionRatio)`,
        );
      }
    }
    if (localHeaderOffset + LOCAL_SIZE + nameLen + compressedSize > cdOffset) {
      fail(
        `entry ${q(name)}: its data (local header at offset ${localHeaderOffset}, ${compressedSize} bytes) lies outside the file's data area ` +
          `(which ends at offset ${cdOffset}, where the central directory starts); the archive is corrupt or truncated, copy it again`,
      );
    }
    entries.push({ name, size, compressedSize, method, crc32: crc, localHeaderOffset, flags, nameBytes, limit: cdOffset });
    p = next;
  }

  // Each entry owns [its local header, the next entry's local header). Entries whose regions
  // overlap are how non-recursive zip bombs reuse one compressed stream many times.
  const byOffset = [...entries].sort((a, c) => a.localHeaderOffset - c.localHeaderOffset);
  for (let i = 0; i < byOffset.length; i++) {
    const e = byOffset[i]!;
    const nextEntry = byOffset[i + 1];
    if (nextEntry === undefined) break;
    e.limit = nextEntry.localHeaderOffset;
    if (e.localHeaderOffset + LOCAL_SIZE + e.nameBytes.length + e.compressedSize > e.limit) {
      fail(
        `entries ${q(e.name)} and ${q(nextEntry.name)} overlap in the file; refusing a likely zip bomb or corrupt archive, export it again`,
      );
    }
  }

  return new ZipArchive(b, entries, label);
}
