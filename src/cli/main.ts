#!/usr/bin/env node
// The wasmdeploy command line: inspect an archive, or call an object pickled in it.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { WasmdeployError } from "../errors.js";
import { InterpreterManager } from "../index.js";
import { parseTorchPackage } from "../package/archive.js";
import { formatInspectReport, inspectArchive } from "../package/inspect.js";
import { wasiBuildFor } from "../package/wasi-build.js";
import { Tensor } from "../tensor.js";
import { EDGE_USAGE, edge, EdgeUsageError } from "./edge.js";
import { SERVE_USAGE, serve } from "./serve.js";
import { WEB_USAGE, web } from "./web.js";

const USAGE = `usage:
  wasmdeploy inspect ARCHIVE [--json]
      List an archive's interned, extern and mocked modules, pickles, resources and storages.
  wasmdeploy run ARCHIVE --pickle PACKAGE/RESOURCE --input X.npy [--input X2.npy ...] --output Y.npy [--interpreters N] [--interpreter wasi|pyodide|component] [--engine ort-node|ort-web]
      Call a pickled model on .npy inputs; writes its tensor result to Y.npy (a tuple or list: Y.npy, Y.1.npy, Y.2.npy, ...;
      a dict, dataclass or NamedTuple: Y.<field>.npy; nested: Y.0.boxes.npy, ...).
  wasmdeploy call ARCHIVE --pickle PACKAGE/RESOURCE [--method NAME] [--args JSON] [--kwargs JSON] [--interpreters N] [--interpreter wasi|pyodide|component] [--timeout-ms MS]
      Load the pickled object and call it (or its method) with JSON arguments; prints the JSON result.
      Example: wasmdeploy call packages/archives/tokenizer.pt --pickle tok/tok.pkl --method encode --args '["the lazy fox"]'
${SERVE_USAGE}
${WEB_USAGE}
${EDGE_USAGE}`;

class UsageError extends Error {}

function interpreterKind(v: string | undefined): "pyodide" | "wasi" | "component" {
  if (v !== "pyodide" && v !== "wasi" && v !== "component") throw new UsageError(`--interpreter is wasi, pyodide or component, got ${JSON.stringify(v)}`);
  return v;
}

/** The WASI build an archive needs (package/wasi-build.ts; the component kind has only one); an unreadable archive fails later, in loadPackage, with its own error. */
function wasiBuildOf(kind: "pyodide" | "wasi" | "component", file: string): { wasiBuild?: "sci" } {
  if (kind !== "wasi") return {};
  try {
    return wasiBuildFor(parseTorchPackage(new Uint8Array(readFileSync(file)), file).externModules) === "sci" ? { wasiBuild: "sci" } : {};
  } catch {
    return {};
  }
}

function splitPickle(spec: string | undefined): [string, string] {
  const at = spec?.lastIndexOf("/") ?? -1;
  if (!spec || at <= 0 || at === spec.length - 1) {
    throw new UsageError(`--pickle takes PACKAGE/RESOURCE, e.g. --pickle model/model.pkl (got ${JSON.stringify(spec ?? "")})`);
  }
  return [spec.slice(0, at).replaceAll("/", "."), spec.slice(at + 1)];
}

/** The one ARCHIVE positional every command takes. */
function oneArchive(command: string, positionals: string[]): string {
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError(`${command} takes exactly one ARCHIVE`);
  return file;
}

/** --interpreters as a positive whole number (a usage error otherwise, before anything boots). */
function interpretersOf(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--interpreters takes a positive whole number, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** --timeout-ms as a number of milliseconds, or undefined when not given. */
function timeoutOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`--timeout-ms takes a positive number of milliseconds, got ${JSON.stringify(value)}`);
  return ms;
}

function parseJson(flag: string, text: string | undefined, fallback: unknown): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag} is not valid JSON (${(e as Error).message}): ${text}`);
  }
}

/** JSON for results: bigint as digits, bytes as base64, Maps as [key, value] pairs. */
function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Uint8Array) return { base64: Buffer.from(v).toString("base64") };
      if (v instanceof Map) return [...v.entries()];
      if (typeof v === "object" && v !== null && v.constructor?.name === "PyObject") return `<python ${(v as { pyType: string }).pyType}>`;
      return v;
    },
    2,
  );
}

async function inspect(args: string[]) {
  const { values, positionals } = parseArgs({ args, options: { json: { type: "boolean" } }, allowPositionals: true });
  const file = oneArchive("inspect", positionals);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const report = inspectArchive(parseTorchPackage(bytes, file));
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatInspectReport(report)}\n`);
}

async function call(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      pickle: { type: "string" },
      method: { type: "string" },
      args: { type: "string" },
      kwargs: { type: "string" },
      interpreters: { type: "string", default: "1" },
      interpreter: { type: "string", default: "wasi" },
      "timeout-ms": { type: "string" },
    },
    allowPositionals: true,
  });
  const file = oneArchive("call", positionals);
  const [pkgName, resource] = splitPickle(values.pickle);
  const callArgs = parseJson("--args", values.args, []);
  if (!Array.isArray(callArgs)) throw new UsageError("--args must be a JSON array of positional arguments");
  const kwargs = parseJson("--kwargs", values.kwargs, {}) as Record<string, unknown>;
  const interpreters = interpretersOf(values.interpreters);
  const timeoutMs = timeoutOf(values["timeout-ms"]);
  const started = performance.now();
  const kind = interpreterKind(values.interpreter);
  const manager = await InterpreterManager.create({ interpreters, interpreter: kind, ...wasiBuildOf(kind, file) });
  try {
    const booted = performance.now();
    const obj = (await manager.loadPackage(file)).loadPickle(pkgName, resource).withOptions({ timeoutMs });
    const result = values.method ? await obj.callMethodKwargs(values.method, callArgs, kwargs) : await obj.callKwargs(callArgs, kwargs);
    const done = performance.now();
    process.stdout.write(`${toJson(result)}\n`);
    const boot = manager.stats().boot;
    process.stderr.write(
      `wasmdeploy: ${interpreters} interpreter(s) ready in ${(booted - started).toFixed(0)} ms ` +
        `(${boot.snapshot === "none" ? "booted cold" : boot.snapshot === "disk" ? "snapshot from cache" : "snapshot made and cached"}), call took ${(done - booted).toFixed(0)} ms\n`,
    );
  } finally {
    await manager.close();
  }
}

/** How a non-tensor result reads in a message: None, an int, a dict, ... */
function describe(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}

/**
 * The tensors of a result and the files they go to, depth first. A tensor: Y.npy. A tuple or
 * list: item i to Y.i.npy (item 0 to Y.npy). A dict, dataclass or NamedTuple (a plain object
 * here): field k to Y.k.npy. Nested containers add to the name (a detector's list of dicts:
 * Y.0.boxes.npy, Y.1.labels.npy). Other leaves (None, numbers) are named and skipped.
 */
function outputFiles(result: unknown, first: string): { written: { path: string; tensor: Tensor }[]; skipped: string[] } {
  const stem = first.endsWith(".npy") ? first.slice(0, -4) : first;
  const written: { path: string; tensor: Tensor }[] = [];
  const skipped: string[] = [];
  const safe = (k: string) => k.replace(/[^A-Za-z0-9_-]/g, "_");
  const walk = (v: unknown, parts: string[], inSequence: boolean) => {
    if (v instanceof Tensor) {
      const isFirst = parts.length === 0 || (inSequence && parts.length === 1 && parts[0] === "0");
      written.push({ path: isFirst ? first : `${stem}.${parts.join(".")}.npy`, tensor: v });
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...parts, String(i)], parts.length === 0));
    } else if (v instanceof Map || isRecord(v)) {
      for (const [k, x] of v instanceof Map ? [...v.entries()] : Object.entries(v)) walk(x, [...parts, safe(String(k))], false);
    } else {
      skipped.push(`${parts.length ? `item ${parts.join(".")}` : "the result"} is ${describe(v)}, not a tensor: not written`);
    }
  };
  walk(result, [], false);
  return { written, skipped };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

async function run(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      pickle: { type: "string" },
      input: { type: "string", multiple: true },
      output: { type: "string" },
      interpreters: { type: "string", default: "1" },
      interpreter: { type: "string", default: "wasi" },
      engine: { type: "string", default: "ort-node" },
      "timeout-ms": { type: "string" },
    },
    allowPositionals: true,
  });
  const file = oneArchive("run", positionals);
  const [pkgName, resource] = splitPickle(values.pickle);
  if (!values.output) throw new UsageError("run needs --output Y.npy");
  if (values.engine !== "ort-node" && values.engine !== "ort-web") {
    throw new UsageError(`--engine is ort-node or ort-web, got ${JSON.stringify(values.engine)}`);
  }
  const timeoutMs = timeoutOf(values["timeout-ms"]);
  const interpreters = interpretersOf(values.interpreters);
  const inputs = (values.input ?? []).map((p) => {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(p));
    } catch (e) {
      throw new UsageError(`cannot read --input ${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    try {
      return Tensor.fromNpy(bytes);
    } catch (e) {
      throw new UsageError(`--input ${p} is not a readable .npy file: ${(e as Error).message}`);
    }
  });
  const started = performance.now();
  const kind = interpreterKind(values.interpreter);
  const manager = await InterpreterManager.create({ interpreters, engine: values.engine, interpreter: kind, ...wasiBuildOf(kind, file) });
  try {
    const model = (await manager.loadPackage(file)).loadPickle(pkgName, resource).withOptions({ timeoutMs });
    const booted = performance.now();
    const result = await model.call(...inputs);
    const done = performance.now();
    // Items that are not tensors (torchaudio's wav2vec2 returns (logits, None)) are named and skipped.
    const { written, skipped } = outputFiles(result, values.output);
    if (written.length === 0) {
      throw new UsageError(
        `the model returned ${Array.isArray(result) ? `a sequence of ${result.length} with no tensor in it` : describe(result)}, not a tensor; ` +
          `run writes tensors only (use call for other results)`,
      );
    }
    // Write every file to a temporary name first, so a failure leaves no partial output.
    const temps = written.map((w) => `${w.path}.${process.pid}.tmp`);
    written.forEach((w, i) => writeFileSync(temps[i]!, w.tensor.toNpy()));
    temps.forEach((t, i) => renameSync(t, written[i]!.path));
    for (const s of skipped) process.stderr.write(`wasmdeploy: ${s}\n`);
    process.stderr.write(
      `wasmdeploy: wrote ${written.map((w) => `${w.path} ${w.tensor.dtype}[${w.tensor.shape.join(",")}]`).join(", ")}; ` +
        `ready in ${(booted - started).toFixed(0)} ms, call ${(done - booted).toFixed(0)} ms on ${values.engine}\n`,
    );
  } finally {
    await manager.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "inspect":
        await inspect(rest);
        return 0;
      case "call":
        await call(rest);
        return 0;
      case "run":
        await run(rest);
        return 0;
      case "serve":
        return await serve(rest);
      case "web":
        return await web(rest);
      case "edge":
        await edge(rest).catch((e: unknown) => Promise.reject(e instanceof EdgeUsageError ? new UsageError(e.message) : e));
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    // parseArgs' own complaints (unknown option, missing value) are usage errors too.
    const code = (e as { code?: string }).code;
    if (e instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`wasmdeploy: ${(e as Error).message}\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof WasmdeployError || (e instanceof Error && e.name === "TypeError")) {
      process.stderr.write(`wasmdeploy: ${e.name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
