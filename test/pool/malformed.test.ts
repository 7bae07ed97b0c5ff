// Malformed and hostile archives are refused with PackageFormatError before any
// interpreter sees them, and the pool keeps serving.

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, PackageFormatError } from "wasmdeploy";
import { archive } from "../helpers.js";
import { kind } from "../kind.js";

let manager: InterpreterManager;
beforeAll(async () => {
  manager = await InterpreterManager.create({ ...kind, interpreters: 1 });
});
afterAll(() => manager?.close());

const cases: [string, RegExp][] = [
  ["bad/not_a_zip.pt", /not a zip/i],
  ["bad/empty.pt", /empty/i],
  ["bad/truncated.pt", /truncated|not a zip/i],
  ["bad/no_version.pt", /\.data\/version is missing/],
  ["bad/traversal.pt", /unsafe entry name "\.\.\/evil\.py"/],
  ["bad/absolute.pt", /unsafe entry name "\/etc\/evil\.py"/],
  ["bad/bomb.pt", /zip bomb/],
];

describe("malformed archives", () => {
  for (const [file, pattern] of cases) {
    it(`refuses ${file}`, async () => {
      const err = await manager.loadPackage(archive(file)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PackageFormatError);
      expect(String((err as Error).message)).toMatch(pattern);
      expect(String((err as Error).message)).toContain(file);
    });
  }

  it("names a missing file and the fix", async () => {
    await expect(manager.loadPackage(archive("nope.pt"))).rejects.toThrow(/file not found; check the path/);
  });

  it("enforces configurable entry-count and size limits", async () => {
    await expect(manager.loadPackage(archive("tokenizer.pt"), { limits: { maxEntries: 3 } })).rejects.toThrow(/maxEntries/);
    await expect(manager.loadPackage(archive("tokenizer.pt"), { limits: { maxEntryBytes: 100 } })).rejects.toThrow(/maxEntryBytes/);
    await expect(manager.loadPackage(archive("tokenizer.pt"), { limits: { maxArchiveBytes: 1000 } })).rejects.toThrow(/maxArchiveBytes/);
  });

  it("refuses a torch.save checkpoint with a pointer to torch.package", async () => {
    // A torch.save zip has <root>/data.pkl and <root>/version but no .data/ folder.
    const { zipSync } = await import("fflate");
    const bytes = zipSync({ "ckpt/data.pkl": new Uint8Array([0x80, 2, 0x4e, 0x2e]), "ckpt/version": new TextEncoder().encode("3\n") });
    await expect(manager.loadPackage(bytes)).rejects.toThrow(/torch\.save checkpoint/);
  });

  it("keeps serving after refusing them", async () => {
    const tok = (await manager.loadPackage(new Uint8Array(readFileSync(archive("tokenizer.pt"))))).loadPickle("tok", "tok.pkl");
    expect(await tok.callMethod("encode", "the lazy fox")).toStrictEqual([4, 10, 7]);
  });
});
