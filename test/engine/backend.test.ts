import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { defaultBackendName, loadBackend, registerBackend } from "../../src/engine/backend.js";

const child = fileURLToPath(new URL("./fixtures/load-one-backend.ts", import.meta.url));

describe("backend registry", () => {
  it("defaults to ort-node under Node.js", () => {
    expect(defaultBackendName()).toBe("ort-node");
  });

  it("rejects unknown backends", async () => {
    await expect(loadBackend("ort-gpu" as "ort-node")).rejects.toThrow(/unknown engine backend "ort-gpu"; expected one of ort-node, ort-web/);
  });

  it("lets a loader be replaced", async () => {
    const fake = { name: "ort-web" as const, createSession: () => Promise.reject(new Error("fake")) };
    registerBackend("ort-web", async () => fake);
    try {
      expect(await loadBackend("ort-web")).toBe(fake);
    } finally {
      registerBackend("ort-web", async (o) => (await import("../../src/engine/backends/ort-web.js")).createOrtWebBackend(o));
    }
  });

  it.each([
    ["ort-node", "onnxruntime-node", "onnxruntime-web"],
    ["ort-web", "onnxruntime-web", "onnxruntime-node"],
  ])("using %s never loads the other runtime", (backend, uses, avoids) => {
    const out = execFileSync(process.execPath, ["--import", "tsx", child, backend], { encoding: "utf8" });
    const loaded: string[] = JSON.parse(out.trim().split("\n").pop()!);
    expect(loaded).toContain(uses);
    expect(loaded).not.toContain(avoids);
  });
});
