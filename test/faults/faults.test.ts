// Faults a serving runtime meets: an engine error mid-call, a package unloaded while its
// calls are in flight, the manager closed during a load. Each ends in a typed error, no
// call hangs, and the other packages keep serving correct results.

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClosedError, InterpreterManager, PythonError, type ReplicatedObj, Tensor } from "wasmdeploy";
import { ARCHIVES, ROOT } from "../helpers.js";
import { compare } from "../conformance/compare.js";
import { kind } from "../kind.js";

const MODELS = path.join(ROOT, "packages", "models");
const load = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, f))));

let manager: InterpreterManager;
let gpt: ReplicatedObj;
let tok: ReplicatedObj;

beforeAll(async () => {
  manager = await InterpreterManager.create({ ...kind, interpreters: 2, onOutput: () => {} });
  gpt = (await manager.loadPackage(path.join(MODELS, "tiny_gpt.pt"))).loadPickle("model", "model.pkl");
  tok = (await manager.loadPackage(path.join(ARCHIVES, "tokenizer.pt"))).loadPickle("tok", "tok.pkl");
});
afterAll(() => manager?.close());

describe("faults", () => {
  it("an engine error (token id past the vocabulary) fails that call only", async () => {
    const ids = new BigInt64Array(2 * 16).fill(3n);
    ids[5] = 1000n; // vocabulary is 64: ONNX Runtime's Gather refuses the index
    const err = await gpt.call(new Tensor("int64", ids, [2, 16])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PythonError);
    expect((err as PythonError).message).toMatch(/index|indices|out of|bounds|range/i);
    const out = (await gpt.call(load("tiny_gpt.input.npy"))) as Tensor;
    compare(out, load("tiny_gpt.expected.npy"), "tiny_gpt after an engine error");
  });

  it("unloading a package while its calls are in flight fails them with ClosedError, never hangs", async () => {
    const pkg = await manager.loadPackage(path.join(ARCHIVES, "slow_counter.pt"));
    const obj = pkg.loadPickle("slow", "obj.pkl");
    const calls = Array.from({ length: 30 }, () =>
      obj.callMethod("work", 20_000).then(
        () => "ok",
        (e: Error) => e.name,
      ),
    );
    // Unload as the first call is answered: 2 interpreters cannot have finished the other 29,
    // however fast or slow the machine (a fixed wait could outlast them all on a fast one).
    await Promise.race(calls);
    await pkg.unload();
    const outcomes = await Promise.all(calls);
    for (const o of outcomes) expect(["ok", "ClosedError"]).toContain(o);
    expect(outcomes).toContain("ClosedError");
    await expect(obj.callMethod("work", 1)).rejects.toBeInstanceOf(ClosedError);
    expect(await tok.callMethod("encode", "the lazy fox")).toStrictEqual([4, 10, 7]);
  });

  it("closing the manager during a load ends both cleanly", async () => {
    const m = await InterpreterManager.create({ ...kind, interpreters: 1, onOutput: () => {} });
    const loading = m.loadPackage(path.join(MODELS, "resnet_basic.pt")).then(
      async (pkg) => pkg.loadPickle("model", "model.pkl").call(load("resnet_basic.input.npy")),
    );
    const closing = m.close();
    const r = await loading.then(
      () => "ok",
      (e: Error) => e.name,
    );
    await closing;
    expect(r).toBe("ClosedError");
    await expect(m.loadPackage(path.join(ARCHIVES, "tokenizer.pt"))).rejects.toBeInstanceOf(ClosedError);
  });
});
