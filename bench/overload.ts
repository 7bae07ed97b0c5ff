// Goodput under overload: `npm run bench:serve -- --overload`.
//
// `wasmdeploy serve` driven by hey (closed loop, keep-alive, JSON bodies, as the issue's users
// drove it) at 16, 64, 256 and 512 clients: 1x, 4x, 16x and 32x the 16 clients that saturate
// one interpreter of the tiny GPT. Goodput is 200s per second; each point is reported as a ratio
// to the 16-client goodput of the same server in the same round, so the machine's load (other
// jobs share its cores) cancels out as far as it can; the load average is recorded around each
// run. Rounds interleave the concurrencies (and the servers, with --baseline), so a burst of
// outside load does not fall on one point only.
//
// Options: --baseline PATH (another build's dist/cli/main.js, measured in the same rounds, e.g.
// main's), --models tiny_gpt,resnet_basic, --cells per-model,off, --clients 16,64,256,512,
// --window S (seconds per point, default 5), --rounds N (default 2), --extra "ARGS" (more serve
// flags for both servers, e.g. "--max-queue 64"), --tag NAME (results file suffix). Writes
// bench/results/<date>-serve-overload[-NAME].json.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { Tensor } from "wasmdeploy";
import { log, quantile, REPO, RESULTS_DIR, round } from "./lib/common.js";

const argValue = (flag: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

interface Point {
  server: string;
  cells: string;
  model: string;
  clients: number;
  round: number;
  seconds: number;
  ok: number;
  refused: number;
  other: Record<string, number>;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  load1Before: number;
  load1After: number;
}

const MODELS: Record<string, { file: string; body: () => string }> = {
  tiny_gpt: {
    file: "packages/models/tiny_gpt.pt",
    body: () => {
      const x = npy("packages/models/tiny_gpt.input.npy");
      return JSON.stringify({ inputs: [{ name: "INPUT__0", datatype: "INT64", shape: [1, 16], data: Array.from((x.data as BigInt64Array).slice(0, 16), Number) }] });
    },
  },
  resnet_basic: {
    file: "packages/models/resnet_basic.pt",
    body: () => {
      const x = npy("packages/models/resnet_basic.input.npy");
      return JSON.stringify({ inputs: [{ name: "INPUT__0", datatype: "FP32", shape: [1, 3, 64, 64], data: Array.from((x.data as Float32Array).slice(0, 3 * 64 * 64)) }] });
    },
  },
};

const npy = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(REPO, p))));

async function startServer(cli: string, model: string, cells: string, extra: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn("node", [cli, "serve", "--model", `${model}=${path.join(REPO, MODELS[model]!.file)}`, "--cells", cells, "--port", "0", "--log-level", "warn", ...extra], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 1200 && !/wasmdeploy: ready/.test(err); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /on (http:\/\/[0-9.:]+)/.exec(err)?.[1];
  if (!url || !/wasmdeploy: ready/.test(err)) throw new Error(`${cli}: the server did not start:\n${err}`);
  return { child, url };
}

/** One hey run; its summary parsed. */
function hey(url: string, bodyFile: string, clients: number, seconds: number): Omit<Point, "server" | "cells" | "model" | "round" | "load1Before" | "load1After"> {
  const out = execFileSync("hey", ["-z", `${seconds}s`, "-c", String(clients), "-m", "POST", "-T", "application/json", "-D", bodyFile, url], { encoding: "utf8", maxBuffer: 64 << 20 });
  const total = Number(/Total:\s+([0-9.]+) secs/.exec(out)?.[1]);
  const statuses: Record<string, number> = {};
  for (const m of (out.split("Status code distribution:")[1] ?? "").matchAll(/\[(\d+)\]\s+(\d+) responses/g)) statuses[m[1]!] = Number(m[2]);
  let errors = 0;
  for (const m of (out.split("Error distribution:")[1] ?? "").matchAll(/\[(\d+)\]\s/g)) errors += Number(m[1]);
  const pct = (p: number) => Number(new RegExp(`${p}%+ in ([0-9.]+) secs`).exec(out)?.[1]) * 1000;
  const { 200: ok = 0, 429: refused = 0, ...other } = statuses;
  return { clients, seconds: total, ok, refused, other, errors, p50Ms: pct(50), p99Ms: pct(99) };
}

export async function overload(): Promise<void> {
  const window = Number(argValue("--window") ?? 5);
  const rounds = Number(argValue("--rounds") ?? 2);
  const clients = (argValue("--clients") ?? "16,64,256,512").split(",").map(Number);
  const models = (argValue("--models") ?? "tiny_gpt,resnet_basic").split(",");
  const cellModes = (argValue("--cells") ?? "per-model,off").split(",");
  const extra = (argValue("--extra") ?? "").split(" ").filter(Boolean);
  const servers: [string, string][] = [["this", path.join(REPO, "dist", "cli", "main.js")]];
  const baseline = argValue("--baseline");
  if (baseline) servers.unshift(["baseline", path.resolve(baseline)]);
  try {
    execFileSync("hey", ["-n", "1", "-c", "1", "http://127.0.0.1:9/"], { stdio: "ignore" });
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") throw new Error("bench:serve --overload needs hey (apt-get install -y hey)");
  }
  const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-bench-overload-"));
  const points: Point[] = [];
  log(`bench:serve --overload on ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}; ${window} s per point, ${rounds} rounds, clients ${clients.join("/")}`);
  try {
    for (const model of models) {
      const bodyFile = path.join(dir, `${model}.json`);
      writeFileSync(bodyFile, MODELS[model]!.body());
      for (const cells of cellModes) {
        const running = await Promise.all(servers.map(async ([name, cli]) => ({ name, ...(await startServer(cli, model, cells, extra)) })));
        try {
          for (const s of running) hey(`${s.url}/v2/models/${model}/infer`, bodyFile, 16, 3); // warm-up: graphs compiled, caches filled
          for (let r = 0; r < rounds; r++) {
            for (const c of clients) {
              for (const s of running) {
                const load1Before = os.loadavg()[0]!;
                const p = hey(`${s.url}/v2/models/${model}/infer`, bodyFile, c, window);
                const point = { server: s.name, cells, model, round: r, load1Before, load1After: os.loadavg()[0]!, ...p };
                points.push(point);
                log(`${model} cells=${cells} ${s.name} c=${c} round ${r}: ${(p.ok / p.seconds).toFixed(0)} 200/s, ${(p.refused / p.seconds).toFixed(0)} 429/s${Object.keys(p.other).length ? `, other ${JSON.stringify(p.other)}` : ""}${p.errors ? `, ${p.errors} errors` : ""}; load ${load1Before.toFixed(1)}`);
              }
            }
          }
        } finally {
          for (const s of running) {
            s.child.kill("SIGTERM");
            await new Promise<void>((r) => (s.child.exitCode !== null ? r() : s.child.once("exit", () => r())));
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Per (server, cells, model, clients): medians over rounds of goodput and of its ratio to the same round's 16-client goodput.
  const rows: string[] = [];
  const summary: Record<string, unknown>[] = [];
  const base = clients[0]!;
  for (const model of models) {
    for (const cells of cellModes) {
      for (const [server] of servers) {
        for (const c of clients) {
          const ps = points.filter((p) => p.model === model && p.cells === cells && p.server === server && p.clients === c);
          const ratios = ps.map((p) => {
            const ref = points.find((q) => q.model === model && q.cells === cells && q.server === server && q.clients === base && q.round === p.round)!;
            return p.ok / p.seconds / (ref.ok / ref.seconds);
          });
          const med = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
          const entry = {
            model,
            cells,
            server,
            clients: c,
            goodput: round(med(ps.map((p) => p.ok / p.seconds)), 1),
            ratio: round(med(ratios), 2),
            refusedPerS: round(med(ps.map((p) => p.refused / p.seconds)), 1),
            other: ps.reduce((n, p) => n + Object.values(p.other).reduce((a, b) => a + b, 0), 0),
            errors: ps.reduce((n, p) => n + p.errors, 0),
            load1: round(med(ps.map((p) => (p.load1Before + p.load1After) / 2)), 1),
          };
          summary.push(entry);
          rows.push(`| ${model} | ${cells} | ${server} | ${c} (${c / base}x) | ${entry.goodput} | ${entry.ratio} | ${entry.refusedPerS} | ${entry.errors + entry.other} | ${entry.load1} |`);
        }
      }
    }
  }
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const tag = argValue("--tag");
  const file = path.join(RESULTS_DIR, `${date}-serve-overload${tag ? `-${tag}` : ""}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, node: process.version, window, rounds, clients, extra, baseline: baseline ?? null, summary, points }, null, 2)}\n`);
  log(`wrote ${path.relative(REPO, file)}`);
  process.stdout.write(`\n| model | cells | server | clients | 200/s (median) | vs ${base} clients | 429/s | errors, other | load avg |\n|---|---|---|---|---|---|---|---|---|\n${rows.join("\n")}\n`);
}
