// The container image's file set serves a model: deploy/Dockerfile is built without Docker
// (test/server/image.ts: its COPY, RUN, WORKDIR, ENV, USER, ENTRYPOINT and CMD, read strictly)
// into a temporary root, and its entry point is started from there as the image's user, first
// with the KServe ServingRuntime's container args, then with the image's own CMD. A committed
// model must answer an OIP inference with PyTorch's output. The image's root-owned files are
// unwritable for that user, so the boot snapshot must be cached elsewhere (where the user can
// write) and reused by the next start; nothing under them may change.

import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tensor } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";
import { jsonInput, outputTensor, postJson } from "./harness.js";
import { BASE_USERS, buildImage, containerCommand, type Image, makeWritable } from "./image.js";
import { parseYaml } from "./yaml.js";

const MODELS = path.join(ROOT, "packages", "models");
const npy = (p: string) => Tensor.fromNpy(new Uint8Array(readFileSync(p)));
/* eslint-disable @typescript-eslint/no-explicit-any */
const runtime = parseYaml(readFileSync(path.join(ROOT, "deploy", "kserve", "servingruntime.yaml"), "utf8")) as any;
const isvc = parseYaml(readFileSync(path.join(ROOT, "deploy", "kserve", "inferenceservice.yaml"), "utf8")) as any;

const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-image-"));
chmodSync(dir, 0o755); // the image's user must reach its root
let image: Image;
const children: ChildProcess[] = [];

beforeAll(() => {
  image = buildImage(readFileSync(path.join(ROOT, "deploy", "Dockerfile"), "utf8"), ROOT, dir);
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  makeWritable(dir);
  rmSync(dir, { recursive: true, force: true });
});

/** Replaces a flag's value: the test listens on 127.0.0.1 and a free port, not 0.0.0.0:8080. */
function withFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  if (i < 0) throw new Error(`the container args have no ${flag}`);
  return args.map((a, j) => (j === i + 1 ? value : a));
}

/** Starts the container's entry point and waits (bounded) until it is ready or has exited. */
async function start(args: string[]) {
  const cmd = containerCommand(image, withFlag(withFlag(args, "--host", "127.0.0.1"), "--port", "0"));
  const child = spawn(cmd.command, cmd.args, { cwd: cmd.cwd, env: cmd.env, uid: cmd.uid, gid: cmd.gid, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let err = "";
  let logs = ""; // pino's JSON lines: a repository model's load failure is reported there
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout!.on("data", (d: Buffer) => (logs += d.toString()));
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  for (let i = 0; i < 900 && child.exitCode === null && !/wasmdeploy: ready/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
  const url = /serving the Open Inference Protocol v2 on (http:\/\/[0-9.:]+)/.exec(err)?.[1];
  if (!url || !/wasmdeploy: ready: \S/.test(err)) {
    child.kill("SIGKILL");
    const failures = logs.split("\n").filter((l) => l.includes("failed to load"));
    throw new Error(`the image's entry point did not become ready (${cmd.command} ${cmd.args.join(" ")}):\n${err}${failures.join("\n")}`);
  }
  return { url, exit, stop: () => child.kill("SIGTERM") };
}

/** Every path under the image's root, with size and mtime for files. */
function files(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string, rel: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      out.set(`${rel}/`, "dir");
      for (const name of readdirSync(p)) walk(path.join(p, name), `${rel}/${name}`);
    } else out.set(rel, `${st.size} ${st.mtimeMs}`);
  };
  walk(image.root, "");
  return out;
}

/** What a run wrote, checked to be outside root's files (what WORKDIR and COPY made). */
function writtenSince(before: Map<string, string>): string[] {
  const after = files();
  const written = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k)).sort();
  expect(written.filter((p) => image.rootOwned.some((r) => p === `${r}/` || p.startsWith(`${r}/`)))).toStrictEqual([]);
  return written;
}

async function inferResnet(url: string, model: string) {
  const r = await postJson(`${url}/v2/models/${model}/infer`, { inputs: [jsonInput("INPUT__0", npy(path.join(MODELS, "resnet_basic.input.npy")))] });
  expect(r.status, JSON.stringify(r.json).slice(0, 500)).toBe(200);
  compare(outputTensor(r.json.outputs[0]), npy(path.join(MODELS, "resnet_basic.expected.npy")), `${model} served from the image's files`);
}

describe("the image's file set (deploy/Dockerfile, laid out without Docker)", () => {
  it("runs `serve` as the image's non-root user from root-owned files, with the entry point and port the manifests name", () => {
    expect(image.user).not.toBe("root");
    expect(image.exposed).toStrictEqual([runtime.spec.containers[0].ports[0].containerPort]);
    expect(image.entrypoint.slice(-3)).toStrictEqual(["node", "/app/dist/cli/main.js", "serve"]);
  });

  it("serves the InferenceService's model with the ServingRuntime's container args, as PyTorch computes it", async () => {
    // KServe's storage initializer puts storageUri's files into /mnt/models.
    mkdirSync(image.at("/mnt/models"), { recursive: true });
    copyFileSync(path.join(MODELS, "resnet_basic.pt"), image.at("/mnt/models/model.pt"));
    const name: string = isvc.metadata.name;
    const args = (runtime.spec.containers[0].args as string[]).map((a) => a.replaceAll("{{.Name}}", name));
    const before = files();
    const s = await start(args);
    await inferResnet(s.url, name);
    s.stop();
    expect(await s.exit).toBe(0);
    // The boot snapshot is cached in a folder the user may write, by that user.
    const snapshots = writtenSince(before).filter((p) => p.endsWith(".snapshot"));
    expect(snapshots).toHaveLength(1);
    if (process.getuid?.() === 0) expect(statSync(image.at(snapshots[0]!)).uid).toBe(BASE_USERS[image.user]!.uid);
  });

  it("serves a model repository at /mnt/models with the image's CMD, restoring the cached snapshot", async () => {
    rmSync(image.at("/mnt/models/model.pt"));
    mkdirSync(image.at("/mnt/models/resnet/1"), { recursive: true });
    copyFileSync(path.join(MODELS, "resnet_basic.pt"), image.at("/mnt/models/resnet/1/model.pt"));
    expect(image.cmd.slice(0, 2)).toStrictEqual(["--repository", "/mnt/models"]);
    const before = files();
    expect([...before.keys()].filter((p) => p.endsWith(".snapshot"))).toHaveLength(1);
    const s = await start(image.cmd);
    await inferResnet(s.url, "resnet");
    s.stop();
    expect(await s.exit).toBe(0);
    // This start read the cached snapshot: one it could not use would have been rewritten.
    expect(writtenSince(before).filter((p) => p.endsWith(".snapshot"))).toStrictEqual([]);
  });
});
