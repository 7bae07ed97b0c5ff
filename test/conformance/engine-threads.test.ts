// The engine on the host's main thread (engineWorkers: 0) and on a pool of engine threads
// give PyTorch's results alike, under concurrent calls from several interpreters.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "vitest";
import { InterpreterManager, Tensor } from "wasmdeploy";
import { ROOT } from "../helpers.js";
import { compare } from "./compare.js";
import { kind } from "../kind.js";

const MODELS = path.join(ROOT, "packages", "models");
const load = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, f))));

describe("engine threads", () => {
  for (const engineWorkers of [0, 3]) {
    it(`engineWorkers ${engineWorkers}: 12 concurrent calls of two models match PyTorch`, async () => {
      const m = await InterpreterManager.create({ ...kind, interpreters: 2, isolation: "trusted", engineWorkers });
      try {
        const resnet = (await m.loadPackage(path.join(MODELS, "resnet_basic.pt"))).loadPickle("model", "model.pkl");
        const gpt = (await m.loadPackage(path.join(MODELS, "tiny_gpt.pt"))).loadPickle("model", "model.pkl");
        const x = load("resnet_basic.input.npy");
        const ids = load("tiny_gpt.input.npy");
        const outs = await Promise.all(Array.from({ length: 12 }, (_, k) => (k % 2 ? gpt.call(ids) : resnet.call(x))));
        outs.forEach((o, k) =>
          compare(o as Tensor, load(k % 2 ? "tiny_gpt.expected.npy" : "resnet_basic.expected.npy"), `call ${k}`),
        );
      } finally {
        await m.close();
      }
    });
  }
});
