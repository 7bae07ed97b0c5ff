// The short run of the engine fuzzer (test/fuzz/run.ts; the long run is bench/fuzz.ts): random
// graphs from the allow-list with hostile values, and malformed bridge requests, sent to a real
// engine host over real ONNX Runtime in a child process. The process must not die (a native
// fault would end it), every failure must be a typed error, every graph that ran must have the
// shapes admission inferred, and a neighbour tenant's graph must keep its exact answer. The
// fuzzer drives dist/ (the suite builds first).

import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

interface Report {
  graphs: number;
  requests: number;
  ok: number;
  refused: number;
  engine: number;
  untyped: string[];
  inference: string[];
  neighbour: string[];
  placement: string[];
  places?: Record<string, number>;
}

function fuzz(args: string[]): Report {
  const run = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "test", "fuzz", "run.ts"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 240_000 });
  expect(run.signal, `the fuzzing process died (${run.signal}): a native fault; stderr: ${run.stderr.slice(-2000)}`).toBeNull();
  expect(run.status, run.stderr.slice(-2000)).toBe(0);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Report;
}

describe("engine fuzzer (short run)", () => {
  for (const [name, args] of [
    ["mixed graphs and malformed requests", ["--seed", "20261205", "--count", "600"]],
    ["empty tensors everywhere", ["--seed", "7", "--count", "300", "--empty", "0.8", "--max-nodes", "3"]],
  ] as const) {
    it(`${name}: the host survives, every failure is typed, the neighbour stays exact`, () => {
      const r = fuzz([...args]);
      expect(r.untyped).toStrictEqual([]);
      expect(r.inference).toStrictEqual([]);
      expect(r.neighbour).toStrictEqual([]);
      // The fuzzer must reach the kernels, not only admission's refusals.
      expect(r.ok).toBeGreaterThan(r.graphs * 0.4);
      expect(r.refused + r.engine).toBeGreaterThan(0);
    });
  }

  // The production path: engine threads (feeds staged and copied to a thread, weights sent
  // once per storage epoch, wide sessions, small graphs inline on the host). Every case must
  // end exactly as it does on one engine on the host's thread; as lone calls, each graph runs
  // at every place in turn (1 thread, inline, wide inline; wide on engine thread 0), and every
  // run must agree with its first.
  it("engine threads, queued and lone: the host survives and every case ends as on one engine, at every place", () => {
    const args = ["--seed", "20261206", "--count", "400"];
    const inline = fuzz(args);
    expect(inline.placement).toStrictEqual([]);
    const reached: Record<string, number> = {};
    for (const engine of ["threads", "lone", "lone-wide"]) {
      const { places, ...r } = fuzz([...args, "--engine", engine]);
      expect(r.untyped).toStrictEqual([]);
      expect(r.inference).toStrictEqual([]);
      expect(r.neighbour).toStrictEqual([]);
      expect(r.placement).toStrictEqual([]);
      expect(r, `--engine ${engine} against inline`).toStrictEqual(inline);
      for (const [place, n] of Object.entries(places!)) reached[`${engine} ${place}`] = n;
    }
    // Each lone graph ran at each place (the counts include the neighbour's runs).
    for (const place of ["lone narrow", "lone inline", "lone wideInline", "lone-wide narrow", "lone-wide wide"]) expect(reached[place], place).toBeGreaterThan(inline.graphs);
  });
});
