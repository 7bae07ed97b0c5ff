// Conversions shared by the two ONNX Runtime backends (both speak onnxruntime-common).

import type { InferenceSession, Tensor as OrtTensor, TypedTensor } from "onnxruntime-common";
import { engineTensor, Tensor } from "../../tensor.js";
import type { DType } from "../graph.js";
import type { BackendSession } from "../backend-api.js";

type OrtTensorCtor = new (type: DType, data: Tensor["data"], dims: readonly number[]) => OrtTensor;

export function toOrtFeeds(Ctor: OrtTensorCtor, feeds: Record<string, Tensor>): Record<string, OrtTensor> {
  const out: Record<string, OrtTensor> = {};
  for (const name in feeds) {
    const t = feeds[name]!;
    out[name] = new Ctor(t.dtype, t.data, t.shape);
  }
  return out;
}

export function fromOrtResults(results: InferenceSession.ReturnType, outputNames: string[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of outputNames) {
    const v = results[name] as TypedTensor<DType> | undefined;
    if (!v) throw new Error(`ONNX Runtime returned no value for output "${name}"`);
    // ONNX Runtime's own output: its dims describe its data. Its dtype and shape are checked
    // against the graph's declared outputs next (checkOutputs).
    out[name] = engineTensor(v.type, v.data as Tensor["data"], v.dims);
  }
  return out;
}

// Failures reach the caller as EngineErrors; ORT's own log would only repeat them on stderr.
export const RUN_OPTIONS = { logSeverityLevel: 4 } as const;

export function wrapSession(Ctor: OrtTensorCtor, session: InferenceSession): BackendSession {
  return {
    run: async (feeds, outputNames) => fromOrtResults(await session.run(toOrtFeeds(Ctor, feeds), outputNames, RUN_OPTIONS), outputNames),
    release: () => session.release(),
  };
}
