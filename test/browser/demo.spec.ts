// The demo page as a person uses it: choose an archive and an image through the labelled
// inputs, read the inspect report, run with the keyboard on WebGPU, see five bars. A corrupt
// archive first: the error shows in the page and the page keeps working.

import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { FILES } from "./paths.js";

/** A photo-like PNG, 160x120: smooth colour gradients with a disc, drawn by the browser's canvas. */
async function photoLikePng(page: Page): Promise<Buffer> {
  const bytes = await page.evaluate(async () => {
    const [w, h] = [160, 120];
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext("2d")!;
    const img = ctx.createImageData(w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) img.data.set([Math.floor((x * 255) / (w - 1)), Math.floor((y * 255) / (h - 1)), 128, 255], 4 * (y * w + x));
    }
    ctx.putImageData(img, 0, 0);
    ctx.fillStyle = "rgb(240, 200, 40)";
    ctx.beginPath();
    ctx.arc(80, 60, 30, 0, 2 * Math.PI);
    ctx.fill();
    return Array.from(new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer()));
  });
  return Buffer.from(bytes);
}

test("demo: upload an archive and an image, run on WebGPU, see the top 5", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  await page.goto("/");
  await expect(page.locator("#env")).toContainText("cross-origin isolated");

  // A corrupt archive: a typed error in the page, nothing to run.
  await page.getByLabel("Archive file (.pt)").setInputFiles(path.join(FILES, "corrupt.pt"));
  await expect(page.getByRole("alert")).toContainText("PackageFormatError");
  await expect(page.getByRole("button", { name: "Run" })).toBeDisabled();

  // The real one: its report, then its pickle offered.
  await page.getByLabel("Archive file (.pt)").setInputFiles(path.join(FILES, "resnet_basic.pt"));
  await expect(page.getByRole("alert")).toBeEmpty();
  await expect(page.locator("#report-pickles")).toHaveText("model/model.pkl");
  await expect(page.locator("#report")).toContainText("torchvision.models.resnet");
  await expect(page.getByLabel("Pickle")).toHaveValue("model/model.pkl");

  await page.getByLabel(/Image size/).fill("64");
  await page.getByLabel(/Input: an image/).setInputFiles({ name: "image.png", mimeType: "image/png", buffer: await photoLikePng(page) });
  await expect(page.getByRole("status")).toHaveText("input: float32 [1, 3, 64, 64]");
  await page.getByLabel("WebGPU").check();

  // Keyboard: focus Run and press Enter.
  const run = page.getByRole("button", { name: "Run" });
  await expect(run).toBeEnabled();
  await run.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status")).toHaveText("done on webgpu", { timeout: 100_000 });

  const bars = page.locator("#top5 li");
  await expect(bars).toHaveCount(5);
  const labels = await bars.evaluateAll((lis) => lis.map((li) => li.getAttribute("aria-label")));
  for (const l of labels) expect(l).toMatch(/^class \d: \d+\.\d\d%$/);
  await expect(page.locator("#timing-bars li")).toHaveCount(4);
  await expect(page.getByRole("alert")).toBeEmpty();

  const shot = testInfo.outputPath("demo.png");
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach("demo", { path: shot, contentType: "image/png" });
});
