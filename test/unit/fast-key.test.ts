// Host replay looks a call's signature up by a key made without encoding the call (fastKey),
// for calls of tensors alone. The key is sound only if it is a function of the signature's
// inputs and of nothing else: equal keys must mean equal signatures, and every call the key
// cannot describe exactly must get none.

import { describe, expect, it } from "vitest";
import { EngineHost } from "../../src/bridge/engine-host.js";
import { HandleCodec } from "../../src/pool/codec.js";
import { fastKey, HostReplay } from "../../src/pool/host-replay.js";
import type { PoolPort } from "../../src/pool/port.js";
import { Tensor } from "../../src/tensor.js";
import { encode, PyTuple } from "../../src/wire.js";

const host = new EngineHost(async () => {
  throw new Error("no engine in this test");
}, () => undefined);
const replay = new HostReplay(host);

/** The signature host replay keys plans by: the call encoded in full, storage ids renumbered. */
function signature(payload: Record<string, unknown>): string | undefined {
  const codec = new HandleCodec({} as PoolPort, host, () => {});
  const msg = encode(payload, codec);
  host.release(codec.tensorsPut);
  return replay.signature(msg, codec.passed.length);
}

const address = { pkg: "p1", package: "model", resource: "model.pkl" };
const t = (dtype: "float32" | "int64" = "float32", shape = [2, 3]) =>
  dtype === "int64" ? new Tensor("int64", new BigInt64Array(shape.reduce((a, b) => a * b, 1)), shape) : new Tensor("float32", new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

describe("host replay's fast key", () => {
  it("equal keys mean equal signatures, and different signatures different keys, over many calls", () => {
    // Every combination of address, method, and up to three arguments drawn from a few tensors
    // (some the same object, some equal in dtype and shape only).
    const a = t();
    const b = t();
    const pool = [a, b, t("float32", [3, 2]), t("int64"), t("float32", [6]), t("float32", [])];
    const addresses = [address, { ...address, resource: "other.pkl" }, { pkg: "p2", package: "model", resource: "model.pkl" }, { pkg: "p1", package: "modelm", resource: "odel.pkl" }];
    const methods = [undefined, "forward", "encode"];
    const sigByKey = new Map<string, string>();
    const keyBySig = new Map<string, string>();
    let calls = 0;
    const argLists: Tensor[][] = [[]];
    for (const x of pool) argLists.push([x]);
    for (const x of pool) for (const y of pool) argLists.push([x, y]);
    for (const x of [a, b]) for (const y of [a, b]) for (const z of [a, b, pool[2]!]) argLists.push([x, y, z]);
    for (const addr of addresses) {
      for (const method of methods) {
        for (const args of argLists) {
          const payload = method === undefined ? { ...addr, args, kwargs: {} } : { ...addr, method, args, kwargs: {} };
          const key = fastKey(payload);
          const sig = signature(payload);
          expect(key).toBeDefined();
          expect(sig).toBeDefined();
          if (sigByKey.has(key!)) expect(sigByKey.get(key!)).toBe(sig);
          if (keyBySig.has(sig!)) expect(keyBySig.get(sig!)).toBe(key);
          sigByKey.set(key!, sig!);
          keyBySig.set(sig!, key!);
          calls++;
        }
      }
    }
    // Many calls share a signature (same dtypes and shapes), and there are many signatures.
    expect(calls).toBe(4 * 3 * argLists.length);
    expect(sigByKey.size).toBeGreaterThan(200);
    expect(sigByKey.size).toBeLessThan(calls);
  });

  it("tells one tensor passed twice from two equal tensors", () => {
    const a = t();
    expect(fastKey({ ...address, args: [a, a], kwargs: {} })).not.toBe(fastKey({ ...address, args: [a, t()], kwargs: {} }));
  });

  it("is undefined for calls it cannot describe exactly", () => {
    const a = t();
    const none = [
      { ...address, args: [a, 1], kwargs: {} }, // a number among the arguments
      { ...address, args: [a, [a]], kwargs: {} }, // a list of tensors
      { ...address, args: [a], kwargs: { x: a } }, // keyword arguments
      { ...address, args: PyTuple.from_([a]), kwargs: {} }, // a tuple, not a list
      { ...address, args: [a], kwargs: new Map() }, // a Map for kwargs
      { ...address, args: [a], kwargs: {}, no_plan: true }, // another field
      { ...address, method: 3, args: [a], kwargs: {} }, // a method that is not a name
      { handle: 4, method: "forward", args: [a], kwargs: {} }, // a call on a handle
      { ...address, args: [{ dtype: "float32", shape: [2, 3], data: new Float32Array(6) }], kwargs: {} }, // tensor-like, not a Tensor
    ];
    for (const p of none) expect(fastKey(p as Record<string, unknown>), JSON.stringify(Object.keys(p))).toBeUndefined();
  });
});
