// Cold start child, plain JavaScript so that nothing but Node itself runs before wasmdeploy
// (no tsx): a fresh process that creates a 1-interpreter manager (boot snapshot cached on disk),
// loads an archive from disk and makes the first call. Times are from process start
// (performance.now() counts from Node's time origin). Prints one JSON line.
//
//   node bench/experiments/first-call.mjs '{"isolation", "snapshotDir", "archive", "pickle",
//     "method"?, "args"?, "inputs"?: [npy...], "expected"?: npy | value}'

import { readFileSync } from "node:fs";
import { InterpreterManager, Tensor } from "wasmdeploy";

const a = JSON.parse(process.argv[2]);
const atStart = performance.now();
const out = { ok: false, nodeStartMs: atStart };
let manager;
try {
  let t = performance.now();
  manager = await InterpreterManager.create({ interpreters: 1, isolation: a.isolation, snapshotDir: a.snapshotDir });
  out.readyAtMs = performance.now();
  out.createMs = out.readyAtMs - t;
  t = performance.now();
  const pkg = await manager.loadPackage(a.archive);
  const obj = pkg.loadPickle(a.pickle[0], a.pickle[1]);
  out.loadPackageMs = performance.now() - t;
  const inputs = (a.inputs ?? []).map((f) => Tensor.fromNpy(new Uint8Array(readFileSync(f))));
  t = performance.now();
  const result = a.method ? await obj.callMethod(a.method, ...a.args) : await obj.call(...inputs);
  out.firstCallMs = performance.now() - t;
  out.firstResultAtMs = performance.now();
  // Checked after the clock stopped.
  if (a.method) {
    out.ok = JSON.stringify(result) === JSON.stringify(a.expected);
    if (!out.ok) out.error = "result differs from PyTorch's";
  } else {
    const want = Tensor.fromNpy(new Uint8Array(readFileSync(a.expected)));
    let err = 0;
    let scale = 1;
    for (let i = 0; i < want.data.length; i++) {
      scale = Math.max(scale, Math.abs(Number(want.data[i])));
      err = Math.max(err, Math.abs(Number(result.data[i]) - Number(want.data[i])));
    }
    out.ok = result instanceof Tensor && result.data.length === want.data.length && err <= 1e-4 * scale;
    if (!out.ok) out.error = `output differs from PyTorch's (max |error| ${err})`;
  }
  out.snapshot = manager.stats().boot.snapshot;
} catch (e) {
  out.error = String(e && e.message ? `${e.constructor?.name ?? "Error"}: ${e.message}` : e).split("\n")[0].slice(0, 300);
} finally {
  await manager?.close();
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
