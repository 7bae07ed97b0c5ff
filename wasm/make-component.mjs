#!/usr/bin/env node
// Turns the component build's core module into the interpreter component:
//   node wasm/make-component.mjs CORE_WASM OUTDIR
// writes OUTDIR/python.component.wasm (wit/interpreter.wit's world; WASI 0.2 imports through
// the preview1 reactor adapter that jco ships). Its JS bindings are made by `npm run build`
// (scripts/build-component.mjs).
// Run by wasm/build-python.sh; needs the project's node_modules (jco is a dev dependency).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [core, out] = process.argv.slice(2);
if (!core || !out) {
  console.error("usage: node wasm/make-component.mjs CORE_WASM OUTDIR");
  process.exit(2);
}
const jcoBin = path.join(ROOT, "node_modules", ".bin", "jco");
if (!existsSync(jcoBin)) {
  // Types are not used (src/interpreter/component/instance.ts declares what it calls).
for (const f of ["interfaces", "interpreter.d.ts"]) rmSync(path.join(bindings, f), { recursive: true, force: true });
console.error(`make-component: ${jcoBin} is missing: run npm ci first (jco is a dev dependency)`);
  process.exit(1);
}
const { componentEmbed } = await import("@bytecodealliance/jco");
// The WIT goes in as text: jco's wasm-tools runs sandboxed and cannot open the file by path.
const embedded = await componentEmbed({
  binary: readFileSync(core),
  witSource: readFileSync(path.join(ROOT, "wit", "interpreter.wit"), "utf8"),
  world: "interpreter",
});
mkdirSync(out, { recursive: true });
const tmp = path.join(out, ".embedded.wasm");
writeFileSync(tmp, embedded);
const component = path.join(out, "python.component.wasm");
const jco = (...args) => execFileSync(jcoBin, args, { stdio: ["ignore", "ignore", "inherit"] });
try {
  jco("new", tmp, "--wasi-reactor", "-o", component);
} finally {
  rmSync(tmp, { force: true });
}
console.error(`make-component: ${component} (${readFileSync(component).length} bytes)`);
