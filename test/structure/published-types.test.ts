// The published type declarations (dist/*.d.ts, what users' editors show) expose the
// documented API only: no pool internals on the public classes.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

/** Member names of `class Name` in a .d.ts file (private members and the constructor left out). */
function members(file: string, name: string): string[] {
  const text = readFileSync(path.join(ROOT, "dist", file), "utf8").replace(/\/\*\*[\s\S]*?\*\//g, "");
  const start = text.indexOf(`export declare class ${name} `);
  if (start < 0) throw new Error(`${file} declares no class ${name}`);
  const body = text.slice(text.indexOf("{", start) + 1);
  const lines: string[] = [];
  let depth = 0;
  for (const line of body.split("\n")) {
    if (depth === 0 && line.trim() === "}") break;
    if (depth === 0) lines.push(line.trim());
    depth += (line.match(/[{(]/g) ?? []).length - (line.match(/[})]/g) ?? []).length;
  }
  return lines
    .filter((l) => l && !l.startsWith("#private") && !l.startsWith("private ") && !l.startsWith("static {"))
    .map((l) => /^(?:static\s+)?(?:readonly\s+)?(?:get\s+|set\s+)?([A-Za-z_$][\w$]*)/.exec(l)?.[1] ?? l)
    .sort();
}

const API: Record<string, [string, string[]]> = {
  InterpreterManager: ["manager.d.ts", ["acquireOne", "allInstances", "close", "closed", "create", "loadPackage", "registerModuleSource", "sandboxed", "stats"]],
  InterpreterInstance: ["manager.d.ts", ["acquireSession", "index"]],
  Package: ["package.d.ts", ["archive", "closed", "id", "label", "limits", "loadBinary", "loadPickle", "loadText", "unload"]],
  ReplicatedObj: [
    "package.d.ts",
    ["acquireSession", "address", "call", "callKwargs", "callMethod", "callMethodKwargs", "getattr", "hasattr", "name", "packageName", "pkg", "resource", "unload", "withOptions"],
  ],
  InterpreterSession: ["session.d.ts", ["fromMovable", "global", "index", "release"]],
  PyObject: ["objects.d.ts", ["attr", "call", "callKwargs", "callMethod", "callMethodKwargs", "dispose", "disposed", "getattr", "hasattr", "interpreter", "pyType", "toJs"]],
};

describe("published type declarations", () => {
  for (const [cls, [file, api]] of Object.entries(API)) {
    it(`${cls} shows its documented members only`, () => {
      expect(members(file, cls)).toStrictEqual([...api].sort());
    });
  }

  it("no public declaration names a pool internal", () => {
    for (const file of ["index.d.ts", "manager.d.ts", "package.d.ts", "session.d.ts", "objects.d.ts"]) {
      const text = readFileSync(path.join(ROOT, "dist", file), "utf8");
      for (const word of ["pick(", "invoke(", "housekeeping", "weightBytes", "engineHost", "sessionOn", "makePackage", "openSession"]) {
        expect(text.includes(word) ? `${file}: ${word}` : "").toBe("");
      }
    }
  });
});
