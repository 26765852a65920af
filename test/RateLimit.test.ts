/**
 * The mint rate limit in one process (no fleet layer): the setting and its env format, effect's
 * `RateLimiter` under `TestClock`, and the live service against the reference server.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Exit, Fiber, Option, TestClock } from "effect"
import * as IdService from "../src/IdService.ts"
import * as IdServiceConfig from "../src/IdServiceConfig.ts"
import * as MintRateLimit from "../src/internal/mintRateLimit.ts"
import * as ReferenceServer from "../src/server/ReferenceServer.ts"
import { replica } from "./fleet-support.ts"

const fromEnv = (env: Record<string, string>) =>
  IdServiceConfig.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

describe("rateLimit setting (CHITTY_ID_RATE_LIMIT)", () => {
  it("reads <limit>/<window>[:delay|fail], the window short (1s, 250ms, 1m) or Effect's syntax", () => {
    expect(IdServiceConfig.parseRateLimit("100/1s")).toEqual(
      Either.right({ limit: 100, window: Duration.seconds(1), onExceeded: "delay" })
    )
    expect(IdServiceConfig.parseRateLimit("100/1s:fail")).toEqual(
      Either.right({ limit: 100, window: Duration.seconds(1), onExceeded: "fail" })
    )
    expect(IdServiceConfig.parseRateLimit(" 5 / 250ms : delay ")).toEqual(
      Either.right({ limit: 5, window: Duration.millis(250), onExceeded: "delay" })
    )
    expect(IdServiceConfig.parseRateLimit("10/1 minute")).toEqual(
      Either.right({ limit: 10, window: Duration.minutes(1), onExceeded: "delay" })
    )
    expect(IdServiceConfig.parseRateLimit("3/1.5h:fail")).toEqual(
      Either.right({ limit: 3, window: Duration.minutes(90), onExceeded: "fail" })
    )
  })

  it("refuses what it cannot read, saying what is wrong", () => {
    const problem = (text: string) => Either.getLeft(IdServiceConfig.parseRateLimit(text)).pipe(Option.getOrThrow)
    expect(problem("100")).toContain("expected <limit>/<window>[:delay|fail]")
    expect(problem("0/1s")).toContain("the limit must be a positive whole number, got 0")
    expect(problem("1.5/1s")).toContain("the limit must be a positive whole number")
    expect(problem("x/1s")).toContain("the limit must be a positive whole number")
    expect(problem("100/soon")).toContain("is not a duration")
    expect(problem("100/0s")).toContain("the window must be at least 1 millisecond")
    expect(problem("100/1s:drop")).toContain("must be delay or fail")
  })

  it.effect("none by default; from the environment; a bad value is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      expect((yield* fromEnv({})).rateLimit).toEqual(Option.none())
      expect((yield* fromEnv({ CHITTY_ID_RATE_LIMIT: "20/1s:fail" })).rateLimit).toEqual(
        Option.some({ limit: 20, window: Duration.seconds(1), onExceeded: "fail" })
      )
      const bad = yield* Effect.flip(fromEnv({ CHITTY_ID_RATE_LIMIT: "20 per second" }))
      expect(String(bad)).toContain("CHITTY_ID_RATE_LIMIT")
      expect(String(bad)).toContain("expected <limit>/<window>")
    }))

  it("in code: an object or the env format; bad values refused", () => {
    expect(
      Either.map(IdServiceConfig.make({ rateLimit: { limit: 3, window: "2 seconds" } }), (s) => s.rateLimit)
    ).toEqual(Either.right(Option.some({ limit: 3, window: Duration.seconds(2), onExceeded: "delay" })))
    expect(Either.map(IdServiceConfig.make({ rateLimit: "3/2s:fail" }), (s) => s.rateLimit)).toEqual(
      Either.right(Option.some({ limit: 3, window: Duration.seconds(2), onExceeded: "fail" }))
    )
    expect(Either.isLeft(IdServiceConfig.make({ rateLimit: { limit: -1, window: "1 second" } }))).toBe(true)
    expect(Either.isLeft(IdServiceConfig.make({ rateLimit: { limit: 1, window: "0 millis" } }))).toBe(true)
  })
})

describe("the mint rate limit in one process (effect's RateLimiter)", () => {
  it.scoped("fail: the limit per window, then RateLimited with the time left in the window", () =>
    Effect.gen(function*() {
      const permit = yield* MintRateLimit.local({ limit: 3, window: Duration.seconds(10), onExceeded: "fail" })
      for (let i = 0; i < 3; i++) yield* permit
      yield* TestClock.adjust("4 seconds")
      const refused = yield* Effect.flip(permit)
      expect(refused._tag).toBe("RateLimited")
      expect(refused.retryAfterMs).toBe(6_000)
      yield* TestClock.adjust("6 seconds")
      yield* permit
      yield* permit
    }))

  it.scoped("delay: over the limit a permit waits for the next window", () =>
    Effect.gen(function*() {
      const permit = yield* MintRateLimit.local({ limit: 2, window: Duration.seconds(10), onExceeded: "delay" })
      yield* permit
      yield* permit
      const third = yield* Effect.fork(permit)
      yield* TestClock.adjust("9 seconds")
      expect(Option.isNone(yield* Fiber.poll(third))).toBe(true)
      yield* TestClock.adjust("1 second")
      expect(Exit.isSuccess(yield* Fiber.await(third))).toBe(true)
    }))

  it.scopedLive("the live service against the reference server: over the limit, RateLimited and no request", () =>
    Effect.gen(function*() {
      const server = yield* ReferenceServer.make({ seed: 21 })
      const service = yield* replica(server, undefined, { rateLimit: "2/1m:fail" })
      const mint = Effect.flatMap(IdService.IdService, (s) => s.mint({ entityType: "P" }))
      yield* service.run(mint)
      yield* service.run(mint)
      const refused = yield* Effect.flip(service.run(mint))
      expect(refused._tag).toBe("RateLimited")
      expect(refused._tag === "RateLimited" && refused.idempotencyKey !== undefined).toBe(true)
      expect((yield* server.counts).requests.mint).toBe(2)
    }))
})
