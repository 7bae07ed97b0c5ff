// The PGO training run (wasm/pgo/make-profile.sh): the instrumented python.wasm
// (WASMDEPLOY_PYTHON_WASM) runs bench/pure/suite.py's workloads through the serving path
// (InterpreterManager, as bench/pure.ts does), then its counters come out through the
// instrumented build's built-in module _wdprofile (wasm/pgo/profile-dump.c) as a .profraw file.
//   node --import tsx wasm/pgo/train.ts OUT.profraw [WORKLOAD,...]
// (a subset of the workloads: for the hold-out check in docs/benchmarks.md; default all)
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ROUNDS = 2;
const out = process.argv[2];
if (!out || !process.env.WASMDEPLOY_PYTHON_WASM) throw new Error("usage: WASMDEPLOY_PYTHON_WASM=instrumented.wasm train.ts OUT.profraw");

const { InterpreterManager } = (await import(path.join(ROOT, "dist", "index.js"))) as typeof import("../../dist/index.js");
const m = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", snapshotDir: false, callTimeoutMs: 3_600_000, onOutput: () => {} } as never);
await m.registerModuleSource("purebench", readFileSync(path.join(ROOT, "bench", "pure", "suite.py"), "utf8"));
await m.registerModuleSource("wdpgo", "import _wdprofile\n\ndef dump():\n    return _wdprofile.dump().hex()\n");
const s = await m.acquireOne();
const all = (await (await s.global("purebench", "names")).call()) as string[];
const names = process.argv[3] ? process.argv[3].split(",") : all;
for (const n of names) if (!all.includes(n)) throw new Error(`no workload ${n}`);
const run = await s.global("purebench", "run");
for (let r = 0; r < ROUNDS; r++) {
  for (const name of names) {
    const [ms] = (await run.call(name)) as [number];
    process.stderr.write(`train: round ${r + 1}/${ROUNDS} ${name} ${ms.toFixed(0)} ms\n`);
  }
}
const hex = (await (await s.global("wdpgo", "dump")).call()) as string;
writeFileSync(out, Buffer.from(hex, "hex"));
process.stderr.write(`train: wrote ${out} (${hex.length / 2} bytes)\n`);
await s.release();
await m.close();
