import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Inspectable, Option, Redacted } from "effect"
import * as IdServiceConfig from "../src/IdServiceConfig.ts"

const secret = "s3cr3t-token-value"

const readFrom = (env: Record<string, string>) =>
  IdServiceConfig.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

describe("IdServiceConfig", () => {
  it.effect("defaults: the public service, documented values", () =>
    Effect.gen(function*() {
      const settings = yield* readFrom({})
      expect(settings.url).toBe("https://id.chitty.cc")
      expect(Option.isNone(settings.token)).toBe(true)
      expect(settings.retry.maxRetries).toBe(3)
      expect(Duration.toMillis(settings.retry.base)).toBe(100)
      expect(Duration.toMillis(settings.retry.maxDelay)).toBe(5000)
      expect(settings.breaker.consecutiveFailures).toBe(5)
      expect(Duration.toMillis(settings.breaker.openDuration)).toBe(60_000)
      expect(settings.cache.capacity).toBe(10_000)
      expect(settings.maxResponseBytes).toBe(64 * 1024)
      expect(Duration.toMillis(settings.cache.validTtl)).toBe(300_000)
      expect(Duration.toMillis(settings.health.interval)).toBe(30_000)
      expect(settings).toEqual(IdServiceConfig.defaults)
    }))

  it.effect("CHITTY_ID_IDEMPOTENCY: auto by default, honoured or ignored when said, anything else refused", () =>
    Effect.gen(function*() {
      expect((yield* readFrom({})).idempotency).toBe("auto")
      expect((yield* readFrom({ CHITTY_ID_IDEMPOTENCY: "honoured" })).idempotency).toBe("honoured")
      expect((yield* readFrom({ CHITTY_ID_IDEMPOTENCY: "ignored" })).idempotency).toBe("ignored")
      const bad = yield* Effect.either(readFrom({ CHITTY_ID_IDEMPOTENCY: "maybe" }))
      expect(Either.isLeft(bad) && String(bad.left)).toContain("CHITTY_ID_IDEMPOTENCY")
    }))

  it.effect("reads every group from the environment", () =>
    Effect.gen(function*() {
      const settings = yield* readFrom({
        CHITTY_ID_URL: "http://127.0.0.1:8787/",
        CHITTY_ID_TOKEN: secret,
        CHITTY_ID_TIMEOUT: "2 seconds",
        CHITTY_ID_RETRY_MAX: "5",
        CHITTY_ID_RETRY_JITTER: "decorrelated",
        CHITTY_ID_BREAKER_SLOW_CALL: "800 millis",
        CHITTY_ID_CACHE_CAPACITY: "50",
        CHITTY_ID_HEALTH_INTERVAL: "10 seconds",
        CHITTY_ID_REMOTE_VALIDATION: "true",
        CHITTY_ID_MAX_RESPONSE_BYTES: "4096"
      })
      expect(settings.url).toBe("http://127.0.0.1:8787")
      expect(Option.map(settings.token, Redacted.value)).toEqual(Option.some(secret))
      expect(Duration.toMillis(settings.timeout)).toBe(2000)
      expect(settings.retry.maxRetries).toBe(5)
      expect(settings.retry.jitter).toBe("decorrelated")
      expect(Option.map(settings.breaker.slowCall, Duration.toMillis)).toEqual(Option.some(800))
      expect(settings.cache.capacity).toBe(50)
      expect(Duration.toMillis(settings.health.interval)).toBe(10_000)
      expect(settings.remoteValidation).toBe(true)
      expect(settings.maxResponseBytes).toBe(4096)
      expect(settings.breaker.consecutiveFailures).toBe(IdServiceConfig.defaults.breaker.consecutiveFailures)
    }))

  describe("bad values fail with a ConfigError naming the variable", () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ["not a URL", { CHITTY_ID_URL: "id.chitty.cc" }, "CHITTY_ID_URL"],
      ["another scheme", { CHITTY_ID_URL: "ftp://id.chitty.cc" }, "http: or https:"],
      ["credentials in the URL", { CHITTY_ID_URL: "https://user:pw@id.chitty.cc" }, "credentials"],
      ["plain http to a remote host", { CHITTY_ID_URL: "http://id.chitty.cc" }, "in clear"],
      ["a negative retry count", { CHITTY_ID_RETRY_MAX: "-1" }, "CHITTY_ID_RETRY_MAX"],
      ["a failure rate over 1", { CHITTY_ID_BREAKER_FAILURE_RATE: "1.5" }, "CHITTY_ID_BREAKER_FAILURE_RATE"],
      ["a zero cache", { CHITTY_ID_CACHE_CAPACITY: "0" }, "CHITTY_ID_CACHE_CAPACITY"],
      ["a duration that is not one", { CHITTY_ID_TIMEOUT: "soon" }, "CHITTY_ID_TIMEOUT"],
      ["an unknown jitter", { CHITTY_ID_RETRY_JITTER: "some" }, "CHITTY_ID_RETRY_JITTER"],
      ["an empty token", { CHITTY_ID_TOKEN: "" }, "token must not be empty"],
      ["a body cap of 0", { CHITTY_ID_MAX_RESPONSE_BYTES: "0" }, "CHITTY_ID_MAX_RESPONSE_BYTES"],
      ["a body cap under 1 KiB", { CHITTY_ID_MAX_RESPONSE_BYTES: "1023" }, "from 1024"],
      ["a body cap over 256 MiB", { CHITTY_ID_MAX_RESPONSE_BYTES: String(2 ** 28 + 1) }, "to 268435456"],
      ["a body cap that is not a number", { CHITTY_ID_MAX_RESPONSE_BYTES: "64k" }, "CHITTY_ID_MAX_RESPONSE_BYTES"]
    ]
    it.each(cases)("%s", async (_, env, expected) => {
      const result = await Effect.runPromise(Effect.either(readFrom({ CHITTY_ID_TOKEN: secret, ...env })))
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        const text = String(result.left)
        expect(text).toContain(expected)
        expect(text).not.toContain(secret)
      }
    })
  })

  it("plain http is fine to loopback, and elsewhere only when allowed explicitly", () => {
    for (const url of ["http://127.0.0.1:1", "http://localhost:8080", "http://[::1]:9"]) {
      expect(Either.isRight(IdServiceConfig.checkUrl(url, false))).toBe(true)
    }
    expect(Either.isLeft(IdServiceConfig.checkUrl("http://10.0.0.5", false))).toBe(true)
    expect(IdServiceConfig.checkUrl("http://10.0.0.5/", true)).toEqual(Either.right("http://10.0.0.5"))
  })

  it("the token never shows in String(), JSON or inspection of the settings", () => {
    const settings = Either.getOrThrow(IdServiceConfig.make({ token: Redacted.make(secret) }))
    for (
      const text of [
        String(settings.token),
        JSON.stringify(settings),
        Inspectable.format(settings),
        IdServiceConfig.describe(settings)
      ]
    ) {
      expect(text).not.toContain(secret)
    }
    expect(IdServiceConfig.describe(settings)).toContain("token: set")
  })
})
