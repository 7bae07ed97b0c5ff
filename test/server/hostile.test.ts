// A hostile archive served beside a good one (packages/archives/hostile/): each model has its
// own sandboxed interpreters and limits, so the hostile one hits its own deadline, memory limit
// and queue bound (504, 503/400, 429) and reaches nothing of the host, while the good model
// keeps answering with PyTorch's outputs.

import { hostname } from "node:os";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tensor } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ARCHIVES, ROOT } from "../helpers.js";
import { getJson, jsonInput, outputTensor, parsePrometheus, postJson, startServer } from "./harness.js";

const HOSTILE = path.join(ARCHIVES, "hostile");
const MODELS = path.join(ROOT, "packages", "models");
const npy = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));
const CANARY = `canary-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const manifest = JSON.parse(readFileSync(path.join(HOSTILE, "manifest.json"), "utf8"));
const forbidden = [CANARY, ...(hostname().length >= 4 && hostname() !== "localhost" ? [hostname()] : []), ...(manifest.common_must_not_contain as string[]).filter((s) => !s.startsWith("{"))];

let server: Awaited<ReturnType<typeof startServer>>;
const dos = (method: string, config: Record<string, unknown>) => ({
  name: `dos_${method}`,
  source: path.join(HOSTILE, "dos.pt"),
  config: { pickle: "hostile/dos.pkl", method, ...config },
});
const ROUTES = ["try_env_canary", "try_read_host_file", "try_other_package_weights", "try_js_process"];

beforeAll(async () => {
  process.env.WASMDEPLOY_CANARY = CANARY;
  server = await startServer([
    { name: "good", source: path.join(MODELS, "resnet_basic.pt") },
    { name: "victim", source: path.join(HOSTILE, "victim.pt"), config: { pickle: "victim/victim.pkl", method: "answer" } },
    dos("spin", { timeout_ms: 1500, max_queue: 1 }),
    dos("spin_swallow", { timeout_ms: 1000 }),
    // No deadline: on a slow machine it could end the call before the memory limit does.
    dos("grow_memory", { memory_limit_mb: 400 }),
    ...ROUTES.map((r) => ({ name: `escapes_${r}`, source: path.join(HOSTILE, "escapes.pt"), config: { pickle: "hostile/escapes.pkl", method: r } })),
  ]);
});
afterAll(async () => {
  await server?.close();
  delete process.env.WASMDEPLOY_CANARY;
});

const x = () => npy(path.join(MODELS, "resnet_basic.input.npy"));
const y = () => npy(path.join(MODELS, "resnet_basic.expected.npy"));
const infer = (model: string, inputs: unknown[] = []) => postJson(`${server.url}/v2/models/${model}/infer`, { inputs });

async function goodAnswers(n: number) {
  for (let i = 0; i < n; i++) {
    const r = await infer("good", [jsonInput("INPUT__0", x())]);
    expect(r.status).toBe(200);
    compare(outputTensor(r.json.outputs[0]), y(), `good model, request ${i}`);
  }
}

describe("a hostile model beside a good one", () => {
  it("spinning, swallowing the interrupt and eating memory end in the hostile model's own limits while the good one answers", async () => {
    const [spin, swallow, grow] = await Promise.all([
      infer("dos_spin"),
      infer("dos_spin_swallow"),
      infer("dos_grow_memory"),
      goodAnswers(6),
    ]);
    expect(spin!.status, JSON.stringify(spin!.json)).toBe(504);
    expect(spin!.json.error).toMatch(/deadline/);
    expect(swallow!.status).toBe(504);
    expect([400, 503], JSON.stringify(grow!.json)).toContain(grow!.status);
    expect(grow!.json.error).toMatch(/memory|MemoryError/i);
    // Their interpreters were interrupted or replaced; the server and the good model are fine.
    await goodAnswers(2);
    expect((await getJson(`${server.url}/v2/health/ready`)).status).toBe(200);
  });

  it("a full queue is a 429 for that model only", async () => {
    const statuses = await Promise.all([infer("dos_spin"), infer("dos_spin"), infer("dos_spin"), infer("good", [jsonInput("INPUT__0", x())])]);
    // One spins, one waits in the queue (and outlives its deadline there), one finds the queue
    // full: which is which depends on the order the three requests arrive in, not on the test.
    const spins = statuses.slice(0, 3);
    expect(spins.map((s) => s.status).sort()).toStrictEqual([429, 504, 504]);
    expect(spins.find((s) => s.status === 429)!.json.error).toMatch(/queue is full/);
    expect(statuses[3]!.status).toBe(200);
  });

  it("escape routes reach nothing: no canary, host file or neighbour's data in any response", async () => {
    // The neighbour holds its secret and has seen 123456789.
    const v = await infer("victim", [{ name: "INPUT__0", datatype: "INT64", shape: [1], data: [123456789] }]);
    expect(v.json.outputs[0].data).toStrictEqual([246913579]);
    const methods = manifest.archives["escapes.pt"].methods as Record<string, { got_must_be_null: boolean; must_not_contain: string[] }>;
    for (const route of ROUTES) {
      const res = await fetch(`${server.url}/v2/models/escapes_${route}/infer`, { method: "POST", body: JSON.stringify({ inputs: [] }) });
      const text = await res.text();
      expect([200, 400, 503], `${route}: ${text.slice(0, 300)}`).toContain(res.status);
      const banned = [CANARY, ...methods[route]!.must_not_contain.filter((s) => !s.startsWith("{")), ...forbidden];
      // The response names the route's model; only what the route found counts.
      const found = res.status === 200 ? JSON.stringify((JSON.parse(text).outputs as { name: string }[]).filter((o) => o.name !== "route")) : text;
      for (const s of banned) expect(found, `${route} leaked ${s}`).not.toContain(s);
      if (res.status === 200 && methods[route]!.got_must_be_null) {
        const got = (JSON.parse(text).outputs as { name: string; data: unknown[] }[]).find((o) => o.name === "got");
        expect(got, `${route} got something: ${text.slice(0, 300)}`).toBeUndefined();
      }
    }
    await goodAnswers(1);
  });

  it("metrics count the hostile model's failures under its own name", async () => {
    const m = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());
    expect(m.get('wasmdeploy_requests_total{model="dos_spin",status="504"}')).toBeGreaterThanOrEqual(3);
    expect(m.get('wasmdeploy_requests_total{model="dos_spin",status="429"}')).toBe(1);
    expect(m.get('wasmdeploy_requests_total{model="good",status="200"}')).toBeGreaterThanOrEqual(9);
    expect(m.get('wasmdeploy_requests_total{model="good",status="504"}')).toBeUndefined();
  });
});
