// Node's engine backend: onnxruntime-node, registered with the engine's backend registry.
// The core engine knows backends only by name; this is where the native one comes from.

import { registerBackend } from "../../engine/backend.js";

let registered = false;

export function registerNodeBackends(): void {
  if (registered) return;
  registered = true;
  registerBackend("ort-node", async (o) => (await import("./ort-node.js")).createOrtNodeBackend(o));
}
