// The browser suite (test/browser/*.spec.ts): Debian's Chromium, headless, against
// `wasmdeploy web` serving the test archives that test/browser/global-setup.ts makes with real
// PyTorch. WebGPU here is SwiftShader (a CPU implementation), so the WebGPU tests use small models.

import { mkdirSync } from "node:fs";
import { defineConfig } from "@playwright/test";
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
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
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
