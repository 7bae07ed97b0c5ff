// Infer requests and responses of the Open Inference Protocol v2, REST: JSON tensors and
// the binary tensor data extension (Inference-Header-Content-Length). Every malformed
// request becomes a 400 that says which input and what is wrong with it.

import { Tensor } from "../tensor.js";
import { dtypeOf, datatypeOf, isOipDatatype, type OipDatatype, WIRE_ITEM_SIZE } from "./datatypes.js";
import { badRequest } from "./errors.js";

/** A BYTES tensor's elements: JSON strings arrive as str, binary elements as bytes. */
export interface BytesData {
  readonly items: (string | Uint8Array)[];
}

export interface IoTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  value: Tensor | BytesData;
}

export interface RequestedOutput {
  name: string;
  binary?: boolean;
}

export interface InferRequest {
  id?: string;
  inputs: IoTensor[];
  outputs?: RequestedOutput[];
  /** parameters.binary_data_output: every output goes in the binary section. */
  binaryOutput: boolean;
  parameters: Record<string, unknown>;
}

const utf8 = new TextDecoder("utf-8");
const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function shapeSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parses the body of POST .../infer. `headerLength` is the Inference-Header-Content-Length header. */
export function parseInferRequest(body: Uint8Array, headerLength: string | null): InferRequest {
  let jsonEnd = body.length;
  if (headerLength !== null) {
    const n = Number(headerLength);
    if (!Number.isSafeInteger(n) || n < 0 || n > body.length) {
      throw badRequest(`Inference-Header-Content-Length is ${JSON.stringify(headerLength)}; it must be an integer between 0 and the body size (${body.length})`);
    }
    jsonEnd = n;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(utf8Strict.decode(body.subarray(0, jsonEnd)));
  } catch (e) {
    throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
  if (!isRecord(doc)) throw badRequest("the request body must be a JSON object with an \"inputs\" array");
  if (doc.id !== undefined && typeof doc.id !== "string") throw badRequest("\"id\" must be a string");
  const parameters = doc.parameters === undefined ? {} : doc.parameters;
  if (!isRecord(parameters)) throw badRequest("\"parameters\" must be an object");
  if (!Array.isArray(doc.inputs)) throw badRequest("the request needs an \"inputs\" array");
  const binary = { body, offset: jsonEnd };
  const inputs = doc.inputs.map((x, i) => parseInput(x, i, binary));
  const names = new Set<string>();
  for (const t of inputs) {
    if (names.has(t.name)) throw badRequest(`input ${t.name} is given twice`);
    names.add(t.name);
  }
  if (binary.offset !== body.length) {
    throw badRequest(`the binary section has ${body.length - binary.offset} bytes that no input's binary_data_size accounts for`);
  }
  let outputs: RequestedOutput[] | undefined;
  if (doc.outputs !== undefined) {
    if (!Array.isArray(doc.outputs)) throw badRequest("\"outputs\" must be an array");
    outputs = doc.outputs.map((o, i) => {
      if (!isRecord(o) || typeof o.name !== "string") throw badRequest(`outputs[${i}] must be an object with a "name"`);
      const p = o.parameters;
      if (p !== undefined && !isRecord(p)) throw badRequest(`outputs[${i}].parameters must be an object`);
      const bin = p?.binary_data;
      if (bin !== undefined && typeof bin !== "boolean") throw badRequest(`outputs[${i}].parameters.binary_data must be true or false`);
      return { name: o.name, binary: bin };
    });
  }
  const bo = parameters.binary_data_output;
  if (bo !== undefined && typeof bo !== "boolean") throw badRequest("parameters.binary_data_output must be true or false");
  return { id: doc.id as string | undefined, inputs, outputs, binaryOutput: bo === true, parameters };
}

function parseInput(x: unknown, index: number, bin: { body: Uint8Array; offset: number }): IoTensor {
  if (!isRecord(x)) throw badRequest(`inputs[${index}] must be an object with name, shape, datatype and data`);
  const name = x.name;
  if (typeof name !== "string" || name === "") throw badRequest(`inputs[${index}] needs a "name" string`);
  const what = `input ${name}`;
  const shape = x.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw badRequest(`${what}: "shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const count = shapeSize(shape as number[]);
  if (!Number.isSafeInteger(count)) throw badRequest(`${what}: shape ${JSON.stringify(shape)} is too large`);
  const datatype = x.datatype;
  if (!isOipDatatype(datatype)) throw badRequest(`${what}: unknown datatype ${JSON.stringify(datatype)}`);
  const dtype = dtypeOf(datatype);
  if (datatype !== "BYTES" && !dtype) throw badRequest(`${what}: datatype ${datatype} has no torch dtype; use INT32 or INT64`);
  const params = x.parameters;
  if (params !== undefined && !isRecord(params)) throw badRequest(`${what}: "parameters" must be an object`);
  const size = params?.binary_data_size;
  let value: Tensor | BytesData;
  if (size !== undefined) {
    if (x.data !== undefined) throw badRequest(`${what} has both "data" and parameters.binary_data_size`);
    if (!Number.isSafeInteger(size) || (size as number) < 0) throw badRequest(`${what}: binary_data_size must be a non-negative integer`);
    const n = size as number;
    if (bin.offset + n > bin.body.length) {
      throw badRequest(`${what}: binary_data_size ${n} runs past the end of the body (${bin.body.length - bin.offset} bytes left)`);
    }
    const bytes = bin.body.slice(bin.offset, bin.offset + n); // a copy: aligned, and ours
    bin.offset += n;
    value = datatype === "BYTES" ? parseBinaryBytes(bytes, count, what) : binaryTensor(bytes, datatype, shape as number[], count, what);
  } else {
    if (x.data === undefined) throw badRequest(`${what} has no "data" (and no parameters.binary_data_size)`);
    const flat = Array.isArray(x.data) ? (x.data as unknown[]).flat(Infinity) : [x.data];
    if (flat.length !== count) {
      throw badRequest(`${what}: shape ${JSON.stringify(shape)} has ${count} elements but "data" has ${flat.length}`);
    }
    value = datatype === "BYTES" ? jsonBytes(flat, what) : jsonTensor(flat, datatype, dtype!, shape as number[], what);
  }
  return { name, datatype, shape: shape as number[], value };
}

const INT_RANGE: Record<string, [number, number]> = {
  UINT8: [0, 255],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const SPECIAL_FLOATS: Record<string, number> = { nan: NaN, inf: Infinity, "+inf": Infinity, "-inf": -Infinity, infinity: Infinity, "-infinity": -Infinity };

function jsonTensor(flat: unknown[], datatype: OipDatatype, dtype: Tensor["dtype"], shape: number[], what: string): Tensor {
  const bad = (i: number) =>
    badRequest(`${what}: data[${i}] is ${JSON.stringify(flat[i])}, which is not a ${datatype} value`);
  if (datatype === "BOOL") {
    const out = new Uint8Array(flat.length);
    flat.forEach((v, i) => {
      if (typeof v !== "boolean") throw bad(i);
      out[i] = v ? 1 : 0;
    });
    return new Tensor("bool", out, shape);
  }
  if (datatype.startsWith("FP")) {
    const values = flat.map((v, i) => {
      if (typeof v === "number") return v;
      if (typeof v === "string" && Object.hasOwn(SPECIAL_FLOATS, v.toLowerCase())) return SPECIAL_FLOATS[v.toLowerCase()]!;
      throw bad(i);
    });
    return Tensor.from(dtype, values, shape);
  }
  const [lo, hi] = INT_RANGE[datatype]!;
  if (datatype === "INT64") {
    // Digits in a string carry int64 values beyond 2^53 exactly.
    const out = new BigInt64Array(flat.length);
    flat.forEach((v, i) => {
      if (typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi) out[i] = BigInt(v);
      else if (typeof v === "string" && /^-?\d{1,19}$/.test(v) && BigInt.asIntN(64, BigInt(v)) === BigInt(v)) out[i] = BigInt(v);
      else throw bad(i);
    });
    return new Tensor("int64", out, shape);
  }
  flat.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) throw bad(i);
  });
  return Tensor.from(dtype, flat as number[], shape);
}

function jsonBytes(flat: unknown[], what: string): BytesData {
  flat.forEach((v, i) => {
    if (typeof v !== "string") throw badRequest(`${what}: data[${i}] is ${JSON.stringify(v)}; BYTES elements in JSON are strings`);
  });
  return { items: flat as string[] };
}

function binaryTensor(bytes: Uint8Array, datatype: OipDatatype, shape: number[], count: number, what: string): Tensor {
  const item = WIRE_ITEM_SIZE[datatype]!;
  if (bytes.length !== count * item) {
    throw badRequest(`${what}: shape ${JSON.stringify(shape)} of ${datatype} needs ${count * item} bytes, binary_data_size is ${bytes.length}`);
  }
  const buf = bytes.buffer;
  switch (datatype) {
    case "BOOL":
      return new Tensor("bool", bytes.map((b) => (b ? 1 : 0)), shape);
    case "UINT8":
      return new Tensor("uint8", bytes, shape);
    case "INT8":
      return new Tensor("int8", new Int8Array(buf, 0, count), shape);
    case "INT16":
      return new Tensor("int32", Int32Array.from(new Int16Array(buf, 0, count)), shape);
    case "INT32":
      return new Tensor("int32", new Int32Array(buf, 0, count), shape);
    case "INT64":
      return new Tensor("int64", new BigInt64Array(buf, 0, count), shape);
    case "FP16":
      return new Tensor("float16", new Uint16Array(buf, 0, count), shape);
    case "FP32":
      return new Tensor("float32", new Float32Array(buf, 0, count), shape);
    case "FP64":
      return new Tensor("float64", new Float64Array(buf, 0, count), shape);
    default:
      throw badRequest(`${what}: datatype ${datatype} has no torch dtype`);
  }
}

/** BYTES in the binary extension: each element is a 4-byte little-endian length, then its bytes. */
function parseBinaryBytes(bytes: Uint8Array, count: number, what: string): BytesData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items: Uint8Array[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (off + 4 > bytes.length) throw badRequest(`${what}: BYTES element ${items.length} has a truncated length prefix`);
    const n = view.getUint32(off, true);
    off += 4;
    if (off + n > bytes.length) throw badRequest(`${what}: BYTES element ${items.length} says ${n} bytes but the data ends first`);
    items.push(bytes.slice(off, off + n));
    off += n;
  }
  if (items.length !== count) throw badRequest(`${what}: the shape has ${count} elements but the binary data holds ${items.length}`);
  return { items };
}

// ----- responses -----

export interface InferResponseHead {
  model_name: string;
  model_version?: string;
  id?: string;
}

/** Half-precision bits to a number. */
function halfToNumber(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function jsonNumber(x: number): number | string {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

/** The elements of an output as JSON values (row-major, flat). */
function jsonData(t: IoTensor): unknown[] {
  const v = t.value;
  if (!(v instanceof Tensor)) return v.items.map((s) => (typeof s === "string" ? s : utf8.decode(s)));
  switch (v.dtype) {
    case "bool":
      return Array.from(v.data as Uint8Array, (b) => b !== 0);
    case "float16":
      return Array.from(v.data as Uint16Array, (b) => jsonNumber(halfToNumber(b)));
    case "int64":
      // Beyond 2^53 a JSON number would round: send the digits as a string.
      return Array.from(v.data as BigInt64Array, (b) => (b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b.toString()));
    default:
      return Array.from(v.data as ArrayLike<number>, jsonNumber);
  }
}

function binaryData(t: IoTensor): Uint8Array {
  const v = t.value;
  if (v instanceof Tensor) return new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  const parts = v.items.map((s) => (typeof s === "string" ? encoder.encode(s) : s));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    view.setUint32(off, p.length, true);
    out.set(p, off + 4);
    off += 4 + p.length;
  }
  return out;
}

export interface EncodedResponse {
  body: Uint8Array | string;
  headers: Record<string, string>;
}

/** The infer response: JSON, or a JSON header followed by the binary outputs. */
export function encodeInferResponse(head: InferResponseHead, outputs: IoTensor[], binary: (name: string) => boolean): EncodedResponse {
  const blobs: Uint8Array[] = [];
  const json = {
    ...head,
    outputs: outputs.map((t) => {
      const base = { name: t.name, datatype: t.datatype, shape: t.shape };
      if (binary(t.name)) {
        const b = binaryData(t);
        blobs.push(b);
        return { ...base, parameters: { binary_data_size: b.length } };
      }
      return { ...base, data: jsonData(t) };
    }),
  };
  const text = JSON.stringify(json);
  if (!blobs.length) return { body: text, headers: { "content-type": "application/json" } };
  const header = encoder.encode(text);
  const out = new Uint8Array(header.length + blobs.reduce((n, b) => n + b.length, 0));
  out.set(header, 0);
  let off = header.length;
  for (const b of blobs) {
    out.set(b, off);
    off += b.length;
  }
  return {
    body: out,
    headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(header.length) },
  };
}

/** An output tensor from a host Tensor, named. */
export function tensorOutput(name: string, t: Tensor): IoTensor {
  return { name, datatype: datatypeOf(t.dtype), shape: [...t.shape], value: t };
}
