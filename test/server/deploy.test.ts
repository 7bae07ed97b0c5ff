// deploy/: KServe cannot run here, so check that the manifests parse, agree with each other,
// and name ports and paths the server really answers; and that the Dockerfile builds what
// `wasmdeploy serve` needs and exposes the same port.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createHandler, DEFAULT_CONFIG, ModelRegistry } from "wasmdeploy/server";
import { nodeLoader } from "wasmdeploy/server/node";
import { ROOT } from "../helpers.js";
import { parseYaml } from "./yaml.js";

const read = (p: string) => readFileSync(path.join(ROOT, "deploy", p), "utf8");
/* eslint-disable @typescript-eslint/no-explicit-any */
const runtime = parseYaml(read("kserve/servingruntime.yaml")) as any;
const isvc = parseYaml(read("kserve/inferenceservice.yaml")) as any;

describe("the YAML reader", () => {
  it("reads block maps, sequences, quoted and flow scalars, and refuses what it does not know", () => {
    expect(parseYaml('a: 1\nb:\n  - x\n  - "y: z" # c\n  - k: v\n    w: [1, "2"]\nc: \'q\'\n')).toStrictEqual({
      a: 1,
      b: ["x", "y: z", { k: "v", w: [1, "2"] }],
      c: "q",
    });
    expect(() => parseYaml("a: &x 1")).toThrow(/unsupported/);
    expect(() => parseYaml("a: 1\na: 2")).toThrow(/duplicate/);
  });
});

describe("KServe manifests", () => {
  const container = runtime.spec.containers[0];
  const args: string[] = container.args;
  const flag = (name: string) => args[args.indexOf(name) + 1];

  it("the ServingRuntime speaks v2 on the port its server listens on, with probes on OIP health paths", () => {
    expect(runtime.apiVersion).toBe("serving.kserve.io/v1alpha1");
    expect(runtime.kind).toBe("ServingRuntime");
    expect(runtime.spec.protocolVersions).toContain("v2");
    expect(container.name).toBe("kserve-container");
    const port = Number(flag("--port"));
    expect(container.ports[0].containerPort).toBe(port);
    expect(flag("--host")).toBe("0.0.0.0");
    expect(container.readinessProbe.httpGet).toStrictEqual({ path: "/v2/health/ready", port });
    expect(container.livenessProbe.httpGet).toStrictEqual({ path: "/v2/health/live", port });
    expect(flag("--model")).toBe("{{.Name}}=/mnt/models/model.pt");
    expect(runtime.metadata.annotations["prometheus.kserve.io/port"]).toBe(String(port));
    expect(runtime.metadata.annotations["prometheus.kserve.io/path"]).toBe("/metrics");
  });

  it("the InferenceService selects that runtime and one of its model formats", () => {
    expect(isvc.apiVersion).toBe("serving.kserve.io/v1beta1");
    expect(isvc.kind).toBe("InferenceService");
    const model = isvc.spec.predictor.model;
    expect(model.runtime).toBe(runtime.metadata.name);
    expect(model.protocolVersion).toBe("v2");
    expect(runtime.spec.supportedModelFormats.map((f: { name: string }) => f.name)).toContain(model.modelFormat.name);
    expect(model.storageUri).toMatch(/^[a-z0-9]+:\/\//);
  });

  it("the server answers the probe and metrics paths the manifests name", async () => {
    const registry = new ModelRegistry(nodeLoader({ defaults: DEFAULT_CONFIG }));
    const handler = createHandler({ registry, metrics: async () => ({ contentType: "text/plain", text: "" }) });
    for (const p of [container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path, runtime.metadata.annotations["prometheus.kserve.io/path"]]) {
      expect((await handler(new Request(`http://127.0.0.1:8080${p}`))).status, p).toBe(200);
    }
  });
});

describe("Dockerfile", () => {
  const docker = read("Dockerfile");
  it("exposes the runtime's port, runs `wasmdeploy serve`, and copies files that exist", () => {
    expect(docker).toMatch(new RegExp(`^EXPOSE ${runtime.spec.containers[0].ports[0].containerPort}$`, "m"));
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(docker)?.[1];
    expect(JSON.parse(entry!)).toStrictEqual(["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js", "serve"]);
    expect(existsSync(path.join(ROOT, "src", "cli", "main.ts"))).toBe(true);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(docker)![1]!) as string[];
    expect(cmd[cmd.indexOf("--port") + 1]).toBe(String(runtime.spec.containers[0].ports[0].containerPort));
    for (const m of docker.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(" ")) expect(existsSync(path.join(ROOT, src)), src).toBe(true);
    }
  });
});
