// WASI interpreters share worker threads (many instances per thread, a call runs on its
// interpreter's thread). The balancer knows the threads, and an interpreter whose call would
// wait behind another's moves to an idle thread: concurrent calls land on different threads,
// and interpreters of different tenants may sit on one thread while each still serves one
// package. Pyodide interpreters each have a thread or process of their own: WASI only.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager } from "wasmdeploy";
import * as testing from "wasmdeploy/testing";
import { archive } from "../helpers.js";
import { WASI } from "../kind.js";

describe.runIf(WASI)("WASI interpreters sharing threads", () => {
  let manager: InterpreterManager;
  beforeAll(async () => {
    manager = await InterpreterManager.create({ interpreter: "wasi", interpreters: 4, onOutput: () => {} });
  });
  afterAll(() => manager?.close());

  it("starts 4 interpreters on one thread (a second comes when calls overlap: thread-moves.test.ts)", () => {
    const threads = manager.stats().interpreters.map((i) => i.thread);
    expect(threads.every((t) => t !== undefined)).toBe(true);
    expect(new Set(threads).size).toBe(1);
  });

  it("runs two concurrent calls on two different threads", async () => {
    const obj = (await manager.loadPackage(archive("slow_counter.pt"))).loadPickle("slow", "obj.pkl");
    // The first calls claim interpreters for the package (one tenant each, sandboxed tenancy) and load it.
    await Promise.all(Array.from({ length: 4 }, () => obj.callMethod("work", 1)));
    // Overlaps start the second thread (thread-moves.test.ts); calls that overlap after it has booted move there.
    for (let i = 0; i < 3; i++) await Promise.all([obj.callMethod("work", 100_000), obj.callMethod("work", 100_000)]);
    await new Promise((r) => setTimeout(r, 1500));
    for (let round = 0; round < 3; round++) {
      const before = manager.stats().interpreters.map((i) => i.completed);
      await Promise.all([obj.callMethod("work", 300_000), obj.callMethod("work", 300_000)]);
      const after = manager.stats().interpreters;
      const ran = after.filter((i, k) => i.completed > before[k]!);
      expect(ran.length, `round ${round}`).toBe(2);
      expect(ran[0]!.thread, `round ${round}: both calls on thread ${ran[0]!.thread}`).not.toBe(ran[1]!.thread);
    }
  });

  it("lets tenants share a thread while each interpreter serves one package", async () => {
    const names = ["clash_a.pt", "clash_b.pt", "tokenizer.pt"];
    const pkgs = await Promise.all(names.map((n) => manager.loadPackage(archive(n))));
    const clashA = pkgs[0]!.loadPickle("clash", "obj.pkl");
    const clashB = pkgs[1]!.loadPickle("clash", "obj.pkl");
    const tok = pkgs[2]!.loadPickle("tok", "tok.pkl");
    const results = await Promise.all([clashA.callMethod("name"), clashB.callMethod("name"), tok.callMethod("encode", "the lazy fox")]);
    expect(results[0]).not.toBe(results[1]);
    expect(results[2]).toStrictEqual([4, 10, 7]);
    const tenants = testing.tenants(manager);
    const stats = manager.stats().interpreters;
    // Ask each interpreter's Python what it holds: one package at most, its tenant's.
    for (const inst of manager.allInstances()) {
      const s = inst.acquireSession();
      const held = (await (await s.global("builtins", "list")).call(await s.global("wasmdeploy_runtime.host", "_packages"))) as string[];
      await s.release();
      expect(held.length, `interpreter ${inst.index} holds ${held.join(", ")}`).toBeLessThanOrEqual(1);
      if (held.length === 1) expect(held[0]).toBe(tenants[inst.index]);
    }
    // Different tenants on one thread: nothing of one is reachable from the other.
    const byThread = new Map<number, Set<string>>();
    stats.forEach((i, k) => {
      if (tenants[k]) byThread.set(i.thread!, (byThread.get(i.thread!) ?? new Set()).add(tenants[k]!));
    });
    expect([...byThread.values()].some((t) => t.size >= 2)).toBe(true);
  });
});
