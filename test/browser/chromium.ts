// Which Chromium the browser suite launches, looked for in this order: CHROMIUM_PATH; a
// chromium, chromium-browser or google-chrome on PATH (Debian's /usr/bin/chromium); the one
// Playwright downloads (`npx playwright install chromium`). playwright.config.ts launches what
// this finds; scripts/ensure-chromium.ts, which `npm test` runs first, installs one when nothing is.

import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";

/** Executable names looked for on PATH, in this order. */
export const PATH_NAMES = ["chromium", "chromium-browser", "google-chrome"];

export interface FoundChromium {
  path: string;
  /** Where it was found: "CHROMIUM_PATH", "PATH" or "Playwright". */
  via: string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The Chromium to launch, or undefined when there is none. `playwrightChromium` is where
 * Playwright keeps its own (`chromium.executablePath()`, which may not exist). A CHROMIUM_PATH
 * that names no executable is an error rather than a fall-through: the user asked for that one.
 */
export function findChromium(env: NodeJS.ProcessEnv, playwrightChromium: string): FoundChromium | undefined {
  if (env.CHROMIUM_PATH) {
    if (!isExecutable(env.CHROMIUM_PATH)) throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file`);
    return { path: env.CHROMIUM_PATH, via: "CHROMIUM_PATH" };
  }
  const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const name of PATH_NAMES) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return { path: file, via: "PATH" };
    }
  }
  if (playwrightChromium && isExecutable(playwrightChromium)) return { path: playwrightChromium, via: "Playwright" };
  return undefined;
}
