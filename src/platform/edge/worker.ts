// The worker's fetch entry: the same Open Inference Protocol v2 handler as `wasmdeploy serve`
// (src/server/handler.ts), over models whose archives the worker imported. `wasmdeploy edge`
// generates a small entry module that imports the assets and calls edgeWorker().

import { parseConfig, DEFAULT_CONFIG } from "../../server/config.js";
import { createHandler, type FetchHandler } from "../../server/handler.js";
import { ModelRegistry, type ModelSpec } from "../../server/registry.js";
import type { EdgeAssets } from "./assets.js";
import { edgeLoader, edgePlatform } from "./index.js";

/** One served model as `wasmdeploy edge` wrote it into the manifest. */
export interface EdgeModel {
  name: string;
  /** Name of the archive among the worker's archives. */
  archive: string;
  /** config.json keys (pickle, method, inputs, interpreters, ...). */
  config: Record<string, unknown>;
}

export interface EdgeWorkerInit {
  /** Called once, at the first request (an isolate may not do I/O-like work at global scope). */
  assets: () => EdgeAssets;
  archives: Record<string, Uint8Array>;
  models: EdgeModel[];
  serverVersion?: string;
}

export interface WorkerExport {
  fetch(req: Request): Promise<Response>;
}

export function edgeWorker(init: EdgeWorkerInit): WorkerExport {
  let handler: Promise<FetchHandler> | undefined;
  const start = async (): Promise<FetchHandler> => {
    const platform = edgePlatform(init.assets());
    const registry = new ModelRegistry(edgeLoader(platform, init.archives));
    const specs: ModelSpec[] = init.models.map((m) => ({ name: m.name, version: "1", source: m.archive, config: parseConfig(m.config, { ...DEFAULT_CONFIG, isolation: "trusted" }, `model ${m.name}`) }));
    // Models load before the first answer: the first request pays for booting them.
    await Promise.allSettled(specs.map((s) => registry.loadSpec(s)));
    return createHandler({ registry, serverName: "wasmdeploy-edge", serverVersion: init.serverVersion });
  };
  return {
    async fetch(req) {
      handler ??= start();
      return (await handler)(req);
    },
  };
}

export { decodeSnapshot, fileImage } from "./assets.js";
