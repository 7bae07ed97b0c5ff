// The worker's fetch entry: the same Open Inference Protocol v2 handler as `wasmdeploy serve`
// (src/server/handler.ts), over models whose archives the worker imported. `wasmdeploy edge`
// generates a small entry module that imports the assets and calls edgeWorker().

import { parseConfig, DEFAULT_CONFIG } from "../../server/config.js";
import { createHandler, type FetchHandler } from "../../server/handler.js";
import { ModelRegistry, type ModelSpec } from "../../server/registry.js";
import type { EdgeAssets } from "./assets.js";
import { installPlatform } from "../installed.js";
import { edgeLoader, edgePlatform } from "./index.js";
import { ortMemoryBytes } from "./ort.js";
import { phaseTimings, recordPhase, timingOrigin } from "./timings.js";

/** One served model as `wasmdeploy edge` wrote it into the manifest. */
export interface EdgeModel {
  name: string;
  /** Name of the archive among the worker's archives. */
  archive: string;
  /** config.json keys (pickle, method, inputs, interpreters, ...). */
  config: Record<string, unknown>;
}

/** What the worker loads at its first request: the assets, and the archives by name. */
export interface EdgeInputs {
  assets: EdgeAssets;
  archives: Record<string, Uint8Array>;
}

export interface EdgeWorkerInit {
  /**
   * Called once, at the first request (an isolate may not do I/O-like work at global scope),
   * with the worker's bindings: the big data files come from modules or, read with fetch, from
   * the `ASSETS` binding (a workerd disk service locally, static assets on Cloudflare).
   */
  load: (env: Record<string, unknown>) => Promise<EdgeInputs>;
  models: EdgeModel[];
  serverVersion?: string;
}

export interface WorkerExport {
  fetch(req: Request, env?: Record<string, unknown>): Promise<Response>;
}

/** A binding that answers fetch (workerd's disk service, Cloudflare's static assets). */
interface Fetcher {
  fetch(input: string): Promise<Response>;
}

/** Reads `file` through the worker's `ASSETS` binding; the URL's host is ignored by both kinds. */
export async function fetchAsset(env: Record<string, unknown>, file: string): Promise<ArrayBuffer> {
  const binding = env.ASSETS as Fetcher | undefined;
  if (!binding || typeof binding.fetch !== "function") throw new Error("the worker has no ASSETS binding to read its data files from");
  const res = await binding.fetch(`https://assets.invalid/${file}`);
  if (!res.ok) throw new Error(`ASSETS ${file}: ${res.status} ${res.statusText}`);
  return res.arrayBuffer();
}

export function edgeWorker(init: EdgeWorkerInit): WorkerExport {
  let handler: Promise<FetchHandler> | undefined;
  let registry: ModelRegistry | undefined;
  let inputs: EdgeInputs | undefined;
  const start = async (env: Record<string, unknown>): Promise<FetchHandler> => {
    timingOrigin();
    let t = performance.now();
    inputs = await init.load(env);
    recordPhase("read the data files (ASSETS fetch or modules)", t);
    installPlatform(edgePlatform(inputs.assets, inputs.archives));
    const models = new ModelRegistry(edgeLoader());
    registry = models;
    const specs: ModelSpec[] = init.models.map((m) => ({ name: m.name, version: "1", source: m.archive, config: parseConfig(m.config, { ...DEFAULT_CONFIG, isolation: "trusted" }, `model ${m.name}`) }));
    // Models load before the first answer: the first request pays for booting them.
    t = performance.now();
    await Promise.allSettled(specs.map((s) => models.loadSpec(s)));
    recordPhase("load the models (interpreters restored, archives parsed; pickles load at first call)", t);
    return createHandler({ registry: models, serverName: "wasmdeploy-edge", serverVersion: init.serverVersion });
  };
  return {
    async fetch(req, env = {}) {
      handler ??= start(env).catch((e: unknown) => {
        handler = undefined; // a failed load (e.g. an asset not found) is retried by the next request
        throw e;
      });
      const h = await handler;
      const route = new URL(req.url).pathname;
      if (route === "/edge/memory") return memoryReport();
      if (route === "/edge/timings") return new Response(JSON.stringify(phaseTimings()), { headers: { "content-type": "application/json" } });
      return h(req);
    },
  };

  /**
   * What this isolate holds that we can count (the runtime exposes no heap statistics):
   * interpreters' and ort-web's linear memories, and the module bytes it was given. Not OIP:
   * an extra route for the bench and for operators sizing a deployment.
   */
  function memoryReport(): Response {
    const interpreters = (registry?.list() ?? []).flatMap((m) => m.runtime?.stats().interpreters.map((i) => i.heapBytes) ?? []);
    const a = inputs!.assets;
    const body = {
      interpreterLinearMemory: interpreters.reduce((n, b) => n + b, 0),
      interpreters: interpreters.length,
      ortLinearMemory: ortMemoryBytes(),
      snapshotHeld: a.snapshotHeldBytes,
      fileImageModule: a.files.data.byteLength,
      archiveModules: Object.values(inputs!.archives).reduce((n, b) => n + b.byteLength, 0),
    };
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  }
}

export { decodeSnapshot, fileImage } from "./assets.js";
