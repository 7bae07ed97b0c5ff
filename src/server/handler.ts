// The Open Inference Protocol v2 REST front end. Its core serves an `OipRequest` (method,
// target, headers, a body read on demand) and answers a `Reply`; `createHandler` wraps it as a
// Fetch-API handler (Request -> Promise<Response>) for any runtime with Fetch, and adds
// `preflight` and `serve` for adapters that can do better (src/server/node/http.ts): preflight
// decides, from the route and headers alone, whether an inference request is refused (a
// rejection that costs no body read and no parse), admitted, or held unread until its model's
// queue has room. It imports nothing platform-specific.

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
import type { ServedModel } from "./model.js";
import type { ModelRegistry } from "./registry.js";
import type { Admission, Ticket } from "./scheduler.js";

/** Compression of bodies: gzip and deflate (zlib format, as HTTP's "deflate" means). */
export type Coding = "gzip" | "deflate";

export interface BodyCodec {
  /** The decoded body; HttpError 400 when it is not valid `coding` data or decodes to more than `max` bytes (stopping there). */
  decompress(data: Uint8Array, coding: Coding, max: number): Promise<Uint8Array>;
  /** `contentType` lets an implementation pick a method suited to the body. */
  compress(data: Uint8Array, coding: Coding, contentType?: string): Promise<Uint8Array>;
}

export interface HandlerOptions {
  registry: ModelRegistry;
  /** Largest request body, bytes, after decompression. Default 64 MiB. Larger bodies get a 400. */
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
  /** Compression (Content-Encoding, Accept-Encoding). Default: the Compression Streams API. */
  codec?: BodyCodec;
  /** Responses smaller than this are sent uncompressed. Default 1024 bytes. */
  compressAbove?: number;
}

/** An HTTP request as the core sees it. Header names are lower case. */
export interface OipRequest {
  method: string;
  /** Path and query, e.g. "/v2/models/m/infer?x=1". */
  target: string;
  header(name: string): string | undefined;
  /**
   * The body as sent (still encoded when Content-Encoding says so), at most `limit` bytes:
   * past it, reading stops and this rejects with HttpError 400. Called at most once, and for an
   * inference request only once it is admitted.
   */
  body(limit: number): Promise<Uint8Array>;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

/** From preflight: what to do with a request before reading its body. */
export type Preflight =
  /** Send this now; the body is not needed (discard it). */
  | { reply: Reply }
  /** Admitted: read the body and serve the request with this ticket. */
  | { ticket: Ticket; requestId: string }
  /** Held unread until the model's queue has room; `cancel` if the client goes away first. */
  | { wait: Promise<Ticket | Reply>; cancel(): void; requestId: string };

/** What preflight learned, handed to `serve` with the request. */
export interface ServeContext {
  ticket?: Ticket;
  requestId?: string;
  /** performance.now() when the request arrived. */
  arrived?: number;
}

export type FetchHandler = (req: Request) => Promise<Response>;

export interface OipHandler extends FetchHandler {
  /**
   * For adapters that read bodies themselves: decide on an inference request from its route
   * and headers. undefined: not subject to admission, serve it as it comes.
   */
  preflight(req: OipRequest, arrived?: number): Preflight | undefined;
  serve(req: OipRequest, ctx?: ServeContext): Promise<Reply>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 2 ** 20;
const EXTENSIONS = ["binary_tensor_data", "model_repository", "metrics", "statistics"];
const JSON_TYPE = { "content-type": "application/json" };

const reply = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { ...JSON_TYPE, ...headers },
  body: JSON.stringify(body),
});

let counter = 0;
function requestId(given: string | undefined): string {
  if (given && given.length <= 128 && /^[\x21-\x7e]+$/.test(given)) return given;
  return typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `r${Date.now().toString(36)}${(counter++).toString(36)}`;
}

/** Reads a Fetch body, refusing more than `max` bytes without buffering them. */
async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) throw new HttpError(400, `the request body (${declared} bytes) is over the ${max}-byte limit`);
  if (!req.body) return new Uint8Array(0);
  return readStream(req.body, max, () => new HttpError(400, `the request body is over the ${max}-byte limit`));
}

async function readStream(stream: ReadableStream<Uint8Array>, max: number, over: () => Error): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw over();
    }
    chunks.push(value);
  }
  return concatBytes(chunks, size);
}

function concatBytes(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** A zlib stream starts with CMF/FLG bytes whose 16-bit value is a multiple of 31; raw deflate rarely does. */
const isZlib = (b: Uint8Array) => b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;

/** Compression with the Compression Streams API (Node, Deno, workerd, browsers). */
export const webCodec: BodyCodec = {
  async decompress(data, coding, max) {
    const format = coding === "gzip" ? "gzip" : isZlib(data) ? "deflate" : "deflate-raw";
    const ds = new DecompressionStream(format as CompressionFormat);
    const writer = ds.writable.getWriter();
    writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
    writer.close().catch(() => {});
    try {
      return await readStream(ds.readable, max, () => new HttpError(400, `the request body decompresses to more than the ${max}-byte limit`));
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, `the request body is not valid ${coding} data: ${(e as Error).message}`);
    }
  },
  async compress(data, coding) {
    const cs = new CompressionStream(coding);
    const writer = cs.writable.getWriter();
    writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
    writer.close().catch(() => {});
    return readStream(cs.readable, Number.MAX_SAFE_INTEGER, () => new Error("unreachable"));
  },
};

/** The codings of a Content-Encoding header, in the order they were applied; 415 for one we cannot undo. */
function contentCodings(header: string | undefined): Coding[] {
  if (!header) return [];
  const out: Coding[] = [];
  for (const raw of header.split(",")) {
    const c = raw.trim().toLowerCase();
    if (c === "" || c === "identity") continue;
    if (c === "gzip" || c === "x-gzip") out.push("gzip");
    else if (c === "deflate") out.push("deflate");
    else throw new HttpError(415, `Content-Encoding ${JSON.stringify(raw.trim())} is not supported; send gzip, deflate or identity`, { accept: true });
  }
  return out;
}

/** The coding to answer with, from Accept-Encoding (q-values honoured; gzip preferred on a tie). */
export function acceptedCoding(header: string | undefined): Coding | undefined {
  if (!header) return undefined;
  let best: Coding | undefined;
  let bestQ = 0;
  let star: number | undefined;
  const q = new Map<string, number>();
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) weight = Number(m[1]);
    }
    if (!name) continue;
    if (name === "*") star = weight;
    else q.set(name === "x-gzip" ? "gzip" : name!, weight);
  }
  for (const c of ["gzip", "deflate"] as const) {
    const w = q.get(c) ?? star ?? 0;
    if (w > bestQ) {
      best = c;
      bestQ = w;
    }
  }
  return best;
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
  kind: "live" | "ready" | "server" | "model" | "model_ready" | "infer" | "stats" | "index" | "load" | "unload" | "metrics";
  model?: string;
  version?: string;
  method: "GET" | "POST";
}

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer|\/stats)?$/;
const REPO_ROUTE = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `the path segment ${JSON.stringify(part)} is not valid percent-encoding`);
  }
}

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
    case "/v2/models/stats":
      return { kind: "stats", method: "GET" };
  }
  let m = MODEL_ROUTE.exec(p);
  if (m) {
    const kind = m[3] === "/infer" ? "infer" : m[3] === "/ready" ? "model_ready" : m[3] === "/stats" ? "stats" : "model";
    return { kind, model: decode(m[1]!), version: m[2] === undefined ? undefined : decode(m[2]), method: kind === "infer" ? "POST" : "GET" };
  }
  m = REPO_ROUTE.exec(p);
  if (m) return { kind: m[2] as "load" | "unload", model: decode(m[1]!), method: "POST" };
  return undefined;
}

const pathOf = (target: string) => {
  const q = target.indexOf("?");
  return q < 0 ? target : target.slice(0, q);
};

/** Routes that keep answering while the server drains. */
const DURING_DRAIN = new Set<Route["kind"]>(["live", "metrics", "ready", "model_ready", "stats"]);

export function createHandler(opts: HandlerOptions): OipHandler {
  const { registry } = opts;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const debug = opts.debug ?? false;
  const draining = opts.draining ?? (() => false);
  const codec = opts.codec ?? webCodec;
  const compressAbove = opts.compressAbove ?? 1024;
  /** Bytes on the wire: a compressed body may be a little larger than what it decodes to. */
  const wireLimit = (req: OipRequest) => (contentCodings(req.header("content-encoding")).length ? Math.ceil(maxBody * 1.01) + 65536 : maxBody);

  const modelOf = (r: Route) => {
    const model = registry.get(r.model!);
    if (!model || model.state === "UNLOADING") throw new HttpError(404, `unknown model ${JSON.stringify(r.model)}`);
    if (r.version !== undefined && r.version !== model.version) {
      throw new HttpError(404, `model ${r.model} has no version ${JSON.stringify(r.version)}; it serves version ${model.version}`);
    }
    return model;
  };
  /**
   * `use(model)` once the model is loaded (a fleet's model that is not loaded now loads:
   * registry.ensure). `use` runs in the same turn as the check that the model serves, so an unload
   * to make room for another cannot come between (an admitted request keeps its model loaded).
   */
  const withLoadedModel = async <T>(r: Route, use: (model: ServedModel) => T): Promise<T> => {
    for (let tries = 0; ; tries++) {
      if (registry.loadsOnDemand(r.model!)) await registry.ensure(r.model!);
      if (registry.get(r.model!)?.state === "READY" || !registry.fleet || tries >= 8) return use(modelOf(r));
    }
  };

  /** The body decoded (Content-Encoding undone) and held to the limit. */
  async function bodyOf(req: OipRequest): Promise<Uint8Array> {
    const codings = contentCodings(req.header("content-encoding"));
    let body = await req.body(wireLimit(req));
    for (const c of codings.reverse()) body = await codec.decompress(body, c, maxBody);
    return body;
  }

  async function jsonBody(req: OipRequest): Promise<Record<string, unknown> | undefined> {
    const body = await bodyOf(req);
    if (!body.length) return undefined;
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(body));
    } catch (e) {
      throw new HttpError(400, `the request body is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new HttpError(400, "the request body must be a JSON object");
    return doc as Record<string, unknown>;
  }

  /** Per-request facts the accounting after dispatch needs. */
  interface Info {
    model?: ServedModel;
    rows: number;
  }

  async function dispatch(req: OipRequest, r: Route, ctx: ServeContext, info: Info, log: Logger | undefined): Promise<Reply> {
    switch (r.kind) {
      case "live":
        return reply(200, { live: true });
      case "ready": {
        const ready = registry.ready && !draining();
        return reply(ready ? 200 : 503, { ready });
      }
      case "server":
        return reply(200, { name: opts.serverName ?? "wasmdeploy", version: opts.serverVersion ?? "0", extensions: EXTENSIONS });
      case "metrics": {
        if (!opts.metrics) throw new HttpError(404, "metrics are not enabled");
        const m = await opts.metrics();
        return { status: 200, headers: { "content-type": m.contentType }, body: m.text };
      }
      case "model":
        return reply(200, await withLoadedModel(r, (m) => m.metadata()));
      case "model_ready": {
        // A fleet's model that is not loaded now is ready: its first request loads it.
        if (registry.loadsOnDemand(r.model!) && !registry.get(r.model!)) return reply(draining() ? 503 : 200, { name: r.model, ready: !draining() });
        const model = modelOf(r);
        const ready = model.state === "READY" && !draining();
        return reply(ready ? 200 : 503, { name: model.name, ready, ...(model.reason ? { reason: model.reason } : {}) });
      }
      case "stats": {
        const models = r.model === undefined ? registry.list().filter((m) => m.state !== "UNLOADING") : [modelOf(r)];
        return reply(200, { model_stats: models.map((m) => m.statistics.json(m.name, m.version)) });
      }
      case "index": {
        const doc = await jsonBody(req);
        const index = await registry.index();
        return reply(200, doc?.ready === true ? index.filter((e) => e.state === "READY") : index);
      }
      case "load": {
        const doc = await jsonBody(req);
        await registry.load(r.model!, loadConfig(doc));
        return reply(200, { name: r.model, load: true });
      }
      case "unload": {
        const doc = await jsonBody(req);
        const params = doc?.parameters;
        if (params !== undefined && (typeof params !== "object" || params === null || Array.isArray(params))) throw new HttpError(400, '"parameters" must be an object');
        for (const [k, v] of Object.entries((params ?? {}) as Record<string, unknown>)) {
          // Models here have no dependents (no ensembles): either value means the same.
          if (k !== "unload_dependents" || typeof v !== "boolean") throw new HttpError(400, `unload does not take the parameter ${JSON.stringify(k)}`);
        }
        await registry.unload(r.model!);
        return reply(200, { name: r.model, unload: true });
      }
      case "infer": {
        const arrived = ctx.arrived ?? performance.now();
        let ticket = ctx.ticket;
        let model: ServedModel;
        if (ticket) model = modelOf(r);
        else {
          // No preflight (a plain Fetch runtime): admission still comes before the body is read.
          let a: Admission;
          [model, a] = await withLoadedModel(r, (m) => {
            const timeout = m.config.timeout_ms;
            return [m, m.admit(timeout === undefined ? undefined : arrived + timeout, arrived)] as const;
          });
          ticket = "ticket" in a ? a.ticket : await a.wait;
        }
        info.model = model;
        try {
          const body = await bodyOf(req);
          const t0 = performance.now();
          const parsed = parseInferRequest(body, req.header("inference-header-content-length") ?? null);
          const parseMs = performance.now() - t0;
          const { outputs, outcome, inputMs, rows } = await model.infer(parsed, ticket.deadline, ticket);
          const t1 = performance.now();
          opts.observer?.call(model.name, outcome.queueMs / 1e3, outcome.computeMs / 1e3, outcome.batch);
          log?.debug({ queue_ms: round(outcome.queueMs), compute_ms: round(outcome.computeMs), batch: outcome.batch }, "inferred");
          const wanted = new Map((parsed.outputs ?? []).map((o) => [o.name, o.binary]));
          const enc = encodeInferResponse(
            { model_name: model.name, model_version: model.version, ...(parsed.id !== undefined ? { id: parsed.id } : {}) },
            outputs,
            (name) => wanted.get(name) ?? parsed.binaryOutput,
          );
          const s = model.statistics;
          s.queue.count++;
          s.queue.ns += Math.round(outcome.queueMs * 1e6);
          s.computeInput.count++;
          s.computeInput.ns += Math.round((parseMs + inputMs) * 1e6);
          s.computeInfer.count++;
          s.computeInfer.ns += Math.round(outcome.computeMs * 1e6);
          s.computeOutput.count++;
          s.computeOutput.ns += Math.round((performance.now() - t1) * 1e6);
          info.rows = rows;
          return { status: 200, headers: enc.headers, body: enc.body };
        } finally {
          ticket.release();
        }
      }
    }
  }

  function errorReply(e: unknown, path: string, log: Logger | undefined): Reply {
    const err = toHttpError(e, debug);
    if (err.status >= 500 && err.status !== 503 && err.status !== 504) {
      log?.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e), path }, "request failed");
    }
    const { cause: _cause, accept, ...extra } = err.extra;
    const headers: Record<string, string> = {};
    if (accept) headers["accept-encoding"] = "gzip, deflate";
    if (err.status === 429) headers["retry-after"] = "1";
    return reply(err.status, { error: err.message, ...(debug ? { ...extra, ...(_cause !== undefined ? { cause: _cause } : {}) } : extra) }, headers);
  }

  /** Metrics, statistics and the log line of an answered request. */
  function account(req: OipRequest, path: string, r: Route | undefined, res: Reply, rid: string, started: number, info: Info) {
    res.headers["x-request-id"] = rid;
    const ms = performance.now() - started;
    if (r?.kind === "infer") {
      // Unknown model names are the client's words: one label for all of them keeps cardinality bounded.
      const known = info.model ?? registry.get(r.model!);
      opts.observer?.request(known ? r.model! : "_unknown", res.status, ms / 1e3);
      known?.statistics.request(res.status === 200, ms, info.rows);
    }
    if (r?.kind !== "live" && r?.kind !== "ready" && r?.kind !== "metrics") {
      opts.logger?.info({ req_id: rid, method: req.method, path, status: res.status, ms: round(ms), ...(r?.model ? { model: r.model } : {}) }, "request");
    }
  }

  async function compressed(req: OipRequest, res: Reply): Promise<Reply> {
    const size = typeof res.body === "string" ? res.body.length : res.body.byteLength;
    if (size < compressAbove || res.headers["content-encoding"]) return res;
    const coding = acceptedCoding(req.header("accept-encoding"));
    if (!coding) return res;
    const raw = typeof res.body === "string" ? new TextEncoder().encode(res.body) : res.body;
    const body = await codec.compress(raw, coding, res.headers["content-type"]);
    return { status: res.status, headers: { ...res.headers, "content-encoding": coding, vary: "Accept-Encoding" }, body };
  }

  function preflight(req: OipRequest, arrived = performance.now()): Preflight | undefined {
    const path = pathOf(req.target);
    let r: Route | undefined;
    try {
      r = route(path);
    } catch {
      return undefined;
    }
    if (!r || req.method !== r.method) return undefined;
    const declared = req.header("content-length");
    let limit: number;
    try {
      limit = wireLimit(req);
    } catch {
      return undefined; // an unknown Content-Encoding: serve answers 415
    }
    const refuse = (e: unknown, rid: string, info: Info = { rows: 1 }): { reply: Reply } => {
      const res = errorReply(e, path, undefined);
      account(req, path, r, res, rid, arrived, info);
      return { reply: res };
    };
    if (declared !== undefined && Number(declared) > limit) {
      return refuse(new HttpError(400, `the request body (${declared} bytes) is over the ${limit}-byte limit`), requestId(req.header("x-request-id")));
    }
    if (r.kind !== "infer") return undefined;
    const rid = requestId(req.header("x-request-id"));
    if (draining()) return refuse(new HttpError(503, "the server is shutting down"), rid);
    if (registry.loadsOnDemand(r.model!)) {
      // A fleet's model that is not loaded: held unread while it loads, then admitted as usual.
      let cancelled = false;
      let cancelAdmission: (() => void) | undefined;
      const wait = (async (): Promise<Ticket | Reply> => {
        const a = await withLoadedModel(r, (m) => {
          const timeout = m.config.timeout_ms;
          return m.admit(timeout === undefined ? undefined : arrived + timeout, arrived);
        });
        if ("ticket" in a) {
          if (cancelled) a.ticket.release();
          return a.ticket;
        }
        cancelAdmission = a.cancel;
        if (cancelled) a.cancel();
        return a.wait;
      })().catch((e: unknown) => refuse(e, rid, { model: registry.get(r.model!), rows: 1 }).reply);
      return {
        requestId: rid,
        wait,
        cancel: () => {
          cancelled = true;
          cancelAdmission?.();
        },
      };
    }
    let model: ServedModel;
    try {
      model = modelOf(r);
      const timeout = model.config.timeout_ms;
      const a = model.admit(timeout === undefined ? undefined : arrived + timeout, arrived);
      if ("ticket" in a) return { ticket: a.ticket, requestId: rid };
      return {
        requestId: rid,
        cancel: a.cancel,
        wait: a.wait.then(
          (t) => t,
          (e: unknown) => refuse(e, rid, { model, rows: 1 }).reply,
        ),
      };
    } catch (e) {
      return refuse(e, rid);
    }
  }

  async function serve(req: OipRequest, ctx: ServeContext = {}): Promise<Reply> {
    const started = ctx.arrived ?? performance.now();
    const rid = ctx.requestId ?? requestId(req.header("x-request-id"));
    const path = pathOf(req.target);
    const log = opts.logger?.child({ req_id: rid });
    const info: Info = { rows: 1 };
    let r: Route | undefined;
    let res: Reply;
    try {
      r = route(path);
      if (!r) throw new HttpError(404, `no route ${req.method} ${path}`);
      if (req.method !== r.method && !(r.method === "GET" && req.method === "HEAD")) {
        throw new HttpError(405, `${path} takes ${r.method}, not ${req.method}`);
      }
      // Draining: answer what is in flight, refuse new work; liveness and metrics still answer.
      if (draining() && !ctx.ticket && !DURING_DRAIN.has(r.kind)) throw new HttpError(503, "the server is shutting down");
      res = await dispatch(req, r, { ...ctx, arrived: started }, info, log);
    } catch (e) {
      ctx.ticket?.release();
      res = errorReply(e, path, log);
    }
    account(req, path, r, res, rid, started, info);
    try {
      return await compressed(req, res);
    } catch {
      return res;
    }
  }

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const res = await serve({
      method: req.method,
      target: url.pathname + url.search,
      header: (name) => req.headers.get(name) ?? undefined,
      body: (limit) => readBody(req, limit),
    });
    // workerd encodes a body itself when a response names a Content-Encoding, unless told the
    // body is encoded already ("manual"); other runtimes ignore the option.
    const init = { status: res.status, headers: res.headers, ...(res.headers["content-encoding"] ? { encodeBody: "manual" } : {}) };
    return new Response(req.method === "HEAD" ? null : (res.body as BodyInit), init as ResponseInit);
  };
  return Object.assign(handle, { preflight, serve });
}

/** A load request's config: `{"parameters": {"config": "<JSON>"}}`; files in the request are refused, not ignored. */
function loadConfig(doc: Record<string, unknown> | undefined): unknown {
  if (!doc) return undefined;
  for (const k of Object.keys(doc)) if (k !== "parameters") throw new HttpError(400, `the load request has an unknown field ${JSON.stringify(k)}`);
  const params = doc.parameters;
  if (params === undefined) return undefined;
  if (typeof params !== "object" || params === null || Array.isArray(params)) throw new HttpError(400, '"parameters" must be an object');
  let config: unknown;
  for (const [k, v] of Object.entries(params)) {
    if (k === "config") {
      if (typeof v === "string") {
        try {
          config = JSON.parse(v);
        } catch (e) {
          throw new HttpError(400, `parameters.config is not valid JSON: ${(e as Error).message}`);
        }
      } else config = v;
      if (typeof config !== "object" || config === null || Array.isArray(config)) throw new HttpError(400, "parameters.config must be a JSON object");
    } else if (k.startsWith("file:")) {
      throw new HttpError(400, `loading model files from the request (${k}) is not supported; put the archive in the repository`);
    } else throw new HttpError(400, `load does not take the parameter ${JSON.stringify(k)}`);
  }
  return config;
}

const round = (x: number) => Math.round(x * 10) / 10;
