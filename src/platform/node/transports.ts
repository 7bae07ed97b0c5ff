// Node's interpreter kinds, each one adapter behind the Transport seam (src/interpreter/transport.ts):
// - thread: a worker_thread in this process (isolation "trusted": fastest, shares the
//   compiled wasm module and the snapshot memory; Python could reach this process's JS).
// - process: a separate Node process per interpreter (isolation "sandboxed"), started
//   with no environment, an empty working directory, Node's permission model (read-only
//   access to the runtime's own files, no writes, no child processes, no native addons),
//   code generation from strings disabled (so no JS object leads to `Function("...")`),
//   and, where the OS allows it, its own empty network namespace. Inside it a relay thread
//   runs the same interpreter worker and forwards messages, interrupts and bridge calls.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import type { Transport, TransportHandlers } from "../../interpreter/transport.js";
import { answerBridge, type BridgeHandler, type BridgeRequest, type FromInterpreter, type FromSandbox, type InterpreterBoot, type ToSandbox } from "../../protocol.js";
import { PACKAGE_ROOT, type RuntimeFile } from "./assets.js";
import { WORKER_URL } from "./snapshot.js";
import type { WorkerShutdown } from "./worker-init.js";
import type { WorkerInit } from "./worker-init.js";

/** What both Node transports need besides the boot settings. */
export interface NodeInterpreterAssets {
  pyodideDir: string;
  /** Compiled once per process; threads share it (a process compiles its own). */
  wasmModule: WebAssembly.Module;
  /** In a SharedArrayBuffer: threads share one copy. */
  snapshot: Uint8Array | null;
  runtimeFiles: RuntimeFile[];
}

/** Answer bridge requests arriving on `port`, waking the interpreter blocked on `flag` after each. */
export function serveBridge(port: MessagePort, flag: Int32Array, bridge: BridgeHandler) {
  port.on("message", (req: BridgeRequest) => {
    void answerBridge(bridge, req).then((reply) => {
      port.postMessage(reply);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
  });
}

export function spawnThread(boot: InterpreterBoot, assets: NodeInterpreterAssets, h: TransportHandlers): Transport {
  const interrupt = new SharedArrayBuffer(4);
  const channel = h.bridge ? new MessageChannel() : undefined;
  const flag = new SharedArrayBuffer(4);
  const workerData: WorkerInit = {
    ...boot,
    ...assets,
    interruptBuffer: interrupt,
    bridgePort: channel?.port2,
    bridgeFlag: channel ? flag : undefined,
  };
  const worker = new Worker(WORKER_URL, { workerData, transferList: channel ? [channel.port2] : [] });
  if (channel) serveBridge(channel.port1, new Int32Array(flag), h.bridge!);
  let fatal: string | undefined;
  let terminated = false;
  worker.on("message", (msg: FromInterpreter) => {
    if (msg.type === "fatal") fatal = msg.reason;
    h.onMessage(msg);
  });
  worker.on("error", (e) => {
    fatal ??= `worker error: ${e.message}`;
  });
  worker.on("exit", (code) => {
    channel?.port1.close();
    if (!terminated) h.onExit(fatal ?? `worker exited with code ${code}`);
  });
  return {
    send: (msg) => {
      Atomics.store(new Int32Array(interrupt), 0, 0); // a deadline of an earlier call must not hit this one
      worker.postMessage(msg);
    },
    interrupt: () => Atomics.store(new Int32Array(interrupt), 0, 2),
    terminate: async () => {
      terminated = true;
      await worker.terminate();
    },
    close: async () => {
      terminated = true;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      const shutdown: WorkerShutdown = { type: "shutdown" };
      worker.postMessage(shutdown);
      // An idle worker exits at once; one still booting or running code is terminated after the grace.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
    residentBytes: () => undefined,
  };
}

/** How long a closing worker has to exit by itself before it is terminated. */
const CLOSE_GRACE_MS = 200;

const SANDBOX_MAIN = fileURLToPath(new URL("./sandbox-main.js", import.meta.url));
/** dist/: the sandbox may read the compiled host code, nothing else of this package but package.json. */
const DIST_DIR = path.resolve(path.dirname(SANDBOX_MAIN), "..", "..");

let netnsSupport: boolean | undefined;
/** Whether `unshare -n` can give a child its own empty network namespace here. */
export function networkNamespaceAvailable(): boolean {
  if (netnsSupport === undefined) {
    if (process.platform !== "linux") netnsSupport = false;
    else {
      const r = spawnSync("unshare", ["-n", "true"], { stdio: "ignore" });
      netnsSupport = r.status === 0;
    }
  }
  return netnsSupport;
}

export interface SandboxOptions {
  /** Snapshot file the child restores from (it cannot share this process's memory). */
  snapshotPath: string | null;
  /** V8 old-space cap for the child's JS heap, in MB. */
  jsHeapMb: number;
}

export function spawnProcess(boot: InterpreterBoot, assets: NodeInterpreterAssets, h: TransportHandlers, sandbox: SandboxOptions): Transport {
  const cwd = mkdtempSync(path.join(tmpdir(), "wasmdeploy-sandbox-"));
  const readable = new Set([
    `${DIST_DIR}/*`,
    `${assets.pyodideDir}/*`,
    path.join(PACKAGE_ROOT, "package.json"),
    ...(sandbox.snapshotPath ? [sandbox.snapshotPath] : []),
  ]); // no duplicates: Node 20's permission parser aborts on them
  const nodeArgs = [
    "--experimental-permission",
    ...[...readable].map((p) => `--allow-fs-read=${p}`),
    "--allow-worker",
    "--disallow-code-generation-from-strings",
    `--max-old-space-size=${sandbox.jsHeapMb}`,
    "--no-warnings",
    SANDBOX_MAIN,
  ];
  const useNetns = networkNamespaceAvailable();
  const child: ChildProcess = useNetns
    ? spawn("unshare", ["-n", "--", process.execPath, ...nodeArgs], { env: {}, cwd, stdio: ["ignore", "pipe", "pipe", "ipc"], serialization: "advanced" })
    : spawn(process.execPath, nodeArgs, { env: {}, cwd, stdio: ["ignore", "pipe", "pipe", "ipc"], serialization: "advanced" });
  const send = (msg: ToSandbox<Omit<WorkerInit, "interruptBuffer">>) => {
    if (child.connected) child.send(msg);
  };
  let fatal: string | undefined;
  let terminated = false;
  let stderrTail = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-2000);
  });
  child.stdout!.resume();
  child.on("message", (msg: FromSandbox) => {
    if (msg.type === "bridge") {
      void answerBridge(h.bridge, msg.req).then((reply) => send({ type: "bridge-reply", reply }));
      return;
    }
    if (msg.type === "fatal") fatal = msg.reason;
    h.onMessage(msg);
  });
  child.on("exit", (code, signal) => {
    rmSync(cwd, { recursive: true, force: true });
    if (!terminated) {
      const detail = stderrTail.trim().split("\n").slice(-3).join(" | ");
      h.onExit(fatal ?? `sandbox process exited (${signal ?? `code ${code}`})${detail ? `: ${detail}` : ""}`);
    }
  });
  // The child compiles its own wasm module and reads the snapshot file itself.
  send({ type: "init", init: { ...boot, ...assets, wasmModule: undefined as never, snapshot: null }, snapshotPath: sandbox.snapshotPath, netns: useNetns });
  return {
    send,
    interrupt: () => send({ type: "interrupt" }),
    terminate: () =>
      new Promise<void>((resolve) => {
        terminated = true;
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
    residentBytes: () => {
      if (!child.pid) return undefined;
      try {
        const pages = Number(readFileSync(`/proc/${child.pid}/statm`, "utf8").split(" ")[1]);
        return Number.isFinite(pages) ? pages * 4096 : undefined;
      } catch {
        return undefined; // not Linux, or the process is gone
      }
    },
  };
}
