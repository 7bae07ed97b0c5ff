// numpy inside the WASI interpreter (issue 21): archives made by real PyTorch that extern numpy
// (packages/make_numpy_archives.py) give what real PyTorch and Debian's numpy give
// (packages/archives/numpy/expected.json), on the committed sci build (wasm/python-sci.wasm,
// `wasiBuild: "sci"`). The default build has no numpy, and says so plainly (the last test).

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, PythonError, Tensor } from "wasmdeploy";
import { ROOT } from "../helpers.js";

const ARCHIVES = path.join(ROOT, "packages", "archives", "numpy");

interface Call {
  archive: string;
  pickle: [string, string];
  method: string;
  args?: unknown[];
  input?: number[][];
  result: unknown;
}
const expected = JSON.parse(readFileSync(path.join(ARCHIVES, "expected.json"), "utf8")) as { calls: Call[] };

/** Equal, numbers within `tol` (relative to max(1, |want|)). */
function close(got: unknown, want: unknown, tol: number): boolean {
  if (typeof want === "number") return typeof got === "number" && Math.abs(got - want) <= tol * Math.max(1, Math.abs(want));
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => close(got[i], w, tol));
  if (want && typeof want === "object") {
    const g = got as Record<string, unknown>;
    return !!g && typeof g === "object" && Object.keys(want).length === Object.keys(g).length && Object.entries(want).every(([k, w]) => close(g[k], w, tol));
  }
  return got === want;
}

describe("numpy in the WASI interpreter's sci build", () => {
  let manager: InterpreterManager;

  beforeAll(async () => {
    manager = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", wasiBuild: "sci", callTimeoutMs: 60_000, onOutput: () => {} });
  });
  afterAll(async () => {
    await manager?.close();
  });

  for (const c of expected.calls.filter((x) => x.archive === "np_prepost.pt")) {
    it(`np_prepost.pt: ${c.method} in numpy gives real numpy's result`, async () => {
      const obj = (await manager.loadPackage(path.join(ARCHIVES, c.archive))).loadPickle(...c.pickle);
      const got = await obj.callMethod(c.method, ...(c.args ?? []));
      expect(close(got, c.result, 1e-9), `${JSON.stringify(got)} vs ${JSON.stringify(c.result)}`).toBe(true);
    });
  }

  it("np_forward.pt: a forward through numpy (tolist, numpy math, torch.tensor) matches PyTorch", async () => {
    const c = expected.calls.find((x) => x.archive === "np_forward.pt")!;
    const model = (await manager.loadPackage(path.join(ARCHIVES, c.archive))).loadPickle(...c.pickle);
    const x = new Tensor("float32", Float32Array.from(c.input!.flat()), [c.input!.length, c.input![0]!.length]);
    const y = (await model.call(x)) as Tensor;
    const rows: number[][] = [];
    for (let i = 0; i < y.shape[0]!; i++) rows.push(Array.from(y.data.subarray(i * y.shape[1]!, (i + 1) * y.shape[1]!) as Float32Array));
    expect(close(rows, c.result, 1e-5), `${JSON.stringify(rows)} vs ${JSON.stringify(c.result)}`).toBe(true);
  });

  it("np_interop.pt: Tensor.numpy(), np.asarray(tensor), torch.from_numpy, torch.as_tensor/tensor of arrays match PyTorch", async () => {
    const c = expected.calls.find((x) => x.archive === "np_interop.pt")! as Call & { ids: number[] };
    const model = (await manager.loadPackage(path.join(ARCHIVES, c.archive))).loadPickle(...c.pickle);
    const x = new Tensor("float32", Float32Array.from(c.input!.flat()), [c.input!.length, c.input![0]!.length]);
    const ids = new Tensor("int64", BigInt64Array.from(c.ids.map(BigInt)), [c.ids.length]);
    const [y, e, f, ...names] = (await model.call(x, ids)) as [Tensor, Tensor, Tensor, ...string[]];
    const want = c.result as [number[][], number[], boolean[], ...string[]];
    const rows: number[][] = [];
    for (let i = 0; i < y.shape[0]!; i++) rows.push(Array.from(y.data.subarray(i * y.shape[1]!, (i + 1) * y.shape[1]!) as Float32Array));
    expect(close(rows, want[0], 1e-5), `${JSON.stringify(rows)} vs ${JSON.stringify(want[0])}`).toBe(true);
    expect([e.dtype, Array.from(e.data as BigInt64Array, Number)]).toEqual(["int64", want[1]]);
    expect([f.dtype, Array.from(f.data as Uint8Array, Boolean)]).toEqual(["bool", want[2]]);
    // The dtypes each side reports (numpy's for the arrays, torch's for the tensors).
    expect(names).toEqual(want.slice(3));
  });

  it("numpy's own arithmetic, linalg, fft and random agree with Debian's numpy", async () => {
    await manager.registerModuleSource(
      "npcheck",
      `
import numpy as np
def run():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    return {
        "version": np.__version__,
        "matmul": (a @ a.T).tolist(),
        "sin": np.round(np.sin(a), 9).tolist(),
        "inv": np.round(np.linalg.inv(np.array([[2.0, 1.0], [1.0, 3.0]])), 9).tolist(),
        "fft": np.round(np.abs(np.fft.fft(np.arange(8.0))), 9).tolist(),
        "pcg64": np.random.default_rng(42).integers(0, 100, 5).tolist(),
        "mt19937": np.random.RandomState(1).randint(0, 100, 5).tolist(),
        # Generator and RandomState each have their own copy of these distributions (int64 and long).
        "multinomial": [np.random.default_rng(1).multinomial(100, [0.2, 0.8]).tolist(), np.random.RandomState(1).multinomial(100, [0.2, 0.8]).tolist()],
        "poisson": [np.random.default_rng(2).poisson(3.0, 4).tolist(), np.random.RandomState(2).poisson(3.0, 4).tolist()],
        "f32": str(np.float32(1.5) / np.float32(3)),
    }
`,
    );
    const s = await manager.acquireOne();
    try {
      const got = await (await s.global("npcheck", "run")).call();
      // Debian's numpy 1.24.2 under /usr/bin/python3, same code (see the test's source).
      expect(got).toEqual({
        version: "1.24.2",
        matmul: [
          [14, 38, 62],
          [38, 126, 214],
          [62, 214, 366],
        ],
        sin: [
          [0, 0.841470985, 0.909297427, 0.141120008],
          [-0.756802495, -0.958924275, -0.279415498, 0.656986599],
          [0.989358247, 0.412118485, -0.544021111, -0.999990207],
        ],
        inv: [
          [0.6, -0.2],
          [-0.2, 0.4],
        ],
        fft: [28, 10.452503719, 5.656854249, 4.329568801, 4, 4.329568801, 5.656854249, 10.452503719],
        pcg64: [8, 77, 65, 43, 43],
        mt19937: [37, 12, 72, 9, 75],
        multinomial: [
          [20, 80],
          [19, 81],
        ],
        poisson: [
          [3, 3, 3, 6],
          [1, 3, 2, 3],
        ],
        f32: "0.5",
      });
    } finally {
      await s.release();
    }
  });
});

describe("the default WASI build, without numpy", () => {
  it("says No module named 'numpy' (a typed PythonError), as the docs say", async () => {
    const m = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", onOutput: () => {} });
    try {
      await m.registerModuleSource("npmissing", "def run():\n    import numpy\n");
      const s = await m.acquireOne();
      try {
        const err = await (await s.global("npmissing", "run")).call().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PythonError);
        expect((err as PythonError).pyType).toBe("ModuleNotFoundError");
      } finally {
        await s.release();
      }
    } finally {
      await m.close();
    }
  });
});
