// The committed archives are reproducible from packages/make_archives.py with real
// PyTorch, and an archive made here, now, by real PyTorch (so not one in the repo)
// gives through wasmdeploy what it gives in CPython. Needs Debian's python3-torch;
// .ci/run installs it, and under CI its absence is a failure, not a skip.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InterpreterManager } from "wasmdeploy";
import { ARCHIVES, ROOT, fromExpected } from "./helpers.js";
import { kind } from "./kind.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
if (!hasTorch) {
  if (process.env.CI) throw new Error("CI needs real PyTorch: apt-get install -y python3-torch python3-torchvision");
  console.warn("fixtures.test.ts: /usr/bin/python3 has no torch; install python3-torch to run these checks");
}
const tmp = mkdtempSync(path.join(tmpdir(), "wasmdeploy-fixtures-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.runIf(hasTorch)("archives made by real PyTorch", () => {
  it("regenerates byte-identical archives and expectations", () => {
    const out = path.join(tmp, "regen");
    execFileSync(PYTHON, [path.join(ROOT, "packages", "make_archives.py"), "--out", out], { stdio: "pipe" });
    expect(JSON.parse(readFileSync(path.join(out, "expected.json"), "utf8"))).toStrictEqual(
      JSON.parse(readFileSync(path.join(ARCHIVES, "expected.json"), "utf8")),
    );
    // Every good archive, faults.pt among them (the browser suite serves it too).
    const made = readdirSync(out).filter((f) => f.endsWith(".pt"));
    expect(made).toContain("faults.pt");
    for (const f of made) {
      expect(Buffer.compare(readFileSync(path.join(out, f)), readFileSync(path.join(ARCHIVES, f))), f).toBe(0);
    }
  });

  it("runs a freshly packaged class with methods exactly as CPython does", async () => {
    const src = path.join(tmp, "fresh_src");
    const script = `
import json, os, sys, random
sys.path.insert(0, ${JSON.stringify(src)})
os.makedirs(${JSON.stringify(src)} + "/fresh_mod", exist_ok=True)
seed = random.Random().randrange(1, 10**6)  # new numbers every run: nothing to hard-code
open(${JSON.stringify(src)} + "/fresh_mod/__init__.py", "w").write(f'''
import math, collections
from .scoring import weight
class Scorer:
    def __init__(self, words):
        self.words = list(words)
        self.seed = {seed}
    def score(self, text):
        c = collections.Counter(text.split())
        return sum(weight(w, self.seed) * n for w, n in c.items() if w in self.words)
    def top(self, k):
        return sorted(((w, weight(w, self.seed)) for w in self.words), key=lambda p: (-p[1], p[0]))[:k]
    def norm(self):
        return math.sqrt(sum(weight(w, self.seed) ** 2 for w in self.words))
''')
open(${JSON.stringify(src)} + "/fresh_mod/scoring.py", "w").write('''
def weight(word, seed):
    return (sum(map(ord, word)) * seed) % 997
''')
from torch.package import PackageExporter, PackageImporter
import fresh_mod
obj = fresh_mod.Scorer(["alpha", "beta", "gamma", "delta"])
path = ${JSON.stringify(path.join(tmp, "fresh.pt"))}
with PackageExporter(path) as e:
    e.intern("fresh_mod.**")
    e.save_pickle("fresh", "scorer.pkl", obj)
loaded = PackageImporter(path).load_pickle("fresh", "scorer.pkl")
print(json.dumps({"score": loaded.score("alpha beta alpha zeta"), "top": [list(p) for p in loaded.top(2)], "norm": loaded.norm()}))
`;
    writeFileSync(path.join(tmp, "fresh.py"), script);
    const cpython = JSON.parse(execFileSync(PYTHON, [path.join(tmp, "fresh.py")], { encoding: "utf8" })) as {
      score: number;
      top: [string, number][];
      norm: number;
    };
    const manager = await InterpreterManager.create({ ...kind, interpreters: 2 });
    try {
      const scorer = (await manager.loadPackage(path.join(tmp, "fresh.pt"))).loadPickle("fresh", "scorer.pkl");
      expect(await scorer.callMethod("score", "alpha beta alpha zeta")).toBe(cpython.score);
      expect(await scorer.callMethod("top", 2)).toStrictEqual(cpython.top.map((p) => fromExpected({ $tuple: p })));
      expect(await scorer.callMethod("norm")).toBe(cpython.norm);
    } finally {
      await manager.close();
    }
  });
});
