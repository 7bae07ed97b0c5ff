// Dev-only: runs GraphSpecs from a CPython process (test/torch/dev/devbackend.py) on the real
// engine (dist/engine), one JSON request per line on stdin, one JSON reply per line on stdout.
import { createInterface } from "node:readline";
import { Engine } from "../../../dist/engine/engine.js";
import { Tensor } from "../../../dist/tensor.js";
import { dtypeInfo } from "../../../dist/engine/dtype.js";

const engine = await Engine.create({ backend: "ort-node" });
const rl = createInterface({ input: process.stdin });
const b64 = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString("base64");

function tensorFrom(dtype, shape, data) {
  const bytes = Buffer.from(data, "base64");
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const info = dtypeInfo(dtype);
  const n = copy.byteLength / info.itemSize;
  return new Tensor(dtype, new info.array(copy.buffer, 0, n), shape);
}

for await (const line of rl) {
  let reply;
  try {
    const req = JSON.parse(line);
    if (req.op === "register") {
      const bytes = Buffer.from(req.data, "base64");
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      engine.registerStorage(req.id, req.dtype, copy);
      reply = { ok: true };
    } else if (req.op === "run") {
      const feeds = {};
      for (const [name, f] of Object.entries(req.feeds)) feeds[name] = tensorFrom(f.dtype, f.shape, f.data);
      const out = await engine.run(req.spec, feeds);
      reply = { ok: true, outputs: req.spec.outputs.map((o) => b64(new Uint8Array(out[o.name].data.buffer, out[o.name].data.byteOffset, out[o.name].data.byteLength))) };
    } else {
      reply = { ok: false, error: "unknown op" };
    }
  } catch (e) {
    reply = { ok: false, error: String(e && e.message || e) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
}
