/**
 * Metrics, events and stats of the live IdService after a known sequence of calls, against the
 * reference server over loopback.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, layer } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Stream } from "effect"
import { HealthMonitor } from "../src/HealthMonitor.ts"
import * as IdService from "../src/IdService.ts"
import type * as IdServiceConfig from "../src/IdServiceConfig.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"
import * as MetricValues from "./metric-values.ts"

const live = (input: Partial<IdServiceConfig.Input> = {}) =>
  Layer.unwrapEffect(
    Effect.map(ReferenceServer, (server) =>
      IdService.IdService.layerWith({
        url: server.url,
        token: server.token,
        health: { interval: "1 hour" },
        retry: { maxRetries: 2, base: "1 millis", maxDelay: "2 millis" },
        ...input
      }).pipe(Layer.provide(NodeHttpClient.layerUndici)))
  )

/** HTTP attempts at one path of the server at `url`, with these attributes. */
const requests = (url: string, path: string, attributes: Record<string, string | number | undefined>) =>
  MetricValues.count("http.client.request.duration", {
    "http.request.method": "POST",
    "server.address": "127.0.0.1",
    "server.port": new URL(url).port,
    "url.template": path,
    ...attributes
  })

/** Every metric this suite reads, as one snapshot, so a test asserts deltas. */
const snapshot = (url: string) =>
  Effect.all({
    mintOk: requests(url, "/v1/mint", { "http.response.status_code": 200, "error.type": undefined }),
    mintRateLimited: requests(url, "/v1/mint", { "http.response.status_code": 429, "error.type": "RateLimited" }),
    mintMalformed: requests(url, "/v1/mint", { "error.type": "MalformedResponse" }),
    validateOk: requests(url, "/api/validate", { "http.response.status_code": 200, "error.type": undefined }),
    durationCount: requests(url, "/v1/mint", {}),
    minted: MetricValues.count("chittyid.mints", { "chittyid.outcome": "minted" }),
    mintFailed: MetricValues.count("chittyid.mints", { "chittyid.outcome": "failed" }),
    validLocal: MetricValues.count("chittyid.validations", {
      "chittyid.outcome": "valid",
      "chittyid.validation.source": "local"
    }),
    invalidLocal: MetricValues.count("chittyid.validations", {
      "chittyid.outcome": "invalid",
      "chittyid.validation.source": "local"
    }),
    validCache: MetricValues.count("chittyid.validations", {
      "chittyid.outcome": "valid",
      "chittyid.validation.source": "cache"
    }),
    validService: MetricValues.count("chittyid.validations", {
      "chittyid.outcome": "valid",
      "chittyid.validation.source": "service"
    }),
    retries: MetricValues.count("chittyid.retries", { "chittyid.endpoint": "mint" }),
    cacheHits: MetricValues.count("chittyid.cache.hits"),
    cacheMisses: MetricValues.count("chittyid.cache.misses"),
    toOpen: MetricValues.count("chittyid.breaker.transitions", {
      "chittyid.operation": "mint",
      "chittyid.breaker.to": "Open"
    }),
    rejected: MetricValues.count("chittyid.breaker.rejections", { "chittyid.operation": "mint" })
  })

const delta = <K extends string>(before: Record<K, number>, after: Record<K, number>) =>
  Object.fromEntries(Object.keys(before).map((key) => [key, after[key as K] - before[key as K]])) as Record<K, number>

describe("Observability of the live IdService", () => {
  layer(ReferenceServer.layer({ seed: 11 }), { excludeTestServices: true, timeout: 30_000 })((it) => {
    it.effect("metrics and stats after a known sequence of calls", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const before = yield* snapshot(server.url)
        const minted = yield* IdService.mint({ entityType: "P" })
        yield* IdService.mint({ entityType: "L" })
        yield* server.setFaults({ rateLimit: { burst: 1, retryAfter: 0, endpoints: ["mint"] } })
        yield* IdService.mint({ entityType: "T" })
        // refused before any request (ERR is the placeholders' jurisdiction): counted as failed
        expect((yield* Effect.flip(IdService.mint({ entityType: "P", jurisdiction: "ERR" })))._tag).toBe(
          "InvalidRequest"
        )
        yield* IdService.validate(minted.chittyId, { remote: true })
        yield* IdService.validate(minted.chittyId, { remote: true })
        yield* IdService.validate(minted.chittyId)
        yield* IdService.validate("not-an-id", { remote: true })
        const after = yield* snapshot(server.url)
        expect(delta(before, after)).toEqual({
          mintOk: 3,
          mintRateLimited: 1,
          mintMalformed: 0,
          validateOk: 1,
          durationCount: 4,
          minted: 3,
          mintFailed: 1,
          validLocal: 1,
          invalidLocal: 1,
          validCache: 1,
          validService: 1,
          retries: 1,
          cacheHits: 1,
          cacheMisses: 1,
          toOpen: 0,
          rejected: 0
        })
        const stats = yield* IdService.stats
        expect(stats.mint).toEqual({ calls: 4, succeeded: 3, failed: 1, fallbacks: 0 })
        expect(stats.validate).toEqual({ calls: 4, local: 2, cache: 1, service: 1, failed: 0 })
        expect(stats.requests.sent).toMatchObject({ mint: 4, validate: 1 })
        expect(stats.requests.failures).toEqual({ RateLimited: 1 })
        expect(stats.requests.retries).toBe(1)
        expect(stats.cache).toMatchObject({ hits: 1, misses: 1, size: 1 })
        expect(stats.breaker).toMatchObject({ state: "Closed", opened: 0, rejected: 0 })
        // the build sent no health check: one now, and the health report shows it
        expect(stats.health.checks).toBe(0)
        yield* Effect.flatMap(HealthMonitor, (monitor) => monitor.checkNow)
        const health = yield* IdService.health
        expect(health).toMatchObject({ status: "ok", connection: "Connected", breaker: "Closed" })
      }).pipe(Effect.provide(live())))

    it.effect("events come in the order things happened: retries, then the breaker opening", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const ids = yield* IdService.IdService
        const collected = yield* ids.events.pipe(
          Stream.filter((e) => e._tag !== "ConnectionChanged"),
          Stream.take(3),
          Stream.runCollect,
          Effect.fork
        )
        yield* Effect.sleep("20 millis")
        const before = yield* snapshot(server.url)
        yield* server.setFaults({ errors: { rate: 1, endpoints: ["mint"] } })
        // two calls fail after their retries (1 + 1 attempts each) and open the breaker; the third is
        // rejected at once, without a request
        expect((yield* Effect.flip(ids.mint({ entityType: "P" })))._tag).toBe("ServiceUnavailable")
        expect((yield* Effect.flip(ids.mint({ entityType: "P" })))._tag).toBe("ServiceUnavailable")
        expect((yield* Effect.flip(ids.mint({ entityType: "P" })))._tag).toBe("CircuitOpen")
        const events = Chunk.toReadonlyArray(yield* Fiber.join(collected))
        expect(events).toMatchObject([
          { _tag: "RetryScheduled", endpoint: "mint", attempt: 1, error: "ServiceUnavailable" },
          { _tag: "RetryScheduled", endpoint: "mint", attempt: 1, error: "ServiceUnavailable" },
          { _tag: "BreakerTransition", operation: "mint", from: "Closed", to: "Open", reason: "ConsecutiveFailures" }
        ])
        for (let i = 1; i < events.length; i++) expect(events[i - 1]!.at).toBeLessThanOrEqual(events[i]!.at)
        const after = yield* snapshot(server.url)
        expect(after.toOpen - before.toOpen).toBe(1)
        expect(after.retries - before.retries).toBe(2)
        expect(after.rejected - before.rejected).toBe(1)
        expect(after.mintFailed - before.mintFailed).toBe(3)
        expect((yield* server.counts).requests.mint).toBe(4)
        expect((yield* IdService.stats).breaker).toMatchObject({ state: "Open", opened: 1, rejected: 1 })
        // minting trouble opened the mint breaker only
        expect((yield* IdService.stats).breakers.validate).toMatchObject({ state: "Closed", opened: 0 })
        yield* server.resetFaults
      }).pipe(
        Effect.provide(live({ breaker: { consecutiveFailures: 2 }, retry: { maxRetries: 1, base: "1 millis" } }))
      ))
  })
})
