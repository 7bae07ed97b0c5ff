// The browser suite serves committed files (global-setup.ts), so it needs neither PyTorch nor
// Python. They are in the repository, small, and what real PyTorch makes: with Debian's
// python3-torch on /usr/bin/python3 (.ci/run installs it; under CI its absence is a failure),
// packages/make_models.py makes every committed model again, byte for byte. faults.pt is
// checked the same way by test/fixtures.test.ts.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { servedFiles } from "./global-setup.js";
import { differenceFromCommitted } from "../made-by-pytorch.js";
import { ROOT } from "./paths.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, torchvision"]).status === 0;
if (!hasTorch) {
  if (process.env.CI) throw new Error("CI needs real PyTorch: apt-get install -y python3-torch python3-torchvision");
  console.warn("files.test.ts: /usr/bin/python3 has no torch; install python3-torch python3-torchvision to check the committed models");
}
const tmp = mkdtempSync(path.join(tmpdir(), "wasmdeploy-browser-files-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the browser suite's files", () => {
  it("are committed, and small", () => {
    const files = servedFiles();
    for (const f of files) expect(existsSync(path.join(ROOT, f)), f).toBe(true);
    // Every browser run loads them into Chromium; a few MB keeps the clone and the suite light.
    expect(files.reduce((n, f) => n + statSync(path.join(ROOT, f)).size, 0)).toBeLessThan(3 * 2 ** 20);
  });

  it.runIf(hasTorch)("are what packages/make_models.py makes, with every other committed model", () => {
    const out = path.join(tmp, "models");
    execFileSync(PYTHON, [path.join(ROOT, "packages", "make_models.py"), "--out", out], { stdio: "pipe" });
    const committed = path.join(ROOT, "packages", "models");
    const index = JSON.parse(readFileSync(path.join(committed, "models.json"), "utf8")) as { models: { file: string; inputs: { file: string }[]; outputs: { file: string }[] }[] };
    const made = ["models.json", ...index.models.flatMap((m) => [m.file, ...m.inputs.map((f) => f.file), ...m.outputs.map((f) => f.file)])];
    for (const f of servedFiles().filter((f) => f.startsWith("packages/models/"))) expect(made).toContain(path.basename(f));
    for (const f of made) expect(differenceFromCommitted(f, readFileSync(path.join(out, f)), readFileSync(path.join(committed, f))), f).toBeUndefined();
  });
});
