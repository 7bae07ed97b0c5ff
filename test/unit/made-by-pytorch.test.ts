// The comparison of freshly made PyTorch files with the committed ones (test/made-by-pytorch.ts)
// lets float32 values round differently and nothing else.

import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { differenceFromCommitted } from "../made-by-pytorch.js";

function npy(descr: string, shape: number[], data: ArrayBufferView): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")},), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
const f32 = (...xs: number[]) => new Float32Array(xs);
const archive = (storage: ArrayBufferView, pickle = "pickle") =>
  zipSync({ "m/data.pkl": new TextEncoder().encode(pickle), "m/.data/0.storage": new Uint8Array(storage.buffer, storage.byteOffset, storage.byteLength) });

describe("differenceFromCommitted", () => {
  it("accepts identical bytes, and float32 values that differ by rounding", () => {
    expect(differenceFromCommitted("x.bin", new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBeUndefined();
    expect(differenceFromCommitted("a.npy", npy("<f4", [3], f32(77.85154, 0.5, -2)), npy("<f4", [3], f32(77.851555, 0.5, -2)))).toBeUndefined();
    expect(differenceFromCommitted("m.pt", archive(f32(4.2461838, 1)), archive(f32(4.246184, 1)))).toBeUndefined();
  });

  it("refuses float32 values that differ by more than rounding", () => {
    expect(differenceFromCommitted("a.npy", npy("<f4", [2], f32(1, 2)), npy("<f4", [2], f32(1, 2.001)))).toMatch(/element 1/);
    expect(differenceFromCommitted("m.pt", archive(f32(1, 2)), archive(f32(1, 2.001)))).toMatch(/0\.storage: element 1/);
  });

  it("refuses any change to integers, shapes, pickles, entries or other files", () => {
    expect(differenceFromCommitted("i.npy", npy("<i8", [1], new BigInt64Array([100n])), npy("<i8", [1], new BigInt64Array([101n])))).toMatch(/not float32/);
    expect(differenceFromCommitted("a.npy", npy("<f4", [2], f32(1, 2)), npy("<f4", [1], f32(1)))).toMatch(/headers/);
    // An int64 storage read as float32 is denormal: not a rounding difference.
    expect(differenceFromCommitted("m.pt", archive(new BigInt64Array([100n])), archive(new BigInt64Array([101n])))).toMatch(/integer data/);
    expect(differenceFromCommitted("m.pt", archive(f32(1), "pickle"), archive(f32(1), "pickle2"))).toMatch(/data\.pkl/);
    expect(differenceFromCommitted("m.pt", zipSync({ a: new Uint8Array([1]) }), zipSync({ b: new Uint8Array([1]) }))).toMatch(/entries/);
    expect(differenceFromCommitted("x.json", new Uint8Array([1]), new Uint8Array([2]))).toBe("the bytes differ");
  });
});
