// Pillow inside the WASI interpreter's sci build (issue 21): archives made by real PyTorch that
// extern PIL (packages/make_pil_archives.py) decode, encode, convert and resize image bytes as
// Debian's Pillow 9.4.0 does, and torchvision's PIL transforms (Resize, ToTensor, PILToTensor)
// before a model give what real torchvision gives (packages/archives/pil/expected.json).

import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterCrashedError, InterpreterManager, parseTorchPackage, PythonError, Tensor, wasiBuildFor } from "wasmdeploy";
import { ROOT } from "../helpers.js";

const DIR = path.join(ROOT, "packages", "archives", "pil");

interface Call {
  archive: string;
  pickle: [string, string];
  method: string;
  args: [string, ...unknown[]];
  result: unknown;
}
interface TensorJson {
  dtype: string;
  shape: number[];
  data: number[];
}
const expected = JSON.parse(readFileSync(path.join(DIR, "expected.json"), "utf8")) as { calls: Call[] };
const image = (name: string) => new Uint8Array(readFileSync(path.join(DIR, name)));

/** A result as expected.json writes it: bytes as lists of numbers, tensors as {dtype, shape, data}. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (v instanceof Tensor) return { dtype: v.dtype, shape: [...v.shape], data: Array.from(v.data as ArrayLike<number>) };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function closeTensor(got: TensorJson, want: TensorJson, tol: number): string | undefined {
  if (got.dtype !== want.dtype || JSON.stringify(got.shape) !== JSON.stringify(want.shape)) return `${got.dtype}${JSON.stringify(got.shape)} vs ${want.dtype}${JSON.stringify(want.shape)}`;
  const worst = want.data.reduce((m, w, i) => Math.max(m, Math.abs(got.data[i]! - w)), 0);
  return worst <= tol ? undefined : `max |diff| ${worst} > ${tol}`;
}

describe("Pillow in the WASI interpreter's sci build", () => {
  let manager: InterpreterManager;

  beforeAll(async () => {
    manager = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", wasiBuild: "sci", callTimeoutMs: 60_000, onOutput: () => {} });
  });
  afterAll(async () => {
    await manager?.close();
  });

  for (const c of expected.calls.filter((x) => x.archive === "pil_codec.pt")) {
    it(`pil_codec.pt: ${c.method}(${JSON.stringify(c.args)}) gives Debian's Pillow's result`, async () => {
      const codec = (await manager.loadPackage(path.join(DIR, c.archive))).loadPickle(...c.pickle);
      const got = plain(await codec.callMethod(c.method, image(c.args[0]), ...c.args.slice(1)));
      // Exact: the same zlib and libjpeg-turbo versions, and libjpeg-turbo's C code paths give
      // the bytes its SIMD ones give (Debian's build uses SIMD; ours has none).
      expect(got).toEqual(c.result);
    });
  }

  for (const c of expected.calls.filter((x) => x.archive === "pil_transforms.pt")) {
    it(`pil_transforms.pt: ${c.method} on ${c.args[0]} (torchvision's PIL transforms) matches real torchvision`, async () => {
      const model = (await manager.loadPackage(path.join(DIR, c.archive))).loadPickle(...c.pickle);
      const got = plain(c.method === "__call__" ? await model.call(image(c.args[0])) : await model.callMethod(c.method, image(c.args[0])));
      const want = c.result;
      if (c.method === "images") {
        const [toTensor, pilToTensor, gray] = got as TensorJson[];
        const [wToTensor, wPilToTensor, wGray] = want as TensorJson[];
        // ToTensor divides bytes by 255 in float32: the same bytes give the same floats.
        expect(closeTensor(toTensor!, wToTensor!, 1e-7)).toBeUndefined();
        expect(pilToTensor).toEqual(wPilToTensor);
        expect(closeTensor(gray!, wGray!, 1e-7)).toBeUndefined();
      } else {
        expect(closeTensor(got as TensorJson, want as TensorJson, 1e-5)).toBeUndefined();
      }
    });
  }

  it("PIL's features report the codecs this build has (zlib and JPEG, not WebP or FreeType)", async () => {
    await manager.registerModuleSource(
      "pilfeatures",
      "from PIL import features\ndef run():\n    return [features.check(n) for n in ('zlib', 'jpg', 'webp', 'freetype2')] + [features.version('zlib'), features.version('jpg')]\n",
    );
    const s = await manager.acquireOne();
    try {
      // Debian's Pillow reports zlib 1.2.13 and libjpeg "6.2" (libjpeg-turbo's API version) as well.
      expect(await (await s.global("pilfeatures", "run")).call()).toEqual([true, true, false, false, "1.2.13", "6.2"]);
    } finally {
      await s.release();
    }
  });

  it("a JPEG libjpeg rejects ends that interpreter (InterpreterCrashedError, not OSError: no setjmp), and the next call decodes", async () => {
    // Debian's Pillow raises OSError("broken data stream ...") for these bytes; wasm32-wasi has
    // no longjmp back out of libjpeg's error handler (wasm/src/no-setjmp/setjmp.h, docs).
    const bad = image("img.jpg");
    const dht = bad.findIndex((b, i) => b === 0xff && bad[i + 1] === 0xc4);
    bad.fill(0xff, dht + 5, dht + 21); // Huffman code counts far past 256 codes
    const codec = (await manager.loadPackage(path.join(DIR, "pil_codec.pt"))).loadPickle("codec", "codec.pkl");
    await expect(codec.callMethod("decode", bad)).rejects.toBeInstanceOf(InterpreterCrashedError);
    expect(await codec.callMethod("decode", image("img.jpg"))).toMatchObject({ mode: "RGB", size: [16, 12] });
  });

  it("bytes that are not an image raise PIL's UnidentifiedImageError", async () => {
    const codec = (await manager.loadPackage(path.join(DIR, "pil_codec.pt"))).loadPickle("codec", "codec.pkl");
    const err = await codec.callMethod("decode", new Uint8Array([1, 2, 3, 4])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PythonError);
    expect((err as PythonError).pyType).toBe("PIL.UnidentifiedImageError");
  });
});

describe("choosing the build", () => {
  it("wasiBuildFor: archives that extern numpy or PIL need the sci build, others the default one", () => {
    const externs = (file: string) => parseTorchPackage(new Uint8Array(readFileSync(file)), file).externModules;
    expect(wasiBuildFor(externs(path.join(DIR, "pil_codec.pt")))).toBe("sci");
    expect(wasiBuildFor(externs(path.join(ROOT, "packages", "archives", "numpy", "np_forward.pt")))).toBe("sci");
    expect(wasiBuildFor(externs(path.join(ROOT, "packages", "archives", "values.pt")))).toBe("default");
    expect(wasiBuildFor(["numpy.linalg"])).toBe("sci");
    expect(wasiBuildFor(["numpyx", "PILLOW"])).toBe("default");
  });

  it("wasmdeploy call picks the sci build for an archive that externs numpy (no option needed)", () => {
    const np = JSON.parse(readFileSync(path.join(ROOT, "packages", "archives", "numpy", "expected.json"), "utf8")) as { calls: { archive: string; method: string; args?: unknown[]; result: unknown }[] };
    const c = np.calls.find((x) => x.archive === "np_prepost.pt" && x.method === "solve")!;
    const r = spawnSync("node", [path.join(ROOT, "dist", "cli", "main.js"), "call", path.join(ROOT, "packages", "archives", "numpy", "np_prepost.pt"), "--pickle", "pipe/pipe.pkl", "--method", "solve", "--args", JSON.stringify(c.args)], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(c.result);
  });

  it("wasmdeploy serve picks the sci build for a model whose archive externs numpy", async () => {
    const np = JSON.parse(readFileSync(path.join(ROOT, "packages", "archives", "numpy", "expected.json"), "utf8")) as { calls: { archive: string; input?: number[][]; result: number[][] }[] };
    const c = np.calls.find((x) => x.archive === "np_forward.pt")!;
    const port = 20000 + Math.floor(Math.random() * 20000);
    const proc = spawn("node", [path.join(ROOT, "dist", "cli", "main.js"), "serve", "--model", `npf=${path.join(ROOT, "packages", "archives", "numpy", "np_forward.pt")}:model/model.pkl`, "--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    proc.stderr.on("data", (d: Buffer) => (log += d.toString()));
    try {
      const url = `http://127.0.0.1:${port}/v2/models/npf/infer`;
      const body = JSON.stringify({ inputs: [{ name: "INPUT__0", shape: [c.input!.length, c.input![0]!.length], datatype: "FP32", data: c.input!.flat() }] });
      let r: Response | undefined;
      for (let i = 0; i < 600 && !r; i++) {
        r = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } }).catch(() => undefined);
        if (!r || r.status === 503) {
          r = undefined;
          await new Promise((ok) => setTimeout(ok, 100));
        }
      }
      const res = (await r!.json()) as { outputs: { data: number[] }[]; error?: string };
      expect(r!.status, `${res.error ?? ""}\n${log}`).toBe(200);
      const worst = c.result.flat().reduce((m, v, i) => Math.max(m, Math.abs(res.outputs[0]!.data[i]! - v)), 0);
      expect(worst).toBeLessThan(1e-5);
    } finally {
      proc.kill("SIGTERM");
    }
  });

  it("refuses an unknown wasiBuild, and the sci build for Pyodide, with a RangeError", async () => {
    await expect(InterpreterManager.create({ interpreters: 1, interpreter: "wasi", wasiBuild: "big" as never })).rejects.toThrow(RangeError);
    await expect(InterpreterManager.create({ interpreters: 1, interpreter: "pyodide", wasiBuild: "sci" })).rejects.toThrow(/WASI interpreter/);
  });
});
