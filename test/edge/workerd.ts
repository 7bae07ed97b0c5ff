// Starts a project written by `wasmdeploy edge` under workerd (the npm package's binary) on a
// free 127.0.0.1 port, and stops it. Shared by the edge test and bench/edge.ts.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
export const CLI = path.join(ROOT, "dist", "cli", "main.js");
export const WORKERD = path.join(ROOT, "node_modules", ".bin", "workerd");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `wasmdeploy edge ...` as a user runs it. */
export function buildProject(args: string[]): void {
  execFileSync("node", [CLI, "edge", ...args], { stdio: "pipe" });
}

export interface Workerd {
  proc: ChildProcess;
  port: number;
  url: string;
  /** workerd's stdout+stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export function startWorkerd(dir: string, port: number): Workerd {
  const proc = spawn(WORKERD, ["serve", path.join(dir, "config.capnp")], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

/** Polls until `url` answers (any status), or throws after `ms`. */
export async function waitUntilUp(w: Workerd, ms = 20000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await fetch(`${w.url}/v2/health/live`);
      return;
    } catch {
      if (Date.now() > until || w.proc.exitCode !== null) throw new Error(`workerd did not come up:\n${w.log()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Resident memory of a process, bytes (Linux). */
export function rssBytes(pid: number): number {
  const status = execFileSync("cat", [`/proc/${pid}/status`]).toString();
  const kb = /VmRSS:\s+(\d+)/.exec(status);
  return kb ? Number(kb[1]) * 1024 : NaN;
}
