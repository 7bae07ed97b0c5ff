// The per-call floor of a host-replayed call (issue 26): where the microseconds of a ~0.1 ms
// graph go. For each zoo model (bench/make_zoo_models.py), in one process, in rotating rounds:
//
//   ort default   onnxruntime-node, default session options, on the model's ONNX export
//   ort 1 thread  the same export with the engine's session options (1 thread, no arena)
//   engine        our lowered graph, run through the manager's engine exactly as a host-replayed
//                 call runs it (EngineLike.run with the placement the host chose; captured from
//                 a real call): the graph and the engine's own wrappers, no call machinery
//   call          model.call(): the whole host-replayed call
//
// "engine - ort 1 thread" is what our graph (and Engine.run) costs beyond the export's;
// "call - engine" is the call machinery (queue turn, wire encoding, signature, plan lookup,
// admission bookkeeping, result from the template). Wall time of each call: its 10th
// percentile and median over every round (other processes only ever add to a call).
//
//   npm run bench:floor -- [--models lstm_tagger,tinygpt] [--rounds 40] [--calls 200]

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { arg, CACHE_DIR, PYTHON, SNAPSHOT_DIR, log, repoPath, round, writeResult } from "./lib/common.js";

const ZOO_DIR = path.join(CACHE_DIR, "zoo");

interface Layer {
  wallP10Us: number;
  wallP50Us: number;
}

async function measure(model: string, rounds: number, calls: number): Promise<Record<string, Layer> & { placement?: unknown }> {
  const { InterpreterManager, Tensor } = await import("wasmdeploy");
  const { engine: engineOf } = await import("wasmdeploy/testing");
  const ort = await import("onnxruntime-node");
  const { engineSessionOptions } = await import("../dist/platform/node/ort-node.js");
  const file = (s: string) => path.join(ZOO_DIR, model + s);
  const input = Tensor.fromNpy(new Uint8Array(readFileSync(file(".input.npy"))));
  const onnx = new Uint8Array(readFileSync(file(".onnx")));
  const manager = await InterpreterManager.create({ isolation: "trusted", snapshotDir: SNAPSHOT_DIR });
  try {
    const obj = (await manager.loadPackage(file(".pt"))).loadPickle("model", "model.pkl");
    const dflt = await ort.InferenceSession.create(onnx);
    const one = await ort.InferenceSession.create(onnx, engineSessionOptions(1, false));
    const engine = await engineOf(manager);
    const run = engine.run.bind(engine);
    let captured: Parameters<typeof run> | undefined;
    engine.run = (...a) => {
      captured = a;
      return run(...a);
    };
    const feeds = () => ({ input: new ort.Tensor(input.dtype as "float32", input.data as Float32Array, input.shape as number[]) });
    const call = () => obj.call(new Tensor(input.dtype, input.data, input.shape));
    // Recording, host replay's plan, the placement's samples: all settled before timing.
    for (let i = 0; i < 100; i++) {
      await call();
      await dflt.run(feeds());
      await one.run(feeds());
    }
    engine.run = run;
    const c = captured!;
    const fns: Record<string, () => Promise<unknown>> = {
      "ort default": () => dflt.run(feeds()),
      "ort 1 thread": () => one.run(feeds()),
      engine: () => run(c[0], c[1], c[2], c[3]),
      call,
    };
    const wall: Record<string, number[]> = {};
    const names = Object.keys(fns);
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < names.length; j++) {
        const k = names[(r + j) % names.length]!; // rotating order: no layer always follows another
        const f = fns[k]!;
        const w = (wall[k] ??= []);
        for (let i = 0; i < calls; i++) {
          const t = performance.now();
          await f();
          w.push((performance.now() - t) * 1000);
        }
      }
    }
    await dflt.release();
    await one.release();
    const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;
    const out: Record<string, Layer> & { placement?: unknown } = {};
    for (const k of names) out[k] = { wallP10Us: round(q(wall[k]!, 0.1), 1), wallP50Us: round(q(wall[k]!, 0.5), 1) };
    out.placement = c[3] ?? "engine thread";
    return out;
  } finally {
    await manager.close();
  }
}

const models = arg("models", "lstm_tagger,tinygpt").split(",");
const rounds = Number(arg("rounds", "20"));
const calls = Number(arg("calls", "200"));
execFileSync(PYTHON, [repoPath("bench/make_zoo_models.py"), "--out", ZOO_DIR], { stdio: ["ignore", "ignore", "inherit"] });
const startLoad = round(loadavg()[0]!, 2);
const result: Record<string, unknown> = { date: new Date().toISOString(), loadAverage: startLoad, rounds, calls, models: {} };
for (const m of models) {
  log(`floor: ${m}`);
  const r = await measure(m, rounds, calls);
  (result.models as Record<string, unknown>)[m] = r;
  const w = (k: string, p: "wallP10Us" | "wallP50Us") => (r[k] as Layer)[p];
  const d = (a: string, b: string) => `${round(w(a, "wallP10Us") - w(b, "wallP10Us"), 1)} / ${round(w(a, "wallP50Us") - w(b, "wallP50Us"), 1)}`;
  console.log(`| ${m} | layer | wall µs (p10 / median) |\n|---|---|---:|`);
  for (const k of ["ort default", "ort 1 thread", "engine", "call"]) {
    const l = r[k] as Layer;
    console.log(`| | ${k} | ${l.wallP10Us} / ${l.wallP50Us} |`);
  }
  console.log(`| | engine - ort 1 thread | ${d("engine", "ort 1 thread")} |`);
  console.log(`| | call - engine (the call machinery) | ${d("call", "engine")} |`);
  console.log(`| | call - ort default | ${d("call", "ort default")} |\n`);
}
writeResult("floor", result as { date: string });
process.exit(0);
