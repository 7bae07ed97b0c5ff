// Engine threads share one copy of each weight: a storage registered from shared memory with
// adoptShared keeps that memory (no copy); any other view is copied, as before.

import { describe, expect, it } from "vitest";
import { StorageRegistry } from "../../src/engine/storage.js";

const weight = { name: "w", storage: "p1/w", dtype: "float32" as const, shape: [4] };

describe("weight storages from shared memory", () => {
  it("adopts a view of a SharedArrayBuffer when asked, so every engine thread reads one copy", () => {
    const sab = new SharedArrayBuffer(16);
    new Float32Array(sab).set([1, 2, 3, 4]);
    const r = new StorageRegistry();
    r.register("p1/w", "float32", new Uint8Array(sab), { adoptShared: true });
    const loc = r.locate(weight);
    expect(loc.storageBytes.buffer).toBe(sab);
    expect([...r.view(weight)]).toStrictEqual([1, 2, 3, 4]);
  });

  it("copies shared memory it was not told is read-only from now on", () => {
    const sab = new SharedArrayBuffer(16);
    const r = new StorageRegistry();
    r.register("p1/w", "float32", new Uint8Array(sab));
    expect(r.locate(weight).storageBytes.buffer).not.toBe(sab);
  });
});
