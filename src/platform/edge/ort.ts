// ort-web inside an isolate: the module and its wasm are imported by the worker (no fetch,
// no compiling bytes), so the backend is handed both instead of importing onnxruntime-web.

import type { BackendOptions, EngineBackend } from "../../engine/backend-api.js";
import { registerBackend } from "../../engine/backend.js";
import { wrapSession } from "../../engine/backends/ort-common.js";
import type { OrtWeb } from "./assets.js";
import { recordPhase } from "./timings.js";

/** Stands in for ort's wasm bytes: ort copies what it is given, so it is recognised by content. */
const MARKER = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0x77]);

let installed = false;
let ortMemory: WebAssembly.Memory | undefined;

/** Bytes of ort-web's linear memory (it grows with sessions and never shrinks); 0 before it started. */
export function ortMemoryBytes(): number {
  return ortMemory?.buffer.byteLength ?? 0;
}

function findMemory(instance: WebAssembly.Instance, imports?: WebAssembly.Imports): WebAssembly.Memory | undefined {
  const all = [...Object.values(instance.exports), ...Object.values(imports ?? {}).flatMap((m) => Object.values(m))];
  return all.find((v): v is WebAssembly.Memory => v instanceof WebAssembly.Memory);
}

/**
 * ort-web asks WebAssembly.instantiate for its module from bytes; workerd refuses that. Give ort
 * the marker as its wasmBinary, and instantiate the imported Module when the marker comes back.
 */
function routeOrtInstantiate(ortWasm: WebAssembly.Module) {
  if (installed) return;
  installed = true;
  const real = WebAssembly.instantiate.bind(WebAssembly) as (s: unknown, i?: WebAssembly.Imports) => Promise<unknown>;
  const isMarker = (s: unknown) => {
    if (s instanceof WebAssembly.Module || !s || typeof s !== "object" || !("byteLength" in s) || (s as ArrayBufferView).byteLength !== MARKER.length) return false;
    const b = ArrayBuffer.isView(s) ? new Uint8Array(s.buffer, s.byteOffset, s.byteLength) : new Uint8Array(s as ArrayBuffer);
    return b.every((x, i) => x === MARKER[i]);
  };
  (WebAssembly as { instantiate: unknown }).instantiate = (src: unknown, imports?: WebAssembly.Imports) => {
    if (!isMarker(src)) return real(src, imports);
    const t = performance.now();
    return WebAssembly.instantiate(ortWasm, imports).then((instance) => {
      recordPhase("ort-web: instantiate its wasm", t);
      ortMemory = findMemory(instance, imports);
      return { instance, module: ortWasm };
    });
  };
}

export function registerEdgeOrt(ort: OrtWeb, ortWasm: WebAssembly.Module): void {
  registerBackend("ort-web", async (_options: BackendOptions): Promise<EngineBackend> => {
    routeOrtInstantiate(ortWasm);
    ort.env.wasm.numThreads = 1; // an isolate has no threads
    ort.env.wasm.wasmBinary = MARKER;
    ort.env.logLevel = "fatal";
    return {
      name: "ort-web",
      async createSession(model, opts = {}) {
        const t = performance.now();
        const session = await ort.InferenceSession.create(model, {
          executionProviders: ["wasm"],
          graphOptimizationLevel: "all",
          logSeverityLevel: 4,
          ...(opts.externalData ? { externalData: opts.externalData } : {}),
        });
        recordPhase("ort-web: create a session (first one: ort-web's start included)", t);
        const wrapped = wrapSession(ort.Tensor, session);
        return {
          ...wrapped,
          run: async (feeds, outputNames) => {
            const r = performance.now();
            const out = await wrapped.run(feeds, outputNames);
            recordPhase("ort-web: run a session", r);
            return out;
          },
        };
      },
    };
  });
}
