// onnxruntime-web: ONNX Runtime compiled to WebAssembly. Runs in browsers, edge runtimes and
// Node (CPU only there). One wasm instance per process; its thread count is global. Under Node
// it finds its .wasm/.mjs files next to its own module (node_modules/onnxruntime-web/dist) by
// itself; a bundled browser/edge build sets ort.env.wasm.wasmPaths (or registers its own loader
// with registerBackend).

import type { BackendOptions, EngineBackend } from "../backend-api.js";
import { EngineError } from "../errors.js";
import { wrapSession } from "./ort-common.js";

let configuredThreads: number | undefined;

export async function createOrtWebBackend(options: BackendOptions): Promise<EngineBackend> {
  const ort = await import("onnxruntime-web");
  const threads = options.threads ?? 1;
  if (configuredThreads === undefined) {
    configuredThreads = threads;
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = "fatal";
  } else if (configuredThreads !== threads) {
    throw new EngineError(
      `ort-web was already initialized with ${configuredThreads} thread(s) in this process; it cannot switch to ${threads}`,
    );
  }
  return {
    name: "ort-web",
    widens: false, // one wasm instance, one thread count: every call already gets what it has
    async createSession(model, opts = {}) {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
        logSeverityLevel: 4, // failures reach the caller as EngineErrors; keep stderr quiet
        ...(opts.externalData ? { externalData: opts.externalData } : {}),
      });
      // Overlapping runs are safe: measured three concurrent runs on two sessions, all correct.
      return wrapSession(ort.Tensor, session);
    },
  };
}
