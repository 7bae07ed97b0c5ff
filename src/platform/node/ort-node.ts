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
        // ORT's CPU arena keeps each session's peak for the session's life (a run whose
        // intermediates reached 530 MB left the process 530 MB larger); without it a run's memory
        // goes back when the run ends, for 1-3% on resnet18 (measured; docs/security.md).
        enableCpuMemArena: false,
        logSeverityLevel: 4, // failures reach the caller as EngineErrors; keep stderr quiet
        // A session's pool threads spin after each run by default, taking cores from the other
        // engine threads' runs; a wide session is idle whenever the pool is busy, so it sleeps.
        ...(opts.wide ? { extra: { session: { intra_op: { allow_spinning: "0" } } } } : {}),
        ...(opts.externalData ? { externalData: opts.externalData } : {}),
      });
      return wrapSession(ort.Tensor, session);
    },
  };
}
