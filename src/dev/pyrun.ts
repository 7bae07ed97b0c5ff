#!/usr/bin/env node
// Developer tool: run a Python file inside a wasmdeploy interpreter with the engine
// attached, printing what it prints. `node dist/dev/pyrun.js script.py [--engine ort-web] [--eager]`

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PythonError } from "../errors.js";
import type { EngineName } from "../protocol.js";
import { InterpreterManager } from "../index.js";

const { values, positionals } = parseArgs({
  options: { engine: { type: "string", default: "ort-node" }, eager: { type: "boolean" } },
  allowPositionals: true,
});
const file = positionals[0];
if (!file) {
  process.stderr.write("usage: pyrun.js SCRIPT.py [--engine ort-node|ort-web] [--eager]\n");
  process.exit(2);
}
const manager = await InterpreterManager.create({
  interpreters: 1,
  engine: values.engine as EngineName,
  onOutput: (_i, stream, text) => (stream === "stdout" ? process.stdout : process.stderr).write(`${text}\n`),
});
let code = 0;
try {
  const s = await manager.acquireOne();
  if (values.eager) await (await s.global("torch._graph", "set_eager")).call(true);
  const compiled = await (await s.global("builtins", "compile")).call(readFileSync(file, "utf8"), file, "exec");
  await (await s.global("builtins", "exec")).call(compiled, { __name__: "__main__" });
  await s.release();
} catch (e) {
  code = 1;
  process.stderr.write(e instanceof PythonError ? `${e.pyTraceback}\n` : `${String(e)}\n`);
} finally {
  await manager.close();
}
process.exit(code);
