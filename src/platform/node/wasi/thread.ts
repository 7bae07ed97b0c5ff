// A worker thread hosting many WASI interpreter instances of one compiled module. Calls run
// one at a time, in arrival order; each instance has its own memory, WASI state, interrupt
// slot and bridge port. A fault in one instance (trap, memory limit) removes only it.

import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { ComponentInstance, type ComponentParts, type Instantiate } from "../../../interpreter/component/instance.js";
import { fsTree } from "../../../interpreter/component/wasi-p2.js";
import { fileTree, type InstanceHooks, WasiInstance } from "../../../interpreter/wasi/instance.js";
import { type CallResult, faultOf, type InstanceFault, type MemoryUse } from "../../../interpreter/wasi/instance-call.js";
import type { FromInterpreter } from "../../../protocol.js";
import { collectGarbage } from "../collect-garbage.js";
import { IdleTidy } from "../idle-tidy.js";
import { trimMallocInBackground } from "../malloc-trim.js";
import { receivedInputs } from "../received-inputs.js";
import { makeSyncBridge } from "../sync-bridge.js";
import { loadShim } from "./component-assets.js";
import type { MovedInstance } from "../../../interpreter/wasi/image.js";
import { type FromThread, type InstanceInit, SLOT_CALL, SLOT_SIGNAL, type ThreadInit, type ToThread, type WasiSnapshot } from "./messages.js";

const init = workerData as ThreadInit;
const port = parentPort!;
const tree = init.kind === "wasi" ? fileTree(init.files) : undefined;
const component: ComponentParts | undefined =
  init.kind === "component"
    ? {
        instantiate: ((await import(init.bindings)) as { instantiate: Instantiate }).instantiate,
        modules: init.modules,
        shim: await loadShim(),
        tree: fsTree(init.files),
      }
    : undefined;
const post = (m: FromThread, transfer: Transferable[] = []) => port.postMessage(m, transfer as never);
const postMsg = (inst: number, msg: FromInterpreter, transfer: Transferable[] = []) => post({ type: "msg", inst, msg }, transfer);

/** What the thread needs of an instance of either kind. */
interface Instance {
  readonly heapBytes: number;
  call(op: string, json: string, buffers: Uint8Array[], memoryLimitBytes?: number): CallResult;
  memoryFault(r: CallResult): InstanceFault | undefined;
}

interface Slot {
  wi: Instance;
  /** SLOT_* of its InstanceInit.interruptBuffer. */
  slots: Int32Array;
  bridgePort?: MessagePort;
  /** The python.wasm instance, which can move to another thread (components cannot). */
  movable?: WasiInstance;
}
const instances = new Map<number, Slot>();

// A dropped instance's linear memory goes back to the system only when V8 collects it, and a
// thread that allocates little may not collect for a long time: an instance replaced for its
// size (recycleAboveMb) would keep its hundreds of MB. Collect once when a large one goes.
const LARGE = 64 * 2 ** 20;
let collectSoon: ReturnType<typeof setTimeout> | undefined;
const collectLater = () => {
  collectSoon ??= setTimeout(() => {
    collectSoon = undefined;
    collectGarbage();
  }, 10);
};

function dropped(slot: Slot | undefined, collect = false) {
  slot?.bridgePort?.close();
  if (slot && (collect || slot.wi.heapBytes >= LARGE)) collectLater();
}

// A long call (a package's load, an unpickling, a first call that records and compiles) leaves
// what V8 freed (its compile zones: 46-47 MB at the peak, serving resnet18) in this thread's
// malloc arena, and a thread that then only serves short calls frees little more: a second
// interpreter serving resnet18 on its own thread added 48.5 MB, 31 MB once glibc trimmed
// (bench:model-memory). So after a long call, once the thread is idle (idle-tidy.ts), trim, at
// most once per 2 s, on a libuv pool thread: done here, with a full collection, it held this
// thread 15-70 ms, and a call arriving meanwhile waited (collecting the heap as well gave back
// nothing more, measured).
const LONG_CALL_MS = 20;
const tidy = new IdleTidy(trimMallocInBackground, { idleMs: 100, gapMs: 2000, maxPostponeMs: 10_000 });

// This thread spends its calls blocked in Atomics.wait on the engine bridge, where V8's
// incremental marking cannot advance, so its old space fills and V8 collects all at once, 12-14
// ms, on whatever call is running: the third interpreter's unpickling of resnet18 took 32-38 ms
// against 20-27 for the second and fourth (--trace-gc). A call of a second or more (a package's
// first call, which records and compiles) collects before it returns: ~1% of it, and the heap
// starts the calls that follow with its limit set anew from what is live.
const COLLECT_AFTER_CALL_MS = 1000;

/** Memory for the snapshot-making instance: generous, it runs only our own boot code. */
const SNAPSHOT_MAX_BYTES = 1024 * 2 ** 20;

function makeSnapshot() {
  const started = performance.now();
  let output = "";
  try {
    if (init.kind !== "wasi") throw new Error("only python.wasm instances are snapshotted");
    const wi = new WasiInstance(init.module, init.minPages, tree!, SNAPSHOT_MAX_BYTES, {
      output: (_s, text) => {
        output = (output + text).slice(-4000);
      },
      interrupt: () => 0,
      sleep: (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms) !== "timed-out",
    });
    wi.boot({ forSnapshot: true });
    const snapshot = wi.snapshot();
    post({ type: "snapshot", snapshot, ms: performance.now() - started });
  } catch (e) {
    post({ type: "snapshot", error: `${e instanceof Error ? e.message : String(e)}\n${output}`, ms: performance.now() - started });
  }
}

function fail(inst: number, reason: string, memory?: MemoryUse) {
  const slot = instances.get(inst);
  instances.delete(inst);
  dropped(slot);
  postMsg(inst, { type: "fatal", reason, memory });
  post({ type: "exit", inst, reason });
}

function spawn(inst: number, opts: InstanceInit, snapshot: WasiSnapshot | null, moved?: MovedInstance, silent = false) {
  const started = performance.now();
  const slots = new Int32Array(opts.interruptBuffer);
  try {
    const hooks: InstanceHooks = {
      output: (stream, text) => postMsg(inst, { type: "stdout", stream, text }),
      bridge: opts.bridgePort && opts.bridgeFlag ? makeSyncBridge(opts.bridgePort, opts.bridgeFlag) : undefined,
      interrupt: () => Atomics.exchange(slots, SLOT_SIGNAL, 0),
      sleep: (ms) => Atomics.wait(slots, SLOT_SIGNAL, 0, ms) !== "timed-out" && Atomics.load(slots, SLOT_SIGNAL) !== 0,
    };
    let wi: Instance;
    let movable: WasiInstance | undefined;
    if (init.kind === "component") {
      const ci = new ComponentInstance(component!, opts.memoryMaxBytes, hooks);
      ci.boot(Boolean(opts.eager));
      wi = ci;
    } else {
      const w = new WasiInstance(init.module, init.minPages, tree!, opts.memoryMaxBytes, hooks);
      if (moved) {
        w.moveIn(moved);
        // The state it came in (its memory's pages, 14 MB for an interpreter serving resnet18)
        // is garbage now, and this thread may allocate too little for V8 to collect it soon.
        // Once freed it may stay in a malloc arena (glibc maps the next large block from the
        // arena after freeing one it had mapped alone): trim after.
        collectLater();
        tidy.want();
      }
      else if (snapshot) w.restore(snapshot, Boolean(opts.eager));
      else {
        w.boot();
        w.afterBoot(Boolean(opts.eager));
      }
      wi = movable = w;
    }
    instances.set(inst, { wi, slots, bridgePort: opts.bridgePort, movable });
    if (!moved && !silent) postMsg(inst, { type: "ready", bootMs: performance.now() - started, fromSnapshot: Boolean(snapshot), heapBytes: wi.heapBytes });
  } catch (e) {
    opts.bridgePort?.close();
    const reason = e instanceof Error ? e.message : String(e);
    const what = moved ? "moving to another thread failed" : "boot failed";
    postMsg(inst, { type: "fatal", reason: `${what}: ${reason}` });
    post({ type: "exit", inst, reason: `${what}: ${reason}` });
  }
}

/** Hand an instance to the host for a move to another thread; it stays if it cannot move. */
function moveOut(inst: number) {
  const slot = instances.get(inst);
  if (!slot) return post({ type: "movedOut", inst, refused: "the instance is gone" });
  const state = slot.movable ? slot.movable.moveOut() : "only python.wasm instances move";
  if (typeof state === "string") return post({ type: "movedOut", inst, refused: state });
  instances.delete(inst);
  post({ type: "movedOut", inst, state }, [state.data]);
  // Its old memory goes back to the system when V8 collects it: soon, since a move is what
  // made room on this thread.
  dropped(slot, true);
}

function call(inst: number, seq: number, id: number, op: string, json: string, buffers: Uint8Array[], memoryLimitBytes?: number) {
  const slot = instances.get(inst);
  if (!slot) {
    post({ type: "exit", inst, reason: "interpreter instance is gone" });
    return;
  }
  // Taken back by the host while it waited here (the instance moves, and the call with it).
  if (Atomics.compareExchange(slot.slots, SLOT_CALL, seq, -seq) !== seq) return;
  receivedInputs(buffers);
  let r: CallResult;
  const started = performance.now();
  try {
    r = slot.wi.call(op, json, buffers, memoryLimitBytes);
  } catch (e) {
    const f = faultOf(e);
    fail(inst, f.reason, f.memory);
    return;
  }
  // Linear memory cannot shrink and CPython after a failed allocation deep inside C code is
  // not trustworthy: running out of memory ends this instance.
  const oom = slot.wi.memoryFault(r);
  if (oom) {
    fail(inst, oom.message, oom.memory);
    return;
  }
  const took = performance.now() - started;
  if (took >= LONG_CALL_MS) tidy.want();
  if (took >= COLLECT_AFTER_CALL_MS) collectGarbage();
  postMsg(
    inst,
    { type: "result", id, ok: r.ok, json: r.json, buffers: r.buffers, heapBytes: slot.wi.heapBytes, release: r.release },
    r.buffers.map((b) => b.buffer),
  );
}

port.on("message", (m: ToThread) => {
  switch (m.type) {
    case "snapshot":
      return makeSnapshot();
    case "spawn":
      return spawn(m.inst, m.init, m.snapshot, undefined, m.silent);
    case "moveOut":
      return moveOut(m.inst);
    case "moveIn":
      return spawn(m.inst, m.init, null, m.state);
    case "call":
      tidy.begin();
      try {
        return call(m.inst, m.seq, m.msg.id, m.msg.op, m.msg.json, m.msg.buffers, m.msg.memoryLimitBytes);
      } finally {
        tidy.end();
      }
    case "kill": {
      const slot = instances.get(m.inst);
      instances.delete(m.inst);
      dropped(slot);
      return;
    }
  }
});
// Up: its module is loaded and its file tree made (a new thread takes 0.1-0.3 s to get here,
// so the pool moves interpreters only to threads that are up).
post({ type: "up" });
