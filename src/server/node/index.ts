// wasmdeploy/server/node: the server's Node pieces (node:http adapter, models from files,
// Prometheus metrics).

export { type NodeServer, type NodeServerOptions, startNodeServer } from "./http.js";
export { nodeCodec } from "./compression.js";
export { nodeLoader, type NodeLoaderOptions, scanRepository } from "./loader.js";
export { createPrometheus, type Prometheus } from "../prometheus.js";
