// `wasmdeploy web`: a static server for the browser build. It sends the two headers that make
// a page cross-origin isolated (the interpreters' workers need SharedArrayBuffer), serves the
// demo page at /, the bundle and its assets beside it, and a folder's files under /files/.

import { createReadStream, existsSync, realpathSync, statSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const WEB_USAGE = `  wasmdeploy web [--port 8080] [--host 127.0.0.1] [--root DIR]
      Serve the browser demo at /, dist/browser/wasmdeploy.js at /wasmdeploy.js and DIR's files at /files/<path>,
      cross-origin isolated (COOP same-origin, COEP require-corp).`;

const BROWSER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "browser");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".txt": "text/plain; charset=utf-8",
};

const ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** The file a URL path names inside `dir`, or undefined if it names none there (no `..`, no symlink out). */
export function resolveInside(dir: string, urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (rel.includes("\0") || rel.split(/[\\/]/).some((seg) => seg === "..")) return undefined;
  const full = path.resolve(dir, `.${path.posix.sep}${rel}`);
  if (full !== dir && !full.startsWith(dir + path.sep)) return undefined;
  try {
    const real = realpathSync(full);
    if (real !== dir && !real.startsWith(dir + path.sep)) return undefined;
    return statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { ...ISOLATION, "Content-Type": "text/plain; charset=utf-8" }).end(body);
}

export async function web(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: "string", default: "8080" }, host: { type: "string", default: "127.0.0.1" }, root: { type: "string" } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port takes 0-65535, got ${values.port}`);
  if (!existsSync(path.join(BROWSER_DIR, "wasmdeploy.js"))) {
    process.stderr.write(`wasmdeploy: the browser build is missing (${BROWSER_DIR}); run \`npm run build\`\n`);
    return 1;
  }
  const root = values.root ? realpathSync(path.resolve(values.root)) : undefined;
  const assets = realpathSync(BROWSER_DIR);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "method not allowed\n");
    let file: string | undefined;
    if (url.pathname.startsWith("/files/")) file = root ? resolveInside(root, url.pathname.slice("/files/".length)) : undefined;
    else file = resolveInside(assets, url.pathname === "/" ? "index.html" : url.pathname.slice(1));
    if (!file) return send(res, 404, "not found\n");
    const size = statSync(file).size;
    res.writeHead(200, {
      ...ISOLATION,
      "Content-Type": TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
      "Content-Length": size,
      "Cache-Control": "no-cache",
    });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, values.host, resolve);
  });
  const addr = server.address();
  const shownPort = typeof addr === "object" && addr ? addr.port : port;
  const host = values.host!.includes(":") ? `[${values.host}]` : values.host;
  process.stdout.write(`wasmdeploy web: http://${host}:${shownPort}/${root ? ` (files of ${root} at /files/)` : ""}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}
