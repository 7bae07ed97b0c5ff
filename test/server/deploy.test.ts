// deploy/: KServe cannot run here, so check that the manifests parse, use only fields KServe's
// CRDs define (test/server/kserve/fields.json, extracted from KServe's repository), agree with
// each other, and name ports and paths the server really answers; and that the Dockerfile
// exposes the same port. test/server/image.test.ts serves a model from the image's files.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createHandler, DEFAULT_CONFIG, ModelRegistry } from "wasmdeploy/server";
import { nodeLoader } from "wasmdeploy/server/node";
import { ROOT } from "../helpers.js";
import { parseDockerfile } from "./dockerfile.js";
import { parseYaml } from "./yaml.js";

const read = (p: string) => readFileSync(path.join(ROOT, "deploy", p), "utf8");
/* eslint-disable @typescript-eslint/no-explicit-any */
const runtime = parseYaml(read("kserve/servingruntime.yaml")) as any;
const isvc = parseYaml(read("kserve/inferenceservice.yaml")) as any;

interface KindSchema {
  apiVersion: string;
  /** Object path (`spec.containers[]`) -> its field names, or "map" for free keys. */
  fields: Record<string, string[] | "map">;
  /** Value path -> its type or enum. */
  values: Record<string, { type?: string; enum?: string[]; "x-kubernetes-int-or-string"?: boolean }>;
}
const KSERVE = JSON.parse(readFileSync(path.join(ROOT, "test", "server", "kserve", "fields.json"), "utf8")) as {
  annotations: string[];
  ServingRuntime: KindSchema;
  InferenceService: KindSchema;
};

/** Every key and value of a manifest that KServe's schema does not allow there. */
function schemaProblems(doc: unknown, schema: KindSchema): string[] {
  const problems: string[] = [];
  const walk = (v: unknown, p: string) => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, `${p}[]`));
    if (v !== null && typeof v === "object") {
      const allowed = schema.fields[p];
      if (!allowed) return problems.push(`${p || "(top)"}: not in fields.json (rerun test/server/kserve/extract.py)`);
      for (const [k, x] of Object.entries(v)) {
        if (allowed === "map") walk(x, `${p}.*`);
        else if (!allowed.includes(k)) problems.push(`${p ? `${p}.` : ""}${k}: no such field in KServe's schema`);
        else walk(x, p ? `${p}.${k}` : k);
      }
      return;
    }
    const rule = schema.values[p];
    if (!rule) return problems.push(`${p}: not in fields.json (rerun test/server/kserve/extract.py)`);
    const ok = rule["x-kubernetes-int-or-string"]
      ? typeof v === "string" || Number.isInteger(v)
      : rule.type === "integer"
        ? Number.isInteger(v)
        : typeof v === rule.type;
    if (!ok) problems.push(`${p}: ${JSON.stringify(v)} is not of type ${rule["x-kubernetes-int-or-string"] ? "int-or-string" : rule.type}`);
    if (rule.enum && !rule.enum.includes(v as string)) problems.push(`${p}: ${JSON.stringify(v)} is not one of ${rule.enum.join(", ")}`);
  };
  walk(doc, "");
  return problems;
}

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

  it("use only fields KServe's CRDs define, with values of their types, and annotations KServe reads", () => {
    expect(schemaProblems(runtime, KSERVE.ServingRuntime)).toStrictEqual([]);
    expect(schemaProblems(isvc, KSERVE.InferenceService)).toStrictEqual([]);
    expect(runtime.apiVersion).toBe(KSERVE.ServingRuntime.apiVersion);
    expect(isvc.apiVersion).toBe(KSERVE.InferenceService.apiVersion);
    const annotations = [...Object.keys(runtime.spec.annotations ?? {}), ...Object.keys(isvc.metadata.annotations ?? {})];
    expect(annotations.filter((a) => !KSERVE.annotations.includes(a))).toStrictEqual([]);
  });

  it("the schema check finds an invented field, a wrong type and a value outside an enum", () => {
    const bad = structuredClone(isvc);
    bad.spec.predictor.model.storageURI = bad.spec.predictor.model.storageUri;
    bad.spec.predictor.timeout = "30";
    bad.spec.predictor.scaleMetric = "qps";
    expect(schemaProblems(bad, KSERVE.InferenceService)).toStrictEqual([
      'spec.predictor.scaleMetric: "qps" is not one of cpu, memory, concurrency, rps',
      'spec.predictor.timeout: "30" is not of type integer',
      "spec.predictor.model.storageURI: no such field in KServe's schema",
    ]);
  });

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
    // KServe's queue-proxy scrapes the server there and merges it into the pod's metrics.
    expect(runtime.spec.annotations["prometheus.kserve.io/port"]).toBe(String(port));
    expect(runtime.spec.annotations["prometheus.kserve.io/path"]).toBe("/metrics");
    expect(isvc.metadata.annotations["serving.kserve.io/enable-prometheus-scraping"]).toBe("true");
    expect(isvc.metadata.annotations["serving.kserve.io/enable-metric-aggregation"]).toBe("true");
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
    for (const p of [container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path, runtime.spec.annotations["prometheus.kserve.io/path"]]) {
      expect((await handler(new Request(`http://127.0.0.1:8080${p}`))).status, p).toBe(200);
    }
  });
});

describe("Dockerfile", () => {
  it("exposes the runtime's port and runs `wasmdeploy serve` on it", () => {
    const image = parseDockerfile(read("Dockerfile")).at(-1)!;
    const last = <T extends string>(op: T) => image.steps.filter((s) => s.op === op).at(-1) as Extract<(typeof image.steps)[number], { op: T }>;
    const port = runtime.spec.containers[0].ports[0].containerPort;
    expect(last("EXPOSE").ports).toStrictEqual([port]);
    expect(last("ENTRYPOINT").argv).toStrictEqual(["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js", "serve"]);
    const cmd = last("CMD").argv;
    expect(cmd[cmd.indexOf("--port") + 1]).toBe(String(port));
  });

  it("is read strictly: an instruction or form the image emulation does not know is an error", () => {
    expect(() => parseDockerfile("FROM node:20-bookworm-slim\nADD x /x\n")).toThrow(/ADD is not emulated/);
    expect(() => parseDockerfile("FROM node:20-bookworm-slim\nCOPY --chown=node x /x\n")).toThrow(/unsupported COPY flag/);
    expect(() => parseDockerfile("FROM node:20-bookworm-slim\nCOPY src/*.ts /x/\n")).toThrow(/unsupported characters/);
    expect(() => parseDockerfile("FROM node:20-bookworm-slim\nCMD node x\n")).toThrow(/exec \(JSON array\) form/);
    expect(() => parseDockerfile("FROM node:20-bookworm-slim\nENV A $B\n")).toThrow(/KEY=VALUE/);
  });
});
