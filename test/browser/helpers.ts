// What the specs share: loading .npy files as PyTorch wrote them, and the conformance tolerance
// (the same as test/conformance/compare.ts: float32 max |ours - torch| <= 1e-4 * max(1, max |torch|)).

import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, type Page } from "@playwright/test";
import { Tensor } from "wasmdeploy";
import { FILES } from "./paths.js";

/** A tensor as it leaves the page (plain JSON). */
export interface PageTensor {
  dtype: string;
  shape: number[];
  data: number[];
}

export const npy = (file: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(FILES, file))));

export function compare(ours: PageTensor, torch: Tensor, what: string) {
  expect(ours.dtype, `${what} dtype`).toBe(torch.dtype);
  expect(ours.shape, `${what} shape`).toStrictEqual([...torch.shape]);
  const b = Array.from(torch.data as ArrayLike<number | bigint>, Number);
  if (torch.dtype !== "float32" && torch.dtype !== "float64") {
    expect(ours.data, `${what} (exact)`).toStrictEqual(b);
    return;
  }
  let maxAbs = 0;
  let maxDiff = 0;
  b.forEach((v, i) => {
    maxAbs = Math.max(maxAbs, Math.abs(v));
    const d = Math.abs(ours.data[i]! - v);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
  });
  expect(maxDiff, `${what}: max |ours - torch| = ${maxDiff} (max |torch| ${maxAbs})`).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs));
}

/** Opens the server's page (cross-origin isolated) and fails the test on any uncaught page error. */
export async function openPage(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/");
  expect(await page.evaluate(() => crossOriginIsolated), "the page is cross-origin isolated").toBe(true);
  expect(errors).toStrictEqual([]);
}
