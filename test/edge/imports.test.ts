// The edge platform runs in an isolate with no Node: everything src/platform/edge/ reaches
// through local imports must be free of node:* modules, Node globals and Node-only packages
// (its bundle is built for esbuild's "neutral" platform and workerd runs it without nodejs_compat).

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, sourceFiles } from "../structure/source-graph.js";

const FORBIDDEN = [/^node:/, /^onnxruntime-node$/, /^pyodide$/, /^(fs|path|os|child_process|worker_threads|crypto|url|module|util)(\/|$)/];

describe("src/platform/edge imports", () => {
  it("reaches no Node module, Node global or Node-only package, even indirectly", () => {
    const files = sourceFiles();
    const byRel = new Map(files.map((f) => [f.rel, f]));
    const roots = files.filter((f) => f.rel.startsWith("platform/edge/"));
    expect(roots.map((f) => f.rel)).toContain("platform/edge/worker.ts");
    const seen = new Set<string>();
    const todo = roots.map((f) => f.rel);
    const bad: string[] = [];
    while (todo.length) {
      const rel = todo.pop()!;
      if (seen.has(rel)) continue;
      seen.add(rel);
      const g = byRel.get(rel)!;
      if (rel.startsWith("platform/node/")) bad.push(`reaches ${rel}`);
      for (const s of g.specifiers) if (FORBIDDEN.some((re) => re.test(s))) bad.push(`${rel} imports ${s}`);
      const text = readFileSync(path.join(SRC, rel), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      for (const re of [/(?<![.\w])process\./, /(?<![.\w])Buffer\./, /\bsetImmediate\(/]) if (re.test(text)) bad.push(`${rel}: ${re.source}`);
      todo.push(...g.local);
    }
    // The server's handler, registry and codec are part of it: one handler for every runtime.
    expect(seen).toContain("server/handler.ts");
    // The edge runs models under the same manager as Node (the platform is installed, not imported).
    expect(seen).toContain("manager.ts");
    expect([...new Set(bad)]).toStrictEqual([]);
  });
});
