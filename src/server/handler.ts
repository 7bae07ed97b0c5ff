// The Open Inference Protocol v2 REST front end as one Fetch-API handler
// (Request -> Promise<Response>). It imports nothing platform-specific: Node wires it to
// node:http (src/server/node.ts), and any runtime with Fetch can host it the same way.

import {
  CallTimeoutError,
  ClosedError,
  InterpreterCrashedError,
  MemoryLimitError,
  PackageFormatError,
  PythonError,
  ResourceNotFoundError,
  ValueConversionError,
} from "../errors.js";
import { EngineError } from "../engine/errors.js";
import { encodeInferResponse, parseInferRequest } from "./codec.js";
import { HttpError } from "./errors.js";
import type { Logger, Observer } from "./logger.js";
import type { ModelRegistry } from "./registry.js";

export interface HandlerOptions {
  registry: ModelRegistry;
  /** Largest request body, bytes. Default 64 MiB. Larger bodies get a 400. */
  maxBodyBytes?: number;
  /** Put Python tracebacks in error bodies. Default false. */
  debug?: boolean;
  logger?: Logger;
  observer?: Observer;
  /** GET /metrics: Prometheus text. */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  /** True while the server drains: new requests get 503. */
  draining?: () => boolean;
  serverName?: string;
  serverVersion?: string;
}

export type FetchHandler = (req: Request) => Promise<Response>;

export const DEFAULT_MAX_BODY_BYTES = 64 * 2 ** 20;
const EXTENSIONS = ["binary_tensor_data", "model_repository", "metrics"];

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

let counter = 0;
function requestId(req: Request): string {
  const given = req.headers.get("x-request-id");
  if (given && given.length <= 128 && /^[\x21-\x7e]+$/.test(given)) return given;
  return typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `r${Date.now().toString(36)}${(counter++).toString(36)}`;
}

/** Reads the body, refusing more than `max` bytes without buffering them. */
async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) throw new HttpError(400, `the request body (${declared} bytes) is over the ${max}-byte limit`);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new HttpError(400, `the request body is over the ${max}-byte limit`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Any failure as the HTTP error a client sees. Unknown errors are our bugs: 500. */
export function toHttpError(e: unknown, debug: boolean): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof PythonError) {
    return new HttpError(400, `${e.pyType}: ${e.pyMessage}`, debug ? { traceback: e.pyTraceback } : {});
  }
  if (e instanceof CallTimeoutError) return new HttpError(504, e.message);
  if (e instanceof MemoryLimitError || e instanceof InterpreterCrashedError || e instanceof ClosedError) return new HttpError(503, e.message);
  if (e instanceof EngineError || e instanceof ValueConversionError) return new HttpError(400, e.message);
  if (e instanceof PackageFormatError || e instanceof ResourceNotFoundError) return new HttpError(400, e.message);
  return new HttpError(500, "internal server error", { cause: e instanceof Error ? e.message : String(e) });
}

interface Route {
  kind: "live" | "ready" | "server" | "model" | "model_ready" | "infer" | "index" | "load" | "unload" | "metrics";
  model?: string;
  version?: string;
  method: "GET" | "POST";
}

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;
const REPO_ROUTE = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;

function route(path: string): Route | undefined {
  const p = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  switch (p) {
    case "/v2/health/live":
      return { kind: "live", method: "GET" };
    case "/v2/health/ready":
      return { kind: "ready", method: "GET" };
    case "/v2":
      return { kind: "server", method: "GET" };
    case "/v2/repository/index":
      return { kind: "index", method: "POST" };
    case "/metrics":
      return { kind: "metrics", method: "GET" };
  }
  let m = MODEL_ROUTE.exec(p);
  if (m) {
    const kind = m[3] === "/infer" ? "infer" : m[3] === "/ready" ? "model_ready" : "model";
    return { kind, model: decodeURIComponent(m[1]!), version: m[2] === undefined ? undefined : decodeURIComponent(m[2]), method: kind === "infer" ? "POST" : "GET" };
  }
  m = REPO_ROUTE.exec(p);
  if (m) return { kind: m[2] as "load" | "unload", model: decodeURIComponent(m[1]!), method: "POST" };
  return undefined;
}

export function createHandler(opts: HandlerOptions): FetchHandler {
  const { registry } = opts;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const debug = opts.debug ?? false;
  const draining = opts.draining ?? (() => false);

  const modelOf = (r: Route) => {
    const model = registry.get(r.model!);
    if (!model || model.state === "UNLOADING") throw new HttpError(404, `unknown model ${JSON.stringify(r.model)}`);
    if (r.version !== undefined && r.version !== model.version) {
      throw new HttpError(404, `model ${r.model} has no version ${JSON.stringify(r.version)}; it serves version ${model.version}`);
    }
    return model;
  };

  async function dispatch(req: Request, r: Route, rid: string, log: Logger | undefined): Promise<Response> {
    switch (r.kind) {
      case "live":
        return json(200, { live: true });
      case "ready": {
        const ready = registry.ready && !draining();
        return json(ready ? 200 : 503, { ready });
      }
      case "server":
        return json(200, { name: opts.serverName ?? "wasmdeploy", version: opts.serverVersion ?? "0", extensions: EXTENSIONS });
      case "metrics": {
        if (!opts.metrics) throw new HttpError(404, "metrics are not enabled");
        const m = await opts.metrics();
        return new Response(m.text, { status: 200, headers: { "content-type": m.contentType } });
      }
      case "model":
        return json(200, modelOf(r).metadata());
      case "model_ready": {
        const model = modelOf(r);
        const ready = model.state === "READY" && !draining();
        return json(ready ? 200 : 503, { name: model.name, ready, ...(model.reason ? { reason: model.reason } : {}) });
      }
      case "index": {
        const body = await readBody(req, maxBody);
        let onlyReady = false;
        if (body.length) {
          let doc: unknown;
          try {
            doc = JSON.parse(new TextDecoder().decode(body));
          } catch (e) {
            throw new HttpError(400, `the request body is not valid JSON: ${(e as Error).message}`);
          }
          onlyReady = typeof doc === "object" && doc !== null && (doc as { ready?: unknown }).ready === true;
        }
        const index = await registry.index();
        return json(200, onlyReady ? index.filter((e) => e.state === "READY") : index);
      }
      case "load":
        await readBody(req, maxBody);
        await registry.load(r.model!);
        return json(200, { name: r.model, load: true });
      case "unload":
        await readBody(req, maxBody);
        await registry.unload(r.model!);
        return json(200, { name: r.model, unload: true });
      case "infer": {
        const model = modelOf(r);
        const body = await readBody(req, maxBody);
        const parsed = parseInferRequest(body, req.headers.get("inference-header-content-length"));
        const timeout = model.config.timeout_ms;
        const { outputs, outcome } = await model.infer(parsed, timeout === undefined ? undefined : performance.now() + timeout);
        opts.observer?.call(model.name, outcome.queueMs / 1e3, outcome.computeMs / 1e3, outcome.batch);
        log?.debug({ queue_ms: round(outcome.queueMs), compute_ms: round(outcome.computeMs), batch: outcome.batch }, "inferred");
        const wanted = new Map((parsed.outputs ?? []).map((o) => [o.name, o.binary]));
        const enc = encodeInferResponse(
          { model_name: model.name, model_version: model.version, ...(parsed.id !== undefined ? { id: parsed.id } : {}) },
          outputs,
          (name) => wanted.get(name) ?? parsed.binaryOutput,
        );
        return new Response(enc.body as BodyInit, { status: 200, headers: enc.headers });
      }
    }
  }

  return async function handle(req: Request): Promise<Response> {
    const started = performance.now();
    const rid = requestId(req);
    const url = new URL(req.url);
    const r = route(url.pathname);
    const log = opts.logger?.child({ req_id: rid });
    let res: Response;
    try {
      if (!r) throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
      if (req.method !== r.method && !(r.method === "GET" && req.method === "HEAD")) {
        throw new HttpError(405, `${url.pathname} takes ${r.method}, not ${req.method}`);
      }
      // Draining: answer what is in flight, refuse new work; liveness and metrics still answer.
      if (draining() && r.kind !== "live" && r.kind !== "metrics" && r.kind !== "ready" && r.kind !== "model_ready") {
        throw new HttpError(503, "the server is shutting down");
      }
      res = await dispatch(req, r, rid, log);
    } catch (e) {
      const err = toHttpError(e, debug);
      if (err.status >= 500 && err.status !== 503 && err.status !== 504) {
        log?.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e), path: url.pathname }, "request failed");
      }
      const { cause: _cause, ...extra } = err.extra;
      res = json(err.status, { error: err.message, ...(debug ? err.extra : extra) });
    }
    res.headers.set("x-request-id", rid);
    const seconds = (performance.now() - started) / 1e3;
    // Unknown model names are the client's words: one label for all of them keeps cardinality bounded.
    if (r?.kind === "infer") opts.observer?.request(registry.get(r.model!) ? r.model! : "_unknown", res.status, seconds);
    if (r?.kind !== "live" && r?.kind !== "ready" && r?.kind !== "metrics") {
      log?.info({ method: req.method, path: url.pathname, status: res.status, ms: round(seconds * 1e3), ...(r?.model ? { model: r.model } : {}) }, "request");
    }
    return res;
  };
}

const round = (x: number) => Math.round(x * 10) / 10;
