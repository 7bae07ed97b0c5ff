// The contract between the Python runtime (which records ONNX nodes) and the engine.
// A GraphSpec is plain JSON-able data so it can cross a worker boundary unchanged.

export type DType = "float32" | "float64" | "float16" | "int64" | "int32" | "int8" | "uint8" | "bool";

/**
 * An ONNX attribute value. Plain numbers are INT attributes and arrays of numbers INTS;
 * FLOAT / FLOATS must be marked with `{ float }` / `{ floats }` because a JS number cannot
 * say which it is. `{ tensor }` is a TENSOR attribute (e.g. Constant's `value`).
 */
export type AttrValue =
  | number
  | string
  | number[]
  | string[]
  | { tensor: { dtype: DType; shape: number[]; data: number[] } }
  | { float: number }
  | { floats: number[] };

/** One ONNX node. An empty-string input name is an omitted optional input, as in ONNX. */
export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  /** "" or undefined is the default ONNX domain; "com.microsoft" selects ORT's contrib ops. */
  domain?: string;
}

/** A value fed on every run. */
export interface GraphInput {
  name: string;
  dtype: DType;
  shape: number[];
}

/**
 * A tensor read from a registered storage. `offset` counts elements of `dtype` from the
 * start of the storage (torch's storage_offset); the tensor is contiguous from there.
 */
export interface GraphWeight {
  name: string;
  storage: string;
  dtype: DType;
  shape: number[];
  offset?: number;
}

export interface GraphOutput {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface GraphSpec {
  inputs: GraphInput[];
  weights: GraphWeight[];
  nodes: GraphNode[];
  outputs: GraphOutput[];
}
