// Soak: 10,000 calls over several packages (pure Python and tensor models). Resident
// memory must stay flat after warm-up and the engine must hold no leftover tensors.
// The drift is printed; the bound asserted is loose (a leak of even 10 KB per call fails it).

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InterpreterManager, Tensor } from "wasmdeploy";
import * as testing from "wasmdeploy/testing";
import { ARCHIVES, ROOT } from "../helpers.js";
import { kind } from "../kind.js";

const MODELS = path.join(ROOT, "packages", "models");
const load = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, f))));
const TOTAL = 10_000;

function residentMb(m: InterpreterManager): number {
  const interps = m.stats().interpreters.reduce((a, i) => a + (i.residentBytes ?? 0), 0);
  return (process.memoryUsage().rss + interps) / 2 ** 20;
}

describe("soak", () => {
  it(`serves ${TOTAL} calls over three packages with flat memory and no leaked tensors`, async () => {
    const m = await InterpreterManager.create({ ...kind, interpreters: 3, onOutput: () => {} });
    try {
      const tok = (await m.loadPackage(path.join(ARCHIVES, "tokenizer.pt"))).loadPickle("tok", "tok.pkl");
      const values = (await m.loadPackage(path.join(ARCHIVES, "values.pt"))).loadPickle("values", "obj.pkl");
      const gpt = (await m.loadPackage(path.join(MODELS, "tiny_gpt.pt"))).loadPickle("model", "model.pkl");
      const ids = load("tiny_gpt.input.npy");
      const call = (k: number): Promise<unknown> => {
        switch (k % 5) {
          case 0:
          case 1:
            return tok.callMethod("encode", "the quick brown fox").then((r) => expect(r).toStrictEqual([4, 5, 6, 7]));
          case 2:
          case 3:
            return values.callMethod("echo", { k, list: [k, "x"] }).then((r) => expect(r).toStrictEqual({ k, list: [k, "x"] }));
          default:
            return gpt.call(ids).then((r) => expect((r as Tensor).shape).toStrictEqual([2, 16, 64]));
        }
      };
      const run = async (from: number, to: number) => {
        for (let k = from; k < to; k += 50) await Promise.all(Array.from({ length: Math.min(50, to - k) }, (_, j) => call(k + j)));
      };
      await run(0, 1000); // warm-up: sessions compiled, pickles loaded, caches filled
      global.gc?.();
      const warm = residentMb(m);
      await run(1000, TOTAL);
      await new Promise((r) => setTimeout(r, 200));
      global.gc?.();
      const end = residentMb(m);
      const drift = end - warm;
      console.log(`soak: ${TOTAL} calls; resident ${warm.toFixed(0)} MB after warm-up, ${end.toFixed(0)} MB at the end (drift ${drift.toFixed(1)} MB over ${TOTAL - 1000} calls)`);
      expect(drift).toBeLessThan(90);
      // Python hands back the tensors it dropped with its next result: one more call flushes them.
      await gpt.hasattr("forward");
      await new Promise((r) => setTimeout(r, 50));
      expect((await testing.engineState(m)).storedTensors).toBe(0);
    } finally {
      await m.close();
    }
  }, 900_000); // a hang detector only: 100 s (Pyodide) on 2 cores at load average 10, too near vitest's default 120 s
});
