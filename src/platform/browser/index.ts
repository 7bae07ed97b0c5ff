// The browser platform: interpreters are WASI CPython instances in Web Workers, the engine is
// onnxruntime-web in the page (one per manager: weights are registered once and every
// interpreter's graphs run against them), files are fetched. The bundle's entry (entry.ts)
// installs it for the manager.

import { Engine } from "../../engine/engine.js";
import type { Platform } from "../platform.js";
import { BrowserAssets, type BrowserBuild } from "./assets.js";
import { wasiWorkers } from "./interpreters.js";
import { registerBrowserBackends } from "./ort.js";

let assetsBase: URL | undefined;
/** Where python.wasm, the workers and ort/ are served: beside the bundle unless set. */
export function setAssetsUrl(url: string | URL): void {
  assetsBase = new URL(url, globalThis.location?.href);
  assetsPromises.clear();
}
function base(): URL {
  return assetsBase ?? new URL(".", import.meta.url);
}
/** Each build's assets, opened once (the manager's wasiBuild picks one). */
const assetsPromises = new Map<BrowserBuild, Promise<BrowserAssets>>();
const assets = (build: BrowserBuild) => {
  let p = assetsPromises.get(build);
  if (!p) {
    p = BrowserAssets.open(base(), build).catch((e: unknown) => {
      assetsPromises.delete(build);
      throw e;
    });
    assetsPromises.set(build, p);
  }
  return p;
};

registerBrowserBackends(base);

const wasi = wasiWorkers(assets);

export const browserPlatform: Platform = {
  cores: () => globalThis.navigator?.hardwareConcurrency ?? 1,
  async readFile(p) {
    const url = new URL(String(p), globalThis.location?.href);
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw Object.assign(new Error(`cannot fetch ${url.href}: ${String(e)}`), { code: "EFETCH" });
    }
    if (res.status === 404) throw Object.assign(new Error(`${url.href} not found`), { code: "ENOENT" });
    if (!res.ok) throw Object.assign(new Error(`${url.href}: ${res.status}`), { code: `HTTP ${res.status}` });
    return new Uint8Array(await res.arrayBuffer());
  },
  writeStderr: (text) => console.warn(text.replace(/\n$/, "")),
  prepareInterpreters(setup) {
    if (setup.kind !== "wasi") throw new RangeError(`in browsers the interpreter is "wasi" (CPython built for WASI, in Web Workers), got ${JSON.stringify(setup.kind)}`);
    return wasi(setup);
  },
  createEngine(name, setup) {
    if (name === "ort-node") throw new RangeError('engine "ort-node" is Node only: use "ort-web" (wasm) or "webgpu" in browsers');
    return Engine.create({ backend: name, threads: setup.intraOpThreads });
  },
  defaults: { interpreter: "wasi", engine: "ort-web" },
};
