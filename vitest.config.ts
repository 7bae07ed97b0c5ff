import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Each test file boots its own interpreter pool; two cores cannot run many at once.
    fileParallelism: false,
    pool: "forks",
  },
});
