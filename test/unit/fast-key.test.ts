// Host replay looks a call's signature up without encoding the call (fastCall, knownSignature),
// for calls of tensors alone. The lookup is sound only if it compares exactly what the signature
// is made of: a call found must encode to the signature remembered, a call of another signature
// must not be found, and every call it cannot describe exactly must be left to the encoder.

import { describe, expect, it } from "vitest";
import { EngineHost } from "../../src/bridge/engine-host.js";
import { HandleCodec } from "../../src/pool/codec.js";
import { fastCall, HostReplay } from "../../src/pool/host-replay.js";
import type { PoolPort } from "../../src/pool/port.js";
import { Tensor } from "../../src/tensor.js";
import { encode, PyTuple } from "../../src/wire.js";

const host = new EngineHost(async () => {
  throw new Error("no engine in this test");
}, () => undefined);
const signatures = new HostReplay(host);

/** The signature host replay keys plans by: the call encoded in full, storage ids renumbered. */
function signature(payload: Record<string, unknown>): string | undefined {
  const codec = new HandleCodec({} as PoolPort, host, () => {});
  const msg = encode(payload, codec);
  host.release(codec.tensorsPut);
  return signatures.signature(msg, codec.passed.length);
}

const address = { pkg: "p1", package: "model", resource: "model.pkl" };
const t = (dtype: "float32" | "int64" = "float32", shape = [2, 3]) =>
  dtype === "int64" ? new Tensor("int64", new BigInt64Array(shape.reduce((a, b) => a * b, 1)), shape) : new Tensor("float32", new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

describe("host replay's signature lookup for fast calls", () => {
  it("finds a call only under the signature it encodes to, over many calls", () => {
    // Every combination of address, method, and up to three arguments drawn from a few tensors
    // (some the same object, some equal in dtype and shape only), each call made twice with new
    // tensors of the same dtypes and shapes and the same sameness.
    const replay = new HostReplay(host);
    const a = t();
    const b = t();
    const pool = [a, b, t("float32", [3, 2]), t("int64"), t("float32", [6]), t("float32", [])];
    const addresses = [address, { ...address, resource: "other.pkl" }, { pkg: "p2", package: "model", resource: "model.pkl" }, { pkg: "p1", package: "modelm", resource: "odel.pkl" }];
    const methods = [undefined, "forward", "encode"];
    const argLists: Tensor[][] = [[]];
    for (const x of pool) argLists.push([x]);
    for (const x of pool) for (const y of pool) argLists.push([x, y]);
    for (const x of [a, b]) for (const y of [a, b]) for (const z of [a, b, pool[2]!]) argLists.push([x, y, z]);
    const fresh = new Map<Tensor, Tensor>();
    const like = (x: Tensor) => fresh.get(x) ?? (fresh.set(x, t(x.dtype as "float32", [...x.shape])), fresh.get(x)!);
    let found = 0;
    let remembered = 0;
    for (const pass of [0, 1]) {
      if (pass === 1) fresh.clear();
      for (const addr of addresses) {
        for (const method of methods) {
          for (const list of argLists) {
            const args = pass === 0 ? list : list.map(like);
            const payload = method === undefined ? { ...addr, args, kwargs: {} } : { ...addr, method, args, kwargs: {} };
            const call = fastCall(payload);
            const sig = signature(payload);
            expect(call).toBeDefined();
            expect(sig).toBeDefined();
            const known = replay.knownSignature(call!);
            if (known === undefined) {
              replay.rememberSignature(call!, sig!);
              remembered++;
            } else {
              expect(known).toBe(sig);
              found++;
            }
          }
        }
      }
    }
    // Many calls share a signature (same dtypes and shapes), and there are many signatures; the
    // second pass finds every call.
    const calls = 4 * 3 * argLists.length;
    expect(remembered).toBeGreaterThan(200);
    expect(remembered).toBeLessThan(calls);
    expect(found).toBe(2 * calls - remembered);
  });

  it("tells one tensor passed twice from two equal tensors", () => {
    const replay = new HostReplay(host);
    const a = t();
    const twice = { ...address, args: [a, a], kwargs: {} };
    replay.rememberSignature(fastCall(twice)!, signature(twice)!);
    expect(replay.knownSignature(fastCall({ ...address, args: [a, t()], kwargs: {} })!)).toBeUndefined();
    const b = t();
    expect(replay.knownSignature(fastCall({ ...address, args: [b, b], kwargs: {} })!)).toBe(signature(twice));
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
    for (const p of none) expect(fastCall(p as Record<string, unknown>), JSON.stringify(Object.keys(p))).toBeUndefined();
  });
});
