// The edge platform: one isolate (workerd, Cloudflare Workers) with no file system and no
// threads. Interpreters are WASI CPython instances in the isolate (JSPI for the engine bridge),
// the engine is ort-web in the same isolate, code arrives as imported modules and data as
// buffers read at the first request (assets.ts). edgeWorker() installs it, and models run
// under InterpreterManager as on Node.

import { Engine } from "../../engine/engine.js";
import { InterpreterManager } from "../../manager.js";
import type { ModelRuntime } from "../../server/model.js";
import { splitPickle } from "../../server/config.js";
import type { ModelLoader, ModelSpec } from "../../server/registry.js";
import type { Platform } from "../platform.js";
import type { EdgeAssets } from "./assets.js";
import { registerEdgeOrt } from "./ort.js";
import { edgeTransports } from "./transport.js";

export { decodeSnapshot, type EdgeAssets, fileImage } from "./assets.js";

/** Linear memory cap of one interpreter when the model's config sets none: the isolate has 128 MB in all. */
const DEFAULT_INSTANCE_MAX_MB = 96;

/** `archives`: the worker's archives by name, the only files there are (readFile serves them). */
export function edgePlatform(assets: EdgeAssets, archives: Record<string, Uint8Array>): Platform {
  registerEdgeOrt(assets.ort, assets.ortWasm);
  return {
    cores: () => 1,
    readFile: async (p) => {
      const bytes = Object.hasOwn(archives, String(p)) ? archives[String(p)] : undefined;
      if (!bytes) throw Object.assign(new Error(`no file system at the edge, and no archive ${String(p)} in this worker`), { code: "ENOENT" });
      return bytes;
    },
    writeStderr: (text) => console.error(text),
    async prepareInterpreters(setup) {
      const memoryMaxBytes = (setup.memoryLimitMb ?? DEFAULT_INSTANCE_MAX_MB) * 2 ** 20;
      return {
        spawn: edgeTransports(assets, { memoryMaxBytes }),
        stats: { snapshot: assets.snapshot ? "disk" : "made", snapshotMs: 0, wasmCompileMs: 0 },
        booted() {},
      };
    },
    // ort-web in this isolate, one thread: engine worker threads do not exist here.
    createEngine: (name) => Engine.create({ backend: name, threads: 1 }),
  };
}

/**
 * Models from the worker's archives (`spec.source` names one; the platform's readFile serves
 * it): one InterpreterManager per model, as on Node, over the platform edgeWorker() installed.
 */
export function edgeLoader(): ModelLoader {
  return {
    async open(spec: ModelSpec): Promise<ModelRuntime> {
      const c = spec.config;
      const manager = await InterpreterManager.create({
        interpreters: c.interpreters,
        interpreter: "wasi",
        isolation: "trusted",
        engine: "ort-web",
        memoryLimitMb: c.memory_limit_mb,
        engineMemoryPerCallMb: c.engine_memory_mb,
        engineWorkers: 0,
        onOutput: (i, _s, text) => console.error(`[${spec.name} ${i}] ${text.trimEnd()}`),
      });
      try {
        const pkg = await manager.loadPackage(spec.source);
        const [pkgName, resource] = splitPickle(c.pickle);
        const obj = pkg.loadPickle(pkgName, resource);
        return {
          call(args, timeoutMs) {
            const o = timeoutMs === undefined ? obj : obj.withOptions({ timeoutMs });
            return c.method ? o.callMethod(c.method, ...args) : o.call(...args);
          },
          stats: () => manager.stats(),
          close: () => manager.close(),
        };
      } catch (e) {
        await manager.close();
        throw e;
      }
    },
  };
}
