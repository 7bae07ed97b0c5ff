// bench:edge's baseline: the same archive and input called in a fresh Node process through
// InterpreterManager with the interpreter and engine the edge uses ("wasi", "ort-web"), no HTTP.
// A child of its own, so the bench process's state (its clients, its heap) does not weigh on it.

import { readFileSync } from "node:fs";
import { InterpreterManager, Tensor } from "../../dist/index.js";

export async function edgeNodeChild(args: { archive: string; input: string; calls: number }): Promise<number[]> {
  const x = Tensor.fromNpy(new Uint8Array(readFileSync(args.input)));
  const m = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", engine: "ort-web" });
  try {
    const obj = (await m.loadPackage(args.archive)).loadPickle("model", "model.pkl");
    for (let i = 0; i < 5; i++) await obj.call(x);
    const ms: number[] = [];
    for (let i = 0; i < args.calls; i++) {
      const t = performance.now();
      await obj.call(x);
      ms.push(performance.now() - t);
    }
    return ms;
  } finally {
    await m.close();
  }
}
