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
  interpreter?: "pyodide" | "wasi" | "component";
  /** Interpreter memory limit per call, MB. */
  memory_limit_mb?: number;
  /** Engine memory a call may allocate, MB. */
  engine_memory_mb?: number;
  /** Deadline of a request, queue wait included, ms. */
  timeout_ms?: number;
  /**
   * Requests that may wait for an interpreter, read or unread; past it, 429 (before the body is
   * read). Default 1024: waiting requests beyond a few read ahead are held unread (a socket each,
   * no parse), so the bound is on latency, not memory.
   */
  max_queue: number;
  /** Dynamic batching: largest batch (sum of dim 0) a call may get. 0 = off (default). */
  max_batch_size: number;
  /** Dynamic batching: how long the first request of a batch may wait for others, ms. */
  max_queue_delay_ms: number;
  /**
   * What a BYTES input element is in Python, whatever the transport (JSON or binary): "bytes"
   * (the default, as Triton's Python backend gives them) or "str" (decoded as UTF-8; invalid
   * UTF-8 is a 400).
   */
  bytes_as: "bytes" | "str";
}

export const DEFAULT_CONFIG: ModelConfig = {
  pickle: "model/model.pkl",
  interpreters: 1,
  isolation: "sandboxed",
  max_queue: 1024,
  max_batch_size: 0,
  max_queue_delay_ms: 2,
  bytes_as: "bytes",
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
        if (v !== "pyodide" && v !== "wasi" && v !== "component") throw new ConfigError(`${where}.interpreter is "wasi", "pyodide" or "component"`);
        out.interpreter = v;
        break;
      case "isolation":
        if (v !== "sandboxed" && v !== "trusted") throw new ConfigError(`${where}.isolation is "sandboxed" or "trusted"`);
        out.isolation = v;
        break;
      case "bytes_as":
        if (v !== "bytes" && v !== "str") throw new ConfigError(`${where}.bytes_as is "bytes" or "str"`);
        out.bytes_as = v;
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

/** "NAME:DTYPE:SHAPE" (the serve command's --input): shape as "-1,16" or "[-1,16]"; empty for a scalar. */
export function parseTensorFlag(flag: string): TensorSpec {
  const m = /^([^:]+):([A-Za-z0-9]+):(.*)$/.exec(flag);
  if (!m) throw new ConfigError(`--input takes NAME:DATATYPE:SHAPE (e.g. INPUT__0:INT64:-1,16), got ${JSON.stringify(flag)}`);
  const datatype = m[2]!.toUpperCase();
  if (!isOipDatatype(datatype)) throw new ConfigError(`--input ${m[1]}: unknown datatype ${JSON.stringify(m[2])}`);
  const text = m[3]!.trim().replace(/^\[(.*)\]$/, "$1").trim();
  const shape = text === "" ? [] : text.split(/\s*[,x]\s*/).map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= -1)) throw new ConfigError(`--input ${m[1]}: shape ${JSON.stringify(m[3])} must be integers, -1 for any size`);
  return { name: m[1]!, datatype, shape };
}

// ----- Triton model configuration (the repository extension's load with a config) -----

const TRITON_TYPES: Record<string, OipDatatype> = {
  TYPE_BOOL: "BOOL",
  TYPE_UINT8: "UINT8",
  TYPE_UINT16: "UINT16",
  TYPE_UINT32: "UINT32",
  TYPE_UINT64: "UINT64",
  TYPE_INT8: "INT8",
  TYPE_INT16: "INT16",
  TYPE_INT32: "INT32",
  TYPE_INT64: "INT64",
  TYPE_FP16: "FP16",
  TYPE_FP32: "FP32",
  TYPE_FP64: "FP64",
  TYPE_STRING: "BYTES",
};

/** Triton's input/output entries ({name, data_type, dims}) as tensor specs; the batch dim is added when max_batch_size > 0. */
function tritonTensors(x: unknown, batched: boolean, where: string): TensorSpec[] {
  if (!Array.isArray(x)) throw new ConfigError(`${where} must be an array of {name, data_type, dims}`);
  return x.map((t, i) => {
    if (!isRecord(t) || typeof t.name !== "string") throw new ConfigError(`${where}[${i}] needs a "name"`);
    for (const k of Object.keys(t)) {
      if (!["name", "data_type", "dims", "format", "optional"].includes(k)) throw new ConfigError(`${where}[${i}] (${t.name}): "${k}" is not supported`);
    }
    if (t.format !== undefined && t.format !== "FORMAT_NONE") throw new ConfigError(`${where}[${i}] (${t.name}): format ${JSON.stringify(t.format)} is not supported`);
    if (t.optional === true) throw new ConfigError(`${where}[${i}] (${t.name}): optional inputs are not supported (inputs are positional arguments)`);
    const datatype = typeof t.data_type === "string" ? TRITON_TYPES[t.data_type] : undefined;
    if (!datatype) throw new ConfigError(`${where}[${i}] (${t.name}): data_type ${JSON.stringify(t.data_type)} is not supported`);
    const dims = (t.dims ?? []) as unknown;
    if (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(Number(d)) && Number(d) >= -1)) {
      throw new ConfigError(`${where}[${i}] (${t.name}): dims must be integers, -1 for any size`);
    }
    // Triton's JSON may carry int64 dims as strings.
    const shape = dims.map(Number);
    return { name: t.name, datatype, shape: batched ? [-1, ...shape] : shape };
  });
}

/** Keys only Triton's schema has; with any of them, max_batch_size means what it means to Triton. */
const TRITON_ONLY = ["input", "output", "instance_group", "dynamic_batching", "version_policy", "default_model_filename"];

/**
 * The config of a repository load request (`{"parameters": {"config": "..."}}`): a model's
 * config.json keys, or Triton's model configuration JSON (name, platform/backend,
 * max_batch_size, input/output with data_type and dims, instance_group counts, dynamic_batching
 * with max_queue_delay_microseconds and default_queue_policy), or both. Every key is applied or
 * refused (ConfigError): nothing is silently dropped. As Triton does, it replaces the model's
 * configuration: keys it does not give take the server's defaults, except where the object is
 * (`pickle`, `method`), which stays the model's own unless given.
 */
export function parseLoadConfig(doc: unknown, defaults: ModelConfig, own: ModelConfig, model: string): ModelConfig {
  if (!isRecord(doc)) throw new ConfigError("the load request's config must be a JSON object");
  if (doc.name !== undefined && doc.name !== model) throw new ConfigError(`the config names model ${JSON.stringify(doc.name)}, not ${JSON.stringify(model)}`);
  const triton = TRITON_ONLY.some((k) => k in doc);
  const ours: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (!TRITON_ONLY.includes(k) && !(triton && k === "max_batch_size")) ours[k] = v;
  const out = parseConfig(ours, { ...defaults, pickle: own.pickle, ...(own.method ? { method: own.method } : {}) }, "config");
  if (!triton) return out;
  const mbs = doc.max_batch_size;
  if (mbs !== undefined && (!Number.isSafeInteger(mbs) || (mbs as number) < 0)) throw new ConfigError("config.max_batch_size must be an integer >= 0");
  const batched = (mbs as number | undefined ?? 0) > 0;
  if (doc.input !== undefined) {
    if (ours.inputs !== undefined) throw new ConfigError('config has both "input" (Triton) and "inputs"');
    out.inputs = tritonTensors(doc.input, batched, "config.input");
  }
  if (doc.output !== undefined) {
    if (ours.outputs !== undefined) throw new ConfigError('config has both "output" (Triton) and "outputs"');
    out.outputs = tritonTensors(doc.output, batched, "config.output");
  }
  if (doc.instance_group !== undefined) {
    const groups = doc.instance_group;
    if (!Array.isArray(groups)) throw new ConfigError("config.instance_group must be an array");
    let count = 0;
    groups.forEach((g, i) => {
      if (!isRecord(g)) throw new ConfigError(`config.instance_group[${i}] must be an object`);
      for (const [k, v] of Object.entries(g)) {
        if (k === "name") continue;
        if (k === "kind") {
          if (v !== "KIND_CPU" && v !== "KIND_AUTO") throw new ConfigError(`config.instance_group[${i}].kind ${JSON.stringify(v)} is not supported: interpreters run on the CPU`);
        } else if (k === "count") {
          if (!Number.isSafeInteger(v) || (v as number) < 1) throw new ConfigError(`config.instance_group[${i}].count must be an integer >= 1`);
        } else throw new ConfigError(`config.instance_group[${i}].${k} is not supported`);
      }
      count += (g.count as number | undefined) ?? 1;
    });
    if (count < 1) throw new ConfigError("config.instance_group gives no instance");
    out.interpreters = count;
  }
  const db = doc.dynamic_batching;
  if (db !== undefined) {
    if (!isRecord(db)) throw new ConfigError("config.dynamic_batching must be an object");
    if (!batched) throw new ConfigError("config.dynamic_batching needs max_batch_size > 0");
    out.max_batch_size = mbs as number;
    for (const [k, v] of Object.entries(db)) {
      switch (k) {
        case "max_queue_delay_microseconds": {
          const us = Number(v);
          if (!Number.isFinite(us) || us < 0) throw new ConfigError("config.dynamic_batching.max_queue_delay_microseconds must be a number >= 0");
          out.max_queue_delay_ms = us / 1000;
          break;
        }
        case "preferred_batch_size":
          // A hint; batches here are already kept to powers of two and the maximum.
          if (!Array.isArray(v) || !v.every((n) => Number.isSafeInteger(n) && n > 0)) throw new ConfigError("config.dynamic_batching.preferred_batch_size must be positive integers");
          break;
        case "default_queue_policy": {
          if (!isRecord(v)) throw new ConfigError("config.dynamic_batching.default_queue_policy must be an object");
          for (const [pk, pv] of Object.entries(v)) {
            if (pk === "max_queue_size") {
              const n = Number(pv);
              if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError("default_queue_policy.max_queue_size must be an integer >= 0");
              if (n > 0) out.max_queue = n;
            } else if (pk === "default_timeout_microseconds") {
              const n = Number(pv);
              if (!Number.isFinite(n) || n < 0) throw new ConfigError("default_queue_policy.default_timeout_microseconds must be a number >= 0");
              if (n > 0) out.timeout_ms = Math.max(1, Math.round(n / 1000));
            } else if (pk === "timeout_action") {
              if (pv !== "REJECT") throw new ConfigError(`default_queue_policy.timeout_action ${JSON.stringify(pv)} is not supported: a request past its deadline is refused (504)`);
            } else if (pk === "allow_timeout_override") {
              if (typeof pv !== "boolean") throw new ConfigError("default_queue_policy.allow_timeout_override must be true or false");
            } else throw new ConfigError(`config.dynamic_batching.default_queue_policy.${pk} is not supported`);
          }
          break;
        }
        default:
          throw new ConfigError(`config.dynamic_batching.${k} is not supported`);
      }
    }
  } else if (batched) {
    // Triton batches dynamically only with dynamic_batching: max_batch_size alone declares the batch dim.
    out.max_batch_size = 0;
  }
  if (doc.version_policy !== undefined) throw new ConfigError("config.version_policy is not supported: the highest version is served");
  if (doc.default_model_filename !== undefined && doc.default_model_filename !== "model.pt") throw new ConfigError('config.default_model_filename must be "model.pt"');
  return out;
}