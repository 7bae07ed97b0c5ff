// Errors raised by the tensor engine. (To be moved into src/errors.ts.)

import { WasmdeployError } from "../errors.js";

/**
 * Compiling or running a graph failed, or the graph/feeds are inconsistent with the engine
 * state. When ONNX Runtime names the failing node, `op` and `nodeIndex` say which GraphNode.
 */
export class EngineError extends WasmdeployError {
  constructor(
    message: string,
    readonly details: { op?: string; nodeIndex?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "EngineError";
  }

  get op(): string | undefined {
    return this.details.op;
  }

  get nodeIndex(): number | undefined {
    return this.details.nodeIndex;
  }
}
