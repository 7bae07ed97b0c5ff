// The browser suite (test/browser/*.spec.ts): a Chromium (test/browser/chromium.ts finds it),
// headless, against `wasmdeploy web` serving the committed test archives that
// test/browser/global-setup.ts puts in place. WebGPU here is SwiftShader (a CPU implementation),
// so the WebGPU tests use small models.

import { mkdirSync } from "node:fs";
import { chromium, defineConfig } from "@playwright/test";
import { findChromium } from "./test/browser/chromium.js";
import { FILES, PORT } from "./test/browser/paths.js";

mkdirSync(FILES, { recursive: true }); // the server's --root must exist when it starts

export default defineConfig({
  testDir: "test/browser",
  testMatch: "*.spec.ts",
  globalSetup: "./test/browser/global-setup.ts",
  outputDir: "test-results/browser",
  timeout: 120_000,
  expect: { timeout: 60_000 },
  // One browser at a time: two cores, and each page runs several interpreter workers.
  workers: 1,
  fullyParallel: false,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: "chromium",
    headless: true,
    screenshot: "only-on-failure",
    launchOptions: {
      // None found: Playwright's own error says to run `npx playwright install` (`npm test` does that first).
      executablePath: findChromium(process.env, chromium.executablePath())?.path,
      // --no-sandbox: Chromium's sandbox cannot start as root (CI); WebGPU is behind a flag on Linux.
      args: ["--no-sandbox", "--enable-unsafe-webgpu"],
    },
  },
  webServer: {
    command: `node dist/cli/main.js web --port ${PORT} --host 127.0.0.1 --root ${FILES}`,
    url: `http://127.0.0.1:${PORT}/manifest.json`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
  },
});
