// Node's engine pieces: onnxruntime-node, registered with the engine's backend registry (the
// core engine knows backends only by name), and node:crypto's SHA-256 for graph keys.

import { createHash } from "node:crypto";
import { registerBackend } from "../../engine/backend.js";
import { setGraphDigest } from "../../engine/structural-key.js";

let registered = false;

export function registerNodeBackends(): void {
  if (registered) return;
  registered = true;
  setGraphDigest((text) => createHash("sha256").update(text).digest("base64"));
  registerBackend("ort-node", async (o) => (await import("./ort-node.js")).createOrtNodeBackend(o));
}
