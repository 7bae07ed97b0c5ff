// `wasmdeploy edge`: writes a workerd project that serves archives with the same Open Inference
// Protocol v2 handler as `wasmdeploy serve`. Code is embedded as modules (workerd and
// Cloudflare Workers compile wasm only from declared modules): the worker bundle, python.wasm,
// onnxruntime-web and its wasm. The data (python.wasm's boot snapshot, made here in Node, the
// stdlib/runtime file image, the archives) goes to DIR/assets/, read with fetch at the first
// request, or, with --embed-data, is embedded as data modules too.

import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { WasmdeployError } from "../errors.js";
import { InterpreterManager } from "../index.js";
import { parseTorchPackage } from "../package/archive.js";
import { wasiBuildFor } from "../package/wasi-build.js";
import { ConfigError, DEFAULT_CONFIG, parseConfig } from "../server/config.js";
import { PACKAGE_ROOT, runtimeFiles } from "../platform/node/assets.js";
import { defaultSnapshotDir } from "../platform/node/snapshot.js";
import { buildFileImage, memoryImportMinPages, WASM_DIR } from "../platform/node/wasi/assets.js";
import { WasiThreadPool } from "../platform/node/wasi/pool.js";
import type { WasiSnapshot } from "../interpreter/wasi/image.js";
import type { EdgeModel } from "../platform/edge/worker.js";
import { snapshotBody, snapshotFile } from "../interpreter/wasi/snapshot-file.js";

export const EDGE_USAGE = `  wasmdeploy edge --model NAME=ARCHIVE[:PACKAGE/RESOURCE] [--model ...] --out DIR [--port 8787] [--interpreters N] [--no-snapshot] [--embed-data]
        [--model-config NAME=JSON ...]   (config.json keys for one model, e.g. '{"method":"forward","timeout_ms":500}')
        (--embed-data: the snapshot, file image and archives as data modules instead of DIR/assets/)
      Write a workerd project into DIR serving the models with the same OIP v2 routes as serve;
      start it with: npx workerd serve DIR/config.capnp (DIR/wrangler.toml deploys it to Cloudflare Workers).`;

export class EdgeUsageError extends Error {}

export interface EdgeBuildOptions {
  models: { name: string; archive: string; pickle?: string; config?: Record<string, unknown> }[];
  out: string;
  port?: number;
  interpreters?: number;
  /** false: instances boot cold in the isolate (no snapshot shipped). */
  snapshot?: boolean;
  /**
   * Where the data files (snapshot, file image, archives) go. "assets" (default): DIR/assets/,
   * read with fetch through the worker's ASSETS binding (a workerd disk service; Cloudflare's
   * static assets), which keeps them out of the bundle and out of workerd's module memory.
   * "modules": embedded as data modules, as the wasm is.
   */
  data?: "assets" | "modules";
}

export interface EdgeBuildResult {
  dir: string;
  files: string[];
  snapshotMs: number;
}

/**
 * The source files the boot imported (runtime/wasmdeploy_runtime/host.py's boot_sources(), over
 * the modules it recorded at the snapshot point, so a restored interpreter reports the
 * snapshot's own list).
 */
async function bootSources(build: "default" | "sci"): Promise<Set<string>> {
  const manager = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", wasiBuild: build, onOutput: () => {} });
  try {
    await manager.registerModuleSource("wasmdeploy_edge_boot_sources", "from wasmdeploy_runtime.host import boot_sources as get\n");
    const s = await manager.acquireOne();
    try {
      return new Set((await (await s.global("wasmdeploy_edge_boot_sources", "get")).call()) as string[]);
    } finally {
      await s.release();
    }
  } finally {
    await manager.close();
  }
}

/** The snapshot as a file (src/interpreter/wasi/snapshot-file.ts), as Node's cache stores it. */
function encodeSnapshot(s: WasiSnapshot): Uint8Array {
  const body = snapshotBody(s);
  return snapshotFile(body, createHash("sha256").update(body).digest());
}

function ortWebDist(): string {
  const entry = createRequire(import.meta.url).resolve("onnxruntime-web");
  let dir = path.dirname(entry);
  while (path.basename(dir) !== "dist") dir = path.dirname(dir);
  return dir;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export async function buildEdge(opts: EdgeBuildOptions): Promise<EdgeBuildResult> {
  if (!opts.models.length) throw new EdgeUsageError("edge needs at least one --model NAME=ARCHIVE");
  const dir = path.resolve(opts.out);
  const port = opts.port ?? 8787;
  const asAssets = opts.data !== "modules";
  // Data files live under assets/ (fetched) or beside the worker (modules); a rebuild in the
  // other mode must not leave the old copies to be uploaded.
  const dataDir = asAssets ? "assets/" : "";
  rmSync(path.join(dir, "assets"), { recursive: true, force: true });
  rmSync(path.join(dir, "archives"), { recursive: true, force: true });
  for (const f of ["files.bin", "python.snapshot"]) rmSync(path.join(dir, f), { force: true });
  mkdirSync(path.join(dir, dataDir, "archives"), { recursive: true });
  const files: string[] = [];
  const put = (name: string, bytes: Uint8Array | string) => {
    writeFileSync(path.join(dir, name), bytes);
    files.push(name);
  };

  // Archives: checked here so a bad one fails the build, not the first request.
  const models: EdgeModel[] = [];
  const archiveNames: string[] = [];
  // The sci build (numpy, Pillow) when any model's archive externs them (package/wasi-build.ts).
  let build: "default" | "sci" = "default";
  for (const m of opts.models) {
    if (!NAME.test(m.name)) throw new EdgeUsageError(`model name ${JSON.stringify(m.name)}: letters, digits, _ . - only`);
    const bytes = new Uint8Array(readFileSync(m.archive));
    if (wasiBuildFor(parseTorchPackage(bytes, m.archive).externModules) === "sci") build = "sci";
    const name = `archives/${m.name}.pt`;
    put(dataDir + name, bytes);
    archiveNames.push(name);
    const config = { interpreters: opts.interpreters ?? 1, ...(m.pickle ? { pickle: m.pickle } : {}), ...m.config };
    try {
      parseConfig(config, DEFAULT_CONFIG, `model ${m.name}`); // the worker parses it again; fail the build, not the first request
    } catch (e) {
      if (e instanceof ConfigError) throw new EdgeUsageError(e.message);
      throw e;
    }
    models.push({ name: m.name, archive: name, config });
  }

  // The interpreter: python.wasm (python-sci.wasm under that name for the sci build), the file
  // image, the snapshot (made by Node's WASI pool, cached).
  const [wasmFile, stdlibFile] = build === "sci" ? ["python-sci.wasm", "stdlib-sci.zip"] : ["python.wasm", "stdlib.zip"];
  const wasm = new Uint8Array(readFileSync(path.join(WASM_DIR, wasmFile)));
  copyFileSync(path.join(WASM_DIR, wasmFile), path.join(dir, "python.wasm"));
  files.push("python.wasm");
  let snapshotMs = 0;
  const withSnapshot = opts.snapshot !== false;
  if (withSnapshot) {
    const pool = new WasiThreadPool(runtimeFiles(), { threads: 1, snapshotDir: defaultSnapshotDir(), build });
    try {
      const snap = await pool.ensureSnapshot();
      if (!snap) throw new Error("python.wasm's pool made no snapshot");
      snapshotMs = pool.snapshotMs ?? 0;
      put(`${dataDir}python.snapshot`, encodeSnapshot(snap));
    } finally {
      await pool.close();
    }
  }
  // Restored instances have already imported what the boot imported: with a snapshot, those
  // sources are left out (0.45 MB gzip; a cold boot, --no-snapshot, needs them all).
  const omit = withSnapshot ? await bootSources(build) : new Set<string>();
  const image = buildFileImage(runtimeFiles(), new Uint8Array(readFileSync(path.join(WASM_DIR, stdlibFile))), omit);
  put(`${dataDir}files.bin`, new Uint8Array(image.data));

  // The engine: onnxruntime-web's single-file build and its (non-threaded-at-run-time) wasm.
  const ortDir = ortWebDist();
  for (const f of ["ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"]) {
    copyFileSync(path.join(ortDir, f), path.join(dir, f));
    files.push(f);
  }

  // The entry: imports the wasm (and, as modules, the data files) and hands them to edgeWorker().
  const manifest = { minPages: memoryImportMinPages(wasm), files: image.entries, models };
  const workerJs = path.join(PACKAGE_ROOT, "dist", "platform", "edge", "worker.js");
  const dataFiles = ["files.bin", ...archiveNames, ...(withSnapshot ? ["python.snapshot"] : [])];
  const vars = dataFiles.map((_, i) => `d${i}`);
  const archivesJs = `{ ${archiveNames.map((a, i) => `${JSON.stringify(a)}: new Uint8Array(${vars[i + 1]})`).join(", ")} }`;
  const assetsJs = (snapshot: string, held: string) =>
    `{ python, minPages: manifest.minPages, files: fileImage(manifest.files, d0), snapshot: ${withSnapshot ? snapshot : "undefined"}, snapshotHeldBytes: ${withSnapshot ? held : "0"}, ort, ortWasm }`;
  const snapVar = vars[vars.length - 1];
  const load = `const snapshot = ${withSnapshot ? `decodeSnapshot(${snapVar})` : "undefined"}; return { assets: ${assetsJs("async () => snapshot", `${snapVar}.byteLength`)}, archives: ${archivesJs} };`;
  const entry = [
    `import * as ort from "./ort.wasm.bundle.min.mjs";`,
    `import ortWasm from "./ort-wasm-simd-threaded.wasm";`,
    `import python from "./python.wasm";`,
    ...(asAssets ? [] : dataFiles.map((f, i) => `import ${vars[i]} from "./${f}";`)),
    `import { edgeWorker, fileImage, decodeSnapshot, fetchAsset } from ${JSON.stringify(workerJs)};`,
    `const manifest = ${JSON.stringify(manifest)};`,
    `export default edgeWorker({`,
    // The snapshot stays in the isolate: a respawn happens within a later request, and workerd
    // does not let one request's fetch serve another, so it cannot be read again then.
    asAssets
      ? `  async load(env) { const [${vars.join(", ")}] = await Promise.all(${JSON.stringify(dataFiles)}.map((f) => fetchAsset(env, f))); ${load} },`
      : `  async load() { ${load} },`,
    `  models: manifest.models,`,
    `});`,
  ].join("\n");
  // esbuild is an optional peer dependency: only this command needs it, and it is a build tool.
  const esbuild = await import("esbuild").catch(() => {
    throw new WasmdeployError("wasmdeploy edge bundles the worker with esbuild, an optional peer dependency: npm install esbuild");
  });
  const externals = ["./ort.wasm.bundle.min.mjs", "./ort-wasm-simd-threaded.wasm", "./python.wasm", ...dataFiles.map((f) => `./${f}`), "onnxruntime-web"];
  const built = await esbuild.build({
    stdin: { contents: entry, resolveDir: dir, sourcefile: "entry.mjs", loader: "js" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    minify: true,
    external: externals,
    write: false,
    logLevel: "silent",
  });
  const code = built.outputFiles[0]!.text;
  if (/\bfrom\s*["']node:|import\(\s*["']node:/.test(code)) throw new Error("the edge bundle imports a node: module");
  put("worker.mjs", code);

  const dataModules = asAssets ? [] : dataFiles;
  put(
    "config.capnp",
    `# Generated by wasmdeploy edge. Start: npx workerd serve ${path.join(dir, "config.capnp")}
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),${asAssets ? `
    # The data files, read by the worker with fetch (ASSETS): workerd holds an embedded module
    # several times over, a fetched file once, in the isolate. An absolute path: workerd reads a
    # disk service's path relative to its working directory; rebuild if DIR moves.
    (name = "assets", disk = (path = ${JSON.stringify(path.join(dir, "assets"))})),` : ""}
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "ort.wasm.bundle.min.mjs", esModule = embed "ort.wasm.bundle.min.mjs"),
    (name = "ort-wasm-simd-threaded.wasm", wasm = embed "ort-wasm-simd-threaded.wasm"),
    (name = "python.wasm", wasm = embed "python.wasm"),
${dataModules.map((m) => `    (name = "${m}", data = embed "${m}"),\n`).join("")}  ],${asAssets ? `
  bindings = [ (name = "ASSETS", service = "assets") ],` : ""}
  compatibilityDate = "2025-06-01", # WeakRef and FinalizationRegistry (handle finalization) from 2025-05-05
);
`,
  );
  put(
    "wrangler.toml",
    `# Generated by wasmdeploy edge: deploy with \`npx wrangler deploy\` (not tried: no Cloudflare access here).
name = "wasmdeploy-edge"
main = "worker.mjs"
compatibility_date = "2025-06-01"
no_bundle = true
# Upload the files these rules match beside worker.mjs as modules of the named types.
find_additional_modules = true

[[rules]]
type = "ESModule"
globs = ["**/*.mjs"]

[[rules]]
type = "CompiledWasm"
globs = ["**/*.wasm"]

${asAssets ? `
# The data files (snapshot, file image, archives) as static assets, read by the worker through
# env.ASSETS: outside the bundle's size limit. run_worker_first: every request reaches the
# worker, so the archives are never served to clients.
[assets]
directory = "./assets"
binding = "ASSETS"
run_worker_first = true
` : `
[[rules]]
type = "Data"
globs = ["**/*.bin", "**/*.snapshot", "archives/*.pt"]
`}`,
  );
  return { dir, files, snapshotMs };
}

/** NAME=ARCHIVE[:PACKAGE/RESOURCE] */
export function parseModelArg(v: string): EdgeBuildOptions["models"][number] {
  const eq = v.indexOf("=");
  if (eq <= 0) throw new EdgeUsageError(`--model takes NAME=ARCHIVE[:PACKAGE/RESOURCE], got ${JSON.stringify(v)}`);
  const name = v.slice(0, eq);
  let archive = v.slice(eq + 1);
  let pickle: string | undefined;
  const colon = archive.lastIndexOf(":");
  if (colon > 0 && archive.slice(colon + 1).includes("/")) {
    pickle = archive.slice(colon + 1);
    archive = archive.slice(0, colon);
  }
  return { name, archive, ...(pickle ? { pickle } : {}) };
}

export async function edge(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string", multiple: true },
      out: { type: "string" },
      port: { type: "string" },
      interpreters: { type: "string" },
      "no-snapshot": { type: "boolean" },
      "embed-data": { type: "boolean" },
      "model-config": { type: "string", multiple: true },
    },
    allowPositionals: false,
  });
  if (!values.out) throw new EdgeUsageError("edge needs --out DIR");
  const port = values.port === undefined ? 8787 : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new EdgeUsageError(`--port takes a TCP port, got ${JSON.stringify(values.port)}`);
  const interpreters = values.interpreters === undefined ? 1 : Number(values.interpreters);
  if (!Number.isInteger(interpreters) || interpreters < 1) throw new EdgeUsageError(`--interpreters takes a positive whole number, got ${JSON.stringify(values.interpreters)}`);
  const models = (values.model ?? []).map(parseModelArg);
  for (const c of values["model-config"] ?? []) {
    const eq = c.indexOf("=");
    const m = models.find((x) => x.name === c.slice(0, eq));
    if (eq <= 0 || !m) throw new EdgeUsageError(`--model-config takes NAME=JSON for a NAME given with --model, got ${JSON.stringify(c)}`);
    let config: unknown;
    try {
      config = JSON.parse(c.slice(eq + 1));
    } catch (e) {
      throw new EdgeUsageError(`--model-config ${m.name}: ${(e as Error).message}`);
    }
    if (!config || typeof config !== "object" || Array.isArray(config)) throw new EdgeUsageError(`--model-config ${m.name}: a JSON object of config.json keys`);
    m.config = { ...m.config, ...(config as Record<string, unknown>) };
  }
  const r = await buildEdge({
    models,
    out: values.out,
    port,
    interpreters,
    snapshot: !values["no-snapshot"],
    data: values["embed-data"] ? "modules" : "assets",
  });
  process.stdout.write(`wrote ${r.files.length} files to ${r.dir}\nstart it: npx workerd serve ${path.join(r.dir, "config.capnp")}\n`);
}
