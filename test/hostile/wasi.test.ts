// Escape routes that are particular to WASI interpreters, which run with no process around
// them: WebAssembly and the imports the host hands each instance are the whole boundary.
// Python code in one instance tries the host's files (absolute paths, '..' and other path
// tricks, file descriptors), its environment, sockets, processes, the JavaScript realm, the
// engine bridge with another package's weights, and the interpreter beside it on the same
// thread serving another tenant. All of it must fail, and the neighbours keep serving.
// (escapes.test.ts and dos.test.ts run the common hostile archives on both kinds.)

import { createHash, randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, type ReplicatedObj, Tensor } from "wasmdeploy";
import * as testing from "wasmdeploy/testing";
import { ARCHIVES, ROOT } from "../helpers.js";
import { WASI } from "../kind.js";

const HOSTILE = path.join(ARCHIVES, "hostile");
const VICTIM_TOKEN = "7d1c0a55e3b94f62"; // packages/hostile_sources/victim_mod.py's secret
const canary = `wasi-canary-${randomBytes(12).toString("hex")}`;
const hostFile = path.join(tmpdir(), `wasmdeploy-wasi-${randomBytes(6).toString("hex")}.txt`);

const PROBE = String.raw`
import gc, json, os, sys, time

def attempt(fn, done=None):
    """fn's result (or done, if given) when it succeeds, else the name of what it raised."""
    try:
        r = fn()
        return r if done is None else done
    except BaseException as e:
        return type(e).__name__

def read(paths):
    def one(p):
        with open(p, "rb") as f:
            return "read:" + f.read(200).decode("latin-1")
    return {p: attempt(lambda: one(p)) for p in paths}

def write(paths):
    def one(p):
        with open(p, "w") as f:
            f.write("pwned")
    return {p: attempt(lambda: one(p), "written") for p in paths}

def mutate():
    return {name: attempt(fn, "done") for name, fn in (
        ("mkdir", lambda: os.mkdir("/runtime/x")), ("remove", lambda: os.remove("/runtime/wasmdeploy_runtime/host.py")),
        ("rename", lambda: os.rename("/runtime/wasmdeploy_runtime", "/runtime/y")), ("symlink", lambda: os.symlink("/etc/passwd", "/runtime/l")),
        ("utime", lambda: os.utime("/runtime/wasmdeploy_runtime/host.py", (0, 0))),
        ("truncate", lambda: os.truncate("/runtime/wasmdeploy_runtime/host.py", 0)))}

def sha(p):
    import hashlib
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()

def listing(paths):
    return {p: attempt(lambda: sorted(os.listdir(p))) for p in paths}

def chdir_up():
    try:
        for _ in range(8):
            os.chdir("..")
        return [os.getcwd(), sorted(os.listdir("."))]
    except BaseException as e:
        return type(e).__name__

def walk():
    found = []
    for root, dirs, files in os.walk("/"):
        found += [os.path.join(root, f) for f in files]
    return found

def fds():
    open_fds = {}
    for fd in range(0, 256):
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        entry = {"mode": st.st_mode}
        if fd > 2:
            entry["list"] = attempt(lambda: sorted(os.listdir(fd)))
        open_fds[fd] = entry
    return open_fds

def environ():
    return [dict(os.environ), os.getenv("WASMDEPLOY_CANARY"), os.getenv("PATH"), os.getenv("HOME")]

def modules(names):
    return {n: attempt(lambda: __import__(n), "imported") for n in names}

def processes():
    return {name: attempt(fn, "done") for name, fn in (
        ("system", lambda: os.system("touch /tmp/wasmdeploy_wasi_system")), ("fork", lambda: os.fork()),
        ("popen", lambda: os.popen("id").read()), ("execv", lambda: os.execv("/bin/sh", ["sh"])),
        ("kill", lambda: os.kill(1, 0)), ("spawn", lambda: os.posix_spawn("/bin/sh", ["sh"], {})),
        ("subprocess", lambda: __import__("subprocess").run(["id"])),
        ("thread", lambda: __import__("threading").Thread(target=lambda: None).start()))}

def sockets():
    def tcp():
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("127.0.0.1", 22))
    def udp():
        import socket
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 53))
    def dns():
        import socket
        return socket.gethostbyname("localhost")
    def fromfd():
        import socket
        return socket.socket(fileno=3).recv(1)
    return {name: attempt(fn, "done") for name, fn in (("tcp", tcp), ("udp", udp), ("dns", dns), ("fromfd", fromfd))}

def clocks():
    return {"time": time.time(), "monotonic": time.monotonic(),
            "settime": attempt(lambda: time.clock_settime(time.CLOCK_REALTIME, 0), "done")}

def bridge(ids):
    import _wasmdeploy
    out = {"api": sorted(n for n in dir(_wasmdeploy) if not n.startswith("__"))}
    for storage in ids:
        body = json.dumps({"storage": storage, "dtype": "float32", "offset": 0, "numel": 4})
        out[storage] = attempt(lambda: "read:" + repr(_wasmdeploy.call("read", body, []))[:200])
    return out

def scan(a, b):
    """The neighbour's secret is in another instance's memory: no object here may hold it."""
    needle = a + b
    hits = 0
    for o in gc.get_objects():
        d = getattr(o, "__dict__", None)
        if type(o).__module__ == "builtins" and not isinstance(o, type(sys)):
            continue
        try:
            if isinstance(d, dict) and any(isinstance(v, str) and needle in v for v in d.values()):
                hits += 1
        except BaseException:
            pass
    return hits
`;

describe.runIf(WASI)("WASI: escape routes with no process around the interpreter", () => {
  let manager: InterpreterManager;
  let victim: ReplicatedObj;
  let attacker: number;
  let victimIndex: number;
  const runtimeHash = createHash("sha256").update(readFileSync(path.join(ROOT, "runtime", "wasmdeploy_runtime", "host.py"))).digest("hex");

  async function probe(fn: string, ...args: unknown[]): Promise<unknown> {
    const s = manager.allInstances()[attacker]!.acquireSession();
    try {
      return await (await s.global("wasi_probe", fn)).call(...args);
    } finally {
      await s.release();
    }
  }
  const victimAnswers = async () => expect(await victim.callMethod("answer", 20)).toBe(41);
  const clean = (what: string, v: unknown) => {
    const text = JSON.stringify(v) ?? "";
    expect(text.includes(canary), `${what} leaked the canary`).toBe(false);
    expect(text.includes(VICTIM_TOKEN), `${what} leaked the victim's secret`).toBe(false);
  };

  beforeAll(async () => {
    process.env.WASMDEPLOY_CANARY = canary;
    writeFileSync(hostFile, canary);
    // 4 interpreters on 2 threads, one package each (tenancy applies to WASI interpreters too).
    manager = await InterpreterManager.create({ interpreter: "wasi", interpreters: 4, callTimeoutMs: 20_000, onOutput: () => {} });
    await manager.registerModuleSource("wasi_probe", PROBE);
    victim = (await manager.loadPackage(path.join(HOSTILE, "victim.pt"))).loadPickle("victim", "victim.pkl");
    await victimAnswers();
    expect(await victim.callMethod("secret_length")).toBe(`VICTIM-SECRET-${VICTIM_TOKEN}`.length);
    // A package with weights, served by another interpreter.
    const model = (await manager.loadPackage(path.join(ROOT, "packages", "models", "resnet_basic.pt"))).loadPickle("model", "model.pkl");
    await model.call(Tensor.fromNpy(new Uint8Array(readFileSync(path.join(ROOT, "packages", "models", "resnet_basic.input.npy")))));
    // The attacker: an interpreter that serves neither, on the victim's thread when one is free there.
    const tenants = testing.tenants(manager);
    const stats = manager.stats().interpreters;
    victimIndex = tenants.findIndex((t) => t === "p1");
    const free = stats.filter((_, k) => tenants[k] === undefined);
    expect(free.length).toBeGreaterThan(0);
    attacker = (free.find((s) => s.thread === stats[victimIndex]!.thread) ?? free[0]!).index;
  });
  afterAll(async () => {
    await manager?.close();
    delete process.env.WASMDEPLOY_CANARY;
    rmSync(hostFile, { force: true });
    rmSync("/tmp/wasmdeploy_wasi_system", { force: true });
    rmSync("/tmp/wasmdeploy_wasi_pwned", { force: true });
  });

  it("reads no host file by absolute path, '..' or any other path trick", async () => {
    const rel = path.relative("/", hostFile);
    const paths = [
      hostFile, `/..${hostFile}`, `//${rel}`, `/./${rel}`, `/runtime/../../../..${hostFile}`, `/lib/python3.11/../../../../../..${hostFile}`,
      `../../../../../../${rel}`, `..\\..\\..\\${rel}`, `%2e%2e/%2e%2e/${rel}`, `${hostFile}\0/runtime/x`,
      "/etc/passwd", "/etc/hostname", "/proc/self/environ", "/proc/self/mem", "/proc/1/cmdline", "/dev/mem", "/dev/stdin",
      path.join(ROOT, "package.json"), path.join(process.cwd(), "package.json"), path.join(HOSTILE, "victim.pt"),
    ];
    const out = (await probe("read", paths)) as Record<string, string>;
    clean("read", out);
    for (const p of paths) expect(out[p], `${p}: ${out[p]}`).not.toMatch(/^read:/);
    await victimAnswers();
  });

  it("cannot climb above its root or list anything but the runtime and stdlib", async () => {
    const l = (await probe("listing", ["/", "/..", "/../..", "..", "/runtime/../..", "/proc", "/etc", "/tmp", ROOT])) as Record<string, unknown>;
    expect(l["/"]).toStrictEqual(["lib", "runtime"]);
    for (const p of ["/..", "/../..", "..", "/runtime/../.."]) expect([["lib", "runtime"], "FileNotFoundError", "PermissionError", "OSError"], p).toContainEqual(l[p]);
    for (const p of ["/proc", "/etc", "/tmp", ROOT]) expect(l[p], p).toBe("FileNotFoundError");
    const up = await probe("chdir_up");
    expect([["/", ["lib", "runtime"]], "FileNotFoundError", "PermissionError", "OSError"]).toContainEqual(up);
    const files = (await probe("walk")) as string[];
    for (const f of files) expect(f, f).toMatch(/^\/(lib|runtime)\//);
    clean("walk", files);
  });

  it("holds only its own file descriptors: stdio and the one read-only root", async () => {
    const fds = (await probe("fds")) as Record<string, { mode: number; list?: unknown }>;
    // fd 3 is the preopened root; nothing of another instance (or of the host) is open.
    for (const [fd, e] of Object.entries(fds)) {
      if (Number(fd) <= 2) continue;
      expect(Number(fd), `fd ${fd} is open: ${JSON.stringify(e)}`).toBe(3);
      expect(e.list).toStrictEqual(["lib", "runtime"]);
    }
  });

  it("writes nothing: the tree its neighbours read is immutable", async () => {
    const w = (await probe("write", ["/tmp/wasmdeploy_wasi_pwned", "/runtime/evil.py", "/runtime/wasmdeploy_runtime/host.py", "/lib/x", hostFile])) as Record<string, string>;
    for (const [p, r] of Object.entries(w)) expect(r, p).not.toBe("written");
    const m = (await probe("mutate")) as Record<string, string>;
    for (const [op, r] of Object.entries(m)) expect(r, op).not.toBe("done");
    expect(readFileSync(hostFile, "utf8")).toBe(canary);
    // Every instance still reads the original runtime.
    for (const inst of manager.allInstances()) {
      const s = inst.acquireSession();
      expect(await (await s.global("wasi_probe", "sha")).call("/runtime/wasmdeploy_runtime/host.py")).toBe(runtimeHash);
      await s.release();
    }
    await victimAnswers();
  });

  it("has no environment, no JavaScript, no native code, no processes and no sockets", async () => {
    const env = (await probe("environ")) as unknown[];
    expect(env).toStrictEqual([{}, null, null, null]);
    const mods = (await probe("modules", ["js", "pyodide", "pyodide_js", "_pyodide", "ctypes", "_ctypes", "_posixsubprocess", "_multiprocessing", "mmap", "fcntl", "termios", "resource"])) as Record<string, string>;
    for (const [n, r] of Object.entries(mods)) expect(r, n).not.toBe("imported");
    const procs = (await probe("processes")) as Record<string, string>;
    for (const [n, r] of Object.entries(procs)) expect(r, n).not.toBe("done");
    const socks = (await probe("sockets")) as Record<string, string>;
    for (const [n, r] of Object.entries(socks)) expect(r, n).not.toBe("done");
    clean("processes", procs);
    await victimAnswers();
  });

  it("has clocks (and cannot set them)", async () => {
    const c = (await probe("clocks")) as { time: number; monotonic: number; settime: string };
    expect(Math.abs(c.time * 1000 - Date.now())).toBeLessThan(60_000);
    expect(c.settime).not.toBe("done");
  });

  it("reaches the engine only for its own package's weights, and sees nothing of its neighbour", async () => {
    // Weight storages are "<package id>/<key>"; the attacker loaded none of them.
    const ids = [];
    for (let p = 1; p <= 4; p++) for (let k = 0; k < 8; k++) ids.push(`p${p}/${k}`);
    for (let t = 1; t <= 64; t++) ids.push(`t${t}`);
    const out = (await probe("bridge", ids)) as Record<string, unknown>;
    expect(out.api).toStrictEqual(["BridgeError", "call"]);
    for (const id of ids) expect(out[id], `${id}: ${String(out[id])}`).toBe("BridgeError");
    // The interpreter that serves the model reads its weights through the same call (the probe is real).
    const owner = testing.tenants(manager).findIndex((t) => t === "p2");
    const os = manager.allInstances()[owner]!.acquireSession();
    const own = (await (await os.global("wasi_probe", "bridge")).call(["p2/0"])) as Record<string, string>;
    await os.release();
    expect(own["p2/0"]).toMatch(/^read:/);
    // The victim's secret lives in another instance's memory on this same thread.
    const halves = [VICTIM_TOKEN.slice(0, 8), VICTIM_TOKEN.slice(8)];
    expect(await probe("scan", ...halves)).toBe(0);
    // The same scan in the victim's own interpreter finds it (the probe is real).
    const s = manager.allInstances()[victimIndex]!.acquireSession();
    expect(await (await s.global("wasi_probe", "scan")).call(...halves)).toBeGreaterThan(0);
    await s.release();
    await victimAnswers();
  });
});
