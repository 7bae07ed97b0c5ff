// The interpreter-kind matrix: WASMDEPLOY_TEST_INTERPRETER=wasi (or pyodide) makes every
// InterpreterManager.create in the suite default to that kind; a test that names its kind
// explicitly keeps it. Unset, managers use the product's default.

import { InterpreterManager } from "wasmdeploy";

const kind = process.env.WASMDEPLOY_TEST_INTERPRETER;
if (kind) {
  if (kind !== "wasi" && kind !== "pyodide") throw new Error(`WASMDEPLOY_TEST_INTERPRETER must be wasi or pyodide, got ${kind}`);
  const create = InterpreterManager.create.bind(InterpreterManager);
  InterpreterManager.create = (options = {}) => create({ interpreter: kind, ...options });
}
