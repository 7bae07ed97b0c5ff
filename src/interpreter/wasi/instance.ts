// One WASI CPython instance inside a worker thread: its own linear memory (imported, with a
// maximum), its own WASI state over the thread's shared read-only file tree, and the host
// imports of wasm/src/wasmdeploy.c. Python reaches nothing else.

import { ConsoleStdout, Directory, File, type Inode, OpenFile, PreopenDirectory, WASI, wasi as defs } from "@bjorn3/browser_wasi_shim";
import type { SyncBridge } from "../../protocol.js";
import { encodeFrame, frameSize, readFrame, writeFrame } from "./frames.js";
import type { FileImage, MovedInstance, WasiSnapshot } from "./image.js";
import { type CallResult, checkFrameSize, decodeResult, guard, InstanceFault, InterruptPoll, limitExceeded, memoryFault, noResult } from "./instance-call.js";

export const PAGE = 65536;

/** The largest linear memory that moves to another thread (moveOut). */
export const MOVE_MAX_BYTES = 256 * 2 ** 20;

interface Exports {
  _initialize(): void;
  wd_alloc(n: number): number;
  wd_free(p: number): void;
  wd_init(): number;
  wd_after_restore(eager: number): number;
  wd_call(req: number, len: number): number;
  wd_interrupt(sig: number): void;
  wd_set_limit(pages: number): void;
  wd_scrub(): number;
}

/** The thread's file tree: one Directory per thread over the shared image, read-only. */
export function fileTree(image: FileImage): Directory {
  const root = new Map<string, Inode>();
  const dirs = new Map<string, Map<string, Inode>>([["", root]]);
  const dirFor = (p: string): Map<string, Inode> => {
    let d = dirs.get(p);
    if (!d) {
      const cut = p.lastIndexOf("/");
      const parent = dirFor(cut < 0 ? "" : p.slice(0, cut));
      d = new Map();
      dirs.set(p, d);
      parent.set(p.slice(cut + 1), new Directory(d));
    }
    return d;
  };
  for (const [p, off, len] of image.entries) {
    const cut = p.lastIndexOf("/");
    const f = new File(new Uint8Array(0), { readonly: true });
    f.data = new Uint8Array(image.data, off, len); // a view: no per-thread copy
    dirFor(p.slice(0, cut)).set(p.slice(cut + 1), f);
  }
  return new Directory(root);
}

const ROFS = defs.ERRNO_ROFS;
const NOTSUP = defs.ERRNO_NOTSUP;
const OFLAGS_WRITE = defs.OFLAGS_CREAT | defs.OFLAGS_TRUNC | defs.OFLAGS_EXCL;
const RIGHTS_WRITE = BigInt(defs.RIGHTS_FD_WRITE | defs.RIGHTS_FD_ALLOCATE | defs.RIGHTS_FD_FILESTAT_SET_SIZE);

export interface InstanceHooks {
  output(stream: "stdout" | "stderr", text: string): void;
  bridge?: SyncBridge;
  /** Returns and clears the pending signal for this instance (0 if none). */
  interrupt(): number;
  /** Blocks up to `ms`; returns true if an interrupt for this instance cut it short. */
  sleep(ms: number): boolean;
  /**
   * Where there are no threads to block (an edge isolate): the engine bridge as a promise.
   * Given, the instance runs under JSPI: `bridge_call` suspends the wasm stack
   * (WebAssembly.Suspending) until the promise settles, and calls go through `callAsync`
   * (WebAssembly.promising), so other work in the isolate runs meanwhile.
   */
  asyncBridge?: (kind: string, json: string, buffers: Uint8Array[]) => Promise<[string, Uint8Array[]]>;
  /** With asyncBridge: time.sleep as a promise (resolves true if an interrupt cut it short). */
  sleepAsync?: (ms: number) => Promise<boolean>;
}

/** JSPI (WebAssembly.Suspending / promising): in workerd and recent browsers; not in Node 20. */
interface Jspi {
  Suspending: new (fn: (...args: never[]) => Promise<unknown>) => unknown;
  promising: (fn: unknown) => (...args: number[]) => Promise<number>;
}
const jspi = WebAssembly as unknown as Partial<Jspi>;

export class WasiInstance {
  readonly memory: WebAssembly.Memory;
  private readonly exports: Exports;
  private callLimit = 0;
  /** The `interrupt` import: wd_call's own first poll does not take the host's slot. */
  private readonly interrupts: InterruptPoll;
  private stash?: Uint8Array;
  /** Non-zero pages as instantiation left them (set by boot(); snapshot() stores the difference). */
  private fresh?: Map<number, Uint8Array>;
  /** wd_call through WebAssembly.promising, when the bridge is async (JSPI). */
  private readonly callPromising?: (req: number, len: number) => Promise<number>;
  /** The WASI shim's descriptor table, and the descriptors it started with (moveOut checks them). */
  private readonly fds: unknown[];
  private readonly firstFds: readonly unknown[];

  constructor(
    module: WebAssembly.Module,
    minPages: number,
    tree: Directory,
    readonly maxBytes: number,
    private readonly hooks: InstanceHooks,
  ) {
    this.memory = new WebAssembly.Memory({ initial: minPages, maximum: Math.floor(maxBytes / PAGE) });
    this.interrupts = new InterruptPoll(() => hooks.interrupt());
    const decoder = (stream: "stdout" | "stderr") => {
      const td = new TextDecoder();
      return new ConsoleStdout((b) => hooks.output(stream, td.decode(b, { stream: true })));
    };
    const shim = new WASI(["python"], [], [new OpenFile(new File(new Uint8Array(0), { readonly: true })), decoder("stdout"), decoder("stderr"), new PreopenDirectory("/", tree.contents)], { debug: false });
    shim.inst = { exports: { memory: this.memory } };
    this.fds = shim.fds;
    this.firstFds = [...shim.fds];
    const wasiImport = { ...shim.wasiImport };
    // Read-only: refuse every call that would create, change or remove a file or directory
    // (the tree is shared by the thread's instances, so a write would be a channel between them).
    const pathOpen = wasiImport.path_open!;
    wasiImport.path_open = (fd: number, dirflags: number, p: number, l: number, oflags: number, base: bigint, inh: bigint, fdflags: number, out: number) => {
      if (oflags & OFLAGS_WRITE) return ROFS;
      if (BigInt(base) & RIGHTS_WRITE) return ROFS;
      return pathOpen(fd, dirflags, p, l, oflags, base, inh, fdflags, out);
    };
    for (const name of ["path_create_directory", "path_remove_directory", "path_rename", "path_unlink_file", "path_link", "path_symlink", "path_filestat_set_times", "fd_filestat_set_size", "fd_filestat_set_times", "fd_allocate", "fd_pwrite"]) {
      wasiImport[name] = () => ROFS;
    }
    for (const name of ["sock_accept", "sock_recv", "sock_send", "sock_shutdown"]) wasiImport[name] = () => NOTSUP;
    // time.sleep: the shim busy-waits, which burns the thread's CPU and cannot be interrupted.
    // Block instead, waking early on a deadline.
    // One clock subscription: its duration in ms (or an errno), and how to write the event.
    const pollPlan = (inPtr: number, outPtr: number, n: number, nevents: number): number | { ms: number; done: (cut: boolean) => number } => {
      if (n !== 1) return defs.ERRNO_NOTSUP;
      // WASI's subscription: userdata u64 @0, tag u8 @8, clock id u32 @16, timeout u64 @24,
      // precision u64 @32, flags u16 @40 (the shim's reader takes the flags from @36).
      const view = new DataView(this.memory.buffer);
      if (view.getUint8(inPtr + 8) !== defs.EVENTTYPE_CLOCK) return defs.ERRNO_NOTSUP;
      const userdata = view.getBigUint64(inPtr, true);
      const clock = view.getUint32(inPtr + 16, true);
      const timeout = view.getBigUint64(inPtr + 24, true);
      const absolute = (view.getUint16(inPtr + 40, true) & defs.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) !== 0;
      const now = clock === defs.CLOCKID_REALTIME ? BigInt(Date.now()) * 1000000n : BigInt(Math.round(performance.now() * 1e6));
      const ns = absolute ? timeout - now : timeout;
      const done = (cut: boolean) => {
        // Cut short by a deadline: raise it now, so Python stops as soon as the sleep returns
        // (wasi-libc turns any poll error into ENOTSUP, so EINTR cannot carry it).
        if (cut) this.exports.wd_interrupt(hooks.interrupt());
        const out = new DataView(this.memory.buffer);
        new defs.Event(userdata, defs.ERRNO_SUCCESS, defs.EVENTTYPE_CLOCK).write_bytes(out, outPtr);
        out.setUint32(nevents, 1, true);
        return defs.ERRNO_SUCCESS;
      };
      return { ms: ns > 0n ? Number(ns / 1000n) / 1000 : 0, done };
    };
    const useJspi = hooks.asyncBridge !== undefined;
    if (useJspi && (!jspi.Suspending || !jspi.promising)) throw new InstanceFault("this runtime has no JSPI (WebAssembly.Suspending/promising), which an async bridge needs");
    wasiImport.poll_oneoff = (inPtr: number, outPtr: number, n: number, nevents: number) => {
      const plan = pollPlan(inPtr, outPtr, n, nevents);
      if (typeof plan === "number") return plan;
      return plan.done(plan.ms > 0 && hooks.sleep(plan.ms));
    };
    if (useJspi && hooks.sleepAsync) {
      const sleepAsync = hooks.sleepAsync;
      wasiImport.poll_oneoff = new jspi.Suspending!(async (inPtr: number, outPtr: number, n: number, nevents: number) => {
        const plan = pollPlan(inPtr, outPtr, n, nevents);
        if (typeof plan === "number") return plan;
        return plan.done(plan.ms > 0 && (await sleepAsync(plan.ms)));
      }) as never;
    }
    const host = {
      bridge_call: useJspi
        ? (new jspi.Suspending!((ptr: number, len: number) => this.bridgeCallAsync(ptr, len)) as WebAssembly.ImportValue)
        : (ptr: number, len: number) => this.bridgeCall(ptr, len),
      bridge_take: (dst: number) => {
        if (this.stash) new Uint8Array(this.memory.buffer).set(this.stash, dst);
        this.stash = undefined;
      },
      interrupt: this.interrupts.poll,
      memory_exceeded: (pages: number) => {
        // Unwinds the wasm stack: the instance is ended (InstanceFault via guard) and replaced.
        throw limitExceeded(pages * PAGE, this.callLimit);
      },
    };
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory }, wasi_snapshot_preview1: wasiImport, wasmdeploy: host });
    this.exports = instance.exports as unknown as Exports;
    if (useJspi) this.callPromising = jspi.promising!(instance.exports.wd_call);
  }

  /**
   * Cold start: run C constructors and start Python. `forSnapshot`: snapshot() will be called
   * after this, so keep what instantiation put in memory (the data segments) to diff against;
   * instances that merely boot cold (no snapshot shipped) skip that copy.
   */
  boot(opts: { forSnapshot?: boolean } = {}): void {
    if (opts.forSnapshot) {
      const mem = new Uint8Array(this.memory.buffer);
      this.fresh = new Map();
      for (let p = 0; p < mem.byteLength / PAGE; p++) {
        const page = mem.subarray(p * PAGE, (p + 1) * PAGE);
        if (!isZero(page)) this.fresh.set(p, page.slice());
      }
    }
    guard(() => {
      this.exports._initialize();
      const rc = this.exports.wd_init();
      if (rc !== 0) throw new InstanceFault(`CPython failed to start (wd_init returned ${rc})`);
    });
  }

  /**
   * Warm start: lay the snapshot over fresh memory instead of booting. Stored runs are XORed
   * with the fresh content (snapshot()): within the memory the module was instantiated with,
   * XOR them in; above it, fresh memory is zero, so they are the content itself.
   */
  restore(snap: WasiSnapshot, eager: boolean): void {
    const initialBytes = this.memory.buffer.byteLength;
    const initialPages = initialBytes / PAGE;
    if (snap.pages > initialPages) this.memory.grow(snap.pages - initialPages);
    const mem = new Uint8Array(this.memory.buffer);
    let at = snap.dataOffset ?? 0;
    for (let r = 0; r < snap.runs.length; r += 2) {
      const offset = snap.runs[r]!;
      const length = snap.runs[r + 1]!;
      const stored = new Uint8Array(snap.data, at, length);
      at += length;
      if (offset >= initialBytes) mem.set(stored, offset);
      else xorInto(mem.subarray(offset, offset + length), stored);
    }
    this.afterBoot(eager);
  }

  /** Per-instance setup: restored instances share `random`'s state and must not, so reseed it. */
  afterBoot(eager: boolean): void {
    guard(() => {
      if (this.exports.wd_after_restore(eager ? 1 : 0) !== 0) throw new InstanceFault("after_restore failed");
    });
  }

  /**
   * The pages of a booted instance, to restore others from. Python's garbage is collected and
   * the memory malloc holds free is zeroed first (wd_scrub): freed memory keeps old bytes, which
   * would ship in the snapshot and be copied into every instance restored from it.
   */
  snapshot(): WasiSnapshot {
    if (!this.fresh) throw new InstanceFault("only an instance booted with forSnapshot can be snapshotted");
    guard(() => this.exports.wd_scrub());
    const mem = new Uint8Array(this.memory.buffer);
    const pages = mem.byteLength / PAGE;
    const runs: number[] = [];
    const stored: Uint8Array[] = [];
    let total = 0;
    for (let p = 0; p < pages; p++) {
      const page = mem.subarray(p * PAGE, (p + 1) * PAGE);
      const fresh = this.fresh.get(p);
      if (fresh ? equalBytes(page, fresh) : isZero(page)) continue;
      const diff = page.slice();
      if (fresh) xorInto(diff, fresh);
      for (const [start, end] of nonZeroRuns(diff)) {
        runs.push(p * PAGE + start, end - start);
        stored.push(diff.subarray(start, end));
        total += end - start;
      }
    }
    const data = new SharedArrayBuffer(total);
    const out = new Uint8Array(data);
    let at = 0;
    for (const d of stored) {
      out.set(d, at);
      at += d.length;
    }
    return { pages, runs: Uint32Array.from(runs), data };
  }

  /**
   * What a move to another thread carries (moveIn takes it): the non-zero pages of linear
   * memory and the call limit. Between calls that is all of the instance: the only wasm global
   * is the stack pointer, back at its base when no call runs, and the WASI shim holds nothing
   * but the descriptors it started with. An instance that holds a file open does not move (the
   * reason is returned): its descriptor points into this thread's file tree. Nor does one over
   * MOVE_MAX_BYTES: a move holds a second copy of its memory for a moment.
   */
  moveOut(): MovedInstance | string {
    if (this.callPromising) return "its bridge is async (JSPI)";
    if (this.heapBytes > MOVE_MAX_BYTES) return `its memory (${Math.round(this.heapBytes / 2 ** 20)} MB) is over the ${MOVE_MAX_BYTES / 2 ** 20} MB a move copies`;
    for (let fd = 0; fd < this.fds.length; fd++) {
      if (this.fds[fd] !== this.firstFds[fd]) return `it holds file descriptor ${fd} open`;
    }
    const mem = new Uint8Array(this.memory.buffer);
    const pages = mem.byteLength / PAGE;
    const stored: number[] = [];
    for (let p = 0; p < pages; p++) if (!isZero(mem.subarray(p * PAGE, (p + 1) * PAGE))) stored.push(p);
    const data = new ArrayBuffer(stored.length * PAGE);
    const out = new Uint8Array(data);
    stored.forEach((p, k) => out.set(mem.subarray(p * PAGE, (p + 1) * PAGE), k * PAGE));
    return { pages, stored: Uint32Array.from(stored), data, callLimit: this.callLimit };
  }

  /** Become the instance moveOut described (instead of boot or restore, on a fresh instance). */
  moveIn(m: MovedInstance): void {
    const initialPages = this.memory.buffer.byteLength / PAGE;
    const last = m.stored.length ? m.stored[m.stored.length - 1]! : -1;
    if (m.data.byteLength !== m.stored.length * PAGE || last >= m.pages || m.pages * PAGE > this.maxBytes || m.pages < initialPages) {
      throw new InstanceFault(`a moved instance's memory is inconsistent (${m.pages} pages, ${m.stored.length} stored in ${m.data.byteLength} bytes)`);
    }
    if (m.pages > initialPages) this.memory.grow(m.pages - initialPages);
    const mem = new Uint8Array(this.memory.buffer);
    let k = 0;
    for (let p = 0; p < m.pages; p++) {
      if (m.stored[k] === p) mem.set(new Uint8Array(m.data, k++ * PAGE, PAGE), p * PAGE);
      else if (p < initialPages) mem.fill(0, p * PAGE, (p + 1) * PAGE); // instantiation wrote data segments here
    }
    this.callLimit = m.callLimit;
  }

  get heapBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** The fault that ends this instance when a failed call ran out of linear memory (near its cap), else undefined. */
  memoryFault(r: CallResult): InstanceFault | undefined {
    return memoryFault(r, this.heapBytes, this.maxBytes);
  }

  /** One request through wasmdeploy_runtime.host. Throws InstanceFault if the instance died. */
  call(op: string, json: string, buffers: Uint8Array[], memoryLimitBytes?: number): CallResult {
    if (this.callPromising) throw new InstanceFault("this instance's bridge is async: use callAsync");
    const enc = new TextEncoder();
    const items = [enc.encode(op), enc.encode(json), ...buffers];
    return guard(() => {
      this.setCallLimit(memoryLimitBytes);
      const len = frameSize(items);
      const req = this.exports.wd_alloc(len);
      if (req === 0) throw new InstanceFault("out of linear memory for the request");
      writeFrame(new Uint8Array(this.memory.buffer), req, items);
      this.interrupts.callStarts();
      const res = this.exports.wd_call(req, len);
      this.exports.wd_free(req);
      return this.takeResult(res);
    });
  }

  /** As `call`, under JSPI: the returned promise settles when Python finishes, engine waits included. */
  async callAsync(op: string, json: string, buffers: Uint8Array[], memoryLimitBytes?: number): Promise<CallResult> {
    if (!this.callPromising) return this.call(op, json, buffers, memoryLimitBytes);
    const enc = new TextEncoder();
    const items = [enc.encode(op), enc.encode(json), ...buffers];
    const len = frameSize(items);
    const req = guard(() => {
      this.setCallLimit(memoryLimitBytes);
      return this.exports.wd_alloc(len);
    });
    if (req === 0) throw new InstanceFault("out of linear memory for the request");
    writeFrame(new Uint8Array(this.memory.buffer), req, items);
    let res: number;
    this.interrupts.callStarts();
    try {
      res = await this.callPromising(req, len);
    } catch (e) {
      return guard(() => {
        throw e;
      });
    }
    return guard(() => {
      this.exports.wd_free(req);
      return this.takeResult(res);
    });
  }

  /** The call's memory limit, below the instance's cap (0: none); the eval loop checks it. */
  private setCallLimit(memoryLimitBytes: number | undefined) {
    const limit = memoryLimitBytes && memoryLimitBytes < this.maxBytes ? memoryLimitBytes : 0;
    if (limit !== this.callLimit) {
      this.callLimit = limit;
      this.exports.wd_set_limit(Math.ceil(limit / PAGE));
    }
  }

  private takeResult(res: number): CallResult {
    if (res === 0) throw noResult(this.heapBytes, this.maxBytes);
    const out = readFrame(new Uint8Array(this.memory.buffer), res);
    this.exports.wd_free(res);
    return decodeResult(out);
  }

  private async bridgeCallAsync(ptr: number, len: number): Promise<number> {
    const items = readFrame(new Uint8Array(this.memory.buffer), ptr, ptr + len);
    const dec = new TextDecoder();
    try {
      checkFrameSize(items);
      return this.stashReply(await this.hooks.asyncBridge!(dec.decode(items[0]), dec.decode(items[1]), items.slice(2)));
    } catch (e) {
      return this.stashError(e instanceof Error ? e.message : String(e));
    }
  }

  private bridgeCall(ptr: number, len: number): number {
    const items = readFrame(new Uint8Array(this.memory.buffer), ptr, ptr + len);
    const dec = new TextDecoder();
    if (!this.hooks.bridge) return this.stashError("this interpreter has no tensor engine attached");
    try {
      checkFrameSize(items);
      return this.stashReply(this.hooks.bridge(dec.decode(items[0]), dec.decode(items[1]), items.slice(2)));
    } catch (e) {
      return this.stashError(e instanceof Error ? e.message : String(e));
    }
  }

  /** Keep a bridge reply for bridge_take; its length tells Python how much to allocate. */
  private stashReply([json, buffers]: [string, Uint8Array[]]): number {
    this.stash = encodeFrame([new TextEncoder().encode(json), ...buffers]);
    return this.stash.length;
  }

  /** Keep a bridge error's message; a negative length tells Python it is an error. */
  private stashError(message: string): number {
    this.stash = new TextEncoder().encode(message);
    return -(this.stash.length + 1);
  }

}

/** dst ^= src, a word at a time when both are 4-aligned (a snapshot read in place may not be). */
function xorInto(dst: Uint8Array, src: Uint8Array): void {
  if (dst.byteOffset % 4 === 0 && src.byteOffset % 4 === 0 && dst.length % 4 === 0) {
    const d = new Int32Array(dst.buffer, dst.byteOffset, dst.length / 4);
    const s = new Int32Array(src.buffer, src.byteOffset, src.length / 4);
    for (let i = 0; i < d.length; i++) d[i]! ^= s[i]!;
  } else {
    for (let i = 0; i < dst.length; i++) dst[i]! ^= src[i]!;
  }
}

/** Zero words between two runs before they are stored apart: each run costs 8 bytes of index. */
const RUN_GAP_WORDS = 8;

/** [start, end) byte ranges of `bytes` (4-aligned, a multiple of 4 long) that hold non-zero words. */
function nonZeroRuns(bytes: Uint8Array): [number, number][] {
  const w = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const out: [number, number][] = [];
  let i = 0;
  while (i < w.length) {
    while (i < w.length && w[i] === 0) i++;
    if (i === w.length) break;
    const start = i;
    let end = ++i;
    for (; i < w.length && i - end < RUN_GAP_WORDS; i++) if (w[i] !== 0) end = i + 1;
    out.push([start * 4, end * 4]);
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  const x = new Int32Array(a.buffer, a.byteOffset, a.byteLength / 4);
  const y = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function isZero(view: Uint8Array): boolean {
  const words = new Int32Array(view.buffer, view.byteOffset, view.byteLength / 4);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}
