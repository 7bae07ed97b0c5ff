// The Node adapter: node:http in front of the Fetch handler, with a body size limit enforced
// while reading, and a graceful drain (in-flight requests are answered, new ones get 503).

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { FetchHandler } from "../handler.js";

export interface NodeServerOptions {
  host: string;
  port: number;
  /** Largest body read; larger ones get a 400 without being buffered. */
  maxBodyBytes: number;
}

export interface NodeServer {
  readonly url: string;
  readonly port: number;
  /** Requests being handled now. */
  readonly inFlight: number;
  readonly draining: boolean;
  /** Refuse new requests (503), wait until in-flight ones are answered, close the listener. */
  drain(): Promise<void>;
}

export async function startNodeServer(
  handler: FetchHandler,
  opts: NodeServerOptions,
  state: { draining: boolean } = { draining: false },
): Promise<NodeServer> {
  let inFlight = 0;
  let settle: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    inFlight++;
    serve(req, res).finally(() => {
      inFlight--;
      if (inFlight === 0) settle?.();
    });
  });
  server.keepAliveTimeout = 5_000;

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readLimited(req, opts.maxBodyBytes);
      if (body === null) {
        // Close the connection once the answer is out, rather than reading the rest of the body.
        res.once("finish", () => req.destroy());
        send(res, 400, { "content-type": "application/json", connection: "close" }, JSON.stringify({ error: `the request body is over the ${opts.maxBodyBytes}-byte limit` }));
        return;
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
      }
      const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
        method: req.method,
        headers,
        body: body as BodyInit | undefined,
      });
      const response = await handler(request);
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => (out[k] = v));
      if (state.draining) out.connection = "close";
      send(res, response.status, out, new Uint8Array(await response.arrayBuffer()));
    } catch (e) {
      // The handler answers every failure itself; reaching here is a bug in this adapter.
      send(res, 500, { "content-type": "application/json" }, JSON.stringify({ error: `internal server error: ${(e as Error).message}` }));
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
      if (inFlight > 0) await new Promise<void>((r) => (settle = r));
      server.closeIdleConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function send(res: http.ServerResponse, status: number, headers: Record<string, string>, body: string | Uint8Array) {
  if (res.headersSent) return res.end();
  res.writeHead(status, { ...headers, "content-length": String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength) });
  res.end(body);
}

/** The whole body, or null when it goes over `max` bytes (the rest is not buffered). */
function readLimited(req: http.IncomingMessage, max: number): Promise<Uint8Array | null> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!over) resolve(new Uint8Array(Buffer.concat(chunks)));
    });
    req.on("error", reject);
  });
}
