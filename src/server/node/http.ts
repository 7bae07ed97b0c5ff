// The Node adapter: node:http in front of the OIP handler's core (handler.ts), without Fetch
// objects on the hot path. Overload is handled before bodies are read: the handler's preflight
// refuses (in microseconds: no body read, no parse), admits, or holds an inference request
// unread until its model's queue has room, so the CPU goes to requests that will be answered.
// After a 429 on a keep-alive connection, the server reads that connection's next request only
// after a pause (the Retry-After it sent), so a client that retries at once cannot turn
// refusals into a loop that eats the machine. A body over the limit gets its 400 while the rest
// is read and dropped, never a reset. Drain: in-flight requests are answered, new ones get 503
// (on new connections too), and the listener closes only once nothing is in flight and no
// request has come for a quiet period.

import http from "node:http";
import type { Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { HttpError } from "../errors.js";
import type { FetchHandler, OipHandler, OipRequest, Reply, ServeContext } from "../handler.js";

export interface NodeServerOptions {
  host: string;
  port: number;
  /** Largest body read for a plain Fetch handler; an OipHandler sets its own limits (its maxBodyBytes). */
  maxBodyBytes: number;
  /** After a 429, how long that connection's next request waits before it is read, ms. Default 1000. */
  refusalPauseMs?: number;
  /** Drain: close the listener once nothing is in flight and no request came for this long, ms. Default 1000. */
  drainQuietMs?: number;
}

export interface NodeServer {
  readonly url: string;
  readonly port: number;
  /** Requests being handled now (held unread ones included). */
  readonly inFlight: number;
  readonly draining: boolean;
  /**
   * Refuse new requests (503) while answering in-flight ones; keep accepting connections until
   * nothing is in flight and no request came for `drainQuietMs`; then close the listener.
   */
  drain(): Promise<void>;
  /** Close at once: the listener and every connection (after a drain timeout). */
  close(): void;
}

/** How often paused connections are looked at (a connection waits pauseMs to pauseMs + this). */
const PACE_TICK_MS = 50;

/** Bytes of an unwanted body (over the limit, or refused) read and dropped before the connection is cut. */
const DISCARD_LIMIT = 256 * 2 ** 20;

export async function startNodeServer(
  handler: FetchHandler | OipHandler,
  opts: NodeServerOptions,
  state: { draining: boolean } = { draining: false },
): Promise<NodeServer> {
  const oip = "serve" in handler && "preflight" in handler ? handler : fetchAsOip(handler, opts.maxBodyBytes);
  const pauseMs = opts.refusalPauseMs ?? 1000;
  const quietMs = opts.drainQuietMs ?? 1000;
  let inFlight = 0;
  let lastArrival = performance.now();
  /** Connections paused after a 429, and when to read them again. */
  const paused = new Map<Socket, number>();
  let ticker: ReturnType<typeof setInterval> | undefined;

  const server = http.createServer((req, res) => {
    inFlight++;
    lastArrival = performance.now();
    handleOne(req, res)
      .catch((e: unknown) => {
        // The handler answers every failure itself; reaching here is a bug in this adapter.
        send(req, res, { status: 500, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: `internal server error: ${(e as Error).message}` }) });
      })
      .finally(() => {
        inFlight--;
      });
  });
  server.keepAliveTimeout = 5_000;

  async function handleOne(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrived = performance.now();
    const request = nodeRequest(req);
    const ctx: ServeContext = { arrived };
    const pre = oip.preflight(request, arrived);
    if (pre) {
      if ("reply" in pre) return send(req, res, pre.reply, await received(req));
      ctx.requestId = pre.requestId;
      if ("ticket" in pre) ctx.ticket = pre.ticket;
      else {
        // Held unread: its body stays in the socket until the model's queue has room.
        const gone = () => pre.cancel();
        res.once("close", gone);
        const got = await pre.wait;
        res.off("close", gone);
        if ("status" in got) return send(req, res, got, await received(req));
        if (res.destroyed) return got.release();
        ctx.ticket = got;
      }
    }
    try {
      const reply = await oip.serve(request, ctx);
      send(req, res, reply, await received(req));
    } finally {
      ctx.ticket?.release(); // a no-op once the request was queued; never leave a place taken
    }
  }

  /** `whole`: the request's body has been received (false: too much of it was left to drop; the connection is cut after the answer). */
  function send(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply, whole = true): void {
    if (res.headersSent || res.destroyed) {
      res.end();
      return;
    }
    const body = typeof reply.body === "string" ? Buffer.from(reply.body) : reply.body;
    const headers: Record<string, string> = { ...reply.headers, "content-length": String(body.byteLength) };
    if (state.draining || !whole) headers.connection = "close";
    res.writeHead(reply.status, headers);
    res.end(body);
    if (!whole) res.once("finish", () => req.socket.destroy());
    else if (reply.status === 429 && !state.draining && pauseMs > 0) pace(req, res);
  }

  /**
   * Read this connection's next request only after `pauseMs`: its client was told to retry
   * later. Paused connections are resumed by one coarse tick rather than a timer each, so a
   * refusal costs no wake-up of its own.
   */
  function pace(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    const pause = () =>
      setImmediate(() => {
        if (socket.destroyed || state.draining || paused.has(socket)) return;
        socket.pause();
        paused.set(socket, performance.now() + pauseMs);
        ticker ??= setInterval(resumeDue, PACE_TICK_MS);
      });
    // After the response is out and the request's body is read (node drops what nobody read).
    res.once("finish", () => (req.complete ? pause() : req.once("end", pause)));
  }

  function resumeDue(all = false): void {
    const now = performance.now();
    for (const [socket, until] of paused) {
      if (!all && until > now) continue;
      paused.delete(socket);
      if (!socket.destroyed) socket.resume();
    }
    if (!paused.size && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    get inFlight() {
      return inFlight;
    },
    get draining() {
      return state.draining;
    },
    async drain() {
      state.draining = true;
      // Paced connections are read again now: their next requests get the 503 at once.
      resumeDue(true);
      await new Promise<void>((resolve) => {
        const check = () => {
          if (inFlight > 0 || performance.now() - lastArrival < quietMs) return false;
          clearInterval(timer);
          resolve();
          return true;
        };
        const timer = setInterval(check, Math.max(10, Math.min(50, quietMs)));
        check();
      });
      // Closes the listener and the idle keep-alive connections; nothing is in flight.
      await new Promise<void>((r) => server.close(() => r()));
    },
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}

/**
 * Waiting for a turn of the event loop: resolves in a later check phase, one waiter per turn,
 * so the I/O that is ready (answers from interpreters and the engine, with --cells off on this
 * very loop; results to write back) is handled between two new requests' parses.
 */
const turns: (() => void)[] = [];
let turning = false;
function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    turns.push(resolve);
    if (!turning) {
      turning = true;
      setImmediate(step);
    }
  });
}
function step(): void {
  turns.shift()?.();
  if (turns.length) setImmediate(step);
  else turning = false;
}

/**
 * Resolves once the request's body has been received, reading and dropping what nobody read,
 * with false when more than DISCARD_LIMIT bytes of it were left. An answer goes out only after
 * its request is whole: a client still writing a large body when its answer (a 429) comes
 * drops the connection (Go's HTTP client does), which would both lose the answer's pacing and
 * make it reconnect; answered after its body, it keeps the connection.
 */
function received(req: http.IncomingMessage): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  return new Promise((resolve) => {
    let dropped = 0;
    const done = (whole: boolean) => {
      req.off("data", count);
      req.off("end", end);
      req.off("close", end);
      req.off("error", end);
      resolve(whole);
    };
    const count = (c: Buffer) => {
      dropped += c.length;
      if (dropped > DISCARD_LIMIT) done(false);
    };
    const end = () => done(req.complete);
    req.on("data", count);
    req.once("end", end);
    req.once("close", end);
    req.once("error", end);
    req.resume();
  });
}

/** The core's view of a node:http request. Its body is handed over (to be parsed) one request per loop turn. */
function nodeRequest(req: http.IncomingMessage): OipRequest & { raw: http.IncomingMessage } {
  return {
    raw: req,
    method: req.method ?? "GET",
    target: req.url ?? "/",
    header(name) {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(", ") : v;
    },
    body: async (limit) => {
      const body = await readLimited(req, limit);
      await nextTurn();
      return body;
    },
  };
}

/**
 * The whole body, or HttpError 400 as soon as it goes over `limit` bytes. Past the limit the
 * rest is read and dropped (so the client, which is still sending, gets the 400 and not a
 * reset); the answer waits for it (received()), up to DISCARD_LIMIT, past which the connection
 * is cut after the answer.
 */
function readLimited(req: http.IncomingMessage, limit: number): Promise<Uint8Array> {
  const over = () => new HttpError(400, `the request body is over the ${limit}-byte limit`);
  const declared = Number(req.headers["content-length"]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let dropping = false;
    const drop = () => {
      dropping = true;
      chunks.length = 0;
      reject(over());
    };
    if (Number.isFinite(declared) && declared > limit) drop();
    req.on("data", (c: Buffer) => {
      if (dropping) return; // the rest is dropped; received() decides when to stop
      size += c.length;
      if (size > limit) return drop();
      chunks.push(c);
    });
    req.on("end", () => {
      if (!dropping) resolve(chunks.length === 1 ? new Uint8Array(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength) : new Uint8Array(Buffer.concat(chunks)));
    });
    req.on("error", (e) => {
      if (!dropping) reject(e);
    });
  });
}

/** A plain Fetch handler behind the same adapter: no preflight, bodies are read as they come. */
function fetchAsOip(handler: FetchHandler, maxBody: number): Pick<OipHandler, "serve" | "preflight"> {
  const serve = async (req: OipRequest & { raw?: http.IncomingMessage }): Promise<Reply> => {
    let body: Uint8Array | undefined;
    if (req.method !== "GET" && req.method !== "HEAD") {
      try {
        body = await req.body(maxBody);
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        return { status: 400, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: e.message }) };
      }
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.raw?.headers ?? {})) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
    }
    const res = await handler(new Request(`http://${req.header("host") ?? "localhost"}${req.target}`, { method: req.method, headers, body: body as BodyInit | undefined }));
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => (out[k] = v));
    return { status: res.status, headers: out, body: new Uint8Array(await res.arrayBuffer()) };
  };
  return { serve, preflight: () => undefined };
}
