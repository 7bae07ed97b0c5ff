// Bad tensor inputs and unsupported ops: a clear error that names the op and the shapes or
// dtypes, raised before any engine work, and the pool keeps serving.

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, PythonError, type ReplicatedObj, Tensor } from "wasmdeploy";
import { ROOT } from "../helpers.js";
import { compare } from "./compare.js";
import { kind } from "../kind.js";

const MODELS = path.join(ROOT, "packages", "models");
const load = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, f))));
let manager: InterpreterManager;
let resnet: ReplicatedObj;

beforeAll(async () => {
  manager = await InterpreterManager.create({ ...kind, interpreters: 2 });
  resnet = (await manager.loadPackage(path.join(MODELS, "resnet_basic.pt"))).loadPickle("model", "model.pkl");
});
afterAll(() => manager?.close());

async function pythonError(p: Promise<unknown>): Promise<PythonError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PythonError);
  return e as PythonError;
}

describe("tensor errors", () => {
  it("names conv2d and the shapes when the input has the wrong rank or channels", async () => {
    const rank = await pythonError(resnet.call(new Tensor("float32", new Float32Array(3 * 64 * 64), [3, 64 * 64])));
    expect(rank.pyType).toBe("RuntimeError");
    expect(rank.pyMessage).toMatch(/conv2d/i);
    expect(rank.pyMessage).toMatch(/\[3, 4096\]/);
    const channels = await pythonError(resnet.call(new Tensor("float32", new Float32Array(2 * 4 * 8 * 8), [2, 4, 8, 8])));
    expect(channels.pyMessage).toMatch(/channels|shape|4/);
    expect(channels.pyMessage).toMatch(/\[2, 4, 8, 8\]/);
  });

  it("names the op and the dtypes when the input dtype is wrong", async () => {
    const e = await pythonError(resnet.call(new Tensor("int64", new BigInt64Array(2 * 3 * 8 * 8), [2, 3, 8, 8])));
    expect(e.pyMessage).toMatch(/conv2d|convolution/i);
    expect(e.pyMessage).toMatch(/Long|int64/);
    expect(e.pyMessage).toMatch(/Float|float32/);
  });

  it("refuses a host tensor whose data does not match its shape or dtype before anything is sent", () => {
    expect(() => new Tensor("float32", new Float32Array(10), [2, 3])).toThrow(/shape \[2, 3\] has 6 elements but the Float32Array has 10/);
    expect(() => new Tensor("int64", new Float32Array(6) as never, [2, 3])).toThrow(/int64 tensor needs its data in a BigInt64Array/);
  });

  it("raises NotImplementedError naming an unsupported op", async () => {
    await manager.registerModuleSource("uses_fft", "import torch\ndef f(x):\n    return torch.fft.fft(x)\ndef svd(x):\n    return torch.linalg.svd(x)\n");
    const s = await manager.acquireOne();
    const fft = await pythonError((await s.global("uses_fft", "f")).call(new Tensor("float32", new Float32Array(4), [4])));
    expect(fft.pyType).toMatch(/NotImplementedError/);
    expect(fft.pyMessage).toMatch(/fft/);
    const svd = await pythonError((await s.global("uses_fft", "svd")).call(new Tensor("float32", new Float32Array(4), [2, 2])));
    expect(svd.pyMessage).toMatch(/svd/);
    await s.release();
  });

  it("keeps serving correct results afterwards", async () => {
    const out = (await resnet.call(load("resnet_basic.input.npy"))) as Tensor;
    compare(out, load("resnet_basic.expected.npy"), "resnet_basic after errors");
  });
});
