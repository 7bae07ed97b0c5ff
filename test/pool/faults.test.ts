// Python exceptions, crashes, deadlines and killed workers: each call gets a typed
// error and the pool keeps serving, with no call lost or answered twice.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CallTimeoutError,
  InterpreterCrashedError,
  InterpreterManager,
  PythonError,
  type ReplicatedObj,
} from "wasmdeploy";
import * as testing from "wasmdeploy/testing";
import { archive } from "../helpers.js";
import { kind } from "../kind.js";

describe.each(["sandboxed", "trusted"] as const)("%s interpreters", (isolation) => {
  let manager: InterpreterManager;
  let faults: ReplicatedObj;
  let tok: ReplicatedObj;

  beforeAll(async () => {
    // The interrupt's grace is long enough never to decide an outcome here: interruptible code
    // stops when it runs, however loaded the machine. The test of code that ignores the interrupt
    // has its own manager with a short grace.
    manager = await InterpreterManager.create({ ...kind, isolation, interpreters: 2, interruptGraceMs: 60_000, onOutput: () => {} });
    faults = (await manager.loadPackage(archive("faults.pt"))).loadPickle("faults", "obj.pkl");
    tok = (await manager.loadPackage(archive("tokenizer.pt"))).loadPickle("tok", "tok.pkl");
  });
  afterAll(() => manager?.close());

  const settle = <T>(p: Promise<T>) => p.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }));

  describe("faults", () => {
    it("turns a Python exception into PythonError with type, message and traceback", async () => {
      const err = (await settle(faults.callMethod("raise_value_error", "boom"))) as { e: PythonError };
      expect(err.e).toBeInstanceOf(PythonError);
      expect(err.e.pyType).toBe("ValueError");
      expect(err.e.pyMessage).toBe("boom");
      expect(err.e.pyTraceback).toMatch(/faults_mod\/__init__\.py", line \d+, in raise_value_error/);
      expect(err.e.message).toMatch(/calling faults\/obj\.pkl\.raise_value_error: Python raised ValueError: boom/);
      expect(await faults.callMethod("ok")).toBe("ok");
    });

    it("reports RecursionError for runaway recursion without losing the interpreter", async () => {
      const r = await settle(faults.callMethod("recurse", 1));
      expect(r.ok).toBe(false);
      expect((r as { e: PythonError }).e.pyType).toBe("RecursionError");
      expect(await faults.callMethod("ok")).toBe("ok");
    });

    it("interrupts an infinite loop at its deadline; the interpreter survives", async () => {
      const gens = manager.stats().interpreters.map((i) => i.generation);
      const r = await settle(faults.withOptions({ timeoutMs: 200 }).callMethod("loop_forever"));
      expect((r as { e: CallTimeoutError }).e).toBeInstanceOf(CallTimeoutError);
      expect((r as { e: CallTimeoutError }).e.how).toBe("interrupted");
      expect(manager.stats().interpreters.map((i) => i.generation)).toStrictEqual(gens);
      expect(await faults.callMethod("ok")).toBe("ok");
    });

    it("interrupts a call whose deadline passes before its interpreter has read it", async () => {
      // Loaded on every interpreter that may take the call, so it starts as it is submitted.
      expect(await Promise.all([faults.callMethod("ok"), faults.callMethod("ok")])).toStrictEqual(["ok", "ok"]);
      const r = await settle(faults.withOptions({ timeoutMs: 1 }).callMethod("loop_forever"));
      expect((r as { e: CallTimeoutError }).e).toBeInstanceOf(CallTimeoutError);
      // The interrupt was not wiped by the call arriving after it (which left the loop to the grace).
      expect((r as { e: CallTimeoutError }).e.how).toBe("interrupted");
    });

    it("terminates and respawns an interpreter whose code swallows the interrupt", async () => {
      const m = await InterpreterManager.create({ ...kind, isolation, interpreters: 1, interruptGraceMs: 200, onOutput: () => {} });
      try {
        const obj = (await m.loadPackage(archive("faults.pt"))).loadPickle("faults", "obj.pkl");
        const r = await settle(obj.withOptions({ timeoutMs: 200 }).callMethod("loop_ignoring_interrupt"));
        const e = (r as { e: CallTimeoutError }).e;
        expect(e).toBeInstanceOf(CallTimeoutError);
        expect(e.how).toBe("terminated");
        expect(m.stats().interpreters[e.interpreter]!.generation).toBeGreaterThan(0);
        expect(await Promise.all([obj.callMethod("ok"), obj.callMethod("ok")])).toStrictEqual(["ok", "ok"]);
      } finally {
        await m.close();
      }
    });

    it("fails only the crashing call; calls on the other interpreter are untouched", async () => {
      const crashes = manager.stats().interpreters.reduce((a, i) => a + i.crashes, 0);
      const s = faults.acquireSession(0);
      const onZero = await s.fromMovable(faults);
      const other = tok.acquireSession(1);
      const tokOnOne = await other.fromMovable(tok);
      const busy = Array.from({ length: 20 }, () => tokOnOne.callMethod("encode", "the quick dog"));
      const crash = settle(onZero.callMethod("crash"));
      const r = await crash;
      expect((r as { e: Error }).e).toBeInstanceOf(InterpreterCrashedError);
      for (const out of await Promise.all(busy)) expect(out).toStrictEqual([4, 5, 11]);
      expect(manager.stats().interpreters.reduce((a, i) => a + i.crashes, 0)).toBe(crashes + 1);
      await s.release();
      await other.release();
      expect(await faults.callMethod("ok")).toBe("ok");
    });

    it("a worker killed mid-call fails its in-flight call; queued calls run after the respawn, once each", async () => {
      const s = faults.acquireSession(1);
      const h = await s.fromMovable(faults);
      // A sleep far longer than the test: only the kill can end it, however late the kill comes.
      const inFlight = settle(h.callMethod("sleep", 600_000));
      await new Promise((r) => setTimeout(r, 100));
      // Queued behind the sleeping call, on the same interpreter, through the replicated object.
      const queued = Array.from({ length: 6 }, (_, k) => settle(tok.acquireSession(1).fromMovable(tok).then(() => k)));
      await testing.killInterpreter(manager, 1);
      const first = await inFlight;
      expect((first as { e: Error }).e).toBeInstanceOf(InterpreterCrashedError);
      const rest = await Promise.all(queued);
      expect(rest.map((x) => (x.ok ? x.v : String(x.e)))).toStrictEqual([0, 1, 2, 3, 4, 5]);
      await s.release();
      expect(await tok.callMethod("encode", "fox")).toStrictEqual([7]);
    });

    it("expires a call that waits in the queue past its deadline", async () => {
      const s = faults.acquireSession(0);
      const h = await s.fromMovable(faults);
      const long = h.callMethod("sleep", 600);
      const sessionTok = tok.acquireSession(0);
      const r = await settle(testing.callMethodOn(manager, tok.withOptions({ timeoutMs: 100 }), 0, "encode", "fox"));
      expect((r as { e: CallTimeoutError }).e).toBeInstanceOf(CallTimeoutError);
      expect((r as { e: CallTimeoutError }).e.how).toBe("queued");
      expect(await long).toBe(600);
      await s.release();
      await sessionTok.release();
    });
  });
});
