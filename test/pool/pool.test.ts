// Load balancing, lazy replication, sessions, handles and registered modules.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClosedError, InterpreterManager, PyObject, PyTuple, ResourceNotFoundError, ValueConversionError, tuple } from "wasmdeploy";
import * as testing from "wasmdeploy/testing";
import { archive, expectedFor } from "../helpers.js";
import { kind } from "../kind.js";

const expected = expectedFor("expected.json");
describe.each(["sandboxed", "trusted"] as const)("%s interpreters", (isolation) => {
  let manager: InterpreterManager;

  beforeAll(async () => {
    manager = await InterpreterManager.create({ ...kind, isolation, interpreters: 4 });
  });
  afterAll(() => manager?.close());

  async function pickleLoadsPerInterpreter(): Promise<number[]> {
    const counts: number[] = [];
    for (const inst of manager.allInstances()) {
      const s = inst.acquireSession();
      counts.push((await (await s.global("wasmdeploy_runtime.host", "pickle_loads")).call()) as number);
      await s.release();
    }
    return counts;
  }

  describe("load balancing", () => {
    it("answers 200 concurrent calls correctly, spread over all 4 interpreters", async () => {
      const pkg = await manager.loadPackage(archive("slow_counter.pt"));
      const obj = pkg.loadPickle("slow", "obj.pkl");
      const calls = expected["slow_counter.pt"]!.calls;
      const before = manager.stats().interpreters.map((i) => i.completed);
      const jobs = Array.from({ length: 200 }, (_, k) => calls[k % calls.length]!);
      const results = await Promise.all(jobs.map((c) => obj.callMethod(c.method!, ...c.args)));
      results.forEach((r, k) => expect(r).toStrictEqual(jobs[k]!.result));
      const done = manager.stats().interpreters.map((i, k) => i.completed - before[k]!);
      // 200 calls plus one package load per interpreter.
      for (const d of done) expect(d).toBeGreaterThanOrEqual(20);
      expect(done.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(200);
    });

    it("unpickles a replicated object once per interpreter, even under concurrent first calls", async () => {
      const before = await pickleLoadsPerInterpreter();
      const pkg = await manager.loadPackage(archive("tokenizer.pt"));
      const tok = pkg.loadPickle("tok", "tok.pkl");
      const out = await Promise.all(Array.from({ length: 40 }, () => tok.callMethod("encode", "the lazy fox")));
      for (const ids of out) expect(ids).toStrictEqual([4, 10, 7]);
      const after = await pickleLoadsPerInterpreter();
      // Sandboxed, each interpreter switched tenant (a fresh process) to serve this package.
      const loads = isolation === "sandboxed" ? after : after.map((n, k) => n - before[k]!);
      expect(loads).toStrictEqual([1, 1, 1, 1]);
    });
  });

  describe("replicated objects", () => {
    it("supports hasattr, getattr, kwargs and unload", async () => {
      const pkg = await manager.loadPackage(archive("tokenizer.pt"));
      const tok = pkg.loadPickle("tok", "tok.pkl");
      expect(await tok.hasattr("encode")).toBe(true);
      expect(await tok.hasattr("no_such_thing")).toBe(false);
      expect(await tok.callKwargs(["the lazy fox"], { add_special: true })).toStrictEqual([2, 4, 10, 7, 3]);
      expect(await tok.getattr("encode")).toBeInstanceOf(PyObject);
      await tok.unload();
      await expect(tok.call("x")).rejects.toBeInstanceOf(ClosedError);
      await pkg.unload();
      expect(() => pkg.loadPickle("tok", "tok.pkl")).toThrow(ClosedError);
    });

    it("names a missing pickle and lists the ones that exist", async () => {
      const pkg = await manager.loadPackage(archive("tokenizer.pt"));
      expect(() => pkg.loadPickle("tok", "nope.pkl")).toThrow(ResourceNotFoundError);
      expect(() => pkg.loadPickle("tok", "nope.pkl")).toThrow(/tok\/tok\.pkl/);
    });

    it("keeps two packages' same-named modules apart", async () => {
      const a = (await manager.loadPackage(archive("clash_a.pt"))).loadPickle("clash", "obj.pkl");
      const b = (await manager.loadPackage(archive("clash_b.pt"))).loadPickle("clash", "obj.pkl");
      const nameA = expected["clash_a.pt"]!.calls.find((c) => c.method === "name")!.result;
      const nameB = expected["clash_b.pt"]!.calls.find((c) => c.method === "name")!.result;
      expect(nameA).not.toBe(nameB);
      const calls = Array.from({ length: 24 }, (_, k) => (k % 2 ? b : a).callMethod("name"));
      (await Promise.all(calls)).forEach((n, k) => expect(n).toBe(k % 2 ? nameB : nameA));
      if (isolation === "trusted") {
        // Trusted interpreters hold both packages at once, each with its own `utils`.
        const session = a.acquireSession(2);
        const ha = await session.fromMovable(a);
        const hb = await session.fromMovable(b);
        expect(await ha.callMethod("name")).toBe(nameA);
        expect(await hb.callMethod("name")).toBe(nameB);
        await session.release();
      } else {
        // Sandboxed interpreters serve one package each: no two tenants ever share one. Ask each
        // interpreter's Python which packages it holds: never more than one, and it is its tenant's.
        const tenants = testing.tenants(manager);
        const held: string[][] = [];
        for (const inst of manager.allInstances()) {
          const s = inst.acquireSession();
          const pkgs = await s.global("wasmdeploy_runtime.host", "_packages");
          held.push((await (await s.global("builtins", "list")).call(pkgs)) as string[]);
          await s.release();
        }
        held.forEach((ids, i) => {
          expect(ids.length).toBeLessThanOrEqual(1);
          if (ids.length === 1) expect(ids[0]).toBe(tenants[i]);
        });
        // Both packages were served, by different interpreters.
        const serving = held.flat();
        expect(new Set(serving).size).toBe(2);
      }
    });
  });

  describe("sessions and handles", () => {
    it("imports globals, passes handles back as arguments, and releases them", async () => {
      const session = await manager.acquireOne();
      const dumps = await session.global("json", "dumps");
      expect(await dumps.callKwargs([{ b: 1, a: tuple(1, 2) }], { sort_keys: true })).toBe('{"a": [1, 2], "b": 1}');
      const range = await session.global("builtins", "range");
      const r = await range.call(10);
      expect(r).toBeInstanceOf(PyObject);
      const len = await session.global("builtins", "len");
      expect(await len.call(r)).toBe(10);
      const pi = await (await session.global("math", "pi")).toJs();
      expect(pi).toBeCloseTo(Math.PI, 15);
      await session.release();
      expect(() => len.call([])).toThrow(ClosedError);
    });

    it("refuses a handle on another interpreter's call", async () => {
      const s0 = manager.allInstances()[0]!.acquireSession();
      const s1 = manager.allInstances()[1]!.acquireSession();
      const r0 = await (await s0.global("builtins", "range")).call(3);
      const len1 = await s1.global("builtins", "len");
      await expect(len1.call(r0)).rejects.toThrow(/can only be passed to calls on its own interpreter/);
      await s0.release();
      await s1.release();
    });

    it("round-trips every plain Python type", async () => {
      const s = await manager.acquireOne();
      const identity = await s.global("copy", "deepcopy");
      const values: unknown[] = [
        null, true, false, 0, -7, 2 ** 53 - 1, 2n ** 64n, -(2n ** 70n), 0.1, NaN, Infinity, -Infinity, "", "é🙂",
        new Uint8Array([0, 255]), [1, [2, [3]]], tuple(1, tuple()), { a: 1, "b c": [null] }, new Map<unknown, unknown>([[1, "x"], [tuple(1, 2), "y"]]),
      ];
      for (const v of values) expect(await identity.call(v)).toStrictEqual(v);
      expect(await identity.call(tuple(1))).toBeInstanceOf(PyTuple);
      await expect(identity.call(new Float32Array(2))).rejects.toBeInstanceOf(ValueConversionError);
      await expect(identity.call(new Date())).rejects.toBeInstanceOf(ValueConversionError);
      await s.release();
    });

    it("registers a module on every interpreter", async () => {
      await manager.registerModuleSource("greeting_mod", "def hi(name):\n    return 'hi ' + name\n");
      for (const inst of manager.allInstances()) {
        const s = inst.acquireSession();
        expect(await (await s.global("greeting_mod", "hi")).call(`#${inst.index}`)).toBe(`hi #${inst.index}`);
        await s.release();
      }
      await expect(manager.registerModuleSource("broken_mod", "def (:\n")).rejects.toThrow(/SyntaxError/);
      // A failed registration is dropped, so it does not poison later calls.
      const s = await manager.acquireOne();
      expect(await (await s.global("greeting_mod", "hi")).call("again")).toBe("hi again");
      await s.release();
    });
  });
});
