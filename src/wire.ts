// JavaScript values <-> the wire format shared with the interpreters
// (runtime/wasmdeploy_runtime/wire.py documents the tags).
//
// Python -> JS: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
// float -> number, str -> string, bytes -> Uint8Array, list -> Array, tuple -> PyTuple,
// dict -> plain object when every key is a str, else Map; any other object -> a handle.
// JS -> Python: the reverse; an integer-valued number becomes an int, others a float.

import { ValueConversionError } from "./errors.js";
import type { WireMessage } from "./protocol.js";

export type { WireMessage } from "./protocol.js";

/** A Python tuple. Tuples returned by Python arrive as PyTuple; pass one to send a tuple. */
export class PyTuple<T = unknown> extends Array<T> {
  static from_<T>(items: Iterable<T>): PyTuple<T> {
    const t = new PyTuple<T>();
    for (const item of items) t.push(item);
    return t;
  }
}

/** Make a Python tuple: `tuple(1, "a")`. */
export function tuple<T>(...items: T[]): PyTuple<T> {
  return PyTuple.from_(items);
}

/** A value the encoder hands to a codec: handles and extension values (tensors). */
export interface WireCodec {
  /** Returns the wire form of `v` if this codec owns it, else undefined. */
  encode(v: object, buffers: Uint8Array[]): unknown | undefined;
  /** Decodes a tagged object ("$o" handles, "$x" extensions). */
  decode(tagged: Record<string, unknown>, buffers: Uint8Array[]): unknown;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_DEPTH = 200;

/**
 * Where a value sits in what was encoded: the keys from the top, kept as a stack while the
 * encoder walks (it walks every argument of every call) and made into text only for an error.
 * A number is an array index; a string is already in its printed form (".name", ".get(k)").
 */
function pathText(keys: readonly (string | number)[]): string {
  let text = "value";
  for (const k of keys) text += typeof k === "number" ? `[${k}]` : k;
  return text;
}

export function encode(value: unknown, codec?: WireCodec): WireMessage {
  const buffers: Uint8Array[] = [];
  const at: (string | number)[] = [];
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) {
      throw new ValueConversionError(`${pathText(at)}: value nested more than ${MAX_DEPTH} levels deep (or cyclic)`);
    }
    switch (typeof v) {
      case "undefined":
        return null;
      case "boolean":
      case "string":
        return v;
      case "number":
        if (Number.isInteger(v)) return Math.abs(v) <= MAX_SAFE ? v : { $f: String(v) };
        if (Number.isFinite(v)) return v;
        return { $f: Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf" };
      case "bigint":
        return { $i: v.toString() };
      case "object": {
        if (v === null) return null;
        if (v instanceof Uint8Array) {
          buffers.push(v);
          return { $b: buffers.length - 1 };
        }
        if (v instanceof ArrayBuffer) {
          buffers.push(new Uint8Array(v));
          return { $b: buffers.length - 1 };
        }
        const viaCodec = codec?.encode(v, buffers);
        if (viaCodec !== undefined) return viaCodec;
        if (v instanceof PyTuple) return { $t: walkItems(v, depth) };
        if (Array.isArray(v)) return walkItems(v, depth);
        if (v instanceof Map) {
          const flat: unknown[] = [];
          for (const [k, x] of v) {
            at.push(" key");
            flat.push(walk(k, depth + 1));
            at[at.length - 1] = `.get(${String(k)})`;
            flat.push(walk(x, depth + 1));
            at.pop();
          }
          return { $d: flat };
        }
        if (ArrayBuffer.isView(v)) {
          throw new ValueConversionError(
            `${pathText(at)}: a ${v.constructor.name} cannot cross to Python as is; pass a Tensor for numeric data or a Uint8Array for bytes`,
          );
        }
        const proto = Object.getPrototypeOf(v);
        if (proto === Object.prototype || proto === null) {
          const flat: unknown[] = [];
          for (const k in v) {
            if (!Object.hasOwn(v, k)) continue;
            at.push("." + k);
            flat.push(k, walk((v as Record<string, unknown>)[k], depth + 1));
            at.pop();
          }
          return { $d: flat };
        }
        throw new ValueConversionError(
          `${pathText(at)}: a ${proto?.constructor?.name ?? "object"} has no Python equivalent; ` +
            `pass null, boolean, number, bigint, string, Uint8Array, Array, PyTuple, Map, a plain object, a Tensor or a Python object handle`,
        );
      }
      default:
        throw new ValueConversionError(`${pathText(at)}: a ${typeof v} cannot be sent to Python`);
    }
  };
  const walkItems = (items: unknown[], depth: number): unknown[] => {
    const out = new Array<unknown>(items.length);
    for (let i = 0; i < items.length; i++) {
      at.push(i);
      out[i] = walk(items[i], depth + 1);
      at.pop();
    }
    return out;
  };
  const json = JSON.stringify(walk(value, 0));
  return { json, buffers };
}

/**
 * The message with its buffers copied into one SharedArrayBuffer, for a message sent many
 * times (a package's load message goes to every interpreter): posted to a thread, shared memory
 * is shared, not copied. Copying resnet18's 44 buffers (0.7 MB) into every post took the host
 * 0.2-12 ms a send on a 2-core VM, whose first touch of fresh pages is slow. Unchanged where
 * there is no SharedArrayBuffer; a process transport copies the bytes as before.
 */
export function sharedBuffers(msg: WireMessage): WireMessage {
  if (typeof SharedArrayBuffer !== "function" || msg.buffers.length === 0) return msg;
  const block = new SharedArrayBuffer(msg.buffers.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  const buffers = msg.buffers.map((b) => {
    const view = new Uint8Array(block, at, b.byteLength);
    view.set(b);
    at += b.byteLength;
    return view;
  });
  return { json: msg.json, buffers };
}

export function decode(msg: WireMessage, codec?: WireCodec): unknown {
  return decodeParsed(JSON.parse(msg.json), msg.buffers, codec);
}

/** `decode` of a message whose JSON is already parsed (a value kept to be decoded many times). */
export function decodeParsed(parsed: unknown, buffers: Uint8Array[], codec?: WireCodec): unknown {
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(walk);
    const o = v as Record<string, unknown>;
    if ("$t" in o) return PyTuple.from_((o.$t as unknown[]).map(walk));
    if ("$d" in o) {
      const flat = (o.$d as unknown[]).map(walk);
      let allStrings = true;
      for (let i = 0; i < flat.length; i += 2) if (typeof flat[i] !== "string") allStrings = false;
      const pairs: [unknown, unknown][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
      return allStrings ? Object.fromEntries(pairs) : new Map(pairs);
    }
    if ("$b" in o) return buffers[o.$b as number];
    if ("$i" in o) return BigInt(o.$i as string);
    if ("$f" in o) {
      const f = o.$f as string;
      return f === "nan" ? NaN : f === "inf" ? Infinity : f === "-inf" ? -Infinity : Number(f);
    }
    if (codec) return codec.decode(o, buffers);
    throw new ValueConversionError(`cannot decode wire value with tags ${Object.keys(o).join(",")}`);
  };
  return walk(parsed);
}
