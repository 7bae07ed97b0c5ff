// One WASI CPython interpreter in a Web Worker (the browser's interpreter kind). Started with
// `?role=snapshot`, the worker instead makes the boot snapshot, answering over comlink.
// The page sends calls one at a time; while one runs, the worker is blocked in wasm, and
// Python reaches the engine through the shared-memory bridge (bridge.ts).

import * as Comlink from "comlink";
import { fileTree, WasiInstance } from "../../interpreter/wasi/instance.js";
import { faultOf, type MemoryUse } from "../../interpreter/wasi/instance-call.js";
import type { FromInterpreter, ToInterpreter } from "../../protocol.js";
import { makeSyncBridge } from "./bridge.js";
import type { FromWorker, SnapshotMaker, ToWorker, WorkerAssets, WorkerInit } from "./messages.js";

interface WorkerScope {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", fn: (e: MessageEvent) => void): void;
  location: { search: string };
}
const scope = globalThis as unknown as WorkerScope;
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
const postMsg = (msg: FromInterpreter, transfer: Transferable[] = []) => post({ type: "msg", msg }, transfer);

/** Memory for the snapshot-making instance: it runs only our own boot code. */
const SNAPSHOT_MAX_BYTES = 1024 * 2 ** 20;

const snapshotMaker: SnapshotMaker = {
  async make(assets: WorkerAssets) {
    const started = performance.now();
    let output = "";
    const wi = new WasiInstance(assets.module, assets.minPages, fileTree(assets.files), SNAPSHOT_MAX_BYTES, {
      output: (_s, text) => {
        output = (output + text).slice(-4000);
      },
      interrupt: () => 0,
      sleep: (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms) !== "timed-out",
    });
    try {
      wi.boot({ forSnapshot: true });
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${output}`);
    }
    const snapshot = wi.snapshot();
    return { snapshot, ms: performance.now() - started };
  },
};

let instance: WasiInstance | undefined;

function fail(reason: string, memory?: MemoryUse) {
  instance = undefined;
  postMsg({ type: "fatal", reason, memory });
  post({ type: "exit", reason });
}

function init(opts: WorkerInit) {
  const started = performance.now();
  const interrupt = new Int32Array(opts.interruptBuffer);
  try {
    const wi = new WasiInstance(opts.module, opts.minPages, fileTree(opts.files), opts.memoryMaxBytes, {
      output: (stream, text) => postMsg({ type: "stdout", stream, text }),
      bridge: opts.bridge ? makeSyncBridge(opts.bridge, (req) => post({ type: "bridge", req })) : undefined,
      interrupt: () => Atomics.exchange(interrupt, 0, 0),
      sleep: (ms) => Atomics.wait(interrupt, 0, 0, ms) !== "timed-out" && Atomics.load(interrupt, 0) !== 0,
    });
    wi.restore(opts.snapshot, opts.eager);
    instance = wi;
    postMsg({ type: "ready", bootMs: performance.now() - started, fromSnapshot: true, heapBytes: wi.heapBytes });
  } catch (e) {
    fail(`boot failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function call(msg: ToInterpreter) {
  const wi = instance;
  if (!wi) return post({ type: "exit", reason: "interpreter instance is gone" });
  let r: ReturnType<WasiInstance["call"]>;
  try {
    r = wi.call(msg.op, msg.json, msg.buffers);
  } catch (e) {
    const f = faultOf(e);
    return fail(f.reason, f.memory);
  }
  // Linear memory cannot shrink, and CPython after a failed allocation deep in C is not to be trusted.
  const oom = wi.memoryFault(r);
  if (oom) return fail(oom.message, oom.memory);
  postMsg(
    { type: "result", id: msg.id, ok: r.ok, json: r.json, buffers: r.buffers, heapBytes: wi.heapBytes, release: r.release },
    r.buffers.map((b) => b.buffer),
  );
}

if (new URLSearchParams(scope.location.search).get("role") === "snapshot") {
  Comlink.expose(snapshotMaker);
} else {
  scope.addEventListener("message", (e: MessageEvent<ToWorker>) => {
    const m = e.data;
    if (m.type === "init") init(m.init);
    else if (m.type === "call") call(m.msg);
  });
}
