// A served model's configuration: where it comes from (archive + pickle), its tensors, its
// tenancy limits and batching. From config.json in a model repository, or from the command line.

import { isOipDatatype, type OipDatatype } from "./datatypes.js";

export interface TensorSpec {
  name: string;
  datatype: OipDatatype;
  /** Includes the batch dimension; -1 is any size. */
  shape: number[];
}

export interface ModelConfig {
  /** The pickled object that infer calls, "PACKAGE/RESOURCE". Default "model/model.pkl". */
  pickle: string;
  /** Call this method instead of __call__ (e.g. "forward"). */
  method?: string;
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  /** Interpreters for this model alone. Default 1. */
  interpreters: number;
  /** "sandboxed" (default, untrusted archives) or "trusted". */
  isolation: "sandboxed" | "trusted";
  /** Which interpreter runs the model: "pyodide" or "wasi". Default: the library's default. */
  interpreter?: "pyodide" | "wasi";
  /** Interpreter memory limit per call, MB. */
  memory_limit_mb?: number;
  /** Engine memory a call may allocate, MB. */
  engine_memory_mb?: number;
  /** Deadline of a request, queue wait included, ms. */
  timeout_ms?: number;
  /** Requests that may wait for an interpreter; past it, 429. Default 64. */
  max_queue: number;
  /** Dynamic batching: largest batch (sum of dim 0) a call may get. 0 = off (default). */
  max_batch_size: number;
  /** Dynamic batching: how long the first request of a batch may wait for others, ms. */
  max_queue_delay_ms: number;
}

export const DEFAULT_CONFIG: ModelConfig = {
  pickle: "model/model.pkl",
  interpreters: 1,
  isolation: "sandboxed",
  max_queue: 64,
  max_batch_size: 0,
  max_queue_delay_ms: 2,
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function tensorSpecs(x: unknown, where: string): TensorSpec[] {
  if (!Array.isArray(x)) throw new ConfigError(`${where} must be an array of {name, datatype, shape}`);
  return x.map((t, i) => {
    if (!isRecord(t) || typeof t.name !== "string") throw new ConfigError(`${where}[${i}] needs a "name"`);
    if (!isOipDatatype(t.datatype)) throw new ConfigError(`${where}[${i}] (${t.name}): unknown datatype ${JSON.stringify(t.datatype)}`);
    const shape = t.shape ?? [-1];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= -1)) {
      throw new ConfigError(`${where}[${i}] (${t.name}): shape must be integers, -1 for any size`);
    }
    return { name: t.name, datatype: t.datatype, shape: shape as number[] };
  });
}

const NUMBER_KEYS = ["interpreters", "memory_limit_mb", "engine_memory_mb", "timeout_ms", "max_queue", "max_batch_size", "max_queue_delay_ms"] as const;

/** Validates a config.json document (or CLI overrides) on top of `base`. */
export function parseConfig(doc: unknown, base: ModelConfig = DEFAULT_CONFIG, where = "config"): ModelConfig {
  if (!isRecord(doc)) throw new ConfigError(`${where} must be a JSON object`);
  const out: ModelConfig = { ...base };
  for (const [k, v] of Object.entries(doc)) {
    switch (k) {
      case "name":
      case "platform":
      case "backend":
        break; // informational (Triton config habits)
      case "pickle":
        if (typeof v !== "string" || !/^[^/].*\/[^/]+$/.test(v)) throw new ConfigError(`${where}.pickle must be "PACKAGE/RESOURCE", e.g. "model/model.pkl"`);
        out.pickle = v;
        break;
      case "method":
        if (typeof v !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) throw new ConfigError(`${where}.method must be a Python identifier`);
        out.method = v;
        break;
      case "inputs":
        out.inputs = tensorSpecs(v, `${where}.inputs`);
        break;
      case "outputs":
        out.outputs = tensorSpecs(v, `${where}.outputs`);
        break;
      case "interpreter":
        if (v !== "pyodide" && v !== "wasi") throw new ConfigError(`${where}.interpreter is "pyodide" or "wasi"`);
        out.interpreter = v;
        break;
      case "isolation":
        if (v !== "sandboxed" && v !== "trusted") throw new ConfigError(`${where}.isolation is "sandboxed" or "trusted"`);
        out.isolation = v;
        break;
      default: {
        if (!(NUMBER_KEYS as readonly string[]).includes(k)) throw new ConfigError(`${where} has an unknown key ${JSON.stringify(k)}`);
        const min = k === "interpreters" ? 1 : k === "max_queue" ? 1 : 0;
        if (typeof v !== "number" || !Number.isFinite(v) || v < min || (k !== "max_queue_delay_ms" && !Number.isInteger(v))) {
          throw new ConfigError(`${where}.${k} must be a number >= ${min}${k === "max_queue_delay_ms" ? "" : " (an integer)"}`);
        }
        (out as unknown as Record<string, number>)[k] = v;
      }
    }
  }
  return out;
}

/** "PACKAGE/RESOURCE" -> [package (dotted), resource]. */
export function splitPickle(spec: string): [string, string] {
  const at = spec.lastIndexOf("/");
  return [spec.slice(0, at).replaceAll("/", "."), spec.slice(at + 1)];
}
