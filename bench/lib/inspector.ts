// workerd's inspector (the Chrome DevTools protocol over a WebSocket; start workerd with
// --inspector-addr): how much the isolate's V8 holds, which workerd reports nowhere else.
// Needs a global WebSocket (Node 20: run with --experimental-websocket).

import { type ChildProcess, spawn } from "node:child_process";
import { freePort, WORKERD } from "../../test/edge/workerd.js";

export interface HeapUsage {
  /** V8's JavaScript heap: in use, and committed. */
  usedSize: number;
  totalSize: number;
  /** ArrayBuffer backing stores (not the wasm linear memories: those are counted apart). */
  backingStorageSize: number;
}

export interface Inspector {
  heapUsage(): Promise<HeapUsage>;
  close(): void;
}

/** Attaches to the first (the only) worker of the workerd whose inspector listens on `port`. */
export async function attachInspector(port: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown };
    if (m.id !== undefined) waiting.get(m.id)?.(m.result);
    if (m.id !== undefined) waiting.delete(m.id);
  };
  const send = (method: string) =>
    new Promise<unknown>((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params: {} }));
    });
  return {
    heapUsage: async () => (await send("Runtime.getHeapUsage")) as HeapUsage,
    close: () => ws.close(),
  };
}

export interface InspectedWorkerd {
  proc: ChildProcess;
  inspectorPort: number;
  /** SIGKILL: with the inspector on, workerd does not always end on SIGTERM. */
  kill(): Promise<void>;
}

/** `workerd serve CONFIG` with its inspector on a free 127.0.0.1 port. */
export async function spawnInspected(config: string): Promise<InspectedWorkerd> {
  const inspectorPort = await freePort();
  const proc = spawn(WORKERD, ["serve", config, `--inspector-addr=127.0.0.1:${inspectorPort}`], { stdio: "ignore" });
  const gone = new Promise((r) => proc.once("exit", r));
  return {
    proc,
    inspectorPort,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await gone;
    },
  };
}
