// The interpreter component itself (interpreter: "component"): that wasm/python.component.wasm
// is a component of wit/interpreter.wit's world, that what it imports from its host is WASI 0.2's
// command-line, clock, file, I/O and random interfaces plus our `host` interface and nothing else
// (no sockets, no HTTP), and that an instance serves Python through the world's exports. The
// shared suites (conformance, pool, faults, hostile) run on this kind through vitest's
// "component" project.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager } from "../../dist/index.js";
import { COMPONENT } from "../kind.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const COMPONENT_WASM = path.join(ROOT, "wasm", "python.component.wasm");
const JCO = path.join(ROOT, "node_modules", ".bin", "jco");

describe.runIf(COMPONENT)("the interpreter component", () => {
  it("is a component of wit/interpreter.wit's world", () => {
    const wit = execFileSync(JCO, ["wit", COMPONENT_WASM], { encoding: "utf8" });
    for (const f of ["init: func() -> s32", "after-init: func(eager: bool) -> s32", "call: func(request: list<u8>) -> list<u8>", "set-limit: func(pages: u32)", "raise-signal: func(sig: s32)"]) {
      expect(wit).toContain(`export ${f};`);
    }
    expect(wit).toMatch(/import wasmdeploy:interpreter\/host@0\.1\.0;/);
    // Every export the WIT declares, and no other.
    const declared = readFileSync(path.join(ROOT, "wit", "interpreter.wit"), "utf8");
    const names = (text: string) => [...text.matchAll(/^\s*export ([a-z-]+): func/gm)].map((m) => m[1]).sort();
    expect(names(wit)).toEqual(names(declared));
  });

  it("imports WASI 0.2's cli, clocks, filesystem, io and random, our host interface, and nothing else", () => {
    const wit = execFileSync(JCO, ["wit", COMPONENT_WASM], { encoding: "utf8" });
    const imports = [...wit.matchAll(/^\s*import ([a-z-]+:[a-z-]+\/[a-z-]+)(@[0-9.]+)?;/gm)].map((m) => m[1]!);
    expect(imports.length).toBeGreaterThan(3);
    for (const i of imports) expect(i).toMatch(/^(wasi:(cli|clocks|filesystem|io|random)\/|wasmdeploy:interpreter\/host$)/);
    expect(imports.some((i) => i.startsWith("wasi:sockets") || i.startsWith("wasi:http"))).toBe(false);
  });

  describe("an instance", () => {
    let m: InterpreterManager;
    beforeAll(async () => {
      m = await InterpreterManager.create({ interpreters: 1, interpreter: "component", onOutput: () => {} });
    });
    afterAll(async () => {
      await m?.close();
    });

    it("boots cold (no snapshot) and runs Python through the world's call export", async () => {
      expect(m.stats().boot.snapshot).toBe("none");
      await m.registerModuleSource("comp_probe", "import sys\ndef f(x):\n    return [sys.platform, sys.version_info[:2], x * 2]\n");
      const s = await m.acquireOne();
      try {
        const f = await s.global("comp_probe", "f");
        expect(await f.call(21)).toEqual(["wasi", [3, 11], 42]);
      } finally {
        await s.release();
      }
    });

    it("sees a read-only file system, no environment and no arguments but its name", async () => {
      await m.registerModuleSource(
        "comp_fs",
        [
          "import os, sys",
          "def probe():",
          "    out = {'env': dict(os.environ), 'argv': list(sys.argv), 'root': sorted(os.listdir('/'))}",
          "    for path in ('/lib/new.txt', '/runtime/x.py', '/tmp.txt'):",
          "        try:",
          "            open(path, 'w').write('x')",
          "            out[path] = 'written'",
          "        except OSError as e:",
          "            out[path] = type(e).__name__",
          "    try:",
          "        open('/etc/passwd').read()",
          "        out['passwd'] = 'read'",
          "    except OSError as e:",
          "        out['passwd'] = type(e).__name__",
          "    return out",
        ].join("\n"),
      );
      const s = await m.acquireOne();
      try {
        const r = (await (await s.global("comp_fs", "probe")).call()) as Record<string, unknown>;
        expect(r.env).toEqual({});
        expect(r.root).toEqual(["lib", "runtime"]);
        for (const p of ["/lib/new.txt", "/runtime/x.py", "/tmp.txt"]) expect(r[p]).not.toBe("written");
        expect(r.passwd).toBe("FileNotFoundError");
      } finally {
        await s.release();
      }
    });
  });
});
