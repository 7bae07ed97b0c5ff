// The edge project with numpy (issue 21): `wasmdeploy edge` with an archive that externs numpy
// ships the sci build (python-sci.wasm, chosen from the archive's extern list), and workerd
// (npm's binary) serves the archive's forward through numpy as real PyTorch computes it
// (packages/archives/numpy/expected.json, made by packages/make_numpy_archives.py).

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProject, freePort, ROOT, startWorkerd, waitUntilUp, type Workerd } from "./workerd.js";

const ARCHIVES = path.join(ROOT, "packages", "archives", "numpy");
const expected = JSON.parse(readFileSync(path.join(ARCHIVES, "expected.json"), "utf8")) as { calls: { archive: string; input?: number[][]; result: unknown }[] };
const out = mkdtempSync(path.join(tmpdir(), "wasmdeploy-edge-numpy-"));
let w: Workerd | undefined;

describe("workerd serves an archive that externs numpy (the sci build)", () => {
  beforeAll(async () => {
    const port = await freePort();
    buildProject(["--model", `npf=${path.join(ARCHIVES, "np_forward.pt")}:model/model.pkl`, "--out", path.join(out, "project"), "--port", String(port)]);
    w = startWorkerd(path.join(out, "project"), port);
    await waitUntilUp(w);
  }, 180_000);

  afterAll(async () => {
    await w?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("the project carries python-sci.wasm (as python.wasm)", () => {
    expect(statSync(path.join(out, "project", "python.wasm")).size).toBe(statSync(path.join(ROOT, "wasm", "python-sci.wasm")).size);
  });

  it("np_forward.pt (np.asarray(x.tolist()), numpy math, torch.tensor) matches PyTorch", async () => {
    const c = expected.calls.find((x) => x.archive === "np_forward.pt")!;
    const x = c.input!;
    const body = JSON.stringify({ inputs: [{ name: "INPUT__0", shape: [x.length, x[0]!.length], datatype: "FP32", data: x.flat() }] });
    const r = await fetch(`${w!.url}/v2/models/npf/infer`, { method: "POST", body, headers: { "content-type": "application/json" } });
    const res = (await r.json()) as { outputs: { shape: number[]; datatype: string; data: number[] }[]; error?: string };
    expect(r.status, `${res.error ?? ""}\n${w!.log()}`).toBe(200);
    const want = c.result as number[][];
    expect(res.outputs[0]!.shape).toEqual([want.length, want[0]!.length]);
    const worst = want.flat().reduce((m, v, i) => Math.max(m, Math.abs(res.outputs[0]!.data[i]! - v)), 0);
    expect(worst).toBeLessThan(1e-5);
  }, 120_000);
});
