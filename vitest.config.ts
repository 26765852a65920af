import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    // The examples import the package by name, as a user would; here the name resolves to the sources.
    alias: [{ find: /^effect-chittyid\/(.+)$/, replacement: fileURLToPath(new URL("./src/$1.ts", import.meta.url)) }]
  },
  test: {
    include: ["test/**/*.test.ts", "examples/testing.ts"],
    // The fleet suites' shared Redis: REDIS_URL, else one started for the run when redis-server exists.
    globalSetup: ["test/redisGlobalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "threads"
  }
})
