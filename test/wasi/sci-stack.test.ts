// The sci build's shadow stack is python.wasm's 1 MiB (WASMDEPLOY_STACK_SIZE, wasm/build-common.sh;
// it was 8 MiB): numpy's and Pillow's C code still has room for its work under recursion as deep
// as the default recursion limit allows through C, and recursion past the stack traps and ends
// only that call, as in the default build (test/wasi/wasi.test.ts).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterCrashedError, InterpreterManager } from "wasmdeploy";

const PROBE = `
import sys

def c_recursion_default_limit():
    def f():
        return list(map(lambda _: f(), [0]))
    try:
        f()
    except RecursionError:
        return "RecursionError"

def c_recursion_unlimited():
    sys.setrecursionlimit(10 ** 7)
    def f():
        return list(map(lambda _: f(), [0]))
    return f()

def work_at_depth(depth):
    import io
    import numpy as np
    from PIL import Image
    def work():
        a = np.arange(64 * 64, dtype=np.float64).reshape(64, 64) / 7.0
        s = np.linalg.svd(a)[1]
        e = np.einsum("ij,jk,kl->il", a, a, a)
        srt = np.sort(np.random.default_rng(0).random(100000))
        nested = np.zeros((1,) * 32)
        im = Image.fromarray((np.random.default_rng(1).random((256, 256, 3)) * 255).astype(np.uint8))
        buf = io.BytesIO()
        im.save(buf, "JPEG")
        buf.seek(0)
        im2 = Image.open(buf)
        im2.load()
        out = io.BytesIO()
        im2.resize((97, 131), Image.BICUBIC).rotate(33).save(out, "PNG")
        return [round(float(s[0]), 6), float(e[0, 1]) > 0, float(srt[0]) < 1e-4, nested.ndim, list(im2.size), len(out.getvalue()) > 0]
    def f(n):
        return work() if n == 0 else list(map(lambda _: f(n - 1), [0]))[0]
    return f(depth)
`;

describe("the sci build's 1 MiB shadow stack", () => {
  let manager: InterpreterManager;
  const probe = async (fn: string, ...args: unknown[]) => {
    const s = await manager.acquireOne();
    try {
      return await (await s.global("probe", fn)).call(...args);
    } finally {
      await s.release();
    }
  };

  beforeAll(async () => {
    manager = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", wasiBuild: "sci", callTimeoutMs: 120_000, onOutput: () => {} });
    await manager.registerModuleSource("probe", PROBE);
  });
  afterAll(async () => {
    await manager?.close();
  });

  it("numpy and PIL work under C recursion as deep as the default recursion limit allows", async () => {
    const want = [21617.148726, true, true, 32, [256, 256], true];
    expect(await probe("work_at_depth", 0)).toEqual(want);
    expect(await probe("work_at_depth", 250)).toEqual(want);
  });

  it("recursion through C stops at RecursionError within the default limit", async () => {
    expect(await probe("c_recursion_default_limit")).toBe("RecursionError");
  });

  it("recursion through C past the stack traps; the instance is replaced", async () => {
    await expect(probe("c_recursion_unlimited")).rejects.toBeInstanceOf(InterpreterCrashedError);
    expect(await probe("c_recursion_default_limit")).toBe("RecursionError");
  });
});
