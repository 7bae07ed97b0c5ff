// The structural key of a GraphSpec: two graphs with the same key compile to the same ONNX
// model, so they share one compiled session. It covers ops, domains, attributes, value names,
// dtypes and shapes, and the identity (storage id, offset, dtype, shape) of every weight, never
// weight values. It is computed on every run, so it is built for speed.
//
// Measured (bench/engine/structural-key.bench.ts, Node 20, this machine), per key:
//   graph                           canonical text  + Map.get(text)  + sha256 + Map.get(digest)
//   tiny (4 nodes, 170 chars)            0.75 us          1.6 us              2.1 us
//   resnet-ish (63 nodes, 122 weights,    30 us            73 us               53 us
//     9.6 K chars)
// V8 hashes a string one char at a time the first time it is used as a Map key, which costs more
// than node:crypto's sha256 of it (sha1 costs the same; 64-bit FNV-1a in JS, 68 us, is slower
// still). So short texts are their own key (exact, no hashing), long ones are keyed by sha256:
// collision-resistant, where a crafted collision between two tenants' graphs would hand one the
// other's session. Without node:crypto (browsers) the text is the key.

import type { AttrValue, GraphSpec } from "./graph.js";

/**
 * The canonical text of a graph. Unambiguous: every string is length-prefixed and every list
 * delimited. Exact for numbers: JSON.stringify would print NaN and +-Infinity as null and -0
 * as 0, letting graphs with different constants share a session.
 */
export function canonicalGraph(g: GraphSpec): string {
  // String concatenation measured 2x faster than pushing parts and joining.
  let s = "";
  for (const i of g.inputs) s += i.name.length + ":" + i.name + i.dtype + "[" + i.shape.join(",") + "]";
  s += "W";
  for (const w of g.weights) {
    s += w.name.length + ":" + w.name + w.storage.length + ":" + w.storage + "@" + (w.offset ?? 0) + w.dtype + "[" + w.shape.join(",") + "]";
  }
  s += "N";
  for (const n of g.nodes) {
    const domain = n.domain ?? "";
    s += "(" + n.op.length + ":" + n.op + domain.length + ":" + domain + "<";
    for (const x of n.inputs) s += x.length + ":" + x;
    s += "><";
    for (const x of n.outputs) s += x.length + ":" + x;
    s += ">";
    if (n.attrs) {
      const keys = Object.keys(n.attrs);
      // ONNX ignores attribute order, so it must not split the cache.
      if (keys.length > 1) keys.sort();
      for (const k of keys) s += k.length + ":" + k + "=" + attr(n.attrs[k]!);
    }
    s += ")";
  }
  s += "O";
  for (const o of g.outputs) s += o.name.length + ":" + o.name + o.dtype + "[" + o.shape.join(",") + "]";
  return s;
}

function num(x: number): string {
  return Object.is(x, -0) ? "-0" : String(x);
}

function nums(xs: readonly number[]): string {
  let s = "";
  for (const x of xs) s += num(x) + ",";
  return s;
}

function attr(v: AttrValue): string {
  if (typeof v === "number") return "i" + num(v);
  if (typeof v === "string") return "s" + v.length + ":" + v;
  if (Array.isArray(v)) {
    if (typeof v[0] === "string") {
      let s = "S" + v.length;
      for (const x of v as string[]) s += "," + x.length + ":" + x;
      return s;
    }
    return "I[" + nums(v as number[]) + "]";
  }
  if ("float" in v) return "f" + num(v.float);
  if ("floats" in v) return "F[" + nums(v.floats) + "]";
  const t = v.tensor;
  return "t" + t.dtype + "[" + t.shape.join(",") + "]{" + nums(t.data) + "}";
}

/** Texts shorter than this are used as the key directly (see the table above). */
const HASH_ABOVE = 2048;

/** A collision-resistant digest of a text (SHA-256), supplied by the platform. */
export type Digest = (text: string) => string;

let sha256: Digest | undefined;

/**
 * Lets long graph texts be keyed by a digest (src/platform/node supplies node:crypto's SHA-256).
 * Without one, keys are the whole canonical text: correct, only longer.
 */
export function setGraphDigest(digest: Digest): void {
  sha256 = digest;
}

/** The session-cache key of a graph. */
export function structuralKey(g: GraphSpec): string {
  const text = canonicalGraph(g);
  return text.length < HASH_ABOVE || !sha256 ? "t" + text : "h" + sha256(text);
}
