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
import type { MovedInstance } from "../../../interpreter/wasi/image.js";
import { type FromThread, type InstanceInit, SLOT_CALL, SLOT_SIGNAL, type ThreadInit, type ToThread, type WasiSnapshot } from "./messages.js";

const THREAD_URL = new URL("./thread.js", import.meta.url);

/**
 * How long a call may wait behind another instance's call on its thread before its
 * interpreter moves to another thread (WasiThreadPool.watch). Most such waits are housekeeping
 * that ends in well under a millisecond (a handle freed): those must not start a thread.
 */
const MOVE_AFTER_MS = 5;

/**
 * A new thread costs 20-30 MB and boots in 0.1-0.3 s: it is started when calls overlap
 * (wait more than MOVE_AFTER_MS) this many times within OVERLAP_WINDOW_MS, not for a one-off.
 * Calls that wait behind the same call are one overlap: a single burst of four calls on four
 * interpreters (three waiting behind the first) started a thread that no interpreter ever
 * moved to, 13-20 MB held for nothing (resnet18, bench/model-memory.ts).
 */
const OVERLAPS_FOR_THREAD = 3;
const OVERLAP_WINDOW_MS = 10_000;

/** An interpreter moves at most once in this long: calls that alternate must not make it shuttle. */
const MOVE_GAP_MS = 1000;

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

/** One interpreter instance, as the host tracks it: where it runs and how to reach it. */
interface Member {
  readonly inst: number;
  readonly handlers: TransportHandlers;
  readonly opts: WasiSpawnOptions;
  readonly interruptBuffer: SharedArrayBuffer;
  /** SLOT_* of interruptBuffer. */
  readonly slots: Int32Array;
  /** The sync bridge's wake-up slot (kept across moves; the port is made anew per thread). */
  readonly bridgeFlag: SharedArrayBuffer;
  bridgeClose?: () => void;
  thread: WasiThread;
  /** It said "ready". */
  ready: boolean;
  /** No call has started: its memory is still the snapshot's, so a move restores it afresh there. */
  pristine: boolean;
  /** Being moved: where to, and the calls sent meanwhile, in order. */
  moving?: { to: WasiThread; calls: ToInterpreter[] };
  /** The number its last call was sent with (SLOT_CALL). */
  seq: number;
  /** When it last moved (performance.now()). */
  movedAt: number;
  /** The timer watching its last call, queued behind another instance's call on its thread (watch). */
  waiting?: ReturnType<typeof setTimeout>;
}

/** What a thread tells the pool. */
interface ThreadEvents {
  gone(t: WasiThread): void;
  movedOut(t: WasiThread, m: Extract<FromThread, { type: "movedOut" }>): void;
}

function unwatch(m: Member): void {
  if (m.waiting) clearTimeout(m.waiting);
  m.waiting = undefined;
}

class WasiThread {
  readonly worker: Worker;
  readonly members = new Map<number, Member>();
  /** Instances whose calls were sent, in order: the head is the one running. */
  readonly running: number[] = [];
  alive = true;
  /** Its module is loaded and its file tree made: instances placed on it start without that wait. */
  up = false;
  snapshotWaiter?: (m: Extract<FromThread, { type: "snapshot" }>) => void;

  constructor(
    readonly index: number,
    init: ThreadInit,
    events: ThreadEvents,
  ) {
    this.worker = new Worker(THREAD_URL, { workerData: init, resourceLimits: { stackSizeMb: 8 } });
    this.worker.on("message", (m: FromThread) => {
      if (m.type === "up") {
        this.up = true;
        return;
      }
      if (m.type === "snapshot") return this.snapshotWaiter?.(m);
      if (m.type === "movedOut") return events.movedOut(this, m);
      const member = this.members.get(m.inst);
      if (m.type === "msg") {
        if (m.msg.type === "result") this.running.shift();
        if (m.msg.type === "ready" && member) member.ready = true;
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
      events.gone(this);
      const members = [...this.members.values()];
      this.members.clear();
      for (const m of members) {
        unwatch(m);
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
  /** The snapshot, once there is one (a move before an instance's first call restores from it). */
  private snapshotValue?: WasiSnapshot | null;
  private nextInst = 1;
  private nextThread = 0;
  /** Calls that waited with no thread to move to (moveTarget) within OVERLAP_WINDOW_MS: when, and the call they waited behind (thread:instance:seq). */
  private overlaps: { at: number; blocker: string }[] = [];
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
    const t = new WasiThread(this.nextThread++, this.threadInit(), {
      gone: (gone) => {
        this.threads = this.threads.filter((x) => x !== gone);
      },
      movedOut: (from, m) => this.movedOut(from, m),
    });
    this.threads.push(t);
    return t;
  }

  /**
   * The thread for a new instance: the one with the fewest instances. python.wasm instances
   * start on the threads there are (a new one only when there is none): a thread costs 20-30
   * MB, and interpreters whose calls never overlap never need a second. They move to another
   * thread when they would wait (send). Components cannot move: each takes a new thread while
   * under maxThreads and all are used.
   */
  private pickThread(): WasiThread {
    const live = this.threads.filter((t) => t.alive);
    const least = live.reduce<WasiThread | undefined>((a, t) => (!a || t.members.size < a.members.size ? t : a), undefined);
    if (!least || (!this.movable && least.members.size > 0 && live.length < this.maxThreads)) return this.newThread();
    return least;
  }

  /** python.wasm instances move between threads; components do not. */
  private get movable(): boolean {
    return "module" in this.assets;
  }

  /**
   * `m`'s call was queued behind another instance's call on its thread. If it has not started
   * after MOVE_AFTER_MS, the calls overlap for real: `m` moves to an idle thread that is up, and
   * its call goes with it (taken back from the queue, SLOT_CALL). With no such thread the call
   * waits where it is, and repeated overlaps start one for the next (moveTarget; it boots in
   * 0.1-0.3 s, in the background).
   */
  private watch(m: Member, msg: ToInterpreter, seq: number, wasPristine: boolean): void {
    const timer = setTimeout(() => {
      if (m.waiting !== timer) return;
      m.waiting = undefined;
      if (Atomics.load(m.slots, SLOT_CALL) !== seq) return; // it started: no overlap left to avoid
      if (performance.now() - m.movedAt < MOVE_GAP_MS) return;
      const from = m.thread;
      const to = this.moveTarget(from);
      if (!to || Atomics.compareExchange(m.slots, SLOT_CALL, seq, 0) !== seq) return;
      const at = from.running.lastIndexOf(m.inst);
      if (at >= 0) from.running.splice(at, 1);
      m.pristine = wasPristine;
      this.move(m, to, [msg]);
    }, MOVE_AFTER_MS);
    m.waiting = timer;
  }

  /**
   * An idle thread other than `from` that is up. Else undefined, and the overlap is counted:
   * OVERLAPS_FOR_THREAD of them start a thread, while under maxThreads.
   */
  private moveTarget(from: WasiThread): WasiThread | undefined {
    const live = this.threads.filter((t) => t.alive);
    const idle = live.find((t) => t !== from && t.up && t.running.length === 0);
    if (idle) return idle;
    if (live.length >= this.maxThreads || !live.every((t) => t.up)) return undefined;
    const now = performance.now();
    const head = from.running[0];
    const blocker = `${from.index}:${head}:${head === undefined ? 0 : from.members.get(head)?.seq}`;
    this.overlaps = this.overlaps.filter((o) => now - o.at < OVERLAP_WINDOW_MS && o.blocker !== blocker);
    this.overlaps.push({ at: now, blocker });
    if (this.overlaps.length >= OVERLAPS_FOR_THREAD) {
      this.overlaps = [];
      this.newThread();
    }
    return undefined;
  }

  /**
   * Move `m` to thread `to`. Before its first call its memory is the snapshot's, so it is
   * restored there afresh, at once. Otherwise its thread hands it over (moveOut) when its
   * current call is done, and movedOut() places it; its calls wait in `moving` meanwhile.
   */
  private move(m: Member, to: WasiThread, calls: ToInterpreter[]): void {
    m.moving = { to, calls };
    if (m.pristine && this.snapshotValue) {
      m.movedAt = performance.now();
      m.thread.members.delete(m.inst);
      m.bridgeClose?.();
      m.thread.post({ type: "kill", inst: m.inst });
      this.place(m, to, { type: "spawn", snapshot: this.snapshotValue, silent: true });
      return;
    }
    m.thread.post({ type: "moveOut", inst: m.inst });
  }

  private movedOut(from: WasiThread, msg: Extract<FromThread, { type: "movedOut" }>): void {
    const m = from.members.get(msg.inst);
    if (!m?.moving) return; // terminated meanwhile: its state is dropped
    if (!msg.state) {
      // Refused (it holds a file open): it stays for now; a later overlap tries again.
      this.flushMoving(m);
      return;
    }
    from.members.delete(m.inst);
    m.bridgeClose?.();
    m.movedAt = performance.now();
    const to = m.moving.to.alive ? m.moving.to : this.pickThread();
    this.place(m, to, { type: "moveIn", state: msg.state }, [msg.state.data]);
  }

  /**
   * Put `m` on thread `to`, made there by `how` (a spawn or a move): a bridge channel of its own
   * on that thread, then the calls that waited for the move.
   */
  private place(
    m: Member,
    to: WasiThread,
    how: { type: "spawn"; snapshot: WasiSnapshot | null; silent?: boolean } | { type: "moveIn"; state: MovedInstance },
    transfer: Transferable[] = [],
  ): void {
    const h = m.handlers;
    const channel = h.bridge ? new MessageChannel() : undefined;
    if (channel) serveBridge(channel.port1, new Int32Array(m.bridgeFlag), h.bridge!);
    m.bridgeClose = channel ? () => channel.port1.close() : undefined;
    m.thread = to;
    to.members.set(m.inst, m);
    const init: InstanceInit = {
      eager: m.opts.eager,
      memoryMaxBytes: m.opts.memoryMaxBytes ?? 2 ** 30,
      interruptBuffer: m.interruptBuffer,
      bridgePort: channel?.port2,
      bridgeFlag: channel ? m.bridgeFlag : undefined,
    };
    to.post({ ...how, inst: m.inst, init }, [...transfer, ...(channel ? [channel.port2] : [])]);
    if (m.moving) this.flushMoving(m);
  }

  /** The move is over (or refused): the calls that waited go to the instance's thread. */
  private flushMoving(m: Member): void {
    const calls = m.moving?.calls ?? [];
    m.moving = undefined;
    for (const c of calls) this.dispatch(m, c);
  }

  private dispatch(m: Member, msg: ToInterpreter): void {
    const t = m.thread;
    const wasPristine = m.pristine;
    m.pristine = false;
    unwatch(m);
    const seq = (m.seq = (m.seq % 0x3fffffff) + 1);
    Atomics.store(m.slots, SLOT_CALL, seq);
    t.running.push(m.inst);
    t.post({ type: "call", inst: m.inst, msg, seq });
    const behindOthers = t.running.length > 1 && !t.running.slice(0, -1).includes(m.inst);
    if (behindOthers && this.movable && m.ready) this.watch(m, msg, seq, wasPristine);
  }

  /** Boot one instance cold on a thread, import the runtime and keep what differs from fresh memory (WasiInstance.snapshot). */
  ensureSnapshot(): Promise<WasiSnapshot | null> {
    if (!("module" in this.assets)) return (this.snapshot ??= Promise.resolve(null));
    const had = this.snapshot;
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
    if (this.snapshot !== had) {
      void this.snapshot.then(
        (v) => (this.snapshotValue = v),
        () => {},
      );
    }
    return this.snapshot;
  }

  spawn(h: TransportHandlers, opts: WasiSpawnOptions = {}): WasiTransport {
    const inst = this.nextInst++;
    const thread = this.pickThread();
    const interruptBuffer = new SharedArrayBuffer(8);
    const slots = new Int32Array(interruptBuffer);
    const m: Member = { inst, handlers: h, opts, interruptBuffer, slots, bridgeFlag: new SharedArrayBuffer(4), thread, ready: false, pristine: true, seq: 0, movedAt: -Infinity };
    thread.members.set(inst, m);
    this.ensureSnapshot().then(
      (snapshot) => {
        if (m.thread.members.get(inst) !== m) return; // terminated meanwhile
        this.place(m, m.thread, { type: "spawn", snapshot });
      },
      (e: unknown) => {
        if (!m.thread.members.delete(inst)) return;
        h.onExit(e instanceof Error ? e.message : String(e));
      },
    );
    return {
      get thread() {
        return m.thread.index;
      },
      send: (msg: ToInterpreter) => {
        if (m.thread.members.get(inst) !== m) return;
        Atomics.store(slots, SLOT_SIGNAL, 0); // a deadline of an earlier call must not hit this one
        if (m.moving) m.moving.calls.push(msg);
        else this.dispatch(m, msg);
      },
      interrupt: () => {
        Atomics.store(slots, SLOT_SIGNAL, 2);
        Atomics.notify(slots, SLOT_SIGNAL); // wakes a time.sleep
      },
      terminate: async () => {
        const thread = m.thread;
        if (!thread.members.delete(inst)) return;
        m.bridgeClose?.();
        m.moving = undefined;
        unwatch(m);
        // A call still queued there is taken back: it would run only to be thrown away.
        const queued = thread.running.indexOf(inst);
        if (queued > 0 && Atomics.compareExchange(slots, SLOT_CALL, m.seq, 0) === m.seq) thread.running.splice(queued, 1);
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
