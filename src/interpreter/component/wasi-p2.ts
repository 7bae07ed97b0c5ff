// The WASI 0.2 imports of one component instance, and nothing more: preview2-shim's in-memory
// (browser) pieces for streams, clocks and random numbers, over
// - a read-only file system on the thread's shared file image (a write would be a channel
//   between the instances that share it),
// - no environment, no arguments but "python", no stdin, stdout/stderr to the host's handler,
// - no sockets (the preview1 adapter imports none), and
// - a poll that blocks on the instance's interrupt slot, so time.sleep wakes on a deadline.
// preview2-shim's Node pieces are not used: they reach the host's files, environment and
// network, and block through an extra I/O thread.

import type { FileImage } from "../wasi/image.js";

/**
 * preview2-shim's browser modules (plain JS, no DOM; each platform loads them its own way):
 * their classes are the resources' types.
 */
export interface ShimModules {
  io: {
    poll: { Pollable: new () => object; poll?: unknown };
    streams: object;
    error: object;
    pollableCreate(source: { ready(): boolean; wait(): Promise<void> }): object;
  };
  cli: { createCli(config: CliConfig): Record<string, object> };
  clocks: { monotonicClock: { now(): bigint; resolution(): bigint }; wallClock: object };
  random: { random: object; insecure: object; insecureSeed: object };
  filesystem: { createFilesystem(config: { adapter: FsAdapter; preopens: Record<string, FsEntry> }): { types: object; preopens: object } };
  memfs: { InMemoryFilesystemAdapter: new () => FsAdapter };
}

interface CliConfig {
  environment: Record<string, string>;
  arguments: string[];
  initialCwd: string;
  stdout: { write(bytes: Uint8Array): void; blockingFlush?(): void };
  stderr: { write(bytes: Uint8Array): void; blockingFlush?(): void };
}

/** The in-memory adapter's tree: a directory maps names to entries, a file holds its bytes. */
export type FsEntry = { dir: Record<string, FsEntry> } | { source: Uint8Array };

interface FsAdapter {
  getRoot(capability: FsEntry): FsImpl;
}
type FsImpl = Record<string, (...args: never[]) => unknown>;

/** The file image as the in-memory adapter's tree; file bytes are views of the shared image. */
export function fsTree(image: FileImage): FsEntry {
  const root: FsEntry = { dir: {} };
  for (const [p, off, len] of image.entries) {
    const parts = p.split("/");
    let d = root.dir;
    for (const part of parts.slice(0, -1)) {
      const next = (d[part] ??= { dir: {} });
      if (!("dir" in next)) throw new Error(`file image: ${p} is under a file`);
      d = next.dir;
    }
    d[parts[parts.length - 1]!] = { source: new Uint8Array(image.data, off, len) };
  }
  return root;
}

/** Methods of a descriptor that change the tree or a file. */
const MUTATING = new Set(["writeViaStream", "appendViaStream", "setSize", "setTimes", "write", "createDirectoryAt", "setTimesAt", "linkAt", "removeDirectoryAt", "renameAt", "symlinkAt", "unlinkFileAt"]);

/** A descriptor implementation that refuses every change with WASI's `read-only` error code. */
function readOnly(impl: FsImpl): FsImpl {
  return new Proxy(impl, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== "string" || typeof v !== "function") return v;
      if (MUTATING.has(prop)) {
        return () => {
          throw "read-only";
        };
      }
      if (prop === "openAt") {
        return (pathFlags: unknown, path: string, openFlags: { create?: boolean; truncate?: boolean; exclusive?: boolean }, flags: { write?: boolean; mutateDirectory?: boolean }) => {
          if (openFlags.create || openFlags.truncate || openFlags.exclusive || flags.write || flags.mutateDirectory) throw "read-only";
          return readOnly((v as (...a: unknown[]) => FsImpl).call(target, pathFlags, path, openFlags, flags));
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

export interface WasiP2Hooks {
  output(stream: "stdout" | "stderr", text: string): void;
  /** Blocks up to `ms`; true if an interrupt for this instance cut it short. */
  sleep(ms: number): boolean;
  /** A sleep was cut short: raise the pending signal inside the instance. */
  interrupted(): void;
}

/** The import object entries for wasi:* of one instance. */
export function wasiImports(shim: ShimModules, tree: FsEntry, hooks: WasiP2Hooks): Record<string, object> {
  const td = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const out = (stream: "stdout" | "stderr") => ({
    write: (bytes: Uint8Array) => hooks.output(stream, td[stream].decode(bytes, { stream: true })),
    blockingFlush: () => {},
  });
  const cli = shim.cli.createCli({ environment: {}, arguments: ["python"], initialCwd: "/", stdout: out("stdout"), stderr: out("stderr") });
  const inner = new shim.memfs.InMemoryFilesystemAdapter();
  const fs = shim.filesystem.createFilesystem({ adapter: { getRoot: (cap) => readOnly(inner.getRoot(cap)) }, preopens: { "/": tree } });

  // Timers: pollables that know their deadline, so poll() can block the thread until the
  // earliest one instead of returning a promise (the sync bindings cannot wait for one).
  const deadlines = new WeakMap<object, number>();
  const mono = shim.clocks.monotonicClock;
  const timer = (ms: number) => {
    const at = performance.now() + ms;
    const p = shim.io.pollableCreate({ ready: () => performance.now() >= at, wait: () => Promise.resolve() });
    deadlines.set(p, at);
    return p;
  };
  const monotonicClock = {
    now: () => mono.now(),
    resolution: () => mono.resolution(),
    subscribeDuration: (ns: bigint) => timer(Number(ns) / 1e6),
    subscribeInstant: (instant: bigint) => timer((Number(instant) - Number(mono.now())) / 1e6),
  };
  const poll = (list: { ready(): boolean }[]): Uint32Array => {
    const readyNow = () => Uint32Array.from(list.flatMap((p, i) => (p.ready() ? [i] : [])));
    let ready = readyNow();
    if (ready.length) return ready;
    const ats = list.map((p) => deadlines.get(p));
    if (ats.some((a) => a === undefined)) throw new Error("poll: only timers can be waited on here");
    const wait = Math.max(0, Math.min(...(ats as number[])) - performance.now());
    if (hooks.sleep(wait)) hooks.interrupted();
    ready = readyNow();
    // Woken early by an interrupt: report the earliest timer done, Python raises at once.
    return ready.length ? ready : Uint32Array.of(ats.indexOf(Math.min(...(ats as number[]))));
  };
  const imports: Record<string, object> = {
    "wasi:cli/environment": cli.environment!,
    "wasi:cli/exit": cli.exit!,
    "wasi:cli/stdin": cli.stdin!,
    "wasi:cli/stdout": cli.stdout!,
    "wasi:cli/stderr": cli.stderr!,
    "wasi:cli/terminal-input": cli.terminalInput!,
    "wasi:cli/terminal-output": cli.terminalOutput!,
    "wasi:cli/terminal-stdin": cli.terminalStdin!,
    "wasi:cli/terminal-stdout": cli.terminalStdout!,
    "wasi:cli/terminal-stderr": cli.terminalStderr!,
    "wasi:clocks/monotonic-clock": monotonicClock,
    "wasi:clocks/wall-clock": shim.clocks.wallClock,
    "wasi:filesystem/types": fs.types,
    "wasi:filesystem/preopens": fs.preopens,
    "wasi:io/error": shim.io.error,
    "wasi:io/poll": { ...shim.io.poll, poll },
    "wasi:io/streams": shim.io.streams,
    "wasi:random/random": shim.random.random,
    "wasi:random/insecure": shim.random.insecure,
    "wasi:random/insecure-seed": shim.random.insecureSeed,
  };
  return imports;
}
