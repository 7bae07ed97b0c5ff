// The interpreter component's assets (interpreter: "component"), prepared once per process:
// the core modules jco's transpile wrote to dist/component/ (npm run build makes them from
// wasm/python.component.wasm), each compiled once (every
// instance on every thread shares their code), its bindings module, and the same read-only
// file image as python.wasm's instances mount.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ShimModules } from "../../../interpreter/component/wasi-p2.js";
import { buildFileImage, type FileImage } from "../../../interpreter/wasi/image.js";
import { WasmdeployError } from "../../../errors.js";
import { PACKAGE_ROOT, type RuntimeFile } from "../assets.js";
import { stdlibZipPath } from "./assets.js";

export const COMPONENT_DIR = path.join(PACKAGE_ROOT, "dist", "component");

export interface ComponentAssets {
  modules: Record<string, WebAssembly.Module>;
  /** URL of the bindings (interpreter.js, exporting `instantiate`). */
  bindings: string;
  files: FileImage;
}

let cached: ComponentAssets | undefined;

export function componentAssets(runtime: RuntimeFile[]): ComponentAssets {
  if (cached) return cached;
  const modules: Record<string, WebAssembly.Module> = {};
  let names: string[];
  try {
    names = readdirSync(COMPONENT_DIR);
  } catch {
    throw new WasmdeployError(`interpreter "component" needs its bindings in ${COMPONENT_DIR}: run \`npm run build\` (scripts/build-component.mjs makes them from wasm/python.component.wasm)`);
  }
  for (const name of names) {
    if (name.endsWith(".wasm")) modules[name] = new WebAssembly.Module(readFileSync(path.join(COMPONENT_DIR, name)));
  }
  cached = {
    modules,
    bindings: pathToFileURL(path.join(COMPONENT_DIR, "interpreter.js")).href,
    files: buildFileImage(runtime, new Uint8Array(readFileSync(stdlibZipPath()))),
  };
  return cached;
}

let shimPromise: Promise<ShimModules> | undefined;

/**
 * preview2-shim's browser modules, loaded by path: the package's exports give Node its Node
 * modules, which reach the host's files, environment and network (docs/security.md).
 */
export function loadShim(): Promise<ShimModules> {
  shimPromise ??= (async () => {
    const nodeEntry = import.meta.resolve("@bytecodealliance/preview2-shim");
    const browser = path.join(path.dirname(new URL(nodeEntry).pathname), "..", "browser");
    const load = (name: string) => import(pathToFileURL(path.join(browser, `${name}.js`)).href);
    const [io, cli, clocks, random, filesystem, memfs] = await Promise.all(["io", "cli", "clocks", "random", "filesystem", "in-memory-filesystem"].map(load));
    return { io, cli, clocks, random, filesystem, memfs } as ShimModules;
  })();
  return shimPromise;
}
