// Builds dist/browser/: the ES module bundle (wasmdeploy.js), the interpreter worker
// (wasi-worker.js), the WASI interpreter's assets and manifest.json (its cache key, computed
// as Node computes it), ONNX Runtime's WebGPU+wasm build under ort/, and the demo page.
// Run after tsc (it reads the key and the runtime files through dist/).

import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "dist", "browser");
rmSync(OUT, { recursive: true, force: true });
mkdirSync(path.join(OUT, "ort"), { recursive: true });

const common = { bundle: true, format: "esm", platform: "browser", target: "es2022", sourcemap: true, logLevel: "warning", legalComments: "none" };
await esbuild.build({
  ...common,
  entryPoints: { wasmdeploy: path.join(ROOT, "src", "platform", "browser", "entry.ts"), "wasi-worker": path.join(ROOT, "src", "platform", "browser", "worker.ts") },
  outdir: OUT,
  // Loaded at run time from ort/ (ort.ts); the Node-only ones are never reached in the bundle.
  external: ["onnxruntime-web", "onnxruntime-node", "pyodide", "node:*"],
});
await esbuild.build({ ...common, entryPoints: { demo: path.join(ROOT, "web", "demo.ts") }, outdir: OUT, external: ["./wasmdeploy.js"] });
for (const f of ["index.html", "demo.css"]) copyFileSync(path.join(ROOT, "web", f), path.join(OUT, f));

const { runtimeFiles } = await import(path.join(ROOT, "dist", "platform", "node", "assets.js"));
const { wasiAssets } = await import(path.join(ROOT, "dist", "platform", "node", "wasi", "assets.js"));
const files = runtimeFiles();
const assets = wasiAssets(files);
copyFileSync(path.join(ROOT, "wasm", "python.wasm"), path.join(OUT, "python.wasm"));
copyFileSync(path.join(ROOT, "wasm", "stdlib.zip"), path.join(OUT, "stdlib.zip"));
writeFileSync(path.join(OUT, "runtime.json"), JSON.stringify(files));
writeFileSync(
  path.join(OUT, "manifest.json"),
  JSON.stringify({ key: assets.key, minPages: assets.minPages, wasm: "python.wasm", stdlib: "stdlib.zip", runtime: "runtime.json" }, null, 1),
);
// The sci build (numpy, Pillow): fetched only by managers created with wasiBuild: "sci".
const sci = wasiAssets(files, "sci");
copyFileSync(path.join(ROOT, "wasm", "python-sci.wasm"), path.join(OUT, "python-sci.wasm"));
copyFileSync(path.join(ROOT, "wasm", "stdlib-sci.zip"), path.join(OUT, "stdlib-sci.zip"));
writeFileSync(
  path.join(OUT, "manifest-sci.json"),
  JSON.stringify({ key: sci.key, minPages: sci.minPages, wasm: "python-sci.wasm", stdlib: "stdlib-sci.zip", runtime: "runtime.json" }, null, 1),
);

const ORT = path.join(ROOT, "node_modules", "onnxruntime-web", "dist");
for (const f of ["ort.webgpu.min.mjs", "ort-wasm-simd-threaded.asyncify.mjs", "ort-wasm-simd-threaded.asyncify.wasm"]) {
  copyFileSync(path.join(ORT, f), path.join(OUT, "ort", f));
}
