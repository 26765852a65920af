import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  FastCheck,
  Fiber,
  FiberStatus,
  Layer,
  Metric,
  Option,
  Redacted,
  Schema,
  Stream,
  TestClock
} from "effect"
import * as Api from "../src/Api.ts"
import * as ChittyId from "../src/ChittyId.ts"
import * as CircuitBreaker from "../src/CircuitBreaker.ts"
import { IdServiceBreakers, IdServiceClient } from "../src/IdServiceClient.ts"
import { IdServiceConfig } from "../src/IdServiceConfig.ts"
import * as IdServiceError from "../src/IdServiceError.ts"
import * as Observability from "../src/Observability.ts"
import * as ReferenceServer from "../src/server/ReferenceServer.ts"
import * as ValidationCache from "../src/ValidationCache.ts"

// -----------------------------------------------------------------------------
// Fixtures
// -----------------------------------------------------------------------------

/** Distinct permanent IDs from the Schema's Arbitrary (seeded: the same on every run). */
const ids: ReadonlyArray<ChittyId.ChittyId> = Array.from(
  new Set(FastCheck.sample(ChittyId.arbitrary, { numRuns: 64, seed: 4 }))
)
const idAt = (i: number): ChittyId.ChittyId => {
  const id = ids[i]
  if (id === undefined) throw new Error(`fixture: only ${ids.length} distinct IDs`)
  return id
}

const validResponse = (id: string): Api.ValidateResponse => ({
  success: true,
  valid: true,
  components: Api.componentsOf(ChittyId.parseOrThrow(id)),
  timestamp: "2026-02-01T00:00:00.000Z"
})

const invalidResponse = (error: string): Api.ValidateResponse => ({
  success: true,
  valid: false,
  error,
  timestamp: "2026-02-01T00:00:00.000Z"
})

const unavailable = new IdServiceError.ServiceUnavailable({ message: "down for the test", status: 503 })

type Answer = Effect.Effect<Api.ValidateResponse, IdServiceError.IdServiceError>

/**
 * A fake `validate`: counts calls per ID, answers with `respond` (valid by default) after `gate`,
 * when one is set.
 */
const makeService = (respond: (id: ChittyId.ChittyId) => Answer = (id) => Effect.succeed(validResponse(id))) => {
  const calls = new Map<string, number>()
  let total = 0
  let gate: Deferred.Deferred<void> | undefined
  const lookup = (id: ChittyId.ChittyId): Answer =>
    Effect.suspend(() => {
      total++
      calls.set(id, (calls.get(id) ?? 0) + 1)
      return gate === undefined ? respond(id) : Effect.zipRight(Deferred.await(gate), respond(id))
    })
  return {
    lookup,
    calls: (id?: string) => id === undefined ? total : calls.get(id) ?? 0,
    hold: Effect.map(Deferred.make<void>(), (deferred) => {
      gate = deferred
      return deferred
    })
  }
}

const settings = {
  capacity: 100,
  validTtl: Duration.minutes(5),
  unknownTtl: Duration.seconds(30)
}

/** Yields until every one of `n` calls has reached the cache (counted as a hit or a miss). */
const untilCalls = (cache: ValidationCache.Service, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      const { hits, misses } = yield* cache.stats
      if (hits + misses >= n) return
      yield* Effect.yieldNow()
    }
    throw new Error(`only some of the ${n} calls reached the cache`)
  })

/** Yields until a forked fiber is suspended (e.g. subscribed and waiting for events). */
const untilSuspended = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      if (FiberStatus.isSuspended(yield* Fiber.status(fiber))) return
      yield* Effect.yieldNow()
    }
    throw new Error("the fiber never suspended")
  })

const counter = (metric: Metric.Metric.Counter<number>) => Effect.map(Metric.value(metric), (state) => state.count)

// -----------------------------------------------------------------------------
// Tests
// -----------------------------------------------------------------------------

describe("ValidationCache", () => {
  it("has enough distinct fixture IDs", () => {
    expect(ids.length).toBeGreaterThanOrEqual(8)
  })

  describe("answers", () => {
    it.scoped("asks once, then answers from the cache", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, lookup: service.lookup })
        const id = idAt(0)

        const first = yield* cache.get(id)
        const second = yield* cache.get(id)

        expect(service.calls(id)).toBe(1)
        expect(first.cached).toBe(false)
        expect(second.cached).toBe(true)
        expect(first.answer).toEqual({ valid: true, components: Api.componentsOf(ChittyId.parseOrThrow(id)) })
        expect(second.answer).toBe(first.answer)
        expect(yield* cache.stats).toEqual({ hits: 1, misses: 1, evictions: 0, size: 1, capacity: 100 })
      }))

    it.scoped("reads NOT_FOUND as unknown and other refusals as not unknown", () =>
      Effect.gen(function*() {
        const service = makeService((id) =>
          Effect.succeed(invalidResponse(id === idAt(0) ? Api.unknownIdError : "INVALID_FORMAT"))
        )
        const cache = yield* ValidationCache.make({ ...settings, lookup: service.lookup })

        const unknown = yield* cache.get(idAt(0))
        const refused = yield* cache.get(idAt(1))

        expect(unknown.answer).toEqual({ valid: false, unknown: true, error: Api.unknownIdError })
        expect(refused.answer).toEqual({ valid: false, unknown: false, error: "INVALID_FORMAT" })
        // both are cached
        expect((yield* cache.get(idAt(0))).cached).toBe(true)
        expect((yield* cache.get(idAt(1))).cached).toBe(true)
        expect(service.calls()).toBe(2)
      }))

    it("answerOf reads the wire answer", () => {
      const id = idAt(2)
      expect(ValidationCache.answerOf(validResponse(id))).toEqual({
        valid: true,
        components: Api.componentsOf(ChittyId.parseOrThrow(id))
      })
      expect(ValidationCache.answerOf(invalidResponse(Api.unknownIdError))).toEqual({
        valid: false,
        unknown: true,
        error: Api.unknownIdError
      })
      expect(ValidationCache.answerOf(invalidResponse("CHECKSUM"))).toEqual({
        valid: false,
        unknown: false,
        error: "CHECKSUM"
      })
    })
  })

  describe("time to live", () => {
    it.scoped("keeps a valid answer for validTtl from when it was loaded, not from its last hit", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, lookup: service.lookup })
        const id = idAt(0)

        yield* cache.get(id)
        yield* TestClock.adjust(Duration.subtract(settings.validTtl, Duration.millis(1)))
        expect((yield* cache.get(id)).cached).toBe(true)
        expect(service.calls(id)).toBe(1)

        yield* TestClock.adjust(Duration.millis(1))
        expect((yield* cache.get(id)).cached).toBe(false)
        expect(service.calls(id)).toBe(2)
        // the fresh answer has a full life again
        yield* TestClock.adjust(Duration.subtract(settings.validTtl, Duration.millis(1)))
        expect((yield* cache.get(id)).cached).toBe(true)
        expect(service.calls(id)).toBe(2)
      }))

    it.scoped("keeps a not-valid answer for the shorter unknownTtl, valid ones live on", () =>
      Effect.gen(function*() {
        const known = idAt(0)
        const unknown = idAt(1)
        const refused = idAt(2)
        const service = makeService((id) =>
          Effect.succeed(
            id === known
              ? validResponse(id)
              : invalidResponse(id === unknown ? Api.unknownIdError : "INVALID_FORMAT")
          )
        )
        const cache = yield* ValidationCache.make({ ...settings, lookup: service.lookup })
        yield* Effect.forEach([known, unknown, refused], cache.get)

        yield* TestClock.adjust(Duration.subtract(settings.unknownTtl, Duration.millis(1)))
        for (const id of [known, unknown, refused]) {
          expect((yield* cache.get(id)).cached).toBe(true)
        }
        expect(service.calls()).toBe(3)

        yield* TestClock.adjust(Duration.millis(1))
        expect((yield* cache.get(unknown)).cached).toBe(false)
        expect((yield* cache.get(refused)).cached).toBe(false)
        expect((yield* cache.get(known)).cached).toBe(true)
        expect(service.calls(unknown)).toBe(2)
        expect(service.calls(refused)).toBe(2)
        expect(service.calls(known)).toBe(1)
      }))

    it.scoped("caches nothing with a zero time to live, and still shares look-ups", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, validTtl: 0, lookup: service.lookup })
        const id = idAt(0)
        yield* cache.get(id)
        yield* cache.get(id)
        expect(service.calls(id)).toBe(2)
        expect((yield* cache.stats).size).toBe(0)

        const gate = yield* service.hold
        const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 5 }, () => cache.get(id)), { concurrency: 5 }))
        yield* untilCalls(cache, 7)
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(fiber)
        expect(service.calls(id)).toBe(3)
      }))
  })

  describe("capacity", () => {
    it.scoped("evicts the least recently used entry; a hit protects its entry", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, capacity: 3, lookup: service.lookup })
        const [a, b, c, d] = [idAt(0), idAt(1), idAt(2), idAt(3)]
        const events = yield* Effect.fork(Stream.runCollect(Stream.take(cache.evictions, 3)))
        yield* untilSuspended(events)

        yield* Effect.forEach([a, b, c], cache.get)
        yield* TestClock.adjust("1 second")
        yield* cache.get(a) // order, least recent first: b, c, a
        yield* cache.get(d) // b goes: c, a, d
        expect(yield* cache.stats).toMatchObject({ evictions: 1, size: 3 })

        expect((yield* cache.get(a)).cached).toBe(true) // c, d, a
        expect((yield* cache.get(c)).cached).toBe(true) // d, a, c
        expect((yield* cache.get(d)).cached).toBe(true) // a, c, d
        expect((yield* cache.get(b)).cached).toBe(false) // a goes: c, d, b
        expect((yield* cache.get(a)).cached).toBe(false) // c goes: d, b, a
        expect((yield* cache.get(d)).cached).toBe(true) // b, a, d

        const evicted = Chunk.toReadonlyArray(yield* Fiber.join(events))
        expect(evicted).toEqual([
          Observability.ClientEvent.CacheEvicted({ id: b, at: 1000 }),
          Observability.ClientEvent.CacheEvicted({ id: a, at: 1000 }),
          Observability.ClientEvent.CacheEvicted({ id: c, at: 1000 })
        ])
        expect(yield* cache.stats).toEqual({ hits: 5, misses: 6, evictions: 3, size: 3, capacity: 3 })
        expect(service.calls(a)).toBe(2)
        expect(service.calls(b)).toBe(2)
        expect(service.calls(c)).toBe(1)
      }))

    it.scoped("drops an expired entry at the head without counting an eviction", () =>
      Effect.gen(function*() {
        const unknown = idAt(0)
        const service = makeService((id) =>
          Effect.succeed(id === unknown ? invalidResponse(Api.unknownIdError) : validResponse(id))
        )
        const cache = yield* ValidationCache.make({ ...settings, capacity: 2, lookup: service.lookup })
        yield* cache.get(unknown) // lives 30 s
        yield* cache.get(idAt(1)) // lives 5 min
        yield* TestClock.adjust(settings.unknownTtl)
        yield* cache.get(idAt(2)) // over capacity: the head is the expired unknown answer
        expect(yield* cache.stats).toMatchObject({ evictions: 0, size: 2 })
        expect((yield* cache.get(idAt(1))).cached).toBe(true)
      }))

    it.scoped("counts an evicted entry once, when it comes back", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, capacity: 1, lookup: service.lookup })
        for (let round = 0; round < 3; round++) {
          yield* cache.get(idAt(0))
          yield* cache.get(idAt(1))
        }
        expect(yield* cache.stats).toEqual({ hits: 0, misses: 6, evictions: 5, size: 1, capacity: 1 })
      }))
  })

  describe("coalescing and failures", () => {
    it.scoped("50 concurrent gets of one uncached ID make exactly one look-up", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, lookup: service.lookup })
        const id = idAt(0)
        const gate = yield* service.hold

        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 50 }, () => cache.get(id)), { concurrency: "unbounded" })
        )
        yield* untilCalls(cache, 50)
        expect(service.calls(id)).toBe(1)
        yield* Deferred.succeed(gate, undefined)
        const results = yield* Fiber.join(fiber)

        expect(service.calls(id)).toBe(1)
        expect(results.filter((r) => !r.cached)).toHaveLength(1)
        expect(new Set(results.map((r) => r.answer)).size).toBe(1)
        expect(results[0]?.answer.valid).toBe(true)
        expect(yield* cache.stats).toMatchObject({ hits: 49, misses: 1, size: 1 })
      }))

    it.scoped("never caches a failure; concurrent callers of a failing look-up share its one failure", () =>
      Effect.gen(function*() {
        let failing = true
        const service = makeService((id) => failing ? Effect.fail(unavailable) : Effect.succeed(validResponse(id)))
        const cache = yield* ValidationCache.make({ ...settings, lookup: service.lookup })
        const id = idAt(0)

        expect(yield* Effect.flip(cache.get(id))).toBe(unavailable)
        expect(yield* Effect.flip(cache.get(id))).toBe(unavailable)
        expect(service.calls(id)).toBe(2)
        expect((yield* cache.stats).size).toBe(0)

        const gate = yield* service.hold
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 10 }, () => Effect.exit(cache.get(id))), { concurrency: "unbounded" })
        )
        yield* untilCalls(cache, 12)
        yield* Deferred.succeed(gate, undefined)
        const exits = yield* Fiber.join(fiber)
        expect(service.calls(id)).toBe(3)
        for (const exit of exits) expect(exit).toStrictEqual(Exit.fail(unavailable))

        failing = false
        expect((yield* cache.get(id)).cached).toBe(false)
        expect((yield* cache.get(id)).cached).toBe(true)
        expect(service.calls(id)).toBe(4)
      }))

    it.scoped("waiters ask again when the caller that started the look-up is interrupted", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, lookup: service.lookup })
        const id = idAt(0)
        const gate = yield* service.hold

        const originator = yield* Effect.fork(cache.get(id))
        yield* untilCalls(cache, 1)
        const waiters = yield* Effect.fork(
          Effect.all(Array.from({ length: 5 }, () => cache.get(id)), { concurrency: "unbounded" })
        )
        yield* untilCalls(cache, 6)
        yield* Fiber.interrupt(originator)
        // one waiter starts the next look-up, the others share it
        for (let i = 0; i < 1000 && service.calls(id) < 2; i++) yield* Effect.yieldNow()
        yield* Deferred.succeed(gate, undefined)
        const results = yield* Fiber.join(waiters)

        expect(service.calls(id)).toBe(2)
        expect(results.every((r) => r.answer.valid)).toBe(true)
        expect(results.filter((r) => !r.cached)).toHaveLength(1)
        expect((yield* cache.get(id)).cached).toBe(true)
      }))
  })

  describe("interrupt storm (issue 9 item 1)", () => {
    /** `n` steps of work (two operations each) before the call. */
    const work = (n: number): Effect.Effect<void> =>
      n <= 0 ? Effect.void : Effect.flatMap(Effect.void, () => work(n - 1))

    it.scopedLive(
      "4 000 first callers of one ID, each interrupted after a different amount of work: a later caller still gets its answer",
      () =>
        Effect.gen(function*() {
          const id = idAt(0)
          let answering = false
          let lookups = 0
          const cache = yield* ValidationCache.make({
            capacity: 10,
            validTtl: "1 minute",
            unknownTtl: "1 minute",
            // during the storm a look-up never ends: only interruption ends its caller
            lookup: (asked) =>
              Effect.suspend(() => {
                lookups++
                return answering ? Effect.succeed(validResponse(asked)) : Effect.never
              })
          })
          // Each caller runs until the scheduler takes it off (after its budget of operations), and is
          // interrupted there: with the work before `get` growing by one step per caller, that moment
          // falls on every operation of `get`, the one between finding no look-up and running one too.
          for (let caller = 0; caller < 4_000; caller++) {
            const fiber = yield* Effect.fork(Effect.zipRight(work(caller % 1_100), cache.get(id)))
            yield* Effect.yieldNow()
            yield* Fiber.interrupt(fiber)
          }
          answering = true
          const later = yield* cache.get(id).pipe(Effect.timeout("5 seconds"), Effect.option)
          expect(Option.map(later, (r) => r.answer.valid)).toEqual(Option.some(true))
          expect(lookups).toBeGreaterThan(1_000)
        }),
      60_000
    )
  })

  describe("invalidation", () => {
    it.scoped("invalidate forgets one ID, invalidateAll every ID", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, lookup: service.lookup })
        const [a, b] = [idAt(0), idAt(1)]
        yield* Effect.forEach([a, b], cache.get)

        yield* cache.invalidate(a)
        expect((yield* cache.stats).size).toBe(1)
        expect((yield* cache.get(a)).cached).toBe(false)
        expect((yield* cache.get(b)).cached).toBe(true)

        yield* cache.invalidateAll
        expect((yield* cache.stats).size).toBe(0)
        expect((yield* cache.get(a)).cached).toBe(false)
        expect((yield* cache.get(b)).cached).toBe(false)
        expect(service.calls(a)).toBe(3)
        expect(service.calls(b)).toBe(2)
        // the access list was rebuilt cleanly: capacity still holds, nothing was evicted
        expect(yield* cache.stats).toMatchObject({ size: 2, evictions: 0 })
      }))

    it.scoped("an answer that was in flight during invalidate is given to its callers but not kept", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, lookup: service.lookup })
        const id = idAt(0)
        const gate = yield* service.hold
        const fiber = yield* Effect.fork(cache.get(id))
        yield* untilCalls(cache, 1)
        yield* cache.invalidate(id)
        yield* Deferred.succeed(gate, undefined)

        expect((yield* Fiber.join(fiber)).answer.valid).toBe(true)
        expect((yield* cache.stats).size).toBe(0)
        expect((yield* cache.get(id)).cached).toBe(false)
        expect(service.calls(id)).toBe(2)
      }))
  })

  describe("observability", () => {
    it.scoped("updates the hit, miss and eviction metrics", () =>
      Effect.gen(function*() {
        const service = makeService()
        const cache = yield* ValidationCache.make({ ...settings, capacity: 2, lookup: service.lookup })
        const before = yield* Effect.all([
          counter(Observability.metrics.cacheHits),
          counter(Observability.metrics.cacheMisses),
          counter(Observability.metrics.cacheEvictions)
        ])

        // misses a, b; hits a, b, a; miss c (evicts b); miss b (evicts a)
        for (const i of [0, 1, 0, 1, 0, 2, 1]) yield* cache.get(idAt(i))

        const after = yield* Effect.all([
          counter(Observability.metrics.cacheHits),
          counter(Observability.metrics.cacheMisses),
          counter(Observability.metrics.cacheEvictions)
        ])
        expect(after.map((value, i) => value - (before[i] ?? 0))).toEqual([3, 4, 2])
        expect(yield* cache.stats).toEqual({ hits: 3, misses: 4, evictions: 2, size: 2, capacity: 2 })
      }))

    it.scoped("ends the evictions stream when its scope closes", () =>
      Effect.gen(function*() {
        const service = makeService()
        const events = yield* Effect.scoped(
          Effect.gen(function*() {
            const cache = yield* ValidationCache.make({ ...settings, capacity: 1, lookup: service.lookup })
            const fiber = yield* Effect.fork(Stream.runCollect(cache.evictions))
            yield* untilSuspended(fiber)
            yield* cache.get(idAt(0))
            yield* cache.get(idAt(1))
            return fiber
          })
        )
        const collected = yield* Fiber.join(events)
        expect(Chunk.toReadonlyArray(collected).map((e) => e._tag === "CacheEvicted" ? e.id : "")).toEqual([idAt(0)])
      }))
  })

  describe("layer", () => {
    const fakeClient = (lookup: (id: ChittyId.ChittyId) => Answer) =>
      Layer.succeed(IdServiceClient, {
        mint: () => Effect.die("not used"),
        validate: lookup,
        replaceFallback: () => Effect.die("not used"),
        health: () => Effect.die("not used"),
        retries: Stream.empty,
        stats: Effect.succeed({
          sent: { mint: 0, validate: 0, health: 0 },
          failures: {},
          retries: 0,
          keysHonoured: false
        })
      })

    it.effect("is sized and timed by IdServiceConfig.cache and asks IdServiceClient.validate", () =>
      Effect.gen(function*() {
        const service = makeService()
        const layer = ValidationCache.ValidationCache.layer.pipe(
          Layer.provide(fakeClient(service.lookup)),
          Layer.provide(IdServiceConfig.layerWith({ cache: { capacity: 2, validTtl: Duration.seconds(10) } }))
        )
        yield* Effect.gen(function*() {
          const cache = yield* ValidationCache.ValidationCache
          const id = idAt(0)
          expect((yield* cache.get(id)).cached).toBe(false)
          expect((yield* cache.get(id)).cached).toBe(true)
          yield* TestClock.adjust("10 seconds")
          expect((yield* cache.get(id)).cached).toBe(false)
          expect(service.calls(id)).toBe(2)
          expect((yield* cache.stats).capacity).toBe(2)
        }).pipe(Effect.provide(layer))
      }))

    it.effect("fails to build when the settings are bad", () =>
      Effect.gen(function*() {
        const layer = ValidationCache.ValidationCache.layer.pipe(
          Layer.provide(fakeClient(makeService().lookup)),
          Layer.provide(IdServiceConfig.layerWith({ cache: { capacity: 0 } }))
        )
        const exit = yield* Effect.exit(Effect.provide(ValidationCache.ValidationCache, layer))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(Option.isSome(Exit.causeOption(exit))).toBe(true)
      }))
  })

  describe("against the reference server", () => {
    it.scopedLive("50 concurrent remote validations of one minted ID send one request", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer.make({ seed: 7 })
        const live = ValidationCache.ValidationCache.layer.pipe(
          Layer.provideMerge(
            IdServiceClient.layer.pipe(
              Layer.provide(
                Layer.merge(
                  NodeHttpClient.layerUndici,
                  IdServiceBreakers.layerShared.pipe(Layer.provide(CircuitBreaker.layer()))
                )
              )
            )
          ),
          Layer.provide(IdServiceConfig.layerWith({ url: server.url, token: server.token }))
        )
        const context = yield* Layer.build(live)
        const cache = Context.get(context, ValidationCache.ValidationCache)

        // minted through the contract itself, so this test leans on nothing but the cache and the client's validate
        const minted = yield* Effect.promise(() =>
          fetch(`${server.url}${Api.paths.mint}`, {
            method: "POST",
            headers: { authorization: `Bearer ${Redacted.value(server.token)}`, "content-type": "application/json" },
            body: JSON.stringify({ entityType: "person" })
          }).then((response) => response.json())
        ).pipe(Effect.flatMap(Schema.decodeUnknown(Api.MintSuccess)))
        const id = minted.chittyId
        const before = (yield* server.counts).requests.validate

        const results = yield* Effect.all(Array.from({ length: 50 }, () => cache.get(id)), {
          concurrency: "unbounded"
        })

        expect((yield* server.counts).requests.validate - before).toBe(1)
        expect(results.filter((r) => !r.cached)).toHaveLength(1)
        expect(results[0]?.answer).toEqual({ valid: true, components: minted.components })
        expect((yield* cache.get(id)).cached).toBe(true)

        // an ID the server never issued: unknown, cached as such
        const never = ids.find((candidate) => candidate !== id) ?? idAt(0)
        expect((yield* cache.get(never)).answer).toEqual({ valid: false, unknown: true, error: Api.unknownIdError })
        expect((yield* cache.get(never)).cached).toBe(true)
        expect((yield* server.counts).requests.validate - before).toBe(2)
      }))
  })
})
