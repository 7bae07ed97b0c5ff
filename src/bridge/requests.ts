// The bodies of bridge requests, checked strictly before anything acts on them: an interpreter
// may run hostile code, so every field is verified and an unknown one is an error (a request
// padded with junk is refused, never parsed into something the host keeps). Sizes are bounded
// before parsing: the text's length and the buffers' bytes.

import type { DType } from "../engine/graph.js";
import { isDType } from "../engine/dtype.js";
import { WasmdeployError } from "../errors.js";
import type { BridgeKind } from "../protocol.js";

/** Bridge requests are refused past these sizes, before they are parsed. */
export interface BridgeLimits {
  /** Characters of one request's JSON text (a spec travels in it once per interpreter). */
  maxRequestChars: number;
  /** Bytes of the buffers of one request (tensor data Python writes). */
  maxRequestBufferBytes: number;
  /** Storage ids released by one request. */
  maxReleases: number;
}

export const DEFAULT_BRIDGE_LIMITS: Readonly<BridgeLimits> = {
  maxRequestChars: 4 * 2 ** 20,
  maxRequestBufferBytes: 1024 * 2 ** 20,
  maxReleases: 1 << 16,
};

export class BridgeRequestError extends WasmdeployError {
  constructor(message: string) {
    super(`bridge request refused: ${message}`);
    this.name = "BridgeRequestError";
  }
}

export type Feeds = Record<string, [string, number]>;

export type BridgeBody =
  | { kind: "run"; key?: string; spec?: unknown; feeds: Feeds; release?: string[] }
  | { kind: "read"; storage: string; dtype: DType; offset: number; numel: number; release?: string[] }
  | { kind: "write"; dtype: DType; numel: number; release?: string[] }
  | { kind: "release"; release?: string[] };

const FIELDS: Record<BridgeKind, readonly string[]> = {
  run: ["key", "spec", "feeds", "release"],
  read: ["storage", "dtype", "offset", "numel", "release"],
  write: ["dtype", "numel", "release"],
  release: ["release"],
};

const count = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const id = (x: unknown): x is string => typeof x === "string" && x.length > 0 && x.length <= 512;

/** The size check that needs no parsing: run it before the text is decoded or copied further. */
export function checkBridgeSize(chars: number, bufferBytes: number, limits: BridgeLimits = DEFAULT_BRIDGE_LIMITS): void {
  if (chars > limits.maxRequestChars) {
    throw new BridgeRequestError(`its JSON is ${chars} characters, over the ${limits.maxRequestChars} limit (graphs that large must be cut smaller)`);
  }
  if (bufferBytes > limits.maxRequestBufferBytes) throw new BridgeRequestError(`its buffers hold ${bufferBytes} bytes, over the ${limits.maxRequestBufferBytes} limit`);
}

export function parseBridgeBody(kind: BridgeKind, json: string, buffers: readonly Uint8Array[], limits: BridgeLimits = DEFAULT_BRIDGE_LIMITS): BridgeBody {
  if (!Object.hasOwn(FIELDS, kind)) throw new BridgeRequestError(`unknown kind ${JSON.stringify(String(kind).slice(0, 32))}`);
  let bufferBytes = 0;
  for (const b of buffers) bufferBytes += b.byteLength;
  checkBridgeSize(json.length, bufferBytes, limits);
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    throw new BridgeRequestError("its body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new BridgeRequestError("its body must be a JSON object");
  const b = body as Record<string, unknown>;
  for (const k in b) if (!FIELDS[kind].includes(k)) throw new BridgeRequestError(`${kind} has an unknown field ${JSON.stringify(k.slice(0, 64))}`);
  if (b.release !== undefined) {
    if (!Array.isArray(b.release) || b.release.length > limits.maxReleases || !b.release.every(id)) {
      throw new BridgeRequestError(`release must be a list of at most ${limits.maxReleases} storage ids`);
    }
  }
  const expectBuffers = kind === "write" ? 1 : 0;
  if (buffers.length !== expectBuffers) throw new BridgeRequestError(`${kind} carries ${expectBuffers} buffer${expectBuffers === 1 ? "" : "s"}, not ${buffers.length}`);
  switch (kind) {
    case "run": {
      if (b.key !== undefined && (typeof b.key !== "string" || b.key.length > 256)) throw new BridgeRequestError("run key must be a string of at most 256 characters");
      if (b.key === undefined && b.spec === undefined) throw new BridgeRequestError("run needs a spec or the key of one sent before");
      if (typeof b.feeds !== "object" || b.feeds === null || Array.isArray(b.feeds)) throw new BridgeRequestError("run feeds must be an object");
      for (const f of Object.values(b.feeds)) {
        if (!Array.isArray(f) || f.length !== 2 || !id(f[0]) || !count(f[1])) throw new BridgeRequestError("each run feed must be [storage id, element offset]");
      }
      return { kind, ...(b as Omit<Extract<BridgeBody, { kind: "run" }>, "kind">) };
    }
    case "read":
      if (!id(b.storage) || !isDType(b.dtype) || !count(b.offset) || !count(b.numel)) {
        throw new BridgeRequestError("read needs storage (an id), dtype, offset and numel (non-negative integers)");
      }
      return { kind, storage: b.storage, dtype: b.dtype, offset: b.offset, numel: b.numel, ...(b.release ? { release: b.release as string[] } : {}) };
    case "write":
      if (!isDType(b.dtype) || !count(b.numel)) throw new BridgeRequestError("write needs dtype and numel (a non-negative integer)");
      return { kind, dtype: b.dtype, numel: b.numel, ...(b.release ? { release: b.release as string[] } : {}) };
    case "release":
      return { kind, ...(b.release ? { release: b.release as string[] } : {}) };
  }
}
