// WASI interpreters (CPython built for wasm32-wasi, wasm/): they boot from the snapshot, run
// the runtime and torch layer, reach the engine only through the _wasmdeploy bridge, and
// WebAssembly alone contains them: no environment, no host files, no sockets; a trap, a
// memory cap or a runaway loop fails only its own call and the next call works.

import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallTimeoutError, InterpreterCrashedError, InterpreterManager, MemoryLimitError, Tensor } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";

const PROBE = `
import os, sys, random

def platform():
    return sys.platform

def imported():
    return sorted(m for m in ("torch", "torch.nn", "wasmdeploy_runtime.host", "_wasmdeploy") if m in sys.modules)

def reachable(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False

def environ():
    return dict(os.environ)

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read(64).decode("latin-1")
    except OSError as e:
        return type(e).__name__

def write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "written"
    except OSError as e:
        return type(e).__name__

def listdir(path):
    return sorted(os.listdir(path))

def connect():
    try:
        import socket
        s = socket.create_connection(("127.0.0.1", 22), timeout=1)
        s.close()
        return "connected"
    except Exception as e:
        return type(e).__name__

def recurse_in_c():
    sys.setrecursionlimit(10 ** 7)
    def f():
        return list(map(lambda _: f(), [0]))
    return f()

def hog():
    x = []
    while True:
        x.append(bytearray(1 << 20))

def spin():
    while True:
        pass

def nap():
    import time
    time.sleep(3600)

def slept(seconds):
    import time
    t = time.monotonic()
    time.sleep(seconds)
    return time.monotonic() - t

def rand():
    return random.random()

def traceback_of_bad_json():
    import json, traceback
    try:
        json.loads("{bad")
    except ValueError:
        return [[f.lineno, f.line] for f in traceback.extract_tb(sys.exc_info()[2])[1:]]

def timezone_path():
    import sysconfig, zoneinfo
    return sysconfig.get_config_var("TZPATH")
`;

// What CPython 3.11.2 itself says (the version python.wasm is built from), committed so that
// no Python is needed; checked against Debian's /usr/bin/python3.11 when it is that version
// (.ci/run installs it).
const CPYTHON_TRACEBACK = [
  [346, "return _default_decoder.decode(s)"],
  [337, "obj, end = self.raw_decode(s, idx=_w(s, 0).end())"],
  [353, "obj, end = self.scan_once(s, idx)"],
];
const HOST_TRACEBACK = `
import json, sys, traceback
try:
    json.loads("{bad")
except ValueError:
    print(json.dumps([(f.lineno, f.line) for f in traceback.extract_tb(sys.exc_info()[2])[1:]]))
`;
const HOST_PYTHON = "/usr/bin/python3.11";
const hostIs3112 = spawnSync(HOST_PYTHON, ["-c", "import sys; assert sys.version_info[:3] == (3, 11, 2)"]).status === 0;
if (!hostIs3112 && process.env.CI) throw new Error("CI needs Debian's CPython 3.11.2: apt-get install -y python3.11");

// A limit that is not under test must not decide an outcome, or the result depends on the
// machine's speed: `manager` has the memory cap and no deadline (a slow machine cannot turn a
// MemoryLimitError or a model's answer into a CallTimeoutError); `timed`, for the deadline tests
// only, has a deadline, no cap, and an interrupt grace so long that only code ignoring the
// interrupt could outlast it (none here), so "interrupted" cannot become "terminated".
let manager: InterpreterManager;
let timed: InterpreterManager;

async function probeOn(m: InterpreterManager, fn: string, ...args: unknown[]): Promise<unknown> {
  const s = await m.acquireOne();
  try {
    return await (await s.global("probe", fn)).call(...args);
  } finally {
    await s.release();
  }
}
const probe = (fn: string, ...args: unknown[]) => probeOn(manager, fn, ...args);

beforeAll(async () => {
  process.env.WASMDEPLOY_CANARY = "wasi-canary-secret";
  manager = await InterpreterManager.create({ interpreters: 2, interpreter: "wasi", memoryLimitMb: 96, onOutput: () => {} });
  await manager.registerModuleSource("probe", PROBE);
  timed = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", callTimeoutMs: 1000, interruptGraceMs: 60_000, onOutput: () => {} });
  await timed.registerModuleSource("probe", PROBE);
});
afterAll(async () => {
  await manager?.close();
  await timed?.close();
  delete process.env.WASMDEPLOY_CANARY;
});

describe("a WASI interpreter", () => {
  it("is CPython on wasi with the runtime, the torch layer and its bridge imported", async () => {
    expect(await probe("platform")).toBe("wasi");
    expect(await probe("imported")).toStrictEqual(["torch", "torch.nn", "wasmdeploy_runtime.host"]);
    expect(await probe("reachable", "_wasmdeploy")).toBe(true);
    expect(await probe("reachable", "js")).toBe(false);
    expect(await probe("reachable", "pyodide")).toBe(false);
  });

  it("ships the stdlib without comments but with every code line where CPython has it", async () => {
    // The same line numbers and code lines as CPython's: cutting the comments moved no line.
    expect(await probe("traceback_of_bad_json")).toStrictEqual(CPYTHON_TRACEBACK);
  });

  it.runIf(hostIs3112)("the committed traceback is what CPython 3.11.2 itself says", () => {
    expect(JSON.parse(execFileSync(HOST_PYTHON, ["-c", HOST_TRACEBACK]).toString())).toStrictEqual(CPYTHON_TRACEBACK);
  });

  it("has sysconfig's build data, so sysconfig and zoneinfo import", async () => {
    expect(await probe("timezone_path")).toMatch(/zoneinfo/);
  });

  it("runs a conformance model through the bridge as PyTorch does", async () => {
    const models = path.join(ROOT, "packages", "models");
    const load = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(models, f))));
    const model = (await manager.loadPackage(path.join(models, "resnet_basic.pt"))).loadPickle("model", "model.pkl");
    const out = (await model.call(load("resnet_basic.input.npy"))) as Tensor;
    compare(out, load("resnet_basic.expected.npy"), "resnet_basic");
  });

  it("gives each restored instance its own random state", async () => {
    const values = await Promise.all(manager.allInstances().map(async (inst) => {
      const s = inst.acquireSession();
      try {
        return await (await s.global("probe", "rand")).call();
      } finally {
        await s.release();
      }
    }));
    expect(values[0]).not.toBe(values[1]);
  });
});

describe("the WebAssembly boundary", () => {
  it("has no environment", async () => {
    expect(await probe("environ")).toStrictEqual({});
  });

  it("sees no host file and writes nothing", async () => {
    expect(await probe("read", "/etc/passwd")).toBe("FileNotFoundError");
    expect(await probe("read", "/proc/self/environ")).toBe("FileNotFoundError");
    // Outside the one preopened directory: WASI's capability check refuses it.
    expect(["FileNotFoundError", "PermissionError"]).toContain(await probe("read", "../../../../etc/hostname"));
    expect(await probe("listdir", "/")).toStrictEqual(["lib", "runtime"]);
    expect(await probe("write", "/runtime/evil.py")).toBe("OSError");
    expect(await probe("write", "/lib/python3.11/os.py")).toBe("OSError");
    expect(String(await probe("read", "/lib/python3.11/os.py"))).toContain("OS routines");
  });

  it("opens no socket", async () => {
    expect(await probe("connect")).not.toBe("connected");
  });
});

describe("faults end only their own call", () => {
  it("a stack overflow in C traps; the instance is replaced", async () => {
    await expect(probe("recurse_in_c")).rejects.toBeInstanceOf(InterpreterCrashedError);
    expect(await probe("platform")).toBe("wasi");
  });

  it("the linear memory cap ends in MemoryLimitError; the next call works", async () => {
    await expect(probe("hog")).rejects.toBeInstanceOf(MemoryLimitError);
    expect(await probe("platform")).toBe("wasi");
  });

  it("a package's own memory limit, below the instance's cap, stops a call inside it", async () => {
    const hostile = path.join(ROOT, "packages", "archives", "hostile");
    const spec = JSON.parse(readFileSync(path.join(hostile, "manifest.json"), "utf8")).archives["dos.pt"].pickle;
    const pkg = await manager.loadPackage(path.join(hostile, "dos.pt"), { memoryLimitMb: 48 });
    const dos = pkg.loadPickle(spec.package, spec.resource);
    await expect(dos.callMethod("grow_memory", 4)).rejects.toBeInstanceOf(MemoryLimitError);
    expect(await probe("platform")).toBe("wasi");
  });

  it("a busy loop is interrupted at its deadline; the same instance serves the next call", async () => {
    const generation = timed.stats().interpreters[0]!.generation;
    const err = await probeOn(timed, "spin").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect((err as Error).message).toContain("interrupted");
    expect(await probeOn(timed, "platform")).toBe("wasi");
    expect(timed.stats().interpreters[0]!.generation).toBe(generation);
  });

  it("time.sleep sleeps, and a deadline cuts it short without replacing the instance", async () => {
    expect(await probe("slept", 0.05)).toBeGreaterThanOrEqual(0.05);
    const generation = timed.stats().interpreters[0]!.generation;
    const err = await probeOn(timed, "nap").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect((err as Error).message).toContain("interrupted");
    expect(await probeOn(timed, "platform")).toBe("wasi");
    expect(timed.stats().interpreters[0]!.generation).toBe(generation);
  });
});
