/**
 * `IdService.layerTest` provides the same services as the live layer (cache, monitor, breakers), so
 * code that uses them is tested without the network.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { HealthMonitor } from "../src/HealthMonitor.ts"
import { IdService } from "../src/IdService.ts"
import { IdServiceBreakers } from "../src/IdServiceClient.ts"
import { ValidationCache } from "../src/ValidationCache.ts"
import { vectors } from "./fixtures.ts"

describe("IdService.layerTest provides the live layer's services", () => {
  it.scoped("ValidationCache: remote answers from the registry, cached, forgotten on invalidate", () =>
    Effect.gen(function*() {
      const ids = yield* IdService
      const cache = yield* ValidationCache
      const minted = yield* ids.mint({ entityType: "P" })
      if (minted.fallback) return expect.unreachable("the test service minted a placeholder")
      expect(yield* ids.validate(minted.chittyId, { remote: true })).toMatchObject({ valid: true, source: "service" })
      expect(yield* ids.validate(minted.chittyId, { remote: true })).toMatchObject({ valid: true, source: "cache" })
      yield* cache.invalidate(minted.chittyId)
      expect(yield* ids.validate(minted.chittyId, { remote: true })).toMatchObject({ valid: true, source: "service" })
      // well-formed but never issued by this service: not valid, and that answer is cached too
      const neverIssued = vectors.valid[0].id
      expect(yield* ids.validate(neverIssued, { remote: true })).toMatchObject({ valid: false, source: "service" })
      expect(yield* ids.validate(neverIssued, { remote: true })).toMatchObject({ valid: false, source: "cache" })
      expect(yield* cache.stats).toMatchObject({ hits: 2, misses: 3, size: 2 })
      expect((yield* ids.health).cache).toMatchObject({ hits: 2, misses: 3 })
      expect((yield* ids.stats).validate).toMatchObject({ calls: 5, cache: 2, service: 3 })
    }).pipe(Effect.provide(IdService.layerTest())))

  it.scoped("ValidationCache: a valid answer lives the default 5 minutes", () =>
    Effect.gen(function*() {
      const ids = yield* IdService
      const minted = yield* ids.mint({ entityType: "L" })
      yield* ids.validate(minted.chittyId, { remote: true })
      yield* TestClock.adjust("4 minutes")
      expect(yield* ids.validate(minted.chittyId, { remote: true })).toMatchObject({ source: "cache" })
      yield* TestClock.adjust("2 minutes")
      expect(yield* ids.validate(minted.chittyId, { remote: true })).toMatchObject({ source: "service" })
    }).pipe(Effect.provide(IdService.layerTest())))

  it.scoped("HealthMonitor: always Connected, no fiber, checkNow answers an ok check", () =>
    Effect.gen(function*() {
      const monitor = yield* HealthMonitor
      expect(yield* monitor.state).toBe("Connected")
      expect(yield* monitor.lastCheck).toBeUndefined()
      yield* TestClock.adjust("1 hour")
      expect(yield* monitor.stats).toEqual({ checks: 0, failures: 0, connection: "Connected" })
      const check = yield* monitor.checkNow
      expect(check).toEqual({ at: 3_600_000, ok: true, latencyMs: 0, detail: "ok" })
      expect(yield* monitor.lastCheck).toEqual(check)
      expect(yield* monitor.stats).toEqual({ checks: 1, failures: 0, connection: "Connected" })
      expect(yield* (yield* IdService).health).toMatchObject({
        status: "ok",
        connection: "Connected",
        lastCheck: check
      })
    }).pipe(Effect.provide(IdService.layerTest())))

  it.scoped("IdServiceBreakers: real breakers; isolating one shows in health and stats until reset", () =>
    Effect.gen(function*() {
      const ids = yield* IdService
      const breakers = yield* IdServiceBreakers
      expect(breakers.mint).not.toBe(breakers.validate)
      expect(yield* ids.health).toMatchObject({ status: "ok", breaker: "Closed" })
      yield* breakers.mint.isolate
      expect(yield* ids.health).toMatchObject({
        status: "degraded",
        breaker: "Isolated",
        breakers: { mint: "Isolated", validate: "Closed" }
      })
      expect((yield* ids.stats).breakers.mint.state).toBe("Isolated")
      yield* breakers.mint.release // to HalfOpen, as live: probes decide
      expect(yield* ids.health).toMatchObject({
        status: "degraded",
        breakers: { mint: "HalfOpen", validate: "Closed" }
      })
      yield* breakers.mint.reset
      expect(yield* ids.health).toMatchObject({ status: "ok", breakers: { mint: "Closed", validate: "Closed" } })
    }).pipe(Effect.provide(IdService.layerTest())))
})
