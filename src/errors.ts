// Typed errors. Every error wasmdeploy throws is a WasmdeployError subclass whose
// message says what went wrong and what the caller can do about it.

export class WasmdeployError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The archive is not a torch.package zip we can safely read. */
export class PackageFormatError extends WasmdeployError {
  constructor(
    message: string,
    /** The archive (path or label) the problem was found in. */
    readonly archive?: string,
  ) {
    super(archive ? `${archive}: ${message}` : message);
  }
}

/** A pickle or resource named by the caller does not exist in the package. */
export class ResourceNotFoundError extends WasmdeployError {}

/** Python code raised. Carries the Python exception type, its message and traceback. */
export class PythonError extends WasmdeployError {
  constructor(
    /** Qualified Python exception type, e.g. "ValueError" or "mypkg.errors.BadInput". */
    readonly pyType: string,
    /** str() of the Python exception. */
    readonly pyMessage: string,
    /** The formatted Python traceback. */
    readonly pyTraceback: string,
    /** What was being done, e.g. "calling tok.encode". */
    context?: string,
  ) {
    super(`${context ? `${context}: ` : ""}Python raised ${pyType}: ${pyMessage}\n${pyTraceback}`.trimEnd());
  }
}

/** The interpreter running the call died (worker exit, wasm trap, fatal Pyodide error). */
export class InterpreterCrashedError extends WasmdeployError {
  constructor(
    readonly interpreter: number,
    reason: string,
  ) {
    super(
      `interpreter ${interpreter} crashed (${reason}); the call was lost and the interpreter is being respawned. ` +
        `Retry the call; if it crashes again, the code it runs is the cause.`,
    );
  }
}

/** A call ran past its deadline. The Python code was interrupted (or its interpreter respawned). */
export class CallTimeoutError extends WasmdeployError {
  constructor(
    readonly timeoutMs: number,
    readonly interpreter: number,
    readonly how: "interrupted" | "terminated" | "queued",
  ) {
    const what =
      how === "queued"
        ? "expired before an interpreter was free to run it"
        : how === "interrupted"
          ? "was interrupted with KeyboardInterrupt"
          : "ignored the interrupt, so its interpreter was terminated and respawned";
    super(
      `call exceeded its ${timeoutMs} ms deadline and ${what} (interpreter ${interpreter}). ` +
        `Raise timeoutMs if the work is legitimately slow.`,
    );
  }
}

/** A value could not cross between JavaScript and Python. */
export class ValueConversionError extends WasmdeployError {}

/** The manager (or a package) was used after close()/unload(). */
export class ClosedError extends WasmdeployError {}

/** An interpreter went past its memory limit while running a call; it was terminated and respawned. */
export class MemoryLimitError extends WasmdeployError {
  constructor(
    readonly interpreter: number,
    readonly limitBytes: number,
    readonly usedBytes: number,
  ) {
    super(
      `interpreter ${interpreter} used ${(usedBytes / 2 ** 20).toFixed(0)} MB, over its ${(limitBytes / 2 ** 20).toFixed(0)} MB limit, ` +
        `so it was terminated and respawned and the call failed. Raise memoryLimitMb if the model legitimately needs more.`,
    );
  }
}
