// `wasmdeploy serve`: the Open Inference Protocol v2 server on node:http. Models from
// --model NAME=ARCHIVE[:PACKAGE/RESOURCE] and/or a --repository DIR; each model gets its own
// interpreters. SIGTERM/SIGINT drain: in-flight requests are answered, new ones get 503,
// then the process exits 0.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pino from "pino";
import { ConfigError, DEFAULT_CONFIG, type ModelConfig, parseConfig, parseTensorFlag, type TensorSpec } from "../server/config.js";
import { createHandler } from "../server/handler.js";
import type { Logger } from "../server/logger.js";
import { startNodeServer } from "../server/node/http.js";
import { nodeCodec } from "../server/node/compression.js";
import { nodeLoader, scanRepository } from "../server/node/loader.js";
import { cellLoader } from "../server/node/cell.js";
import { createPrometheus } from "../server/prometheus.js";
import { ModelRegistry, type ModelSpec } from "../server/registry.js";

export const SERVE_USAGE = `  wasmdeploy serve --model NAME=ARCHIVE[:PACKAGE/RESOURCE] ... [--repository DIR] [--port 8000] [--host 127.0.0.1]
        [--interpreters N] [--interpreter wasi|pyodide|component] [--isolation sandboxed|trusted] [--timeout-ms MS] [--memory-limit-mb MB] [--max-queue N]
        [--max-batch-size N] [--max-queue-delay-ms MS] [--max-body-mb MB] [--cells per-model|off] [--debug] [--log-level info]
        [--input NAME:DATATYPE:SHAPE ...] [--bytes-as bytes|str] [--drain-timeout-ms MS] [--drain-quiet-ms MS] [--memory-budget MB]
      Serve models over the Open Inference Protocol v2 (REST). The pickle defaults to model/model.pkl;
      --port 0 picks a free port. --repository DIR holds DIR/<name>/<version>/model.pt and DIR/<name>/config.json.
      --cells per-model (default) runs each model in a process of its own, so a native fault in one
      model's engine fails only its own requests and the model restarts; off runs every model in this process.
      --input (repeatable, after the --model it describes) names that model's inputs in order, e.g.
      --input INPUT__0:INT64:-1,16; they are its metadata and are enforced, as a config's "inputs".
      --bytes-as: BYTES inputs reach Python as bytes (default, as Triton's Python backend) or str.
      --memory-budget MB serves the models as a fleet: each loads on its first request, and when the loaded
      models hold more than MB (weights, compiled graphs, interpreter heaps), the least recently used ones
      with no request queued or running are unloaded; they load again when asked for.`;

class ServeUsageError extends Error {}

/**
 * What a loaded model costs beyond its stats (weights, graphs, heaps), measured on this machine
 * with a one-interpreter convnet (resnet_basic, 25 MB in its stats): in this process (--cells off)
 * its manager's threads, 48 - 25 = 23 MB of PSS; in a cell, the whole process, 191 - 25 = 166 MB.
 * Measured again once cells ran with MALLOC_ARENA_MAX=2 (cell.ts), three alternating runs: a
 * cell 188-204 MB (163-179 over its stats), against 224-233 MB with glibc's default arenas in the
 * same runs; 166 stands.
 */
const OVERHEAD_MB = { off: 23, "per-model": 166 } as const;

/** NAME=ARCHIVE[:PACKAGE/RESOURCE] */
export function parseModelFlag(flag: string): { name: string; source: string; pickle?: string } {
  const eq = flag.indexOf("=");
  if (eq <= 0) throw new ServeUsageError(`--model takes NAME=ARCHIVE[:PACKAGE/RESOURCE], got ${JSON.stringify(flag)}`);
  const name = flag.slice(0, eq);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new ServeUsageError(`model name ${JSON.stringify(name)} must be letters, digits, _ . -`);
  let source = flag.slice(eq + 1);
  let pickle: string | undefined;
  // The last ':' starts the pickle only when what follows looks like PACKAGE/RESOURCE.
  const colon = source.lastIndexOf(":");
  if (colon > 0 && /^[^/:\\]+(\/[^/:\\]+)+$/.test(source.slice(colon + 1))) {
    pickle = source.slice(colon + 1);
    source = source.slice(0, colon);
  }
  if (!source) throw new ServeUsageError(`--model ${name}= needs an archive path`);
  return { name, source, pickle };
}

function num(flag: string, v: string | undefined, min: number, integer = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new ServeUsageError(`--${flag} takes ${integer ? "an integer" : "a number"} >= ${min}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function version(): string {
  try {
    const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "package.json");
    return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  } catch {
    return "0";
  }
}

export async function serve(args: string[]): Promise<number> {
  let values;
  let tokens;
  try {
    ({ values, tokens } = parseArgs({
      args,
      tokens: true,
      options: {
        model: { type: "string", multiple: true },
        repository: { type: "string" },
        port: { type: "string", default: "8000" },
        host: { type: "string", default: "127.0.0.1" },
        interpreters: { type: "string" },
        interpreter: { type: "string" },
        isolation: { type: "string" },
        "timeout-ms": { type: "string" },
        "memory-limit-mb": { type: "string" },
        "max-queue": { type: "string" },
        "max-batch-size": { type: "string" },
        "max-queue-delay-ms": { type: "string" },
        "max-body-mb": { type: "string", default: "64" },
        "drain-timeout-ms": { type: "string", default: "30000" },
        "drain-quiet-ms": { type: "string", default: "1000" },
        cells: { type: "string", default: "per-model" },
        input: { type: "string", multiple: true },
        "bytes-as": { type: "string" },
        debug: { type: "boolean", default: false },
        "log-level": { type: "string", default: "info" },
        "memory-budget": { type: "string" },
      },
    }));
  } catch (e) {
    process.stderr.write(`wasmdeploy serve: ${(e as Error).message}\n${SERVE_USAGE}\n`);
    return 2;
  }
  let defaults: ModelConfig;
  let specs: ModelSpec[];
  let port: number;
  let maxBodyBytes: number;
  let drainTimeoutMs: number;
  let drainQuietMs: number;
  let budgetMb: number | undefined;
  try {
    budgetMb = num("memory-budget", values["memory-budget"], 1, false);
    const overrides: Record<string, unknown> = {
      interpreters: num("interpreters", values.interpreters, 1),
      interpreter: values.interpreter,
      isolation: values.isolation,
      timeout_ms: num("timeout-ms", values["timeout-ms"], 1),
      memory_limit_mb: num("memory-limit-mb", values["memory-limit-mb"], 1),
      max_queue: num("max-queue", values["max-queue"], 1),
      max_batch_size: num("max-batch-size", values["max-batch-size"], 0),
      max_queue_delay_ms: num("max-queue-delay-ms", values["max-queue-delay-ms"], 0, false),
      bytes_as: values["bytes-as"],
    };
    defaults = parseConfig(Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)), DEFAULT_CONFIG, "options");
    port = num("port", values.port, 0)!;
    if (port > 65535) throw new ServeUsageError(`--port must be at most 65535`);
    maxBodyBytes = num("max-body-mb", values["max-body-mb"], 0, false)! * 2 ** 20;
    drainTimeoutMs = num("drain-timeout-ms", values["drain-timeout-ms"], 0)!;
    drainQuietMs = num("drain-quiet-ms", values["drain-quiet-ms"], 0)!;
    // Each --input describes the --model before it.
    const inputs: TensorSpec[][] = [];
    for (const t of tokens) {
      if (t.kind !== "option") continue;
      if (t.name === "model") inputs.push([]);
      else if (t.name === "input") {
        if (!inputs.length) throw new ServeUsageError("--input describes the --model given before it; put it after that --model");
        inputs.at(-1)!.push(parseTensorFlag(t.value!));
      }
    }
    specs = (values.model ?? []).map((flag, i) => {
      const m = parseModelFlag(flag);
      const own: Record<string, unknown> = { ...(m.pickle ? { pickle: m.pickle } : {}), ...(inputs[i]!.length ? { inputs: inputs[i] } : {}) };
      return { name: m.name, version: "1", source: m.source, config: Object.keys(own).length ? parseConfig(own, defaults, `--model ${m.name}`) : defaults };
    });
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new ServeUsageError(`model ${s.name} is given twice`);
      names.add(s.name);
    }
    if (values.repository) {
      try {
        for (const s of scanRepository(values.repository, defaults)) if (!names.has(s.name)) specs.push(s);
      } catch (e) {
        throw new ServeUsageError(`cannot read --repository ${values.repository}: ${(e as Error).message}`);
      }
    }
    if (!specs.length) throw new ServeUsageError("serve needs at least one --model or a --repository with models");
    if (values.cells !== "per-model" && values.cells !== "off") throw new ServeUsageError(`--cells is per-model or off, got ${JSON.stringify(values.cells)}`);
  } catch (e) {
    if (e instanceof ServeUsageError || e instanceof ConfigError) {
      process.stderr.write(`wasmdeploy serve: ${e.message}\n${SERVE_USAGE}\n`);
      return 2;
    }
    throw e;
  }

  const logger = pino({ level: values["log-level"], base: { service: "wasmdeploy" } }) as unknown as Logger;
  const loader =
    values.cells === "off"
      ? nodeLoader({ repository: values.repository, defaults, logger })
      : cellLoader({ repository: values.repository, defaults, logger, logLevel: values["log-level"], debug: values.debug });
  const overheadMb = OVERHEAD_MB[values.cells as "off" | "per-model"];
  const registry = new ModelRegistry(loader, logger, defaults, budgetMb === undefined ? undefined : { budgetBytes: budgetMb * 2 ** 20, overheadBytes: overheadMb * 2 ** 20 });
  const prom = createPrometheus(registry);
  const state = { draining: false };
  const handler = createHandler({
    registry,
    maxBodyBytes,
    debug: values.debug,
    logger,
    observer: prom.observer,
    metrics: () => prom.render(),
    draining: () => state.draining,
    serverVersion: version(),
    codec: nodeCodec,
  });
  // Models start loading now (so /v2/health/ready is 503 from the first request on) while
  // the listener comes up.
  // As a fleet, models load on their first request instead.
  if (budgetMb !== undefined) for (const s of specs) registry.register(s);
  const loading = Promise.allSettled(budgetMb === undefined ? specs.map((s) => registry.loadSpec(s)) : []);
  let server;
  try {
    server = await startNodeServer(handler, { host: values.host!, port, maxBodyBytes, drainQuietMs }, state);
  } catch (e) {
    process.stderr.write(`wasmdeploy: cannot listen on ${values.host}:${port}: ${(e as Error).message}\n`);
    await registry.close();
    return 1;
  }
  process.stderr.write(`wasmdeploy: serving the Open Inference Protocol v2 on ${server.url} (models loading: ${specs.map((s) => s.name).join(", ")})\n`);
  logger.info({ url: server.url, models: specs.map((s) => s.name) }, "listening");

  let stopping: Promise<number> | undefined;
  const stop = (signal: string, code: number) =>
    (stopping ??= (async () => {
      logger.info({ signal, in_flight: server.inFlight }, "draining");
      const forced = setTimeout(() => {
        // Requests still in flight: they are lost (exit 1). None, only clients still arriving
        // (to be told 503): the drain did its work.
        const lost = server.inFlight;
        logger.error({ drain_timeout_ms: drainTimeoutMs, in_flight: lost }, lost ? "drain timed out with requests in flight; exiting" : "drain timed out while clients kept arriving; exiting");
        server.close();
        process.exit(lost ? code || 1 : code);
      }, drainTimeoutMs);
      forced.unref();
      await server.drain();
      await registry.idle();
      await registry.close();
      logger.info({}, "stopped");
      return code;
    })());
  const done = new Promise<number>((resolve) => {
    process.once("SIGTERM", () => void stop("SIGTERM", 0).then(resolve));
    process.once("SIGINT", () => void stop("SIGINT", 0).then(resolve));
  });

  // Models given on the command line must load; repository models that fail are reported
  // by the index and /ready of that model, and the others serve.
  const results = await loading;
  if (budgetMb !== undefined) {
    process.stderr.write(`wasmdeploy: ready: ${specs.length} models, each loading on its first request (memory budget ${budgetMb} MB)\n`);
    return done;
  }
  const failed = specs.filter((s, i) => results[i]!.status === "rejected" && !(values.repository && s.source.startsWith(values.repository)));
  if (failed.length) {
    for (const s of failed) {
      process.stderr.write(`wasmdeploy: model ${s.name} failed to load: ${registry.get(s.name)?.reason ?? "unknown error"}\n`);
    }
    await stop("load-failure", 1);
    return 1;
  }
  process.stderr.write(`wasmdeploy: ready: ${registry.list().filter((m) => m.state === "READY").map((m) => m.name).join(", ")}\n`);
  return done;
}
