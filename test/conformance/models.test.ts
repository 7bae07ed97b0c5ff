// Conformance: models pickled by real PyTorch 1.13 (packages/make_models.py), run through
// wasmdeploy, must give PyTorch eager's outputs: for float32,
// max |ours - torch| <= 1e-4 * max(1, max |torch|). Every model runs lazily on ort-node,
// in eager debug mode, and on ort-web.

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, type EngineName, Tensor } from "wasmdeploy";
import { ROOT } from "../helpers.js";

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

function asNumbers(t: Tensor): number[] {
  if (t.dtype === "float16") {
    // Half floats travel as raw bits.
    return Array.from(t.data as Uint16Array, (bits) => {
      const s = bits & 0x8000 ? -1 : 1;
      const e = (bits >> 10) & 0x1f;
      const f = bits & 0x3ff;
      if (e === 0) return s * 2 ** -14 * (f / 1024);
      if (e === 31) return f ? NaN : s * Infinity;
      return s * 2 ** (e - 15) * (1 + f / 1024);
    });
  }
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Checks one output against PyTorch's; returns a description of the worst error. */
export function compare(ours: Tensor, torch: Tensor, what: string) {
  expect(ours.dtype, `${what} dtype`).toBe(torch.dtype);
  expect([...ours.shape], `${what} shape`).toStrictEqual([...torch.shape]);
  const a = asNumbers(ours);
  const b = asNumbers(torch);
  if (!["float32", "float64", "float16"].includes(torch.dtype)) {
    expect(a, `${what} (exact)`).toStrictEqual(b);
    return;
  }
  const rel = torch.dtype === "float64" ? 1e-10 : torch.dtype === "float16" ? 1e-3 : 1e-4;
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < b.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(b[i]!));
    const d = Math.abs(a[i]! - b[i]!);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
  }
  expect(maxDiff, `${what}: max |ours - torch| = ${maxDiff} (max |torch| ${maxAbs})`).toBeLessThanOrEqual(rel * Math.max(1, maxAbs));
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
      manager = await InterpreterManager.create({ interpreters: 2, engine: cfg.engine, debugEager: cfg.eager });
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
