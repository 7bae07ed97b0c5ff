// Record once, replay after (runtime/torch/_replay.py): models that branch on tensor values or
// shapes, or change their own state, called several times in a row, must give real PyTorch's
// result on every call (packages/make_stateful_models.py made the archives and the results).
// The replay counters show that the safe cases do replay and the unsafe ones do not: a replay is
// counted by Python, or by the host when it answered the call alone (host replay, counted in
// ManagerStats), so the totals below hold with host replay on or off.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, Tensor } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import { kind } from "../kind.js";

interface Encoded {
  tensor: { dtype: "float32"; shape: number[]; data: number[] };
}
interface Call {
  method: string | null;
  args: (Encoded | number)[];
  expected: unknown;
}
interface Model {
  name: string;
  file: string;
  pickle: [string, string];
  calls: Call[];
}

const DIR = path.join(ROOT, "packages/models/stateful");
const catalog = (JSON.parse(readFileSync(path.join(DIR, "calls.json"), "utf8")) as { models: Model[] }).models;

const isEncoded = (v: unknown): v is Encoded => typeof v === "object" && v !== null && "tensor" in v;
const decode = (v: Encoded | number) => (isEncoded(v) ? new Tensor("float32", new Float32Array(v.tensor.data), v.tensor.shape) : v);

/** Calls the host answered without entering an interpreter. */
const hostReplays = (m: InterpreterManager) => m.stats().interpreters.reduce((n, i) => n + (i.hostReplays ?? 0), 0);

function check(got: unknown, want: unknown, what: string) {
  if (isEncoded(want)) {
    expect(got, what).toBeInstanceOf(Tensor);
    compare(got as Tensor, decode(want) as Tensor, what);
  } else if (Array.isArray(want)) {
    expect(Array.isArray(got), `${what} is a sequence`).toBe(true);
    expect((got as unknown[]).length, `${what} length`).toBe(want.length);
    want.forEach((w, i) => check((got as unknown[])[i], w, `${what}[${i}]`));
  } else {
    expect(got, what).toBe(want);
  }
}

// How many calls of each model replay (the rest record, or are refused and run as usual).
// A call site's first call runs plain: only a site that did tensor work is recorded from then on
// (pure-Python methods never run under the recording's profiler).
// Values Python reads are guards: value_branch records each sign once, then replays both
// branches; early_exit records two exit paths; item_loop reads a float that never repeats, so
// after 3 misses it stops trying. Python attribute/list/class/global/closure changes and
// random draws refuse; shapes key separate traces; in-place buffer updates replay; another
// method changing a global invalidates the trace.
const REPLAYS: Record<string, number> = {
  value_branch: 4,
  item_loop: 0,
  early_exit: 4,
  shape_branch: 2,
  step_buffer: 5,
  attr_counter: 0,
  list_append: 0,
  class_counter: 0,
  global_scale: 3,
  stable: 3,
  closure_counter: 0,
  py_random: 0,
};

describe("replay matches PyTorch on every call", () => {
  let manager: InterpreterManager;
  beforeAll(async () => {
    manager = await InterpreterManager.create({ ...kind, interpreters: 1, isolation: "trusted" }) // replay does not depend on isolation;
  });
  afterAll(() => manager?.close());

  async function replayStats(): Promise<Record<string, number> & { why: string }> {
    const session = await manager.acquireOne();
    try {
      const stats = (await (await session.global("torch._replay", "stats")).toJs()) as Record<string, number>;
      const why = String(await (await session.global("torch._replay", "last_refusal")).toJs());
      return { ...stats, replayed: stats.replayed! + hostReplays(manager), why };
    } finally {
      await session.release();
    }
  }

  for (const m of catalog) {
    it(`${m.name}: ${m.calls.length} calls`, async () => {
      const obj = (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
      const before = await replayStats();
      for (const [i, c] of m.calls.entries()) {
        const args = c.args.map(decode);
        const got = c.method ? await obj.callMethod(c.method, ...args) : await obj.call(...args);
        check(got, c.expected, `${m.name} call ${i}${c.method ? ` (${c.method})` : ""}`);
      }
      const after = await replayStats();
      expect(after.replayed! - before.replayed!, `${m.name}: calls replayed (last refusal: ${after.why}; before ${JSON.stringify(before)} after ${JSON.stringify(after)})`).toBe(REPLAYS[m.name]);
    });
  }
});

describe("replay with calls interleaved", () => {
  let manager: InterpreterManager;
  beforeAll(async () => {
    manager = await InterpreterManager.create({ ...kind, interpreters: 1, isolation: "trusted" });
  });
  afterAll(() => manager?.close());

  it("two models and another method alternating on one interpreter still match PyTorch", async () => {
    // Every call follows another object's call, so each replay re-checks the fingerprint.
    const names = ["stable", "step_buffer", "global_scale"];
    const models = names.map((n) => catalog.find((x) => x.name === n)!);
    const objs = await Promise.all(models.map(async (m) => (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle)));
    const session = await manager.acquireOne();
    const stats = await session.global("torch._replay", "stats");
    const before = ((await stats.toJs()) as Record<string, number>).replayed! + hostReplays(manager);
    const longest = Math.max(...models.map((m) => m.calls.length));
    for (let i = 0; i < longest; i++) {
      for (const [k, m] of models.entries()) {
        const c = m.calls[i];
        if (!c) continue;
        const args = c.args.map(decode);
        const got = c.method ? await objs[k]!.callMethod(c.method, ...args) : await objs[k]!.call(...args);
        check(got, c.expected, `${m.name} call ${i} (interleaved)`);
      }
    }
    const replayed = ((await stats.toJs()) as Record<string, number>).replayed! + hostReplays(manager) - before;
    await session.release();
    expect(replayed).toBe(REPLAYS.stable! + REPLAYS.step_buffer! + REPLAYS.global_scale!);
  });
});

describe("replay modes", () => {
  let manager: InterpreterManager;
  beforeAll(async () => {
    manager = await InterpreterManager.create({ ...kind, interpreters: 1, isolation: "trusted" });
  });
  afterAll(() => manager?.close());

  it("keeps at most MAX_TRACES signatures per call site, least recently used out", async () => {
    const m = catalog.find((x) => x.name === "shape_branch")!; // batch sizes 1, 3, 1, 4, 3, 2, 2
    const obj = (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
    const session = await manager.acquireOne();
    try {
      const setattr = await session.global("builtins", "setattr");
      await setattr.call(await session.global("torch", "_replay"), "MAX_TRACES", 1);
      const stats = await session.global("torch._replay", "stats");
      const before = ((await stats.toJs()) as Record<string, number>).replayed! + hostReplays(manager);
      for (const [i, c] of m.calls.entries()) check(await obj.call(...c.args.map(decode)), c.expected, `shape_branch (1 trace) call ${i}`);
      // Only the last call finds its signature (2) still held.
      expect(((await stats.toJs()) as Record<string, number>).replayed! + hostReplays(manager) - before).toBe(1);
      await setattr.call(await session.global("torch", "_replay"), "MAX_TRACES", 16);
    } finally {
      await session.release();
    }
  });

  it('an object with __wasmdeploy_replay__ = "off" records every call, with the same results', async () => {
    const m = catalog.find((x) => x.name === "stable")!;
    const obj = (await manager.loadPackage(path.join(DIR, m.file))).loadPickle(...m.pickle);
    const session = await manager.acquireOne();
    try {
      const setattr = await session.global("builtins", "setattr");
      await setattr.call(await session.fromMovable(obj), "__wasmdeploy_replay__", "off");
      const stats = await session.global("torch._replay", "stats");
      const before = ((await stats.toJs()) as Record<string, number>).replayed! + hostReplays(manager);
      for (const [i, c] of m.calls.entries()) check(await obj.call(...c.args.map(decode)), c.expected, `stable (off) call ${i}`);
      expect(((await stats.toJs()) as Record<string, number>).replayed! + hostReplays(manager) - before).toBe(0);
    } finally {
      await session.release();
    }
  });
});

// The committed archives and results are what real PyTorch makes (skipped without it; .ci/run installs it).
const PYTHON = "/usr/bin/python3";
describe.runIf(spawnSync(PYTHON, ["-c", "import torch"]).status === 0)("the replay test models", () => {
  it("are reproduced byte for byte by packages/make_stateful_models.py", () => {
    const out = mkdtempSync(path.join(tmpdir(), "wasmdeploy-stateful-"));
    try {
      execFileSync(PYTHON, [path.join(ROOT, "packages/make_stateful_models.py"), "--out", out], { stdio: "pipe" });
      expect(readFileSync(path.join(out, "calls.json"), "utf8")).toBe(readFileSync(path.join(DIR, "calls.json"), "utf8"));
      for (const m of catalog) expect(Buffer.compare(readFileSync(path.join(out, m.file)), readFileSync(path.join(DIR, m.file))), m.file).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
