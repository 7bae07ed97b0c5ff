import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/tensor.js";

const fixture = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))));

describe("Tensor validation", () => {
  it("accepts data of the dtype's array type", () => {
    const t = new Tensor("float32", new Float32Array(6), [2, 3]);
    expect(t.size).toBe(6);
    expect(t.shape).toEqual([2, 3]);
    expect(new Tensor("int64", new BigInt64Array(1), []).size).toBe(1); // a scalar
    expect(new Tensor("bool", new Uint8Array(2), [2]).dtype).toBe("bool");
    expect(new Tensor("float16", new Uint16Array(0), [0, 4]).size).toBe(0);
  });

  it("names the expected and given array types", () => {
    expect(() => new Tensor("float32", new Float64Array(2), [2])).toThrow(new TypeError("Tensor: a float32 tensor needs its data in a Float32Array, got Float64Array"));
    expect(() => new Tensor("int64", new Int32Array(2), [2])).toThrow("int64 tensor needs its data in a BigInt64Array, got Int32Array");
    expect(() => new Tensor("bool", new Int8Array(2), [2])).toThrow("bool tensor needs its data in a Uint8Array, got Int8Array");
    expect(() => new Tensor("float16", new Float32Array(2), [2])).toThrow("float16 tensor needs its data in a Uint16Array, got Float32Array");
    expect(() => new Tensor("float32", [1, 2] as unknown as Float32Array, [2])).toThrow("got Array");
    expect(() => new Tensor("complex64" as "float32", new Float32Array(2), [2])).toThrow(/unknown dtype "complex64"/);
  });

  it("checks the shape against the data length", () => {
    expect(() => new Tensor("float32", new Float32Array(5), [2, 3])).toThrow(new RangeError("Tensor: shape [2, 3] has 6 elements but the Float32Array has 5"));
    expect(() => new Tensor("float32", new Float32Array(2), [-1, -2])).toThrow(TypeError);
    expect(() => new Tensor("float32", new Float32Array(2), [2.5])).toThrow(/non-negative integers/);
  });

  it("freezes its own copy of the shape", () => {
    const shape = [2, 2];
    const t = new Tensor("int32", new Int32Array(4), shape);
    shape[0] = 7;
    expect(t.shape).toEqual([2, 2]);
    expect(Object.isFrozen(t.shape)).toBe(true);
    expect(t.reshape([4]).data).toBe(t.data);
  });

  it("from() converts plain values", () => {
    expect(Tensor.from("int64", [1, -2, 3n]).data).toEqual(new BigInt64Array([1n, -2n, 3n]));
    expect(Tensor.from("bool", [true, false, 1, 0]).data).toEqual(new Uint8Array([1, 0, 1, 0]));
    expect([...Tensor.from("float16", [1, -2.5, 65504, 0.1]).data]).toEqual([0x3c00, 0xc100, 0x7bff, 0x2e66]);
    expect(() => Tensor.from("int32", [1, 2, 3], [2])).toThrow(RangeError);
    expect(() => Tensor.from("int64", [1.5])).toThrow(/integer/);
  });
});

describe(".npy", () => {
  it("reads arrays written by NumPy", () => {
    const f = Tensor.fromNpy(fixture("f32_2x3.npy"));
    expect([f.dtype, f.shape, [...f.data]]).toEqual(["float32", [2, 3], [0, 0.25, 0.5, 0.75, 1, 1.25]]);
    const i = Tensor.fromNpy(fixture("i64.npy"));
    expect([...i.data]).toEqual([-(2n ** 62n), 0n, 2n ** 53n + 1n]);
    const b = Tensor.fromNpy(fixture("bool.npy"));
    expect([b.dtype, b.shape, [...b.data]]).toEqual(["bool", [2, 2], [1, 0, 0, 1]]);
    const h = Tensor.fromNpy(fixture("f16.npy"));
    expect([h.dtype, [...h.data]]).toEqual(["float16", [0x3c00, 0xc100, 0x7bff]]);
    const s = Tensor.fromNpy(fixture("scalar_f64.npy"));
    expect([s.dtype, s.shape, [...s.data]]).toEqual(["float64", [], [3.25]]);
    const e = Tensor.fromNpy(fixture("u8_empty.npy"));
    expect([e.dtype, e.shape, e.size]).toEqual(["uint8", [0, 3], 0]);
  });

  it("refuses Fortran order and big-endian data, naming the fix", () => {
    expect(() => Tensor.fromNpy(fixture("fortran.npy"))).toThrow(/Fortran order.*np\.ascontiguousarray\(a\)/);
    expect(() => Tensor.fromNpy(fixture("bigendian.npy"))).toThrow(/big-endian \(>f4\).*newbyteorder\('<'\)/);
  });

  it("refuses files that are not .npy or are truncated", () => {
    expect(() => Tensor.fromNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toThrow(/not a \.npy file/);
    const f = fixture("f32_2x3.npy");
    expect(() => Tensor.fromNpy(f.subarray(0, f.length - 4))).toThrow(/truncated/);
  });

  it("round-trips every dtype, with a 64-byte aligned header", () => {
    const tensors = [
      Tensor.from("float32", [1.5, -2, 3], [3, 1]),
      Tensor.from("float64", [Math.PI]),
      Tensor.from("float16", [0.5, -1]),
      Tensor.from("int64", [2n ** 60n, -1n], [1, 2]),
      Tensor.from("int32", [-7]),
      Tensor.from("int8", [-128, 127]),
      Tensor.from("uint8", [0, 255]),
      Tensor.from("bool", [true, false, true], [3]),
      new Tensor("float32", new Float32Array([9]), []),
    ];
    for (const t of tensors) {
      const bytes = t.toNpy();
      const headerLen = bytes[8]! | (bytes[9]! << 8);
      expect((10 + headerLen) % 64).toBe(0);
      const back = Tensor.fromNpy(bytes);
      expect([back.dtype, back.shape, [...back.data]]).toEqual([t.dtype, t.shape, [...t.data]]);
    }
  });

  it("reads an .npy at an unaligned offset (the data is copied)", () => {
    const f = fixture("f32_2x3.npy");
    const shifted = new Uint8Array(f.length + 1);
    shifted.set(f, 1);
    expect([...Tensor.fromNpy(shifted.subarray(1)).data]).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
  });

  const numpy = "/usr/bin/python3";
  const hasNumpy = existsSync(numpy) && (() => {
    try {
      execFileSync(numpy, ["-c", "import numpy"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasNumpy)("writes files NumPy loads, and float16 conversion matches NumPy's", () => {
    const dir = mkdtempSync(join(tmpdir(), "wasmdeploy-npy-"));
    try {
      const values = [1, -2.5, 65504, 0.1, 1e-7, 6e-8, 2 ** -24 * 1.5, 70000, -0, 0.33325, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
      writeFileSync(join(dir, "a.npy"), Tensor.from("int64", [2n ** 60n + 1n, -3n], [2, 1]).toNpy());
      writeFileSync(join(dir, "b.npy"), Tensor.from("bool", [true, false, true], [1, 3]).toNpy());
      writeFileSync(join(dir, "c.npy"), new Tensor("float64", new Float64Array([0.5]), []).toNpy());
      const script = `
import json, sys, numpy as np
d = sys.argv[1]
a, b, c = (np.load(f"{d}/{n}.npy") for n in "abc")
vals = [${values.map((v) => (Object.is(v, -0) ? "-0.0" : String(v))).join(", ")}]
with np.errstate(over="ignore"):
    f16 = np.array(vals, dtype=np.float32).astype(np.float16).view(np.uint16).tolist()
print(json.dumps({
  "a": [str(a.dtype), a.shape, [str(v) for v in a.ravel()]],
  "b": [str(b.dtype), b.shape, b.ravel().tolist()],
  "c": [str(c.dtype), c.shape, c.item()],
  "f16": f16,
}))`;
      const got = JSON.parse(execFileSync(numpy, ["-c", script, dir], { encoding: "utf8" }));
      expect(got.a).toEqual(["int64", [2, 1], [String(2n ** 60n + 1n), "-3"]]);
      expect(got.b).toEqual(["bool", [1, 3], [true, false, true]]);
      expect(got.c).toEqual(["float64", [], 0.5]);
      expect([...Tensor.from("float16", values).data]).toEqual(got.f16);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
