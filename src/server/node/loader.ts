// Models on Node: each model gets an InterpreterManager of its own (its own interpreters,
// count, limits: tenancy), and a Triton-style repository DIR/<name>/<version>/model.pt with an
// optional DIR/<name>/config.json is read from disk.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
// Through the Node entry, which installs Node's platform for the manager.
import { InterpreterManager, type InterpreterManagerOptions } from "../../index.js";
import { parseTorchPackage } from "../../package/archive.js";
import { wasiBuildFor } from "../../package/wasi-build.js";
import { ConfigError, type ModelConfig, parseConfig, splitPickle } from "../config.js";
import type { Logger } from "../logger.js";
import type { ModelRuntime } from "../model.js";
import type { ModelLoader, ModelSpec } from "../registry.js";
import { describeInputs } from "./signature.js";

export interface NodeLoaderOptions {
  repository?: string;
  /** Defaults for repository models without config.json keys. */
  defaults: ModelConfig;
  /** Extra manager options (snapshot dir, engine...). */
  manager?: Partial<InterpreterManagerOptions>;
  logger?: Logger;
}

export function nodeLoader(opts: NodeLoaderOptions): ModelLoader {
  return {
    async open(spec: ModelSpec): Promise<ModelRuntime> {
      const c = spec.config;
      const log = opts.logger?.child({ model: spec.name });
      const wasiBuild = opts.manager?.wasiBuild ?? (c.interpreter === "pyodide" || c.interpreter === "component" ? undefined : sciIfNeeded(spec.source));
      const manager = await InterpreterManager.create({
        ...opts.manager,
        ...(wasiBuild ? { wasiBuild } : {}),
        interpreters: c.interpreters,
        isolation: c.isolation,
        ...(c.interpreter ? { interpreter: c.interpreter } : {}),
        memoryLimitMb: c.memory_limit_mb,
        engineMemoryPerCallMb: c.engine_memory_mb,
        // Python's print() from a model is part of its logs, tagged with the model.
        onOutput: (interpreter, stream, text) => log?.info({ interpreter, stream }, text.trimEnd()),
      });
      try {
        const pkg = await manager.loadPackage(spec.source);
        const [pkgName, resource] = splitPickle(c.pickle);
        const obj = pkg.loadPickle(pkgName, resource);
        const method = c.method;
        // Metadata before the first call (a config naming the inputs makes it moot).
        let signature: Awaited<ReturnType<typeof describeInputs>>;
        if (!c.inputs) {
          try {
            signature = await describeInputs(manager, obj, method);
          } catch (e) {
            // A pickle that fails to load fails the first call as before; metadata waits for a call.
            log?.warn({ err: e instanceof Error ? e.message : String(e) }, "could not read the model's signature");
          }
        }
        return {
          signature,
          call(args, timeoutMs) {
            const o = timeoutMs === undefined ? obj : obj.withOptions({ timeoutMs });
            return method ? o.callMethod(method, ...args) : o.call(...args);
          },
          stats: () => manager.stats(),
          close: () => manager.close(),
        };
      } catch (e) {
        await manager.close();
        throw e;
      }
    },
    scan: opts.repository ? async () => scanRepository(opts.repository!, opts.defaults) : undefined,
  };
}

/** "sci" when the archive externs numpy or PIL (package/wasi-build.ts); unreadable archives fail later, in loadPackage, with its errors. */
function sciIfNeeded(source: string): "sci" | undefined {
  try {
    return wasiBuildFor(parseTorchPackage(new Uint8Array(readFileSync(source)), source).externModules) === "sci" ? "sci" : undefined;
  } catch {
    return undefined;
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** DIR/<name>/<version>/model.pt; the highest numbered version with a model.pt is served. */
export function scanRepository(dir: string, defaults: ModelConfig): ModelSpec[] {
  const specs: ModelSpec[] = [];
  for (const name of readdirSync(dir).sort()) {
    const modelDir = path.join(dir, name);
    if (!NAME.test(name) || !statSync(modelDir).isDirectory()) continue;
    const versions = readdirSync(modelDir)
      .filter((v) => /^\d+$/.test(v) && existsSync(path.join(modelDir, v, "model.pt")))
      .sort((a, b) => Number(b) - Number(a));
    if (!versions.length) continue;
    const version = versions[0]!;
    const source = path.join(modelDir, version, "model.pt");
    const configPath = path.join(modelDir, "config.json");
    let config = defaults;
    let error: string | undefined;
    if (existsSync(configPath)) {
      try {
        config = parseConfig(JSON.parse(readFileSync(configPath, "utf8")), defaults, `${name}/config.json`);
      } catch (e) {
        error = e instanceof ConfigError ? e.message : `${name}/config.json: ${(e as Error).message}`;
      }
    }
    specs.push({ name, version, source, config, ...(error ? { error } : {}) });
  }
  return specs;
}
