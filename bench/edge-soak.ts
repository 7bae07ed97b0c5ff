// bench/edge-soak: does a workerd isolate serving a model keep its memory over many calls?
//   npm run bench:edge-soak [-- --calls 3000]
// One project (mobilenet_v3_small, `wasmdeploy edge` defaults), --calls sequential JSON /infer
// calls, and at checkpoints: V8's heap (used, committed) and ArrayBuffers through workerd's
// inspector, the linear memories (GET /edge/memory) and the process RSS. Twice: with workerd's
// V8 as it comes (no memory pressure: garbage may pile up), and with V8's old space capped at
// 20 MB (`v8Flags`, local only), which makes V8 collect as an isolate near a limit does: if the
// isolate leaked, the capped run would grow until V8 ended it.
// Results: bench/results/<date>-edge-soak.json and a table on stdout.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { Tensor } from "../dist/index.js";
import { buildProject, freePort } from "../test/edge/workerd.js";
import { REPO, RESULTS_DIR } from "./lib/common.js";
import { edgeMemoryReader } from "./lib/edge-memory.js";
import { spawnInspected } from "./lib/inspector.js";

const args = process.argv.slice(2);
const at = args.indexOf("--calls");
const CALLS = at >= 0 ? Number(args[at + 1]) : 3000;
const CHECKPOINTS = [10, Math.round(CALLS / 6), Math.round(CALLS / 2), CALLS];
const OLD_SPACE_CAP_MB = 20;
const MB = 2 ** 20;

interface Checkpoint {
  calls: number;
  heapUsed: number;
  heapCommitted: number;
  arrayBuffers: number;
  linearMemories: number;
  rss: number;
}

async function soak(dir: string, config: string, port: number, body: string): Promise<Checkpoint[]> {
  const w = await spawnInspected(path.join(dir, config));
  const url = `http://127.0.0.1:${port}`;
  try {
    const memory = await edgeMemoryReader(w, url);
    const out: Checkpoint[] = [];
    let done = 0;
    for (const target of CHECKPOINTS) {
      for (; done < target; done++) {
        const r = await fetch(`${url}/v2/models/mnv3/infer`, { method: "POST", body, headers: { "content-type": "application/json" } });
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`call ${done}: ${r.status}`);
      }
      const m = await memory.read();
      out.push({
        calls: done,
        heapUsed: m.heap.usedSize,
        heapCommitted: m.heap.totalSize,
        arrayBuffers: m.heap.backingStorageSize,
        linearMemories: m.interpreterLinearMemory + m.ortLinearMemory,
        rss: m.rss,
      });
      process.stderr.write(`${config}: ${done} calls\n`);
    }
    memory.close();
    return out;
  } finally {
    await w.kill();
  }
}

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), "wasmdeploy-bench-edge-soak-"));
  try {
    const dir = path.join(work, "project");
    const port = await freePort();
    buildProject(["--model", `mnv3=${path.join(REPO, "packages", "models", "mobilenet_v3_small.pt")}`, "--out", dir, "--port", String(port)]);
    const capnp = readFileSync(path.join(dir, "config.capnp"), "utf8");
    const capped = capnp.replace(/^ {2}sockets = /m, `  v8Flags = [ "--max-old-space-size=${OLD_SPACE_CAP_MB}" ],\n  sockets = `);
    if (capped === capnp) throw new Error("could not place v8Flags in config.capnp");
    writeFileSync(path.join(dir, "config-capped.capnp"), capped);
    const x = Tensor.fromNpy(new Uint8Array(readFileSync(path.join(REPO, "packages", "models", "mobilenet_v3_small.input.npy"))));
    const body = JSON.stringify({ inputs: [{ name: "INPUT__0", shape: [...x.shape], datatype: "FP32", data: Array.from(x.data as Float32Array) }] });
    const results = {
      date: new Date().toISOString(),
      calls: CALLS,
      loadavgStart: loadavg(),
      asItComes: await soak(dir, "config.capnp", port, body),
      oldSpaceCapped: { capMb: OLD_SPACE_CAP_MB, checkpoints: await soak(dir, "config-capped.capnp", port, body) },
      loadavgEnd: loadavg(),
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const out = path.join(RESULTS_DIR, `${results.date.slice(0, 10)}-edge-soak.json`);
    writeFileSync(out, JSON.stringify(results, null, 1));
    const lines = ["| V8 | calls | JS heap used | JS heap committed | ArrayBuffers | linear memories | isolate total | process RSS |", "|---|---:|---:|---:|---:|---:|---:|---:|"];
    const rows = (label: string, cs: Checkpoint[]) => {
      for (const c of cs) {
        const total = c.heapCommitted + c.arrayBuffers + c.linearMemories;
        lines.push(`| ${label} | ${c.calls} | ${(c.heapUsed / MB).toFixed(1)} | ${(c.heapCommitted / MB).toFixed(1)} | ${(c.arrayBuffers / MB).toFixed(1)} | ${(c.linearMemories / MB).toFixed(1)} | ${(total / MB).toFixed(1)} | ${(c.rss / MB).toFixed(0)} |`);
      }
    };
    rows("as it comes", results.asItComes);
    rows(`old space capped at ${OLD_SPACE_CAP_MB} MB`, results.oldSpaceCapped.checkpoints);
    process.stdout.write(`${lines.join("\n")}\n\nresults: ${path.relative(REPO, out)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
