// bench/build-cost: what a build of the WASI interpreter costs an interpreter that does not use
// what the build adds (issue 21: the sci build, numpy and Pillow linked in, never imported).
//   node --import tsx bench/build-cost.ts LABEL=DIR [LABEL=DIR ...] [--rounds 2]
// DIR holds python.wasm and stdlib.zip (wasm/ itself, or another build's OUTDIR); DIR "sci" is
// the committed sci build (wasm/python-sci.wasm, chosen with the manager's `wasiBuild: "sci"`),
// e.g. `default=wasm sci=sci`.
// For each build, in rounds alternating between builds, a fresh Node process with a fresh
// snapshot cache: boot once and take the snapshot, then pools of 1 and 5 interpreters restored
// from it. Recorded: the module's size and its code and data sections, the snapshot's size
// (raw and gzip), restore time per interpreter (median), linear memory per instance after
// restore, and PSS per additional interpreter ((n=5 - n=1) / 4). Results:
// bench/results/<date>-build-cost.json and a table on stdout.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { median, processTree, pss } from "./lib/common.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);

interface Sample {
  label: string;
  snapshotBytes: number;
  snapshotGzip: number;
  restoreMs: number;
  memoryBytes: number;
  pssPerInterpreter: number;
}

/** The sizes of a wasm module's code and data sections. */
function sections(bytes: Uint8Array): { code: number; data: number } {
  let at = 8;
  const out = { code: 0, data: 0 };
  const leb = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const size = leb();
    if (id === 10) out.code = size;
    if (id === 11) out.data = size;
    at += size;
  }
  return out;
}

async function child(dir: string, snapDir: string, n: number): Promise<unknown> {
  const sci = dir === "sci";
  if (!sci) {
    process.env.WASMDEPLOY_PYTHON_WASM = path.join(dir, "python.wasm");
    process.env.WASMDEPLOY_STDLIB_ZIP = path.join(dir, "stdlib.zip");
  }
  const { InterpreterManager } = (await import(path.join(ROOT, "dist", "index.js"))) as typeof import("../dist/index.js");
  const m = await InterpreterManager.create({ interpreters: n, interpreter: "wasi", snapshotDir: snapDir, onOutput: () => {}, ...(sci ? { wasiBuild: "sci" } : {}) } as never);
  try {
    const st = m.stats();
    global.gc?.();
    await sleep(300);
    return {
      bootMs: st.interpreters.map((i) => i.bootMs ?? -1),
      memoryBytes: st.interpreters.map((i) => i.heapBytes ?? -1),
      pss: processTree(process.pid).reduce((a, pid) => a + (pss(pid) ?? 0), 0),
    };
  } finally {
    await m.close();
  }
}

function run(dir: string, snapDir: string, n: number): { bootMs: number[]; memoryBytes: number[]; pss: number } {
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "child", dir, snapDir, String(n)], { encoding: "utf8", timeout: 300_000 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`child failed: ${r.stderr.slice(-800)}`);
  return JSON.parse(line.slice(7));
}


async function main() {
  const args = process.argv.slice(2);
  if (args[0] === "child") {
    process.stdout.write(`RESULT ${JSON.stringify(await child(args[1]!, args[2]!, Number(args[3])))}\n`);
    process.exit(0);
  }
  const at = args.indexOf("--rounds");
  const rounds = at >= 0 ? Number(args[at + 1]) : 2;
  const builds = args.filter((a, i) => a.includes("=") && args[i - 1] !== "--rounds").map((a) => {
    const dir = a.slice(a.indexOf("=") + 1);
    return { label: a.slice(0, a.indexOf("=")), dir: dir === "sci" ? "sci" : path.resolve(dir) };
  });
  if (!builds.length) throw new Error("usage: bench/build-cost.ts LABEL=DIR [LABEL=DIR ...] [--rounds N]");
  const load = loadavg()[0]!;
  const samples: Sample[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const b of builds) {
      const snapDir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-build-cost-"));
      try {
        run(b.dir, snapDir, 1); // boots cold and writes the snapshot
        const snap = readdirSync(snapDir).map((f) => path.join(snapDir, f)).find((f) => statSync(f).isFile() && !f.endsWith(".tmp"))!;
        const one = run(b.dir, snapDir, 1);
        const five = run(b.dir, snapDir, 5);
        const bytes = readFileSync(snap);
        samples.push({
          label: b.label,
          snapshotBytes: bytes.length,
          snapshotGzip: gzipSync(bytes).length,
          restoreMs: median(five.bootMs),
          memoryBytes: median(five.memoryBytes),
          pssPerInterpreter: (five.pss - one.pss) / 4,
        });
        console.error(`round ${r + 1} ${b.label}: ${JSON.stringify(samples.at(-1))}`);
      } finally {
        rmSync(snapDir, { recursive: true, force: true });
      }
    }
  }
  const mb = (x: number) => (x / 2 ** 20).toFixed(2);
  const rows = builds.map((b) => {
    const s = samples.filter((x) => x.label === b.label);
    const wasm = new Uint8Array(readFileSync(b.dir === "sci" ? path.join(ROOT, "wasm", "python-sci.wasm") : path.join(b.dir, "python.wasm")));
    return {
      label: b.label,
      dir: b.dir === "sci" ? "sci (wasm/python-sci.wasm)" : path.relative(ROOT, b.dir) || ".",
      wasmBytes: wasm.length,
      ...sections(wasm),
      snapshotBytes: median(s.map((x) => x.snapshotBytes)),
      snapshotGzip: median(s.map((x) => x.snapshotGzip)),
      restoreMs: s.map((x) => Math.round(x.restoreMs)),
      memoryBytes: median(s.map((x) => x.memoryBytes)),
      pssPerInterpreter: s.map((x) => x.pssPerInterpreter),
    };
  });
  console.log("build | python.wasm MB (code / data) | snapshot MB (gzip) | restore ms | linear memory MB | PSS per extra interpreter MB");
  for (const r of rows) {
    console.log(`${r.label} | ${mb(r.wasmBytes)} (${mb(r.code)} / ${mb(r.data)}) | ${mb(r.snapshotBytes)} (${mb(r.snapshotGzip)}) | ${r.restoreMs.join(", ")} | ${mb(r.memoryBytes)} | ${r.pssPerInterpreter.map(mb).join(", ")}`);
  }
  mkdirSync(path.join(HERE, "results"), { recursive: true });
  const file = path.join(HERE, "results", `${new Date().toISOString().slice(0, 10)}-build-cost.json`);
  writeFileSync(file, `${JSON.stringify({ when: new Date().toISOString(), loadAverage: load, rounds, rows, samples }, null, 2)}\n`);
  console.error(`wrote ${path.relative(ROOT, file)}`);
}

await main();
