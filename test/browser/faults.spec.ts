// Faults inside a Web Worker interpreter: a deadline interrupts a Python loop, a loop that
// swallows the interrupt gets its worker terminated, os.abort() ends the instance; each is a
// typed error and the next call is served (a respawned worker, from the snapshot).

import { expect, test } from "@playwright/test";
import { openPage } from "./helpers.js";

test("deadlines, a runaway worker and a crash are typed errors, and the pool keeps serving", async ({ page }) => {
  await openPage(page);
  const r = await page.evaluate(async () => {
    const w = await import(`${location.origin}/wasmdeploy.js`);
    const m = await w.InterpreterManager.create({ interpreters: 1, interruptGraceMs: 500 });
    const obj = (await m.loadPackage("/files/faults.pt")).loadPickle("faults", "obj.pkl");
    // Only the loops get the deadline: on a loaded machine it could otherwise end the calls
    // that must succeed (the first after a respawn also restores the worker and the package).
    const loops = ["loop_forever", "loop_ignoring_interrupt"];
    const outcome = async (method: string, ...args: unknown[]) => {
      try {
        return { ok: await (loops.includes(method) ? obj.withOptions({ timeoutMs: 1000 }) : obj).callMethod(method, ...args) };
      } catch (e) {
        return { error: (e as Error).name, message: (e as Error).message };
      }
    };
    const out: Record<string, unknown> = {};
    for (const [method, args] of [["raise_value_error", ["boom"]], ["loop_forever", []], ["loop_ignoring_interrupt", []], ["crash", []]] as const) {
      out[method] = await outcome(method, ...args);
      out[`${method} then ok`] = await outcome("ok");
    }
    out.generation = m.stats().interpreters[0].generation;
    await m.close();
    return out;
  });
  expect(r.raise_value_error).toMatchObject({ error: "PythonError" });
  expect((r.raise_value_error as { message: string }).message).toContain("boom");
  expect(r.loop_forever).toMatchObject({ error: "CallTimeoutError" });
  expect(r.loop_ignoring_interrupt).toMatchObject({ error: "CallTimeoutError" });
  expect(r.crash).toMatchObject({ error: "InterpreterCrashedError" });
  for (const k of ["raise_value_error", "loop_forever", "loop_ignoring_interrupt", "crash"]) expect(r[`${k} then ok`], k).toStrictEqual({ ok: "ok" });
  // The runaway loop's worker and the crashed instance were replaced.
  expect(r.generation).toBeGreaterThanOrEqual(2);
});
