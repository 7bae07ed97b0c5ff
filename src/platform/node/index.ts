// The Node.js platform: files, worker_threads and child processes for interpreters, the
// on-disk snapshot cache, and onnxruntime-node (on engine threads) for the engine.

import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { Engine } from "../../engine/engine.js";
import { WasmdeployError } from "../../errors.js";
import type { InterpreterKindAdapter, Platform } from "../platform.js";
import { pyodideDir, runtimeFiles, snapshotKey } from "./assets.js";
import { openArchiveFile } from "./archive-file.js";
import { registerNodeBackends } from "./backends.js";
import { EngineThreads } from "./engine-threads.js";
import { defaultSnapshotDir, loadOrMakeSnapshot } from "./snapshot.js";
import { WasiThreadPool } from "./wasi/pool.js";
import { type NodeInterpreterAssets, spawnProcess, spawnThread } from "./transports.js";

registerNodeBackends();

/** Pyodide (CPython on Emscripten) in worker threads or sandbox processes, booted from a memory snapshot. */
const preparePyodide: InterpreterKindAdapter = async (setup) => {
  const dir = pyodideDir();
  const wasmStart = performance.now();
  const wasmModule = await WebAssembly.compile(await readFile(path.join(dir, "pyodide.asm.wasm")));
  const wasmCompileMs = performance.now() - wasmStart;
  const files = runtimeFiles();
  const sandboxed = setup.isolation === "sandboxed";
  let snapshotDir = setup.snapshotDir ?? defaultSnapshotDir();
  // Sandboxed interpreters are other processes: they read the snapshot from a file.
  if (sandboxed && snapshotDir === false) snapshotDir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-snapshot-"));
  const snap = await loadOrMakeSnapshot({
    dir: snapshotDir,
    key: snapshotKey(files, setup.isolation),
    pyodideDir: dir,
    wasmModule,
    runtimeFiles: files,
    sandboxed,
  });
  if (sandboxed && !snap.path) throw new WasmdeployError("sandboxed interpreters need the boot snapshot on disk; set snapshotDir to a writable folder");
  // One copy of the snapshot for every worker: a SharedArrayBuffer is shared, not cloned.
  const snapshot = new Uint8Array(new SharedArrayBuffer(snap.bytes.byteLength));
  snapshot.set(snap.bytes);
  const assets: NodeInterpreterAssets = { pyodideDir: dir, wasmModule, snapshot, runtimeFiles: files };
  const sandbox = { snapshotPath: snap.path ?? null, jsHeapMb: setup.sandboxJsHeapMb };
  return {
    spawn: sandboxed ? (boot, h) => spawnProcess(boot, assets, h, sandbox) : (boot, h) => spawnThread(boot, assets, h),
    stats: { snapshot: snap.source, snapshotMs: snap.ms, snapshotPath: snap.path, wasmCompileMs },
    booted(snapshotFailed) {
      // A cached snapshot that did not restore (corrupt, or another build): drop it so the next
      // process makes a fresh one instead of booting cold forever.
      if (snapshotFailed && snap.source === "disk" && snap.path) rmSync(snap.path, { force: true });
    },
  };
};

/**
 * CPython built for WASI (wasm/): many instances per worker thread, spread over min(cores, N)
 * threads. WebAssembly is their boundary, so `isolation` does not apply (docs/security.md).
 */
const wasiKind =
  (component: boolean): InterpreterKindAdapter =>
  async (setup) => {
  if (component && setup.wasiBuild === "sci") throw new WasmdeployError('interpreter "component" has one build, without numpy or Pillow: use interpreter "wasi" with wasiBuild "sci"');
  const started = performance.now();
  const pool = new WasiThreadPool(runtimeFiles(), {
    threads: Math.min(setup.interpreters, availableParallelism()),
    snapshotDir: setup.snapshotDir ?? defaultSnapshotDir(),
    component,
    build: setup.wasiBuild,
  });
  const compiledMs = performance.now() - started;
  await pool.ensureSnapshot();
  const memoryMaxBytes = setup.memoryLimitMb ? setup.memoryLimitMb * 2 ** 20 : undefined;
  return {
    spawn: (boot, h) => pool.spawn(h, { eager: boot.eager, memoryMaxBytes }),
    stats: component ? { snapshot: "none", snapshotMs: 0, wasmCompileMs: compiledMs } : { snapshot: pool.snapshotSource ?? "made", snapshotMs: pool.snapshotMs ?? 0, wasmCompileMs: compiledMs },
    booted() {},
    close: () => pool.close(),
  };
};

/** The interpreter kinds this platform can start, by name. */
const kinds = new Map<string, InterpreterKindAdapter>([
  ["pyodide", preparePyodide],
  ["wasi", wasiKind(false)],
  // The interpreter as a WebAssembly component (wit/interpreter.wit), run through jco's
  // bindings on preview2-shim; the same threads and isolation as "wasi", booted cold.
  ["component", wasiKind(true)],
]);

/** Adds an interpreter kind (an adapter whose transport carries src/protocol.ts's messages). */
export function registerInterpreterKind(name: string, prepare: InterpreterKindAdapter): void {
  kinds.set(name, prepare);
}

export const nodePlatform: Platform = {
  cores: () => availableParallelism(),
  readFile: async (p) => new Uint8Array(await readFile(p)),
  openArchive: openArchiveFile,
  writeStderr: (text) => void process.stderr.write(text),

  prepareInterpreters(setup) {
    const prepare = kinds.get(setup.kind);
    if (!prepare) throw new RangeError(`interpreter must be one of ${[...kinds.keys()].map((k) => JSON.stringify(k)).join(", ")}, got ${JSON.stringify(setup.kind)}`);
    return prepare(setup);
  },

  async createEngine(name, setup) {
    registerNodeBackends();
    // onnxruntime-node computes on the calling thread: engine threads let interpreters' graphs
    // run in parallel. ort-web runs on its own wasm threads, here.
    // A lone call on an idle pool runs on every core (EngineHost decides when; ort-web has one
    // global thread count, so it stays as configured).
    const wideThreads = Math.max(setup.intraOpThreads, setup.wideThreads ?? availableParallelism());
    if (name === "ort-node" && setup.engineWorkers > 0) return new EngineThreads(name, setup.engineWorkers, setup.intraOpThreads, wideThreads);
    return Engine.create({ backend: name, threads: setup.intraOpThreads, wideThreads });
  },
};
