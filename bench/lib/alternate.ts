// The driver that experiments comparing this checkout with a baseline share: each run is a fresh
// child process (so nothing one leaves behind reaches the next), ours and the baseline's dist/
// alternate round by round, and the result file holds every run and a per-side summary.
//
//   node [NODE_ARGS] --import tsx bench/experiments/NAME.ts --baseline DIR [--rounds 3] [--tag T]

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { log, REPO, RESULTS_DIR } from "./common.js";

export interface AlternateOptions<R> {
  /** The experiment's name: results go to bench/results/<date>-<name>[-<tag>].json. */
  name: string;
  /** The experiment's import.meta.url; each child runs this script with --child ROOT. */
  script: string;
  /** Node flags for the children (e.g. --expose-gc). */
  nodeArgs?: string[];
  /** One measurement, in a fresh process, of the checkout at root (its dist/ built). */
  child: (root: string) => Promise<R>;
  /** What the summary says of one side's runs. */
  summarize: (runs: R[]) => Record<string, unknown>;
  /** The experiment's settings, written with the results. */
  settings?: Record<string, unknown>;
}

export async function alternateWithBaseline<R>(o: AlternateOptions<R>): Promise<void> {
  const { values } = parseArgs({ options: { child: { type: "string" }, baseline: { type: "string" }, rounds: { type: "string", default: "3" }, tag: { type: "string" } } });
  if (values.child) {
    process.stdout.write(JSON.stringify({ root: values.child, ...(await o.child(values.child)) }) + "\n");
    process.exit(0);
  }
  if (!values.baseline) throw new Error("--baseline DIR: a checkout with its dist/ built, to alternate with this one");
  const roots = [path.resolve(values.baseline), REPO];
  const runs: (R & { root: string })[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const root of roots) {
      log(`round ${r + 1}: ${root}`);
      const p = spawnSync(process.execPath, [...(o.nodeArgs ?? []), "--import", "tsx", fileURLToPath(o.script), "--child", root], { encoding: "utf8", cwd: REPO, timeout: 120_000 });
      const line = p.stdout.trim().split("\n").at(-1);
      if (p.status !== 0 || !line) throw new Error(`child for ${root} failed: ${p.stderr.slice(-1000)}`);
      runs.push(JSON.parse(line) as R & { root: string });
    }
  }
  const summary = Object.fromEntries(
    roots.map((root) => {
      const mine = runs.filter((x) => x.root === root);
      return [root === REPO ? "ours" : "baseline", { ...o.summarize(mine), runs: mine.length }];
    }),
  );
  log(JSON.stringify(summary));
  const date = new Date().toISOString();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${date.slice(0, 10)}-${o.name}${values.tag ? `-${values.tag}` : ""}.json`);
  writeFileSync(file, JSON.stringify({ date, machine: { load: loadavg() }, ...o.settings, baseline: roots[0], summary, runs }, null, 2) + "\n");
  log(`wrote ${path.relative(REPO, file)}`);
}
