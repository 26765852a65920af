import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { ping, sharedRedisUrl, skipRedisSuites, startRedis } from "./redis.ts"

describe.skipIf(skipRedisSuites)("test Redis (the fleet suites' own redis-server)", () => {
  it.scopedLive("starts on a free port, stops, and starts again on the same port", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`)
      yield* ping(redis.port)
      yield* redis.stop
      const down = yield* Effect.either(ping(redis.port))
      expect(Either.isLeft(down)).toBe(true)
      yield* redis.start
      yield* ping(redis.port)
    }))

  it.live("the shared instance (REDIS_URL, or the run's own from the global setup) answers PING", () =>
    Effect.gen(function*() {
      const url = new URL(yield* sharedRedisUrl)
      expect(url.protocol).toBe("redis:")
      yield* ping(Number(url.port), 2_000)
    }))
})
