// Denial-of-service attempts (packages/archives/hostile/dos.pt) are stopped by their limits
// (the package's interpreter memory and engine memory per run, a per-call deadline), each with
// a typed error, while a well-behaved package beside it keeps answering correctly.
//
// A limit that is not under test must not decide an outcome, or the result depends on the
// machine's speed: a call gets the deadline only when ending in CallTimeoutError is acceptable
// for it, so a slow machine cannot turn grow_memory's MemoryLimitError, or flood_stdout's
// return, into a CallTimeoutError. The memory limits apply to every call but only an
// allocation reaches them; the spins allocate nothing.

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, type ReplicatedObj } from "wasmdeploy";
import { ARCHIVES } from "../helpers.js";
import { kind, WASI } from "../kind.js";

const HOSTILE = path.join(ARCHIVES, "hostile");
const manifest = JSON.parse(readFileSync(path.join(HOSTILE, "manifest.json"), "utf8"));
const methods = manifest.archives["dos.pt"].methods as Record<string, { args: unknown[]; expect: string[] }>;
// Deep recursion also eats memory: the memory limit may stop it first.
methods.deep_recursion!.expect.push("MemoryLimitError");
// spin_after_return leaves a spin on its interpreter's event loop, and sabotage_runtime breaks
// the dispatcher of its own interpreter: run them last, each followed by a recovery check.
const LAST = ["spin_after_return", "sabotage_runtime"];
const order = [...Object.keys(methods).filter((m) => !LAST.includes(m)), ...LAST];
// After spin_after_return its interpreter may still be spinning: sabotage may then time out instead.
methods.sabotage_runtime!.expect.push("CallTimeoutError");
// A WASI interpreter has no event loop to schedule on: asyncio's loop needs a socketpair, and
// WASI interpreters have no sockets (OSError, so PythonError): the spin is never scheduled.
if (WASI) methods.spin_after_return!.expect.push("PythonError");

const DEADLINE_MS = 3000;
let manager: InterpreterManager;
let victim: ReplicatedObj;
let dos: ReplicatedObj;
/** dos with the deadline, for the calls that may end in CallTimeoutError. */
let timed: ReplicatedObj;

beforeAll(async () => {
  manager = await InterpreterManager.create({ ...kind, interpreters: 2, isolation: "sandboxed", interruptGraceMs: 500, onOutput: () => {} });
  victim = (await manager.loadPackage(path.join(HOSTILE, "victim.pt"))).loadPickle("victim", "victim.pkl");
  const pkg = await manager.loadPackage(path.join(HOSTILE, "dos.pt"), { memoryLimitMb: 450, engineMemoryPerCallMb: 64 });
  dos = pkg.loadPickle(manifest.archives["dos.pt"].pickle.package, manifest.archives["dos.pt"].pickle.resource);
  timed = dos.withOptions({ timeoutMs: DEADLINE_MS });
});
afterAll(() => manager?.close());

describe("denial of service is contained by its limits", () => {
  for (const name of order) {
    const spec = methods[name]!;
    it(`${name}(${spec.args.map((a) => JSON.stringify(a)).join(", ")}) ends in ${spec.expect.join(" or ")}`, async () => {
      const deadline = spec.expect.includes("CallTimeoutError");
      const started = performance.now();
      const outcome = await (deadline ? timed : dos).callMethod(name, ...spec.args).then(
        () => "returns",
        (e: Error) => e.name,
      );
      expect(spec.expect, `${name} ended in ${outcome}`).toContain(outcome);
      // The deadline, the interrupt's grace and a termination: seconds. (Without a deadline, a
      // call that never ends fails on vitest's test timeout.)
      if (deadline) expect(performance.now() - started).toBeLessThan(30_000);
      // The neighbour is untouched, with correct results.
      expect(await victim.callMethod("answer", 21)).toBe(43);
    });
  }

  it("after spin_after_return and sabotage_runtime, the hostile package hurt only itself", async () => {
    // Its own interpreter may be left spinning or broken: its next calls fail with a typed error or time out.
    const next = await Promise.all([0, 1].map(() => timed.callMethod("fork_bomb_threads", 1, 1).then(() => "returns", (e: Error) => e.name)));
    for (const n of next) expect(["returns", "CallTimeoutError", "PythonError"]).toContain(n);
    expect(await Promise.all([victim.callMethod("answer", 1), victim.callMethod("answer", 2)])).toStrictEqual([3, 5]);
  });
});
