// `npm test` runs this first: the browser suite needs a Chromium (test/browser/chromium.ts says
// where it looks). When there is none it runs `npx playwright install chromium`; when that fails
// too it stops here, with one line saying how to get a browser, instead of failing every browser
// test after the long vitest run. Never a silent skip.

import { spawnSync } from "node:child_process";
import { chromium } from "@playwright/test";
import { findChromium } from "../test/browser/chromium.js";

const HOW = "install one (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable";

function fail(line: string): never {
  process.stderr.write(`wasmdeploy: ${line}\n`);
  process.exit(1);
}

function playwrightChromium(): string {
  try {
    return chromium.executablePath();
  } catch {
    return ""; // a platform Playwright has no build for
  }
}

function find() {
  try {
    return findChromium(process.env, playwrightChromium());
  } catch (e) {
    fail(`the browser suite's Chromium: ${(e as Error).message}; point it at a Chromium or Chrome executable, or unset it`);
  }
}

let found = find();
if (!found) {
  process.stdout.write("wasmdeploy: no Chromium (CHROMIUM_PATH, chromium/chromium-browser/google-chrome on PATH, Playwright's); running npx playwright install chromium\n");
  // Its output (progress, retries, stack traces) is kept for the one line below, not echoed.
  const r = spawnSync("npx", ["playwright", "install", "chromium"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  found = find();
  if (r.status !== 0 || !found) {
    const output = `${r.stderr ?? ""}\n${r.stdout ?? ""}`;
    const why = r.error?.message ?? /^Error: .*$/m.exec(output)?.[0] ?? (r.status === 0 ? "it installed no Chromium" : `exit code ${r.status}`);
    fail(`the browser suite needs a Chromium and none was found; \`npx playwright install chromium\` failed (${why}); ${HOW}`);
  }
}
process.stdout.write(`wasmdeploy: the browser suite runs ${found.path} (found via ${found.via})\n`);
