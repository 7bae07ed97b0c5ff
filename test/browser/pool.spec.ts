// The pool in a page: four interpreters (four Web Workers) serve concurrent calls, a corrupt
// archive is a typed error and the pool keeps serving, and a page that is not cross-origin
// isolated gets an error saying what is missing.

import { expect, test } from "@playwright/test";
import { compare, npy, openPage, type PageTensor } from "./helpers.js";

test("4 interpreters serve concurrent calls, each result PyTorch's", async ({ page }) => {
  await openPage(page);
  const r = await page.evaluate(async () => {
    const w = await import(`${location.origin}/wasmdeploy.js`);
    const x = w.Tensor.fromNpy(new Uint8Array(await (await fetch("/files/tiny_gpt.input.npy")).arrayBuffer()));
    const m = await w.InterpreterManager.create({ interpreters: 4, engine: "ort-web" });
    try {
      const model = (await m.loadPackage("/files/tiny_gpt.pt")).loadPickle("model", "model.pkl");
      const ys = await Promise.all(Array.from({ length: 12 }, () => model.call(x)));
      const stats = m.stats();
      return {
        outputs: ys.map((y: InstanceType<typeof w.Tensor>) => ({ dtype: y.dtype, shape: [...y.shape], data: Array.from(y.data as Float32Array) })) as PageTensor[],
        completed: stats.interpreters.map((i: { completed: number }) => i.completed),
        states: stats.interpreters.map((i: { state: string }) => i.state),
      };
    } finally {
      await m.close();
    }
  });
  expect(r.completed).toHaveLength(4);
  // Every interpreter took part (package load and calls both count as completed jobs).
  for (const [i, n] of r.completed.entries()) expect(n, `interpreter ${i} served calls`).toBeGreaterThan(0);
  const expected = npy("tiny_gpt.expected.npy");
  r.outputs.forEach((y, k) => compare(y, expected, `call ${k}`));
});

test("a corrupt archive is a PackageFormatError and the pool keeps serving", async ({ page }) => {
  await openPage(page);
  const r = await page.evaluate(async () => {
    const w = await import(`${location.origin}/wasmdeploy.js`);
    const m = await w.InterpreterManager.create({ interpreters: 1 });
    try {
      const errors: { name: string; typed: boolean; message: string }[] = [];
      for (const source of ["/files/corrupt.pt", await fetch("/files/corrupt.pt"), new Uint8Array([1, 2, 3]), "/files/no-such.pt"]) {
        try {
          await m.loadPackage(source);
          errors.push({ name: "none", typed: false, message: "" });
        } catch (e) {
          errors.push({ name: (e as Error).name, typed: e instanceof w.PackageFormatError && e instanceof w.WasmdeployError, message: (e as Error).message });
        }
      }
      const x = w.Tensor.fromNpy(new Uint8Array(await (await fetch("/files/tiny_gpt.input.npy")).arrayBuffer()));
      const y = await (await m.loadPackage(await fetch("/files/tiny_gpt.pt"))).loadPickle("model", "model.pkl").call(x);
      return { errors, y: { dtype: y.dtype, shape: [...y.shape], data: Array.from(y.data as Float32Array) } };
    } finally {
      await m.close();
    }
  });
  for (const e of r.errors) {
    expect(e.name).toBe("PackageFormatError");
    expect(e.typed).toBe(true);
  }
  expect(r.errors[3]!.message).toContain("not found");
  compare(r.y, npy("tiny_gpt.expected.npy"), "after the errors");
});

test("without cross-origin isolation the error says what is missing and how to fix it", async ({ page }) => {
  // The same origin, but a page served without COOP/COEP.
  await page.route("**/plain.html", (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>plain</title>" }));
  await page.goto("/plain.html");
  const r = await page.evaluate(async () => {
    const w = await import(`${location.origin}/wasmdeploy.js`);
    try {
      await w.InterpreterManager.create({ interpreters: 1 });
      return { isolated: crossOriginIsolated, name: "none", message: "" };
    } catch (e) {
      return { isolated: crossOriginIsolated, name: (e as Error).name, message: (e as Error).message };
    }
  });
  expect(r.isolated).toBe(false);
  expect(r.name).toBe("WasmdeployError");
  expect(r.message).toContain("Cross-Origin-Opener-Policy: same-origin");
  expect(r.message).toContain("Cross-Origin-Embedder-Policy: require-corp");
});

test("a second visit boots from the cache (compiled module and snapshot)", async ({ page }) => {
  await openPage(page);
  const boot = () =>
    page.evaluate(async () => {
      const w = await import(`${location.origin}/wasmdeploy.js`);
      const m = await w.InterpreterManager.create({ interpreters: 1 });
      const s = m.allInstances()[0]!.acquireSession();
      const y = await (await s.global("math", "sqrt")).call(2);
      await s.release();
      const stats = m.stats().boot;
      await m.close();
      return { snapshot: stats.snapshot, y };
    });
  const first = await boot();
  await page.reload();
  const second = await boot();
  expect(first.snapshot).toBe("made");
  expect(second.snapshot).toBe("disk");
  expect(second.y).toBeCloseTo(Math.SQRT2, 12);
});
