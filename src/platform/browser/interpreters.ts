// WASI interpreters in Web Workers: one worker per interpreter, all sharing one compiled
// python.wasm, one file image and one snapshot (SharedArrayBuffers and a WebAssembly.Module
// are shared with workers, not copied). Each worker is a Transport, the seam the pool drives.

import * as Comlink from "comlink";
import { WasmdeployError } from "../../errors.js";
import type { WasiSnapshot } from "../../interpreter/wasi/image.js";
import type { Transport, TransportHandlers } from "../../interpreter/transport.js";
import type { InterpreterKindAdapter } from "../platform.js";
import type { BrowserAssets } from "./assets.js";
import { answer, bridgeBuffers } from "./bridge.js";
import type { FromWorker, SnapshotMaker, ToWorker, WorkerAssets } from "./messages.js";

/** What this build needs from the page; thrown before anything starts. */
export function checkIsolation(): void {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  if (!g.crossOriginIsolated || typeof g.SharedArrayBuffer !== "function") {
    throw new WasmdeployError(
      "wasmdeploy needs a cross-origin isolated page: its interpreters run in Web Workers and wait for the engine " +
        "with SharedArrayBuffer + Atomics.wait, which browsers allow only there. Serve the page with the headers " +
        "`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` " +
        "(`npx wasmdeploy web` does), over https or from localhost/127.0.0.1. " +
        "(JSPI, WebAssembly.Suspending, would work without isolation but this build does not use it yet.)",
    );
  }
}

function workerUrl(base: URL, role?: string): URL {
  const u = new URL("wasi-worker.js", base);
  if (role) u.searchParams.set("role", role);
  return u;
}

async function makeSnapshot(base: URL, assets: WorkerAssets): Promise<{ snapshot: WasiSnapshot; ms: number }> {
  const worker = new Worker(workerUrl(base, "snapshot"), { type: "module", name: "wasmdeploy snapshot" });
  try {
    return await Comlink.wrap<SnapshotMaker>(worker).make(assets);
  } finally {
    worker.terminate();
  }
}

function spawnWorker(base: URL, assets: WorkerAssets, snapshot: WasiSnapshot, opts: { index: number; eager: boolean; memoryMaxBytes: number }, h: TransportHandlers): Transport {
  const worker = new Worker(workerUrl(base), { type: "module", name: `wasmdeploy interpreter ${opts.index}` });
  const interruptBuffer = new SharedArrayBuffer(4);
  const interrupt = new Int32Array(interruptBuffer);
  const bridge = h.bridge ? bridgeBuffers() : undefined;
  let gone = false;
  const end = (reason: string) => {
    if (gone) return;
    gone = true;
    worker.terminate();
    h.onExit(reason);
  };
  worker.addEventListener("message", (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    if (m.type === "msg") h.onMessage(m.msg);
    else if (m.type === "bridge") void answer(bridge!, h.bridge, m.req);
    else end(m.reason);
  });
  worker.addEventListener("error", (e) => {
    e.preventDefault();
    end(`interpreter worker failed: ${e.message || "script error"}`);
  });
  const post = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
  post({ type: "init", init: { ...assets, snapshot, eager: opts.eager, memoryMaxBytes: opts.memoryMaxBytes, interruptBuffer, bridge } });
  return {
    send: (msg) => {
      if (gone) return;
      Atomics.store(interrupt, 0, 0); // a deadline of an earlier call must not hit this one
      post({ type: "call", msg });
    },
    interrupt: () => {
      Atomics.store(interrupt, 0, 2);
      Atomics.notify(interrupt, 0); // wakes a time.sleep
    },
    terminate: async () => {
      gone = true;
      worker.terminate();
    },
    residentBytes: () => undefined,
  };
}

/** The "wasi" kind for browsers: assets from the cache or the server, snapshot from the cache or made in a worker. */
export function wasiWorkers(assetsFor: (build: "default" | "sci") => Promise<BrowserAssets>): InterpreterKindAdapter {
  return async (setup) => {
    checkIsolation();
    const assets = await assetsFor(setup.wasiBuild ?? "default");
    const compileStarted = performance.now();
    const [{ module }, files] = await Promise.all([assets.compile(), assets.files()]);
    const wasmCompileMs = performance.now() - compileStarted;
    const workerAssets: WorkerAssets = { module, minPages: assets.manifest.minPages, files };
    const snapStarted = performance.now();
    let snapshot = await assets.readSnapshot();
    const source = snapshot ? "disk" : "made";
    if (!snapshot) {
      snapshot = (await makeSnapshot(assets.base, workerAssets).catch((e: unknown) => {
        throw new WasmdeployError(`WASI interpreter failed to boot: ${e instanceof Error ? e.message : String(e)}`);
      })).snapshot;
      await assets.writeSnapshot(snapshot);
    }
    const snapshotMs = performance.now() - snapStarted;
    const snap = snapshot;
    const memoryMaxBytes = setup.memoryLimitMb ? setup.memoryLimitMb * 2 ** 20 : 2 ** 30;
    return {
      spawn: (boot, h) => spawnWorker(assets.base, workerAssets, snap, { index: boot.index, eager: boot.eager ?? setup.eager, memoryMaxBytes }, h),
      stats: { snapshot: source, snapshotMs, wasmCompileMs },
      booted() {},
    };
  };
}
