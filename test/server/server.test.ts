// The OIP v2 REST server over real HTTP on 127.0.0.1: committed conformance models and
// models packaged now by real PyTorch must give PyTorch's outputs; every datatype, JSON and
// binary; every client error is a 400/404/405/503 with a JSON error and the server keeps
// serving; 64 concurrent requests; batching gives the results of no batching; metrics.

import { execFileSync } from "node:child_process";
import http from "node:http";
import net from "node:net";
import zlib from "node:zlib";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PythonError, Tensor } from "wasmdeploy";
import { toHttpError } from "wasmdeploy/server";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import {
  binaryBody,
  bytesElements,
  bytesOf,
  getJson,
  hasTorch,
  jsonInput,
  type OipOutput,
  outputTensor,
  parsePrometheus,
  postJson,
  PYTHON,
  readBinaryResponse,
  startServer,
} from "./harness.js";

const MODELS = path.join(ROOT, "packages", "models");
const REALWORLD = path.join(MODELS, "realworld");
const npy = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));
const manifest = JSON.parse(readFileSync(path.join(MODELS, "models.json"), "utf8")) as {
  models: { name: string; file: string; inputs: { file: string }[]; outputs: { file: string }[] }[];
};
const CONFORMANCE = ["resnet_basic", "dtype_zoo", "lstm", "tiny_gpt", "transformer_encoder", "mha"];
const MAX_BODY = 4 * 2 ** 20;

const out = mkdtempSync(path.join(tmpdir(), "wasmdeploy-server-"));
const repo = path.join(out, "repo");
let server: Awaited<ReturnType<typeof startServer>>;
let url = "";

beforeAll(async () => {
  if (hasTorch) execFileSync(PYTHON, [path.join(ROOT, "test", "server", "make_server_models.py"), out], { stdio: "pipe" });
  // A repository the repository extension loads from: probe with a config.json.
  mkdirSync(path.join(repo, "probe_repo", "3"), { recursive: true });
  if (hasTorch) copyFileSync(path.join(out, "probe.pt"), path.join(repo, "probe_repo", "3", "model.pt"));
  writeFileSync(
    path.join(repo, "probe_repo", "config.json"),
    JSON.stringify({ inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3] }], outputs: [{ name: "doubled", datatype: "FP32", shape: [-1, 3] }, { name: "dtype", datatype: "BYTES", shape: [1] }] }),
  );
  const models = CONFORMANCE.map((n) => ({ name: n, source: path.join(MODELS, `${n}.pt`) }));
  models.push({ name: "tok", source: path.join(ROOT, "packages", "archives", "tokenizer.pt"), config: { pickle: "tok/tok.pkl", method: "encode", bytes_as: "str" } } as never);
  models.push({ name: "tok_bytes", source: path.join(ROOT, "packages", "archives", "tokenizer.pt"), config: { pickle: "tok/tok.pkl", method: "encode" } } as never);
  models.push({ name: "gpt_fresh", source: path.join(MODELS, "tiny_gpt.pt") });
  models.push({ name: "gpt_stats", source: path.join(MODELS, "tiny_gpt.pt") });
  // The batching test's 8 requests fill a batch, which then runs at once; the long delay only
  // keeps a loaded machine, slow to deliver them, from running them one by one.
  models.push({ name: "resnet_batched", source: path.join(MODELS, "resnet_basic.pt"), config: { max_batch_size: 8, max_queue_delay_ms: 5000 } } as never);
  models.push({ name: "structured", source: path.join(REALWORLD, "structured.pt"), config: { pickle: "model/structured.pkl" } } as never);
  if (hasTorch) {
    models.push({ name: "probe", source: path.join(out, "probe.pt") });
    models.push({ name: "text", source: path.join(out, "text.pt"), config: { pickle: "text/text.pkl" } } as never);
    models.push({ name: "kind", source: path.join(out, "text.pt"), config: { pickle: "text/kind.pkl" } } as never);
    models.push({ name: "kind_str", source: path.join(out, "text.pt"), config: { pickle: "text/kind.pkl", bytes_as: "str" } } as never);
    models.push({ name: "probe_batched", source: path.join(out, "probe.pt"), config: { max_batch_size: 4, max_queue_delay_ms: 100 } } as never);
    models.push({
      name: "strict",
      source: path.join(out, "probe.pt"),
      config: { inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3] }], outputs: [{ name: "doubled", datatype: "FP32" }, { name: "dtype", datatype: "BYTES" }] },
    } as never);
  }
  server = await startServer(models, { maxBodyBytes: MAX_BODY, repository: repo });
  url = server.url;
});

afterAll(async () => {
  await server?.close();
  rmSync(out, { recursive: true, force: true });
});

async function inferJson(model: string, inputs: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return postJson(`${url}/v2/models/${model}/infer`, { inputs, ...extra });
}

/** The server still answers a good request (after every error case). */
async function stillServing() {
  const x = npy(path.join(MODELS, "tiny_gpt.input.npy"));
  const r = await inferJson("tiny_gpt", [jsonInput("INPUT__0", x)]);
  expect(r.status).toBe(200);
  compare(outputTensor(r.json.outputs[0]), npy(path.join(MODELS, "tiny_gpt.expected.npy")), "tiny_gpt after an error");
}

describe("health and metadata", () => {
  it("answers live, ready, server metadata, model metadata and model ready, with and without a version", async () => {
    expect(await getJson(`${url}/v2/health/live`)).toStrictEqual({ status: 200, json: { live: true } });
    expect(await getJson(`${url}/v2/health/ready`)).toStrictEqual({ status: 200, json: { ready: true } });
    const meta = await getJson(`${url}/v2`);
    expect(meta.json.name).toBe("wasmdeploy");
    expect(meta.json.extensions).toContain("binary_tensor_data");
    expect(meta.json.extensions).toContain("model_repository");
    for (const p of ["/v2/models/tiny_gpt", "/v2/models/tiny_gpt/versions/1"]) {
      const m = await getJson(url + p);
      expect(m.status).toBe(200);
      expect(m.json).toMatchObject({ name: "tiny_gpt", versions: ["1"], platform: "wasmdeploy_torch_package" });
    }
    for (const p of ["/v2/models/tiny_gpt/ready", "/v2/models/tiny_gpt/versions/1/ready"]) {
      expect(await getJson(url + p)).toStrictEqual({ status: 200, json: { name: "tiny_gpt", ready: true } });
    }
    expect((await getJson(`${url}/v2/models/tiny_gpt/versions/2`)).status).toBe(404);
    expect((await getJson(`${url}/v2/models/nope/ready`)).status).toBe(404);
  });

  it("names the inputs before the first call, from the signature: INPUT__n, the first layer's datatype and what it tells of the shape", async () => {
    // Nothing has called these models yet.
    const inputs = async (m: string) => (await getJson(`${url}/v2/models/${m}`)).json.inputs;
    // The tiny GPT's first layer is an Embedding: token ids; resnet's is Conv2d(3, ...).
    expect(await inputs("gpt_fresh")).toStrictEqual([{ name: "INPUT__0", datatype: "INT64", shape: [-1, -1] }]);
    expect(await inputs("resnet_batched")).toStrictEqual([{ name: "INPUT__0", datatype: "FP32", shape: [-1, 3, -1, -1] }]);
    // forward(self, x, memory): both inputs named, datatypes a guess where nothing tells.
    expect((await inputs("mha")).map((t: OipOutput) => t.name)).toStrictEqual(["INPUT__0", "INPUT__1"]);
    // A plain Python method (tok.encode(self, text)): one value.
    expect(await inputs("tok_bytes")).toStrictEqual([{ name: "INPUT__0", datatype: "BYTES", shape: [] }]);
    // Clients that read metadata first can call with it.
    const x = npy(path.join(MODELS, "tiny_gpt.input.npy"));
    const [meta] = await inputs("gpt_fresh");
    const r = await inferJson("gpt_fresh", [{ ...jsonInput(meta.name, x), datatype: meta.datatype }]);
    expect(r.status).toBe(200);
    compare(outputTensor(r.json.outputs[0]), npy(path.join(MODELS, "tiny_gpt.expected.npy")), "gpt_fresh from its metadata");
  });

  it("learns INPUT__n / OUTPUT__n names, datatypes and shapes at the first call; the batch dim and a dim that varies are -1", async () => {
    const x = npy(path.join(MODELS, "dtype_zoo.input.npy"));
    const x1 = npy(path.join(MODELS, "dtype_zoo.input1.npy"));
    expect((await inferJson("dtype_zoo", [jsonInput("INPUT__1", x1), jsonInput("INPUT__0", x)])).status).toBe(200);
    const m = (await getJson(`${url}/v2/models/dtype_zoo`)).json;
    expect(m.inputs).toStrictEqual([
      { name: "INPUT__0", datatype: "FP32", shape: [-1, 8] },
      { name: "INPUT__1", datatype: "INT32", shape: [-1, 8] },
    ]);
    expect(m.outputs.map((o: OipOutput) => `${o.name}:${o.datatype}`)).toStrictEqual([
      "OUTPUT__0:FP64", "OUTPUT__1:FP16", "OUTPUT__2:INT32", "OUTPUT__3:UINT8", "OUTPUT__4:BOOL", "OUTPUT__5:FP32", "OUTPUT__6:INT64", "OUTPUT__7:INT64",
    ]);
    const tok = npy(path.join(MODELS, "tiny_gpt.input.npy"));
    await inferJson("tiny_gpt", [jsonInput("INPUT__0", tok)]);
    const short = new Tensor("int64", (tok.data as BigInt64Array).slice(0, 2 * 8), [2, 8]);
    expect((await inferJson("tiny_gpt", [jsonInput("INPUT__0", short)])).status).toBe(200);
    expect((await getJson(`${url}/v2/models/tiny_gpt`)).json.inputs).toStrictEqual([{ name: "INPUT__0", datatype: "INT64", shape: [-1, -1] }]);
    expect((await getJson(`${url}/v2/models/tiny_gpt`)).json.outputs).toStrictEqual([{ name: "OUTPUT__0", datatype: "FP32", shape: [-1, -1, 64] }]);
  });

  // "strict" is probe.pt, packaged in beforeAll by real PyTorch: there is no such model without it.
  it.runIf(hasTorch)("takes model metadata from the config when given", async () => {
    const m = (await getJson(`${url}/v2/models/strict`)).json;
    expect(m.inputs).toStrictEqual([{ name: "x", datatype: "FP32", shape: [-1, 3] }]);
    expect(m.outputs.map((o: OipOutput) => o.name)).toStrictEqual(["doubled", "dtype"]);
  });
});

describe("structured results", () => {
  it("a dataclass result (ModelOutput style) gives one output per field; None fields are left out", async () => {
    const call = (JSON.parse(readFileSync(path.join(REALWORLD, "realworld.json"), "utf8")) as {
      models: Record<string, { calls: { args: { $npy: string }[]; result: Record<string, { $npy: string } | number | null> }[] }>;
    }).models.structured!.calls[0]!;
    const r = await inferJson("structured", [jsonInput("INPUT__0", npy(path.join(REALWORLD, call.args[0]!.$npy)))]);
    expect(r.status, JSON.stringify(r.json).slice(0, 300)).toBe(200);
    expect(r.json.outputs.map((o: OipOutput) => `${o.name}:${o.datatype}`)).toStrictEqual(["logits:FP32", "hidden:FP32", "n_tokens:INT64"]);
    for (const k of ["logits", "hidden"] as const) {
      compare(outputTensor(r.json.outputs.find((o: OipOutput) => o.name === k)), npy(path.join(REALWORLD, (call.result[k] as { $npy: string }).$npy)), k);
    }
    expect(r.json.outputs[2].data).toStrictEqual([call.result.n_tokens]);
  });
});

describe("conformance models through the server match PyTorch", () => {
  for (const name of CONFORMANCE) {
    it(`${name} (JSON tensors)`, async () => {
      const entry = manifest.models.find((m) => m.name === name)!;
      const inputs = entry.inputs.map((i, k) => jsonInput(`INPUT__${k}`, npy(path.join(MODELS, i.file))));
      const r = await inferJson(name, inputs);
      expect(r.status, JSON.stringify(r.json).slice(0, 300)).toBe(200);
      expect(r.json.model_name).toBe(name);
      expect(r.json.outputs.map((o: OipOutput) => o.name)).toStrictEqual(entry.outputs.map((_, k) => `OUTPUT__${k}`));
      entry.outputs.forEach((o, k) => compare(outputTensor(r.json.outputs[k]), npy(path.join(MODELS, o.file)), `${name} output ${k}`));
    });
  }

  it("resnet_basic and dtype_zoo with the binary tensor data extension, in and out", async () => {
    for (const name of ["resnet_basic", "dtype_zoo"]) {
      const entry = manifest.models.find((m) => m.name === name)!;
      const tensors = entry.inputs.map((i) => npy(path.join(MODELS, i.file)));
      const { body, headerLength } = binaryBody(
        {
          inputs: tensors.map((t, k) => ({ ...jsonInput(`INPUT__${k}`, t), data: undefined, parameters: { binary_data_size: t.data.byteLength } })),
          parameters: { binary_data_output: true },
        },
        tensors.map(bytesOf),
      );
      const res = await fetch(`${url}/v2/models/${name}/infer`, {
        method: "POST",
        body,
        headers: { "inference-header-content-length": String(headerLength), "content-type": "application/octet-stream" },
      });
      expect(res.status).toBe(200);
      const { json, blobs } = await readBinaryResponse(res);
      entry.outputs.forEach((o, k) => {
        const meta = json.outputs[k]!;
        const expected = npy(path.join(MODELS, o.file));
        const got = Tensor.fromNpy(new Tensor(expected.dtype, new (expected.data.constructor as any)(blobs.get(meta.name)!.buffer), meta.shape).toNpy());
        compare(got, expected, `${name} binary output ${k}`);
      });
    }
  });

  it("binary_data per output: only the named output leaves JSON", async () => {
    const x = npy(path.join(MODELS, "lstm.input.npy"));
    const res = await fetch(`${url}/v2/models/lstm/infer`, {
      method: "POST",
      body: JSON.stringify({ inputs: [jsonInput("INPUT__0", x)], outputs: [{ name: "OUTPUT__2", parameters: { binary_data: true } }, { name: "OUTPUT__0" }] }),
    });
    const { json, blobs } = await readBinaryResponse(res);
    expect(json.outputs.map((o) => o.name)).toStrictEqual(["OUTPUT__2", "OUTPUT__0"]);
    expect(json.outputs[1]!.data).toBeDefined();
    const c = new Tensor("float32", new Float32Array(blobs.get("OUTPUT__2")!.buffer), json.outputs[0]!.shape);
    compare(c, npy(path.join(MODELS, "lstm.expected2.npy")), "lstm c (binary)");
  });
});

describe.runIf(hasTorch)("every OIP datatype with a torch dtype, into a model packaged now by real PyTorch", () => {
  const names = () => JSON.parse(readFileSync(path.join(out, "probe.json"), "utf8")) as Record<string, string>;
  for (const dtype of ["float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool"]) {
    it(`${dtype}: JSON and binary reach Python as torch.${dtype} and come back as PyTorch computed them`, async () => {
      const x = npy(path.join(out, `probe.${dtype}.input.npy`));
      const expected = npy(path.join(out, `probe.${dtype}.expected.npy`));
      const r = await inferJson("probe", [jsonInput("INPUT__0", x)]);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      compare(outputTensor(r.json.outputs[0]), expected, `probe ${dtype} (JSON)`);
      expect(r.json.outputs[1]).toStrictEqual({ name: "OUTPUT__1", datatype: "BYTES", shape: [1], data: [names()[dtype]] });
      const { body, headerLength } = binaryBody(
        { inputs: [{ ...jsonInput("INPUT__0", x), data: undefined, parameters: { binary_data_size: x.data.byteLength } }], outputs: [{ name: "OUTPUT__0", parameters: { binary_data: true } }] },
        [bytesOf(x)],
      );
      const res = await fetch(`${url}/v2/models/probe/infer`, { method: "POST", body, headers: { "inference-header-content-length": String(headerLength) } });
      expect(res.status).toBe(200);
      const { json, blobs } = await readBinaryResponse(res);
      const blob = blobs.get("OUTPUT__0")!;
      const got = new Tensor(expected.dtype, new (expected.data.constructor as any)(blob.buffer, 0, blob.byteLength / expected.data.BYTES_PER_ELEMENT), json.outputs[0]!.shape);
      compare(got, expected, `probe ${dtype} (binary)`);
    });
  }

  it("INT16 is widened to int32 (the engine has no int16): values exact, datatype INT32", async () => {
    const raw = readFileSync(path.join(out, "probe.int16.input.npy"));
    // The .npy header says <i2; read the 6 values after it.
    const values = Array.from(new Int16Array(raw.buffer.slice(raw.byteOffset + raw.length - 12, raw.byteOffset + raw.length)));
    const r = await inferJson("probe", [{ name: "INPUT__0", datatype: "INT16", shape: [2, 3], data: values }]);
    expect(r.status).toBe(200);
    expect(r.json.outputs[0]).toStrictEqual({ name: "OUTPUT__0", datatype: "INT32", shape: [4, 3], data: [...values, ...values] });
    expect(r.json.outputs[1].data).toStrictEqual(["torch.int32"]);
    const bin = new Uint8Array(new Int16Array(values).buffer);
    const { body, headerLength } = binaryBody({ inputs: [{ name: "INPUT__0", datatype: "INT16", shape: [2, 3], parameters: { binary_data_size: bin.length } }] }, [bin]);
    const res = await fetch(`${url}/v2/models/probe/infer`, { method: "POST", body, headers: { "inference-header-content-length": String(headerLength) } });
    expect((await res.json()).outputs[0].data).toStrictEqual([...values, ...values]);
  });

  it("BYTES: elements reach Python as bytes (nested by shape) over JSON and binary alike, results as PyTorch's Python gave them", async () => {
    const want = JSON.parse(readFileSync(path.join(out, "text.json"), "utf8"));
    let r = await inferJson("text", [{ name: "INPUT__0", datatype: "BYTES", shape: [1], data: ["héllo"] }]);
    expect(r.json.outputs).toStrictEqual([{ name: "OUTPUT__0", datatype: "BYTES", shape: [1], data: [want.one_bytes] }]);
    r = await inferJson("text", [{ name: "INPUT__0", datatype: "BYTES", shape: [2, 2], data: [["ab", "cd"], ["ef", "gh"]] }]);
    expect(r.json.outputs).toStrictEqual([{ name: "OUTPUT__0", datatype: "BYTES", shape: [2, 2], data: want.list.flat() }]);
    const el = new TextEncoder().encode("abc");
    const bin = new Uint8Array(4 + el.length);
    new DataView(bin.buffer).setUint32(0, el.length, true);
    bin.set(el, 4);
    const { body, headerLength } = binaryBody({ inputs: [{ name: "INPUT__0", datatype: "BYTES", shape: [], parameters: { binary_data_size: bin.length } }] }, [bin]);
    const res = await fetch(`${url}/v2/models/text/infer`, { method: "POST", body, headers: { "inference-header-content-length": String(headerLength) } });
    expect((await res.json()).outputs[0].data).toStrictEqual([want.bytes]);
  });

  it("BYTES has one meaning whatever the transport: the same strings as JSON and as binary reach Python as the same type and value", async () => {
    const strings = [["héllo", "a"], ["", "ünï"]];
    const viaJson = (model: string) => inferJson(model, [{ name: "INPUT__0", datatype: "BYTES", shape: [2, 2], data: strings }]);
    const viaBinary = async (model: string) => {
      const bin = bytesElements(strings.flat());
      const { body, headerLength } = binaryBody({ inputs: [{ name: "INPUT__0", datatype: "BYTES", shape: [2, 2], parameters: { binary_data_size: bin.length } }] }, [bin]);
      const res = await fetch(`${url}/v2/models/${model}/infer`, { method: "POST", body, headers: { "inference-header-content-length": String(headerLength) } });
      return { status: res.status, json: await res.json() };
    };
    for (const [model, type] of [["kind", "bytes"], ["kind_str", "str"]] as const) {
      const [j, b] = [await viaJson(model), await viaBinary(model)];
      expect(j.status).toBe(200);
      expect(b.json).toStrictEqual(j.json);
      expect(j.json.outputs[0]).toStrictEqual({ name: "OUTPUT__0", datatype: "BYTES", shape: [2, 2], data: strings.flat().map((x) => `${type}:${x}`) });
    }
    // Not UTF-8, for a model that takes str: a 400 naming the element.
    const bad = new Uint8Array([1, 0, 0, 0, 0xff]);
    const { body, headerLength } = binaryBody({ inputs: [{ name: "INPUT__0", datatype: "BYTES", shape: [1], parameters: { binary_data_size: bad.length } }] }, [bad]);
    const res = await fetch(`${url}/v2/models/kind_str/infer`, { method: "POST", body, headers: { "inference-header-content-length": String(headerLength) } });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/element 0 is not UTF-8/);
  });

  it("a Python exception is a 400 with the Python message and no traceback", async () => {
    const r = await inferJson("text", [{ name: "INPUT__0", datatype: "BYTES", shape: [1], data: ["boom"] }]);
    expect(r.status).toBe(400);
    expect(r.json.error).toBe(readFileSync(path.join(out, "text.error.txt"), "utf8"));
    expect(JSON.stringify(r.json)).not.toContain("Traceback");
    await stillServing();
  });
});

describe("client errors leave the server serving", () => {
  const x = () => npy(path.join(MODELS, "tiny_gpt.input.npy"));
  const cases: [string, () => Promise<{ status: number; json: any }>, number, RegExp][] = [
    ["bad JSON", () => postJson(`${url}/v2/models/tiny_gpt/infer`, "{\"inputs\": ["), 400, /not valid JSON/],
    ["no inputs array", () => postJson(`${url}/v2/models/tiny_gpt/infer`, { input: [] }), 400, /"inputs" array/],
    ["shape/data length mismatch", () => inferJson("tiny_gpt", [{ ...jsonInput("INPUT__0", x()), shape: [2, 15] }]), 400, /has 30 elements but "data" has 32/],
    ["a value of the wrong datatype", () => inferJson("tiny_gpt", [{ name: "INPUT__0", datatype: "INT64", shape: [1], data: [1.5] }]), 400, /not a INT64 value/],
    ["an unknown datatype", () => inferJson("tiny_gpt", [{ name: "INPUT__0", datatype: "FP8", shape: [1], data: [1] }]), 400, /unknown datatype/],
    ["a datatype with no torch dtype", () => inferJson("tiny_gpt", [{ name: "INPUT__0", datatype: "UINT32", shape: [1], data: [1] }]), 400, /no torch dtype/],
    ["a datatype other than the config's", () => inferJson("strict", [{ name: "x", datatype: "FP64", shape: [1, 3], data: [1, 2, 3] }]), 400, /must be FP32/],
    ["a shape other than the config's", () => inferJson("strict", [{ name: "x", datatype: "FP32", shape: [3, 1], data: [1, 2, 3] }]), 400, /must have shape \[-1, 3\]/],
    ["an input the config does not name", () => inferJson("strict", [{ name: "y", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }]), 400, /has no input y/],
    ["an output the model does not have", () => inferJson("tiny_gpt", [jsonInput("INPUT__0", x())], { outputs: [{ name: "OUTPUT__9" }] }), 400, /no output OUTPUT__9/],
    ["an unknown model", () => inferJson("nope", [jsonInput("INPUT__0", x())]), 404, /unknown model/],
    ["an unknown version", () => postJson(`${url}/v2/models/tiny_gpt/versions/7/infer`, { inputs: [jsonInput("INPUT__0", x())] }), 404, /no version "7"/],
    ["an unknown route", () => getJson(`${url}/v3/models`), 404, /no route/],
    ["GET on infer", () => getJson(`${url}/v2/models/tiny_gpt/infer`), 405, /takes POST/],
    ["a model's op failing on a wrong input shape", () => inferJson("resnet_basic", [{ name: "INPUT__0", datatype: "FP32", shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }]), 400, /./],
  ];
  for (const [what, send, status, message] of cases) {
    it(`${what}: ${status}`, async () => {
      if (!hasTorch && /config/.test(what)) return;
      await stillServing(); // learns tiny_gpt's input first
      const r = await send();
      expect(r.status, JSON.stringify(r.json)).toBe(status);
      expect(Object.keys(r.json)).toStrictEqual(["error"]);
      expect(r.json.error).toMatch(message);
      await stillServing();
    });
  }

  it("binary extension errors: sizes that do not match the shape, run past the body, or leave bytes over; a bad header length", async () => {
    const t = x();
    const send = async (size: number, extra: Uint8Array, headerLength?: string) => {
      const { body, headerLength: n } = binaryBody({ inputs: [{ name: "INPUT__0", datatype: "INT64", shape: [2, 16], parameters: { binary_data_size: size } }] }, [bytesOf(t), extra]);
      const res = await fetch(`${url}/v2/models/tiny_gpt/infer`, { method: "POST", body, headers: { "inference-header-content-length": headerLength ?? String(n) } });
      return { status: res.status, json: await res.json() };
    };
    const cases: [Promise<{ status: number; json: any }>, RegExp][] = [
      [send(255, new Uint8Array(0)), /needs 256 bytes/],
      [send(300, new Uint8Array(0)), /runs past the end/],
      [send(256, new Uint8Array(3)), /3 bytes that no input/],
      [send(256, new Uint8Array(0), "abc"), /Inference-Header-Content-Length/],
    ];
    for (const [p, message] of cases) {
      const r = await p;
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(message);
    }
    await stillServing();
  });

  it("an oversize body is a 400 and is not buffered", async () => {
    const big = new Uint8Array(MAX_BODY + 1024).fill(32);
    const res = await fetch(`${url}/v2/models/tiny_gpt/infer`, { method: "POST", body: big });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/over the 4194304-byte limit/);
    await stillServing();
  });

  it("503 while draining, for infer and readiness; liveness still answers", async () => {
    server.state.draining = true;
    try {
      const r = await inferJson("tiny_gpt", [jsonInput("INPUT__0", x())]);
      expect(r.status).toBe(503);
      expect(r.json.error).toMatch(/shutting down/);
      expect((await getJson(`${url}/v2/health/ready`)).status).toBe(503);
      expect((await getJson(`${url}/v2/health/live`)).status).toBe(200);
    } finally {
      server.state.draining = false;
    }
    await stillServing();
  });

  it("the traceback of a Python error is in the body only behind the debug flag", () => {
    const e = new PythonError("ValueError", "bad", "Traceback (most recent call last):\n  File \"m.py\"\nValueError: bad");
    expect(toHttpError(e, false).extra).toStrictEqual({});
    expect(toHttpError(e, true).extra).toStrictEqual({ traceback: e.pyTraceback });
    expect(toHttpError(new Error("our bug"), false).status).toBe(500);
  });
});

describe("load", () => {
  it("64 concurrent requests on two models are all answered with PyTorch's outputs", async () => {
    const gx = npy(path.join(MODELS, "tiny_gpt.input.npy"));
    const gy = npy(path.join(MODELS, "tiny_gpt.expected.npy"));
    const rx = npy(path.join(MODELS, "resnet_basic.input.npy"));
    const ry = npy(path.join(MODELS, "resnet_basic.expected.npy"));
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        i % 2 ? inferJson("tiny_gpt", [jsonInput("INPUT__0", gx)]) : inferJson("resnet_basic", [jsonInput("INPUT__0", rx)]),
      ),
    );
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      compare(outputTensor(r.json.outputs[0]), i % 2 ? gy : ry, `request ${i}`);
    });
  });

  it("dynamic batching gives the results of unbatched calls, and batches", async () => {
    const x = npy(path.join(MODELS, "resnet_basic.input.npy"));
    const row = (k: number) => new Tensor("float32", (x.data as Float32Array).slice(k * 3 * 64 * 64, (k + 1) * 3 * 64 * 64), [1, 3, 64, 64]);
    const rows = [0, 1, 0, 1, 1, 0, 0, 1].map(row);
    const [batched, plain] = await Promise.all(
      ["resnet_batched", "resnet_basic"].map((m) => Promise.all(rows.map((t) => inferJson(m, [jsonInput("INPUT__0", t)])))),
    );
    const expected = npy(path.join(MODELS, "resnet_basic.expected.npy"));
    rows.forEach((_, i) => {
      expect(batched![i]!.status).toBe(200);
      const b = outputTensor(batched![i]!.json.outputs[0]);
      compare(b, outputTensor(plain![i]!.json.outputs[0]), `request ${i}: batched vs unbatched`);
      const k = [0, 1, 0, 1, 1, 0, 0, 1][i]!;
      compare(b, new Tensor("float32", (expected.data as Float32Array).slice(k * 10, k * 10 + 10), [1, 10]), `request ${i} vs PyTorch`);
    });
    const m = parsePrometheus(await (await fetch(`${url}/metrics`)).text());
    const sum = m.get('wasmdeploy_batch_requests_sum{model="resnet_batched"}')!;
    const count = m.get('wasmdeploy_batch_requests_count{model="resnet_batched"}')!;
    expect(count).toBe(8);
    expect(sum / count).toBeGreaterThan(1);
    expect(m.get('wasmdeploy_batch_requests_sum{model="resnet_basic"}')).toBe(m.get('wasmdeploy_batch_requests_count{model="resnet_basic"}'));
  });
});

describe("Python values as outputs", () => {
  it("a pure-Python model (config method, bytes_as str) answers as CPython + torch.package did, over JSON and binary; a list of ints is INT64", async () => {
    const calls = (JSON.parse(readFileSync(path.join(ROOT, "packages", "archives", "expected.json"), "utf8"))["tokenizer.pt"].calls as { method: string; args: unknown[]; result: number[] }[]).filter((c) => c.method === "encode");
    for (const c of calls) {
      const r = await inferJson("tok", [{ name: "INPUT__0", datatype: "BYTES", shape: [], data: c.args }]);
      expect(r.status).toBe(200);
      const want = c.result.length ? [{ name: "OUTPUT__0", datatype: "INT64", shape: [c.result.length], data: c.result }] : [{ name: "OUTPUT__0", datatype: "BYTES", shape: [0], data: [] }];
      expect(r.json.outputs, JSON.stringify(c.args)).toStrictEqual(want);
      // The same string in the binary extension, and the default (bytes) model: one answer per model whatever the transport.
      for (const model of ["tok", "tok_bytes"]) {
        const bin = bytesElements([c.args[0] as string]);
        const { body, headerLength } = binaryBody({ inputs: [{ name: "INPUT__0", datatype: "BYTES", shape: [], parameters: { binary_data_size: bin.length } }] }, [bin]);
        const res = await fetch(`${url}/v2/models/${model}/infer`, { method: "POST", body, headers: { "inference-header-content-length": String(headerLength) } });
        const viaJson = await inferJson(model, [{ name: "INPUT__0", datatype: "BYTES", shape: [], data: c.args }]);
        expect((await res.json()).outputs, `${model} ${JSON.stringify(c.args)}`).toStrictEqual(viaJson.json.outputs);
        if (model === "tok") expect(viaJson.json.outputs).toStrictEqual(want);
      }
    }
  });
});

describe.runIf(hasTorch)("batching a model whose outputs do not follow dim 0", () => {
  it("answers each request with its own result (run one by one)", async () => {
    const rows = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]];
    const rs = await Promise.all(rows.map((r) => inferJson("probe_batched", [{ name: "INPUT__0", datatype: "FP32", shape: [1, 3], data: r }])));
    rs.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.json.outputs[0]).toStrictEqual({ name: "OUTPUT__0", datatype: "FP32", shape: [2, 3], data: [...rows[i]!, ...rows[i]!] });
    });
  });
});

describe("metrics and the repository extension", () => {
  it("/metrics is Prometheus text with requests by model and status, latencies and interpreter gauges", async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const m = parsePrometheus(await res.text());
    expect(m.get('wasmdeploy_requests_total{model="tiny_gpt",status="200"}')).toBeGreaterThan(0);
    expect(m.get('wasmdeploy_requests_total{model="tiny_gpt",status="400"}')).toBeGreaterThan(0);
    expect(m.get('wasmdeploy_requests_total{model="_unknown",status="404"}')).toBeGreaterThan(0);
    expect(m.get('wasmdeploy_queue_duration_seconds_count{model="tiny_gpt"}')).toBeGreaterThan(0);
    expect(m.get('wasmdeploy_compute_duration_seconds_count{model="tiny_gpt"}')).toBeGreaterThan(0);
    expect(m.get('wasmdeploy_interpreters{model="tiny_gpt"}')).toBe(1);
    expect(m.get('wasmdeploy_interpreter_heap_bytes{model="tiny_gpt"}')).toBeGreaterThan(0);
    expect(m.get('wasmdeploy_interpreter_busy_seconds_total{model="tiny_gpt"}')).toBeGreaterThan(0);
    // The weights the model's graphs read, registered once: more than nothing, less than the archive.
    const weights = m.get('wasmdeploy_engine_weight_bytes{model="tiny_gpt"}')!;
    expect(weights).toBeGreaterThan(10_000);
    expect(weights).toBeLessThan(statSync(path.join(ROOT, "packages/models/tiny_gpt.pt")).size);
    expect(m.get('wasmdeploy_engine_tensor_bytes{model="tiny_gpt"}')).toBeGreaterThanOrEqual(0);
  });

  it.runIf(hasTorch)("index, load (config.json from the repository), infer, unload", async () => {
    let index = (await postJson(`${url}/v2/repository/index`, {})).json;
    expect(index.find((e: { name: string }) => e.name === "probe_repo")).toStrictEqual({ name: "probe_repo", version: "3", state: "UNAVAILABLE", reason: "unloaded" });
    expect((await postJson(`${url}/v2/repository/models/probe_repo/load`, {})).json).toStrictEqual({ name: "probe_repo", load: true });
    index = (await postJson(`${url}/v2/repository/index`, { ready: true })).json;
    expect(index.map((e: { name: string }) => e.name)).toContain("probe_repo");
    expect((await getJson(`${url}/v2/models/probe_repo/versions/3`)).json.outputs[0].name).toBe("doubled");
    const r = await inferJson("probe_repo", [{ name: "x", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }]);
    expect(r.json.outputs).toStrictEqual([
      { name: "doubled", datatype: "FP32", shape: [2, 3], data: [1, 2, 3, 1, 2, 3] },
      { name: "dtype", datatype: "BYTES", shape: [1], data: ["torch.float32"] },
    ]);
    expect((await postJson(`${url}/v2/repository/models/probe_repo/unload`, {})).json).toStrictEqual({ name: "probe_repo", unload: true });
    expect((await inferJson("probe_repo", [{ name: "x", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }])).status).toBe(404);
    expect((await postJson(`${url}/v2/repository/models/missing/load`, {})).status).toBe(404);
    await stillServing();
  });
});

/** A raw request over node:http (no transparent decompression): status, headers and body bytes. */
function rawRequest(target: string, opts: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${target}`, { method: opts.method ?? "POST", headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("compression", () => {
  const x = () => npy(path.join(MODELS, "tiny_gpt.input.npy"));
  const y = () => npy(path.join(MODELS, "tiny_gpt.expected.npy"));
  const request = () => Buffer.from(JSON.stringify({ inputs: [jsonInput("INPUT__0", x())] }));

  it("takes gzip, deflate (zlib) and raw deflate request bodies, JSON and binary", async () => {
    for (const [coding, body] of [["gzip", zlib.gzipSync(request())], ["deflate", zlib.deflateSync(request())], ["deflate", zlib.deflateRawSync(request())], ["x-gzip", zlib.gzipSync(request())]] as const) {
      const r = await rawRequest("/v2/models/tiny_gpt/infer", { headers: { "content-encoding": coding, "content-type": "application/json" }, body });
      expect(r.status, `${coding}: ${r.body.toString().slice(0, 200)}`).toBe(200);
      compare(outputTensor(JSON.parse(r.body.toString()).outputs[0]), y(), `tiny_gpt, ${coding} request`);
    }
    // Binary extension: Inference-Header-Content-Length counts the decompressed JSON.
    const t = x();
    const { body, headerLength } = binaryBody({ inputs: [{ name: "INPUT__0", datatype: "INT64", shape: t.shape, parameters: { binary_data_size: t.data.byteLength } }] }, [bytesOf(t)]);
    const r = await rawRequest("/v2/models/tiny_gpt/infer", { headers: { "content-encoding": "gzip", "inference-header-content-length": String(headerLength) }, body: zlib.gzipSync(body) });
    expect(r.status, r.body.toString().slice(0, 200)).toBe(200);
    compare(outputTensor(JSON.parse(r.body.toString()).outputs[0]), y(), "tiny_gpt, gzip binary request");
  });

  it("applies the body limit after decompression: a compression bomb is a 400, and an unknown coding a 415", async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(MAX_BODY + 1024, 32));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const r = await rawRequest("/v2/models/tiny_gpt/infer", { headers: { "content-encoding": "gzip" }, body: bomb });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString()).error).toMatch(/decompresses to more than the 4194304-byte limit/);
    const garbage = await rawRequest("/v2/models/tiny_gpt/infer", { headers: { "content-encoding": "gzip" }, body: request() });
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body.toString()).error).toMatch(/not valid gzip data/);
    const br = await rawRequest("/v2/models/tiny_gpt/infer", { headers: { "content-encoding": "br" }, body: request() });
    expect(br.status).toBe(415);
    expect(br.headers["accept-encoding"]).toBe("gzip, deflate");
    expect(Object.keys(JSON.parse(br.body.toString()))).toStrictEqual(["error"]);
    await stillServing();
  });

  it("compresses responses when Accept-Encoding asks (q-values honoured), binary ones too", async () => {
    const cases: [string | undefined, string | undefined][] = [["gzip", "gzip"], ["deflate", "deflate"], ["gzip;q=0, deflate", "deflate"], ["br, *;q=0.5", "gzip"], ["identity", undefined], [undefined, undefined]];
    for (const [accept, coding] of cases) {
      const r = await rawRequest("/v2/models/tiny_gpt/infer", { headers: accept ? { "accept-encoding": accept } : {}, body: request() });
      expect(r.status).toBe(200);
      expect(r.headers["content-encoding"], String(accept)).toBe(coding);
      const text = coding === "gzip" ? zlib.gunzipSync(r.body) : coding === "deflate" ? zlib.inflateSync(r.body) : r.body;
      compare(outputTensor(JSON.parse(text.toString()).outputs[0]), y(), `response with Accept-Encoding ${accept}`);
    }
    const bin = await rawRequest("/v2/models/tiny_gpt/infer", { headers: { "accept-encoding": "gzip" }, body: JSON.stringify({ inputs: [jsonInput("INPUT__0", x())], parameters: { binary_data_output: true } }) });
    expect(bin.headers["content-encoding"]).toBe("gzip");
    const plain = zlib.gunzipSync(bin.body);
    const n = Number(bin.headers["inference-header-content-length"]);
    const head = JSON.parse(plain.subarray(0, n).toString()) as { outputs: OipOutput[] };
    const data = plain.subarray(n);
    compare(new Tensor("float32", new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)), head.outputs[0]!.shape), y(), "binary gzip response");
    // Small answers are not worth it.
    const live = await rawRequest("/v2/health/live", { method: "GET", headers: { "accept-encoding": "gzip" } });
    expect(live.headers["content-encoding"]).toBeUndefined();
  });
});

describe("statistics extension", () => {
  it("counts per model successes, failures, inferences, executions, queue and compute time, in Triton's shape", async () => {
    expect((await getJson(`${url}/v2`)).json.extensions).toContain("statistics");
    const x = npy(path.join(MODELS, "tiny_gpt.input.npy"));
    for (let i = 0; i < 3; i++) expect((await inferJson("gpt_stats", [jsonInput("INPUT__0", x)])).status).toBe(200);
    expect((await inferJson("gpt_stats", [{ name: "INPUT__0", datatype: "INT64", shape: [1], data: [1.5] }])).status).toBe(400);
    for (const p of ["/v2/models/gpt_stats/stats", "/v2/models/gpt_stats/versions/1/stats"]) {
      const r = await getJson(url + p);
      expect(r.status).toBe(200);
      expect(r.json.model_stats).toHaveLength(1);
      const m = r.json.model_stats[0];
      expect(m).toMatchObject({ name: "gpt_stats", version: "1", inference_count: 6, execution_count: 3 });
      expect(Date.now() - m.last_inference).toBeLessThan(60_000);
      const s = m.inference_stats;
      expect(Object.keys(s).sort()).toStrictEqual(["cache_hit", "cache_miss", "compute_infer", "compute_input", "compute_output", "fail", "queue", "success"]);
      expect(s.success.count).toBe(3);
      expect(s.fail.count).toBe(1);
      for (const k of ["queue", "compute_input", "compute_infer", "compute_output"]) expect(s[k].count, k).toBe(3);
      for (const k of ["success", "fail", "compute_infer"]) expect(s[k].ns, k).toBeGreaterThan(0);
      expect(s.success.ns).toBeGreaterThanOrEqual(s.compute_infer.ns);
      expect(m.batch_stats).toStrictEqual([{ batch_size: 1, compute_input: { count: 3, ns: 0 }, compute_infer: { count: 3, ns: s.compute_infer.ns > 0 ? expect.any(Number) : 0 }, compute_output: { count: 3, ns: 0 } }]);
    }
    const all = (await getJson(`${url}/v2/models/stats`)).json.model_stats.map((m: { name: string }) => m.name);
    expect(all).toContain("gpt_stats");
    expect(all).toContain("tiny_gpt");
    expect((await getJson(`${url}/v2/models/gpt_stats/versions/9/stats`)).status).toBe(404);
    expect((await getJson(`${url}/v2/models/nope/stats`)).status).toBe(404);
  });
});

describe("bodies over the limit", () => {
  it("a client that sends the whole oversized body gets the 400 and keeps its connection (no reset)", async () => {
    const size = MAX_BODY + 2 ** 20;
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    await new Promise<void>((r, j) => socket.once("connect", () => r()).once("error", j));
    let received = "";
    let failed: Error | undefined;
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    socket.on("error", (e) => (failed = e));
    // As tritonclient does: the headers, then the whole body, and only then read the answer.
    socket.write(`POST /v2/models/tiny_gpt/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
    const chunk = Buffer.alloc(2 ** 16, 32);
    for (let sent = 0; sent < size; sent += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
      if (!socket.write(part)) await new Promise((r) => socket.once("drain", r));
    }
    for (let i = 0; i < 200 && !/\r\n\r\n\{.*\}/s.test(received); i++) await new Promise((r) => setTimeout(r, 20));
    expect(failed).toBeUndefined();
    expect(received).toMatch(/^HTTP\/1\.1 400 /);
    expect(received).toMatch(/over the 4194304-byte limit/);
    // The connection still serves.
    received = "";
    socket.write("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    for (let i = 0; i < 200 && !/"live":true/.test(received); i++) await new Promise((r) => setTimeout(r, 20));
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(failed).toBeUndefined();
    socket.destroy();
  });
});

describe.runIf(hasTorch)("repository load with a config", () => {
  const load = (body: unknown) => postJson(`${url}/v2/repository/models/probe_repo/load`, body);
  const meta = async () => (await getJson(`${url}/v2/models/probe_repo`)).json;

  it("applies Triton's model config (input/output dims, max_batch_size, dynamic_batching, instance_group) or a config.json document", async () => {
    const triton = {
      name: "probe_repo",
      backend: "pytorch",
      max_batch_size: 4,
      input: [{ name: "x", data_type: "TYPE_FP32", dims: [3] }],
      output: [{ name: "twice", data_type: "TYPE_FP32", dims: [3] }, { name: "kind", data_type: "TYPE_STRING", dims: [1] }],
      dynamic_batching: { max_queue_delay_microseconds: 2000, default_queue_policy: { max_queue_size: 16 } },
      instance_group: [{ count: 1, kind: "KIND_CPU" }],
    };
    const r = await load({ parameters: { config: JSON.stringify(triton) } });
    expect(r.json).toStrictEqual({ name: "probe_repo", load: true });
    const m = await meta();
    expect(m.inputs).toStrictEqual([{ name: "x", datatype: "FP32", shape: [-1, 3] }]);
    expect(m.outputs).toStrictEqual([{ name: "twice", datatype: "FP32", shape: [-1, 3] }, { name: "kind", datatype: "BYTES", shape: [-1, 1] }]);
    const out = await inferJson("probe_repo", [{ name: "x", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }]);
    expect(out.json.outputs.map((o: OipOutput) => o.name)).toStrictEqual(["twice", "kind"]);
    // The config is enforced, as the repository's would be.
    expect((await inferJson("probe_repo", [{ name: "y", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }])).status).toBe(400);
    // A config.json document works the same way.
    expect((await load({ parameters: { config: { inputs: [{ name: "z", datatype: "FP32", shape: [-1, 3] }] } } })).status).toBe(200);
    expect((await meta()).inputs).toStrictEqual([{ name: "z", datatype: "FP32", shape: [-1, 3] }]);
  });

  it("refuses (400) a config it cannot apply, leaving the model as it was; files in the request are refused too", async () => {
    const before = await meta();
    const cases: [unknown, RegExp][] = [
      [{ parameters: { config: JSON.stringify({ instance_group: [{ count: 1, kind: "KIND_GPU" }] }) } }, /KIND_GPU.*not supported/],
      [{ parameters: { config: JSON.stringify({ input: [{ name: "x", data_type: "TYPE_BF16", dims: [3] }] }) } }, /TYPE_BF16.*not supported/],
      [{ parameters: { config: JSON.stringify({ sequence_batching: {} }) } }, /unknown key "sequence_batching"/],
      [{ parameters: { config: JSON.stringify({ name: "other" }) } }, /names model "other"/],
      [{ parameters: { config: "{not json" } }, /not valid JSON/],
      [{ parameters: { config: "{}", "file:1/model.pt": "AAAA" } }, /not supported/],
      [{ parameters: { colour: "blue" } }, /does not take the parameter "colour"/],
    ];
    for (const [body, message] of cases) {
      const r = await load(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error).toMatch(message);
      expect(await meta()).toStrictEqual(before);
    }
    // Without a config, the repository's own comes back.
    expect((await load({})).status).toBe(200);
    expect((await meta()).inputs).toStrictEqual([{ name: "x", datatype: "FP32", shape: [-1, 3] }]);
    expect((await meta()).outputs[0].name).toBe("doubled");
    expect((await postJson(`${url}/v2/repository/models/probe_repo/unload`, { parameters: { unload_dependents: false } })).status).toBe(200);
  });
});
