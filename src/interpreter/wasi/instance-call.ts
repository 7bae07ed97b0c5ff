// The host's side of a call into a CPython instance, whichever host interface carries it: the
// WASI instance (instance.ts, wasm/src/wasmdeploy.c's imports) and the interpreter component
// (../component/instance.ts, wit/interpreter.wit) run the same runtime, so they poll for
// interrupts, decode results, check bridge requests and end on faults the same way.
// Imports nothing of either instance, so both can import it.

import { checkBridgeSize } from "../../bridge/requests.js";

/** Linear memory when an instance ran out of it: what it held and the cap it reached. */
export interface MemoryUse {
  usedBytes: number;
  capBytes: number;
}

/** The instance failed as a whole (trap, memory limit, runtime error): it must be replaced. */
export class InstanceFault extends Error {
  constructor(
    message: string,
    /** Set when the instance ran out of memory (its cap, or the call's limit). */
    readonly memory?: MemoryUse,
  ) {
    super(message);
  }
}

/** Why an instance ended, as its transport reports it (a "fatal" message). */
export function faultOf(e: unknown): { reason: string; memory?: MemoryUse } {
  return e instanceof InstanceFault ? { reason: e.message, memory: e.memory } : { reason: `instance failed: ${String(e)}` };
}

export interface CallResult {
  ok: boolean;
  json: string;
  release: string[];
  buffers: Uint8Array[];
}

/** Anything thrown out of wasm (trap, stack overflow, proc_exit) ends the instance: an InstanceFault. */
export function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InstanceFault) throw e;
    const what = e instanceof WebAssembly.RuntimeError ? "wasm trap" : e instanceof RangeError ? "stack overflow" : "instance failed";
    throw new InstanceFault(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The host's interrupt poll. A call begins with PyErr_CheckSignals, to drop a signal CPython
 * took as the previous call ended; that check must not take the host's slot as well, or a
 * deadline that fired before this call started running is lost (the host clears the slot as it
 * sends a call). Skipping a poll only defers what the slot holds to the next one.
 */
export class InterruptPoll {
  private callStarting = false;

  constructor(private readonly pending: () => number) {}

  /** Before the call enters the runtime: its first poll is the runtime's own. */
  callStarts(): void {
    this.callStarting = true;
  }

  /** The pending signal (0 if none), as the runtime's `interrupt` import returns it. */
  readonly poll = (): number => {
    if (this.callStarting) {
      this.callStarting = false;
      return 0;
    }
    return this.pending();
  };
}

/** Within a megabyte of the cap: what is left cannot be relied on. */
function nearCap(heapBytes: number, capBytes: number): boolean {
  return heapBytes > capBytes - 2 ** 20;
}

/**
 * The fault that ends the instance when a failed call ran out of linear memory, else
 * undefined: Python said MemoryError, or its memory is near the cap (CPython 3.11 reports some
 * failed allocations, e.g. a frame push in deep recursion, as "SystemError: error return
 * without exception set"). Either way the instance is not trustworthy after it.
 */
export function memoryFault(r: CallResult, heapBytes: number, capBytes: number): InstanceFault | undefined {
  if (r.ok || ((JSON.parse(r.json) as { type?: string }).type !== "MemoryError" && !nearCap(heapBytes, capBytes))) return undefined;
  return new InstanceFault(`memory limit: linear memory is capped at ${capBytes} bytes (MemoryError at ${heapBytes})`, {
    usedBytes: heapBytes,
    capBytes,
  });
}

/** The runtime's memory_exceeded: the call grew linear memory past its limit. Thrown, it unwinds the wasm stack. */
export function limitExceeded(usedBytes: number, limitBytes: number): InstanceFault {
  return new InstanceFault(`memory limit: the call grew linear memory to ${usedBytes} bytes, over its limit of ${limitBytes} bytes`, {
    usedBytes,
    capBytes: limitBytes,
  });
}

/** The runtime could not even report an error (no result): usually it ran out of memory doing so. */
export function noResult(heapBytes: number, capBytes: number): InstanceFault {
  if (nearCap(heapBytes, capBytes)) {
    return new InstanceFault(`memory limit: linear memory is capped at ${capBytes} bytes and the call used it up`, {
      usedBytes: heapBytes,
      capBytes,
    });
  }
  return new InstanceFault("the runtime failed (see the interpreter's stderr)");
}

/** A result frame's items: ok ("1" or not), the JSON, the handles to release, then the buffers. */
export function decodeResult(items: Uint8Array[]): CallResult {
  const dec = new TextDecoder();
  return {
    ok: dec.decode(items[0]) === "1",
    json: dec.decode(items[1]),
    release: JSON.parse(dec.decode(items[2])) as string[],
    buffers: items.slice(3),
  };
}

/** A bridge request over the bridge's size limits never leaves the instance's thread (nor is decoded). */
export function checkFrameSize(items: Uint8Array[]): void {
  let buffers = 0;
  for (let i = 2; i < items.length; i++) buffers += items[i]!.byteLength;
  checkBridgeSize(items[1]?.byteLength ?? 0, buffers);
}
