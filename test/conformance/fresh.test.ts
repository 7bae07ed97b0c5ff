// Models that are not in the committed suite, packaged now by real PyTorch (full-size
// torchvision resnet18 at 224x224 among them), must give PyTorch's output through the
// command line a user runs: `wasmdeploy run`. Needs Debian's python3-torch (.ci/run
// installs it; under CI its absence is a failure).

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Tensor } from "wasmdeploy";
import { ROOT } from "../helpers.js";
import { compare } from "./compare.js";
import { kindArgs } from "../kind.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, torchvision"]).status === 0;
if (!hasTorch && process.env.CI) throw new Error("CI needs real PyTorch: apt-get install -y python3-torch python3-torchvision");
const out = mkdtempSync(path.join(tmpdir(), "wasmdeploy-fresh-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const CLI = path.join(ROOT, "dist", "cli", "main.js");
const cases: [string, number, string][] = [
  ["resnet18", 224, "ort-node"],
  ["mobilenet_v3_large", 96, "ort-node"],
  ["regnet_y_400mf", 64, "ort-web"],
];

describe.runIf(hasTorch)("models packaged at test time by real PyTorch, through `wasmdeploy run`", () => {
  for (const [name, size, engine] of cases) {
    it(`${name} at ${size}x${size} on ${engine}`, () => {
      execFileSync(PYTHON, [path.join(ROOT, "packages", "make_torchvision_model.py"), name, out, "--size", String(size), "--seed", "7"], { stdio: "pipe" });
      const y = path.join(out, `${name}.${engine}.y.npy`);
      execFileSync(
        "node",
        [CLI, "run", ...kindArgs, path.join(out, `${name}.pt`), "--pickle", "model/model.pkl", "--input", path.join(out, `${name}.input.npy`), "--output", y, "--engine", engine],
        { stdio: "pipe" },
      );
      const load = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));
      compare(load(y), load(path.join(out, `${name}.expected.npy`)), name);
    });
  }
});
