// NumPy .npy codec (format versions 1.0, 2.0 and 3.0; little-endian, C order).
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

import type { DType } from "./graph.js";
import { DTYPES, dtypeInfo, shapeSize, type TypedArray } from "./dtype.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

export interface NpyArray {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

export function parseNpy(bytes: Uint8Array): NpyArray {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`.npy input must be a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new RangeError("not a .npy file: it does not start with the \\x93NUMPY magic string");
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new RangeError(".npy file is truncated inside its header");
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new RangeError(`.npy format version ${major}.${bytes[7]} is not supported (expected 1.0, 2.0 or 3.0)`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new RangeError(".npy file is truncated inside its header");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, dataStart));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new RangeError(`.npy header is malformed: ${header.trim()}`);
  }
  if (fortran === "True") {
    throw new RangeError(
      ".npy array is stored in Fortran order, which is not supported; save it in C order: np.save(path, np.ascontiguousarray(a))",
    );
  }
  const dtype = dtypeFromDescr(descr);
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const d = Number(s.replace(/L$/, ""));
      if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`.npy header has an invalid shape (${shapeText})`);
      return d;
    });
  const info = dtypeInfo(dtype);
  const size = shapeSize(shape);
  const byteLength = size * info.itemSize;
  if (dataStart + byteLength > bytes.length) {
    throw new RangeError(`.npy data is truncated: shape (${shape.join(", ")}) needs ${byteLength} bytes, file has ${bytes.length - dataStart}`);
  }
  // Copy: the result must not alias the caller's bytes, and typed arrays need alignment.
  const copy = bytes.slice(dataStart, dataStart + byteLength);
  return { dtype, shape, data: new info.array(copy.buffer, 0, size) };
}

export function formatNpy(dtype: DType, shape: readonly number[], data: TypedArray): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${dtypeInfo(dtype).npy}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Version 1.0 holds headers up to 65535 bytes; the whole preamble is padded to 64 bytes.
  const version = header.length + 11 > 0xffff ? 2 : 1;
  const preamble = version === 1 ? 10 : 12;
  const padded = Math.ceil((preamble + header.length + 1) / 64) * 64;
  header = header.padEnd(padded - preamble - 1, " ") + "\n";
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(padded + body.byteLength);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  out.set(body, padded);
  return out;
}

function dtypeFromDescr(descr: string): DType {
  if (descr.startsWith(">") && descr.slice(1) !== "i1" && descr.slice(1) !== "u1" && descr.slice(1) !== "b1") {
    throw new RangeError(
      `.npy array is big-endian (${descr}), which is not supported; save it little-endian: np.save(path, a.astype(a.dtype.newbyteorder('<')))`,
    );
  }
  const code = descr.replace(/^[<=|>]/, "");
  for (const [dtype, info] of Object.entries(DTYPES)) {
    if (info.npy.slice(1) === code) return dtype as DType;
  }
  throw new RangeError(
    `.npy dtype '${descr}' is not supported; expected one of ${Object.values(DTYPES).map((i) => i.npy).join(", ")}`,
  );
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}
