// One interpreter: a worker thread running its own Pyodide. It boots from the
// shared memory snapshot (or cold), then runs one request at a time through
// wasmdeploy_runtime.host.dispatch. src/protocol.ts has the messages.

import { constants as fsConstants } from "node:fs";
import { constants as osConstants } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { loadPyodide, type PyodideAPI } from "pyodide";
import type { FromInterpreter, ToInterpreter } from "../../protocol.js";
import { makeSyncBridge } from "./sync-bridge.js";
import type { WorkerInit, WorkerShutdown } from "./worker-init.js";

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (msg: FromInterpreter, transfer: Transferable[] = []) => port.postMessage(msg, transfer as never);

const RUNTIME_DIR = "/wasmdeploy/runtime";

/**
 * Instantiate Pyodide from the WebAssembly.Module the host compiled once per process.
 * loadPyodide has no public option for this; its `createPyodideModule` hook receives the
 * Emscripten settings, whose default instantiateWasm also installs two imports we must
 * keep, so we wrap it and swap only the WebAssembly.instantiate call it makes.
 */
async function sharedModuleFactory(): Promise<(settings: { instantiateWasm?: unknown }) => Promise<unknown>> {
  const { default: createPyodideModule } = (await import(`${init.pyodideDir}/pyodide.asm.mjs`)) as {
    default: (settings: unknown) => Promise<unknown>;
  };
  const module = init.wasmModule;
  return (settings) => {
    const original = settings.instantiateWasm as (imports: unknown, done: unknown) => unknown;
    settings.instantiateWasm = (imports: unknown, done: unknown) => {
      const realInstantiate = WebAssembly.instantiate;
      (WebAssembly as { instantiate: unknown }).instantiate = async (_bytes: unknown, imps: WebAssembly.Imports) => {
        WebAssembly.instantiate = realInstantiate;
        return { instance: await realInstantiate(module, imps), module };
      };
      // Emscripten keeps the settings object as `Module`; dropping our reference to the
      // original instantiateWasm lets its closure's copy of the wasm bytes (9.6 MB) be freed.
      settings.instantiateWasm = undefined;
      return original(imports, done);
    };
    return createPyodideModule(settings);
  };
}

function writeRuntime(py: PyodideAPI) {
  for (const f of init.runtimeFiles) {
    const full = `${RUNTIME_DIR}/${f.path}`;
    py.FS.mkdirTree(full.slice(0, full.lastIndexOf("/")));
    py.FS.writeFile(full, f.source);
  }
}

if (init.sandboxed) {
  // Node's permission model refuses process.binding, which Pyodide's NODEFS asks only for
  // the fs constants; hand it those and nothing else.
  const constants = { fs: fsConstants, os: osConstants };
  (process as unknown as { binding: (name: string) => unknown }).binding = (name: string) => {
    if (name === "constants") return constants;
    throw new Error(`process.binding(${name}) is not available in a sandboxed interpreter`);
  };
}

function baseOptions() {
  return {
    indexURL: `${init.pyodideDir}/`,
    // `import js` reaches this object: in a sandbox, an empty one.
    jsglobals: init.sandboxed ? Object.create(null) : globalThis,
    env: { HOME: "/home/pyodide" },
    stdout: (text: string) => post({ type: "stdout", stream: "stdout", text }),
    stderr: (text: string) => post({ type: "stdout", stream: "stderr", text }),
  };
}

const IMPORT_RUNTIME = `
import sys
if ${JSON.stringify(RUNTIME_DIR)} not in sys.path:
    sys.path.insert(0, ${JSON.stringify(RUNTIME_DIR)})
import wasmdeploy_runtime.host
`;

async function makeSnapshot() {
  const py = await loadPyodide({ ...baseOptions(), _makeSnapshot: true });
  writeRuntime(py);
  py.runPython(IMPORT_RUNTIME);
  const snapshot = py.makeMemorySnapshot();
  post({ type: "snapshot", snapshot }, [snapshot.buffer]);
}

async function boot(): Promise<{ py: PyodideAPI; fromSnapshot: boolean; error?: string }> {
  if (init.snapshot) {
    try {
      const py = await loadPyodide({
        ...baseOptions(),
        _loadSnapshot: init.snapshot,
        createPyodideModule: (await sharedModuleFactory()) as never,
      });
      return { py, fromSnapshot: true };
    } catch (e) {
      // A snapshot from another build or a corrupt cache file: boot cold instead.
      const py = await loadPyodide(baseOptions());
      return { py, fromSnapshot: false, error: String(e) };
    }
  }
  return { py: await loadPyodide(baseOptions()), fromSnapshot: false };
}

async function serve() {
  const started = performance.now();
  const { py, fromSnapshot, error } = await boot();
  // The heap now holds the snapshot; let this thread's reference to the bytes go.
  init.snapshot = null;
  writeRuntime(py);
  if (init.bridgePort && init.bridgeFlag) {
    // Registered after the snapshot is restored: a JS module cannot live in a snapshot.
    py.registerJsModule("wasmdeploy_bridge", { call: makeSyncBridge(init.bridgePort, init.bridgeFlag) });
  }
  py.runPython(IMPORT_RUNTIME);
  if (init.sandboxed) {
    // pyodide_js is the Pyodide API (its _module.FS can mount host directories): unreachable.
    py.runPython(
      "import os, sys\nfor _k in [k for k in sys.modules if k == 'pyodide_js' or k.startswith('pyodide_js.')]:\n    del sys.modules[_k]\nos.environ.pop('_', None)",
    );
    py.unregisterJsModule("pyodide_js");
  }
  const host = py.pyimport("wasmdeploy_runtime.host");
  host.after_restore(Boolean(init.eager));
  const dispatch = host.dispatch as (op: string, json: string, buffers: Uint8Array[]) => [boolean, string, Uint8Array[], string[]];
  const interrupt = new Int32Array(init.interruptBuffer);
  py.setInterruptBuffer(checkedAtomically(interrupt));
  const heap = () => (py as unknown as { _module: { HEAP8: Int8Array } })._module.HEAP8.length;

  port.on("message", (msg: ToInterpreter | WorkerShutdown) => {
    if (msg.type === "shutdown") process.exit(0); // a worker's exit ends this thread only
    if (msg.type !== "call") return;
    // No clearing of the interrupt buffer here: the sender clears it as it sends the call, on the
    // thread that writes interrupts, so a deadline that fires before this message arrives still
    // interrupts the call instead of being wiped (it was, on a loaded machine).
    let out: [boolean, string, Uint8Array[], string[]];
    try {
      out = dispatch(msg.op, msg.json, msg.buffers);
    } catch (e) {
      // Python errors come back as values, so a throw here is the interpreter itself failing
      // (wasm trap, stack overflow in C, fatal Pyodide error): report and die.
      post({ type: "fatal", reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      process.exit(70);
    }
    const [ok, json, buffers, release] = out;
    post({ type: "result", id: msg.id, ok, json, buffers, heapBytes: heap(), release }, buffers.map((b) => b.buffer));
  });
  post({ type: "ready", bootMs: performance.now() - started, fromSnapshot, snapshotError: error, heapBytes: heap() });
}

/**
 * The interrupt slot as Pyodide's signal check sees it. That check reads the slot, then writes 0:
 * a deadline's 2 stored between the two was lost (about 1 call in 80 with a 1 ms deadline on a
 * loaded machine), and the code ran on until the grace ended and the worker was terminated. Here
 * the write lands only if the slot still holds what this thread read.
 */
function checkedAtomically(slot: Int32Array): Int32Array {
  let seen = 0;
  return {
    get 0() {
      return (seen = Atomics.load(slot, 0));
    },
    set 0(value: number) {
      Atomics.compareExchange(slot, 0, seen, value);
    },
  } as unknown as Int32Array;
}

(init.mode === "snapshot" ? makeSnapshot() : serve()).catch((e: unknown) => {
  post({ type: "fatal", reason: `boot failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}` });
  process.exit(71);
});
