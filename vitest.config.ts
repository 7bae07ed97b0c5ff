import { defineConfig } from "vitest/config";

// The suites that create interpreter managers run once per interpreter kind (test/kind.ts reads
// WASMDEPLOY_TEST_INTERPRETER). Everything else (engine, structure, unit, server, the WASI-only
// suite) does not depend on the kind and runs once, in the "pyodide" project.
const MATRIX = [
  "test/conformance/**/*.test.ts",
  "test/pool/**/*.test.ts",
  "test/faults/**/*.test.ts",
  "test/hostile/**/*.test.ts",
  "test/torch/**/*.test.ts",
  "test/torch_nn/**/*.test.ts",
  "test/replay/**/*.test.ts",
  "test/cli.test.ts",
  "test/fixtures.test.ts",
  // The server in-process (cheap): its models get interpreters of this run's kind.
  "test/server/server.test.ts",
  "test/server/hostile.test.ts",
  "test/fuzz/http-fuzz.test.ts",
];

// The interpreter component (wit/interpreter.wit) is the same CPython as "wasi" behind another
// host interface: it passes the suites that exercise an interpreter's host side.
const COMPONENT_MATRIX = ["test/conformance/**/*.test.ts", "test/pool/**/*.test.ts", "test/faults/**/*.test.ts", "test/hostile/**/*.test.ts", "test/component/**/*.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Each test file boots its own interpreter pool; two cores cannot run many at once.
    fileParallelism: false,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: { name: "pyodide", include: ["test/**/*.test.ts"], exclude: ["test/component/**", "**/node_modules/**"], env: { WASMDEPLOY_TEST_INTERPRETER: "pyodide" } },
      },
      {
        extends: true,
        test: { name: "wasi", include: MATRIX, env: { WASMDEPLOY_TEST_INTERPRETER: "wasi" } },
      },
      {
        extends: true,
        test: { name: "component", include: COMPONENT_MATRIX, env: { WASMDEPLOY_TEST_INTERPRETER: "component" } },
      },
    ],
  },
});
