// The torch layer's ops in a wasmdeploy interpreter against real PyTorch 1.13.
//
// op_cases.py runs unchanged under real torch (make_op_expected.py wrote op_expected.json) and
// here, registered with registerModuleSource. Every case runs lazily (one graph per
// materialization) and again in eager debug mode (torch._graph.set_eager(True): materialize
// after every op), which must agree with the lazy run: exactly for integers and bools, and
// within float rounding for floats (ONNX Runtime may fuse ops differently in a bigger graph).
// The lazy run repeats on onnxruntime-web, whose kernels (and dtype support) differ.

import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager } from "wasmdeploy";
import { ROOT } from "../helpers.js";
import { kind } from "../kind.js";

const HERE = path.join(ROOT, "test", "torch");

type Enc =
  | { t: string; shape: number[]; data: (number | boolean | string)[] }
  | { seq: Enc[] }
  | { size: number[] }
  | { dtype: string }
  | { v: unknown };
type Outcome = { ok: Enc } | { error: [string, string] };
interface ExpectedCase {
  result?: Enc;
  tol?: [number, number];
  error?: string;
  contains?: string;
}

const expected = JSON.parse(readFileSync(path.join(HERE, "op_expected.json"), "utf8")) as {
  generator: string;
  cases: Record<string, ExpectedCase>;
};

const TOL: Record<string, [number, number]> = { float32: [1e-5, 1e-4], float64: [1e-7, 1e-6], float16: [1e-3, 1e-3] };
// eager vs lazy: same ops, possibly fused differently by ONNX Runtime
const EAGER_TOL: Record<string, [number, number]> = { float32: [1e-6, 1e-5], float64: [1e-12, 1e-10], float16: [1e-3, 1e-3] };

const RUNNER = `
import json, torch, op_cases

def run_all(eager):
    torch._graph.set_eager(eager)
    try:
        return json.dumps({c["name"]: op_cases.run_case(c) for c in op_cases.CASES})
    finally:
        torch._graph.set_eager(False)
`;

function close(a: unknown, b: unknown, atol: number, rtol: number): boolean {
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isInteger(a) && Number.isInteger(b) && atol === 0) return a === b;
    return Math.abs(a - b) <= atol + rtol * Math.abs(b);
  }
  return a === b;
}

/** undefined if `got` matches `want`, else where and how it differs. */
function compare(got: Enc, want: Enc, tol: Record<string, [number, number]>, caseTol?: [number, number], at = "result"): string | undefined {
  const gk = Object.keys(got).sort().join();
  const wk = Object.keys(want).sort().join();
  if (gk !== wk) return `${at}: ${JSON.stringify(got).slice(0, 200)} is not like ${JSON.stringify(want).slice(0, 200)}`;
  if ("t" in want) {
    const g = got as typeof want;
    if (g.t !== want.t) return `${at}: dtype ${g.t}, expected ${want.t}`;
    if (g.shape.join() !== want.shape.join()) return `${at}: shape [${g.shape}], expected [${want.shape}]`;
    const [atol, rtol] = caseTol ?? tol[want.t] ?? [0, 0];
    for (let i = 0; i < want.data.length; i++) {
      if (!close(g.data[i], want.data[i], atol, rtol)) return `${at}[${i}]: ${g.data[i]}, expected ${want.data[i]}`;
    }
    return undefined;
  }
  if ("seq" in want) {
    const g = (got as typeof want).seq;
    if (g.length !== want.seq.length) return `${at}: ${g.length} items, expected ${want.seq.length}`;
    for (let i = 0; i < g.length; i++) {
      const m = compare(g[i]!, want.seq[i]!, tol, caseTol, `${at}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  const key = Object.keys(want)[0] as "v" | "size" | "dtype";
  const g = (got as Record<string, unknown>)[key];
  const w = (want as Record<string, unknown>)[key];
  if (typeof w === "number" && typeof g === "number" && !Number.isInteger(w)) {
    const [atol, rtol] = caseTol ?? [1e-5, 1e-4];
    return close(g, w, atol, rtol) ? undefined : `${at}: ${g}, expected ${w}`;
  }
  return JSON.stringify(g) === JSON.stringify(w) ? undefined : `${at}: ${JSON.stringify(g)}, expected ${JSON.stringify(w)}`;
}

function checkAgainstTorch(name: string, got: Outcome | undefined): string | undefined {
  const want = expected.cases[name]!;
  if (!got) return "no result";
  if (want.error) {
    if (!("error" in got)) return `expected ${want.error}, got a result`;
    const [type, message] = got.error;
    // wasmdeploy's "unsupported attribute" error subclasses NotImplementedError (and AttributeError)
    const typeOk = type === want.error || ((want.error === "NotImplementedError" || want.error === "AttributeError") && type === "_Unsupported");
    if (!typeOk) return `expected ${want.error}, got ${type}: ${message}`;
    if (!message.includes(want.contains!)) return `message ${JSON.stringify(message)} lacks ${JSON.stringify(want.contains)}`;
    return undefined;
  }
  if ("error" in got) return `raised ${got.error[0]}: ${got.error[1]}`;
  return compare(got.ok, want.result!, TOL, want.tol);
}

let lazy: Record<string, Outcome> = {};
let eager: Record<string, Outcome> = {};
let web: Record<string, Outcome> = {};

/** Runs every case in a fresh one-interpreter pool on `engine`: lazily, then (optionally) eagerly. */
async function runCases(engine: "ort-node" | "ort-web", alsoEager: boolean): Promise<Record<string, Outcome>[]> {
  const manager = await InterpreterManager.create({ ...kind, interpreters: 1, engine, isolation: "trusted" });
  try {
    await manager.registerModuleSource("op_cases", readFileSync(path.join(HERE, "op_cases.py"), "utf8"));
    await manager.registerModuleSource("op_runner", RUNNER);
    const session = await manager.acquireOne();
    const runAll = await session.global("op_runner", "run_all");
    const out = [JSON.parse((await runAll.call(false)) as string) as Record<string, Outcome>];
    if (alsoEager) out.push(JSON.parse((await runAll.call(true)) as string) as Record<string, Outcome>);
    await session.release();
    return out;
  } finally {
    await manager.close();
  }
}

beforeAll(async () => {
  [lazy, eager] = (await runCases("ort-node", true)) as [Record<string, Outcome>, Record<string, Outcome>];
  [web] = (await runCases("ort-web", false)) as [Record<string, Outcome>];
});

const names = Object.keys(expected.cases);

describe("torch ops match PyTorch 1.13 (lazy graphs)", () => {
  it("has enough cases", () => {
    expect(names.length).toBeGreaterThanOrEqual(150);
  });
  for (const name of names) {
    it(name, () => {
      expect(checkAgainstTorch(name, lazy[name])).toBeUndefined();
    });
  }
});

describe("torch ops match PyTorch 1.13 on ort-web (onnxruntime-web, wasm)", () => {
  for (const name of names) {
    it(name, () => {
      expect(checkAgainstTorch(name, web[name])).toBeUndefined();
    });
  }
});

describe("eager debug mode gives the lazy results", () => {
  for (const name of names) {
    it(name, () => {
      const e = eager[name];
      const l = lazy[name];
      expect(checkAgainstTorch(name, e)).toBeUndefined();
      if (l && e && "ok" in l && "ok" in e) expect(compare(e.ok, l.ok, EAGER_TOL)).toBeUndefined();
      else expect(JSON.stringify(e?.error?.[0] ?? null)).toBe(JSON.stringify((l as { error?: [string] })?.error?.[0] ?? null));
    });
  }
});
