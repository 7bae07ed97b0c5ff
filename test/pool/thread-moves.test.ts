// python.wasm interpreters start on the worker threads there are (one, at first). Calls that
// wait behind another interpreter's call for more than a few milliseconds, three times within
// 10 s, start a second thread (in the background: it boots in 0.1-0.3 s), and the next such call
// moves its interpreter there: a thread costs 20-30 MB, and interpreters whose calls never (or
// once) overlap never need it. A move carries the whole interpreter (its linear memory): its Python objects, the
// handles the host holds into it, and its engine bridge on the new thread. An interpreter
// holding a file open does not move.

import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { InterpreterManager, type PyObject, Tensor } from "wasmdeploy";
import { archive, ROOT } from "../helpers.js";
import { KIND } from "../kind.js";

const MODELS = path.join(ROOT, "packages", "models");
const npy = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, f))));

/** slow_mod.SlowCounter(1000003).work(n), as packages/sources/slow_mod computes it. */
function work(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc = (acc * 31 + i) % 1000003;
  return acc;
}

/** resnet_basic's output on its input, against PyTorch's (packages/models/models.json). */
function expectResnet(out: unknown) {
  const got = out as Tensor;
  const want = npy("resnet_basic.expected.npy");
  expect(got.shape).toStrictEqual(want.shape);
  const g = got.data as Float32Array;
  const w = want.data as Float32Array;
  expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0.1); // an informative head
  for (let i = 0; i < w.length; i++) expect(Math.abs(g[i]! - w[i]!), `output[${i}]`).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(w[i]!));
}

/** Time for a thread started by overlaps to boot. */
const THREAD_BOOT_MS = 1500;
/** Overlaps that start a thread (OVERLAPS_FOR_THREAD in src/platform/node/wasi/pool.ts). */
const OVERLAPS_FOR_THREAD = 3;

/**
 * Makes `call` while `slow` (a SlowCounter on another interpreter) runs work(n) on the thread
 * they share: an overlap. Checks the long call's result and returns the call's.
 */
async function whileBusy<T>(slow: PyObject, n: number, call: () => Promise<T>): Promise<T> {
  const long = slow.callMethod("work", n);
  await sleep(30);
  const r = await call();
  expect(await long).toBe(work(n));
  return r;
}

describe.runIf(KIND === "wasi")("python.wasm interpreters moving between threads", () => {
  let manager: InterpreterManager | undefined;
  afterEach(async () => {
    await manager?.close();
    manager = undefined;
  });
  const threadOf = (k: number) => manager!.stats().interpreters[k]!.thread;

  it("start on one thread, and take a second when their calls overlap", async () => {
    manager = await InterpreterManager.create({ interpreter: "wasi", interpreters: 2, onOutput: () => {} });
    expect(threadOf(0)).toBe(threadOf(1));
    const obj = (await manager.loadPackage(archive("slow_counter.pt"))).loadPickle("slow", "obj.pkl");
    // Calls one after another: nothing moves.
    for (let i = 0; i < 3; i++) expect(await obj.callMethod("work", 1000)).toBe(work(1000));
    expect(threadOf(0)).toBe(threadOf(1));
    // Three overlaps start a thread (before that, nothing moves); the next moves an interpreter to it.
    for (let round = 0; round <= OVERLAPS_FOR_THREAD; round++) {
      if (round === OVERLAPS_FOR_THREAD) await sleep(THREAD_BOOT_MS);
      else if (round > 0) expect(threadOf(0), `after ${round} overlaps`).toBe(threadOf(1));
      const results = await Promise.all([obj.callMethod("work", 300_000), obj.callMethod("work", 300_000)]);
      expect(results).toStrictEqual([work(300_000), work(300_000)]);
    }
    expect(threadOf(0)).not.toBe(threadOf(1));
    // From now on, two calls run on two threads at once.
    for (let round = 0; round < 2; round++) {
      const before = manager.stats().interpreters.map((i) => i.completed);
      await Promise.all([obj.callMethod("work", 100_000), obj.callMethod("work", 100_000)]);
      const ran = manager.stats().interpreters.filter((i, k) => i.completed > before[k]!);
      expect(ran.map((i) => i.thread).sort()).toStrictEqual([threadOf(0), threadOf(1)].sort());
    }
  });

  it("count calls that wait behind the same call as one overlap: a single burst starts no thread", async () => {
    manager = await InterpreterManager.create({ interpreter: "wasi", interpreters: 4, onOutput: () => {} });
    const pkg = await manager.loadPackage(archive("slow_counter.pt"));
    const sessions = manager.allInstances().map((i) => i.acquireSession());
    const slow = await Promise.all(sessions.map((s) => s.fromMovable(pkg.loadPickle("slow", "obj.pkl"))));
    expect(new Set([0, 1, 2, 3].map(threadOf)).size).toBe(1);
    // Four calls at once: three wait behind the first (not a fourth behind the second: by then
    // their waits are counted). One overlap, not three.
    expect(await Promise.all(slow.map((o) => o.callMethod("work", 300_000)))).toStrictEqual(Array(4).fill(work(300_000)));
    await sleep(THREAD_BOOT_MS);
    // Had the burst started a thread, this overlap would move b there.
    expect(await whileBusy(slow[0]!, 300_000, () => slow[1]!.callMethod("work", 10))).toBe(work(10));
    expect(new Set([0, 1, 2, 3].map(threadOf)).size).toBe(1);
    // Overlaps behind distinct calls still start one: two more, and the next call moves.
    for (let round = 0; round < OVERLAPS_FOR_THREAD - 2; round++) expect(await whileBusy(slow[0]!, 300_000, () => slow[1]!.callMethod("work", 10))).toBe(work(10));
    await sleep(THREAD_BOOT_MS);
    expect(await whileBusy(slow[0]!, 300_000, () => slow[1]!.callMethod("work", 10))).toBe(work(10));
    expect(threadOf(1)).not.toBe(threadOf(0));
    for (const s of sessions) await s.release();
  });

  it("carry an interpreter whole: its Python state, the handles into it, and its engine bridge", async () => {
    manager = await InterpreterManager.create({ interpreter: "wasi", interpreters: 2, onOutput: () => {} });
    const [a, b] = manager.allInstances();
    const sa = a!.acquireSession();
    const sb = b!.acquireSession();
    const slow = await sa.fromMovable((await manager.loadPackage(archive("slow_counter.pt"))).loadPickle("slow", "obj.pkl"));
    const model = await sb.fromMovable((await manager.loadPackage(path.join(MODELS, "resnet_basic.pt"))).loadPickle("model", "model.pkl"));
    const input = npy("resnet_basic.input.npy");
    expectResnet(await model.call(input));
    const setattr = await sb.global("builtins", "setattr");
    await setattr.call(await sb.global("wasmdeploy_runtime", "host"), "_moved_mark", "interpreter b");
    expect(threadOf(0)).toBe(threadOf(1));

    // b's calls arrive while a's run on their shared thread: three start a thread, the next
    // moves b there, with the model it holds.
    for (let round = 0; round <= OVERLAPS_FOR_THREAD; round++) {
      if (round === OVERLAPS_FOR_THREAD) await sleep(THREAD_BOOT_MS);
      expectResnet(await whileBusy(slow, 500_000, () => model.call(input)));
    }
    expect(threadOf(a!.index)).not.toBe(threadOf(b!.index));
    expect(await (await sb.global("wasmdeploy_runtime.host", "_moved_mark")).toJs()).toBe("interpreter b");
    expectResnet(await model.call(input));
    await sa.release();
    await sb.release();
  });

  it("move an interpreter that has run no call yet at once, without waiting for the busy thread", async () => {
    manager = await InterpreterManager.create({ interpreter: "wasi", interpreters: 3, onOutput: () => {} });
    const [a, b, c] = manager.allInstances();
    const sa = a!.acquireSession();
    const sb = b!.acquireSession();
    const pkg = await manager.loadPackage(archive("slow_counter.pt"));
    const slowA = await sa.fromMovable(pkg.loadPickle("slow", "obj.pkl"));
    const slowB = await sb.fromMovable(pkg.loadPickle("slow", "obj.pkl"));
    for (let round = 0; round < OVERLAPS_FOR_THREAD; round++) {
      expect(await whileBusy(slowA, 300_000, () => slowB.callMethod("work", 10))).toBe(work(10));
    }
    await sleep(THREAD_BOOT_MS);
    expect(new Set([threadOf(a!.index), threadOf(b!.index), threadOf(c!.index)]).size).toBe(1);
    // c's first call waits behind a's long one: c is still what the snapshot made, so it is
    // restored on the idle thread at once, and its call is done before a's.
    const sc = c!.acquireSession();
    const long = slowA.callMethod("work", 2_000_000).then(() => "a");
    await sleep(30);
    const first = await Promise.race([long, sc.global("builtins", "len").then(async (len) => ((await len.call([1, 2, 3])) === 3 ? "c" : "c: wrong result"))]);
    expect(first).toBe("c");
    expect(threadOf(c!.index)).not.toBe(threadOf(a!.index));
    expect(await long).toBe("a");
    for (const s of [sa, sb, sc]) await s.release();
  });

  it("leave an interpreter whose memory is over 256 MB where it is (a move copies it)", async () => {
    manager = await InterpreterManager.create({ interpreter: "wasi", interpreters: 2, onOutput: () => {} });
    const [a, b] = manager.allInstances();
    const sa = a!.acquireSession();
    const sb = b!.acquireSession();
    const slow = await sa.fromMovable((await manager.loadPackage(archive("slow_counter.pt"))).loadPickle("slow", "obj.pkl"));
    await (await sb.global("builtins", "exec")).call("import sys; sys.big = bytearray(300 * 2**20)");
    const len = await sb.global("builtins", "len");
    for (let round = 0; round <= OVERLAPS_FOR_THREAD; round++) {
      if (round === OVERLAPS_FOR_THREAD) await sleep(THREAD_BOOT_MS);
      expect(await whileBusy(slow, 300_000, async () => len.call(await sb.global("sys", "big")))).toBe(300 * 2 ** 20);
    }
    expect(manager.stats().interpreters[b!.index]!.heapBytes).toBeGreaterThan(300 * 2 ** 20);
    expect(threadOf(a!.index)).toBe(threadOf(b!.index));
    await sa.release();
    await sb.release();
  });

  it("leave an interpreter that holds a file open where it is, until it closes the file", async () => {
    manager = await InterpreterManager.create({ interpreter: "wasi", interpreters: 2, onOutput: () => {} });
    const [a, b] = manager.allInstances();
    const sa = a!.acquireSession();
    const sb = b!.acquireSession();
    const slow = await sa.fromMovable((await manager.loadPackage(archive("slow_counter.pt"))).loadPickle("slow", "obj.pkl"));
    const file = (await (await sb.global("builtins", "open")).call("/lib/python3.11/os.py")) as PyObject;
    const overlap = (call: () => Promise<unknown>) => whileBusy(slow, 500_000, call);
    expect(await overlap(() => file.callMethod("readline"))).toMatch(/^r"""OS routines/);
    for (let round = 1; round < OVERLAPS_FOR_THREAD; round++) expect(await overlap(() => file.callMethod("tell"))).toBeGreaterThan(0);
    await sleep(THREAD_BOOT_MS);
    expect(await overlap(() => file.callMethod("readline"))).toBe("\n"); // the next line: the same open file
    expect(threadOf(a!.index)).toBe(threadOf(b!.index));
    await file.callMethod("close");
    // The next overlap tries again (a couple, in case the first comes before the thread is idle).
    for (let i = 0; i < 3 && threadOf(a!.index) === threadOf(b!.index); i++) expect(await overlap(() => file.getattr("closed"))).toBe(true);
    expect(threadOf(a!.index)).not.toBe(threadOf(b!.index));
    await sa.release();
    await sb.release();
  });
});
