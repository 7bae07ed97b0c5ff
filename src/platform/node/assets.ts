// Where the interpreters' assets live: Pyodide's distribution and our Python runtime.

import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

/** Bumped when the boot sequence changes in a way old snapshots would not match. */
export const BOOT_PROTOCOL = 1;

/** The project root: dist/platform/node/assets.js -> ../../.. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export function pyodideDir(): string {
  return path.dirname(require.resolve("pyodide"));
}

export function pyodideVersion(): string {
  return (JSON.parse(readFileSync(path.join(pyodideDir(), "package.json"), "utf8")) as { version: string }).version;
}

export interface RuntimeFile {
  /** Path relative to runtime/, with forward slashes. */
  path: string;
  source: string;
}

/** Every .py file under runtime/, sorted, so the hash is stable. */
export function runtimeFiles(root = path.join(PACKAGE_ROOT, "runtime")): RuntimeFile[] {
  const out: RuntimeFile[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) {
        if (name !== "__pycache__") walk(full, relPath);
      } else if (name.endsWith(".py")) {
        out.push({ path: relPath, source: readFileSync(full, "utf8") });
      }
    }
  };
  walk(root, "");
  return out;
}

/** Snapshot cache key: a snapshot only loads into the Pyodide build and runtime it was made from. */
export function snapshotKey(files: RuntimeFile[], isolation: string): string {
  const h = createHash("sha256");
  h.update(`pyodide ${pyodideVersion()}\nboot ${BOOT_PROTOCOL}\nisolation ${isolation}\n`);
  for (const f of files) h.update(`${f.path}\0${f.source}\0`);
  return h.digest("hex").slice(0, 24);
}
