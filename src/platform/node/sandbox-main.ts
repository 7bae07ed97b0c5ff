// Main thread of a sandboxed interpreter process (see transport.ts). It holds nothing
// worth reaching: no environment, no writable files, no eval. It compiles Pyodide's wasm,
// starts the interpreter worker, and relays: host <-> worker messages, deadline
// interrupts (into the worker's interrupt buffer) and the worker's synchronous bridge
// calls (over IPC to the host, whose engine answers).

import { readFileSync } from "node:fs";
import path from "node:path";
import { MessageChannel, Worker } from "node:worker_threads";
import type { BridgeRequest, FromInterpreter, FromSandbox, ToSandbox } from "../../protocol.js";
import type { WorkerInit } from "./worker-init.js";

type FromHost = ToSandbox<WorkerInit>;

const send = (msg: FromSandbox) => {
  if (process.connected) process.send!(msg);
};

let worker: Worker | undefined;
const interrupt = new SharedArrayBuffer(4);
const flag = new SharedArrayBuffer(4);
const channel = new MessageChannel();

process.on("message", (msg: FromHost) => {
  switch (msg.type) {
    case "init":
      void start(msg.init, msg.snapshotPath);
      break;
    case "interrupt":
      Atomics.store(new Int32Array(interrupt), 0, 2);
      break;
    case "bridge-reply":
      channel.port1.postMessage(msg.reply);
      Atomics.store(new Int32Array(flag), 0, 1);
      Atomics.notify(new Int32Array(flag), 0);
      break;
    default:
      // Cleared here, in order with the host's interrupts: a deadline of an earlier call must not
      // hit this one, and one of this call must not be lost however late the worker reads it.
      if (msg.type === "call") Atomics.store(new Int32Array(interrupt), 0, 0);
      worker?.postMessage(msg);
  }
});
process.on("disconnect", () => process.exit(0)); // the host is gone

async function start(init: WorkerInit, snapshotPath: string | null) {
  try {
    const wasmModule = await WebAssembly.compile(readFileSync(path.join(init.pyodideDir, "pyodide.asm.wasm")));
    // In a SharedArrayBuffer so the worker shares this copy instead of receiving a clone.
    let snapshot: Uint8Array | null = null;
    if (snapshotPath) {
      const bytes = readFileSync(snapshotPath);
      snapshot = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
      snapshot.set(bytes);
    }
    worker = new Worker(new URL("./worker.js", import.meta.url), {
      workerData: { ...init, wasmModule, snapshot, interruptBuffer: interrupt, bridgePort: channel.port2, bridgeFlag: flag },
      transferList: [channel.port2],
    });
    channel.port1.on("message", (req: BridgeRequest) => send({ type: "bridge", req }));
    worker.on("message", (m: FromInterpreter) => send(m));
    worker.on("error", (e) => send({ type: "fatal", reason: `worker error: ${e.message}` }));
    worker.on("exit", (code) => process.exit(code === 0 ? 1 : code));
  } catch (e) {
    send({ type: "fatal", reason: `sandbox start failed: ${e instanceof Error ? e.message : String(e)}` });
    process.exit(72);
  }
}
