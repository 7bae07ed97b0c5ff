// Facts about each DType: its typed array, element size, ONNX TensorProto.DataType code and
// NumPy descriptor. One table so tensor.ts, the ONNX builder and the .npy codec agree.

import type { DType } from "./graph.js";

export type TypedArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int8Array
  | Uint8Array;

interface TypedArrayCtor {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

export interface DTypeInfo {
  readonly array: TypedArrayCtor;
  readonly itemSize: number;
  /** onnx.TensorProto.DataType */
  readonly onnx: number;
  /** NumPy dtype.str on a little-endian machine. */
  readonly npy: string;
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float32: { array: Float32Array, itemSize: 4, onnx: 1, npy: "<f4" },
  float64: { array: Float64Array, itemSize: 8, onnx: 11, npy: "<f8" },
  float16: { array: Uint16Array, itemSize: 2, onnx: 10, npy: "<f2" },
  int64: { array: BigInt64Array, itemSize: 8, onnx: 7, npy: "<i8" },
  int32: { array: Int32Array, itemSize: 4, onnx: 6, npy: "<i4" },
  int8: { array: Int8Array, itemSize: 1, onnx: 3, npy: "|i1" },
  uint8: { array: Uint8Array, itemSize: 1, onnx: 2, npy: "|u1" },
  bool: { array: Uint8Array, itemSize: 1, onnx: 9, npy: "|b1" },
};

export function isDType(x: unknown): x is DType {
  return typeof x === "string" && Object.hasOwn(DTYPES, x);
}

export function dtypeInfo(dtype: DType): DTypeInfo {
  const info = isDType(dtype) ? DTYPES[dtype] : undefined;
  if (!info) throw new TypeError(`unknown dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(DTYPES).join(", ")}`);
  return info;
}

/** Product of the dims; [] (a scalar) has one element. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Equal ranks and equal dimensions. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isValidShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** A typed array of `dtype` viewing `bytes` (which must be aligned to the item size). */
export function viewAs(dtype: DType, bytes: Uint8Array, byteOffset = 0, length?: number): TypedArray {
  const info = dtypeInfo(dtype);
  const n = length ?? (bytes.byteLength - byteOffset) / info.itemSize;
  return new info.array(bytes.buffer, bytes.byteOffset + byteOffset, n);
}

/** The bytes of a typed array, without copying. */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// IEEE 754 half precision, round-to-nearest-even; used to build float16 constants from JS numbers.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** A typed array of `dtype` holding `values` (numbers, bigints or booleans). */
export function typedArrayFrom(dtype: DType, values: ArrayLike<number | bigint | boolean>): TypedArray {
  const out = new (dtypeInfo(dtype).array)(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (dtype === "int64") {
      (out as BigInt64Array)[i] = typeof v === "bigint" ? v : int64Of(typeof v === "boolean" ? Number(v) : checkInt(v, dtype));
    } else if (dtype === "float16") {
      (out as Uint16Array)[i] = float16Bits(Number(v));
    } else if (dtype === "bool") {
      (out as Uint8Array)[i] = v ? 1 : 0;
    } else {
      (out as Float64Array)[i] = Number(v);
    }
  }
  return out;
}

function checkInt(v: number, dtype: DType): number {
  if (!Number.isInteger(v)) throw new TypeError(`${dtype} value must be an integer, got ${v}`);
  return v;
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * An int64 from a JS number. 2^63 is what INT64_MAX becomes in a JSON number (every value from
 * 2^63 - 512 up rounds to it): it is read as INT64_MAX, not wrapped round to INT64_MIN.
 */
function int64Of(v: number): bigint {
  if (v >= 2 ** 63) {
    if (v > 2 ** 63) throw new RangeError(`int64 value out of range: ${v}`);
    return INT64_MAX;
  }
  if (v < -(2 ** 63)) throw new RangeError(`int64 value out of range: ${v}`);
  return BigInt(v);
}
