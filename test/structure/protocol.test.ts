// The host and the interpreter agree on the operations: host.py's _OPS table lists exactly
// the operations of src/protocol.ts, so neither side can add one the other does not know.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HOST_OPS } from "../../src/protocol.js";
import { ROOT } from "../helpers.js";

function pythonOps(): string[] {
  const text = readFileSync(path.join(ROOT, "runtime", "wasmdeploy_runtime", "host.py"), "utf8");
  const table = /^_OPS = \{\n([\s\S]*?)^\}/m.exec(text);
  if (!table) throw new Error("host.py has no _OPS = {...} table");
  return [...table[1]!.matchAll(/^\s*"([a-z_]+)":\s*\w+,?\s*$/gm)].map((m) => m[1]!);
}

describe("host protocol", () => {
  it("host.py's _OPS table and the TypeScript operation list name the same operations", () => {
    const py = pythonOps();
    expect(py.length).toBeGreaterThan(5);
    expect([...py].sort()).toStrictEqual([...HOST_OPS].sort());
  });
});
