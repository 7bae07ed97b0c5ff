// loadPackage's sources beside a path and bytes (added for browsers, kept working under Node):
// a file URL, a fetch Response; a failed Response is a PackageFormatError naming its status.

import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, PackageFormatError } from "wasmdeploy";
import { ROOT } from "../helpers.js";

const ARCHIVE = path.join(ROOT, "packages", "archives", "faults.pt");
let manager: InterpreterManager;
beforeAll(async () => {
  manager = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi" });
});
afterAll(() => manager?.close());

describe("loadPackage sources", () => {
  it("takes a file URL and a Response", async () => {
    const fromUrl = (await manager.loadPackage(pathToFileURL(ARCHIVE))).loadPickle("faults", "obj.pkl");
    expect(await fromUrl.callMethod("ok")).toBe("ok");
    const fromResponse = (await manager.loadPackage(new Response(new Uint8Array(readFileSync(ARCHIVE))))).loadPickle("faults", "obj.pkl");
    expect(await fromResponse.callMethod("ok")).toBe("ok");
  });

  it("refuses a failed Response and a URL to nothing with PackageFormatError", async () => {
    await expect(manager.loadPackage(new Response("gone", { status: 404, statusText: "Not Found" }))).rejects.toThrow(PackageFormatError);
    await expect(manager.loadPackage(new Response("gone", { status: 404, statusText: "Not Found" }))).rejects.toThrow(/404 Not Found/);
    await expect(manager.loadPackage(pathToFileURL(path.join(ROOT, "no-such.pt")))).rejects.toThrow(/file not found/);
  });
});
