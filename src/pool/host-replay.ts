// Host replay: a call the interpreter just replayed from a one-run trace (runtime/torch/_replay.py)
// can be answered by the host alone next time, while that interpreter's Python state cannot have
// changed: run the trace's graph on the engine with the new inputs and build the result from the
// trace's template. No message to the interpreter, no Python, no bridge round trips.
//
// The contract (docs/tensor-layer.md, "Replay"):
// - Python sends a plan with a call's reply only for a trace it would replay as one engine run
//   with no value read and no state tensor rebound (exact or shapes mode, nothing random).
// - A plan is keyed by the interpreter generation and the call's host signature: the call's wire
//   text with each tensor's storage id renumbered from 0 (target, method, structure, dtypes,
//   shapes, which arguments are the same Tensor, every non-tensor value exactly as Python will
//   decode it).
//   Equal host signatures decode to equal Python arguments, so Python would pick the same trace.
// - Anything sent into an interpreter (a call, getattr, free of a dropped handle, load, unload,
//   a prerequisite, ...) drops all its plans before it is sent; so do a respawn and an engine
//   failure. The storages a plan names are held by Python state that only Python can change, and
//   no Python runs while a plan lives.

import type { EngineHost, HostFeeds, Requester } from "../bridge/engine-host.js";
import { sameShape } from "../engine/dtype.js";
import type { DType } from "../engine/graph.js";
import { ValueConversionError } from "../errors.js";
import { type Interpreter, LocalResult } from "../interpreter/interpreter.js";
import type { WireMessage } from "../protocol.js";
import { Tensor } from "../tensor.js";
import { decodeParsed, type WireCodec } from "../wire.js";

const NO_BUFFERS: Uint8Array[] = [];

/** Where a tensor comes from: argument tensor i, graph output k, or a storage the interpreter holds. */
type Bound = ["a", number] | ["o", number] | ["s", string, number, DType, number[]];

/** What Python sends (runtime/torch/_replay.py, _host_plan). */
export interface HostPlan {
  /** The graph's key in the engine host's spec cache of this interpreter generation. */
  key: string;
  feeds: [string, ...Bound][];
  results: Bound[];
  /** The result as wire JSON, each tensor a {"$x": "slot", "i": n} (n indexes `results`). */
  template: unknown;
}

interface Plans {
  generation: number;
  bySig: Map<string, PlanEntry>;
}

interface PlanEntry {
  plan: HostPlan;
  /** The result template as the wire decoder's input (parsed once; decoding does not change it). */
  template: unknown;
  /** Per graph output: how many result slots name it (one: the result takes it without a copy). */
  outputUses: number[];
}

const PLAN_PREFIX = '{"$plan":';
/** Plans kept per interpreter (one per call signature that replayed; any Python op clears them). */
const MAX_PLANS = 64;
const STORAGE_ID = /"storage":"t\d+"/g;

/** Take a host plan off a call's reply (it precedes the result, a newline between). */
function stripPlan(msg: WireMessage): HostPlan | undefined {
  if (!msg.json.startsWith(PLAN_PREFIX)) return undefined;
  const nl = msg.json.indexOf("\n");
  if (nl < 0) return undefined;
  let plan: HostPlan;
  try {
    plan = (JSON.parse(msg.json.slice(0, nl)) as { $plan: HostPlan }).$plan;
  } catch {
    return undefined; // not a plan after all: the reply decodes (or fails) as it is
  }
  msg.json = msg.json.slice(nl + 1);
  return plan;
}

/** Signatures remembered for fast calls (see fastCall); all forgotten when this many are kept. */
const MAX_FAST_SIGNATURES = 1024;

/**
 * A call whose encoding is a function of these fields alone, so that its signature can be looked
 * up instead of encoding the call (encoding is several µs of a 0.1 ms LSTM call): a call payload
 * as ReplicatedObject builds it ({pkg, package, resource, method?, args, kwargs}), every argument
 * a Tensor, no keyword arguments. Its signature depends on the address, the method, and per
 * argument its dtype, its shape and which earlier argument it is the same Tensor as: exactly what
 * the wire text holds once storage ids are renumbered.
 */
export interface FastCall {
  pkg: string;
  name: string;
  resource: string;
  method: string | undefined;
  args: readonly Tensor[];
}

/** The payload as a FastCall, or undefined for any other call. */
export function fastCall(payload: Readonly<Record<string, unknown>>): FastCall | undefined {
  const { pkg, package: name, resource, method, args, kwargs } = payload;
  if (typeof pkg !== "string" || typeof name !== "string" || typeof resource !== "string") return undefined;
  if (method !== undefined && typeof method !== "string") return undefined;
  if (!Array.isArray(args) || Object.getPrototypeOf(args) !== Array.prototype) return undefined;
  if (typeof kwargs !== "object" || kwargs === null || Object.getPrototypeOf(kwargs) !== Object.prototype) return undefined;
  for (const _ in kwargs) return undefined;
  let keys = 0;
  for (const _ in payload) keys++;
  if (keys !== (method === undefined ? 5 : 6)) return undefined;
  for (const a of args) if (!(a instanceof Tensor)) return undefined;
  return { pkg, name, resource, method, args: args as Tensor[] };
}

/** A remembered signature and the fast call it was encoded from (arguments by dtype, shape, sameness). */
interface FastSignature {
  pkg: string;
  name: string;
  method: string | undefined;
  dtypes: DType[];
  shapes: number[][];
  /** Per argument: the index of its first occurrence among the arguments (itself if first). */
  same: number[];
  sig: string;
}

/**
 * A number from the arguments' dtypes and shapes, to bucket remembered calls by: a call of one
 * resource made with many shapes (a tokenizer's lengths) is not compared with each of them.
 */
function shapeHash(args: readonly Tensor[]): number {
  let h = args.length;
  for (const a of args) {
    h = (Math.imul(h, 31) + a.dtype.length * 7 + a.dtype.charCodeAt(a.dtype.length - 1)) | 0;
    for (const d of a.shape) h = (Math.imul(h, 31) + d) | 0;
  }
  return h;
}

/** Whether `c` encodes exactly as the call `e` remembers; compared field by field, no key built. */
function sameCall(e: FastSignature, c: FastCall): boolean {
  const args = c.args;
  if (e.pkg !== c.pkg || e.name !== c.name || e.method !== c.method || e.dtypes.length !== args.length) return false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.dtype !== e.dtypes[i] || !sameShape(a.shape, e.shapes[i]!) || args.indexOf(a) !== e.same[i]) return false;
  }
  return true;
}

export class HostReplay {
  readonly #plans = new Map<Interpreter, Plans>();
  /** Per resource name and shapeHash: signatures the full encoding gave fast calls (see fastCall). */
  readonly #signatures = new Map<string, Map<number, FastSignature[]>>();
  #fastCount = 0;
  /** Calls answered by the host, per interpreter index (ManagerStats). */
  readonly counts: number[] = [];

  constructor(private readonly engine: EngineHost) {}

  /**
   * The host signature of an encoded call, or undefined when the host cannot replay it (a
   * Python object handle or a bytes buffer among its arguments).
   */
  signature(msg: WireMessage, handles: number): string | undefined {
    if (handles > 0 || msg.buffers.length > 0) return undefined;
    // Storage ids are numbered per message from its first tensor ("t<n>", one per distinct Tensor),
    // so renumbering them keeps which arguments are the same tensor and nothing else.
    const seen = new Map<string, number>();
    return msg.json.replace(STORAGE_ID, (m) => `"storage":${seen.get(m) ?? (seen.set(m, seen.size), seen.size - 1)}`);
  }

  /** The signature of a call encoded before that `call` encodes exactly as, if any. */
  knownSignature(call: FastCall): string | undefined {
    const seen = this.#signatures.get(call.resource)?.get(shapeHash(call.args));
    if (seen) for (const e of seen) if (sameCall(e, call)) return e.sig;
    return undefined;
  }

  /** Remember the signature `call` encoded to. */
  rememberSignature(call: FastCall, sig: string): void {
    if (this.#fastCount >= MAX_FAST_SIGNATURES) {
      this.#signatures.clear();
      this.#fastCount = 0;
    }
    const { pkg, name, method, args } = call;
    const entry: FastSignature = {
      pkg,
      name,
      method,
      dtypes: args.map((a) => a.dtype),
      shapes: args.map((a) => [...a.shape]),
      same: args.map((a) => args.indexOf(a)),
      sig,
    };
    let byShape = this.#signatures.get(call.resource);
    if (!byShape) this.#signatures.set(call.resource, (byShape = new Map()));
    const h = shapeHash(args);
    let seen = byShape.get(h);
    if (!seen) byShape.set(h, (seen = []));
    seen.push(entry);
    this.#fastCount++;
  }

  /** Any operation is about to reach `interp`'s Python: its plans are void. */
  invalidate(interp: Interpreter): void {
    this.#plans.delete(interp);
  }

  /** Take the plan off a call's reply (it precedes the result, a newline between) and keep it under `sig`. */
  takePlan(interp: Interpreter, sig: string | undefined, msg: WireMessage): void {
    const plan = stripPlan(msg);
    // Python's word on storages is checked at use (owner and package access), like its bridge requests.
    if (sig === undefined || !plan || typeof plan.key !== "string" || !Array.isArray(plan.feeds) || !Array.isArray(plan.results)) return;
    let p = this.#plans.get(interp);
    if (!p || p.generation !== interp.generation) this.#plans.set(interp, (p = { generation: interp.generation, bySig: new Map() }));
    if (p.bySig.size >= MAX_PLANS) p.bySig.clear();
    const outputUses: number[] = [];
    for (const b of plan.results) if (Array.isArray(b) && b[0] === "o" && typeof b[1] === "number") outputUses[b[1]] = (outputUses[b[1]] ?? 0) + 1;
    p.bySig.set(sig, { plan, template: plan.template, outputUses });
  }

  /**
   * Answer a call on the host if `interp` holds a plan for `sig`; undefined sends it to Python.
   * `args` are the call's tensors in wire order (Python's order), read in place; `stored` are
   * the engine store ids the call put them under, if it did (freed once the host answers).
   */
  async run(interp: Interpreter, sig: string, args: readonly Tensor[], stored: readonly string[], who: Requester): Promise<LocalResult | undefined> {
    const p = this.#plans.get(interp);
    const entry = p && p.generation === interp.generation ? p.bySig.get(sig) : undefined;
    if (!entry) return undefined;
    const { plan, template, outputUses } = entry;
    const feeds: HostFeeds = {};
    for (const f of plan.feeds) {
      // [name, "a", argument index] or [name, "s", storage, offset, ...]
      const name = f[0];
      if (f[1] === "a" && args[f[2]] instanceof Tensor) feeds[name] = args[f[2]]!;
      else if (f[1] === "s") feeds[name] = [f[2], f[3]];
      else return undefined;
    }
    let outs: Tensor[] | undefined;
    try {
      outs = await this.engine.runCached(plan.key, feeds, who);
    } catch {
      // Python runs the call instead and reports the failure the way it always does.
      this.invalidate(interp);
      return undefined;
    }
    if (!outs) {
      p!.bySig.delete(sig); // the spec left the engine host's cache
      return undefined;
    }
    const codec: WireCodec = {
      encode: () => undefined,
      decode: (tagged) => {
        const i = tagged.i as number;
        if (tagged.$x !== "slot") throw new ValueConversionError(`host replay: unexpected wire tag in a result template`);
        const b = plan.results[i]!;
        if (b?.[0] === "o") {
          // The run's output is new and nothing else holds it: a result slot that alone names it
          // takes it as it is; two slots naming one output get copies, as results from the store do.
          const t = outs[b[1]]!;
          return outputUses[b[1]] === 1 ? t : new Tensor(t.dtype, t.data.slice(), [...t.shape]);
        }
        if (b?.[0] === "a") {
          const t = args[b[1]];
          if (!(t instanceof Tensor)) throw new ValueConversionError("host replay: a result template names no argument");
          return new Tensor(t.dtype, t.data.slice(), [...t.shape]); // a copy, as results from the store are
        }
        if (b?.[0] === "s") return this.engine.take(b[1], b[3], b[2], b[4], who);
        throw new ValueConversionError("host replay: a result template names no tensor");
      },
    };
    const value = decodeParsed(template, NO_BUFFERS, codec);
    // Python never saw these inputs: the host frees them.
    if (stored.length) this.engine.release(stored);
    this.counts[interp.index] = (this.counts[interp.index] ?? 0) + 1;
    return new LocalResult(value);
  }
}
