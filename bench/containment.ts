// What engine containment costs and what it holds (`npm run bench:containment`), each figure
// against a baseline from the same run:
//   admission   time to admit a 4,096-node graph (the torch layer's largest) and a convnet's
//   arena       onnxruntime-node with its CPU arena (the old setting) vs without (now), alternating
//               on the same ONNX exports; and what a run with a 530 MB intermediate leaves behind
//   cells       `wasmdeploy serve --cells per-model` vs `--cells off`: latency per request
//               (alternating), and PSS per additional model
//   hostile     a neighbour's latency while engine_attack.pt attacks from the same manager, vs
//               without; the host's worst event-loop stall and its memory growth
// Writes bench/results/<date>-containment.json. Uses committed archives only, plus the bench
// model cache's ONNX exports when it exists (bench/make_bench_models.py).

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { admitGraph } from "../src/engine/admission/admit.js";
import type { GraphNode } from "../src/engine/graph.js";
import { InterpreterManager, Tensor } from "../dist/index.js";
import { log, MODELS_DIR, processTree, pss, REPO, RESULTS_DIR, round, summarize, type Summary } from "./lib/common.js";

const PACKAGES = path.join(REPO, "packages", "models");
const HOSTILE = path.join(REPO, "packages", "archives", "hostile");
const npy = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(f)));
const MB = 2 ** 20;
const ms = (xs: number[]) => summarize(xs);

// ----- admission -----
function admissionCost() {
  const chain: GraphNode[] = [];
  for (let i = 0; i < 4096; i++) chain.push({ op: i % 2 ? "Relu" : "Sigmoid", inputs: [i ? `v${i - 1}` : "x"], outputs: [`v${i}`] });
  const big = { inputs: [{ name: "x", dtype: "float32" as const, shape: [64, 256] }], weights: [], nodes: chain, outputs: [{ name: "v4095", dtype: "float32" as const, shape: [64, 256] }] };
  const conv: GraphNode[] = [];
  const weights = [];
  let c = 3;
  let size = 224;
  for (let i = 0; i < 20; i++) {
    const k = i % 3 === 0 ? 3 : 1;
    weights.push({ name: `w${i}`, storage: `p/w${i}`, dtype: "float32" as const, shape: [64, c, k, k] });
    conv.push({ op: "Conv", inputs: [i ? `r${i - 1}` : "x", `w${i}`], outputs: [`c${i}`], attrs: { kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], strides: [1, 1] } });
    conv.push({ op: "Relu", inputs: [`c${i}`], outputs: [`r${i}`] });
    c = 64;
  }
  const net = { inputs: [{ name: "x", dtype: "float32" as const, shape: [1, 3, size, size] }], weights, nodes: conv, outputs: [{ name: "r19", dtype: "float32" as const, shape: [1, 64, size, size] }] };
  const time = (g: unknown) => {
    const t: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      admitGraph(g);
      t.push(performance.now() - t0);
    }
    return ms(t.slice(5));
  };
  return { chain4096Ms: time(big), convnet40NodesMs: time(net), specChars: { chain4096: JSON.stringify(big).length, convnet: JSON.stringify(net).length } };
}

// ----- ORT arena -----
async function arena() {
  const ort = await import("onnxruntime-node");
  const out: Record<string, unknown> = {};
  const models = [
    ["resnet18 b1", path.join(MODELS_DIR, "resnet18.onnx"), path.join(MODELS_DIR, "resnet18.input.npy")],
    ["tiny GPT", path.join(MODELS_DIR, "tinygpt.b2.onnx"), path.join(MODELS_DIR, "tinygpt.b2.input.npy")],
  ] as const;
  for (const [name, onnx, input] of models) {
    if (!existsSync(onnx) || !existsSync(input)) {
      out[name] = { skipped: `no ${path.relative(REPO, onnx)} (run bench/make_bench_models.py)` };
      continue;
    }
    const x = npy(input);
    const make = (enableCpuMemArena: boolean) => ort.InferenceSession.create(readFileSync(onnx), { intraOpNumThreads: 1, interOpNumThreads: 1, enableCpuMemArena, logSeverityLevel: 4 });
    const on = await make(true);
    const off = await make(false);
    const feed = (s: Awaited<ReturnType<typeof make>>) => ({ [s.inputNames[0]!]: new ort.Tensor(x.dtype as "float32", x.data as Float32Array, x.shape) });
    const times = { on: [] as number[], off: [] as number[] };
    for (let block = 0; block < 10; block++) {
      for (const [k, s] of [["on", on], ["off", off]] as const) {
        for (let i = 0; i < (block === 0 ? 3 : 10); i++) {
          const t0 = performance.now();
          await s.run(feed(s));
          if (block > 0) times[k].push(performance.now() - t0);
        }
      }
    }
    const a = ms(times.on);
    const b = ms(times.off);
    out[name] = { arenaOnMs: a, arenaOffMs: b, offOverOn: round(b.median / a.median) };
  }
  return out;
}

// ----- cells -----
interface Server {
  child: ChildProcess;
  url: string;
}
async function serve(cells: "off" | "per-model", models: string[]): Promise<Server> {
  const args = [path.join(REPO, "dist", "cli", "main.js"), "serve", "--cells", cells, "--port", "0", "--log-level", "warn", ...models.flatMap((m) => ["--model", m])];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 1200 && !/wasmdeploy: ready/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
  const url = /on (http:\/\/[0-9.:]+)/.exec(err)?.[1];
  if (!url) throw new Error(`serve did not start: ${err}`);
  return { child, url };
}
const stop = (s: Server) => new Promise<void>((r) => (s.child.once("exit", () => r()), s.child.kill("SIGTERM")));
const treePss = (pid: number) => processTree(pid).reduce((n, p) => n + (pss(p) ?? 0), 0);

function inferBody(t: Tensor) {
  return JSON.stringify({ inputs: [{ name: "INPUT__0", datatype: t.dtype === "int64" ? "INT64" : "FP32", shape: [...t.shape], data: Array.from(t.data as ArrayLike<number | bigint>, Number) }] });
}

async function cells() {
  const gpt = npy(path.join(PACKAGES, "tiny_gpt.input.npy"));
  const img = npy(path.join(PACKAGES, "resnet_basic.input.npy"));
  const models = [`gpt=${path.join(PACKAGES, "tiny_gpt.pt")}`, `resnet=${path.join(PACKAGES, "resnet_basic.pt")}`];
  const servers = { off: await serve("off", models), cells: await serve("per-model", models) };
  const latency: Record<string, { off: number[]; cells: number[] }> = { gpt: { off: [], cells: [] }, resnet: { off: [], cells: [] } };
  for (let round_ = 0; round_ < 8; round_++) {
    for (const mode of ["off", "cells"] as const) {
      for (const [model, t] of [["gpt", gpt], ["resnet", img]] as const) {
        const body = inferBody(t);
        for (let i = 0; i < 30; i++) {
          const t0 = performance.now();
          const r = await fetch(`${servers[mode].url}/v2/models/${model}/infer`, { method: "POST", body });
          await r.arrayBuffer();
          if (r.status !== 200) throw new Error(`${mode} ${model}: ${r.status}`);
          if (round_ > 0) latency[model]![mode].push(performance.now() - t0);
        }
      }
    }
  }
  const perCall = Object.fromEntries(
    Object.entries(latency).map(([m, v]) => {
      const a = ms(v.off);
      const b = ms(v.cells);
      return [m, { offMs: a, cellsMs: b, addedMs: round(b.median - a.median, 3), ratio: round(b.median / a.median) }];
    }),
  );
  const pssAfter = { off: treePss(servers.off.child.pid!), cells: treePss(servers.cells.child.pid!) };
  await stop(servers.off);
  await stop(servers.cells);
  // Memory per additional model: the same servers with one model, then two.
  const memory: Record<string, number> = {};
  for (const mode of ["off", "per-model"] as const) {
    for (const n of [1, 2]) {
      const s = await serve(mode, models.slice(0, n).map((m, i) => (i === 1 ? m : m)));
      // A few calls so every model has compiled and run.
      for (let i = 0; i < 5; i++) {
        await (await fetch(`${s.url}/v2/models/gpt/infer`, { method: "POST", body: inferBody(gpt) })).arrayBuffer();
        if (n === 2) await (await fetch(`${s.url}/v2/models/resnet/infer`, { method: "POST", body: inferBody(img) })).arrayBuffer();
      }
      memory[`${mode}_${n}_models_pss_mb`] = round(treePss(s.child.pid!) / MB, 1);
      await stop(s);
    }
  }
  return { perCall, pssMbWithTwoModels: { off: round(pssAfter.off / MB, 1), cells: round(pssAfter.cells / MB, 1) }, memory };
}

// ----- hostile tenant -----
async function hostile() {
  const manager = await InterpreterManager.create({ interpreters: 2, onOutput: () => {} });
  const neighbour = (await manager.loadPackage(path.join(PACKAGES, "resnet_basic.pt"))).loadPickle("model", "model.pkl");
  const attacker = (await manager.loadPackage(path.join(HOSTILE, "engine_attack.pt"), { engineMemoryPerCallMb: 256 })).loadPickle("hostile", "engine.pkl");
  const input = npy(path.join(PACKAGES, "resnet_basic.input.npy"));
  for (let i = 0; i < 10; i++) await neighbour.call(input);
  await attacker.callMethod("int_division", "int64");
  const windowMs = 15_000;
  const neighbourFor = async (until: number) => {
    const t: number[] = [];
    while (performance.now() < until) {
      const t0 = performance.now();
      await neighbour.call(input);
      t.push(performance.now() - t0);
    }
    return t;
  };
  const quiet = await neighbourFor(performance.now() + windowMs);
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const attacks: [string, unknown[]][] = [
    ["int_division", ["int64"]],
    ["handmade_div", ["int32"]],
    ["big_intermediate", []],
    ["shape_from_data", []],
    ["large_constant", [3_000_000]],
    ["padded_request", [200]],
    ["hoard", [64]],
    ["many_graphs", [50, 32]],
  ];
  let attacking = true;
  const outcomes: Record<string, number> = {};
  const attack = (async () => {
    for (let i = 0; attacking; i++) {
      const [m, a] = attacks[i % attacks.length]!;
      const r = await attacker.callMethod(m, ...a).then(
        () => "returns",
        (e: Error) => e.name,
      );
      outcomes[`${m}: ${r}`] = (outcomes[`${m}: ${r}`] ?? 0) + 1;
      if (m === "hoard" && r !== "returns") await attacker.callMethod("release");
    }
  })();
  const underAttack = await neighbourFor(performance.now() + windowMs);
  attacking = false;
  await attack;
  loop.disable();
  clearInterval(sampler);
  // Settled: an interpreter replaced for its size is collected once its thread is idle.
  await new Promise((r) => setTimeout(r, 2000));
  const rssAfter = process.memoryUsage().rss;
  await manager.close();
  const a = ms(quiet);
  const b = ms(underAttack);
  return {
    neighbourQuietMs: a,
    neighbourUnderAttackMs: b,
    medianRatio: round(b.median / a.median),
    worstEventLoopStallMs: round(loop.max / 1e6, 1),
    eventLoopP99Ms: round(loop.percentile(99) / 1e6, 1),
    hostGrowthMb: round((rssAfter - rssBefore) / MB, 1),
    // During the attack: mostly the attacker's own interpreter memory (a 200 MB padded request
    // needs about 800 MB of linear memory, capped by memoryLimitMb), returned once it is replaced.
    hostPeakGrowthMb: round((rssPeak - rssBefore) / MB, 1),
    attackOutcomes: outcomes,
  };
}

const started = Date.now();
const result: Record<string, unknown> = { date: new Date().toISOString(), machine: { cpus: os.cpus().length, load: os.loadavg(), node: process.version } };
log("admission cost");
result.admission = admissionCost();
log("ONNX Runtime's CPU arena on vs off");
result.arena = await arena();
log("cells vs in-process serving");
result.cells = await cells();
log("a hostile tenant beside a neighbour");
result.hostile = await hostile();
result.seconds = Math.round((Date.now() - started) / 1000);
mkdirSync(RESULTS_DIR, { recursive: true });
const file = path.join(RESULTS_DIR, `${(result.date as string).slice(0, 10)}-containment.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
log(`wrote ${path.relative(REPO, file)}`);
process.stdout.write(JSON.stringify(result, (_k, v) => (v && typeof v === "object" && "n" in v && "median" in v ? `median ${(v as Summary).median}` : v), 2) + "\n");
