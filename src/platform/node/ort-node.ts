// onnxruntime-node: the native CPU runtime, the default under Node.js.

import type { BackendOptions, EngineBackend } from "../../engine/backend-api.js";
import { wrapSession } from "../../engine/backends/ort-common.js";

export async function createOrtNodeBackend(options: BackendOptions): Promise<EngineBackend> {
  const ort = await import("onnxruntime-node");
  const threads = options.threads ?? 1;
  return {
    name: "ort-node",
    async createSession(model, opts = {}) {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ["cpu"],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        logSeverityLevel: 4, // failures reach the caller as EngineErrors; keep stderr quiet
        ...(opts.externalData ? { externalData: opts.externalData } : {}),
      });
      return wrapSession(ort.Tensor, session);
    },
  };
}
