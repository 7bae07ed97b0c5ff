// bench/pure: pure-Python speed of the WASI interpreter against native CPython 3.11, in one run.
//   npm run bench:pure [-- --rounds 5] [--variant LABEL=PATH/python.wasm[@V8 flags]] [--no-default] [--tag NAME]
//
// The workloads are bench/pure/suite.py (dicts and strings, method calls, a BPE tokenizer, sorts,
// recursion, beam search, NMS). Every system is one long-lived child process answering one
// workload at a time on stdin: /usr/bin/python3.11 running suite.py itself, and a Node process
// per WASI build with one interpreter (InterpreterManager, the serving path) that has suite.py
// registered as a module. Each round runs every workload once on every system, the order of the
// systems rotating per round, so drift in the machine's load hits all alike. One warm-up round
// (V8 tiers wasm up during it) is not counted. A time is measured inside Python
// (time.perf_counter around the workload), so it is the interpreter's work without call
// overhead. CPU time is recorded too (native: time.process_time; WASI: the Node process's CPU
// time around the call), which a machine shared with other jobs disturbs far less than wall
// time. Per workload: the median of the rounds; the suite's ratio is the geometric mean of
// the per-workload ratios to native (and the ratio of the sums of medians is shown too), for
// wall and for CPU time.
// Every system's checksums must equal native CPython's.
//
// --variant: another python.wasm (WASMDEPLOY_PYTHON_WASM), optionally with V8 flags for its
// process (after "@", space separated), compared in the same run. --no-default leaves out
// wasm/python.wasm. Results: bench/results/<date>-pure[-TAG].json.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const SUITE = path.join(HERE, "pure", "suite.py");
const NATIVE = "/usr/bin/python3.11";
const SNAPSHOTS = path.join(HERE, ".cache", "snapshots");

interface System {
  label: string;
  /** Undefined: native CPython. */
  wasm?: string;
  v8Flags: string[];
}

/** A child answering one JSON request per line with one JSON line. */
class Child {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  #stderr = "";

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.#proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    this.#proc.stderr.setEncoding("utf8").on("data", (d: string) => (this.#stderr = (this.#stderr + d).slice(-4000)));
    this.#lines = createInterface({ input: this.#proc.stdout })[Symbol.asyncIterator]();
  }

  async ask(req: unknown): Promise<unknown> {
    this.#proc.stdin.write(`${JSON.stringify(req)}\n`);
    return this.read();
  }

  /** The next JSON line (other output is skipped). */
  async read(): Promise<unknown> {
    for (;;) {
      const r = await this.#lines.next();
      if (r.done) throw new Error(`child ended: ${this.#stderr.slice(-1500)}`);
      if (r.value.startsWith("[") || r.value.startsWith("{")) return JSON.parse(r.value);
    }
  }

  end(): void {
    this.#proc.stdin.end();
  }
}

/** The WASI side: a child Node process with one interpreter. */
async function wasiChild(): Promise<void> {
  const { InterpreterManager } = (await import(path.join(ROOT, "dist", "index.js"))) as typeof import("../dist/index.js");
  const m = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", snapshotDir: SNAPSHOTS, callTimeoutMs: 600_000, onOutput: () => {} } as never);
  await m.registerModuleSource("purebench", readFileSync(SUITE, "utf8"));
  const s = await m.acquireOne();
  const run = await s.global("purebench", "run");
  process.stdout.write("{}\n"); // ready
  for await (const line of createInterface({ input: process.stdin })) {
    // CPU time of the whole process around the call: the interpreter's thread does the work
    // while this one waits (the call's own overhead is well under a millisecond).
    const c = process.cpuUsage();
    const r = (await run.call(JSON.parse(line) as string)) as [number, unknown, number];
    const d = process.cpuUsage(c);
    r[2] = (d.user + d.system) / 1000;
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }
  await s.release();
  await m.close();
}

function start(sys: System): Child {
  if (!sys.wasm) return new Child(NATIVE, ["-S", SUITE], { PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: "1" });
  return new Child(process.execPath, [...sys.v8Flags, "--import", "tsx", fileURLToPath(import.meta.url), "child"], { ...process.env, WASMDEPLOY_PYTHON_WASM: sys.wasm });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const geomean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === "child") return wasiChild();
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rounds = Number(opt("--rounds") ?? 5);
  const systems: System[] = [{ label: "native", v8Flags: [] }];
  if (!args.includes("--no-default")) systems.push({ label: "wasi", wasm: path.join(ROOT, "wasm", "python.wasm"), v8Flags: [] });
  args.forEach((a, i) => {
    if (a !== "--variant") return;
    const spec = args[i + 1]!;
    const eq = spec.indexOf("=");
    const [file, flags] = spec.slice(eq + 1).split("@");
    systems.push({ label: spec.slice(0, eq), wasm: path.resolve(file!), v8Flags: flags ? flags.split(" ").filter(Boolean) : [] });
  });
  const load = loadavg()[0]!;
  const names = (await (async () => {
    const c = new Child(NATIVE, ["-S", "-c", `import sys, json; sys.path.insert(0, ${JSON.stringify(path.dirname(SUITE))}); import suite; print(json.dumps(suite.names()))`], process.env);
    const r = await c.read();
    c.end();
    return r;
  })()) as string[];
  const children = systems.map(start);
  for (const [i, c] of children.entries()) if (systems[i]!.wasm) await c.read(); // "{}": ready
  const times = systems.map(() => new Map<string, number[]>(names.map((n) => [n, []])));
  const cpuTimes = systems.map(() => new Map<string, number[]>(names.map((n) => [n, []])));
  const sums = systems.map(() => new Map<string, unknown>());
  for (let r = 0; r <= rounds; r++) {
    for (const name of names) {
      for (let k = 0; k < systems.length; k++) {
        const i = (k + r) % systems.length;
        const [ms, sum, cpuMs] = (await children[i]!.ask(name)) as [number, unknown, number];
        const want = sums[0]!.get(name);
        if (i === 0) sums[0]!.set(name, sum);
        else sums[i]!.set(name, sum);
        if (i !== 0 && want !== undefined && JSON.stringify(sum) !== JSON.stringify(want)) throw new Error(`${systems[i]!.label} ${name}: checksum ${JSON.stringify(sum)}, native ${JSON.stringify(want)}`);
        if (r > 0) {
          times[i]!.get(name)!.push(ms);
          cpuTimes[i]!.get(name)!.push(cpuMs);
        }
      }
    }
    process.stderr.write(r === 0 ? "warm-up round done\n" : `round ${r}/${rounds} done\n`);
  }
  for (const c of children) c.end();
  const table = (t: typeof times) =>
    names.map((name) => {
      const med = systems.map((_, i) => median(t[i]!.get(name)!));
      return { name, medianMs: med, ratio: med.map((m) => m / med[0]!) };
    });
  const rows = table(times);
  const cpuRows = table(cpuTimes);
  const summarize = (rs: typeof rows, i: number) => ({
    geomeanRatio: geomean(rs.map((r) => r.ratio[i]!)),
    sumRatio: rs.reduce((a, r) => a + r.medianMs[i]!, 0) / rs.reduce((a, r) => a + r.medianMs[0]!, 0),
  });
  const summary = systems.map((s, i) => ({
    label: s.label,
    wasm: s.wasm && path.relative(ROOT, s.wasm),
    v8Flags: s.v8Flags,
    wall: summarize(rows, i),
    cpu: summarize(cpuRows, i),
  }));
  const pad = (s: string, n: number) => s.padEnd(n);
  for (const [what, rs] of [["wall time", rows], ["CPU time", cpuRows]] as const) {
    console.log(`\n${pad(what, 14)} | ${systems.map((s) => pad(s.label, 18)).join(" | ")}`);
    for (const r of rs) console.log(`${pad(r.name, 14)} | ${systems.map((_, i) => pad(`${r.medianMs[i]!.toFixed(1)} ms ${i ? `(${r.ratio[i]!.toFixed(2)}x)` : ""}`, 18)).join(" | ")}`);
    const k = what === "wall time" ? "wall" : "cpu";
    console.log(`${pad("geomean", 14)} | ${summary.map((s) => pad(`${s[k].geomeanRatio.toFixed(2)}x`, 18)).join(" | ")}`);
    console.log(`${pad("sum of medians", 14)} | ${summary.map((s) => pad(`${s[k].sumRatio.toFixed(2)}x`, 18)).join(" | ")}`);
  }
  const tag = opt("--tag");
  mkdirSync(path.join(HERE, "results"), { recursive: true });
  const file = path.join(HERE, "results", `${new Date().toISOString().slice(0, 10)}-pure${tag ? `-${tag}` : ""}.json`);
  const raw = systems.map((s, i) => ({ label: s.label, wallMs: Object.fromEntries(times[i]!), cpuMs: Object.fromEntries(cpuTimes[i]!) }));
  writeFileSync(file, `${JSON.stringify({ when: new Date().toISOString(), loadAverage: load, endLoadAverage: loadavg()[0], rounds, systems: summary, rows, cpuRows, raw }, null, 2)}\n`);
  console.error(`wrote ${path.relative(ROOT, file)}`);
}

await main();
