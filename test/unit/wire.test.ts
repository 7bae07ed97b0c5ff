// The wire encoder's refusals name where in the value the bad part sits (the path is built
// only when one is refused).

import { describe, expect, it } from "vitest";
import { ValueConversionError } from "../../src/errors.js";
import { decode, encode, PyTuple, sharedBuffers } from "../../src/wire.js";

const refusal = (v: unknown) => {
  try {
    encode(v);
  } catch (e) {
    expect(e).toBeInstanceOf(ValueConversionError);
    return (e as Error).message;
  }
  throw new Error("encoded");
};

describe("wire encode", () => {
  it("names the path of a value that cannot cross", () => {
    expect(refusal({ a: [1, new Date()] })).toMatch(/^value\.a\[1\]: a Date has no Python equivalent/);
    expect(refusal([{ x: new Float32Array(2) }])).toMatch(/^value\[0\]\.x: a Float32Array cannot cross to Python as is/);
    expect(refusal(new Map([["k", () => 1]]))).toMatch(/^value\.get\(k\): a function cannot be sent to Python/);
    expect(refusal(Symbol("s"))).toMatch(/^value: a symbol cannot be sent to Python/);
    const deep: unknown[] = [];
    let at = deep;
    for (let i = 0; i < 250; i++) at.push((at = []));
    expect(refusal(deep)).toMatch(/^value(\[0\]){201}: value nested more than 200 levels deep/);
  });

  it("round-trips plain objects, tuples and maps as before", () => {
    const v = { a: [1, 2.5, "s", null, true], t: PyTuple.from_([1, 2]), m: new Map<unknown, unknown>([[1, "one"]]), o: Object.assign(Object.create(null), { z: 1 }) };
    const back = decode(encode(v)) as Record<string, unknown>;
    expect(back.a).toEqual([1, 2.5, "s", null, true]);
    expect(back.t).toBeInstanceOf(PyTuple);
    expect(back.m).toEqual(new Map([[1, "one"]]));
    expect(back.o).toEqual({ z: 1 });
  });
});

describe("sharedBuffers", () => {
  it("moves a message's buffers into one SharedArrayBuffer, bytes and decoding unchanged", () => {
    const value = { files: { "a.py": new Uint8Array([1, 2, 3]), "b/c.py": new Uint8Array(5).fill(9) }, empty: new Uint8Array(0), n: 4 };
    const msg = encode(value);
    const shared = sharedBuffers(msg);
    expect(shared.json).toBe(msg.json);
    expect(new Set(shared.buffers.map((b) => b.buffer)).size).toBe(1);
    expect(shared.buffers[0]!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.buffers.map((b) => [...b])).toEqual(msg.buffers.map((b) => [...b]));
    const back = decode(shared) as typeof value;
    expect([...back.files["b/c.py"]]).toEqual([9, 9, 9, 9, 9]);
    expect(back.n).toBe(4);
    // The copy is the message's own: changing the source buffers afterwards does not reach it.
    msg.buffers[0]![0] = 42;
    expect(shared.buffers[0]![0]).toBe(1);
  });

  it("leaves a message without buffers as it is", () => {
    const msg = encode({ a: 1 });
    expect(sharedBuffers(msg)).toBe(msg);
  });
});
