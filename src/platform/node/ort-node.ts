// onnxruntime-node: the native CPU runtime, the default under Node.js.

import type { BackendOptions, EngineBackend } from "../../engine/backend-api.js";
import { wrapSession } from "../../engine/backends/ort-common.js";

export async function createOrtNodeBackend(options: BackendOptions): Promise<EngineBackend> {
  const ort = await import("onnxruntime-node");
  const threads = options.threads ?? 1;
  const wideThreads = Math.max(threads, options.wideThreads ?? threads);
  return {
    name: "ort-node",
    widens: wideThreads > threads,
    async createSession(model, opts = {}) {
      const n = opts.wide ? wideThreads : threads;
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ["cpu"],
        intraOpNumThreads: n,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        logSeverityLevel: 4, // failures reach the caller as EngineErrors; keep stderr quiet
        // A wide session's pool threads keep ORT's default of spinning between parallel
        // sections: with them asleep, each of resnet18's ~20 parallel convolutions paid a
        // wake-up, and a lone batch-1 call took 1.25x onnxruntime-node's defaults instead of
        // 1.19x (same-run A/B). Wide runs happen only while the pool is idle, so the spin
        // (bounded, after each section) does not take cores from busy engine threads.
        ...(opts.externalData ? { externalData: opts.externalData } : {}),
      });
      return wrapSession(ort.Tensor, session);
    },
  };
}
