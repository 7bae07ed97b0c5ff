// Conformance in Chromium: models pickled by real PyTorch run in the page (WASI CPython in Web
// Workers, ONNX Runtime Web in the page) and give PyTorch eager's outputs, on the WebGPU
// provider and on the wasm one (committed files, packages/models/; global-setup.ts serves them).

import { test } from "@playwright/test";
import { compare, npy, openPage, type PageTensor } from "./helpers.js";

interface Case {
  name: string;
  inputs: string[];
  outputs: string[];
}
const CASES: Case[] = [
  { name: "mobilenet_v3_small", inputs: ["mobilenet_v3_small.input.npy"], outputs: ["mobilenet_v3_small.expected.npy"] },
  { name: "tiny_gpt", inputs: ["tiny_gpt.input.npy"], outputs: ["tiny_gpt.expected.npy"] },
  { name: "mha", inputs: ["mha.input.npy", "mha.input1.npy"], outputs: ["mha.expected.npy", "mha.expected1.npy", "mha.expected2.npy"] },
  { name: "resnet_basic", inputs: ["resnet_basic.input.npy"], outputs: ["resnet_basic.expected.npy"] },
];

for (const engine of ["webgpu", "ort-web"] as const) {
  test(`models made by PyTorch match it on ${engine}`, async ({ page }) => {
    test.setTimeout(180_000);
    await openPage(page);
    const results = await page.evaluate(
      async ({ engine, cases }) => {
        const w = await import(`${location.origin}/wasmdeploy.js`);
        const load = async (f: string) => w.Tensor.fromNpy(new Uint8Array(await (await fetch(`/files/${f}`)).arrayBuffer()));
        const plain = (t: InstanceType<typeof w.Tensor>) => ({ dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data as ArrayLike<number | bigint>, Number) });
        const m = await w.InterpreterManager.create({ interpreters: 1, engine });
        const out: Record<string, PageTensor[]> = {};
        try {
          for (const c of cases) {
            const model = (await m.loadPackage(new URL(`/files/${c.name}.pt`, location.href))).loadPickle("model", "model.pkl");
            const y = await model.call(...(await Promise.all(c.inputs.map(load))));
            out[c.name] = (Array.isArray(y) ? y.flat(Infinity) : [y]).map(plain);
          }
        } finally {
          await m.close();
        }
        return out;
      },
      { engine, cases: CASES },
    );
    for (const c of CASES) {
      const got = results[c.name]!;
      test.expect(got.length, `${c.name}: number of outputs`).toBe(c.outputs.length);
      c.outputs.forEach((f, k) => compare(got[k]!, npy(f), `${engine} ${c.name} output ${k}`));
    }
  });
}
