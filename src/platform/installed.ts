// Which Platform the manager runs on. Each entry point installs its own before any manager is
// created (src/index.ts: Node's; the browser bundle's entry: the browser's; the edge worker:
// the isolate's), so the manager and everything under it import no runtime-specific module.

import type { Platform } from "./platform.js";

let installed: Platform | undefined;

export function installPlatform(platform: Platform): void {
  installed = platform;
}

export function installedPlatform(): Platform {
  if (!installed) {
    throw new Error("no platform installed: import wasmdeploy through its entry point (\"wasmdeploy\"), not a file under dist/");
  }
  return installed;
}
