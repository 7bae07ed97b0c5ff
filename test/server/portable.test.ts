// The Fetch handler must run wherever Fetch does (workerd next): nothing reachable from
// wasmdeploy/server may import a node: module or a package. Walks the compiled import graph.

import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { ROOT } from "../helpers.js";

it("wasmdeploy/server imports no node: module and no package, transitively", () => {
  const seen = new Set<string>();
  const bad: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/gm)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith(".")) visit(path.resolve(path.dirname(file), spec));
      else bad.push(`${path.relative(ROOT, file)} imports ${spec}`);
    }
  };
  visit(path.join(ROOT, "dist", "server", "index.js"));
  expect(bad).toStrictEqual([]);
  expect(seen.size).toBeGreaterThan(5);
  expect([...seen].some((f) => f.endsWith(path.join("server", "handler.js")))).toBe(true);
});
