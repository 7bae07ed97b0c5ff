// Interpreters of one package share its compiled code: the first compiles every source and the
// others load the marshalled code objects (runtime/wasmdeploy_runtime/package_importer.py). What
// they run must be the same, and a traceback must name each interpreter's own module file and
// show the source line, whatever that interpreter's mangle counter.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, PythonError } from "wasmdeploy";
import { archive } from "../helpers.js";
import { kind } from "../kind.js";

describe("compiled code shared between a package's interpreters", () => {
  let manager: InterpreterManager;

  beforeAll(async () => {
    manager = await InterpreterManager.create({ ...kind, isolation: "trusted", interpreters: 2, onOutput: () => {} });
  });
  afterAll(() => manager?.close());

  it("serves on an interpreter that got the code from another, with its own file names in tracebacks", async () => {
    const [a, b] = manager.allInstances();
    // Interpreter b loads another package first: its next package gets another mangle prefix.
    const tok = (await manager.loadPackage(archive("tokenizer.pt"))).loadPickle("tok", "tok.pkl");
    const sb0 = b!.acquireSession();
    await sb0.fromMovable(tok);
    await sb0.release();

    const faults = (await manager.loadPackage(archive("faults.pt"))).loadPickle("faults", "obj.pkl");
    const traces: string[] = [];
    for (const inst of [a!, b!]) {
      const s = inst.acquireSession();
      const obj = await s.fromMovable(faults);
      expect(await obj.callMethod("ok")).toBe("ok");
      const err = await obj.callMethod("raise_value_error", "boom").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PythonError);
      traces.push((err as PythonError).pyTraceback);
      await s.release();
    }
    // a compiled the package (its first), b loaded a's code under b's own prefix.
    const prefix = (t: string) => /File "<torch_package_(\d+)>\.faults_mod\/__init__\.py", line \d+, in raise_value_error\n\s+(\S.*)/.exec(t);
    const [ta, tb] = traces.map(prefix);
    expect(ta, traces[0]).toBeTruthy();
    expect(tb, traces[1]).toBeTruthy();
    expect(ta![1]).not.toBe(tb![1]);
    expect(tb![2]).toBe(ta![2]);
    expect(tb![2]).toMatch(/raise ValueError/);
  });
});
