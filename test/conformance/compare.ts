// The conformance tolerance: for float32, max |ours - torch| <= 1e-4 * max(1, max |torch|);
// float64 1e-10, float16 1e-3 (one half-precision step near 1); integers and bools exact.

import { expect } from "vitest";
import type { Tensor } from "wasmdeploy";

/** IEEE half-precision bits (how float16 tensors hold their elements) to a number. */
export function halfToNumber(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function asNumbers(t: Tensor): number[] {
  if (t.dtype === "float16") return Array.from(t.data as Uint16Array, halfToNumber);
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Checks one output against PyTorch's. */
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

