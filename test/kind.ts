// The interpreter kind this test run uses: the suites that create managers run once per kind
// (vitest.config.ts's projects set WASMDEPLOY_TEST_INTERPRETER), so both kinds pass the same tests.

export type InterpreterKind = "pyodide" | "wasi";

function kindFromEnv(): InterpreterKind {
  const v = process.env.WASMDEPLOY_TEST_INTERPRETER ?? "pyodide";
  if (v !== "pyodide" && v !== "wasi") throw new Error(`WASMDEPLOY_TEST_INTERPRETER is pyodide or wasi, got ${JSON.stringify(v)}`);
  return v;
}

export const KIND: InterpreterKind = kindFromEnv();
export const WASI = KIND === "wasi";

/** Spread into InterpreterManager.create's options: `{ ...kind, interpreters: 2 }`. */
export const kind = { interpreter: KIND } as const;

/** CLI flags selecting this run's kind. */
export const kindArgs = ["--interpreter", KIND];
