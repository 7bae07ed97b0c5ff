// `wasmdeploy serve --memory-budget MB`: a fleet. Models load on their first request; past the
// budget the least recently used idle models are unloaded, never one with a request running,
// and a request for an unloaded model loads it again. Through real HTTP, as a client sees it.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tensor } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import { getJson, jsonInput, outputTensor, parsePrometheus, postJson, serve, type Served } from "./harness.js";

const MODELS = path.join(ROOT, "packages", "models");
const npy = (f: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, f))));
const repo = mkdtempSync(path.join(tmpdir(), "wasmdeploy-fleet-"));
let server: Served;

const loaded = async () =>
  ((await postJson(`${server.url}/v2/repository/index`, {})).json as { name: string; state: string }[])
    .filter((e) => e.state === "READY")
    .map((e) => e.name)
    .sort();
const metrics = async () => parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());

async function resnet(name: string): Promise<void> {
  const r = await postJson(`${server.url}/v2/models/${name}/infer`, { inputs: [jsonInput("INPUT__0", npy("resnet_basic.input.npy"))] });
  expect(r.status, JSON.stringify(r.json).slice(0, 300)).toBe(200);
  compare(outputTensor(r.json.outputs[0]), npy("resnet_basic.expected.npy"), name);
}

beforeAll(async () => {
  for (const name of ["a", "b"]) {
    mkdirSync(path.join(repo, name, "1"), { recursive: true });
    copyFileSync(path.join(MODELS, "resnet_basic.pt"), path.join(repo, name, "1", "model.pt"));
  }
  mkdirSync(path.join(repo, "slow", "1"), { recursive: true });
  copyFileSync(path.join(ROOT, "packages", "archives", "slow_counter.pt"), path.join(repo, "slow", "1", "model.pt"));
  writeFileSync(path.join(repo, "slow", "config.json"), JSON.stringify({ pickle: "slow/obj.pkl", method: "work" }));
  // 1 MB: less than any one model holds, so each load unloads every idle model.
  server = await serve(["--repository", repo, "--memory-budget", "1", "--interpreters", "1"]);
}, 120_000);
afterAll(() => {
  if (server?.child.exitCode === null) server.child.kill("SIGKILL");
  rmSync(repo, { recursive: true, force: true });
});

describe("serve --memory-budget", () => {
  it("starts with nothing loaded; every model is ready (its first request loads it)", async () => {
    expect(await loaded()).toStrictEqual([]);
    const ready = await getJson(`${server.url}/v2/models/a/ready`);
    expect(ready.status).toBe(200);
    expect((await getJson(`${server.url}/v2/models/nope/ready`)).status).toBe(404);
  });

  it("loads a model on its first request, and unloads the least recently used idle one past the budget", async () => {
    await resnet("a");
    expect(await loaded()).toStrictEqual(["a"]);
    await resnet("b");
    expect(await loaded()).toStrictEqual(["b"]);
    // a loads again on demand and answers the same.
    await resnet("a");
    expect(await loaded()).toStrictEqual(["a"]);
    const m = await metrics();
    expect(m.get('wasmdeploy_model_cold_load_seconds_count{model="a"}')).toBe(2);
    expect(m.get('wasmdeploy_model_cold_load_seconds_count{model="b"}')).toBe(1);
    expect(m.get("wasmdeploy_fleet_evictions")).toBe(2);
  });

  it("never unloads a model with a request running: it stays until idle, and is unloaded by a later load", async () => {
    // slow's request must still run when b's cold load ends: 40M turns of its loop take about
    // 10 s here, four times b's load (10M took 2.5 s, level with it, and lost under CI's load).
    const slow = postJson(`${server.url}/v2/models/slow/infer`, { inputs: [{ name: "INPUT__0", datatype: "INT64", shape: [], data: [40_000_000] }] });
    // Wait until slow is loaded and its request runs.
    for (let i = 0; i < 600 && !(await loaded()).includes("slow"); i++) await new Promise((r) => setTimeout(r, 50));
    await resnet("b");
    expect(await loaded()).toStrictEqual(["b", "slow"]);
    const r = await slow;
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    await resnet("a");
    expect(await loaded()).toStrictEqual(["a"]);
  });

  it("answers concurrent first requests for an unloaded model with one load", async () => {
    const before = (await metrics()).get('wasmdeploy_model_cold_load_seconds_count{model="b"}') ?? 0;
    await Promise.all([resnet("b"), resnet("b"), resnet("b")]);
    expect((await metrics()).get('wasmdeploy_model_cold_load_seconds_count{model="b"}')).toBe(before + 1);
  });
});
