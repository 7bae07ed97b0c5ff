// An OIP v2 server on 127.0.0.1 for the server tests: the same pieces `wasmdeploy serve`
// wires (registry, node loader, Prometheus, node:http), plus small client helpers.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { Tensor, type DType } from "wasmdeploy";
import { createHandler, DEFAULT_CONFIG, ModelRegistry, parseConfig } from "wasmdeploy/server";
import { createPrometheus, nodeLoader, startNodeServer } from "wasmdeploy/server/node";
import { halfToNumber } from "../conformance/compare.js";
import { KIND } from "../kind.js";
import { ROOT } from "../helpers.js";

const CLI = path.join(ROOT, "dist", "cli", "main.js");

export const PYTHON = "/usr/bin/python3";
export const hasTorch = spawnSync(PYTHON, ["-c", "import torch, torchvision"]).status === 0;
if (!hasTorch && process.env.CI) throw new Error("CI needs real PyTorch: apt-get install -y python3-torch python3-torchvision");

/** The server's defaults, with this test run's interpreter kind. */
const DEFAULTS = { ...DEFAULT_CONFIG, interpreter: KIND };

export interface TestModel {
  name: string;
  source: string;
  config?: Record<string, unknown>;
}

export async function startServer(models: TestModel[], opts: { maxBodyBytes?: number; debug?: boolean; repository?: string; refusalPauseMs?: number } = {}) {
  const registry = new ModelRegistry(nodeLoader({ repository: opts.repository, defaults: DEFAULTS }), undefined, DEFAULTS);
  const prom = createPrometheus(registry, { processMetrics: false });
  const state = { draining: false };
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 2 ** 20;
  const handler = createHandler({
    registry,
    maxBodyBytes,
    debug: opts.debug,
    observer: prom.observer,
    metrics: () => prom.render(),
    draining: () => state.draining,
  });
  const server = await startNodeServer(handler, { host: "127.0.0.1", port: 0, maxBodyBytes, drainQuietMs: 50, refusalPauseMs: opts.refusalPauseMs }, state);
  await Promise.all(
    models.map((m) => registry.loadSpec({ name: m.name, version: "1", source: m.source, config: parseConfig(m.config ?? {}, DEFAULTS) })),
  );
  return {
    url: server.url,
    registry,
    state,
    async close() {
      await server.drain();
      await registry.close();
    },
  };
}

const DATATYPE: Record<DType, string> = {
  bool: "BOOL",
  uint8: "UINT8",
  int8: "INT8",
  int32: "INT32",
  int64: "INT64",
  float16: "FP16",
  float32: "FP32",
  float64: "FP64",
};
const DTYPE = Object.fromEntries(Object.entries(DATATYPE).map(([k, v]) => [v, k])) as Record<string, DType>;

/** A Tensor as an OIP JSON input. */
export function jsonInput(name: string, t: Tensor): Record<string, unknown> {
  let data: unknown[];
  if (t.dtype === "bool") data = Array.from(t.data as Uint8Array, (b) => b !== 0);
  else if (t.dtype === "float16") data = Array.from(t.data as Uint16Array, halfToNumber);
  else if (t.dtype === "int64") data = Array.from(t.data as BigInt64Array, (b) => (b > 2n ** 53n || b < -(2n ** 53n) ? b.toString() : Number(b)));
  else data = Array.from(t.data as ArrayLike<number>);
  return { name, shape: [...t.shape], datatype: DATATYPE[t.dtype], data };
}

export interface OipOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}

/** A JSON output back to a Tensor (for compare against PyTorch's .npy). */
export function outputTensor(o: OipOutput): Tensor {
  const dtype = DTYPE[o.datatype];
  if (!dtype) throw new Error(`no dtype for ${o.datatype}`);
  const data = o.data!.map((v) => (typeof v === "string" && dtype === "int64" ? BigInt(v) : v)) as (number | bigint | boolean)[];
  return Tensor.from(dtype, data, o.shape);
}

/** Binary-extension body: JSON header then each input's bytes. */
export function binaryBody(header: Record<string, unknown>, blobs: Uint8Array[]): { body: Uint8Array; headerLength: number } {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const body = new Uint8Array(h.length + blobs.reduce((n, b) => n + b.length, 0));
  body.set(h);
  let off = h.length;
  for (const b of blobs) {
    body.set(b, off);
    off += b.length;
  }
  return { body, headerLength: h.length };
}

export const bytesOf = (t: Tensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** BYTES elements in the binary extension: each a 4-byte little-endian length, then its UTF-8 bytes. */
export function bytesElements(items: string[]): Uint8Array {
  const parts = items.map((x) => new TextEncoder().encode(x));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    view.setUint32(off, p.length, true);
    out.set(p, off + 4);
    off += 4 + p.length;
  }
  return out;
}

/** Splits a binary response into its JSON header and the outputs' bytes, by name. */
export async function readBinaryResponse(res: Response): Promise<{ json: { outputs: OipOutput[] }; blobs: Map<string, Uint8Array> }> {
  const buf = new Uint8Array(await res.arrayBuffer());
  const n = Number(res.headers.get("inference-header-content-length"));
  const json = JSON.parse(new TextDecoder().decode(buf.subarray(0, n))) as { outputs: OipOutput[] };
  const blobs = new Map<string, Uint8Array>();
  let off = n;
  for (const o of json.outputs) {
    if (o.parameters?.binary_data_size === undefined) continue;
    blobs.set(o.name, buf.slice(off, off + o.parameters.binary_data_size));
    off += o.parameters.binary_data_size;
  }
  return { json, blobs };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } });
  return { status: res.status, json: await res.json() };
}

export async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}

/** Parses Prometheus text exposition: every line a comment or `name{labels} value`. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    // Values parse as Prometheus (Go's ParseFloat) does: NaN and Inf in any case (prom-client
    // writes "Nan" for an empty event-loop histogram).
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]?[Ii][Nn][Ff])$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

// ----- `wasmdeploy serve` as a child process -----

export interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<number | null>;
}

/** Starts the CLI and waits (bounded) for its "ready" line. With `logs`, info logs are kept. */
export async function serve(args: string[], logs = false): Promise<Served> {
  const child = spawn("node", [CLI, "serve", ...args, "--port", "0", "--log-level", logs ? "info" : "warn"], { stdio: ["ignore", logs ? "pipe" : "ignore", "pipe"] });
  let err = "";
  let out = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  for (let i = 0; i < 600 && !/wasmdeploy: ready/.test(err); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /serving the Open Inference Protocol v2 on (http:\/\/[0-9.:]+)/.exec(err)?.[1];
  if (!url || !/wasmdeploy: ready/.test(err)) {
    child.kill("SIGKILL");
    throw new Error(`serve did not become ready:\n${err}`);
  }
  return { child, url, stderr: () => err, stdout: () => out, exit };
}
