import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "examples/testing.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "threads"
  }
})
