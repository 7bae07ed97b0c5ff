// wasmdeploy/server: the Open Inference Protocol v2 front end, free of platform imports
// (a Fetch handler over a model registry). Node's adapter is wasmdeploy/server/node.

export {
  acceptedCoding,
  type BodyCodec,
  type Coding,
  createHandler,
  DEFAULT_MAX_BODY_BYTES,
  type FetchHandler,
  type HandlerOptions,
  type OipHandler,
  type OipRequest,
  type Preflight,
  type Reply,
  type ServeContext,
  toHttpError,
  webCodec,
} from "./handler.js";
export { type IndexEntry, type ModelLoader, ModelRegistry, type ModelSpec } from "./registry.js";
export { type DurationStat, ModelStatistics, type ModelRuntime, type ModelState, ServedModel } from "./model.js";
export type { Admission, Ticket } from "./scheduler.js";
export { ConfigError, DEFAULT_CONFIG, type ModelConfig, parseConfig, parseLoadConfig, parseTensorFlag, type TensorSpec } from "./config.js";
export { encodeInferResponse, type InferRequest, type IoTensor, parseInferRequest } from "./codec.js";
export { HttpError } from "./errors.js";
export type { Logger, Observer } from "./logger.js";
export { type OipDatatype, datatypeOf, dtypeOf } from "./datatypes.js";
