/**
 * IdService against the reference server over real loopback HTTP.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it, layer } from "@effect/vitest"
import {
  Cause,
  Config,
  ConfigError,
  ConfigProvider,
  Duration,
  Effect,
  Either,
  Exit,
  Layer,
  Logger,
  Option,
  Redacted,
  Tracer
} from "effect"
import * as ChittyId from "../src/ChittyId.ts"
import * as CircuitBreaker from "../src/CircuitBreaker.ts"
import * as IdService from "../src/IdService.ts"
import { IdServiceBreakers, IdServiceClient } from "../src/IdServiceClient.ts"
import * as IdServiceConfig from "../src/IdServiceConfig.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"
import { ValidationCache } from "../src/ValidationCache.ts"
import { vectors } from "./fixtures.ts"

/** The live layer against the server in context, no health polling in the way of counts. */
const liveAgainstServer = (input: Partial<IdServiceConfig.Input> = {}) =>
  Layer.unwrapEffect(
    Effect.map(ReferenceServer, (server) =>
      IdService.IdService.layerWith({
        url: server.url,
        token: server.token,
        retry: { maxRetries: 0 },
        health: { interval: "1 hour" },
        ...input
      }).pipe(Layer.provide(NodeHttpClient.layerUndici)))
  )

/** Runs `effect` with a fresh live IdService (own scope) against the shared server. */
const withService = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  input: Partial<IdServiceConfig.Input> = {}
) => Effect.scoped(Effect.provide(effect, liveAgainstServer(input)))

const counts = Effect.flatMap(ReferenceServer, (server) => server.counts)
const resetServer = Effect.flatMap(ReferenceServer, (server) => server.reset)

describe("IdService (live, over loopback HTTP)", () => {
  layer(ReferenceServer.layer({ seed: 7 }), { timeout: 30_000, excludeTestServices: true })((it) => {
    it.effect("mints every entity type input and the service confirms each", () =>
      withService(Effect.gen(function*() {
        yield* resetServer
        const ids = yield* IdService.IdService
        for (const input of ChittyId.entityTypeInputs) {
          const minted = yield* ids.mint({ entityType: input })
          expect(minted.fallback).toBe(false)
          if (minted.fallback) continue
          expect(minted.parts.entityType).toBe(Option.getOrThrow(ChittyId.entityTypeOf(input)))
          expect(minted.parts).toMatchObject({ region: 1, jurisdiction: "USA", trustLevel: 0 })
          const checked = yield* ids.validate(minted.chittyId, { remote: true })
          expect(checked).toMatchObject({ valid: true, kind: "permanent", source: "service" })
        }
        const after = yield* counts
        expect(after.minted).toBe(ChittyId.entityTypeInputs.length)
        expect(after.requests.validate).toBe(ChittyId.entityTypeInputs.length)
      })))

    it.effect("passes region, jurisdiction and trust level through", () =>
      withService(Effect.gen(function*() {
        const minted = yield* IdService.mint({ entityType: "E", region: 3, jurisdiction: "GBR", trustLevel: 4 })
        expect(minted.parts).toMatchObject({ region: 3, jurisdiction: "GBR", trustLevel: 4, entityType: "E" })
      })))

    it.effect("a locally invalid ID is answered locally and never sent", () =>
      withService(Effect.gen(function*() {
        yield* resetServer
        const before = (yield* counts).requests.validate
        for (const { id } of vectors.invalid) {
          const result = yield* IdService.validate(id, { remote: true })
          expect(result).toMatchObject({ valid: false, source: "local" })
          expect(result.chittyId).toBe(id)
          expect(result.reason?.length).toBeGreaterThan(5)
        }
        for (const { id } of vectors.fallback) {
          const result = yield* IdService.validate(id, { remote: true })
          expect(result).toMatchObject({ valid: false, kind: "fallback", source: "local" })
        }
        expect((yield* counts).requests.validate).toBe(before)
      })))

    it.effect("validates locally by default: no request, the service's own rules", () =>
      withService(Effect.gen(function*() {
        const before = (yield* counts).requests.validate
        for (const { id } of vectors.valid) {
          expect(yield* IdService.validate(id)).toMatchObject({ valid: true, source: "local" })
        }
        expect((yield* counts).requests.validate).toBe(before)
      })))

    it.effect("a well-formed ID the service never issued is valid: false from the service, then from the cache", () =>
      withService(Effect.gen(function*() {
        const id = vectors.valid[0].id
        const first = yield* IdService.validate(id, { remote: true })
        expect(first).toMatchObject({ valid: false, source: "service", kind: "permanent" })
        expect(first.reason).toContain("never issued")
        const second = yield* IdService.validate(id, { remote: true })
        expect(second).toMatchObject({ valid: false, source: "cache" })
      })))

    it.effect("the live layer also provides its cache: invalidate sends the next look-up to the service", () =>
      withService(Effect.gen(function*() {
        const minted = yield* IdService.mint({ entityType: "L" })
        expect((yield* IdService.validate(minted.chittyId, { remote: true })).source).toBe("service")
        expect((yield* IdService.validate(minted.chittyId, { remote: true })).source).toBe("cache")
        const cache = yield* ValidationCache
        yield* cache.invalidate(minted.chittyId)
        expect((yield* IdService.validate(minted.chittyId, { remote: true })).source).toBe("service")
        yield* cache.invalidateAll
        expect((yield* cache.stats).size).toBe(0)
      })))

    it.effect("a fallback answer is MintUnavailable, or a fallback result when accepted", () =>
      withService(Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        yield* server.setFaults({ fallback: { errorCode: "DRAND_UNAVAILABLE", rate: 1 } })
        const error = yield* Effect.flip(IdService.mint({ entityType: "P" }))
        expect(error._tag).toBe("MintUnavailable")
        if (error._tag === "MintUnavailable") {
          expect(error.errorCode).toBe("DRAND_UNAVAILABLE")
          expect(ChittyId.isFallbackId(error.fallbackId)).toBe(true)
        }
        const accepted = yield* IdService.mint({ entityType: "P", acceptFallback: true })
        expect(accepted.fallback).toBe(true)
        expect(ChittyId.isFallbackId(accepted.chittyId)).toBe(true)
        expect((yield* server.counts).minted).toBe(0)
        yield* server.resetFaults
      })))

    it.effect("a placeholder means what its code says: retried or not, a breaker failure or not, code and placeholder kept", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        const table: ReadonlyArray<{
          readonly code: Exclude<ChittyId.FallbackErrorCode, "UNKNOWN">
          readonly tag: string
          readonly requests: number
          readonly breaker: "Open" | "Closed"
        }> = [
          ...(["MINT_UNAVAILABLE", "MINT_TIMEOUT", "INTERNAL_ERROR", "DRAND_UNAVAILABLE", "CERT_UNAVAILABLE"] as const)
            .map((code) => ({ code, tag: "MintUnavailable", requests: 4, breaker: "Open" as const })),
          { code: "TRUST_UNAVAILABLE", tag: "MintUnavailable", requests: 4, breaker: "Open" },
          { code: "RATE_LIMITED", tag: "RateLimited", requests: 4, breaker: "Closed" },
          { code: "MINT_REJECTED", tag: "MintRejected", requests: 1, breaker: "Closed" },
          { code: "INVALID_REQUEST", tag: "InvalidRequest", requests: 1, breaker: "Closed" }
        ]
        for (const row of table) {
          yield* server.reset
          yield* server.setFaults({ fallback: { errorCode: row.code, rate: 1 } })
          yield* withService(
            Effect.gen(function*() {
              const error = yield* Effect.flip(IdService.mint({ entityType: "P", idempotencyKey: `k-${row.code}` }))
              expect({ code: row.code, tag: error._tag }).toEqual({ code: row.code, tag: row.tag })
              expect("errorCode" in error && error.errorCode).toBe(row.code)
              expect(error.idempotencyKey).toBe(`k-${row.code}`)
              expect("fallbackId" in error && ChittyId.isFallbackId(error.fallbackId)).toBe(true)
              if (row.code === "MINT_REJECTED") expect(error.message).toContain("check the token")
              expect((yield* server.counts).requests.mint).toBe(row.requests)
              expect((yield* IdService.health).breaker).toBe(row.breaker)
              // Placeholders taken on purpose are still returned as placeholders, whatever the code.
              const accepted = yield* Effect.either(IdService.mint({ entityType: "P", acceptFallback: true }))
              if (row.breaker === "Closed") {
                expect(Either.isRight(accepted) && accepted.right.fallback && accepted.right.errorCode).toBe(row.code)
              }
            }),
            { retry: { maxRetries: 3, base: "1 millis", maxDelay: "2 millis" }, breaker: { consecutiveFailures: 1 } }
          )
        }
        yield* server.resetFaults
      }))

    it.effect("a fallback is retried with the same key and a later real mint succeeds", () =>
      withService(
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          yield* server.reset
          yield* server.setFaults({ fallback: { rate: 0.5 } })
          const results = yield* Effect.forEach(
            Array.from({ length: 20 }, (_, i) => i),
            () => IdService.mint({ entityType: "T" }),
            { concurrency: 4 }
          )
          yield* server.resetFaults
          expect(results.every((r) => !r.fallback && ChittyId.isChittyId(r.chittyId))).toBe(true)
          const log = yield* server.mintLog
          expect(log).toHaveLength(20)
          expect(new Set(log.map((r) => r.idempotencyKey)).size).toBe(20)
        }),
        {
          retry: { maxRetries: 10, base: "1 millis", maxDelay: "2 millis" },
          breaker: { failureRateThreshold: 1, consecutiveFailures: 100 }
        }
      ))

    it.effect("building the live layer and a local-only validate send no request (no GET /health at build)", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const layer = IdService.IdService.layerWith({ url: server.url, token: server.token }).pipe(
          Layer.provide(NodeHttpClient.layerUndici)
        )
        const result = yield* Effect.scoped(Effect.provide(
          Effect.zipLeft(IdService.validate(vectors.valid[0]!.id), Effect.sleep("200 millis")),
          layer
        ))
        expect(result.valid).toBe(true)
        expect((yield* server.counts).requests).toEqual({ mint: 0, validate: 0, health: 0, other: 0 })
      }))

    it.effect("layerConfig: the settings from Configs reach the service", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        const layer = IdService.IdService.layerConfig({
          url: Config.succeed(server.url),
          token: Config.redacted("TOKEN"),
          health: { interval: Config.succeed(Duration.hours(1)) }
        }).pipe(
          Layer.provide(NodeHttpClient.layerUndici),
          Layer.provide(
            Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["TOKEN", Redacted.value(server.token)]])))
          )
        )
        const minted = yield* Effect.scoped(Effect.provide(IdService.mint({ entityType: "P" }), layer))
        expect(minted.fallback).toBe(false)
        expect(yield* Effect.scoped(Effect.provide(IdService.validate(minted.chittyId, { remote: true }), layer)))
          .toMatchObject({ valid: true, source: "service" })
      }))

    it.effect("no token: Unauthorized before any request; a wrong token: Unauthorized from the service", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const layer = IdService.IdService.layerWith({ url: server.url, health: { interval: "1 hour" } }).pipe(
          Layer.provide(NodeHttpClient.layerUndici)
        )
        const missing = yield* Effect.flip(Effect.scoped(Effect.provide(IdService.mint({ entityType: "P" }), layer)))
        expect(missing._tag).toBe("Unauthorized")
        expect(missing.message).toContain("CHITTY_ID_TOKEN")
        expect((yield* server.counts).requests.mint).toBe(0)

        const wrong = yield* Effect.flip(withService(IdService.mint({ entityType: "P" }), {
          token: Redacted.make("not-the-token")
        }))
        expect(wrong._tag).toBe("Unauthorized")
        expect((yield* server.counts).requests.mint).toBe(1)
        expect(wrong.message).not.toContain("not-the-token")
      }))

    it.effect("a request the local checks refuse never leaves the process", () =>
      withService(Effect.gen(function*() {
        const before = (yield* counts).requests.mint
        const bad: Array<IdService.MintRequest> = [
          { entityType: "X" as ChittyId.EntityTypeInput },
          { entityType: "P", region: 0 as ChittyId.Region },
          { entityType: "P", jurisdiction: "usa" },
          // Valid in IDs of regions 1–9, but the service's placeholders carry it: never asked for.
          { entityType: "P", jurisdiction: "ERR" },
          { entityType: "P", trustLevel: 6 as ChittyId.TrustLevel },
          { entityType: "P", metadata: { n: 1n } },
          { entityType: "P", idempotencyKey: "" }
        ]
        for (const request of bad) {
          const error = yield* Effect.flip(IdService.mint(request))
          expect(error._tag).toBe("InvalidRequest")
          expect(error.message.length).toBeGreaterThan(10)
        }
        expect((yield* counts).requests.mint).toBe(before)
      })))

    it.effect("a bad body is InvalidRequest carrying the server's message", () =>
      Effect.gen(function*() {
        const client = yield* IdServiceClient
        const error = yield* Effect.flip(client.mint({
          body: JSON.stringify({ entityType: "spaceship" }),
          urlParams: {},
          idempotencyKey: "bad-body-1",
          acceptFallback: false
        }))
        expect(error._tag).toBe("InvalidRequest")
        expect(error.message).toContain("spaceship")
        const notJson = yield* Effect.flip(client.mint({
          body: "{not json",
          urlParams: {},
          idempotencyKey: "bad-body-2",
          acceptFallback: false
        }))
        expect(notJson._tag).toBe("InvalidRequest")
      }).pipe(Effect.provide(IdServiceClientFromService)))

    it.effect("an idempotent retry returns the same ID; another body under the key is IdempotencyConflict", () =>
      withService(Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const first = yield* IdService.mint({ entityType: "P", idempotencyKey: "order-42" })
        const again = yield* IdService.mint({ entityType: "P", idempotencyKey: "order-42" })
        expect(again.chittyId).toBe(first.chittyId)
        expect((yield* server.counts).minted).toBe(1)
        const conflict = yield* Effect.flip(IdService.mint({ entityType: "L", idempotencyKey: "order-42" }))
        expect(conflict._tag).toBe("IdempotencyConflict")
      })))

    it.effect("garbage JSON, wrong shapes and IDs of neither format are MalformedResponse, not retried", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        for (const kind of ["not-json", "wrong-shape", "bad-id"] as const) {
          yield* server.reset
          yield* server.setFaults({ garbage: { kinds: [kind], rate: 1, endpoints: ["mint", "validate"] } })
          yield* withService(
            Effect.gen(function*() {
              const mint = yield* Effect.flip(IdService.mint({ entityType: "P" }))
              expect(mint._tag).toBe("MalformedResponse")
              const validate = yield* Effect.flip(IdService.validate(vectors.valid[0].id, { remote: true }))
              expect(validate._tag).toBe("MalformedResponse")
            }),
            { retry: { maxRetries: 3, base: "1 millis" } }
          )
          expect((yield* server.counts).requests.mint).toBe(1)
        }
        yield* server.resetFaults
      }))

    it.effect("a service answering garbage opens the breaker: later calls fail fast without a request", () =>
      withService(
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          yield* server.reset
          yield* server.setFaults({ garbage: { rate: 1 } })
          for (let i = 0; i < 3; i++) {
            expect((yield* Effect.flip(IdService.mint({ entityType: "P" })))._tag).toBe("MalformedResponse")
          }
          const rejected = yield* Effect.flip(IdService.mint({ entityType: "P" }))
          expect(rejected._tag).toBe("CircuitOpen")
          expect((yield* server.counts).requests.mint).toBe(3)
          const health = yield* IdService.health
          expect(health.breaker).toBe("Open")
          yield* server.resetFaults
        }),
        { breaker: { consecutiveFailures: 3 } }
      ))

    it.effect("a 429 burst is retried and succeeds with one ID minted", () =>
      withService(
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          yield* server.reset
          yield* server.setFaults({ rateLimit: { burst: 2, retryAfter: 0, endpoints: ["mint"] } })
          const minted = yield* IdService.mint({ entityType: "A" })
          expect(ChittyId.isChittyId(minted.chittyId)).toBe(true)
          const after = yield* server.counts
          expect(after.requests.mint).toBe(3)
          expect(after.minted).toBe(1)
          const stats = yield* IdService.stats
          expect(stats.requests.retries).toBe(2)
        }),
        { retry: { maxRetries: 3, base: "1 millis", maxDelay: "5 millis" } }
      ))

    it.effect("answers lost after commit are retried under the same key: no duplicate", () =>
      withService(
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          yield* server.reset
          yield* server.setFaults({ lostAnswer: { rate: 0.5 } })
          const results = yield* Effect.forEach(
            Array.from({ length: 10 }, () => "P" as const),
            (entityType) => IdService.mint({ entityType }),
            { concurrency: 2 }
          )
          yield* server.resetFaults
          const after = yield* server.counts
          expect(after.requests.mint).toBeGreaterThan(10)
          const log = yield* server.mintLog
          expect(log).toHaveLength(10)
          expect(new Set(log.map((r) => r.chittyId))).toEqual(new Set(results.map((r) => r.chittyId)))
        }),
        { retry: { maxRetries: 20, base: "1 millis", maxDelay: "2 millis" }, idempotency: "honoured" }
      ))

    it.effect("the token never appears in errors, logs or spans", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        const token = Redacted.value(server.token)
        const logs: Array<string> = []
        const logger = Logger.make(({ message }) => logs.push(JSON.stringify(message)))
        const spans: Array<Tracer.Span> = []
        const base = yield* Effect.tracer
        const recording = Tracer.make({
          span: (...args) => {
            const span = base.span(...args)
            spans.push(span)
            return span
          },
          context: base.context
        })
        yield* server.setFaults({ errors: { rate: 1, endpoints: ["mint"] } })
        const exit = yield* Effect.exit(
          withService(
            IdService.mint({ entityType: "P" }).pipe(Effect.tapErrorCause(Effect.logError)),
            { retry: { maxRetries: 1, base: "1 millis" } }
          ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Effect.withTracer(recording))
        )
        yield* server.resetFaults
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          expect(Cause.pretty(exit.cause)).not.toContain(token)
          expect(JSON.stringify(Cause.squash(exit.cause))).not.toContain(token)
        }
        expect(logs.length).toBeGreaterThan(0)
        for (const line of logs) expect(line).not.toContain(token)
        expect(spans.map((span) => span.name)).toContain("ChittyId.mint")
        for (const span of spans) {
          for (const [key, value] of span.attributes) expect(`${key}=${String(value)}`).not.toContain(token)
        }
      }))
  })

  it.effect("layerConfig reads its settings from Configs: a missing or bad value is a ConfigError", () =>
    Effect.gen(function*() {
      const build = (env: ReadonlyArray<readonly [string, string]>) =>
        Effect.scoped(Layer.build(
          IdService.IdService.layerConfig({
            url: Config.string("MY_URL"),
            token: Config.redacted("MY_TOKEN"),
            health: { interval: Config.duration("MY_INTERVAL").pipe(Config.withDefault(Duration.hours(1))) }
          }).pipe(Layer.provide(NodeHttpClient.layerUndici))
        )).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(env))))
      const missing = yield* Effect.either(build([["MY_URL", "https://id.example.com"]]))
      expect(Either.isLeft(missing) && ConfigError.isConfigError(missing.left) && String(missing.left)).toContain(
        "MY_TOKEN"
      )
      const badDuration = yield* Effect.either(
        build([["MY_URL", "https://id.example.com"], ["MY_TOKEN", "t"], ["MY_INTERVAL", "soon"]])
      )
      expect(Either.isLeft(badDuration) && ConfigError.isConfigError(badDuration.left) && String(badDuration.left))
        .toContain("MY_INTERVAL")
      const badUrl = yield* Effect.either(build([["MY_URL", "not a url"], ["MY_TOKEN", "t"]]))
      expect(Either.isLeft(badUrl) && ConfigError.isConfigError(badUrl.left) && String(badUrl.left))
        .toContain("CHITTY_ID_URL")
      expect(Either.isRight(yield* Effect.either(build([["MY_URL", "https://id.example.com"], ["MY_TOKEN", "t"]]))))
        .toBe(true)
    }))

  it.effect("a bad CHITTY_ID_URL fails layer construction with a clear message", () =>
    Effect.gen(function*() {
      const build = (url: string) =>
        Effect.scoped(Layer.build(
          IdService.IdService.layerWith({ url, token: Redacted.make("t") }).pipe(
            Layer.provide(NodeHttpClient.layerUndici)
          )
        ))
      const notUrl = yield* Effect.either(build("not a url"))
      expect(Either.isLeft(notUrl) && String(notUrl.left)).toContain("CHITTY_ID_URL")
      const insecure = yield* Effect.either(build("http://id.example.com"))
      expect(Either.isLeft(insecure) && String(insecure.left)).toContain("in clear")
    }))
})

/** The bare client against the server in context, for calls the service's own checks would refuse. */
const IdServiceClientFromService = Layer.unwrapEffect(
  Effect.map(ReferenceServer, (server) =>
    IdServiceClient.layer.pipe(
      Layer.provide(Layer.mergeAll(
        IdServiceBreakers.layerShared.pipe(Layer.provide(CircuitBreaker.layer())),
        NodeHttpClient.layerUndici,
        IdServiceConfig.IdServiceConfig.layerWith({ url: server.url, token: server.token, retry: { maxRetries: 0 } })
      ))
    ))
)
