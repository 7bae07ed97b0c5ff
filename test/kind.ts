// The interpreter kind this test run uses: the suites that create managers run once per kind
// (vitest.config.ts's projects set WASMDEPLOY_TEST_INTERPRETER), so every kind passes the same tests.

export type InterpreterKind = "pyodide" | "wasi" | "component";

function kindFromEnv(): InterpreterKind {
  const v = process.env.WASMDEPLOY_TEST_INTERPRETER ?? "pyodide";
  if (v !== "pyodide" && v !== "wasi" && v !== "component") throw new Error(`WASMDEPLOY_TEST_INTERPRETER is pyodide, wasi or component, got ${JSON.stringify(v)}`);
  return v;
}

export const KIND: InterpreterKind = kindFromEnv();
/** The WASI build of CPython, as python.wasm or as the interpreter component: the same interpreter. */
export const WASI = KIND === "wasi" || KIND === "component";
/** The interpreter component (no boot snapshot: every instance boots cold). */
export const COMPONENT = KIND === "component";

/** Spread into InterpreterManager.create's options: `{ ...kind, interpreters: 2 }`. */
export const kind = { interpreter: KIND } as const;

/** CLI flags selecting this run's kind. */
export const kindArgs = ["--interpreter", KIND];
