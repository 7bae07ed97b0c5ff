// The package's exports, free of platform imports: each entry point (src/index.ts for Node, the
// browser bundle's entry) installs its platform and re-exports these.

export {
  CallTimeoutError,
  ClosedError,
  InterpreterCrashedError,
  MemoryLimitError,
  PackageFormatError,
  PythonError,
  ResourceNotFoundError,
  ValueConversionError,
  WasmdeployError,
} from "./errors.js";
export {
  InterpreterInstance,
  InterpreterManager,
  type InterpreterManagerOptions,
  type LoadPackageOptions,
  type CallLimits,
  type ManagerStats,
} from "./manager.js";
export { PyObject } from "./objects.js";
export { type CallOptions, Package, ReplicatedObj } from "./package.js";
export { InterpreterSession, type Movable } from "./session.js";
export { PyTuple, tuple } from "./wire.js";
export { type DType, Tensor, type TypedArray } from "./tensor.js";
export { EngineError } from "./engine/errors.js";
export type { EngineName } from "./protocol.js";
export { DEFAULT_ZIP_LIMITS, type ZipLimits } from "./package/zip.js";
export { type TorchPackageArchive, parseTorchPackage } from "./package/archive.js";
export { SCI_BUILD_MODULES, wasiBuildFor } from "./package/wasi-build.js";
