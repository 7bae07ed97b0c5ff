// `wasmdeploy web` as a user starts it (vitest, no browser): it prints its URL, every response
// carries the two cross-origin isolation headers, the bundle and its assets are served, DIR's
// files are at /files/, and nothing outside DIR is (no `..`, encoded or not, no symlink out).

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-web-"));
const root = path.join(dir, "root");
let server: ChildProcess;
let origin: string;

/** A raw GET: the path is sent as written (fetch would normalise `..` away). */
function get(p: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(origin);
    const req = request({ host: u.hostname, port: u.port, path: p, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  mkdirSync(path.join(root, "sub"), { recursive: true });
  writeFileSync(path.join(root, "sub", "a.txt"), "inside");
  writeFileSync(path.join(dir, "secret.txt"), "outside");
  symlinkSync(path.join(dir, "secret.txt"), path.join(root, "link.txt"));
  server = spawn("node", [path.join(ROOT, "dist", "cli", "main.js"), "web", "--port", "0", "--root", root], { stdio: ["ignore", "pipe", "inherit"] });
  origin = await new Promise<string>((resolve, reject) => {
    server.once("exit", (code) => reject(new Error(`wasmdeploy web exited with ${code}`)));
    server.stdout!.on("data", (d) => {
      const m = /^wasmdeploy web: (http:\/\/127\.0\.0\.1:\d+)\//m.exec(String(d));
      if (m) resolve(m[1]!);
    });
  });
});
afterAll(() => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("wasmdeploy web", () => {
  it("serves the demo, the bundle and its assets, cross-origin isolated", async () => {
    for (const [p, type] of [
      ["/", "text/html"],
      ["/wasmdeploy.js", "text/javascript"],
      ["/wasi-worker.js", "text/javascript"],
      ["/python.wasm", "application/wasm"],
      ["/manifest.json", "application/json"],
      ["/ort/ort.webgpu.min.mjs", "text/javascript"],
    ] as const) {
      const r = await get(p);
      expect(r.status, p).toBe(200);
      expect(r.headers["content-type"], p).toContain(type);
      expect(r.headers["cross-origin-opener-policy"], p).toBe("same-origin");
      expect(r.headers["cross-origin-embedder-policy"], p).toBe("require-corp");
    }
    expect((await get("/")).body).toContain('<script type="module" src="demo.js">');
  });

  it("serves DIR's files under /files/ and nothing outside it", async () => {
    const ok = await get("/files/sub/a.txt");
    expect(ok.status).toBe(200);
    expect(ok.body).toBe("inside");
    expect(ok.headers["cross-origin-embedder-policy"]).toBe("require-corp");
    for (const p of ["/files/../secret.txt", "/files/sub/../../secret.txt", "/files/%2e%2e/secret.txt", "/files/sub%2f..%2f..%2fsecret.txt", "/files/link.txt", "/files/sub", "/files/nope", "/../package.json", "/%2e%2e/package.json"]) {
      const r = await get(p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toContain("outside");
    }
  });
});
