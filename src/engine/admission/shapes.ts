// Shape arithmetic for admission: what ONNX says each op's output is, computed by the host
// from the graph alone. Everything here throws ShapeError with a reason; admit.ts names the node.

import type { DType } from "../graph.js";

export interface ValueType {
  dtype: DType;
  shape: number[];
}

export class ShapeError extends Error {}

export function fail(message: string): never {
  throw new ShapeError(message);
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A dim of a shape this layer computed: a non-negative safe integer, or the graph is refused. */
export function dim(x: number, what: string): number {
  if (!Number.isSafeInteger(x) || x < 0) fail(`${what} would be ${x}, which is not a valid dimension`);
  return x;
}

/** Axis `a` of a rank-`rank` value, negative counting from the end. */
export function axis(a: number, rank: number, what = "axis"): number {
  if (!Number.isInteger(a) || a < -rank || a >= rank) fail(`${what} ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
}

/** Multidirectional (numpy) broadcasting of any number of shapes. */
export function broadcast(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[off + i]!;
      if (o === 1) out[off + i] = d;
      else if (d !== 1 && d !== o) fail(`shapes [${shapes.map((x) => x.join(",")).join("] and [")}] do not broadcast`);
    }
  }
  return out;
}

/**
 * Output length of a pooling or convolution window along one axis, as ONNX Runtime computes it
 * (PoolAttributes::ComputeOutputSize; ceil mode drops a last window that would start in padding).
 */
export function windowOut(size: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, ceil = false): number {
  if (!(kernel >= 1 && stride >= 1 && dilation >= 1)) fail(`kernel ${kernel}, stride ${stride} and dilation ${dilation} must be at least 1`);
  if (padBegin < 0 || padEnd < 0) fail(`pads must not be negative`);
  const span = size + padBegin + padEnd - dilation * (kernel - 1) - 1;
  if (span < 0) fail(`a window of ${dilation * (kernel - 1) + 1} does not fit in ${size} (+${padBegin + padEnd} padding)`);
  let out = ceil ? Math.ceil(span / stride) + 1 : Math.floor(span / stride) + 1;
  if (ceil && (out - 1) * stride >= size + padBegin) out--;
  return out;
}

/** ONNX Slice along one axis: the length of [start, end) by step after clamping. */
export function sliceLength(size: number, start: number, end: number, step: number): number {
  if (step === 0 || !Number.isFinite(step)) fail(`slice step must not be 0`);
  if (start < 0) start += size;
  // ONNX Runtime reads an end of INT32_MAX or INT64_MAX as "to the end" in the step's direction.
  if (end === 2 ** 31 - 1 || end >= 2 ** 63) end = step < 0 ? -1 : size;
  else if (end < 0) end += size;
  if (step > 0) {
    start = Math.min(Math.max(start, 0), size);
    end = Math.min(Math.max(end, 0), size);
    return end > start ? Math.ceil((end - start) / step) : 0;
  }
  start = Math.min(Math.max(start, 0), size - 1);
  end = Math.min(Math.max(end, -1), size - 1);
  return start > end ? Math.ceil((start - end) / -step) : 0;
}

/** numpy.matmul's result shape (1-D operands promoted and the added dim dropped). */
export function matmulShape(a: readonly number[], b: readonly number[]): number[] {
  if (a.length === 0 || b.length === 0) fail("MatMul operands must have at least one dimension");
  const A = a.length === 1 ? [1, a[0]!] : [...a];
  const B = b.length === 1 ? [b[0]!, 1] : [...b];
  const k1 = A[A.length - 1]!;
  const k2 = B[B.length - 2]!;
  if (k1 !== k2) fail(`MatMul of [${a.join(",")}] and [${b.join(",")}]: inner dimensions ${k1} and ${k2} differ`);
  const batch = broadcast(A.slice(0, -2), B.slice(0, -2));
  const out = [...batch, A[A.length - 2]!, B[B.length - 1]!];
  if (b.length === 1) out.splice(out.length - 1, 1);
  if (a.length === 1) out.splice(out.length - (b.length === 1 ? 1 : 2), 1);
  return out;
}

/**
 * Einsum: the output shape, and the elements of the largest intermediate ONNX Runtime's
 * left-to-right contraction can hold (operands contracted pairwise, keeping the letters the
 * output or a later operand still needs).
 */
export function einsum(equation: string, inputs: (readonly number[])[]): { shape: number[]; largest: number } {
  const eq = equation.replace(/\s+/g, "");
  if (eq.length > 256 || !/^[A-Za-z.,]*(->[A-Za-z.]*)?$/.test(eq)) fail(`Einsum equation ${JSON.stringify(equation)} is malformed`);
  const [lhs, rhs] = eq.split("->") as [string, string | undefined];
  const terms = lhs.split(",");
  if (terms.length !== inputs.length) fail(`Einsum equation has ${terms.length} operands for ${inputs.length} inputs`);
  const sizes = new Map<string, number>();
  let ellipsis: number[] = [];
  let ellipsisRank: number | undefined;
  const parsed = terms.map((t, i) => {
    const parts = t.split("...");
    if (parts.length > 2 || /\./.test(parts.join(""))) fail(`Einsum term ${JSON.stringify(t)} is malformed`);
    const letters = parts.join("").split("");
    const shape = inputs[i]!;
    const ell = parts.length === 2 ? shape.length - letters.length : 0;
    if (ell < 0 || (parts.length === 1 && letters.length !== shape.length)) fail(`Einsum term ${JSON.stringify(t)} does not match an input of rank ${shape.length}`);
    const before = parts[0]!.length;
    letters.forEach((l, j) => {
      const d = shape[j < before ? j : j + ell]!;
      const known = sizes.get(l);
      if (known === undefined || known === 1) sizes.set(l, d);
      else if (d !== known && d !== 1) fail(`Einsum letter ${l} is ${known} in one operand and ${d} in another`);
    });
    if (parts.length === 2) {
      // ONNX Runtime 1.30's Einsum segfaults when ellipses cover different ranks (the fuzzer found it).
      if (ellipsisRank !== undefined && ell !== ellipsisRank) fail(`Einsum ellipses cover ${ellipsisRank} and ${ell} dims; give the operands the same rank`);
      ellipsisRank = ell;
      ellipsis = broadcast(ellipsis, shape.slice(before, before + ell));
    }
    return { letters, hasEllipsis: parts.length === 2 };
  });
  let out: string[];
  let outEllipsis: boolean;
  if (rhs === undefined) {
    const count = new Map<string, number>();
    for (const p of parsed) for (const l of p.letters) count.set(l, (count.get(l) ?? 0) + 1);
    out = [...count].filter(([, c]) => c === 1).map(([l]) => l).sort();
    outEllipsis = parsed.some((p) => p.hasEllipsis);
  } else {
    const parts = rhs.split("...");
    if (parts.length > 2) fail(`Einsum output ${JSON.stringify(rhs)} is malformed`);
    out = parts.join("").split("");
    outEllipsis = parts.length === 2;
    for (const l of out) if (!sizes.has(l)) fail(`Einsum output letter ${l} is in no operand`);
    if (new Set(out).size !== out.length) fail(`Einsum output repeats a letter`);
  }
  const shape = [...(outEllipsis ? ellipsis : []), ...out.map((l) => sizes.get(l)!)];
  // Intermediates of the pairwise contraction.
  const ellN = numel(ellipsis);
  let largest = 0;
  let current = new Set<string>();
  parsed.forEach((p, i) => {
    const later = new Set([...out, ...parsed.slice(i + 1).flatMap((q) => q.letters)]);
    const union = new Set([...current, ...p.letters]);
    let n = ellN;
    for (const l of union) n *= sizes.get(l)!;
    largest = Math.max(largest, n);
    current = new Set([...union].filter((l) => later.has(l)));
  });
  return { shape, largest };
}
