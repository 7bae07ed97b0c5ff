// Finding the browser suite's Chromium (chromium.ts) in its order, and `npm test`'s first step
// (scripts/ensure-chromium.ts) when there is none: it runs `npx playwright install chromium`,
// and when that fails it exits non-zero with one line saying how to get a browser. A fake `npx`
// stands in for Playwright's download, so this never downloads anything.

import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { findChromium } from "./chromium.js";

const tmp = mkdtempSync(path.join(tmpdir(), "wasmdeploy-chromium-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function executable(file: string, script = "#!/bin/sh\n"): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  return file;
}

describe("findChromium", () => {
  const a = path.join(tmp, "a");
  const b = path.join(tmp, "b");
  const chromiumInB = executable(path.join(b, "chromium"));
  const chromeInA = executable(path.join(a, "google-chrome"));
  const own = executable(path.join(tmp, "playwright", "chrome"));
  const chosen = executable(path.join(tmp, "chosen", "chrome"));
  writeFileSync(path.join(a, "chromium"), "not executable");
  const PATH = [a, b].join(path.delimiter);

  it("takes CHROMIUM_PATH first, then chromium, chromium-browser, google-chrome on PATH, then Playwright's", () => {
    expect(findChromium({ CHROMIUM_PATH: chosen, PATH }, own)).toStrictEqual({ path: chosen, via: "CHROMIUM_PATH" });
    // By name first: chromium (in the second directory) before google-chrome (in the first); a file that is not executable is skipped.
    expect(findChromium({ PATH }, own)).toStrictEqual({ path: chromiumInB, via: "PATH" });
    expect(findChromium({ PATH: a }, own)).toStrictEqual({ path: chromeInA, via: "PATH" });
    expect(findChromium({ PATH: path.join(tmp, "empty") }, own)).toStrictEqual({ path: own, via: "Playwright" });
    expect(findChromium({ PATH: path.join(tmp, "empty") }, path.join(tmp, "not-installed", "chrome"))).toBeUndefined();
  });

  it("refuses a CHROMIUM_PATH that names no executable instead of looking elsewhere", () => {
    expect(() => findChromium({ CHROMIUM_PATH: path.join(tmp, "nothing"), PATH }, own)).toThrow(/CHROMIUM_PATH=.*nothing is not an executable file/);
  });
});

describe("npm test's first step without any Chromium", () => {
  // PATH holds node and a fake npx only; Playwright's browsers go to an empty folder.
  const bin = path.join(tmp, "bin");
  mkdirSync(bin, { recursive: true });
  symlinkSync(process.execPath, path.join(bin, "node"));
  const browsers = path.join(tmp, "browsers");
  const calls = path.join(tmp, "npx-calls");
  const env = { HOME: process.env.HOME, PATH: bin, PLAYWRIGHT_BROWSERS_PATH: browsers, NPX_CALLS: calls };
  const ensure = () => spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", "ensure-chromium.ts")], { cwd: ROOT, env, encoding: "utf8" });

  it("tries `npx playwright install chromium`, then stops with one line saying how to get a browser", () => {
    // Fails as an offline download does: noise on both streams, exit code 1.
    executable(path.join(bin, "npx"), `#!/bin/sh\necho "$@" >> "$NPX_CALLS"\necho "Downloading Chrome for Testing"\necho "Error: getaddrinfo ENOTFOUND cdn.playwright.dev" >&2\necho "    at GetAddrInfoReqWrap.onlookupall" >&2\nexit 1\n`);
    const r = ensure();
    expect(readFileSync(calls, "utf8")).toBe("playwright install chromium\n");
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^wasmdeploy: the browser suite needs a Chromium .*`npx playwright install chromium` failed \(Error: getaddrinfo ENOTFOUND cdn\.playwright\.dev\); install one \(.*apt-get install chromium\) or set CHROMIUM_PATH/);
  });

  it("uses the Chromium that `npx playwright install chromium` installed", () => {
    rmSync(calls, { force: true });
    const where = spawnSync(process.execPath, ["-e", 'import("@playwright/test").then((m) => process.stdout.write(m.chromium.executablePath()))'], { cwd: ROOT, env, encoding: "utf8" }).stdout;
    expect(where.startsWith(browsers)).toBe(true);
    executable(path.join(bin, "npx"), `#!/bin/sh\nPATH=/usr/bin:/bin\necho "$@" >> "$NPX_CALLS"\nmkdir -p "$(dirname "${where}")"\nprintf '#!/bin/sh\\n' > "${where}"\nchmod 755 "${where}"\n`);
    const r = ensure();
    expect(readFileSync(calls, "utf8")).toBe("playwright install chromium\n");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`runs ${where} (found via Playwright)`);
  });
});
