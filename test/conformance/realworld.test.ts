// Real-world model code (issue 19), archives and results made by real PyTorch 1.13 and
// torchvision 0.14 (packages/make_realworld.py): torchvision's detectors (data-dependent shapes,
// torch.ops.torchvision.nms / roi_align, lists of dicts), torch.fx GraphModules, TorchScript
// submodules inside an eager model, dataclass and NamedTuple results. Floats within
// 1e-4 * max(1, max |torch|), integers (detection labels) exact, structure exact. Each model's
// calls run in order, then again: the repeats replay recordings (reads of data are guards), and
// must still give each call's own answer.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, type Package, PythonError, PyTuple, Tensor } from "wasmdeploy";
import { ROOT } from "../helpers.js";
import { differenceFromCommitted } from "../made-by-pytorch.js";
import { kind } from "../kind.js";
import { compare } from "./compare.js";

const DIR = path.join(ROOT, "packages", "models", "realworld");

interface Call {
  method: string | null;
  args: unknown;
  result: unknown;
  /** wasmdeploy must refuse this call with this Python exception (a construct it cannot run). */
  wasmdeploy_error?: { pyType: string; contains: string };
}
interface Entry {
  archive: string;
  pickle: string;
  covers: string;
  calls: Call[];
}
const catalog = JSON.parse(readFileSync(path.join(DIR, "realworld.json"), "utf8")) as { models: Record<string, Entry> };

const load = (file: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(DIR, file))));

/** realworld.json's encoding -> the value the host sends. */
function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("$npy" in o) return load(o.$npy as string);
    if ("$tuple" in o) return PyTuple.from_((o.$tuple as unknown[]).map(decode));
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

/** Checks a result against the expected encoding: same structure, tensors within tolerance. */
function check(got: unknown, want: unknown, what: string) {
  if (want !== null && typeof want === "object" && !Array.isArray(want)) {
    const o = want as Record<string, unknown>;
    if ("$npy" in o) {
      expect(got, `${what} is a tensor`).toBeInstanceOf(Tensor);
      compare(got as Tensor, load(o.$npy as string), what);
      return;
    }
    if ("$tuple" in o) {
      expect(got, `${what} is a tuple`).toBeInstanceOf(PyTuple);
      const items = o.$tuple as unknown[];
      expect((got as PyTuple).length, `${what} length`).toBe(items.length);
      items.forEach((w, i) => check((got as PyTuple)[i], w, `${what}[${i}]`));
      return;
    }
    expect(got !== null && typeof got === "object" && !Array.isArray(got) && !(got instanceof Tensor), `${what} is a plain object`).toBe(true);
    expect(Object.keys(got as object), `${what} keys`).toStrictEqual(Object.keys(o));
    for (const k of Object.keys(o)) check((got as Record<string, unknown>)[k], o[k], `${what}.${k}`);
    return;
  }
  if (Array.isArray(want)) {
    expect(Array.isArray(got) && !(got instanceof PyTuple), `${what} is a list`).toBe(true);
    expect((got as unknown[]).length, `${what} length`).toBe(want.length);
    want.forEach((w, i) => check((got as unknown[])[i], w, `${what}[${i}]`));
    return;
  }
  expect(got, what).toStrictEqual(want);
}

describe("real-world models match PyTorch", () => {
  let manager: InterpreterManager;
  const packages = new Map<string, Promise<Package>>();
  beforeAll(async () => {
    manager = await InterpreterManager.create({ ...kind, interpreters: 1, engine: "ort-node" });
  });
  afterAll(() => manager?.close());
  const pkg = (archive: string) => {
    let p = packages.get(archive);
    if (!p) packages.set(archive, (p = manager.loadPackage(path.join(DIR, archive))));
    return p;
  };

  for (const [name, m] of Object.entries(catalog.models)) {
    it(`${name}: ${m.covers.slice(0, 80)}...`, async () => {
      const obj = (await pkg(m.archive)).loadPickle("model", m.pickle.slice("model/".length));
      for (const round of [0, 1]) {
        for (const [i, c] of m.calls.entries()) {
          const args = decode(c.args) as unknown[];
          const run = () => (c.method === null ? obj.call(...args) : obj.callMethod(c.method, ...args));
          if (c.wasmdeploy_error) {
            const err = await run().then(() => undefined, (e: unknown) => e);
            expect(err, `${name} call ${i} must fail`).toBeInstanceOf(PythonError);
            expect((err as PythonError).pyType).toBe(c.wasmdeploy_error.pyType);
            expect((err as PythonError).pyMessage).toContain(c.wasmdeploy_error.contains);
            continue;
          }
          check(await run(), c.result, `${name} call ${i}${round ? " (again)" : ""}`);
        }
      }
    });
  }
});

// The committed archives and results are what real PyTorch makes (skipped without it).
const PYTHON = "/usr/bin/python3";
describe.runIf(spawnSync(PYTHON, ["-c", "import torch, torchvision"]).status === 0)("the real-world test models", () => {
  it("are reproduced by packages/make_realworld.py (byte for byte but for float32 rounding)", () => {
    const out = mkdtempSync(path.join(tmpdir(), "wasmdeploy-realworld-"));
    try {
      execFileSync(PYTHON, [path.join(ROOT, "packages/make_realworld.py"), "--out", out], { stdio: "pipe" });
      const files = readdirSync(DIR).sort();
      expect(readdirSync(out).sort()).toStrictEqual(files);
      for (const f of files) expect(differenceFromCommitted(f, readFileSync(path.join(out, f)), readFileSync(path.join(DIR, f))), f).toBeUndefined();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
