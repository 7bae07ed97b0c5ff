// The command line, run as a user runs it: `wasmdeploy inspect` against what real
// torch.package reported when it wrote each archive, `wasmdeploy call` and `wasmdeploy run`.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Tensor } from "wasmdeploy";
import { compare } from "./conformance/compare.js";
import { ROOT, archive, expectedFor } from "./helpers.js";
import { kindArgs } from "./kind.js";

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
      [CLI, "call", ...kindArgs, archive("tokenizer.pt"), "--pickle", "tok/tok.pkl", "--method", "encode", "--args", '["the lazy fox"]'],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    expect(JSON.parse(out)).toStrictEqual([4, 10, 7]);
  });

  it("exits 2 with usage on bad flags", () => {
    const r = spawnSync("node", [CLI, "call", ...kindArgs, archive("tokenizer.pt"), "--pickle", "nopath"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--pickle takes PACKAGE\/RESOURCE/);
  });
});

describe("wasmdeploy run", () => {
  const PYTHON = "/usr/bin/python3";
  const hasTorch = spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
  if (!hasTorch && process.env.CI) throw new Error("CI needs real PyTorch: apt-get install -y python3-torch");

  it("refuses a bad --interpreters with a usage error, before booting anything", () => {
    for (const bad of ["0", "-1", "two", "1.5"]) {
      const r = spawnSync("node", [CLI, "run", ...kindArgs, archive("tokenizer.pt"), "--pickle", "tok/tok.pkl", "--output", "/tmp/x.npy", `--interpreters=${bad}`], { encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--interpreters takes a positive whole number, got "${bad.replace(".", "\\.")}"`));
      expect(r.stderr).not.toMatch(/RangeError|\n\s+at /);
    }
    const c = spawnSync("node", [CLI, "call", ...kindArgs, archive("tokenizer.pt"), "--pickle", "tok/tok.pkl", "--interpreters", "0"], { encoding: "utf8" });
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/--interpreters takes a positive whole number/);
    // A value that looks like a flag is refused by the argument parser: a usage error as well.
    const d = spawnSync("node", [CLI, "call", ...kindArgs, archive("tokenizer.pt"), "--pickle", "tok/tok.pkl", "--interpreters", "-1"], { encoding: "utf8" });
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/--interpreters/);
  });

  it("writes a dataclass result field by field (Y.<field>.npy) and names the fields that are not tensors", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-cli-"));
    const rw = path.join(ROOT, "packages", "models", "realworld");
    try {
      const out = path.join(dir, "y.npy");
      const r = spawnSync("node", [CLI, "run", ...kindArgs, path.join(rw, "structured.pt"), "--pickle", "model/structured.pkl", "--input", path.join(rw, "structured.in0.npy"), "--output", out], { encoding: "utf8" });
      expect(r.stderr).toMatch(/item attention is None, not a tensor: not written/);
      expect(r.stderr).toMatch(/item n_tokens is number, not a tensor: not written/);
      expect(r.status).toBe(0);
      const load = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));
      compare(load(path.join(dir, "y.logits.npy")), load(path.join(rw, "structured.out0.npy")), "logits");
      compare(load(path.join(dir, "y.hidden.npy")), load(path.join(rw, "structured.out1.npy")), "hidden");
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // torchaudio's wav2vec2 returns (logits, None): run writes the tensors and names the rest.
  it.runIf(hasTorch)("writes the tensors of a tuple result that holds None, and says which items were not tensors", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-cli-"));
    try {
      writeFileSync(
        path.join(dir, "pair_model.py"),
        "import torch\nclass Pair(torch.nn.Module):\n    def forward(self, x):\n        return (x * 2 + 1, None, torch.relu(x - 0.5))\n",
      );
      const make = [
        "import sys, numpy, torch, torch.package",
        `sys.path.insert(0, ${JSON.stringify(dir)})`,
        "import pair_model",
        "torch.manual_seed(0)",
        "x = torch.randn(2, 3)",
        `d = ${JSON.stringify(dir)}`,
        "with torch.package.PackageExporter(d + '/pair.pt') as e:",
        "    e.extern('torch.**'); e.intern('pair_model'); e.save_pickle('model', 'model.pkl', pair_model.Pair())",
        "y = pair_model.Pair()(x)",
        "numpy.save(d + '/x.npy', x.numpy()); numpy.save(d + '/y0.npy', y[0].numpy()); numpy.save(d + '/y2.npy', y[2].numpy())",
      ].join("\n");
      execFileSync(PYTHON, ["-c", make], { stdio: "pipe" });
      const out = path.join(dir, "y.npy");
      const r = spawnSync("node", [CLI, "run", ...kindArgs, path.join(dir, "pair.pt"), "--pickle", "model/model.pkl", "--input", path.join(dir, "x.npy"), "--output", out], { encoding: "utf8" });
      expect(r.stderr).toMatch(/item 1 is None, not a tensor: not written/);
      expect(r.status).toBe(0);
      const load = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));
      compare(load(out), load(path.join(dir, "y0.npy")), "item 0");
      compare(load(path.join(dir, "y.2.npy")), load(path.join(dir, "y2.npy")), "item 2");
      expect(existsSync(path.join(dir, "y.1.npy"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
