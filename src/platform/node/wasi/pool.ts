// WASI interpreters on a few worker threads: instances of one compiled python.wasm, spread
// over min(cores, N) threads, each exposed as a Transport (the interface the Pyodide thread and
// process transports implement), so the interpreter pool drives either kind the same way.
//
// Faults: a trap or memory limit ends one instance (onExit of its transport only). Python that
// ignores the deadline interrupt (stuck in C code) can only be stopped by terminating its
// thread: the other instances on that thread end too (onExit), and the pool replaces them.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { MessageChannel, Worker } from "node:worker_threads";
import type { RuntimeFile } from "../assets.js";
import { parseSnapshotFile, snapshotBody, snapshotFile } from "../../../interpreter/wasi/snapshot-file.js";
import type { Transport, TransportHandlers } from "../../../interpreter/transport.js";
import type { ToInterpreter } from "../../../protocol.js";
import { serveBridge } from "../transports.js";
import { type WasiAssets, type WasiBuild, wasiAssets } from "./assets.js";
import { type ComponentAssets, componentAssets } from "./component-assets.js";
import type { FromThread, ThreadInit, ToThread, WasiSnapshot } from "./messages.js";

const THREAD_URL = new URL("./thread.js", import.meta.url);

export interface WasiSpawnOptions {
  /** Debug mode of the torch layer: materialize after every op. */
  eager?: boolean;
  /** Linear memory cap of the instance (default 1 GiB). */
  memoryMaxBytes?: number;
}

export interface WasiTransport extends Transport {
  /** The worker thread this interpreter runs on (calls on one thread run one at a time). */
  readonly thread: number;
}

interface Member {
  handlers: TransportHandlers;
  bridgeClose?: () => void;
}

class WasiThread {
  readonly worker: Worker;
  readonly members = new Map<number, Member>();
  /** Instances whose calls were sent, in order: the head is the one running. */
  readonly running: number[] = [];
  alive = true;
  snapshotWaiter?: (m: Extract<FromThread, { type: "snapshot" }>) => void;

  constructor(
    readonly index: number,
    init: ThreadInit,
    onGone: (t: WasiThread) => void,
  ) {
    this.worker = new Worker(THREAD_URL, { workerData: init, resourceLimits: { stackSizeMb: 8 } });
    this.worker.on("message", (m: FromThread) => {
      if (m.type === "snapshot") return this.snapshotWaiter?.(m);
      const member = this.members.get(m.inst);
      if (m.type === "msg") {
        if (m.msg.type === "result") this.running.shift();
        member?.handlers.onMessage(m.msg);
        return;
      }
      // exit: the instance is gone (after a call it ran, or a call sent to it after it went)
      if (this.running[0] === m.inst) this.running.shift();
      if (member) {
        this.members.delete(m.inst);
        member.bridgeClose?.();
        member.handlers.onExit(m.reason);
      }
    });
    let error = "";
    this.worker.on("error", (e) => {
      error = e.message;
    });
    this.worker.on("exit", (code) => {
      this.alive = false;
      onGone(this);
      const members = [...this.members.values()];
      this.members.clear();
      for (const m of members) {
        m.bridgeClose?.();
        m.handlers.onExit(error ? `interpreter thread failed: ${error}` : `interpreter thread exited (code ${code})`);
      }
      this.snapshotWaiter?.({ type: "snapshot", error: error || `thread exited (code ${code})`, ms: 0 });
    });
  }

  post(m: ToThread, transfer: Transferable[] = []) {
    if (this.alive) this.worker.postMessage(m, transfer as never);
  }
}

export class WasiThreadPool {
  readonly maxThreads: number;
  private readonly assets: WasiAssets | ComponentAssets;
  private threads: WasiThread[] = [];
  private snapshot?: Promise<WasiSnapshot | null>;
  private nextInst = 1;
  private nextThread = 0;
  /** How long the snapshot took to make (boot + imports) or read from the cache. */
  snapshotMs?: number;
  snapshotSource?: "disk" | "made";
  private readonly snapshotFile?: string;

  /**
   * `snapshotDir`: where the snapshot is cached between processes (false: memory only).
   * `build`: which python.wasm build (assets.ts). `component`: run the interpreter component
   * (wit/, dist/component/) instead; its instances boot cold (ComponentInstance says why).
   */
  constructor(runtimeFiles: RuntimeFile[], opts: { threads?: number; snapshotDir?: string | false; build?: WasiBuild; component?: boolean } = {}) {
    this.maxThreads = Math.max(1, opts.threads ?? availableParallelism());
    if (opts.component) this.assets = componentAssets(runtimeFiles);
    else {
      const assets = wasiAssets(runtimeFiles, opts.build);
      this.assets = assets;
      if (opts.snapshotDir) this.snapshotFile = path.join(opts.snapshotDir, `wasi-${assets.key}.snapshot`);
    }
  }

  /** The cached snapshot (src/interpreter/wasi/snapshot-file.ts has the layout), if it is whole. */
  private readCached(): WasiSnapshot | undefined {
    if (!this.snapshotFile) return undefined;
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.snapshotFile);
    } catch {
      return undefined;
    }
    // A truncated, corrupt, older or foreign file is ignored (and replaced by a fresh snapshot).
    const parsed = parseSnapshotFile(bytes);
    if (typeof parsed === "string") return undefined;
    if (!createHash("sha256").update(parsed.body).digest().equals(parsed.sha256)) return undefined;
    return parsed.snapshot;
  }

  private writeCached(s: WasiSnapshot) {
    if (!this.snapshotFile) return;
    try {
      const body = snapshotBody(s);
      mkdirSync(path.dirname(this.snapshotFile), { recursive: true });
      const tmp = `${this.snapshotFile}.${process.pid}.tmp`;
      writeFileSync(tmp, snapshotFile(body, createHash("sha256").update(body).digest()));
      renameSync(tmp, this.snapshotFile); // atomic for concurrent readers
    } catch {
      // An unwritable cache costs the next process a cold boot, nothing more.
    }
  }

  private threadInit(): ThreadInit {
    const a = this.assets;
    return "module" in a ? { kind: "wasi", module: a.module, minPages: a.minPages, files: a.files } : { kind: "component", modules: a.modules, bindings: a.bindings, files: a.files };
  }

  private newThread(): WasiThread {
    const t = new WasiThread(this.nextThread++, this.threadInit(), (gone) => {
      this.threads = this.threads.filter((x) => x !== gone);
    });
    this.threads.push(t);
    return t;
  }

  /** The thread with the fewest instances; a new one while under maxThreads and all are used. */
  private pickThread(): WasiThread {
    const live = this.threads.filter((t) => t.alive);
    const least = live.reduce<WasiThread | undefined>((a, t) => (!a || t.members.size < a.members.size ? t : a), undefined);
    if (!least || (least.members.size > 0 && live.length < this.maxThreads)) return this.newThread();
    return least;
  }

  /** Boot one instance cold on a thread, import the runtime and keep what differs from fresh memory (WasiInstance.snapshot). */
  ensureSnapshot(): Promise<WasiSnapshot | null> {
    if (!("module" in this.assets)) return (this.snapshot ??= Promise.resolve(null));
    const started = performance.now();
    const cachedSnap = this.snapshot ? undefined : this.readCached();
    if (cachedSnap) {
      this.snapshotMs = performance.now() - started;
      this.snapshotSource = "disk";
      this.snapshot = Promise.resolve(cachedSnap);
    }
    this.snapshot ??= new Promise<WasiSnapshot | null>((resolve, reject) => {
      const t = this.pickThread();
      t.snapshotWaiter = (m) => {
        t.snapshotWaiter = undefined;
        this.snapshotMs = m.ms;
        this.snapshotSource = "made";
        if (m.snapshot) {
          this.writeCached(m.snapshot);
          resolve(m.snapshot);
        }
        else reject(new Error(`WASI interpreter failed to boot: ${m.error}`));
      };
      t.post({ type: "snapshot" });
    });
    return this.snapshot;
  }

  spawn(h: TransportHandlers, opts: WasiSpawnOptions = {}): WasiTransport {
    const inst = this.nextInst++;
    const thread = this.pickThread();
    const interruptBuffer = new SharedArrayBuffer(4);
    const interrupt = new Int32Array(interruptBuffer);
    const channel = h.bridge ? new MessageChannel() : undefined;
    const flag = new SharedArrayBuffer(4);
    if (channel) serveBridge(channel.port1, new Int32Array(flag), h.bridge!);
    const member: Member = { handlers: h, bridgeClose: channel ? () => channel.port1.close() : undefined };
    thread.members.set(inst, member);
    this.ensureSnapshot().then(
      (snapshot) => {
        if (!thread.members.has(inst)) return; // terminated meanwhile
        thread.post(
          {
            type: "spawn",
            inst,
            snapshot,
            init: {
              eager: opts.eager,
              memoryMaxBytes: opts.memoryMaxBytes ?? 2 ** 30,
              interruptBuffer,
              bridgePort: channel?.port2,
              bridgeFlag: channel ? flag : undefined,
            },
          },
          channel ? [channel.port2] : [],
        );
      },
      (e: unknown) => {
        if (!thread.members.delete(inst)) return;
        member.bridgeClose?.();
        h.onExit(e instanceof Error ? e.message : String(e));
      },
    );
    return {
      thread: thread.index,
      send: (msg: ToInterpreter) => {
        if (!thread.members.has(inst)) return;
        Atomics.store(interrupt, 0, 0); // a deadline of an earlier call must not hit this one
        thread.running.push(inst);
        thread.post({ type: "call", inst, msg });
      },
      interrupt: () => {
        Atomics.store(interrupt, 0, 2);
        Atomics.notify(interrupt, 0); // wakes a time.sleep
      },
      terminate: async () => {
        if (!thread.members.delete(inst)) return;
        member.bridgeClose?.();
        if (thread.running[0] === inst && thread.alive) {
          // Its call is still running and ignores interrupts: only ending the thread stops it.
          await thread.worker.terminate();
          return;
        }
        thread.post({ type: "kill", inst });
      },
      residentBytes: () => undefined,
    };
  }

  /** Threads in use and the instances on each (balancing and tests). */
  layout(): { thread: number; instances: number }[] {
    return this.threads.filter((t) => t.alive).map((t) => ({ thread: t.index, instances: t.members.size }));
  }

  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}
