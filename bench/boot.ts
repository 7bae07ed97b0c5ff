// bench/boot: interpreter start-up and memory per interpreter, now part of the benchmark suite
// (bench/experiments/coldstart.ts and memory.ts). Run: npm run bench:boot
// It runs `bench/run.ts --quick --only coldstart,memory`: results go to bench/results/ and
// docs/benchmarks.md's cold start and memory sections are regenerated; the other sections keep
// the newest full results.

import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const run = path.join(path.dirname(fileURLToPath(import.meta.url)), "run.ts");
const extra = process.argv.slice(2);
const r = spawnSync(process.execPath, ["--import", "tsx", run, "--quick", "--only", "coldstart,memory", ...extra], { stdio: "inherit" });
process.exit(r.status ?? 1);
