// The sci build in Chromium (issue 21): a manager created with wasiBuild: "sci" runs its WASI
// interpreters on python-sci.wasm (numpy and Pillow linked in, fetched through
// manifest-sci.json), and an archive whose forward goes through numpy gives what real PyTorch
// gave (packages/archives/numpy/np_forward.pt and expected.json, served by global-setup.ts).

import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { openPage } from "./helpers.js";
import { FILES } from "./paths.js";

test("np_forward.pt (numpy in forward) on the sci build matches PyTorch; the default build has no numpy", async ({ page }) => {
  test.setTimeout(180_000);
  const expected = JSON.parse(readFileSync(path.join(FILES, "expected.json"), "utf8")) as { calls: { archive: string; input?: number[][]; result: number[][] }[] };
  const c = expected.calls.find((x) => x.archive === "np_forward.pt")!;
  await openPage(page);
  const got = await page.evaluate(async (input) => {
    const w = await import(`${location.origin}/wasmdeploy.js`);
    const m = await w.InterpreterManager.create({ interpreters: 1, engine: "ort-web", wasiBuild: "sci" });
    try {
      const model = (await m.loadPackage(new URL("/files/np_forward.pt", location.href))).loadPickle("model", "model.pkl");
      const x = new w.Tensor("float32", Float32Array.from(input.flat()), [input.length, input[0]!.length]);
      const y = await model.call(x);
      await m.registerModuleSource("npver", "import numpy, PIL\ndef run():\n    return [numpy.__version__, PIL.__version__]\n");
      const s = await m.acquireOne();
      const versions = await (await s.global("npver", "run")).call();
      await s.release();
      return { shape: [...y.shape], data: Array.from(y.data as Float32Array), versions };
    } finally {
      await m.close();
    }
  }, c.input!);
  expect(got.versions).toEqual(["1.24.2", "9.4.0"]);
  expect(got.shape).toEqual([c.result.length, c.result[0]!.length]);
  const worst = c.result.flat().reduce((mx, v, i) => Math.max(mx, Math.abs(got.data[i]! - v)), 0);
  expect(worst).toBeLessThan(1e-5);

  // The default build in the same page: no numpy, a typed error.
  const err = await page.evaluate(async () => {
    const w = await import(`${location.origin}/wasmdeploy.js`);
    const m = await w.InterpreterManager.create({ interpreters: 1, engine: "ort-web" });
    try {
      await m.registerModuleSource("npmissing", "def run():\n    import numpy\n");
      const s = await m.acquireOne();
      try {
        await (await s.global("npmissing", "run")).call();
        return "no error";
      } catch (e) {
        return (e as { pyType?: string }).pyType;
      } finally {
        await s.release();
      }
    } finally {
      await m.close();
    }
  });
  expect(err).toBe("ModuleNotFoundError");
});
