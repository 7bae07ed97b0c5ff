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

/**
 * Graph admission refused a graph before any engine saw it: an op or attribute outside the
 * allow-list, a malformed spec, shapes that do not follow, or a size over a limit.
 */
export class GraphRefusedError extends EngineError {
  constructor(message: string, details: { op?: string; nodeIndex?: number } = {}) {
    super(message, details);
    this.name = "GraphRefusedError";
  }
}

/** A call or an interpreter asked the engine for more memory than its limits allow. */
export class EngineMemoryError extends EngineError {
  constructor(message: string) {
    super(message);
    this.name = "EngineMemoryError";
  }
}
