// Host replay (src/pool/host-replay.ts): after a call replayed a one-graph trace, the host answers
// the next calls with the same argument signature alone, until anything else reaches that
// interpreter. Every result must still be real PyTorch's (packages/make_host_replay_models.py
// made the archives and the results), whatever the host changed in between: an attribute, another
// method's effect, a non-tensor argument, which arguments are the same tensor, an unload.
// ManagerStats.hostReplays shows that the host did answer (a count, not a timing).

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectGarbage } from "../../dist/platform/node/collect-garbage.js";
import { ClosedError, InterpreterManager, PyTuple, Tensor } from "wasmdeploy";
import type { ReplicatedObj } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import { kind } from "../kind.js";

type Enc =
  | { tensor: { dtype: "float32"; shape: number[]; data: number[] } }
  | { tuple: Enc[] }
  | { dict: Record<string, Enc> }
  | { same: number }
  | Enc[]
  | number
  | boolean
  | string
  | null;
interface CallStep {
  method: string | null;
  args: Enc[];
  kwargs: Record<string, Enc>;
  expected: Enc;
}
interface SetStep {
  setattr: string;
  value: number;
}
type Step = CallStep | SetStep;
interface Model {
  name: string;
  file: string;
  pickle: [string, string];
  steps: Step[];
}

const DIR = path.join(ROOT, "packages/models/host_replay");
const catalog = (JSON.parse(readFileSync(path.join(DIR, "steps.json"), "utf8")) as { models: Model[] }).models;
const model = (name: string) => catalog.find((m) => m.name === name)!;
const calls = (m: Model) => m.steps.filter((s): s is CallStep => "expected" in s);

const isObj = (v: Enc): v is Exclude<Enc, number | boolean | string | null | Enc[]> => typeof v === "object" && v !== null && !Array.isArray(v);
const tensorOf = (v: { tensor: { shape: number[]; data: number[] } }) => new Tensor("float32", new Float32Array(v.tensor.data), v.tensor.shape);

function args(step: CallStep): unknown[] {
  const out: unknown[] = [];
  for (const a of step.args) out.push(isObj(a) && "same" in a ? out[a.same] : isObj(a) && "tensor" in a ? tensorOf(a) : a);
  return out;
}

function check(got: unknown, want: Enc, what: string): void {
  if (isObj(want) && "tensor" in want) {
    expect(got, what).toBeInstanceOf(Tensor);
    compare(got as Tensor, tensorOf(want), what);
  } else if (isObj(want) && "tuple" in want) {
    expect(got, `${what} is a tuple`).toBeInstanceOf(PyTuple);
    expect((got as unknown[]).length, `${what} length`).toBe(want.tuple.length);
    want.tuple.forEach((w, i) => check((got as unknown[])[i], w, `${what}[${i}]`));
  } else if (isObj(want) && "dict" in want) {
    expect(Object.keys(got as object).sort(), `${what} keys`).toEqual(Object.keys(want.dict).sort());
    for (const [k, w] of Object.entries(want.dict)) check((got as Record<string, unknown>)[k], w, `${what}.${k}`);
  } else {
    expect(got, what).toEqual(want);
  }
}

const hostReplays = (m: InterpreterManager) => m.stats().interpreters.reduce((n, i) => n + (i.hostReplays ?? 0), 0);

/** Runs a model's steps; returns how many calls the host answered at each step. */
async function run(manager: InterpreterManager, m: Model, obj: ReplicatedObj): Promise<number[]> {
  const answered: number[] = [];
  for (const [i, step] of m.steps.entries()) {
    const before = hostReplays(manager);
    if ("setattr" in step) {
      const session = await manager.acquireOne();
      try {
        const setattr = await session.global("builtins", "setattr");
        await setattr.call(await session.fromMovable(obj), step.setattr, step.value);
      } finally {
        await session.release();
      }
    } else {
      const a = args(step);
      const got = step.method ? await obj.callMethodKwargs(step.method, a, step.kwargs) : await obj.callKwargs(a, step.kwargs);
      check(got, step.expected, `${m.name} step ${i}`);
    }
    answered.push(hostReplays(manager) - before);
  }
  return answered;
}

describe.each(["trusted", "sandboxed"] as const)("host replay matches PyTorch on every call (%s)", (isolation) => {
  let manager: InterpreterManager;
  beforeAll(async () => {
    manager = await InterpreterManager.create({ ...kind, interpreters: 1, isolation });
  });
  afterAll(() => manager?.close());

  it("answers repeat calls on the host, and enters Python again after a setattr, another method, a new argument value", async () => {
    const m = model("scaled");
    const obj = (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
    const answered = await run(manager, m, obj);
    // Per step: 1 = the host answered. A signature's first call runs plain (the site has done no
    // tensor work yet), the second records and hands the host its plan; then the host answers
    // until something reaches Python: the host's setattr, set_scale, a new signature (k, batch).
    // prettier-ignore
    expect(answered).toEqual([
      0, 0, 1, 1, 1, 1, // x at batch 2, new tensors each call: the host answers from the 3rd
      0, // setattr scale = 3.0 (reaches Python)
      0, 1, 1, // Python sees the changed state (fingerprint): records again; then the host
      0, // set_scale(0.5)
      0, 1, 1, // the same
      0, 1, 1, // k=2: a new signature
      0, 1, // k=2.5: another
      0, 1, // k=2 again: Python replays its trace, then the host
      0, 1, 1, // batch 3
      0, 1, // batch 2, k=1 again
    ]);
  });

  it("tells one tensor passed twice from two tensors (an in-place change shows through both in PyTorch)", async () => {
    const m = model("pair");
    const obj = (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
    const answered = await run(manager, m, obj);
    // two, two, two, two, one twice (a new signature), ..., two again (Python replays, then the host), one twice
    expect(answered).toEqual([0, 0, 1, 1, 0, 1, 1, 0, 1, 0]);
  });

  it("builds results of every kind: tensors (one twice), a buffer, numbers, bools, None, strings", async () => {
    const m = model("mixed");
    const obj = (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
    const answered = await run(manager, m, obj);
    expect(answered).toEqual([0, 0, 1, 1, 1]);
  });

  it("frees a disposed handle once: collected later, it sends nothing that voids the host's plans", async () => {
    const m = model("mixed");
    const obj = (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
    const step = calls(m)[0]!;
    const call = async () => {
      const got = step.method ? await obj.callMethodKwargs(step.method, args(step), step.kwargs) : await obj.callKwargs(args(step), step.kwargs);
      check(got, step.expected, "mixed");
    };
    await call();
    // A handle made, disposed (its session released) and dropped; its "free" reaches Python now.
    await (async () => {
      const session = await manager.acquireOne();
      try {
        expect(await (await session.global("builtins", "len")).call([1, 2, 3])).toBe(3);
      } finally {
        await session.release();
      }
    })();
    // Until the host answers again (Python records the plan anew after that free).
    let answered = 0;
    for (let i = 0; i < 4 && answered === 0; i++) {
      const before = hostReplays(manager);
      await call();
      answered = hostReplays(manager) - before;
    }
    expect(answered).toBe(1);
    // The handle is garbage now: once V8 has collected it and run the finalizers, the host still answers.
    for (let i = 0; i < 3; i++) {
      collectGarbage();
      await new Promise((r) => setTimeout(r, 30));
    }
    const before = hostReplays(manager);
    await call();
    expect(hostReplays(manager) - before).toBe(1);
  });

  it("hands an argument back with its values, in a tensor of its own", async () => {
    const m = model("echo");
    const obj = (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
    const answered = await run(manager, m, obj);
    expect(answered).toEqual([0, 0, 1, 1, 1]);
    // The host's answer copies the argument (results never alias the caller's data).
    const step = calls(m)[4]!;
    const x = args(step)[0] as Tensor;
    const before = hostReplays(manager);
    const [back] = (await obj.call(x)) as [Tensor, Tensor];
    expect(hostReplays(manager) - before).toBe(1);
    expect(back).not.toBe(x);
    expect(back.data.buffer).not.toBe(x.data.buffer);
    (x.data as Float32Array).fill(7);
    check(back, (step.expected as { tuple: Enc[] }).tuple[0]!, "echo's argument after the caller changed it");
  });

  it("drops the plans of an unloaded package: its calls fail as unloaded, a reload starts over", async () => {
    const m = model("mixed");
    const pkg = await manager.loadPackage(path.join(DIR, m.file));
    const obj = pkg.loadPickle(...m.pickle);
    const c = calls(m);
    for (const step of c) check(await obj.call(...args(step)), step.expected, "mixed before unload");
    await pkg.unload();
    await expect(obj.call(...args(c[0]!))).rejects.toBeInstanceOf(ClosedError);
    const again = (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
    const before = hostReplays(manager);
    for (const [i, step] of c.entries()) check(await again.call(...args(step)), step.expected, `mixed reloaded call ${i}`);
    expect(hostReplays(manager) - before).toBe(3);
  });
});

describe("host replay off", () => {
  it("per manager and per object: every call enters Python, with the same results", async () => {
    const manager = await InterpreterManager.create({ ...kind, interpreters: 1, isolation: "trusted", hostReplay: false });
    try {
      const m = model("scaled");
      const answered = await run(manager, m, (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle));
      expect(answered.every((n) => n === 0)).toBe(true);
    } finally {
      await manager.close();
    }
    const on = await InterpreterManager.create({ ...kind, interpreters: 1, isolation: "trusted" });
    try {
      const m = model("mixed");
      const obj = (await on.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
      const session = await on.acquireOne();
      const setattr = await session.global("builtins", "setattr");
      await setattr.call(await session.fromMovable(obj), "__wasmdeploy_host_replay__", false);
      await session.release();
      const answered = await run(on, m, obj);
      expect(answered.every((n) => n === 0)).toBe(true);
    } finally {
      await on.close();
    }
  });
});

// The committed archives and results are what real PyTorch makes (skipped without it; .ci/run installs it).
const PYTHON = "/usr/bin/python3";
describe.runIf(spawnSync(PYTHON, ["-c", "import torch"]).status === 0)("the host replay test models", () => {
  it("are reproduced byte for byte by packages/make_host_replay_models.py", () => {
    const out = mkdtempSync(path.join(tmpdir(), "wasmdeploy-host-replay-"));
    try {
      execFileSync(PYTHON, [path.join(ROOT, "packages/make_host_replay_models.py"), "--out", out], { stdio: "pipe" });
      expect(readFileSync(path.join(out, "steps.json"), "utf8")).toBe(readFileSync(path.join(DIR, "steps.json"), "utf8"));
      for (const m of catalog) expect(Buffer.compare(readFileSync(path.join(out, m.file)), readFileSync(path.join(DIR, m.file))), m.file).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
