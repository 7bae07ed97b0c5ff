// Every call recorded in packages/archives/expected.json, made by real PyTorch's
// torch.package in CPython, must give the same result through wasmdeploy.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, type Package, PythonError } from "wasmdeploy";
import { archive, expectedFor, fromExpected, isExpectedError } from "../helpers.js";
import { kind } from "../kind.js";

const expected = expectedFor("expected.json");
let manager: InterpreterManager;
const packages = new Map<string, Package>();

beforeAll(async () => {
  manager = await InterpreterManager.create({ ...kind, interpreters: 2 });
  for (const file of Object.keys(expected)) packages.set(file, await manager.loadPackage(archive(file)));
});
afterAll(() => manager?.close());

const demangle = (s: string) => s.replace(/<torch_package_\d+>\./g, "");

for (const [file, exp] of Object.entries(expected)) {
  describe(file, () => {
    it("answers every recorded call as CPython + torch.package did", async () => {
      const pkg = packages.get(file)!;
      for (const call of exp.calls) {
        // Each archive's calls ran in order on one object in CPython: use one session's object.
        const obj = pkg.loadPickle(call.package, call.resource);
        const args = call.args.map(fromExpected);
        const kwargs = fromExpected(call.kwargs) as Record<string, unknown>;
        const what = `${call.method ?? "__call__"}(${JSON.stringify(call.args)})`;
        const run = call.method === null ? obj.callKwargs(args, kwargs) : obj.callMethodKwargs(call.method, args, kwargs);
        if (isExpectedError(call.result)) {
          const err = await run.then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, what).toBeInstanceOf(PythonError);
          const pe = err as PythonError;
          expect(pe.pyType === call.result.$error || pe.pyType.endsWith(`.${call.result.$error}`), `${what}: ${pe.pyType}`).toBe(true);
          expect(demangle(pe.pyMessage), what).toBe(call.result.message);
          expect(pe.pyTraceback, what).toContain("Traceback");
        } else {
          expect(await run, what).toStrictEqual(fromExpected(call.result));
        }
      }
    });
  });
}

describe("resources from TypeScript", () => {
  it("reads text and binary resources", async () => {
    const pkg = packages.get("tokenizer.pt")!;
    expect(await pkg.loadText("assets", "readme.txt")).toContain("toy tokenizer");
    const blob = await pkg.loadBinary("assets", "blob.bin");
    expect(Array.from(blob)).toStrictEqual(Array.from({ length: 256 }, (_, i) => i));
  });
});
