// numpy's own tests inside the WASI interpreter's sci build (issue 21): a few of numpy 1.24.2's
// test modules that need no threads, fork or files, taken from Debian's numpy (the same
// version), run by a small pytest stand-in (fixtures/mini_pytest.py: the interpreter has no
// pytest) in the interpreter and, the same way, under /usr/bin/python3 with Debian's numpy.
// Every test must end as it ends there, except where numpy itself skips a test on wasm.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager } from "wasmdeploy";
import { ROOT } from "../helpers.js";

const NUMPY = "/usr/lib/python3/dist-packages/numpy";
const RUNNER = path.join(ROOT, "test", "wasi", "fixtures", "mini_pytest.py");
// Modules that run in seconds there; numpy.linalg's (268 tests, all but numpy's own wasm skips
// matching) takes minutes, too long for every CI run.
const MODULES = [
  "lib/tests/test_arraysetops.py",
  "lib/tests/test_index_tricks.py",
  "lib/tests/test_shape_base.py",
  "core/tests/test_shape_base.py",
  "fft/tests/test_pocketfft.py",
  "random/tests/test_generator_mt19937.py",
];

/**
 * numpy's own skips for this platform (its IS_WASM marks: "Cannot start thread", "fp errors don't
 * work in wasm", ...; and "Needs 64bit platform"): a test that passes on the host may skip here
 * with one of these reasons, and with no other.
 */
const PLATFORM_SKIP = /wasm|64 ?bit|subprocess|fork|thread/i;

function hostOutcomes(file: string): Record<string, string> {
  const code = `import json, sys\nsys.path.insert(0, ${JSON.stringify(path.dirname(RUNNER))})\nimport mini_pytest\nprint(json.dumps(mini_pytest.run_module(sys.argv[1], open(sys.argv[2]).read())))`;
  const r = spawnSync("/usr/bin/python3", ["-c", code, moduleName(file), path.join(NUMPY, file)], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`host run of ${file} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

const moduleName = (file: string) => `numpy.${file.slice(0, -3).replaceAll("/", ".")}`;

describe("numpy's own tests in the sci build match Debian's numpy", () => {
  let manager: InterpreterManager;

  beforeAll(async () => {
    manager = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", wasiBuild: "sci", callTimeoutMs: 600_000, onOutput: () => {} });
    await manager.registerModuleSource("mini_pytest", readFileSync(RUNNER, "utf8"));
  });
  afterAll(async () => {
    await manager?.close();
  });

  for (const file of MODULES) {
    it(`${moduleName(file)}: every test ends as under Debian's numpy`, { timeout: 900_000 }, async () => {
      const want = hostOutcomes(file);
      const s = await manager.acquireOne();
      let got: Record<string, string>;
      try {
        got = (await (await s.global("mini_pytest", "run_module")).call(moduleName(file), readFileSync(path.join(NUMPY, file), "utf8"))) as Record<string, string>;
      } finally {
        await s.release();
      }
      const passed = Object.values(want).filter((v) => v === "passed").length;
      expect(passed).toBeGreaterThan(40); // the module really ran on the host
      const platformSkip = (id: string) => want[id] === "passed" && /^skipped: /.test(got[id] ?? "") && PLATFORM_SKIP.test(got[id]!);
      const diffs = Object.keys(want)
        .filter((id) => got[id] !== want[id] && !platformSkip(id))
        .map((id) => `${id}: ${got[id] ?? "missing"} (host: ${want[id]})`);
      expect(diffs).toEqual([]);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      // Most of them really ran and passed here too.
      expect(Object.values(got).filter((v) => v === "passed").length).toBeGreaterThan(passed * 0.9);
    });
  }
});
