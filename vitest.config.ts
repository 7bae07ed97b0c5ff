import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // WASMDEPLOY_TEST_INTERPRETER=wasi|pyodide runs the suite on that interpreter kind.
    setupFiles: ["test/setup-interpreter.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Each test file boots its own interpreter pool; two cores cannot run many at once.
    fileParallelism: false,
    pool: "forks",
  },
});
