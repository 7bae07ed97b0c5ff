// A cell: one model's whole runtime (its interpreters, engine threads and ONNX Runtime) in a
// process of its own, started and supervised by the server (cell.ts). The engine runs native
// code on graphs a tenant sends; if a fault nobody foresaw ends this process, it ends only this
// model's in-flight requests, and the server starts the cell again.

import pino from "pino";
import type { ModelRuntime } from "../model.js";
import { toHttpError } from "../handler.js";
import type { Logger } from "../logger.js";
import { nodeLoader } from "./loader.js";
import { type CellError, decodeValue, encodeValue, type FromCell, type ToCell } from "./cell-protocol.js";

const send = (m: FromCell) => process.send!(m);
let runtime: ModelRuntime | undefined;
let closing = false;
let debug = false;

function errorOf(e: unknown): CellError {
  const h = toHttpError(e, debug);
  return { status: h.status, message: h.message, extra: h.extra };
}

// Stats reach the server with every result; an idle cell still reports now and then.
const ticker = setInterval(() => runtime && send({ type: "stats", stats: runtime.stats() }), 2000);
ticker.unref();

process.on("message", async (m: ToCell) => {
  switch (m.type) {
    case "open": {
      const { spec, defaults, manager, logLevel } = m.init;
      debug = m.init.debug;
      const logger = pino({ level: logLevel, base: { service: "wasmdeploy", cell: spec.name, pid: process.pid } }) as unknown as Logger;
      try {
        runtime = await nodeLoader({ defaults, manager, logger }).open(spec);
        send({ type: "ready", stats: runtime.stats(), ...(runtime.signature ? { signature: runtime.signature } : {}) });
      } catch (e) {
        send({ type: "open-failed", error: errorOf(e) });
        process.exit(1);
      }
      return;
    }
    case "call": {
      if (!runtime) return;
      try {
        const value = await runtime.call(m.args.map(decodeValue), m.timeoutMs);
        send({ type: "result", id: m.id, ok: true, value: encodeValue(value), stats: runtime.stats() });
      } catch (e) {
        send({ type: "result", id: m.id, ok: false, error: errorOf(e), stats: runtime.stats() });
      }
      return;
    }
    case "close":
      if (closing) return;
      closing = true;
      await runtime?.close().catch(() => {});
      process.exit(0);
  }
});

// The server went away (its IPC channel closed): nothing is left to serve.
process.on("disconnect", () => process.exit(0));
