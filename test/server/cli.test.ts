// `wasmdeploy serve` as a user runs it: a child process serving two archives made now by real
// PyTorch (not in the repository); inference matches PyTorch, a bad request is a 400 and the
// server keeps serving, 64 concurrent requests are all answered, /metrics is Prometheus text,
// and SIGTERM under load answers every in-flight request, refuses new ones, and exits 0.

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tensor } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import { getJson, hasTorch, jsonInput, outputTensor, parsePrometheus, postJson, PYTHON, serve, type Served } from "./harness.js";

const CLI = path.join(ROOT, "dist", "cli", "main.js");
const out = mkdtempSync(path.join(tmpdir(), "wasmdeploy-serve-"));
const npy = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));

const running: Served[] = [];
beforeAll(() => {
  if (!hasTorch) return;
  execFileSync(PYTHON, [path.join(ROOT, "packages", "make_torchvision_model.py"), "resnet18", out, "--size", "64", "--seed", "11"], { stdio: "pipe" });
  execFileSync(PYTHON, [path.join(ROOT, "test", "server", "make_server_models.py"), out], { stdio: "pipe" });
});
afterAll(() => {
  for (const s of running) if (s.child.exitCode === null) s.child.kill("SIGKILL");
  rmSync(out, { recursive: true, force: true });
});

describe("wasmdeploy serve, usage", () => {
  it("refuses bad arguments with exit code 2 before booting anything", () => {
    for (const args of [
      [],
      ["--model", "noequals"],
      ["--model", "a=x.pt", "--port", "http"],
      ["--model", "a=x.pt", "--model", "a=y.pt"],
      ["--input", "x:FP32:1", "--model", "a=x.pt"],
      ["--model", "a=x.pt", "--input", "x:FP99:1"],
      ["--model", "a=x.pt", "--input", "x:FP32:1.5"],
      ["--model", "a=x.pt", "--bytes-as", "utf16"],
    ]) {
      let code = 0;
      let stderr = "";
      try {
        execFileSync("node", [CLI, "serve", ...args], { stdio: "pipe" });
      } catch (e) {
        code = (e as { status: number }).status;
        stderr = String((e as { stderr: Buffer }).stderr);
      }
      expect(code, args.join(" ")).toBe(2);
      expect(stderr).toMatch(/wasmdeploy serve: /);
    }
  });

  it("exits 1 naming the model when an archive fails to load", async () => {
    const child = spawn("node", [CLI, "serve", "--model", "bad=/nonexistent/x.pt", "--port", "0", "--log-level", "silent"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).toBe(1);
    expect(err).toMatch(/model bad failed to load: .*file not found/);
  });
});

describe.runIf(hasTorch)("wasmdeploy serve --model a=X.pt --model b=Y.pt (archives made now by real PyTorch)", () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(["--model", `a=${path.join(out, "resnet18.pt")}`, "--input", "image:FP32:-1,3,64,64", "--model", `b=${path.join(out, "text.pt")}:text/text.pkl`]);
    running.push(s);
  });

  const a = () => postJson(`${s.url}/v2/models/a/infer`, { inputs: [jsonInput("image", npy(path.join(out, "resnet18.input.npy")))] });

  it("--input names the model's inputs: metadata before any call, enforced like a config's", async () => {
    expect((await getJson(`${s.url}/v2/models/a`)).json.inputs).toStrictEqual([{ name: "image", datatype: "FP32", shape: [-1, 3, 64, 64] }]);
    // b has no --input: its signature (a plain callable) names one value.
    expect((await getJson(`${s.url}/v2/models/b`)).json.inputs).toStrictEqual([{ name: "INPUT__0", datatype: "BYTES", shape: [] }]);
    const wrong = await postJson(`${s.url}/v2/models/a/infer`, { inputs: [{ name: "image", datatype: "FP32", shape: [1, 3, 2, 2], data: new Array(12).fill(0) }] });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toMatch(/must have shape \[-1, 3, 64, 64\]/);
  });

  it("inference matches PyTorch; a bad request is a 400 with a JSON error and the server keeps serving", async () => {
    const r = await a();
    expect(r.status).toBe(200);
    compare(outputTensor(r.json.outputs[0]), npy(path.join(out, "resnet18.expected.npy")), "resnet18 through serve");
    const bad = await postJson(`${s.url}/v2/models/a/infer`, "{not json");
    expect(bad.status).toBe(400);
    expect(typeof bad.json.error).toBe("string");
    const text = await postJson(`${s.url}/v2/models/b/infer`, { inputs: [{ name: "INPUT__0", datatype: "BYTES", shape: [1], data: ["héllo"] }] });
    // BYTES reach Python as bytes (Triton's Python backend's meaning): bytes.upper() leaves é alone.
    expect(text.json.outputs[0].data).toStrictEqual([JSON.parse(readFileSync(path.join(out, "text.json"), "utf8")).one_bytes]);
    expect((await a()).status).toBe(200);
  });

  it("answers 64 concurrent requests", async () => {
    const expected = npy(path.join(out, "resnet18.expected.npy"));
    const rs = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        i % 4 ? a() : postJson(`${s.url}/v2/models/b/infer`, { inputs: [{ name: "INPUT__0", datatype: "BYTES", shape: [2], data: ["x", `n${i}`] }] }),
      ),
    );
    rs.forEach((r, i) => {
      expect(r.status).toBe(200);
      if (i % 4) compare(outputTensor(r.json.outputs[0]), expected, `request ${i}`);
      else expect(r.json.outputs[0].data).toStrictEqual(["X", `N${i}`]);
    });
  });

  it("serves /metrics as Prometheus text, process metrics included", async () => {
    const res = await fetch(`${s.url}/metrics`);
    const m = parsePrometheus(await res.text());
    expect(m.get('wasmdeploy_requests_total{model="a",status="200"}')).toBeGreaterThanOrEqual(49);
    expect(m.get('wasmdeploy_requests_total{model="a",status="400"}')).toBe(2); // bad JSON, and a shape --input forbids
    expect(m.get("process_resident_memory_bytes")).toBeGreaterThan(0);
  });

  it("SIGTERM under load: in-flight requests are answered, new ones get 503 (never a reset or a closed port), and the process exits 0", async () => {
    const inflight = Array.from({ length: 12 }, () => a());
    // Bounded wait until the server holds them all (running or queued).
    for (let i = 0; i < 200; i++) {
      const m = parsePrometheus(await (await fetch(`${s.url}/metrics`)).text());
      if ((m.get('wasmdeploy_queue_length{model="a"}') ?? 0) + (m.get('wasmdeploy_calls_in_flight{model="a"}') ?? 0) >= 12) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    s.child.kill("SIGTERM");
    // Until the server has seen the signal (ready turns 503, or the port closes): a fixed wait
    // could end before a loaded machine delivers it, and the late request would then be served.
    for (let i = 0; i < 600; i++) {
      const ready = await fetch(`${s.url}/v2/health/ready`).then((r) => r.status, () => 0);
      if (ready !== 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const late = await a().then((r) => r.status, (e: Error) => (e.cause as { code?: string })?.code ?? e.message);
    expect(late).toBe(503);
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toStrictEqual(Array(12).fill(200));
    expect(await s.exit).toBe(0);
  });
});

describe.runIf(hasTorch)("wasmdeploy serve --repository DIR", () => {
  it("serves DIR/<name>/<version>/model.pt with config.json (batching, names), the highest version", async () => {
    const repo = path.join(out, "repo");
    for (const v of ["1", "2"]) {
      mkdirSync(path.join(repo, "probe", v), { recursive: true });
      copyFileSync(path.join(out, "probe.pt"), path.join(repo, "probe", v, "model.pt"));
    }
    writeFileSync(
      path.join(repo, "probe", "config.json"),
      JSON.stringify({ inputs: [{ name: "x", datatype: "FP32", shape: [-1, 2] }], outputs: [{ name: "y", datatype: "FP32", shape: [-1, 2] }, { name: "dtype", datatype: "BYTES", shape: [1] }], max_batch_size: 4, max_queue_delay_ms: 5, interpreters: 1 }),
    );
    mkdirSync(path.join(repo, "broken", "1"), { recursive: true });
    copyFileSync(path.join(out, "probe.pt"), path.join(repo, "broken", "1", "model.pt"));
    writeFileSync(path.join(repo, "broken", "config.json"), JSON.stringify({ interpreters: "many" }));
    const s = await serve(["--repository", repo], true);
    running.push(s);
    const meta = (await getJson(`${s.url}/v2/models/probe/versions/2`)).json;
    expect(meta.inputs).toStrictEqual([{ name: "x", datatype: "FP32", shape: [-1, 2] }]);
    const r = await postJson(`${s.url}/v2/models/probe/infer`, { id: "q1", inputs: [{ name: "x", datatype: "FP32", shape: [1, 2], data: [0.5, -1] }] });
    expect(r.json).toStrictEqual({
      model_name: "probe",
      model_version: "2",
      id: "q1",
      outputs: [
        { name: "y", datatype: "FP32", shape: [2, 2], data: [0.5, -1, 0.5, -1] },
        { name: "dtype", datatype: "BYTES", shape: [1], data: ["torch.float32"] },
      ],
    });
    const index = (await postJson(`${s.url}/v2/repository/index`, {})).json as { name: string; state: string; reason: string }[];
    expect(index.find((e) => e.name === "broken")).toMatchObject({ state: "UNAVAILABLE" });
    expect(index.find((e) => e.name === "broken")!.reason).toMatch(/interpreters must be a number/);
    expect((await getJson(`${s.url}/v2/models/broken/ready`)).status).toBe(503);
    // pino JSON lines; the request's line carries the id the response sent back.
    const res = await fetch(`${s.url}/v2/models/probe`, { headers: { "x-request-id": "trace-42" } });
    expect(res.headers.get("x-request-id")).toBe("trace-42");
    const anon = await fetch(`${s.url}/v2/models/nope`);
    const anonId = anon.headers.get("x-request-id")!;
    expect(anonId).toMatch(/^[0-9a-f-]{36}$/);
    s.child.kill("SIGINT");
    expect(await s.exit).toBe(0);
    const lines = s.stdout().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.req_id === "trace-42")).toMatchObject({ msg: "request", path: "/v2/models/probe", status: 200 });
    expect(lines.find((l) => l.req_id === anonId)).toMatchObject({ msg: "request", status: 404 });
    expect(lines.find((l) => l.msg === "model loaded" && l.model === "probe")).toBeDefined();
    expect(lines.find((l) => l.msg === "model failed to load" && l.model === "broken")).toBeDefined();
    expect(lines.at(-1)).toMatchObject({ msg: "stopped" });
  });
});
