// The public host tensor: a typed array, a shape and a dtype. Inputs to models and their
// results cross the API as Tensors; the engine runs graphs on them without copying.

import type { DType } from "./engine/graph.js";
import { dtypeInfo, isDType, isValidShape, shapeSize, typedArrayFrom, type TypedArray } from "./engine/dtype.js";
import { formatNpy, parseNpy } from "./engine/npy.js";

export type { DType } from "./engine/graph.js";
export type { TypedArray } from "./engine/dtype.js";

/** Set only inside engineTensor(): the one Tensor being made needs no checks. */
let unchecked = false;

/**
 * @internal A Tensor over data the engine itself made or sliced to fit (a run's outputs, a
 * stored tensor's elements as a graph's feed): dtype, array type and size agree by
 * construction, so the checks the public constructor makes of a caller's data are skipped on
 * every run. Same class, same object shape.
 */
export function engineTensor(dtype: DType, data: TypedArray, shape: readonly number[]): Tensor {
  unchecked = true;
  try {
    return new Tensor(dtype, data, shape);
  } finally {
    unchecked = false;
  }
}

export class Tensor {
  readonly dtype: DType;
  /** Elements in C (row-major) order; float16 as raw bits, bool as 0/1 bytes. */
  readonly data: TypedArray;
  readonly shape: readonly number[];

  constructor(dtype: DType, data: TypedArray, shape: readonly number[]) {
    if (!unchecked) this.#check(dtype, data, shape);
    this.dtype = dtype;
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  #check(dtype: DType, data: TypedArray, shape: readonly number[]): void {
    if (!isDType(dtype)) {
      throw new TypeError(`Tensor: unknown dtype ${JSON.stringify(dtype)}; expected one of float32, float64, float16, int64, int32, int8, uint8, bool`);
    }
    const want = dtypeInfo(dtype).array.name;
    // Compare by tag, not instanceof, so arrays from another realm (vm, worker) are accepted.
    const got = ArrayBuffer.isView(data) ? (data as TypedArray)[Symbol.toStringTag] : describe(data);
    if (got !== want) {
      throw new TypeError(`Tensor: a ${dtype} tensor needs its data in a ${want}, got ${got}`);
    }
    if (!isValidShape(shape)) {
      throw new TypeError(`Tensor: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const size = shapeSize(shape);
    if (size !== data.length) {
      throw new RangeError(`Tensor: shape [${shape.join(", ")}] has ${size} elements but the ${want} has ${data.length}`);
    }
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /**
   * A tensor from plain values: numbers (converted to half bits for float16, to bigint for
   * int64), bigints or booleans. `shape` defaults to 1-D.
   */
  static from(dtype: DType, values: ArrayLike<number | bigint | boolean>, shape: readonly number[] = [values.length]): Tensor {
    return new Tensor(dtype, typedArrayFrom(dtype, values), shape);
  }

  /** The same data under another shape of equal size (no copy). */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.dtype, this.data, shape);
  }

  /** Reads a NumPy .npy file (little-endian, C order). The data is copied. */
  static fromNpy(bytes: Uint8Array): Tensor {
    const { dtype, shape, data } = parseNpy(bytes);
    return new Tensor(dtype, data, shape);
  }

  /** Writes a NumPy .npy file (format 1.0, or 2.0 for very large headers). */
  toNpy(): Uint8Array {
    return formatNpy(this.dtype, this.shape, this.data);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(", ")}])`;
  }
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "Array";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}
