// The memory snapshot every interpreter boots from: taken once (cold boot, import the
// runtime, dump the wasm heap), cached on disk under a key of the Pyodide build and
// the runtime's sources, reused by every later process.

import { accessSync, constants, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { PACKAGE_ROOT, type RuntimeFile } from "./assets.js";
import type { FromInterpreter } from "../../protocol.js";
import type { WorkerInit } from "./worker-init.js";

export const WORKER_URL = new URL("./worker.js", import.meta.url);

/**
 * Default cache: WASMDEPLOY_CACHE_DIR; else, in a source checkout, wasm/snapshots if writable;
 * else $XDG_CACHE_HOME/wasmdeploy or ~/.cache/wasmdeploy. An installed package (under
 * node_modules) is never written to: it may be shared, read-only or root's.
 */
export function defaultSnapshotDir(): string {
  if (process.env.WASMDEPLOY_CACHE_DIR) return process.env.WASMDEPLOY_CACHE_DIR;
  if (!PACKAGE_ROOT.split(path.sep).includes("node_modules")) {
    const inCheckout = path.join(PACKAGE_ROOT, "wasm", "snapshots");
    try {
      mkdirSync(inCheckout, { recursive: true });
      accessSync(inCheckout, constants.W_OK); // it may exist and still be someone else's
      return inCheckout;
    } catch {
      // fall through to the user's cache
    }
  }
  return path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "wasmdeploy");
}

export interface SnapshotResult {
  bytes: Uint8Array;
  source: "disk" | "made";
  path?: string;
  ms: number;
}

export async function loadOrMakeSnapshot(opts: {
  dir: string | false;
  key: string;
  pyodideDir: string;
  wasmModule: WebAssembly.Module;
  runtimeFiles: RuntimeFile[];
  sandboxed: boolean;
}): Promise<SnapshotResult> {
  const started = performance.now();
  const file = opts.dir ? path.join(opts.dir, `pyodide-${opts.key}.snapshot`) : undefined;
  if (file) {
    try {
      const bytes = new Uint8Array(readFileSync(file));
      return { bytes, source: "disk", path: file, ms: performance.now() - started };
    } catch {
      // not cached yet
    }
  }
  const bytes = await makeSnapshot(opts);
  let written: string | undefined;
  if (file) {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, file); // atomic: a concurrent reader sees the whole file or none
      written = file;
    } catch {
      // An unwritable cache costs the next process a cold snapshot, nothing more.
    }
  }
  return { bytes, source: "made", path: written, ms: performance.now() - started };
}

function makeSnapshot(opts: {
  pyodideDir: string;
  wasmModule: WebAssembly.Module;
  runtimeFiles: RuntimeFile[];
  sandboxed: boolean;
}): Promise<Uint8Array> {
  const init: WorkerInit = {
    mode: "snapshot",
    index: -1,
    pyodideDir: opts.pyodideDir,
    wasmModule: opts.wasmModule,
    snapshot: null,
    runtimeFiles: opts.runtimeFiles,
    interruptBuffer: new SharedArrayBuffer(4),
    sandboxed: opts.sandboxed,
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: init });
    let done = false;
    worker.on("message", (msg: FromInterpreter) => {
      if (msg.type === "snapshot") {
        done = true;
        resolve(msg.snapshot);
        void worker.terminate();
      } else if (msg.type === "fatal") {
        done = true;
        reject(new Error(`making the interpreter snapshot failed: ${msg.reason}`));
      } else if (msg.type === "stdout") {
        process.stderr.write(`[snapshot] ${msg.text}\n`);
      }
    });
    worker.on("error", (e) => {
      if (!done) reject(e);
      done = true;
    });
    worker.on("exit", (code) => {
      if (!done) reject(new Error(`snapshot worker exited with code ${code} before finishing`));
    });
  });
}
