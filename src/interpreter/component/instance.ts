// One interpreter component instance (wit/interpreter.wit) inside a worker thread: the jco
// bindings instantiate its core modules with the WASI 0.2 imports of wasi-p2.ts and the `host`
// interface below. Everything crosses as the world's values (lists of bytes); the host never
// reads or writes the instance's memory, as a component host in another language would not.
// It boots cold: a memory snapshot would hold the WASI adapter's handles to host resources
// that a restored instance never opened.

import { checkBridgeSize } from "../../bridge/requests.js";
import { frameSize, readFrame, writeFrame } from "../wasi/frames.js";
import { type CallResult, type InstanceHooks, InstanceFault, PAGE } from "../wasi/instance.js";
import { type FsEntry, type ShimModules, wasiImports } from "./wasi-p2.js";

/** The core module name of the world's `host` interface (the canonical ABI names imports so). */
const HOST_IMPORT = "wasmdeploy:interpreter/host@0.1.0";

/** The world's exports as jco's bindings lift them. */
interface WorldExports {
  init(): number;
  afterInit(eager: boolean): number;
  call(request: Uint8Array): Uint8Array;
  setLimit(pages: number): void;
  raiseSignal(sig: number): void;
}

/** jco's `--instantiation sync` entry point. */
export type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, object>,
  instantiateCore?: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => WorldExports;

export interface ComponentParts {
  instantiate: Instantiate;
  /** The transpiled component's core modules by file name, compiled once per process. */
  modules: Record<string, WebAssembly.Module>;
  shim: ShimModules;
  tree: FsEntry;
}

export class ComponentInstance {
  private readonly exports: WorldExports;
  /** The main core module's memory, for its size only (the memory limit's reports). */
  private memory?: WebAssembly.Memory;
  private limitBytes = 0;
  private callStarting = false;

  constructor(
    parts: ComponentParts,
    readonly maxBytes: number,
    private readonly hooks: InstanceHooks,
  ) {
    const host = {
      bridgeCall: (request: Uint8Array) => this.bridgeCall(request),
      interrupt: () => {
        // As in WasiInstance: the call's own first poll must not take a deadline meant for it.
        if (this.callStarting) {
          this.callStarting = false;
          return 0;
        }
        return hooks.interrupt();
      },
      memoryExceeded: (pages: number) => {
        throw new InstanceFault(`memory limit: the call grew linear memory to ${pages * PAGE} bytes, over its limit of ${this.limitBytes} bytes`, {
          usedBytes: pages * PAGE,
          capBytes: this.limitBytes,
        });
      },
    };
    const imports = {
      ...wasiImports(parts.shim, parts.tree, {
        output: hooks.output,
        sleep: hooks.sleep,
        interrupted: () => this.exports.raiseSignal(hooks.interrupt()),
      }),
      "wasmdeploy:interpreter/host": host,
    };
    const module = (name: string) => {
      const m = parts.modules[name];
      if (!m) throw new InstanceFault(`the component's bindings asked for an unknown core module ${name}`);
      return m;
    };
    this.exports = this.guard(() =>
      parts.instantiate(module, imports, (m, imp) => {
        // The eval loop polls `interrupt` often (every 1024 checks, and at each of CPython's own
        // PyErr_CheckSignals): through jco's lifting machinery a poll costs microseconds and
        // made pure Python 25x slower. Its lowering is the identity (no arguments, one s32), so
        // the core import gets the host function itself.
        const ns = imp?.[HOST_IMPORT] as Record<string, WebAssembly.ImportValue> | undefined;
        if (ns && "interrupt" in ns) imp = { ...imp, [HOST_IMPORT]: { ...ns, interrupt: host.interrupt } };
        const inst = new WebAssembly.Instance(m, imp);
        const mem = inst.exports.memory;
        if (mem instanceof WebAssembly.Memory && "cabi_realloc" in inst.exports && !this.memory) this.memory = mem;
        return inst;
      }),
    );
  }

  /** Starts CPython, imports the runtime and reseeds (a component instance always boots cold). */
  boot(eager: boolean): void {
    this.guard(() => {
      this.setLimit(0);
      const rc = this.exports.init();
      if (rc !== 0) throw new InstanceFault(`CPython failed to start (init returned ${rc})`);
      if (this.exports.afterInit(eager) !== 0) throw new InstanceFault("after-init failed");
    });
  }

  get heapBytes(): number {
    return this.memory?.buffer.byteLength ?? 0;
  }

  /** Within a megabyte of the limit: what is left cannot be relied on. */
  private get nearCap(): boolean {
    return this.heapBytes > this.limitBytes - 2 ** 20;
  }

  /** As WasiInstance.memoryFault: a MemoryError or a memory near its limit ends the instance. */
  memoryFault(r: CallResult): InstanceFault | undefined {
    if (r.ok || ((JSON.parse(r.json) as { type?: string }).type !== "MemoryError" && !this.nearCap)) return undefined;
    return new InstanceFault(`memory limit: linear memory is capped at ${this.limitBytes} bytes (MemoryError at ${this.heapBytes})`, {
      usedBytes: this.heapBytes,
      capBytes: this.limitBytes,
    });
  }

  call(op: string, json: string, buffers: Uint8Array[], memoryLimitBytes?: number): CallResult {
    const enc = new TextEncoder();
    const items = [enc.encode(op), enc.encode(json), ...buffers];
    const req = new Uint8Array(frameSize(items));
    writeFrame(req, 0, items);
    return this.guard(() => {
      this.setLimit(memoryLimitBytes);
      this.callStarting = true;
      const out = this.exports.call(req);
      if (out.length === 0) {
        if (this.nearCap) {
          throw new InstanceFault(`memory limit: linear memory is capped at ${this.limitBytes} bytes and the call used it up`, {
            usedBytes: this.heapBytes,
            capBytes: this.limitBytes,
          });
        }
        throw new InstanceFault("the runtime failed (see the interpreter's stderr)");
      }
      const parts = readFrame(out, 0);
      const dec = new TextDecoder();
      return {
        ok: dec.decode(parts[0]) === "1",
        json: dec.decode(parts[1]),
        release: JSON.parse(dec.decode(parts[2])) as string[],
        buffers: parts.slice(3),
      };
    });
  }

  /**
   * The memory has no maximum of its own below wasm32's 4 GiB (a component defines its memory),
   * so the instance's cap is enforced like a call's limit: whichever is lower.
   */
  private setLimit(memoryLimitBytes: number | undefined) {
    const limit = memoryLimitBytes && memoryLimitBytes < this.maxBytes ? memoryLimitBytes : this.maxBytes;
    if (limit !== this.limitBytes) {
      this.limitBytes = limit;
      this.exports.setLimit(Math.floor(limit / PAGE));
    }
  }

  /** host.bridge-call: the reply frame, or the error Python raises as BridgeError. */
  private bridgeCall(request: Uint8Array): { tag: "ok"; val: Uint8Array } | { tag: "err"; val: string } {
    const fail = (e: unknown) => ({ tag: "err" as const, val: e instanceof Error ? e.message : String(e) });
    if (!this.hooks.bridge) return fail("this interpreter has no tensor engine attached");
    try {
      const items = readFrame(request, 0);
      let bytes = 0;
      for (let i = 2; i < items.length; i++) bytes += items[i]!.byteLength;
      checkBridgeSize(items[1]?.byteLength ?? 0, bytes);
      const dec = new TextDecoder();
      const [json, buffers] = this.hooks.bridge(dec.decode(items[0]), dec.decode(items[1]), items.slice(2));
      const reply = [new TextEncoder().encode(json), ...buffers];
      const out = new Uint8Array(frameSize(reply));
      writeFrame(out, 0, reply);
      return { tag: "ok", val: out };
    } catch (e) {
      return fail(e);
    }
  }

  /** Anything thrown out of wasm (trap, stack overflow, exit) ends the instance. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof InstanceFault) throw e;
      const what = e instanceof WebAssembly.RuntimeError ? "wasm trap" : e instanceof RangeError ? "stack overflow" : "instance failed";
      throw new InstanceFault(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
