// torch.nn in a wasmdeploy interpreter against real PyTorch 1.13.
//
// module_cases.py runs unchanged under real torch (make_module_expected.py wrote
// module_expected.json and nn_zoo.pt) and here, registered with registerModuleSource:
// - every case: build the module, set weights via load_state_dict, forward;
// - Module API bookkeeping (names, repr, state_dict keys, attribute rules, error messages);
// - modules pickled by torch 1.13 (nn_zoo.pt): Module.__setstate__, _rebuild_parameter, storages;
// - a state_dict pickled by torch 1.13, loaded with load_state_dict;
// - torchvision model archives (packages/models/): interned torchvision imports against our torch.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, type InterpreterSession, type PyObject, Tensor } from "wasmdeploy";
import { ROOT } from "../helpers.js";
import { kind } from "../kind.js";

const HERE = path.join(ROOT, "test", "torch_nn");
const MODELS = path.join(ROOT, "packages", "models");
const ATOL = 1e-5;
const RTOL = 1e-4;

interface Expected {
  cases: Record<string, { outputs: unknown }>;
  api: Record<string, unknown>;
  roundtrip: { keys: string[]; metadata: unknown; a: unknown; b: unknown };
  zoo: Record<string, { outputs: unknown }>;
  zoo_pickles: string[];
  zoo_state_dict: { outputs: unknown; load_result: string; types: string[] };
}

const expected = JSON.parse(readFileSync(path.join(HERE, "module_expected.json"), "utf8")) as Expected;

let manager: InterpreterManager;
let session: InterpreterSession;
const fns = new Map<string, PyObject>();

async function fn(name: string): Promise<PyObject> {
  let f = fns.get(name);
  if (!f) {
    f = await session.global("module_cases", name);
    fns.set(name, f);
  }
  return f;
}

async function callJson(name: string, ...args: unknown[]): Promise<Record<string, unknown>> {
  return JSON.parse((await (await fn(name)).call(...args)) as string) as Record<string, unknown>;
}

const num = (v: unknown): number =>
  v === "nan" ? Number.NaN : v === "inf" ? Number.POSITIVE_INFINITY : v === "-inf" ? Number.NEGATIVE_INFINITY : (v as number);

/** Mismatches between an encoded result and the expected one (floats: atol + rtol * |expected|). */
function compare(actual: unknown, want: unknown, where: string, out: string[] = []): string[] {
  if (out.length > 8) return out;
  if (want !== null && typeof want === "object" && !Array.isArray(want) && "data" in want && "shape" in want) {
    const w = want as { shape: number[]; dtype: string; data: unknown[] };
    const a = actual as { shape?: number[]; dtype?: string; data?: unknown[] };
    if (!a || typeof a !== "object" || JSON.stringify(a.shape) !== JSON.stringify(w.shape) || a.dtype !== w.dtype) {
      out.push(`${where}: got ${JSON.stringify({ shape: a?.shape, dtype: a?.dtype })}, want ${JSON.stringify({ shape: w.shape, dtype: w.dtype })}`);
      return out;
    }
    let bad = 0;
    let first = "";
    for (let i = 0; i < w.data.length; i++) {
      const e = w.data[i];
      const g = a.data![i];
      let ok: boolean;
      if (typeof e === "boolean" || w.dtype.includes("int")) ok = g === e;
      else {
        const ef = num(e);
        const gf = num(g);
        ok = Number.isNaN(ef) ? Number.isNaN(gf) : ef === gf || Math.abs(gf - ef) <= ATOL + RTOL * Math.abs(ef);
      }
      if (!ok) {
        bad++;
        if (!first) first = `[${i}] got ${String(g)} want ${String(e)}`;
      }
    }
    if (bad) out.push(`${where}: ${bad}/${w.data.length} elements differ, first ${first}`);
    return out;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(actual) || actual.length !== want.length) {
      out.push(`${where}: got ${JSON.stringify(actual)?.slice(0, 200)}, want a list of ${want.length}`);
      return out;
    }
    want.forEach((w, i) => compare(actual[i], w, `${where}[${i}]`, out));
    return out;
  }
  if (want !== null && typeof want === "object") {
    for (const [k, w] of Object.entries(want)) compare((actual as Record<string, unknown>)?.[k], w, `${where}.${k}`, out);
    return out;
  }
  if (actual !== want) out.push(`${where}: got ${JSON.stringify(actual)}, want ${JSON.stringify(want)}`);
  return out;
}

beforeAll(async () => {
  // Trusted: these tests hold session handles across package loads, which a sandboxed interpreter
  // (one package per interpreter) would recycle; test/conformance covers the sandboxed path.
  manager = await InterpreterManager.create({ ...kind, interpreters: 1, isolation: "trusted" });
  await manager.registerModuleSource("module_cases", readFileSync(path.join(HERE, "module_cases.py"), "utf8"));
  session = await manager.acquireOne();
});

afterAll(async () => {
  await session?.release();
  await manager?.close();
});

describe("torch.nn layers vs torch 1.13 (module_cases.py)", () => {
  for (const name of Object.keys(expected.cases)) {
    it(name, async () => {
      const got = await callJson("run_case", name);
      expect(compare(got.outputs, expected.cases[name]!.outputs, name)).toStrictEqual([]);
    });
  }
});

describe("nn.Module API", () => {
  it("names, repr, state_dict keys and metadata, train/eval, attribute rules, load_state_dict messages", async () => {
    const got = await callJson("api_report");
    for (const [key, want] of Object.entries(expected.api)) {
      expect(got[key], key).toStrictEqual(want);
    }
  });

  it("state_dict -> copy -> load_state_dict into a fresh module gives the same outputs", async () => {
    const got = (await callJson("state_dict_roundtrip")) as unknown as Expected["roundtrip"];
    expect(got.keys).toStrictEqual(expected.roundtrip.keys);
    expect(got.metadata).toStrictEqual(expected.roundtrip.metadata);
    expect(compare(got.a, expected.roundtrip.a, "a")).toStrictEqual([]);
    expect(compare(got.b, expected.roundtrip.a, "b")).toStrictEqual([]);
  });
});

describe("modules and a state_dict pickled by torch 1.13 (nn_zoo.pt)", () => {
  it("unpickles every module and runs it", async () => {
    const pkg = await manager.loadPackage(path.join(HERE, "nn_zoo.pt"));
    const failures: string[] = [];
    for (const name of expected.zoo_pickles) {
      const obj = await session.fromMovable(pkg.loadPickle("zoo", `${name}.pkl`));
      try {
        const got = await callJson("run_module", name, obj);
        failures.push(...compare(got.outputs, expected.zoo[name]!.outputs, name));
      } catch (e) {
        failures.push(`${name}: ${String(e).slice(0, 2000)}`);
      }
    }
    expect(failures).toStrictEqual([]);
  });

  it("loads a pickled state_dict with load_state_dict", async () => {
    const pkg = await manager.loadPackage(path.join(HERE, "nn_zoo.pt"));
    const sd = await session.fromMovable(pkg.loadPickle("zoo", "tinynet_state.pkl"));
    const got = await callJson("run_state_dict", sd);
    expect(got.load_result).toBe(expected.zoo_state_dict.load_result);
    expect(compare(got.outputs, expected.zoo_state_dict.outputs, "tinynet")).toStrictEqual([]);
  });
});

interface ModelEntry {
  name: string;
  family: string;
  file: string;
  pickle: string;
  inputs: { file: string }[];
  outputs: { file: string }[];
}

const modelsJson = path.join(MODELS, "models.json");
const torchvisionModels: ModelEntry[] = existsSync(modelsJson)
  ? (JSON.parse(readFileSync(modelsJson, "utf8")) as { models: ModelEntry[] }).models.filter((m) => m.family === "torchvision")
  : [];

describe.skipIf(torchvisionModels.length === 0)("torchvision archives (interned torchvision against our torch)", () => {
  for (const m of torchvisionModels) {
    it(`${m.name}: unpickles, imports torchvision modules, matches torch 1.13`, async () => {
      const pkg = await manager.loadPackage(path.join(MODELS, m.file));
      const [pkgName, resource] = m.pickle.split("/") as [string, string];
      const model = pkg.loadPickle(pkgName, resource);
      const handle = await session.fromMovable(model);
      const report = (await callJson("inspect_packaged_model", handle)) as { module: string; imports: string[]; training: boolean };
      expect(report.module.startsWith("torchvision.models.")).toBe(true);
      expect(report.training).toBe(false);
      expect(report.imports.length).toBeGreaterThan(0);
      const inputs = m.inputs.map((i) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, i.file)))));
      const out = (await model.call(...inputs)) as Tensor;
      const want = Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, m.outputs[0]!.file))));
      expect(out.shape).toStrictEqual(want.shape);
      let worst = 0;
      for (let i = 0; i < want.data.length; i++) {
        const e = Number(want.data[i]);
        const d = Math.abs(Number(out.data[i]) - e) - 1e-4 * Math.abs(e);
        if (d > worst) worst = d;
      }
      expect(worst, `${m.name}: max |out - expected| beyond rtol 1e-4`).toBeLessThanOrEqual(1e-4);
    });
  }
});
