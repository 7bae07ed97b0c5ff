// Cost of keying a graph: canonical text, then use it as the Map key, or hash it first
// (sha1 / sha256 from node:crypto, 64-bit FNV-1a in JS). Feeds the table in structural-key.ts.
// Run: npx tsx bench/engine/structural-key.bench.ts

import { createHash } from "node:crypto";
import { canonicalGraph, structuralKey } from "../../src/engine/structural-key.js";
import type { GraphSpec } from "../../src/engine/graph.js";
import { makeConvNet, makeTiny } from "./graphs.js";

function fnv1a(s: string): string {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0xcbf29ce4 | 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 16777619);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 15);
  }
  return (h1 >>> 0).toString(16) + (h2 >>> 0).toString(16);
}

function time(label: string, iters: number, f: () => unknown): void {
  for (let i = 0; i < Math.min(iters, 2000); i++) f();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) f();
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / iters;
  console.log(`  ${label.padEnd(44)} ${us.toFixed(2)} us`);
}

function bench(name: string, make: (variant: number) => GraphSpec, iters: number): void {
  const probe = make(128);
  const text = canonicalGraph(probe);
  console.log(`${name}: ${probe.nodes.length} nodes, ${probe.weights.length} weights, canonical ${text.length} chars`);
  // A warm cache of 256 variants of equal text length; the key is rebuilt per lookup, as in run().
  const byText = new Map<string, number>();
  const bySha = new Map<string, number>();
  for (let v = 0; v < 256; v++) {
    const t = canonicalGraph(make(v));
    byText.set(t, v);
    bySha.set(createHash("sha256").update(t).digest("base64"), v);
  }
  time("JSON.stringify (reference; not exact)", iters, () => JSON.stringify(probe));
  time("canonicalGraph", iters, () => canonicalGraph(probe));
  time("canonical + Map.get(text)", iters, () => byText.get(canonicalGraph(probe)));
  time("canonical + sha1", iters, () => createHash("sha1").update(canonicalGraph(probe)).digest("hex"));
  time("canonical + sha256 + Map.get(digest)", iters, () => bySha.get(createHash("sha256").update(canonicalGraph(probe)).digest("base64")));
  time("canonical + fnv1a 64-bit (JS)", iters, () => fnv1a(canonicalGraph(probe)));
  time("structuralKey (chosen)", iters, () => structuralKey(probe));
}

const tiny = (v: number): GraphSpec => {
  const g = makeTiny(4);
  g.nodes[0]!.attrs = { value: { tensor: { dtype: "float32", shape: [], data: [1000 + v] } } };
  return g;
};
const convnet = (v: number): GraphSpec => {
  const { graph } = makeConvNet({ batch: 1, channels: 64, size: 56, blocks: 20 });
  graph.weights[graph.weights.length - 1]!.offset = 1000 + v;
  return graph;
};
bench("tiny", tiny, 200_000);
bench("convnet (resnet18-sized)", convnet, 20_000);
