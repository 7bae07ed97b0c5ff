// The edge platform: one isolate (workerd, Cloudflare Workers) with no file system and no
// threads. Interpreters are WASI CPython instances in the isolate (JSPI for the engine bridge),
// the engine is ort-web in the same isolate, files arrive as imported modules (assets.ts).
//
// It runs the pool directly rather than through InterpreterManager: the manager module picks
// Node's platform at import time, and importing it would pull node: modules into the bundle.

import { Engine } from "../../engine/engine.js";
import { ClosedError, PackageFormatError } from "../../errors.js";
import type { ManagerStats } from "../../manager.js";
import { parseTorchPackage } from "../../package/archive.js";
import { makePackage } from "../../package.js";
import { Pool } from "../../pool/dispatcher.js";
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

export function edgePlatform(assets: EdgeAssets): Platform {
  registerEdgeOrt(assets.ort, assets.ortWasm);
  return {
    cores: () => 1,
    readFile: async (p) => {
      throw Object.assign(new Error(`no file system at the edge (${p})`), { code: "ENOENT" });
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

/** Models from archives the worker imported: `spec.source` names one of `archives`. */
export function edgeLoader(platform: Platform, archives: Record<string, Uint8Array>, onOutput?: (model: string, text: string) => void): ModelLoader {
  return {
    async open(spec: ModelSpec): Promise<ModelRuntime> {
      const bytes = archives[spec.source];
      if (!bytes) throw new PackageFormatError("no such archive in this worker", spec.source);
      const c = spec.config;
      const started = Date.now();
      const prepared = await platform.prepareInterpreters({
        kind: "wasi",
        isolation: "trusted",
        sandboxJsHeapMb: 0,
        interpreters: c.interpreters,
        memoryLimitMb: c.memory_limit_mb,
        eager: false,
      });
      const pool = new Pool({
        count: c.interpreters,
        spawn: prepared.spawn,
        sandboxed: false,
        eager: false,
        interruptGraceMs: 1000,
        onOutput: (i, _s, text) => (onOutput ? onOutput(spec.name, text) : platform.writeStderr(`[${spec.name} ${i}] ${text}`)),
        defaults: { memoryLimitMb: c.memory_limit_mb, engineMemoryPerCallMb: c.engine_memory_mb },
        engineName: "ort-web",
        createEngine: () => platform.createEngine("ort-web", { intraOpThreads: 1, engineWorkers: 0 }),
      });
      let firstReadyMs = 0;
      try {
        await pool.ready(() => {
          firstReadyMs ||= Date.now() - started;
        });
        const archive = parseTorchPackage(bytes, spec.source);
        const { pkg, ref } = makePackage(pool, "p1", archive, {});
        pool.addPackage(ref);
        const [pkgName, resource] = splitPickle(c.pickle);
        const obj = pkg.loadPickle(pkgName, resource);
        const boot = { ...prepared.stats, firstReadyMs, allReadyMs: Date.now() - started };
        return {
          call(args, timeoutMs) {
            if (pool.closed) throw new ClosedError("the model was unloaded");
            const o = timeoutMs === undefined ? obj : obj.withOptions({ timeoutMs });
            return c.method ? o.callMethod(c.method, ...args) : o.call(...args);
          },
          stats: (): ManagerStats => ({
            boot,
            interpreters: pool.interpreters.map((i) => ({
              index: i.index,
              state: i.state,
              generation: i.generation,
              load: pool.load(i),
              completed: i.completed,
              crashes: i.crashes,
              heapBytes: i.heapBytes,
              bootMs: i.lastBoot?.bootMs,
              fromSnapshot: i.lastBoot?.fromSnapshot,
            })),
          }),
          close: () => pool.close(),
        };
      } catch (e) {
        await pool.close();
        throw e;
      }
    },
  };
}
