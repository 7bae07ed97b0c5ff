// Where an interpreter runs, behind one small interface:
// - "thread": a worker_thread in this process (isolation "trusted": fastest, shares the
//   compiled wasm module and the snapshot memory; Python could reach this process's JS).
// - "process": a separate Node process per interpreter (isolation "sandboxed"), started
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
import type { WireMessage } from "../wire.js";
import { PACKAGE_ROOT } from "./assets.js";
import type { BridgeRequestMessage, FromWorker, ToWorker, WorkerInit } from "./protocol.js";
import { WORKER_URL } from "./snapshot.js";

export interface Transport {
  send(msg: ToWorker): void;
  /** Ask the running Python code to raise KeyboardInterrupt. */
  interrupt(): void;
  terminate(): Promise<void>;
  /** Resident memory of the interpreter's own process (process transport only). */
  residentBytes(): number | undefined;
}

export interface TransportHandlers {
  onMessage(msg: FromWorker): void;
  onExit(reason: string): void;
  /** Serves synchronous engine requests from the interpreter. */
  bridge?: (req: BridgeRequestMessage) => Promise<WireMessage>;
}

export type SpawnInit = Omit<WorkerInit, "interruptBuffer" | "bridgePort" | "bridgeFlag">;

/** Answer a bridge request on `port` and wake the interpreter blocked on `flag`. */
export function serveBridge(port: MessagePort, flag: Int32Array, bridge: NonNullable<TransportHandlers["bridge"]>) {
  port.on("message", (req: BridgeRequestMessage) => {
    bridge(req)
      .then(
        (res) => port.postMessage({ id: req.id, ok: true, json: res.json, buffers: res.buffers }),
        (e: unknown) => port.postMessage({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
      )
      .finally(() => {
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      });
  });
}

export function spawnThread(init: SpawnInit, h: TransportHandlers): Transport {
  const interrupt = new SharedArrayBuffer(4);
  const channel = h.bridge ? new MessageChannel() : undefined;
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER_URL, {
    workerData: { ...init, interruptBuffer: interrupt, bridgePort: channel?.port2, bridgeFlag: channel ? flag : undefined },
    transferList: channel ? [channel.port2] : [],
  });
  if (channel) serveBridge(channel.port1, new Int32Array(flag), h.bridge!);
  let fatal: string | undefined;
  let terminated = false;
  worker.on("message", (msg: FromWorker) => {
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
    send: (msg) => worker.postMessage(msg),
    interrupt: () => Atomics.store(new Int32Array(interrupt), 0, 2),
    terminate: async () => {
      terminated = true;
      await worker.terminate();
    },
    residentBytes: () => undefined,
  };
}

const SANDBOX_MAIN = fileURLToPath(new URL("./sandbox-main.js", import.meta.url));

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

export function spawnProcess(init: SpawnInit, h: TransportHandlers, sandbox: SandboxOptions): Transport {
  const cwd = mkdtempSync(path.join(tmpdir(), "wasmdeploy-sandbox-"));
  const distDir = path.dirname(path.dirname(SANDBOX_MAIN));
  const readable = [
    `${distDir}/*`,
    `${init.pyodideDir}/*`,
    path.join(PACKAGE_ROOT, "package.json"),
    ...(sandbox.snapshotPath ? [sandbox.snapshotPath] : []),
  ];
  const nodeArgs = [
    "--experimental-permission",
    ...readable.map((p) => `--allow-fs-read=${p}`),
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
  let fatal: string | undefined;
  let terminated = false;
  let stderrTail = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-2000);
  });
  child.stdout!.resume();
  child.on("message", (msg: FromWorker | { type: "bridge"; req: BridgeRequestMessage }) => {
    if (msg.type === "bridge") {
      const req = msg.req;
      const reply = (r: object) => child.connected && child.send({ type: "bridge-reply", reply: r });
      if (!h.bridge) return reply({ id: req.id, ok: false, error: "no engine is attached" });
      h.bridge(req).then(
        (res) => reply({ id: req.id, ok: true, json: res.json, buffers: res.buffers }),
        (e: unknown) => reply({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
      );
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
  child.send({ type: "init", init: { ...init, wasmModule: undefined, snapshot: null }, snapshotPath: sandbox.snapshotPath, netns: useNetns });
  return {
    send: (msg) => {
      if (child.connected) child.send(msg);
    },
    interrupt: () => {
      if (child.connected) child.send({ type: "interrupt" });
    },
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
