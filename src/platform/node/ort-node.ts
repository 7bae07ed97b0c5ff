// onnxruntime-node: the native CPU runtime, the default under Node.js.

import { createRequire } from "node:module";
import path from "node:path";
import type { InferenceSession, Tensor as OrtTensor } from "onnxruntime-common";
import type { BackendOptions, BackendSession, EngineBackend } from "../../engine/backend-api.js";
import { fromOrtResults, RUN_OPTIONS, toOrtFeeds, wrapSession } from "../../engine/backends/ort-common.js";

/** onnxruntime-node's native session (dist/binding.js), as its own backend.js drives it. */
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): InferenceSession.ReturnType;
  dispose(): void;
}
interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt: () => void;
}

/**
 * The native binding under onnxruntime-node's public API, or undefined if this version does not
 * have the shape it had in 1.30. Its public `run` defers every run to a `setImmediate` (one event
 * loop turn, 5-8 µs measured on a 34 µs LSTM graph) and then runs synchronously anyway; calling
 * the binding directly runs at once, on the same thread, with the same session options.
 */
function nativeBinding(): NativeBinding | undefined {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve("onnxruntime-node");
    const b = require(path.join(path.dirname(entry), "binding.js")) as Partial<NativeBinding>;
    return typeof b.initOrt === "function" && typeof b.binding?.InferenceSession === "function" ? (b as NativeBinding) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A wide session's pool threads spin between the ops of a run, for at most spin_duration_us at a
 * time. ORT's default spins on after every run and takes the core the next caller needs (inline
 * runs on the host thread went from 1.6 to 3.5-4.5 ms beside one); never spinning, the threads
 * sleep between ops and every small op pays a wake-up (mobilenet_v3_small 2.1 ms against 1.35 ms,
 * and 6.1 ms against 1.5 ms when other processes hold both cores). Bounded, the spin after a run
 * costs about 3 ms of CPU in all. Measured in docs/benchmarks.md section 8.
 */
const WIDE_SESSION_CONFIG = { intra_op: { allow_spinning: "1", spin_duration_us: "100" } };

export async function createOrtNodeBackend(options: BackendOptions): Promise<EngineBackend> {
  const ort = await import("onnxruntime-node");
  const native = nativeBinding();
  const threads = options.threads ?? 1;
  const wideThreads = Math.max(threads, options.wideThreads ?? threads);
  return {
    name: "ort-node",
    widens: wideThreads > threads,
    async createSession(model, opts = {}) {
      const n = opts.wide ? wideThreads : threads;
      const sessionOptions: InferenceSession.SessionOptions = {
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
        ...(opts.wide ? { extra: { session: WIDE_SESSION_CONFIG } } : {}),
        ...(opts.externalData ? { externalData: opts.externalData } : {}),
      };
      // External data goes through the public API, which resolves it for the binding.
      if (native && !opts.externalData) return nativeSession(native, ort.Tensor, model, sessionOptions);
      return wrapSession(ort.Tensor, await ort.InferenceSession.create(model, sessionOptions));
    },
  };
}

function nativeSession(native: NativeBinding, Ctor: Parameters<typeof toOrtFeeds>[0], model: Uint8Array, options: object): BackendSession {
  native.initOrt();
  const session = new native.binding.InferenceSession();
  session.loadModel(model.buffer, model.byteOffset, model.byteLength, options);
  // The binding's fetches, made again only when a caller passes other names (the engine passes
  // one array per compiled graph, so in practice once).
  let fetchedNames: string[] | undefined;
  let fetches: Record<string, null> = {};
  return {
    run: async (feeds, outputNames) => {
      if (outputNames !== fetchedNames) {
        fetches = Object.fromEntries(outputNames.map((n) => [n, null]));
        fetchedNames = outputNames;
      }
      return fromOrtResults(session.run(toOrtFeeds(Ctor, feeds), fetches, RUN_OPTIONS), outputNames);
    },
    release: async () => session.dispose(),
  };
}
