/**
 * vitest `globalSetup`: the shared test Redis of the fleet suites. With `REDIS_URL` set (`.ci/run`
 * starts one for the run) it is used as is; else, when `redis-server` exists, one is started on a free
 * loopback port for the whole run (no persistence, a temporary directory) and stopped at the end, so
 * plain `npm test` on a developer's machine with Redis runs the fleet suites. Without either, the
 * suites are skipped there, and fail under `CI=true` (see `test/redis.ts`).
 */
import { Effect, Exit, Scope } from "effect"
import type { TestProject } from "vitest/node"
import { redisServerBinary, startRedis } from "./redisServer.ts"

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const fromEnv = process.env["REDIS_URL"]
  if (fromEnv !== undefined && fromEnv !== "") {
    project.provide("redisUrl", fromEnv)
    return undefined
  }
  if (redisServerBinary === undefined) {
    project.provide("redisUrl", "")
    return undefined
  }
  const scope = Effect.runSync(Scope.make())
  const redis = await Effect.runPromise(Scope.extend(startRedis, scope))
  project.provide("redisUrl", redis.url)
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}
