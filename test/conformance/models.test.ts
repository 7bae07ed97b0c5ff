// Conformance: models pickled by real PyTorch 1.13 (packages/make_models.py), run through
// wasmdeploy, must give PyTorch eager's outputs: for float32,
// max |ours - torch| <= 1e-4 * max(1, max |torch|). Every model runs lazily on ort-node,
// in eager debug mode, and on ort-web.

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, type EngineName, Tensor } from "wasmdeploy";
import { ROOT } from "../helpers.js";
import { compare } from "./compare.js";
import { kind } from "../kind.js";

const MODELS = path.join(ROOT, "packages", "models");

interface ModelEntry {
  name: string;
  family: string;
  file: string;
  pickle: string;
  inputs: { file: string; dtype: string; shape: number[] }[];
  outputs: { file: string; dtype: string; shape: number[] }[];
}

const catalog = (JSON.parse(readFileSync(path.join(MODELS, "models.json"), "utf8")) as { models: ModelEntry[] }).models;

/** Tensors of a result in order: a Tensor, or tuples/lists of them (nested), depth first. */
function flatten(v: unknown): unknown[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v];
}

const load = (file: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, file))));

const configs: { name: string; engine: EngineName; eager: boolean }[] = [
  { name: "ort-node", engine: "ort-node", eager: false },
  { name: "ort-node eager debug", engine: "ort-node", eager: true },
  { name: "ort-web", engine: "ort-web", eager: false },
];

for (const cfg of configs) {
  describe(`conformance on ${cfg.name}`, () => {
    let manager: InterpreterManager;
    beforeAll(async () => {
      manager = await InterpreterManager.create({ ...kind, interpreters: 2, engine: cfg.engine, debugEager: cfg.eager });
    });
    afterAll(() => manager?.close());

    for (const m of catalog) {
      it(`${m.name} (${m.family}) matches PyTorch eager`, async () => {
        const [pkgName, resource] = [m.pickle.slice(0, m.pickle.lastIndexOf("/")), m.pickle.slice(m.pickle.lastIndexOf("/") + 1)];
        const model = (await manager.loadPackage(path.join(MODELS, m.file))).loadPickle(pkgName, resource);
        const result = await model.call(...m.inputs.map((i) => load(i.file)));
        const outs = flatten(result);
        expect(outs.length, "number of outputs").toBe(m.outputs.length);
        m.outputs.forEach((o, k) => {
          expect(outs[k], `output ${k}`).toBeInstanceOf(Tensor);
          compare(outs[k] as Tensor, load(o.file), `${m.name} output ${k}`);
        });
      });
    }
  });
}
