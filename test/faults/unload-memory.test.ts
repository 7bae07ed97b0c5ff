// Unloading a package gives its memory back: its weights in every engine thread, the ORT
// sessions compiled over them, and its objects in the interpreters (trusted interpreters keep
// running across packages, so their Python heap is measured too; sandboxed ones are replaced
// at a tenant switch anyway). 20 rounds of load, call and unload of twelve packages (four
// convnets, three times each: every load is a package of its own, with its own weights) must
// end within a margin of the first round's memory that a leak of one copy of the weights per
// round would exceed: measured as the proportional set size of this process and every process
// it started. What remains is the native allocators' arenas settling.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InterpreterManager, Tensor } from "wasmdeploy";
import * as testing from "wasmdeploy/testing";
import { pss, processTree } from "../../bench/lib/common.js";
import { ROOT } from "../helpers.js";
import { kind } from "../kind.js";

const MODELS = path.join(ROOT, "packages", "models");
const NAMES = ["efficientnet", "squeezenet", "mobilenet_v3_small", "resnet_basic"];
const ROUNDS = 20;

/** PSS of a process and all its descendants, in bytes (Linux; a process gone meanwhile counts 0). */
const treePss = (root = process.pid) => processTree(root).reduce((n, pid) => n + (pss(pid) ?? 0), 0);

const settle = async () => {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.runIf(process.platform === "linux")("unload gives memory back", () => {
  it(`${ROUNDS} rounds of load, call and unload of twelve convnet packages end near where the first round did`, async () => {
    const archives = NAMES.map((n) => readFileSync(path.join(MODELS, `${n}.pt`)));
    const inputs = NAMES.map((n) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, `${n}.input.npy`)))));
    const expected = NAMES.map((n) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, `${n}.expected.npy`)))));
    const m = await InterpreterManager.create({ ...kind, interpreters: 2, isolation: "trusted", engineWorkers: 2, onOutput: () => {} });
    try {
      const mb = (b: number) => (b / 2 ** 20).toFixed(1);
      let weightBytes = 0;
      const pss: number[] = [];
      // One warm-up round first: the second round of a process still grows the native
      // allocators' per-thread arenas by about 30 MB (measured), whatever unload frees.
      for (let round = -1; round < ROUNDS; round++) {
        const pkgs = await Promise.all([0, 1, 2].flatMap(() => archives.map((a) => m.loadPackage(new Uint8Array(a)))));
        const outs = await Promise.all(pkgs.map((p, k) => p.loadPickle("model", "model.pkl").call(inputs[k % NAMES.length]!)));
        outs.forEach((o, k) => expect((o as Tensor).shape).toStrictEqual(expected[k % NAMES.length]!.shape));
        if (round === 0) weightBytes = (await testing.engineState(m)).weightBytes ?? 0;
        await Promise.all(pkgs.map((p) => p.unload()));
        if (round < 0) continue;
        expect((await testing.engineState(m)).weightBytes).toBe(0);
        await settle();
        pss.push(treePss());
      }
      const growth = pss[ROUNDS - 1]! - pss[0]!;
      console.log(
        `unload: weights of one round ${mb(weightBytes)} MB; process-tree PSS after round 1 ${mb(pss[0]!)} MB, ` +
          `after round ${ROUNDS} ${mb(pss[ROUNDS - 1]!)} MB (growth ${mb(growth)} MB); per round: ${pss.map(mb).join(" ")}`,
      );
      expect(weightBytes).toBeGreaterThan(5 * 2 ** 20);
      // A leak of one copy of the weights per round would add (ROUNDS - 1) * weightBytes (about
      // 120 MB) on top of the arenas settling; before unload freed anything, each round kept
      // several copies (host, every engine thread, baked into every thread's sessions) and the
      // packages' Python modules.
      expect(growth).toBeLessThan(0.75 * (ROUNDS - 1) * weightBytes);
    } finally {
      await m.close();
    }
  }, 900_000); // a hang detector only: about 40 s alone, 225 s on 2 cores at load average 10
});
