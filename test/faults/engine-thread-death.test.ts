// A dead engine thread is replaced as a dead interpreter is: only the runs that were on it
// fail (with a typed error), and every later run succeeds and matches PyTorch.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InterpreterManager, PythonError, Tensor } from "wasmdeploy";
import * as testing from "wasmdeploy/testing";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import { kind } from "../kind.js";

const MODELS = path.join(ROOT, "packages", "models");
const load = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, f))));

describe("engine thread death", () => {
  it("fails only the runs on the killed thread, replaces it, and serves every later run", async () => {
    const m = await InterpreterManager.create({ ...kind, interpreters: 2, isolation: "trusted", engineWorkers: 2, onOutput: () => {} });
    try {
      const model = (await m.loadPackage(path.join(MODELS, "resnet_basic.pt"))).loadPickle("model", "model.pkl");
      const x = load("resnet_basic.input.npy");
      const want = load("resnet_basic.expected.npy");
      compare((await model.call(x)) as Tensor, want, "before");
      // Calls in flight while engine thread 0 is killed.
      const during = Array.from({ length: 6 }, () => model.call(x).then((y) => ({ y }), (e: unknown) => ({ e })));
      await new Promise((r) => setTimeout(r, 30));
      await testing.killEngineThread(m, 0);
      for (const r of await Promise.all(during)) {
        if ("y" in r) compare(r.y as Tensor, want, "during");
        else {
          // The bridge error reaches Python, which raises it; the call fails with a PythonError naming it.
          expect(r.e).toBeInstanceOf(PythonError);
          expect((r.e as PythonError).message).toMatch(/engine thread running this graph died/);
        }
      }
      expect((await testing.engineState(m)).threadsReplaced).toBe(1);
      // Every later run succeeds: none is routed to a dead thread (which hung them until a deadline).
      const after = await Promise.all(Array.from({ length: 8 }, () => model.call(x)));
      after.forEach((y) => compare(y as Tensor, want, "after"));
      // And the replacement runs graphs too: kill the other thread, the pool still serves.
      await testing.killEngineThread(m, 1);
      const last = await Promise.all(Array.from({ length: 4 }, () => model.call(x)));
      last.forEach((y) => compare(y as Tensor, want, "after both died"));
      expect((await testing.engineState(m)).threadsReplaced).toBe(2);
    } finally {
      await m.close();
    }
  });
});
