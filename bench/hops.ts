// Where a call's time goes, hop by hop (docs/architecture.md, "Call overhead").
//
//   npx tsx bench/hops.ts [--calls N] [--isolation trusted|sandboxed] [--interpreter wasi|pyodide] [--models tinygpt,resnet18]
//
// Needs the bench model cache (npm run bench makes it; or /usr/bin/python3
// bench/make_bench_models.py --out bench/.cache/models). One interpreter, ort-node, one caller.
// Each model is measured three ways in the same process: replay "off" (every call records its
// graph, the path every call took before record/replay), "exact" with host replay off (Python
// replays the recorded graph), and "host" (the default: the host answers repeat calls alone,
// src/pool/host-replay.ts; Python is not entered, so its hops are zero).
// Python times its own hops (wasmdeploy_runtime.host.hops_start/hops_take); the host times
// the whole call and Engine.run. Printed as JSON and as a markdown table (ms per call).

import { readFileSync } from "node:fs";
import type { InterpreterManager as IM, Tensor as TensorT } from "wasmdeploy";
import { arg, type Manifest, MODELS_DIR, SNAPSHOT_DIR, findModel, repoPath } from "./lib/common.js";

interface Hops {
  [k: string]: number;
}

export interface HopRow {
  model: string;
  mode: "off" | "exact" | "host";
  interpreter?: "wasi" | "pyodide";
  calls: number;
  /** ms per call */
  total: number;
  engine: number;
  python: Hops;
}

export async function measureHops(opts: {
  models: string[];
  calls: number;
  isolation: "trusted" | "sandboxed";
  interpreter?: "wasi" | "pyodide";
  engineWorkers?: number;
}): Promise<HopRow[]> {
  const { InterpreterManager, Tensor } = await import("wasmdeploy");
  const { engine: engineOf } = await import("wasmdeploy/testing");
  const manifest = JSON.parse(readFileSync(`${MODELS_DIR}/bench.json`, "utf8")) as Manifest;
  const rows: HopRow[] = [];
  // Host replay is a manager option: one manager without it (off, exact), one with it (host).
  for (const hostReplay of [false, true]) {
    const manager: IM = await InterpreterManager.create({
      interpreters: 1,
      interpreter: opts.interpreter,
      engine: "ort-node",
      isolation: opts.isolation,
      snapshotDir: SNAPSHOT_DIR,
      engineWorkers: opts.engineWorkers,
      hostReplay,
    });
    const engine = await engineOf(manager);
    const run = engine.run.bind(engine);
    let engineMs = 0;
    engine.run = async (g, f, k, o) => {
      const t = performance.now();
      try {
        return await run(g, f, k, o);
      } finally {
        engineMs += performance.now() - t;
      }
    };
    const session = await manager.acquireOne();
    try {
      const setMode = await session.global("torch._replay", "set_default_mode");
      const start = await session.global("wasmdeploy_runtime.host", "hops_start");
      const take = await session.global("wasmdeploy_runtime.host", "hops_take");
      for (const name of opts.models) {
        const e = findModel(manifest, name, name === "tinygpt" ? 2 : 1);
        if (!e) throw new Error(`no ${name} in the bench model cache`);
        const model = (await manager.loadPackage(repoPath(e.archive))).loadPickle(e.pickle[0], e.pickle[1]);
        const inputs = e.inputs.map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file)))));
        const fresh = () => inputs.map((t: TensorT) => new Tensor(t.dtype, t.data, t.shape));
        for (const mode of hostReplay ? (["host"] as const) : (["off", "exact"] as const)) {
          await setMode.call(mode === "off" ? "off" : "exact");
          // warm: sessions compiled, trace recorded (and, with host replay, the plan handed over)
          for (let i = 0; i < 5; i++) await model.call(...fresh());
          await start.call(); // an operation in the interpreter: the first timed call re-enters Python
          engineMs = 0;
          let total = 0;
          for (let i = 0; i < opts.calls; i++) {
            const a = fresh();
            const t = performance.now();
            await model.call(...a);
            total += performance.now() - t;
          }
          const py = (await take.call()) as Hops;
          const python: Hops = {};
          // With host replay Python ran one of the timed calls at most: its hops are not per call.
          if (mode !== "host") for (const [k, v] of Object.entries(py)) if (k !== "calls") python[k] = (v * 1000) / (py.calls || opts.calls);
          rows.push({ model: name, mode, interpreter: opts.interpreter, calls: opts.calls, total: total / opts.calls, engine: engineMs / opts.calls, python });
        }
      }
    } finally {
      await session.release();
      await manager.close();
    }
  }
  return rows;
}

/** The hops as rows of a table: ms per call. */
export function hopTable(unordered: HopRow[]): string {
  const order = { off: 0, exact: 1, host: 2 };
  const rows = [...unordered].sort(
    (a, b) => (a.interpreter ?? "").localeCompare(b.interpreter ?? "") * -1 || a.model.localeCompare(b.model) * -1 || order[a.mode] - order[b.mode],
  );
  const f = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(3));
  const lines = [
    "| hop | " + rows.map((r) => `${r.model}${r.interpreter ? ` (${r.interpreter === "pyodide" ? "Pyodide" : "WASI"})` : ""} ${r.mode === "off" ? "before (record every call)" : r.mode === "exact" ? "Python replay" : "host replay"}`).join(" | ") + " |",
    "|---|" + rows.map(() => "---:").join("|") + "|",
  ];
  const hop = (label: string, get: (r: HopRow) => number | undefined) => lines.push(`| ${label} | ${rows.map((r) => f(get(r))).join(" | ")} |`);
  const p = (r: HopRow, k: string) => r.python[k] ?? 0;
  const recording = (r: HopRow) => (r.mode === "off" ? p(r, "call") : 0);
  const host = (r: HopRow) => r.mode === "host";
  hop("host → interpreter → host: messages, JS wire coding, queue", (r) => (host(r) ? 0 : r.total - p(r, "python")));
  hop("host replay: JS wire coding, signature, plan, result from template", (r) => (host(r) ? r.total - r.engine : undefined));
  hop("Python: decode arguments (wire)", (r) => p(r, "decode"));
  hop("Python: op-by-op recording of the forward", (r) => (r.mode === "off" ? recording(r) : undefined));
  hop("Python: replay guards (signature, fingerprint)", (r) => (r.mode === "off" ? undefined : p(r, "guard")));
  hop("Python: build spec (graph walk)", (r) => p(r, "build_spec"));
  hop("Python: spec JSON + hash", (r) => p(r, "spec_text"));
  hop("Python: other (materialize / replay bookkeeping)", (r) =>
    p(r, "python") - p(r, "decode") - p(r, "encode") - recording(r) - p(r, "guard") - p(r, "build_spec") - p(r, "spec_text") - p(r, "bridge"));
  hop("bridge round trip (Python ↔ engine host), engine excluded", (r) => (host(r) ? 0 : p(r, "bridge") - r.engine));
  hop("engine run (Engine.run as the host sees it)", (r) => r.engine);
  hop("Python: encode result (wire)", (r) => p(r, "encode"));
  hop("**total per call (host)**", (r) => r.total);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await measureHops({
    models: arg("models", "tinygpt,resnet18").split(","),
    calls: Number(arg("calls", "200")),
    isolation: arg("isolation", "trusted") as "trusted" | "sandboxed",
    interpreter: arg("interpreter", "wasi") as "wasi" | "pyodide",
    engineWorkers: process.argv.includes("--engine-workers") ? Number(arg("engine-workers", "1")) : undefined,
  });
  console.log(JSON.stringify(rows, null, 1));
  console.log(hopTable(rows));
}
