// bench/wasi: WASI interpreters (python.wasm, and the same CPython as a component) against
// Pyodide (trusted and sandboxed), all in one run.
//   npm run bench:wasi [-- --pyodide-dist PATH] [--systems wasi,component,...]
// For each system a fresh process per interpreter count n (1 and 5) boots n interpreters from
// the (warm) snapshot cache, has every interpreter unpickle resnet_basic.pt and run it once,
// then records the time until all were ready and the PSS of the whole process tree. The cost
// of one more interpreter is the difference between n=5 and n=1, divided by 4. With n=1 it also
// times a pure-Python function (5 runs: V8 tiers wasm up during the first ones) and the round
// trip of a trivial call (median of 500).
// --pyodide-dist: the wasmdeploy build used for the Pyodide systems (default: this checkout).
// Results: bench/results/<date>-wasi.json and a table on stdout.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { processTree, pss, SNAPSHOT_DIR } from "./lib/common.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const MODELS = path.join(ROOT, "packages", "models");

type System = "wasi" | "component" | "pyodide-trusted" | "pyodide-sandboxed";
const ALL_SYSTEMS: System[] = ["wasi", "component", "pyodide-trusted", "pyodide-sandboxed"];

interface Point {
  system: System;
  n: number;
  ok: boolean;
  error?: string;
  allReadyMs?: number;
  bootMs?: number[];
  pssBytes?: number;
  pythonRunsMs?: number[];
  callMedianUs?: number;
}

const PURE = `
def work(n):
    d = {}
    s = 0
    for i in range(n):
        d[i % 1000] = d.get(i % 1000, 0) + i
        s += len(str(i)) + (i * 7) % 13
    return s

def nothing():
    return 1
`;

async function child(system: System, n: number, dist: string): Promise<Point> {
  const { InterpreterManager, Tensor } = (await import(dist)) as typeof import("../dist/index.js");
  const p: Point = { system, n, ok: false };
  const m = await InterpreterManager.create({
    interpreters: n,
    interpreter: system === "wasi" || system === "component" ? system : "pyodide",
    isolation: system === "pyodide-sandboxed" ? "sandboxed" : "trusted",
    snapshotDir: SNAPSHOT_DIR,
    onOutput: () => {},
  } as never);
  try {
    const st = m.stats();
    p.allReadyMs = st.boot.allReadyMs;
    p.bootMs = st.interpreters.map((i) => i.bootMs ?? -1);
    const model = (await m.loadPackage(path.join(MODELS, "resnet_basic.pt"))).loadPickle("model", "model.pkl");
    const x = Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, "resnet_basic.input.npy"))));
    for (const inst of m.allInstances()) {
      const s = inst.acquireSession();
      try {
        await (await s.fromMovable(model)).call(x);
      } finally {
        await s.release();
      }
    }
    global.gc?.();
    await sleep(500);
    global.gc?.();
    p.pssBytes = processTree(process.pid).reduce((acc, pid) => acc + (pss(pid) ?? 0), 0);
    if (n === 1) {
      await m.registerModuleSource("purebench", PURE);
      const s = await m.acquireOne();
      try {
        const work = await s.global("purebench", "work");
        p.pythonRunsMs = [];
        for (let i = 0; i < 5; i++) {
          const t = performance.now();
          await work.call(300_000);
          p.pythonRunsMs.push(performance.now() - t);
        }
        const nothing = await s.global("purebench", "nothing");
        for (let i = 0; i < 50; i++) await nothing.call();
        const times: number[] = [];
        for (let i = 0; i < 500; i++) {
          const t = performance.now();
          await nothing.call();
          times.push((performance.now() - t) * 1000);
        }
        times.sort((a, b) => a - b);
        p.callMedianUs = times[250];
      } finally {
        await s.release();
      }
    }
    p.ok = true;
  } catch (e) {
    p.error = e instanceof Error ? e.message : String(e);
  } finally {
    await m.close();
  }
  return p;
}

function runChild(system: System, n: number, dist: string): Point {
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "child", system, String(n), dist], {
    encoding: "utf8",
    timeout: 600_000,
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) return { system, n, ok: false, error: `child failed: ${r.stderr.slice(-500)}` };
  return JSON.parse(line.slice(7)) as Point;
}

const mb = (b?: number) => (b === undefined ? "?" : (b / 2 ** 20).toFixed(1));

async function main() {
  // Recorded with the results: a busy machine makes every row here noisy.
  const startLoad = loadavg()[0];
  const args = process.argv.slice(2);
  if (args[0] === "child") {
    const p = await child(args[1] as System, Number(args[2]), args[3]!);
    process.stdout.write(`RESULT ${JSON.stringify(p)}\n`);
    process.exit(0);
  }
  const at = args.indexOf("--pyodide-dist");
  const own = path.join(ROOT, "dist", "index.js");
  const pyodideDist = at >= 0 ? path.resolve(args[at + 1]!) : own;
  const distFor = (s: System) => (s === "wasi" || s === "component" ? own : pyodideDist);
  const sys = args.indexOf("--systems");
  const SYSTEMS = sys >= 0 ? (args[sys + 1]!.split(",") as System[]) : ALL_SYSTEMS;
  for (const s of SYSTEMS) if (!ALL_SYSTEMS.includes(s)) throw new Error(`--systems: unknown system ${s} (one of ${ALL_SYSTEMS.join(", ")})`);
  const points: Point[] = [];
  for (const system of SYSTEMS) {
    runChild(system, 1, distFor(system)); // warm the snapshot cache and the page cache
    for (const n of [1, 5]) {
      const p = runChild(system, n, distFor(system));
      points.push(p);
      console.error(`${system} n=${n}: ${p.ok ? `ready ${p.allReadyMs?.toFixed(0)} ms, PSS ${mb(p.pssBytes)} MB` : p.error}`);
    }
  }
  const rows = SYSTEMS.map((s) => {
    const one = points.find((p) => p.system === s && p.n === 1);
    const five = points.find((p) => p.system === s && p.n === 5);
    return {
      system: s,
      extraReadyMs: one?.ok && five?.ok ? (five.allReadyMs! - one.allReadyMs!) / 4 : undefined,
      extraPssMb: one?.ok && five?.ok ? (five.pssBytes! - one.pssBytes!) / 4 / 2 ** 20 : undefined,
      bootMs: five?.bootMs,
      pythonRunsMs: one?.pythonRunsMs,
      callMedianUs: one?.callMedianUs,
    };
  });
  // Pure Python against Pyodide trusted when it ran, else against python.wasm.
  const base = rows.find((r) => r.system === "pyodide-trusted") ?? rows.find((r) => r.system === "wasi");
  console.log(`system             | +1 interpreter: ready ms | +1: PSS MB | pure Python run 1 / run 5 (ms) | ratio run 5 vs ${base?.system} | trivial call µs`);
  for (const r of rows) {
    const ratio = r.pythonRunsMs && base?.pythonRunsMs ? (r.pythonRunsMs[4]! / base.pythonRunsMs[4]!).toFixed(2) : "?";
    console.log(
      `${r.system.padEnd(18)} | ${r.extraReadyMs?.toFixed(0) ?? "?"} | ${r.extraPssMb?.toFixed(1) ?? "?"} | ` +
        `${r.pythonRunsMs?.[0]?.toFixed(0) ?? "?"} / ${r.pythonRunsMs?.[4]?.toFixed(0) ?? "?"} | ${ratio} | ${r.callMedianUs?.toFixed(0) ?? "?"}`,
    );
  }
  mkdirSync(path.join(HERE, "results"), { recursive: true });
  const tag = sys >= 0 ? `-${SYSTEMS.join("-")}` : "";
  const file = path.join(HERE, "results", `${new Date().toISOString().slice(0, 10)}-wasi${tag}.json`);
  writeFileSync(file, `${JSON.stringify({ when: new Date().toISOString(), loadAverage: startLoad, pyodideDist, points, rows }, null, 2)}\n`);
  console.error(`wrote ${path.relative(ROOT, file)}`);
}

await main();
