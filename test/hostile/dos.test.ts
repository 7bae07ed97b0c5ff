// Denial-of-service attempts (packages/archives/hostile/dos.pt) are stopped by the
// package's own limits (deadline, interpreter memory, engine memory per run), each with
// a typed error, while a well-behaved package beside it keeps answering correctly.

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

let manager: InterpreterManager;
let victim: ReplicatedObj;
let dos: ReplicatedObj;

beforeAll(async () => {
  manager = await InterpreterManager.create({ ...kind, interpreters: 2, isolation: "sandboxed", interruptGraceMs: 500, onOutput: () => {} });
  victim = (await manager.loadPackage(path.join(HOSTILE, "victim.pt"))).loadPickle("victim", "victim.pkl");
  const pkg = await manager.loadPackage(path.join(HOSTILE, "dos.pt"), { callTimeoutMs: 3000, memoryLimitMb: 450, engineMemoryPerCallMb: 64 });
  dos = pkg.loadPickle(manifest.archives["dos.pt"].pickle.package, manifest.archives["dos.pt"].pickle.resource);
});
afterAll(() => manager?.close());

describe("denial of service is contained by the package's limits", () => {
  for (const name of order) {
    const spec = methods[name]!;
    it(`${name}(${spec.args.map((a) => JSON.stringify(a)).join(", ")}) ends in ${spec.expect.join(" or ")}`, async () => {
      const started = performance.now();
      const outcome = await dos.callMethod(name, ...spec.args).then(
        () => "returns",
        (e: Error) => e.name,
      );
      expect(spec.expect, `${name} ended in ${outcome}`).toContain(outcome);
      expect(performance.now() - started).toBeLessThan(30_000);
      // The neighbour is untouched, with correct results.
      expect(await victim.callMethod("answer", 21)).toBe(43);
    });
  }

  it("after spin_after_return and sabotage_runtime, the hostile package hurt only itself", async () => {
    // Its own interpreter may be left spinning or broken: its next calls fail with a typed error or time out.
    const next = await Promise.all([0, 1].map(() => dos.callMethod("fork_bomb_threads", 1, 1).then(() => "returns", (e: Error) => e.name)));
    for (const n of next) expect(["returns", "CallTimeoutError", "PythonError"]).toContain(n);
    expect(await Promise.all([victim.callMethod("answer", 1), victim.callMethod("answer", 2)])).toStrictEqual([3, 5]);
  });
});
