// onnxruntime-web in the page, as the engine's "ort-web" (wasm execution provider) and
// "webgpu" (WebGPU execution provider) backends. ONNX Runtime is not bundled: its build with
// both providers (ort.webgpu.min.mjs) and its .wasm files are served under ort/ beside the
// bundle and imported on first use, so a page that never creates an engine never loads them.

import type * as OrtModule from "onnxruntime-web";
import { registerBackend } from "../../engine/backend.js";
import type { EngineBackend } from "../../engine/backend-api.js";
import { wrapSession } from "../../engine/backends/ort-common.js";
import { EngineError } from "../../engine/errors.js";

type Ort = typeof OrtModule;
let ort: Promise<Ort> | undefined;
let configuredThreads: number | undefined;

function loadOrt(base: URL, threads: number): Promise<Ort> {
  if (configuredThreads !== undefined && configuredThreads !== threads) {
    throw new EngineError(`onnxruntime-web was already initialized with ${configuredThreads} thread(s) in this page; it cannot switch to ${threads}`);
  }
  configuredThreads = threads;
  ort ??= (import(/* webpackIgnore: true */ new URL("ort/ort.webgpu.min.mjs", base).href) as Promise<Ort>).then((m) => {
    m.env.wasm.wasmPaths = new URL("ort/", base).href;
    m.env.wasm.numThreads = threads;
    m.env.logLevel = "fatal";
    return m;
  });
  return ort;
}

async function backend(base: URL, name: "ort-web" | "webgpu", threads: number): Promise<EngineBackend> {
  if (name === "webgpu" && !(globalThis.navigator as { gpu?: unknown } | undefined)?.gpu) {
    throw new EngineError("engine \"webgpu\" needs WebGPU (navigator.gpu): use a browser with WebGPU enabled, in a secure context (https or localhost), or engine \"ort-web\"");
  }
  const m = await loadOrt(base, threads);
  return {
    name,
    async createSession(model, opts = {}) {
      const session = await m.InferenceSession.create(model, {
        executionProviders: [name === "webgpu" ? "webgpu" : "wasm"],
        graphOptimizationLevel: "all",
        logSeverityLevel: 4,
        ...(opts.externalData ? { externalData: opts.externalData } : {}),
      });
      return wrapSession(m.Tensor, session);
    },
  };
}

export function registerBrowserBackends(base: () => URL): void {
  registerBackend("ort-web", (o) => backend(base(), "ort-web", o.threads ?? 1));
  registerBackend("webgpu", (o) => backend(base(), "webgpu", o.threads ?? 1));
}
