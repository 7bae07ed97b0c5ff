// bench/boot: how fast interpreters become ready and what each one costs in memory.
// Printed, not asserted. Run: npm run bench:boot  (after npm run build)
//
// Each configuration runs in a fresh child process so resident memory is not polluted
// by earlier runs; the child reports JSON on stdout.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface ChildResult {
  interpreters: number;
  snapshot: string;
  firstReadyMs: number;
  allReadyMs: number;
  bootMs: number[];
  rssBeforeMb: number;
  rssAfterMb: number;
}

const self = fileURLToPath(import.meta.url);

async function child(n: number, snapshotDir: string, isolation: "trusted" | "sandboxed"): Promise<void> {
  const { InterpreterManager } = await import("wasmdeploy");
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const m = await InterpreterManager.create({ interpreters: n, snapshotDir, isolation });
  // Touch every interpreter once so each is really running Python.
  await Promise.all(
    m.allInstances().map(async (inst) => {
      const s = inst.acquireSession();
      await (await s.global("builtins", "len")).call([1, 2, 3]);
      await s.release();
    }),
  );
  global.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const st = m.stats();
  const out: ChildResult = {
    interpreters: n,
    snapshot: st.boot.snapshot,
    firstReadyMs: st.boot.firstReadyMs,
    allReadyMs: st.boot.allReadyMs,
    bootMs: st.interpreters.map((i) => i.bootMs ?? NaN),
    rssBeforeMb: rssBefore / 2 ** 20,
    // Sandboxed interpreters are processes of their own: count them too.
    rssAfterMb: (process.memoryUsage().rss + st.interpreters.reduce((a, i) => a + (i.residentBytes ?? 0), 0)) / 2 ** 20,
  };
  await m.close();
  process.stdout.write(JSON.stringify(out));
}

function run(n: number, snapshotDir: string, isolation: string): ChildResult {
  const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", self, "--child", String(n), snapshotDir, isolation], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out) as ChildResult;
}

const fmt = (x: number) => x.toFixed(0).padStart(6);

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") return child(Number(argv[1]), argv[2]!, argv[3] as "trusted" | "sandboxed");
  const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-bench-boot-"));
  try {
    for (const isolation of ["trusted", "sandboxed"]) report(dir, isolation);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(dir: string, isolation: string) {
  {
    console.log(`\n== bench/boot, isolation ${isolation}: interpreter start-up and memory (targets: +1 interpreter < 100 ms from snapshot, < 40 MB)\n`);
    const cold = run(1, dir, isolation); // empty cache: makes the snapshot (a cold Pyodide boot), then restores
    console.log(`first interpreter, no cached snapshot: ready in ${fmt(cold.firstReadyMs)} ms (snapshot made, then restored)`);
    const rows: ChildResult[] = [];
    for (const n of [1, 2, 4, 8]) rows.push(run(n, dir, isolation));
    console.log(`first interpreter, cached snapshot:    ready in ${fmt(rows[0]!.firstReadyMs)} ms\n`);
    console.log("interpreters  all ready ms  per-interp boot ms (each)       RSS MB   RSS/interp MB");
    for (const r of rows) {
      console.log(
        `${String(r.interpreters).padStart(12)}  ${fmt(r.allReadyMs)}        ${r.bootMs.map((b) => b.toFixed(0)).join(",").padEnd(30)} ${fmt(r.rssAfterMb)}   ${fmt((r.rssAfterMb - r.rssBeforeMb) / r.interpreters)}`,
      );
    }
    const r1 = rows[0]!;
    const r8 = rows[3]!;
    const perExtraMb = (r8.rssAfterMb - r1.rssAfterMb) / 7;
    const perExtraMs = (r8.allReadyMs - r1.allReadyMs) / 7;
    console.log(`\nadditional interpreter: ${perExtraMb.toFixed(1)} MB resident (target < 40), ${perExtraMs.toFixed(0)} ms wall on this machine's cores (target < 100)`);
    console.log(`single restore alone: ${r1.bootMs[0]!.toFixed(0)} ms (worker start + snapshot restore + runtime import)`);
  }
}

await main();
