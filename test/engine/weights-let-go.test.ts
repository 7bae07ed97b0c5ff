// A package read from a file holds its weights once: after the one session of a big graph has
// baked them in, their bytes in shared memory are let go, and read again from the file (checked
// against the archive's CRC-32) when another compile or a Python read needs them. A file
// rewritten in place in the meantime is refused with an error that says to load it again; the
// sessions already made keep serving. Needs Debian's python3-torch (resnet18 packaged now).

import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InterpreterManager, PythonError, Tensor } from "wasmdeploy";
import * as testing from "wasmdeploy/testing";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import { kind } from "../kind.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, torchvision"]).status === 0;
if (!hasTorch && process.env.CI) throw new Error("CI needs real PyTorch: apt-get install -y python3-torch python3-torchvision");
const out = mkdtempSync(path.join(tmpdir(), "wasmdeploy-letgo-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const load = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));
/** Batch 1 k times along the batch axis (eval mode: each row is computed alone). */
const times = (t: Tensor, k: number) => {
  const data = new Float32Array(t.data.length * k);
  for (let i = 0; i < k; i++) data.set(t.data as Float32Array, i * t.data.length);
  return new Tensor("float32", data, [k, ...t.shape.slice(1)]);
};
const twice = (t: Tensor) => times(t, 2);
const MB = 2 ** 20;

// Reads a weight's values in Python, the way model code inspecting its parameters does.
const READER = "def fc_sum(m):\n    return float(m.fc.weight.sum())\n";

describe.runIf(hasTorch)("weights of a package read from a file", () => {
  execFileSync(PYTHON, [path.join(ROOT, "packages", "make_torchvision_model.py"), "resnet18", out, "--size", "64", "--seed", "3"], { stdio: "pipe" });
  const archive = path.join(out, "resnet18.pt");
  const x = load(path.join(out, "resnet18.input.npy"));
  const want = load(path.join(out, "resnet18.expected.npy"));
  const fcSum = Number(
    execFileSync(PYTHON, ["-c", `from torch.package import PackageImporter\nm = PackageImporter(${JSON.stringify(archive)}).load_pickle("model", "model.pkl")\nprint(float(m.fc.weight.sum()))`]).toString(),
  );

  it("are let go once baked into the session, and read again for a new compile and a Python read", async () => {
    const copy = path.join(out, "served.pt");
    copyFileSync(archive, copy);
    const m = await InterpreterManager.create({ ...kind, interpreters: 1, onOutput: () => {} });
    try {
      await m.registerModuleSource("readw", READER);
      const model = (await m.loadPackage(copy)).loadPickle("model", "model.pkl");
      compare((await model.call(x)) as Tensor, want, "batch 1");
      // resnet18's 45 MB of weights: in the session only.
      expect((await testing.engineState(m)).weightBytes).toBeLessThan(1 * MB);
      expect(m.stats().engineBytes.weights).toBeLessThan(1 * MB);
      // A deploy renames a new file over the path: the open file still reads the old one.
      writeFileSync(path.join(out, "other.pt"), "not an archive");
      renameSync(path.join(out, "other.pt"), copy);
      // Batch 2 is another graph: compiled from the weights read again, then let go again.
      compare((await model.call(twice(x))) as Tensor, twice(want), "batch 2");
      expect((await testing.engineState(m)).weightBytes).toBeLessThan(1 * MB);
      // Python reads a weight's values: read again from the file, exact.
      const session = await m.acquireOne();
      try {
        const f = await session.global("readw", "fc_sum");
        const got = (await f.call(await session.fromMovable(model))) as number;
        expect(Math.abs(got - fcSum)).toBeLessThan(1e-3 * Math.max(1, Math.abs(fcSum)));
      } finally {
        await session.release();
      }
      compare((await model.call(x)) as Tensor, want, "batch 1 again");
    } finally {
      await m.close();
    }
  }, 180_000);

  it("are read again by compiles that race each other, on two interpreters and two engine threads", async () => {
    const m = await InterpreterManager.create({ ...kind, interpreters: 2, engineWorkers: 2, onOutput: () => {} });
    try {
      const model = (await m.loadPackage(archive)).loadPickle("model", "model.pkl");
      compare((await model.call(x)) as Tensor, want, "batch 1");
      expect((await testing.engineState(m)).weightBytes).toBeLessThan(1 * MB);
      // Batches 2 to 4 at once, twice each: three compiles over weights let go, and their evictions.
      const ks = [2, 3, 4, 2, 3, 4, 1];
      const ys = await Promise.all(ks.map((k) => model.call(times(x, k))));
      ys.forEach((y, i) => compare(y as Tensor, times(want, ks[i]!), `batch ${ks[i]}`));
      expect((await testing.engineState(m)).weightBytes).toBeLessThan(1 * MB);
    } finally {
      await m.close();
    }
  }, 180_000);

  it("refuses a file rewritten in place, names the fix, and keeps serving what it compiled", async () => {
    const copy = path.join(out, "rewritten.pt");
    copyFileSync(archive, copy);
    const m = await InterpreterManager.create({ ...kind, interpreters: 1, onOutput: () => {} });
    try {
      const pkg = await m.loadPackage(copy);
      const model = pkg.loadPickle("model", "model.pkl");
      compare((await model.call(x)) as Tensor, want, "batch 1");
      // Same size, other bytes, same inode: what an in-place copy over the file does.
      const bytes = readFileSync(copy);
      for (let i = 0; i < bytes.length; i += 4096) bytes[i] = bytes[i]! ^ 0xff;
      writeFileSync(copy, bytes);
      const err = await model.call(twice(x)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PythonError);
      expect((err as Error).message).toMatch(/no longer what it was when the package was loaded.*load the package again/s);
      // The session baked before serves on, and a package loaded again from a good file works.
      compare((await model.call(x)) as Tensor, want, "batch 1 after the refusal");
      await pkg.unload();
      copyFileSync(archive, copy);
      const again = (await m.loadPackage(copy)).loadPickle("model", "model.pkl");
      compare((await again.call(twice(x))) as Tensor, twice(want), "batch 2, loaded again");
    } finally {
      await m.close();
    }
  }, 180_000);
});
