// One served model: its configuration, its runtime (interpreters of its own), its queue, and
// the mapping between OIP tensors and the Python call (inputs in order as positional
// arguments; results back as named outputs).

import type { ManagerStats } from "../manager.js";
import { Tensor } from "../tensor.js";
import { type BytesData, type InferRequest, type IoTensor, tensorOutput } from "./codec.js";
import type { ModelConfig, TensorSpec } from "./config.js";
import { badRequest, HttpError } from "./errors.js";
import { type Admission, type CallOutcome, Scheduler, type Ticket } from "./scheduler.js";

/** What a platform hands the server for a loaded model: a call, public stats, and close. */
export interface ModelRuntime {
  call(args: unknown[], timeoutMs: number | undefined): Promise<unknown>;
  stats(): ManagerStats;
  close(): Promise<void>;
  /**
   * The inputs as far as the model's signature tells (INPUT__0..N-1; -1 for unknown dims),
   * read when it loaded: metadata before the first call.
   */
  readonly signature?: TensorSpec[];
}

/** Triton's duration statistic: how many, and their total in nanoseconds. */
export interface DurationStat {
  count: number;
  ns: number;
}

const stat = (): DurationStat => ({ count: 0, ns: 0 });
const add = (s: DurationStat, ms: number) => {
  s.count++;
  s.ns += Math.round(ms * 1e6);
};

/** What the statistics extension reports for a model (Triton's model_stats entry). */
export class ModelStatistics {
  lastInference = 0;
  inferenceCount = 0;
  executionCount = 0;
  readonly success = stat();
  readonly fail = stat();
  readonly queue = stat();
  readonly computeInput = stat();
  readonly computeInfer = stat();
  readonly computeOutput = stat();
  /** Per batch size (requests in one model call): executions and their compute time. */
  readonly batches = new Map<number, DurationStat>();

  /** A request answered: `ok` with `rows` inferences, or failed. */
  request(ok: boolean, ms: number, rows = 1): void {
    if (ok) {
      add(this.success, ms);
      this.inferenceCount += rows;
      this.lastInference = Date.now();
    } else add(this.fail, ms);
  }

  execution(requests: number, ms: number, ok: boolean): void {
    if (!ok) return;
    this.executionCount++;
    let b = this.batches.get(requests);
    if (!b) this.batches.set(requests, (b = stat()));
    add(b, ms);
  }

  json(name: string, version: string): Record<string, unknown> {
    const zero = stat();
    return {
      name,
      version,
      last_inference: this.lastInference,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: this.success,
        fail: this.fail,
        queue: this.queue,
        compute_input: this.computeInput,
        compute_infer: this.computeInfer,
        compute_output: this.computeOutput,
        cache_hit: zero,
        cache_miss: zero,
      },
      batch_stats: [...this.batches.entries()]
        .sort(([a], [b]) => a - b)
        .map(([size, s]) => ({ batch_size: size, compute_input: { count: s.count, ns: 0 }, compute_infer: s, compute_output: { count: s.count, ns: 0 } })),
      memory_usage: [],
    };
  }
}

export type ModelState = "LOADING" | "READY" | "UNAVAILABLE" | "UNLOADING";

export interface InferResult {
  outputs: IoTensor[];
  outcome: CallOutcome;
  /** Time spent turning the request's tensors into the call's arguments, ms. */
  inputMs: number;
  /** Inferences in the request (dim 0 of its first tensor, else 1). */
  rows: number;
}

const INPUT_N = /^INPUT__(\d+)$/;

export class ServedModel {
  state: ModelState = "LOADING";
  reason = "";
  runtime?: ModelRuntime;
  scheduler?: Scheduler;
  readonly statistics = new ModelStatistics();
  // Without a config, metadata is what the calls so far showed: reported, not enforced (a
  // model may well take several dtypes), so the first client does not fix the signature.
  #learnedInputs?: TensorSpec[];
  #learnedOutputs?: TensorSpec[];

  constructor(
    readonly name: string,
    readonly version: string,
    readonly config: ModelConfig,
    /** Where the archive came from (for logs and the repository index). */
    readonly source: string,
  ) {}

  attach(runtime: ModelRuntime, onUnsplittable: (reason: string) => void): void {
    this.runtime = runtime;
    this.scheduler = new Scheduler({
      concurrency: this.config.interpreters,
      maxQueue: this.config.max_queue,
      maxBatch: this.config.max_batch_size,
      maxDelayMs: this.config.max_queue_delay_ms,
      invoke: (args, timeoutMs) => runtime.call(args, timeoutMs),
      onUnsplittable,
      onCall: (requests, ms, ok) => this.statistics.execution(requests, ms, ok),
    });
    this.state = "READY";
  }

  /**
   * Metadata: the config's tensors when it names them; otherwise what the calls so far showed
   * (the batch dim and any dim that varied as -1), and before the first call what the model's
   * signature tells.
   */
  metadata(): Record<string, unknown> {
    return {
      name: this.name,
      versions: [this.version],
      platform: "wasmdeploy_torch_package",
      inputs: this.config.inputs ?? this.#learnedInputs ?? this.runtime?.signature ?? [],
      outputs: this.config.outputs ?? this.#learnedOutputs ?? [],
    };
  }

  /**
   * A place in the model's queue for a request whose body is not read yet (HttpError 429 when
   * the line is full, 503 when the model is not serving). See Scheduler.admit.
   */
  admit(deadline: number | undefined, arrived?: number): Admission {
    if (this.state !== "READY" || !this.scheduler) throw new HttpError(503, `model ${this.name} is not ready (${this.state.toLowerCase()})`);
    return this.scheduler.admit(deadline, arrived);
  }

  async infer(req: InferRequest, deadline: number | undefined, ticket?: Ticket): Promise<InferResult> {
    if (this.state !== "READY" || !this.scheduler) throw new HttpError(503, `model ${this.name} is not ready (${this.state.toLowerCase()})`);
    const t0 = performance.now();
    const ordered = this.#order(req.inputs);
    const args = ordered.map((t) => toPython(t, this.config.bytes_as));
    const inputMs = performance.now() - t0;
    const first = ordered[0];
    const rows = first && first.value instanceof Tensor && first.shape.length > 0 ? first.shape[0]! : 1;
    const outcome = await this.scheduler.submit(args, deadline, ticket);
    let outputs = this.#outputs(outcome.value);
    this.#learn(ordered, outputs);
    if (req.outputs) {
      const byName = new Map(outputs.map((o) => [o.name, o]));
      outputs = req.outputs.map((r) => {
        const o = byName.get(r.name);
        if (!o) throw badRequest(`the model has no output ${r.name}; it returned ${[...byName.keys()].join(", ") || "nothing"}`);
        return o;
      });
    }
    return { outputs, outcome, inputMs, rows };
  }

  /** The request's inputs in the order of the model's positional arguments, checked. */
  #order(inputs: IoTensor[]): IoTensor[] {
    const specs = this.config.inputs;
    if (specs) {
      const byName = new Map(inputs.map((t) => [t.name, t]));
      for (const t of inputs) {
        if (!specs.some((s) => s.name === t.name)) throw badRequest(`model ${this.name} has no input ${t.name}; its inputs are ${specs.map((s) => s.name).join(", ")}`);
      }
      return specs.map((s) => {
        const t = byName.get(s.name);
        if (!t) throw badRequest(`input ${s.name} is missing; model ${this.name} takes ${specs.map((x) => x.name).join(", ")}`);
        checkAgainst(t, s, "");
        return t;
      });
    }
    const numbered = inputs.every((t) => INPUT_N.test(t.name));
    const ordered = numbered ? [...inputs].sort((a, b) => Number(INPUT_N.exec(a.name)![1]) - Number(INPUT_N.exec(b.name)![1])) : inputs;
    return ordered;
  }

  #outputs(value: unknown): IoTensor[] {
    const specs = this.config.outputs;
    const nameAt = (i: number) => specs?.[i]?.name ?? `OUTPUT__${i}`;
    let items: [string, unknown][];
    if (value instanceof Map || isPlainObject(value)) items = flattenRecord(value, "");
    else items = flattenSequence(value).flatMap((v, i): [string, unknown][] => (v instanceof Map || isPlainObject(v) ? flattenRecord(v, `${nameAt(i)}.`) : [[nameAt(i), v]]));
    const out: IoTensor[] = [];
    for (const [name, v] of items) {
      if (v === null || v === undefined) continue; // None: nothing to send
      out.push(toOutput(name, v, this.name));
    }
    return out;
  }

  #learn(inputs: IoTensor[], outputs: IoTensor[]): void {
    const spec = (t: IoTensor, i: number, prefix: string): TensorSpec => ({
      name: this.config.inputs || prefix === "OUTPUT" || INPUT_N.test(t.name) ? t.name : `INPUT__${i}`,
      datatype: t.datatype,
      shape: [...t.shape],
    });
    this.#learnedInputs = merge(this.#learnedInputs, inputs.map((t, i) => spec(t, i, "INPUT")));
    this.#learnedOutputs = merge(this.#learnedOutputs, outputs.map((t, i) => spec(t, i, "OUTPUT")));
  }
}

/**
 * Shapes seen so far: the batch dim (dim 0) is -1, and so is a dim that differed between
 * calls (dynamic).
 */
function merge(old: TensorSpec[] | undefined, seen: TensorSpec[]): TensorSpec[] {
  const now = seen.map((n) => ({ ...n, shape: n.shape.map((d, k) => (k === 0 ? -1 : d)) }));
  if (!old || old.length !== now.length) return now;
  return now.map((n, i) => {
    const o = old[i]!;
    if (o.shape.length !== n.shape.length || o.datatype !== n.datatype) return n;
    return { ...n, shape: n.shape.map((d, k) => (o.shape[k] === d ? d : -1)) };
  });
}

function checkAgainst(t: IoTensor, s: TensorSpec, note: string): void {
  if (t.datatype !== s.datatype) throw badRequest(`input ${t.name} must be ${s.datatype}${note}, got ${t.datatype}`);
  const ok = s.shape.length === t.shape.length && s.shape.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) throw badRequest(`input ${t.name} must have shape [${s.shape.join(", ")}] (-1: any size), got [${t.shape.join(", ")}]`);
}

function isBytesLike(v: unknown): v is string | Uint8Array {
  return typeof v === "string" || v instanceof Uint8Array;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * A result's outputs in order: tuples and lists of outputs are flattened depth first (an
 * LSTM's (y, (h, c)) gives OUTPUT__0..2); a list of str/bytes or of numbers is one output.
 */
function flattenSequence(v: unknown): unknown[] {
  if (!Array.isArray(v) || !v.length || bytesShape(v) || (v.length && v.every((x) => typeof x === "number"))) return [v];
  return v.flatMap((x) => flattenSequence(x));
}

/**
 * A dict's outputs (a dataclass or NamedTuple arrives as one): one per key; a nested dict
 * names its outputs key.subkey, a nested tuple or list of outputs key.0, key.1, ... A list of
 * dicts (a detector's per-image results) gives OUTPUT__0.boxes, OUTPUT__1.boxes, ...
 */
function flattenRecord(v: Map<unknown, unknown> | Record<string, unknown>, prefix: string): [string, unknown][] {
  const entries = v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x] as const) : Object.entries(v);
  return entries.flatMap(([k, x]): [string, unknown][] => {
    if (x instanceof Map || isPlainObject(x)) return flattenRecord(x, `${prefix}${k}.`);
    const seq = flattenSequence(x);
    if (Array.isArray(x) && (seq.length !== 1 || seq[0] !== x)) {
      return seq.flatMap((e, i): [string, unknown][] => (e instanceof Map || isPlainObject(e) ? flattenRecord(e, `${prefix}${k}.${i}.`) : [[`${prefix}${k}.${i}`, e]]));
    }
    return [[`${prefix}${k}`, x]];
  });
}

const utf8Encoder = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/**
 * A request input as the model receives it: a Tensor, or for BYTES one value per element
 * (nested lists by shape), `bytes` or `str` as the model's `bytes_as` says, the same whether it
 * came as a JSON string or as binary data.
 */
function toPython(t: IoTensor, bytesAs: "bytes" | "str"): unknown {
  if (t.value instanceof Tensor) return t.value;
  const items = (t.value as BytesData).items.map((v, i) => {
    if (bytesAs === "bytes") return typeof v === "string" ? utf8Encoder.encode(v) : v;
    if (typeof v === "string") return v;
    try {
      return utf8Strict.decode(v);
    } catch {
      throw badRequest(`input ${t.name}: BYTES element ${i} is not UTF-8, and this model takes its BYTES as str (bytes_as)`);
    }
  });
  if (t.shape.length === 0) return items[0];
  let k = 0;
  const build = (dim: number): unknown[] =>
    Array.from({ length: t.shape[dim]! }, () => (dim === t.shape.length - 1 ? items[k++] : build(dim + 1)));
  return build(0);
}

function toOutput(name: string, v: unknown, model: string): IoTensor {
  if (v instanceof Tensor) return tensorOutput(name, v);
  if (isBytesLike(v)) return { name, datatype: "BYTES", shape: [1], value: { items: [v] } };
  if (Array.isArray(v) && v.length === 0) return { name, datatype: "BYTES", shape: [0], value: { items: [] } };
  const shape = bytesShape(v);
  if (shape) return { name, datatype: "BYTES", shape, value: { items: (v as unknown[]).flat(Infinity) as (string | Uint8Array)[] } };
  if (typeof v === "boolean") return tensorOutput(name, Tensor.from("bool", [v], [1]));
  if (typeof v === "bigint") return tensorOutput(name, Tensor.from("int64", [v], [1]));
  // Python int and float both arrive as numbers (2.0 as 2): whole values go out as INT64.
  const numeric = (xs: number[]) => tensorOutput(name, Tensor.from(xs.every(Number.isSafeInteger) ? "int64" : "float64", xs, [xs.length]));
  if (typeof v === "number") return numeric([v]);
  if (Array.isArray(v) && v.length && v.every((x) => typeof x === "number")) return numeric(v as number[]);
  const what = v === null ? "None" : Array.isArray(v) ? "a nested list" : typeof v === "object" ? (v as object).constructor?.name ?? "object" : typeof v;
  throw new HttpError(500, `model ${model} returned ${what} as ${name}, which has no OIP datatype; models must return tensors, str/bytes, numbers, or tuples, lists and dicts of them`);
}

/** The shape of a non-empty rectangular nested list of str/bytes, else undefined. */
function bytesShape(v: unknown): number[] | undefined {
  if (!Array.isArray(v) || !v.length) return undefined;
  if (v.every(isBytesLike)) return [v.length];
  const inner = v.map(bytesShape);
  const first = inner[0];
  if (!first || !inner.every((s) => s && s.length === first.length && s.every((d, i) => d === first[i]))) return undefined;
  return [v.length, ...first];
}
