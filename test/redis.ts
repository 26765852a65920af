/**
 * Real Redis for the fleet suites (see `test/redisServer.ts` for the servers themselves and the
 * policy), and the shared instance of the run: `REDIS_URL`, or the one `test/redisGlobalSetup.ts`
 * started. Suites sharing it use a key prefix of their own ({@link uniquePrefix}).
 */
import { Effect } from "effect"
import { inject } from "vitest"
import { envRedisUrl, RedisUnavailable } from "./redisServer.ts"

export * from "./redisServer.ts"

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared test Redis's URL from `test/redisGlobalSetup.ts`; `""` when there is none. */
    readonly redisUrl: string
  }
}

/**
 * The shared test Redis: `REDIS_URL`, else the instance `test/redisGlobalSetup.ts` started for this
 * run. Fails (never skips) when there is none: call it only in suites guarded by {@link skipRedisSuites}.
 */
export const sharedRedisUrl: Effect.Effect<string, RedisUnavailable> = Effect.suspend(() => {
  const url = envRedisUrl() ?? inject("redisUrl")
  return url === undefined || url === ""
    ? Effect.fail(
      new RedisUnavailable({
        message:
          "no shared test Redis: set REDIS_URL or install redis-server (.ci/run installs it: apt-get install redis-server)"
      })
    )
    : Effect.succeed(url)
})

let prefixes = 0

/** A key prefix no other suite or test in this run uses, for tests on the shared Redis. */
export const uniquePrefix = (label: string): string =>
  `chittyid-test:${label}:${process.pid}:${Date.now().toString(36)}:${++prefixes}:`
