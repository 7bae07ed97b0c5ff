// Weight storages: registered once per process, shared by every graph (and interpreter)
// that reads them. A GraphWeight addresses a contiguous range of one storage.

import type { DType, GraphWeight } from "./graph.js";
import { dtypeInfo, isDType, isValidShape, shapeSize, viewAs, type TypedArray } from "./dtype.js";
import { EngineError } from "./errors.js";
import type { WeightLocation } from "./onnx-builder.js";

export interface Storage {
  readonly id: string;
  readonly dtype: DType;
  readonly bytes: Uint8Array;
  /** A name safe as an ONNX external-data location, unique for this registration. */
  readonly fileName: string;
}

export class StorageRegistry {
  readonly #storages = new Map<string, Storage>();
  #bytes = 0;
  #serial = 0;

  /**
   * Registers `data` under `id`. A typed array that spans a whole ArrayBuffer is adopted without
   * a copy (the caller must not modify it afterwards); any other view is copied.
   * Registering an id again is a no-op if dtype and size agree, an error otherwise.
   * Returns false when the id was already registered. `adoptShared`: a view of a
   * SharedArrayBuffer that nobody writes any more (weights shared by engine threads) is
   * adopted too, so every thread reads the one copy.
   */
  register(id: string, dtype: DType, data: TypedArray | Uint8Array, opts: { adoptShared?: boolean } = {}): boolean {
    if (typeof id !== "string" || id.length === 0) throw new TypeError(`registerStorage: id must be a non-empty string, got ${JSON.stringify(id)}`);
    if (!isDType(dtype)) throw new TypeError(`registerStorage("${id}"): unknown dtype ${JSON.stringify(dtype)}`);
    if (!ArrayBuffer.isView(data)) throw new TypeError(`registerStorage("${id}"): data must be a typed array or Uint8Array`);
    const info = dtypeInfo(dtype);
    const tag = (data as TypedArray)[Symbol.toStringTag];
    if (tag !== "Uint8Array" && tag !== info.array.name) {
      throw new TypeError(`registerStorage("${id}"): a ${dtype} storage takes a ${info.array.name} or raw bytes in a Uint8Array, got ${tag}`);
    }
    if (data.byteLength % info.itemSize !== 0) {
      throw new RangeError(`registerStorage("${id}"): ${data.byteLength} bytes is not a whole number of ${dtype} elements`);
    }
    const existing = this.#storages.get(id);
    if (existing) {
      if (existing.dtype !== dtype || existing.bytes.byteLength !== data.byteLength) {
        throw new EngineError(
          `storage "${id}" is already registered as ${existing.dtype} (${existing.bytes.byteLength} bytes); ` +
            `it cannot be registered again as ${dtype} (${data.byteLength} bytes). Release it first.`,
        );
      }
      return false;
    }
    let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // Adopt a buffer the caller handed over whole; copy a view into a larger or shared one: it
    // may be a wasm heap (which detaches when it grows), a whole zip we should not pin, or
    // memory another thread writes.
    const whole = data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    const shared = opts.adoptShared === true && typeof SharedArrayBuffer !== "undefined" && data.buffer instanceof SharedArrayBuffer;
    if (!whole && !shared) bytes = bytes.slice();
    this.#storages.set(id, { id, dtype, bytes, fileName: `storage${this.#serial++}.bin` });
    this.#bytes += bytes.byteLength;
    return true;
  }

  has(id: string): boolean {
    return this.#storages.has(id);
  }

  release(id: string): boolean {
    const s = this.#storages.get(id);
    if (!s) return false;
    this.#storages.delete(id);
    this.#bytes -= s.bytes.byteLength;
    return true;
  }

  clear(): void {
    this.#storages.clear();
    this.#bytes = 0;
  }

  get count(): number {
    return this.#storages.size;
  }

  get byteLength(): number {
    return this.#bytes;
  }

  /** Where weight `w` lives; throws if its storage is missing or too small. */
  locate(w: GraphWeight): WeightLocation {
    const s = this.#storages.get(w.storage);
    if (!s) {
      throw new EngineError(`weight "${w.name}" reads storage "${w.storage}", which is not registered (register it first; it may have been released)`);
    }
    if (!isDType(w.dtype)) throw new EngineError(`weight "${w.name}" has unknown dtype ${JSON.stringify(w.dtype)}`);
    if (!isValidShape(w.shape)) throw new EngineError(`weight "${w.name}" has an invalid shape ${JSON.stringify(w.shape)}`);
    const offset = w.offset ?? 0;
    const itemSize = dtypeInfo(w.dtype).itemSize;
    const byteOffset = offset * itemSize;
    const byteLength = shapeSize(w.shape) * itemSize;
    if (!Number.isSafeInteger(offset) || offset < 0 || byteOffset + byteLength > s.bytes.byteLength) {
      throw new EngineError(
        `weight "${w.name}" (${w.dtype} [${w.shape.join(", ")}] at element offset ${offset}) needs bytes ` +
          `${byteOffset}..${byteOffset + byteLength} of storage "${w.storage}", which has ${s.bytes.byteLength}`,
      );
    }
    return { storageBytes: s.bytes, fileName: s.fileName, byteOffset, byteLength };
  }

  /** A typed view of weight `w` (no copy), for feeding it as a graph input. */
  view(w: GraphWeight): TypedArray {
    const loc = this.locate(w);
    return viewAs(w.dtype, loc.storageBytes, loc.byteOffset, loc.byteLength / dtypeInfo(w.dtype).itemSize);
  }
}
