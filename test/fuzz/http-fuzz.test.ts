// Malformed and hostile OIP requests, seeded: every one must get a JSON error the client caused
// (4xx, or 503/504 for the model's own limits), never a 500 or a dropped connection, and a
// neighbour's inference must keep returning PyTorch's exact outputs between them. Real HTTP on
// 127.0.0.1 to the in-process server (test/server/harness.ts).

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tensor } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import { jsonInput, outputTensor, startServer } from "../server/harness.js";
import { rng } from "./generate.js";

const MODELS = path.join(ROOT, "packages", "models");
const npy = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, f))));
let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer([
    { name: "resnet", source: path.join(MODELS, "resnet_basic.pt") },
    { name: "div", source: path.join(MODELS, "int_div.pt") },
  ], { maxBodyBytes: 4 * 2 ** 20 });
});
afterAll(() => server?.close());

const DATATYPES = ["FP32", "FP64", "FP16", "INT64", "INT32", "INT8", "UINT8", "BOOL", "BYTES", "UINT64", "fp32", "", 7, null];
const HOSTILE_NUMBERS = [0, -1, 1, -9223372036854775808, "-9223372036854775808", "9223372036854775808", 1e308, -1e308, 2 ** 53, 0.5, "NaN", null, true, [], {}];
const SHAPES: unknown[] = [[], [0], [1], [2, 3], [-1], [2 ** 31], [1e9, 1e9], [2, 3, 64, 64], [1.5], ["2"], null, 3, [[2]]];

/** One random request: a method, a path, headers and a body, mostly almost right. */
function request(r: ReturnType<typeof rng>): { method: string; path: string; headers: Record<string, string>; body?: string | Uint8Array } {
  const model = r.chance(0.85) ? r.pick(["resnet", "div"]) : r.pick(["nope", "../resnet", "resnet%00", "a".repeat(300)]);
  const path = r.chance(0.85) ? `/v2/models/${model}/infer` : r.pick(["/v2/models/div/versions/1/infer", "/v2/models/div/versions/9/infer", "/v2/../v2/health/ready", "/v2/models//infer", "/v2/models/div/infer?x=1"]);
  const method = r.chance(0.9) ? "POST" : r.pick(["GET", "PUT", "DELETE", "PATCH"]);
  const input = () => {
    const shape = r.pick(SHAPES);
    const data = r.chance(0.5) ? Array.from({ length: r.int(8) }, () => r.pick(HOSTILE_NUMBERS)) : r.pick([[], null, "x", [[1, 2], [3]], new Array(6).fill(r.pick(HOSTILE_NUMBERS))]);
    const t: Record<string, unknown> = { name: r.pick(["INPUT__0", "INPUT__1", "x", "", 5]), datatype: r.pick(DATATYPES), shape, data };
    if (r.chance(0.2)) t.parameters = { binary_data_size: r.pick([0, 8, -1, 1e12, "4"]) };
    if (r.chance(0.1)) delete t[r.pick(["name", "datatype", "shape", "data"])];
    return t;
  };
  let body: unknown = { inputs: Array.from({ length: r.int(4) }, input) };
  switch (r.int(10)) {
    case 0:
      return { method, path, headers: {}, body: r.pick(["{", "[]", "null", "", "\u0000", '{"inputs":{}}', '{"inputs":[null]}', "x".repeat(1000)]) };
    case 1:
      body = { ...(body as object), outputs: [{ name: r.pick(["OUTPUT__0", "nope", 3]), parameters: { binary_data: r.pick([true, "yes", 1]) } }] };
      break;
    case 2: {
      // Binary extension with a lying header length.
      const header = new TextEncoder().encode(JSON.stringify(body));
      const bin = new Uint8Array(header.length + r.int(64));
      bin.set(header);
      return { method, path, headers: { "inference-header-content-length": String(r.pick([header.length, header.length + 5, -3, 0, 1e15, "x"])) }, body: bin };
    }
    case 3:
      return { method, path, headers: { "content-encoding": r.pick(["gzip", "br", "x"]) }, body: JSON.stringify(body) };
    case 4:
      return { method, path, headers: {}, body: `{"inputs":${"[".repeat(100_000)}${"]".repeat(100_000)}}` };
  }
  return { method, path, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

describe("HTTP fuzzer (short run)", () => {
  it("300 malformed requests: each a JSON 4xx/503/504, none a 500 or a reset; the neighbour stays exact", async () => {
    const r = rng(20261205);
    const statuses = new Map<number, number>();
    const bad: string[] = [];
    const a = npy("int_div.input.npy");
    const b = npy("int_div.input1.npy");
    const want = npy("int_div.expected.npy");
    for (let i = 0; i < 300; i++) {
      const q = request(r);
      let status: number;
      let text = "";
      try {
        const res = await fetch(server.url + q.path, { method: q.method, headers: q.headers, body: q.method === "GET" ? undefined : q.body });
        status = res.status;
        text = await res.text();
      } catch (e) {
        bad.push(`case ${i}: ${q.method} ${q.path}: connection failed: ${(e as Error).message}`);
        continue;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500 && status !== 503 && status !== 504) bad.push(`case ${i}: ${q.method} ${q.path} -> ${status} ${text.slice(0, 200)}`);
      else if (status >= 400) {
        let error: unknown;
        try {
          error = (JSON.parse(text) as { error?: unknown }).error;
        } catch {
          /* not JSON */
        }
        if (typeof error !== "string") bad.push(`case ${i}: ${status} without a JSON error: ${text.slice(0, 200)}`);
      }
      if (i % 25 === 0) {
        const res = await fetch(`${server.url}/v2/models/div/infer`, { method: "POST", body: JSON.stringify({ inputs: [jsonInput("INPUT__0", a), jsonInput("INPUT__1", b)] }) });
        compare(outputTensor(((await res.json()) as { outputs: never[] }).outputs[0]!), want, `neighbour after case ${i}`);
      }
    }
    expect(bad).toStrictEqual([]);
    // The requests must mostly reach validation, not all die at the router.
    expect(statuses.get(400) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(100);
  });
});
