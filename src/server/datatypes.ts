// Open Inference Protocol datatypes and the torch dtypes they map to. One table, so the
// JSON codec, the binary extension and model metadata agree.

import type { DType } from "../tensor.js";

export type OipDatatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "FP32"
  | "FP64"
  | "BYTES";

/**
 * Datatypes that reach the model as a tensor. INT16 has a torch dtype (torch.int16) but
 * wasmdeploy's engine has none, so INT16 inputs are widened to int32 (values are kept exactly).
 * UINT16/32/64 have no torch 1.13 dtype: requests using them get a 400.
 */
const TO_DTYPE: Readonly<Record<string, DType>> = {
  BOOL: "bool",
  UINT8: "uint8",
  INT8: "int8",
  INT16: "int32",
  INT32: "int32",
  INT64: "int64",
  FP16: "float16",
  FP32: "float32",
  FP64: "float64",
};

const FROM_DTYPE: Readonly<Record<DType, OipDatatype>> = {
  bool: "BOOL",
  uint8: "UINT8",
  int8: "INT8",
  int32: "INT32",
  int64: "INT64",
  float16: "FP16",
  float32: "FP32",
  float64: "FP64",
};

/** Bytes per element on the wire (binary extension); BYTES is variable. */
export const WIRE_ITEM_SIZE: Readonly<Record<string, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
};

export const KNOWN_DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];

export function isOipDatatype(x: unknown): x is OipDatatype {
  return typeof x === "string" && KNOWN_DATATYPES.includes(x);
}

/** The dtype a tensor input of this datatype becomes, or undefined (BYTES, or no torch dtype). */
export function dtypeOf(datatype: string): DType | undefined {
  return Object.hasOwn(TO_DTYPE, datatype) ? TO_DTYPE[datatype] : undefined;
}

export function datatypeOf(dtype: DType): OipDatatype {
  return FROM_DTYPE[dtype];
}
