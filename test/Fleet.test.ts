/**
 * Fleet mode on a real Redis: two `IdService`s built separately (a `ManagedRuntime` each) share one
 * Redis, against the reference server over loopback; requests are counted at the server.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Fiber, Metric, Ref, Stream } from "effect"
import type * as ChittyId from "../src/ChittyId.ts"
import * as IdService from "../src/IdService.ts"
import type * as IdServiceConfig from "../src/IdServiceConfig.ts"
import * as Observability from "../src/Observability.ts"
import * as ReferenceServer from "../src/server/ReferenceServer.ts"
import { vectors } from "./fixtures.ts"
import { eventually, inspector, type Replica, replica } from "./fleet-support.ts"
import { sharedRedisUrl, skipRedisSuites, startRedis, uniquePrefix } from "./redis.ts"

const validateRequests = (server: ReferenceServer.ReferenceServer["Type"]) =>
  Effect.map(server.counts, (counts) => counts.requests.validate)

const mintRequests = (server: ReferenceServer.ReferenceServer["Type"]) =>
  Effect.map(server.counts, (counts) => counts.requests.mint)

/** Well-formed IDs the server never issued (from the vectors, not literals). */
const neverIssued: ReadonlyArray<ChittyId.ChittyId> = vectors.valid.map((vector) => vector.id as ChittyId.ChittyId)

const mintOne = IdService.IdService.pipe(
  Effect.flatMap((service) => service.mint({ entityType: "P" })),
  Effect.map((result) => result.chittyId)
)

const validate = (id: string) => Effect.flatMap(IdService.IdService, (service) => service.validate(id))

/** A replica's `events`, collected from now on. */
const collectEvents = (run: <A, E>(effect: Effect.Effect<A, E, IdService.LiveServices>) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make(Chunk.empty<Observability.ClientEvent>())
    const fiber = yield* run(
      Effect.flatMap(
        IdService.IdService,
        (service) =>
          Stream.runForEach(service.events, (event) => Ref.update(seen, Chunk.append(event))).pipe(Effect.forkDaemon)
      )
    )
    yield* Effect.addFinalizer(() => Fiber.interrupt(fiber))
    // a margin for the subscription to be in place, not a bound of any assertion
    yield* Effect.sleep("300 millis")
    return Effect.map(Ref.get(seen), Chunk.toReadonlyArray)
  })

/**
 * Two replicas built separately over one reference server, sharing the run's Redis under a prefix
 * of their own (commands may take 2 s: the machine is busy, and these tests are not about timeouts).
 */
const twoReplicas = (label: string, seed: number, settings: IdServiceConfig.Input = {}) =>
  Effect.gen(function*() {
    const url = yield* sharedRedisUrl
    const prefix = uniquePrefix(label)
    const server = yield* ReferenceServer.make({ seed })
    const fleet = { url, prefix, commandTimeout: "2 seconds" } as const
    const a = yield* replica(server, fleet, settings)
    const b = yield* replica(server, fleet, settings)
    return { url, prefix, server, a, b }
  })

/**
 * Two replicas sharing a `redis-server` of the test's own (to stop, start, pause), with short command
 * timeouts and polls, and a rate limit so that the mint path uses Redis too.
 */
const twoReplicasOnOwnRedis = (label: string, seed: number, onExceeded: "delay" | "fail") =>
  Effect.gen(function*() {
    const redis = yield* startRedis
    const server = yield* ReferenceServer.make({ seed })
    const fleet = {
      url: redis.url,
      prefix: uniquePrefix(label),
      commandTimeout: "300 millis",
      pollInterval: "200 millis"
    } as const
    const settings = { rateLimit: { limit: 1_000, window: Duration.minutes(1), onExceeded } }
    const a = yield* replica(server, fleet, settings)
    const b = yield* replica(server, fleet, settings)
    return { redis, server, a, b }
  })

/**
 * Once Redis is back: both replicas' pieces return to `shared`, and an ID minted and looked up in A is
 * served to B without a request.
 */
const sharedAgain = (server: ReferenceServer.ReferenceServer["Type"], a: Replica, b: Replica) =>
  Effect.gen(function*() {
    yield* eventually(
      "both replicas share again",
      Effect.map(
        Effect.all([a.fleetState, b.fleetState]),
        (states) => states.every((state) => state.cache === "shared" && state.rateLimit === "shared")
      )
    )
    const id = yield* a.run(mintOne)
    const before = yield* validateRequests(server)
    expect(yield* a.run(validate(id))).toMatchObject({ source: "service" })
    expect(yield* b.run(validate(id))).toMatchObject({ source: "cache" })
    expect((yield* validateRequests(server)) - before).toBe(1)
  })

describe.skipIf(skipRedisSuites)("Fleet.layerRedis on a real Redis", () => {
  it.scopedLive("a validation looked up in replica A is served to replica B without a request", () =>
    Effect.gen(function*() {
      const { a, b, prefix, server, url } = yield* twoReplicas("cache", 11)

      const minted = yield* a.run(mintOne)
      const unknown = neverIssued[0]!
      const before = yield* validateRequests(server)

      const inA = yield* a.run(validate(minted))
      expect(inA).toMatchObject({ valid: true, source: "service" })
      expect((yield* validateRequests(server)) - before).toBe(1)
      const inB = yield* b.run(validate(minted))
      expect(inB).toMatchObject({ valid: true, source: "cache" })
      expect(inB.parts).toEqual(inA.parts)
      expect((yield* validateRequests(server)) - before).toBe(1)

      // a "never issued" answer is shared too
      expect(yield* b.run(validate(unknown))).toMatchObject({ valid: false, source: "service" })
      expect(yield* a.run(validate(unknown))).toMatchObject({ valid: false, source: "cache" })
      expect((yield* validateRequests(server)) - before).toBe(2)

      // the keys: <prefix>:validation:<id>, with the answers' time to live (5 minutes, 30 seconds)
      const redis = yield* inspector(url)
      const validTtl = yield* Effect.promise(() => redis.pttl(`${prefix}:validation:${minted}`))
      const unknownTtl = yield* Effect.promise(() => redis.pttl(`${prefix}:validation:${unknown}`))
      expect(validTtl).toBeGreaterThan(250_000)
      expect(validTtl).toBeLessThanOrEqual(300_000)
      expect(unknownTtl).toBeGreaterThan(0)
      expect(unknownTtl).toBeLessThanOrEqual(30_000)
      expect((yield* a.fleetState).cache).toBe("shared")
    }))

  it.scopedLive("an answer lives its time to live in Redis and in every replica, then is asked again", () =>
    Effect.gen(function*() {
      const ttl = 1_500
      const cache = { validTtl: Duration.millis(ttl), unknownTtl: Duration.millis(ttl) }
      const { a, b, server } = yield* twoReplicas("ttl", 12, { cache })
      const id = yield* a.run(mintOne)
      const before = yield* validateRequests(server)

      const storedAt = Date.now()
      expect(yield* a.run(validate(id))).toMatchObject({ source: "service" })
      // B's first look-up is served by A's answer (unless the machine took longer than the TTL)
      const first = yield* b.run(validate(id))
      if (Date.now() - storedAt < ttl) expect(first.source).toBe("cache")

      // B asks the service again only once the answer has expired in Redis and in its own LRU
      yield* eventually(
        "B asks the service again after the TTL",
        Effect.map(b.run(validate(id)), (result) => result.source === "service")
      )
      expect(Date.now() - storedAt).toBeGreaterThanOrEqual(ttl - 50)
      const after = yield* validateRequests(server)
      expect(after - before).toBeGreaterThanOrEqual(2)
      // and the fresh answer is shared again
      const inA = yield* a.run(validate(id))
      if (inA.source === "cache") expect(yield* validateRequests(server)).toBe(after)
    }))

  it.scopedLive("failures are never stored: each replica asks again, nothing lands in Redis", () =>
    Effect.gen(function*() {
      const { a, b, prefix, server, url } = yield* twoReplicas("failures", 13)
      const id = yield* a.run(mintOne)
      const redis = yield* inspector(url)

      yield* server.setFaults({ errors: { rate: 1, endpoints: ["validate"] } })
      const before = yield* validateRequests(server)
      const failedA = yield* Effect.either(a.run(validate(id)))
      const failedB = yield* Effect.either(b.run(validate(id)))
      const failedAgain = yield* Effect.either(a.run(validate(id)))
      expect(Either.isLeft(failedA) && failedA.left._tag).toBe("ServiceUnavailable")
      expect(Either.isLeft(failedB) && failedB.left._tag).toBe("ServiceUnavailable")
      expect(Either.isLeft(failedAgain)).toBe(true)
      expect((yield* validateRequests(server)) - before).toBe(3)
      expect(yield* Effect.promise(() => redis.exists(`${prefix}:validation:${id}`))).toBe(0)

      yield* server.resetFaults
      expect(yield* b.run(validate(id))).toMatchObject({ valid: true, source: "service" })
      expect(yield* a.run(validate(id))).toMatchObject({ valid: true, source: "cache" })
      expect((yield* validateRequests(server)) - before).toBe(4)
    }))

  it.scopedLive("rate limit, fail: at most the limit across both replicas, the rest RateLimited with a retry-after", () =>
    Effect.gen(function*() {
      const settings = { rateLimit: { limit: 5, window: Duration.minutes(1), onExceeded: "fail" as const } }
      const { a, b, server } = yield* twoReplicas("rate-fail", 14, settings)
      const before = yield* mintRequests(server)

      const results = yield* Effect.all(
        [a, b].flatMap((r) => Array.from({ length: 6 }, () => Effect.either(r.run(mintOne)))),
        { concurrency: "unbounded" }
      )
      const minted = results.filter(Either.isRight)
      const refused = results.filter(Either.isLeft).map((result) => result.left)
      expect(minted).toHaveLength(5)
      expect(refused).toHaveLength(7)
      for (const error of refused) {
        expect(error._tag).toBe("RateLimited")
        const retryAfterMs = error._tag === "RateLimited" ? error.retryAfterMs ?? 0 : 0
        expect(retryAfterMs).toBeGreaterThan(0)
        expect(retryAfterMs).toBeLessThanOrEqual(60_000)
      }
      expect((yield* mintRequests(server)) - before).toBe(5)
      expect((yield* a.fleetState).rateLimit).toBe("shared")
    }))

  it.scopedLive("rate limit, delay: mints wait for the next window, at most the limit per window fleet-wide", () =>
    Effect.gen(function*() {
      const limit = 4
      const window = 2_000
      const settings = { rateLimit: { limit, window: Duration.millis(window), onExceeded: "delay" as const } }
      const { a, b, server } = yield* twoReplicas("rate-delay", 15, settings)
      const before = yield* mintRequests(server)

      const start = Date.now()
      const finished = yield* Effect.all(
        [a, b].flatMap((r) =>
          Array.from({ length: 5 }, () => Effect.flatMap(r.run(mintOne), () => Effect.sync(() => Date.now() - start)))
        ),
        { concurrency: "unbounded" }
      )
      expect(finished).toHaveLength(10)
      // A mint of the n-th window cannot return before n windows have passed since the start (a
      // loaded machine only makes it later): at most `limit` per window, fleet-wide.
      for (const n of [1, 2]) {
        expect(finished.filter((t) => t < n * window - 20).length).toBeLessThanOrEqual(n * limit)
      }
      // 10 mints at 4 per window: the last ones waited for the third window
      expect(Math.max(...finished)).toBeGreaterThanOrEqual(2 * window - 20)
      expect((yield* mintRequests(server)) - before).toBe(10)
    }))

  it.scopedLive("Redis killed mid-run: minting and validating go on locally with an event; Redis back: shared again", () =>
    Effect.gen(function*() {
      const { a, b, redis, server } = yield* twoReplicasOnOwnRedis("outage", 16, "fail")
      const eventsOfA = yield* collectEvents(a.run)
      const fallbacks = (component: string) =>
        Metric.value(Metric.tagged(Observability.metrics.fleetFallbacks, "chittyid.fleet.component", component)).pipe(
          Effect.map((state) => state.count)
        )
      const cacheFallbacksBefore = yield* fallbacks("cache")

      const first = yield* a.run(mintOne)
      expect(yield* a.run(validate(first))).toMatchObject({ source: "service" })
      expect(yield* b.run(validate(first))).toMatchObject({ source: "cache" })

      yield* redis.stop
      const before = yield* validateRequests(server)
      const second = yield* a.run(mintOne)
      expect(yield* a.run(validate(second))).toMatchObject({ valid: true, source: "service" })
      expect(yield* b.run(validate(second))).toMatchObject({ valid: true, source: "service" })
      expect((yield* validateRequests(server)) - before).toBe(2)
      // each replica's LRU still answers what it holds
      expect(yield* a.run(validate(second))).toMatchObject({ source: "cache" })
      expect(yield* a.fleetState).toEqual({ cache: "local", rateLimit: "local" })
      yield* eventually(
        "A's events tell the cache and the rate limit fell back",
        Effect.map(
          eventsOfA,
          (events) =>
            ["cache", "rateLimit"].every((component) =>
              events.some((event) => event._tag === "FleetFallback" && event.component === component)
            )
        )
      )
      expect((yield* fallbacks("cache")) - cacheFallbacksBefore).toBeGreaterThanOrEqual(2)

      yield* redis.start
      yield* sharedAgain(server, a, b)
      yield* eventually(
        "A's events tell the pieces are back",
        Effect.map(eventsOfA, (events) => events.some((event) => event._tag === "FleetRestored"))
      )
    }))

  it.scopedLive("Redis hanging (no answers): commands time out, minting and validating go on locally, then shared again", () =>
    Effect.gen(function*() {
      const { a, b, redis, server } = yield* twoReplicasOnOwnRedis("hang", 17, "delay")
      const id = yield* a.run(mintOne)

      yield* redis.pause
      // each call waits for one command timeout at most, then works on local state
      const minted = yield* a.run(mintOne).pipe(Effect.timeout("20 seconds"))
      expect(yield* a.run(validate(minted)).pipe(Effect.timeout("20 seconds"))).toMatchObject({
        valid: true,
        source: "service"
      })
      expect(yield* b.run(validate(id)).pipe(Effect.timeout("20 seconds"))).toMatchObject({ valid: true })
      expect(yield* a.fleetState).toEqual({ cache: "local", rateLimit: "local" })

      yield* redis.resume
      yield* sharedAgain(server, a, b)
    }))
})
