// One interpreter component instance (wit/interpreter.wit) inside a worker thread: the jco
// bindings instantiate its core modules with the WASI 0.2 imports of wasi-p2.ts and the `host`
// interface below. Everything crosses as the world's values (lists of bytes); the host never
// reads or writes the instance's memory, as a component host in another language would not.
// It boots cold: a memory snapshot would hold the WASI adapter's handles to host resources
// that a restored instance never opened.

import { encodeFrame, readFrame } from "../wasi/frames.js";
import { type InstanceHooks, PAGE } from "../wasi/instance.js";
import { type CallResult, checkFrameSize, decodeResult, guard, InstanceFault, InterruptPoll, limitExceeded, memoryFault, noResult } from "../wasi/instance-call.js";
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
  /** As WasiInstance's: the call's own first poll must not take a deadline meant for it. */
  private readonly interrupts: InterruptPoll;

  constructor(
    parts: ComponentParts,
    readonly maxBytes: number,
    private readonly hooks: InstanceHooks,
  ) {
    this.interrupts = new InterruptPoll(() => hooks.interrupt());
    const host = {
      bridgeCall: (request: Uint8Array) => this.bridgeCall(request),
      interrupt: this.interrupts.poll,
      memoryExceeded: (pages: number) => {
        throw limitExceeded(pages * PAGE, this.limitBytes);
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
    this.exports = guard(() =>
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
    guard(() => {
      this.setLimit(0);
      const rc = this.exports.init();
      if (rc !== 0) throw new InstanceFault(`CPython failed to start (init returned ${rc})`);
      if (this.exports.afterInit(eager) !== 0) throw new InstanceFault("after-init failed");
    });
  }

  get heapBytes(): number {
    return this.memory?.buffer.byteLength ?? 0;
  }

  /** As WasiInstance.memoryFault, against the limit in force (the call's, or the instance's cap). */
  memoryFault(r: CallResult): InstanceFault | undefined {
    return memoryFault(r, this.heapBytes, this.limitBytes);
  }

  call(op: string, json: string, buffers: Uint8Array[], memoryLimitBytes?: number): CallResult {
    const enc = new TextEncoder();
    const items = [enc.encode(op), enc.encode(json), ...buffers];
    const req = encodeFrame(items);
    return guard(() => {
      this.setLimit(memoryLimitBytes);
      this.interrupts.callStarts();
      const out = this.exports.call(req);
      if (out.length === 0) throw noResult(this.heapBytes, this.limitBytes);
      return decodeResult(readFrame(out, 0));
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
      checkFrameSize(items);
      const dec = new TextDecoder();
      const [json, buffers] = this.hooks.bridge(dec.decode(items[0]), dec.decode(items[1]), items.slice(2));
      return { tag: "ok", val: encodeFrame([new TextEncoder().encode(json), ...buffers]) };
    } catch (e) {
      return fail(e);
    }
  }
}
