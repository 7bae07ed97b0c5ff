// GraphSpec -> ONNX ModelProto bytes.

import onnxProto from "onnx-proto";
import type { AttrValue, DType, GraphNode, GraphSpec, GraphWeight } from "./graph.js";
import { bytesOf, dtypeInfo, typedArrayFrom } from "./dtype.js";
import { EngineError } from "./errors.js";

const { onnx } = onnxProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const DEFAULT_OPSET = 18;
export const MS_DOMAIN = "com.microsoft";

/**
 * How weights enter the model:
 * - "initializers": raw_data copied into the model bytes (ORT can constant-fold, fuse, prepack);
 * - "external": initializers whose data ORT reads from in-memory "files" handed to the session
 *   (same optimizations, model bytes stay small);
 * - "inputs": graph inputs, fed from the shared storage on every run (no weight copies, but
 *   no weight-dependent optimizations).
 */
export type WeightMode = "initializers" | "external" | "inputs";

/** Where a weight's bytes live: a registered storage and a byte range in it. */
export interface WeightLocation {
  storageBytes: Uint8Array;
  /** A file name for the storage that is safe to use as an ONNX external data location. */
  fileName: string;
  byteOffset: number;
  byteLength: number;
}

export interface BuildOptions {
  weights: WeightMode;
  locate(weight: GraphWeight): WeightLocation;
  opset?: number;
}

export interface BuiltModel {
  bytes: Uint8Array;
  /** Weights the caller must feed on every run (mode "inputs"). */
  weightInputs: GraphWeight[];
  /** In-memory files the session must be created with (mode "external"). */
  externalData: { path: string; data: Uint8Array }[];
}

/** The node name we give node i; ORT quotes it in errors, so errors can point back at i. */
export function nodeName(i: number, op: string): string {
  return `n${i}_${op}`;
}

export function buildModel(graph: GraphSpec, opts: BuildOptions): BuiltModel {
  const initializers: ITensorProto[] = [];
  const weightInputs: GraphWeight[] = [];
  const files = new Map<string, Uint8Array>();
  const inputs = graph.inputs.map((i) => valueInfo(i.name, i.dtype, i.shape));

  for (const w of graph.weights) {
    const loc = opts.locate(w);
    if (opts.weights === "inputs") {
      inputs.push(valueInfo(w.name, w.dtype, w.shape));
      weightInputs.push(w);
    } else if (opts.weights === "external") {
      files.set(loc.fileName, loc.storageBytes);
      initializers.push({
        name: w.name,
        dataType: dtypeInfo(w.dtype).onnx,
        dims: w.shape,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: "location", value: loc.fileName },
          { key: "offset", value: String(loc.byteOffset) },
          { key: "length", value: String(loc.byteLength) },
        ],
      });
    } else {
      initializers.push({
        name: w.name,
        dataType: dtypeInfo(w.dtype).onnx,
        dims: w.shape,
        rawData: loc.storageBytes.subarray(loc.byteOffset, loc.byteOffset + loc.byteLength),
      });
    }
  }

  let usesMs = false;
  const nodes = graph.nodes.map((n, i) => {
    const domain = n.domain ?? "";
    if (domain === MS_DOMAIN) usesMs = true;
    else if (domain !== "" && domain !== "ai.onnx") {
      throw new EngineError(`node ${i} (${n.op}) uses domain "${domain}"; only the default domain and ${MS_DOMAIN} are supported`, {
        op: n.op,
        nodeIndex: i,
      });
    }
    return {
      name: nodeName(i, n.op),
      opType: n.op,
      domain,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => attribute(name, v, n, i)),
    };
  });

  const opsetImport = [{ domain: "", version: opts.opset ?? DEFAULT_OPSET }];
  if (usesMs) opsetImport.push({ domain: MS_DOMAIN, version: 1 });

  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    producerName: "wasmdeploy",
    opsetImport,
    graph: {
      name: "g",
      node: nodes,
      initializer: initializers,
      input: inputs,
      output: graph.outputs.map((o) => valueInfo(o.name, o.dtype, o.shape)),
    },
  }).finish();
  return { bytes, weightInputs, externalData: [...files].map(([path, data]) => ({ path, data })) };
}

function valueInfo(name: string, dtype: DType, shape: readonly number[]): IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: dtypeInfo(dtype).onnx, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  };
}

const AT = onnx.AttributeProto.AttributeType;
const utf8 = new TextEncoder();

function attribute(name: string, v: AttrValue, node: GraphNode, i: number): IAttributeProto {
  const bad = (why: string): never => {
    throw new EngineError(`node ${i} (${node.op}) attribute "${name}": ${why}`, { op: node.op, nodeIndex: i });
  };
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) bad(`${v} is not an integer; mark float attributes as { float: ${v} }`);
    return { name, type: AT.INT, i: v };
  }
  if (typeof v === "string") return { name, type: AT.STRING, s: utf8.encode(v) };
  if (Array.isArray(v)) {
    if (v.every((x): x is string => typeof x === "string")) {
      if (v.length > 0) return { name, type: AT.STRINGS, strings: v.map((s) => utf8.encode(s)) };
    }
    const ints = v as unknown[];
    if (!ints.every((x) => Number.isSafeInteger(x))) bad(`expected integers or strings, got ${JSON.stringify(v)}; mark float lists as { floats: [...] }`);
    return { name, type: AT.INTS, ints: ints as number[] };
  }
  if (v && typeof v === "object") {
    if ("float" in v) return { name, type: AT.FLOAT, f: v.float };
    if ("floats" in v) return { name, type: AT.FLOATS, floats: v.floats };
    if ("tensor" in v) {
      const { dtype, shape, data } = v.tensor;
      let raw: Uint8Array;
      try {
        raw = bytesOf(typedArrayFrom(dtype, data));
      } catch (e) {
        return bad(`tensor: ${(e as Error).message}`);
      }
      return { name, type: AT.TENSOR, t: { name, dataType: dtypeInfo(dtype).onnx, dims: shape, rawData: raw } };
    }
  }
  return bad(`unsupported value ${JSON.stringify(v)}`);
}
