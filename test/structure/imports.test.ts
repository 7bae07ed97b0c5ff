// The layering of src/ (docs/architecture.md): no import cycles, counting type-only imports,
// and a core that imports nothing of Node or of a runtime-specific package, directly or
// through another file, so browser and edge ports add an adapter instead of forking it.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cycles, SRC, sourceFiles } from "./source-graph.js";

/** The core: pool, package model, zip reader, wire format, protocol, engine, Tensor. */
const CORE = [
  /^pool\//,
  /^package\//,
  /^engine\//,
  /^interpreter\//,
  /^bridge\//,
  /^(package|session|objects|wire|protocol|tensor|errors)\.ts$/,
  /^platform\/platform\.ts$/,
];
const isCore = (rel: string) => CORE.some((re) => re.test(rel));
const FORBIDDEN = [/^node:/, /^onnxruntime-node$/, /^(fs|path|os|child_process|worker_threads|crypto|url|module|util)(\/|$)/];

describe("src/ imports", () => {
  const files = sourceFiles();

  it("reads the graph (the checks below are not vacuous)", () => {
    const byRel = new Map(files.map((f) => [f.rel, f]));
    expect(byRel.get("manager.ts")?.local).toContain("pool/dispatcher.ts");
    expect(byRel.get("platform/node/transports.ts")?.specifiers).toContain("node:child_process");
    expect(byRel.get("platform/node/ort-node.ts")?.specifiers).toContain("onnxruntime-node");
    expect(byRel.get("session.ts")?.specifiers).toContain("./pool/port.js"); // a type-only import counts
    expect(cycles([
      { rel: "a.ts", specifiers: [], local: ["b.ts"] },
      { rel: "b.ts", specifiers: [], local: ["a.ts"] },
    ])).toHaveLength(1);
  });

  it("has no import cycles, type-only imports included", () => {
    expect(cycles(files).map((c) => c.join(" -> "))).toStrictEqual([]);
  });

  it("every local import names a file that exists", () => {
    const known = new Set(files.map((f) => f.rel));
    const missing = files.flatMap((f) => f.local.filter((l) => !known.has(l)).map((l) => `${f.rel} -> ${l}`));
    expect(missing).toStrictEqual([]);
  });

  it("the core imports no node:* module and no runtime-specific package, even indirectly", () => {
    const byRel = new Map(files.map((f) => [f.rel, f]));
    const core = files.filter((f) => isCore(f.rel));
    expect(core.length).toBeGreaterThan(30);
    const bad: string[] = [];
    for (const f of core) {
      // Everything the core file reaches through local imports must itself be core.
      const seen = new Set<string>();
      const todo = [f.rel];
      while (todo.length) {
        const rel = todo.pop()!;
        if (seen.has(rel)) continue;
        seen.add(rel);
        const g = byRel.get(rel);
        if (!g) continue;
        if (!isCore(rel)) bad.push(`${f.rel} reaches ${rel}, outside the core`);
        for (const s of g.specifiers) if (FORBIDDEN.some((re) => re.test(s))) bad.push(`${rel} imports ${s}`);
        todo.push(...g.local);
      }
    }
    expect([...new Set(bad)]).toStrictEqual([]);
  });

  it("the core uses no Node global either (process, Buffer, setImmediate, NodeJS types)", () => {
    const bad: string[] = [];
    for (const f of files.filter((f) => isCore(f.rel))) {
      const text = readFileSync(path.join(SRC, f.rel), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      for (const re of [/(?<![.\w])process\./, /(?<![.\w])Buffer\./, /\bsetImmediate\(/, /\bNodeJS\./]) {
        if (re.test(text)) bad.push(`${f.rel}: ${re.source}`);
      }
    }
    expect(bad).toStrictEqual([]);
  });
});
