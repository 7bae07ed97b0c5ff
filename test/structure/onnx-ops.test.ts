// The recorder and the engine's allow-list agree: runtime/torch/_graph.py's ONNX_OPS (the ops
// the torch layer may record, enforced as it records) lists exactly the ops graph admission
// accepts (src/engine/admission/ops.ts), so no op the layer records is refused at run time and
// no op is admitted that the layer never records.

import { type Dirent, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OP_RULES } from "../../src/engine/admission/ops.js";
import { ROOT } from "../helpers.js";

function recorderOps(): string[] {
  const text = readFileSync(path.join(ROOT, "runtime", "torch", "_graph.py"), "utf8");
  const set = /^ONNX_OPS = frozenset\(\(\n([\s\S]*?)^\)\)/m.exec(text);
  if (!set) throw new Error("_graph.py has no ONNX_OPS = frozenset((...)) set");
  return [...set[1]!.matchAll(/"([A-Za-z0-9]+)"/g)].map((m) => m[1]!);
}

/** Every op name the torch layer's sources spell out as a string. */
function spelledOps(): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }) as Dirent[]) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".py")) {
        // The ONNX_OPS set itself does not count: an op must be spelled where it is recorded.
        const text = readFileSync(p, "utf8").replace(/^ONNX_OPS = frozenset\(\(\n[\s\S]*?^\)\)/m, "");
        for (const m of text.matchAll(/"([A-Z][A-Za-z0-9]+)"/g)) found.add(m[1]!);
      }
    }
  };
  walk(path.join(ROOT, "runtime", "torch"));
  return found;
}

describe("ONNX ops", () => {
  it("the recorder's ONNX_OPS and admission's allow-list are the same set", () => {
    const py = recorderOps();
    expect(py.length).toBeGreaterThan(50);
    expect(new Set(py).size).toBe(py.length);
    expect([...py].sort()).toStrictEqual(Object.keys(OP_RULES).sort());
  });

  it("every allowed op is spelled somewhere in the torch layer (none is allowed for nothing)", () => {
    const spelled = spelledOps();
    const unused = Object.keys(OP_RULES).filter((op) => !spelled.has(op));
    expect(unused).toStrictEqual([]);
  });
});
