// The demo page as a person uses it: choose an archive and an image through the labelled
// inputs, read the inspect report, run with the keyboard on WebGPU, see five bars. A corrupt
// archive first: the error shows in the page and the page keeps working.

import path from "node:path";
import { expect, test } from "@playwright/test";
import { FILES } from "./paths.js";

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
  await page.getByLabel(/Input: an image/).setInputFiles(path.join(FILES, "image.png"));
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
