// wasmdeploy/server: the Open Inference Protocol v2 front end, free of platform imports
// (a Fetch handler over a model registry). Node's adapter is wasmdeploy/server/node.

export { createHandler, DEFAULT_MAX_BODY_BYTES, type FetchHandler, type HandlerOptions, toHttpError } from "./handler.js";
export { type IndexEntry, type ModelLoader, ModelRegistry, type ModelSpec } from "./registry.js";
export { type ModelRuntime, type ModelState, ServedModel } from "./model.js";
export { ConfigError, DEFAULT_CONFIG, type ModelConfig, parseConfig, type TensorSpec } from "./config.js";
export { encodeInferResponse, type InferRequest, type IoTensor, parseInferRequest } from "./codec.js";
export { HttpError } from "./errors.js";
export type { Logger, Observer } from "./logger.js";
export { type OipDatatype, datatypeOf, dtypeOf } from "./datatypes.js";
