// `wasmdeploy serve` keeps every model in a cell (a process of its own): a request that would
// fault natively gets an answer, and a native fault nobody foresaw ends only its own model's
// in-flight requests (a JSON 503) while the other models keep answering, and the cell restarts.

import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tensor } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import { binaryBody, bytesOf, jsonInput, outputTensor, postJson, readBinaryResponse, serve, type Served } from "./harness.js";

const MODELS = path.join(ROOT, "packages", "models");
const npy = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, f))));
const repo = mkdtempSync(path.join(tmpdir(), "wasmdeploy-cells-"));
let server: Served;

/** Pids of the server's cells, by model name (their arguments say whose they are). */
function cells(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readFileSync(`/proc/${server.child.pid}/task/${server.child.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const cell = args.find((a) => a.startsWith("--cell="));
    if (cell) out.set(cell.slice("--cell=".length), Number(pid));
  }
  return out;
}

const resnetIn = npy("resnet_basic.input.npy");
const resnetOut = npy("resnet_basic.expected.npy");
async function resnetAnswers(): Promise<void> {
  const r = await postJson(`${server.url}/v2/models/resnet/infer`, { inputs: [jsonInput("INPUT__0", resnetIn)] });
  expect(r.status, JSON.stringify(r.json).slice(0, 300)).toBe(200);
  compare(outputTensor(r.json.outputs[0]), resnetOut, "resnet");
}

beforeAll(async () => {
  // A slow model from a repository (its method comes from config.json).
  mkdirSync(path.join(repo, "slow", "1"), { recursive: true });
  copyFileSync(path.join(ROOT, "packages", "archives", "slow_counter.pt"), path.join(repo, "slow", "1", "model.pt"));
  writeFileSync(path.join(repo, "slow", "config.json"), JSON.stringify({ pickle: "slow/obj.pkl", method: "work" }));
  server = await serve(["--model", `resnet=${path.join(MODELS, "resnet_basic.pt")}`, "--model", `div=${path.join(MODELS, "int_div.pt")}`, "--repository", repo]);
});
afterAll(() => {
  if (server?.child.exitCode === null) server.child.kill("SIGKILL");
  rmSync(repo, { recursive: true, force: true });
});

describe("models in cells", () => {
  it("runs each model in a process of its own", () => {
    expect([...cells().keys()].sort()).toStrictEqual(["div", "resnet", "slow"]);
  });

  it("runs each cell with glibc's malloc held to 2 arenas (the server was started without MALLOC_ARENA_MAX)", () => {
    expect(process.env.MALLOC_ARENA_MAX).toBeUndefined();
    for (const [name, pid] of cells()) {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      expect(env, name).toContain("MALLOC_ARENA_MAX=2");
    }
  });

  it("reports each model's inputs before its first call: the signature read in the cell travels back with its ready message", async () => {
    const meta = await (await fetch(`${server.url}/v2/models/resnet`)).json();
    expect(meta.inputs).toStrictEqual([{ name: "INPUT__0", datatype: "FP32", shape: [-1, 3, -1, -1] }]);
    const div = await (await fetch(`${server.url}/v2/models/div`)).json();
    expect(div.inputs.map((t: { name: string }) => t.name)).toStrictEqual(["INPUT__0", "INPUT__1"]);
  });

  it("INT64_MIN floor-divided by -1 (which kills PyTorch) is answered over JSON and binary, and every model keeps serving", async () => {
    // PyTorch's inputs and outputs, with element [0, 0] made INT64_MIN / -1: numpy's wrap gives INT64_MIN.
    const a = npy("int_div.input.npy");
    const b = npy("int_div.input1.npy");
    const want = npy("int_div.expected.npy");
    (a.data as BigInt64Array)[0] = -(2n ** 63n);
    (b.data as BigInt64Array)[0] = -1n;
    (want.data as BigInt64Array)[0] = -(2n ** 63n);
    const before = cells().get("div");
    const json = await postJson(`${server.url}/v2/models/div/infer`, { inputs: [jsonInput("INPUT__0", a), jsonInput("INPUT__1", b)] });
    expect(json.status, JSON.stringify(json.json)).toBe(200);
    compare(outputTensor(json.json.outputs[0]), want, "JSON");
    const header = {
      inputs: [
        { name: "INPUT__0", datatype: "INT64", shape: [2, 3], parameters: { binary_data_size: 48 } },
        { name: "INPUT__1", datatype: "INT64", shape: [2, 3], parameters: { binary_data_size: 48 } },
      ],
      outputs: [{ name: "OUTPUT__0", parameters: { binary_data: true } }],
    };
    const { body, headerLength } = binaryBody(header, [bytesOf(a), bytesOf(b)]);
    const res = await fetch(`${server.url}/v2/models/div/infer`, { method: "POST", body, headers: { "inference-header-content-length": String(headerLength) } });
    expect(res.status).toBe(200);
    const bin = await readBinaryResponse(res);
    compare(new Tensor("int64", new BigInt64Array(bin.blobs.get("OUTPUT__0")!.slice().buffer), [2, 3]), want, "binary");
    expect(cells().get("div"), "the div cell did not crash").toBe(before);
    await resnetAnswers();
  });

  it("a native fault in one cell fails only its in-flight request, with a JSON 503; the others keep answering; the cell restarts", async () => {
    const slowPid = cells().get("slow")!;
    // A request that keeps the slow model's interpreter busy for seconds.
    const inFlight = postJson(`${server.url}/v2/models/slow/infer`, { inputs: [{ name: "INPUT__0", datatype: "INT64", shape: [], data: [200_000_000] }] });
    await new Promise((r) => setTimeout(r, 500));
    process.kill(slowPid, "SIGSEGV"); // what a fault in native code does
    const failed = await inFlight;
    expect(failed.status).toBe(503);
    expect(failed.json.error).toMatch(/cell ended \(SIGSEGV\).*no other model was affected/);
    // The others answer while it restarts.
    await resnetAnswers();
    const div = await postJson(`${server.url}/v2/models/div/infer`, { inputs: [jsonInput("INPUT__0", npy("int_div.input.npy")), jsonInput("INPUT__1", npy("int_div.input1.npy"))] });
    compare(outputTensor(div.json.outputs[0]), npy("int_div.expected.npy"), "div during the restart");
    // The restarted cell serves (this request waits for it).
    const again = await postJson(`${server.url}/v2/models/slow/infer`, { inputs: [{ name: "INPUT__0", datatype: "INT64", shape: [], data: [10] }] });
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    const newPid = cells().get("slow");
    expect(newPid).toBeDefined();
    expect(newPid).not.toBe(slowPid);
  });

  it("drains and exits 0 on SIGTERM, taking its cells with it", async () => {
    const pids = [...cells().values()];
    server.child.kill("SIGTERM");
    expect(await server.exit).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0), `cell ${pid} is gone`).toThrow();
  });
});
