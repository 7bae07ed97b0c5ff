// What crosses between the server and a model's cell (cell.ts, cell-main.ts): the messages, and
// the values of a call. Node's "advanced" IPC serialization carries typed arrays, Maps and
// bigints but not classes, so Tensors, tuples and Python object handles travel tagged: every
// non-primitive value is wrapped, so no model result can be mistaken for a tag.

import type { ManagerStats } from "../../manager.js";
import { PyTuple } from "../../wire.js";
import { Tensor } from "../../tensor.js";
import type { ModelSpec } from "../registry.js";
import type { ModelConfig, TensorSpec } from "../config.js";
import type { InterpreterManagerOptions } from "../../index.js";

/** What a cell needs to open its model: the spec, and the server's manager options. */
export interface CellInit {
  spec: ModelSpec;
  defaults: ModelConfig;
  manager: Partial<Pick<InterpreterManagerOptions, "snapshotDir" | "engine" | "interpreter">>;
  logLevel: string;
  /** The server's --debug: Python tracebacks go into error bodies. */
  debug: boolean;
}

export type ToCell = { type: "open"; init: CellInit } | { type: "call"; id: number; args: Encoded[]; timeoutMs?: number } | { type: "close" };

export interface CellError {
  status: number;
  message: string;
  extra: Record<string, unknown>;
}

export type FromCell =
  /** Opened: its stats, and the inputs its signature tells (metadata before the first call). */
  | { type: "ready"; stats: ManagerStats; signature?: TensorSpec[] }
  | { type: "open-failed"; error: CellError }
  | { type: "result"; id: number; ok: true; value: Encoded; stats: ManagerStats }
  | { type: "result"; id: number; ok: false; error: CellError; stats: ManagerStats }
  | { type: "stats"; stats: ManagerStats };

export type Encoded =
  | null
  | boolean
  | number
  | bigint
  | string
  | { k: "T"; dtype: Tensor["dtype"]; shape: number[]; data: Tensor["data"] }
  | { k: "B"; v: Uint8Array }
  | { k: "A" | "P"; v: Encoded[] }
  | { k: "M"; v: [Encoded, Encoded][] }
  | { k: "O"; v: Record<string, Encoded> }
  | { k: "X"; what: string };

export function encodeValue(v: unknown): Encoded {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean" || typeof v === "number" || typeof v === "bigint" || typeof v === "string") return v;
  if (v instanceof Tensor) return { k: "T", dtype: v.dtype, shape: [...v.shape], data: v.data };
  if (v instanceof Uint8Array) return { k: "B", v };
  if (v instanceof PyTuple) return { k: "P", v: [...v].map(encodeValue) };
  if (Array.isArray(v)) return { k: "A", v: v.map(encodeValue) };
  if (v instanceof Map) return { k: "M", v: [...v].map(([a, b]) => [encodeValue(a), encodeValue(b)]) };
  if (Object.getPrototypeOf(v) === Object.prototype) return { k: "O", v: Object.fromEntries(Object.entries(v).map(([a, b]) => [a, encodeValue(b)])) };
  // A Python object handle cannot leave its interpreter's process.
  return { k: "X", what: (v as object).constructor?.name ?? "object" };
}

/** Stands for a Python object a model returned: it has no OIP datatype, and its name says so. */
export class PyObject {
  constructor(readonly what: string) {}
}

export function decodeValue(e: Encoded): unknown {
  if (e === null || typeof e !== "object") return e;
  switch (e.k) {
    case "T":
      return new Tensor(e.dtype, e.data, e.shape);
    case "B":
      return e.v;
    case "P":
      return PyTuple.from_(e.v.map(decodeValue));
    case "A":
      return e.v.map(decodeValue);
    case "M":
      return new Map(e.v.map(([a, b]) => [decodeValue(a), decodeValue(b)]));
    case "O":
      return Object.fromEntries(Object.entries(e.v).map(([a, b]) => [a, decodeValue(b)]));
    case "X":
      return new PyObject(e.what);
  }
}
