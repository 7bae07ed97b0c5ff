// The tensor engine's public surface.

export { Engine, type EngineOptions, type EngineStats, type WeightPolicy } from "./engine.js";
export { EngineError } from "./errors.js";
export type { AttrValue, DType, GraphInput, GraphNode, GraphOutput, GraphSpec, GraphWeight } from "./graph.js";
export {
  defaultBackendName,
  loadBackend,
  registerBackend,
  type BackendLoader,
  type BackendName,
  type BackendOptions,
  type BackendSession,
  type EngineBackend,
  type SessionOptions,
} from "./backend.js";
export { structuralKey } from "./structural-key.js";
