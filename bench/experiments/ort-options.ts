// ONNX Runtime session options against the memory a session of resnet18 holds (issue 20): each
// variant in a fresh child process, PSS added by one session after a run (less the process
// with onnxruntime-node imported), and the median of 20 runs at batch 1, 1 thread.
//
//   node --expose-gc --import tsx bench/experiments/ort-options.ts [--model resnet18]

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { findModel, log, type Manifest, MODELS_DIR, pss, repoPath, REPO, round } from "../lib/common.js";

const MB = 2 ** 20;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 300));
  }
};

// What the engine uses, then one change at a time.
const { engineSessionOptions } = await import("../../dist/platform/node/ort-node.js");
const ENGINE: Record<string, unknown> = { ...engineSessionOptions(1, false) };
const VARIANTS: Record<string, Record<string, unknown>> = {
  "ort defaults": { logSeverityLevel: 4 },
  engine: ENGINE,
  "engine + session.disable_prepacking": { ...ENGINE, extra: { session: { disable_prepacking: "1" } } },
  "engine + optimization extended (no NCHWc layout)": { ...ENGINE, graphOptimizationLevel: "extended" },
  "engine + optimization basic": { ...ENGINE, graphOptimizationLevel: "basic" },
  "engine + extended + disable_prepacking": { ...ENGINE, graphOptimizationLevel: "extended", extra: { session: { disable_prepacking: "1" } } },
  "engine + use_ort_model_bytes_for_initializers": { ...ENGINE, extra: { session: { use_ort_model_bytes_directly: "1", use_ort_model_bytes_for_initializers: "1" } } },
  "engine + memory pattern off": { ...ENGINE, enableMemPattern: false },
};

async function child(model: string, variant: string) {
  const manifest = JSON.parse(readFileSync(path.join(MODELS_DIR, "bench.json"), "utf8")) as Manifest;
  const e = findModel(manifest, model, 1)!;
  const ort = await import("onnxruntime-node");
  const { Tensor } = await import("../../dist/index.js");
  const bytes = new Uint8Array(readFileSync(repoPath(e.onnx!)));
  const inputs = e.inputs.map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(repoPath(f.file)))));
  await settle();
  const base = pss(process.pid)!;
  const t0 = performance.now();
  const s = await ort.InferenceSession.create(bytes, VARIANTS[variant] as never);
  const createMs = performance.now() - t0;
  const feeds = Object.fromEntries(inputs.map((t, i) => [s.inputNames[i]!, new ort.Tensor(t.dtype as "float32", t.data as Float32Array, t.shape as number[])]));
  await s.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await s.run(feeds);
    times.push(performance.now() - t);
  }
  await settle();
  const added = pss(process.pid)! - base;
  times.sort((a, b) => a - b);
  return { variant, addedMb: round(added / MB, 1), createMs: round(createMs, 1), runMedianMs: round(times[10]!, 2) };
}

const { values } = parseArgs({ options: { child: { type: "string" }, model: { type: "string", default: "resnet18" } }, strict: false });
if (values.child) {
  const [model, variant] = String(values.child).split("|");
  process.stdout.write(JSON.stringify(await child(model!, variant!)) + "\n");
  process.exit(0);
}
for (const variant of Object.keys(VARIANTS)) {
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", path.join(REPO, "bench", "experiments", "ort-options.ts"), "--child", `${String(values.model)}|${variant}`], { encoding: "utf8", cwd: REPO });
  const line = r.stdout.trim().split("\n").at(-1);
  log(r.status === 0 && line ? line : `${variant}: failed ${r.stderr.slice(-400)}`);
}
