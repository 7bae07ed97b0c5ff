// Backend registry, in the spirit of onnxruntime-common's: backends are registered by name
// with a loader that imports their runtime on first use, so using one never loads another.
// ort-web (WebAssembly) runs anywhere and is registered here; a platform adapter registers its
// native one (src/platform/node/backends.ts: onnxruntime-node).

import { ENGINE_NAMES, type EngineName } from "../protocol.js";

export type BackendName = EngineName;

export type { BackendOptions, BackendSession, EngineBackend, SessionOptions } from "./backend-api.js";
import type { BackendOptions, EngineBackend } from "./backend-api.js";

export type BackendLoader = (options: BackendOptions) => Promise<EngineBackend>;

const loaders = new Map<BackendName, BackendLoader>([["ort-web", async (o) => (await import("./backends/ort-web.js")).createOrtWebBackend(o)]]);

/** Replaces the loader for a backend name (tests, custom builds). */
export function registerBackend(name: BackendName, loader: BackendLoader): void {
  loaders.set(name, loader);
}

export async function loadBackend(name: BackendName, options: BackendOptions = {}): Promise<EngineBackend> {
  const loader = loaders.get(name);
  if (!(ENGINE_NAMES as readonly string[]).includes(name)) {
    throw new TypeError(`unknown engine backend ${JSON.stringify(name)}; expected one of ${ENGINE_NAMES.join(", ")}`);
  }
  if (!loader) throw new TypeError(`engine backend ${name} is not available on this platform (a platform adapter registers it)`);
  return loader(options);
}

/** ort-node under Node.js (native, fastest), ort-web everywhere else. */
export function defaultBackendName(): BackendName {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return p?.versions?.node ? "ort-node" : "ort-web";
}
