// The command line, run as a user runs it: `wasmdeploy inspect` against what real
// torch.package reported when it wrote each archive, and `wasmdeploy call`.

import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, archive, expectedFor } from "./helpers.js";

const CLI = path.join(ROOT, "dist", "cli", "main.js");
const expected = expectedFor("expected.json");

describe("wasmdeploy inspect", () => {
  for (const [file, exp] of Object.entries(expected)) {
    it(`lists ${file} as torch.package wrote it`, () => {
      const report = JSON.parse(execFileSync("node", [CLI, "inspect", archive(file), "--json"], { encoding: "utf8" }));
      expect(report.root).toBe(exp.root);
      expect(report.pythonVersion).toBe(exp.python_version);
      expect([...report.interned].sort()).toStrictEqual(exp.inspect.interned);
      expect([...report.extern].sort()).toStrictEqual(exp.inspect.extern);
      expect([...report.mocked].sort()).toStrictEqual(exp.inspect.mocked);
      expect([...report.pickles].sort()).toStrictEqual([...exp.inspect.pickles].sort());
      expect([...report.resources].sort()).toStrictEqual([...exp.inspect.resources].sort());
      expect(report.storages.count).toBe(exp.inspect.storages);
    });
  }

  it("prints a readable report and fails clearly on a bad archive", () => {
    const text = execFileSync("node", [CLI, "inspect", archive("extern_mock.pt")], { encoding: "utf8" });
    expect(text).toMatch(/mocked \(1\)\s+fancy_dep/);
    const bad = spawnSync("node", [CLI, "inspect", archive("bad/traversal.pt")], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/PackageFormatError: .*unsafe entry name/);
  });
});

describe("wasmdeploy call", () => {
  it("calls a pickled object's method and prints JSON", () => {
    const out = execFileSync(
      "node",
      [CLI, "call", archive("tokenizer.pt"), "--pickle", "tok/tok.pkl", "--method", "encode", "--args", '["the lazy fox"]'],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    expect(JSON.parse(out)).toStrictEqual([4, 10, 7]);
  });

  it("exits 2 with usage on bad flags", () => {
    const r = spawnSync("node", [CLI, "call", archive("tokenizer.pt"), "--pickle", "nopath"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--pickle takes PACKAGE\/RESOURCE/);
  });
});
