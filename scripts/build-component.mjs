// Builds dist/component/: jco's JavaScript bindings for wasm/python.component.wasm (an ES
// module with sync instantiation plus the component's core modules), which the "component"
// interpreter kind loads (src/platform/node/wasi/component-assets.ts). Generated rather than
// committed: they are the component's own bytes again. Skipped when already made from the
// same component.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const COMPONENT = path.join(ROOT, "wasm", "python.component.wasm");
const OUT = path.join(ROOT, "dist", "component");
const STAMP = path.join(OUT, "component.sha256");
const JCO = path.join(ROOT, "node_modules", ".bin", "jco");

const hash = createHash("sha256").update(readFileSync(COMPONENT)).digest("hex");
if (existsSync(STAMP) && readFileSync(STAMP, "utf8") === hash) process.exit(0);
if (!existsSync(JCO)) {
  console.error(`build-component: ${JCO} is missing (jco is a dev dependency: npm ci)`);
  process.exit(1);
}
rmSync(OUT, { recursive: true, force: true });
// Sync instantiation: the host supplies every import (its own WASI over preview2-shim's
// in-memory pieces) and compiles each core module once per process.
execFileSync(JCO, ["transpile", COMPONENT, "--name", "interpreter", "--instantiation", "sync", "--no-nodejs-compat", "--no-typescript", "--quiet", "-o", OUT], { stdio: ["ignore", "ignore", "inherit"] });
// Types are not used (src/interpreter/component/instance.ts declares what it calls).
for (const f of ["interfaces", "interpreter.d.ts"]) rmSync(path.join(OUT, f), { recursive: true, force: true });
writeFileSync(STAMP, hash);
