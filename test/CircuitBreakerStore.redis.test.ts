/**
 * The breaker store on a real Redis: two live `IdService`s, each in its own `ManagedRuntime` (as two
 * replicas of a fleet), share one redis-server of the test's own, against the reference server over
 * loopback. Real time: generous margins, and polls instead of fixed sleeps.
 */
import { describe, expect, layer } from "@effect/vitest"
import {
  Cause,
  Effect,
  Exit,
  Layer,
  Logger,
  LogLevel,
  ManagedRuntime,
  Metric,
  MetricState,
  Schedule,
  Stream
} from "effect"
import { CircuitBreakerStore } from "../src/CircuitBreakerStore.ts"
import * as Fleet from "../src/Fleet.ts"
import type * as IdService from "../src/IdService.ts"
import { IdService as IdServiceTag } from "../src/IdService.ts"
import { IdServiceBreakers } from "../src/IdServiceClient.ts"
import * as Node from "../src/node.ts"
import * as Observability from "../src/Observability.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"
import { skipRedisSuites, startRedis } from "./redis.ts"

const openDuration = "4 seconds"

/** A replica: the live service built on its own runtime, its events recorded. */
const replica = (
  serverUrl: string,
  token: ReferenceServer["Type"]["token"],
  redisUrl: string,
  prefix: string,
  via: "store" | "fleet" = "store"
) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ManagedRuntime.make(
          Node.layerWith({
            url: serverUrl,
            token,
            health: { interval: "1 hour" },
            retry: { maxRetries: 0 },
            timeout: "3 seconds",
            breaker: { consecutiveFailures: 3, openDuration, openBackoffFactor: 1 }
          }).pipe(
            Layer.provideMerge(
              via === "store"
                ? CircuitBreakerStore.layerRedis({ url: redisUrl, prefix, commandTimeout: "250 millis" })
                : Layer.orDie(Fleet.layerRedis({ url: redisUrl, prefix, commandTimeout: "250 millis" }))
            ),
            Layer.provideMerge(Logger.minimumLogLevel(LogLevel.None))
          )
        )
      ),
      (runtime) => Effect.promise(() => runtime.dispose())
    )
    const run = <A, E>(effect: Effect.Effect<A, E, IdService.LiveServices | CircuitBreakerStore>) =>
      Effect.promise(() => runtime.runPromiseExit(effect)).pipe(Effect.flatten)
    const ids = yield* run(IdServiceTag)
    const events: Array<Observability.ClientEvent> = []
    runtime.runFork(Stream.runForEach(ids.events, (event) => Effect.sync(() => events.push(event))))
    yield* Effect.sleep("50 millis") // the merged event sources subscribe as they start
    const mint = (callId: string) => Effect.exit(run(ids.mint({ entityType: "P", metadata: { callId } })))
    const mintState = Effect.map(run(ids.health), (health) => health.breakers.mint)
    return { run, ids, events, mint, mintState }
  })

type Replica = Effect.Effect.Success<ReturnType<typeof replica>>

const failureTag = (exit: Exit.Exit<unknown, { readonly _tag: string }>): string | undefined =>
  Exit.isSuccess(exit)
    ? undefined
    : Cause.failureOption(exit.cause).pipe((o) => o._tag === "Some" ? o.value._tag : "defect")

/** Polls `effect` until `ok` holds (up to 15 s on a busy machine), and returns its last value. */
const eventually = <A, E, R>(effect: Effect.Effect<A, E, R>, ok: (a: A) => boolean, what: string) =>
  effect.pipe(
    Effect.repeat({ until: ok, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => new Error(`timed out waiting for ${what}`) }),
    Effect.orDie
  )

/** Waits until the replica's events hold a `FleetFallback` / `FleetRestored` of the breaker store. */
const sawEvent = (r: Replica, tag: "FleetFallback" | "FleetRestored") =>
  eventually(
    Effect.sync(() => r.events),
    (events) => events.some((e) => e._tag === tag && e.component === "breaker"),
    `a ${tag} event`
  )

const storeMode = Effect.flatMap(CircuitBreakerStore, (store) => store.mode)

const mintRequests = Effect.map(Effect.flatMap(ReferenceServer, (server) => server.counts), (c) => c.requests.mint)

const fallbacks = Metric.value(
  Metric.tagged(Observability.metrics.fleetFallbacks, "chittyid.fleet.component", "breaker")
).pipe(
  Effect.map((state) => (MetricState.isCounterState(state) ? Number(state.count) : 0))
)

const setup = (prefix: string) =>
  Effect.gen(function*() {
    const server = yield* ReferenceServer
    yield* server.reset
    const redis = yield* startRedis
    const a = yield* replica(server.url, server.token, redis.url, prefix)
    const b = yield* replica(server.url, server.token, redis.url, prefix)
    return { server, redis, a, b }
  })

const tripped = (r: Replica, prefix: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10 && (yield* r.mintState) !== "Open"; i++) yield* r.mint(`${prefix}-trip-${i}`)
    expect(yield* r.mintState).toBe("Open")
  })

describe.skipIf(skipRedisSuites)("CircuitBreakerStore on Redis (two IdService replicas, reference server)", () => {
  layer(ReferenceServer.layer({ seed: 15 }), { timeout: 90_000, excludeTestServices: true })((it) => {
    it.scoped("A opens: B rejects without a request; one probe for the fleet; its success closes both", () =>
      Effect.gen(function*() {
        const { a, b, server } = yield* setup("open")
        yield* server.setFaults({ outage: { mode: "refuse" } })
        yield* tripped(a, "a")
        const failedOnA = yield* mintRequests
        expect(failedOnA).toBeLessThanOrEqual(3)

        // B learns it without a request of its own
        yield* eventually(b.mintState, (state) => state === "Open", "B's mint breaker to open")
        const rejected: Array<string | undefined> = []
        for (let i = 0; i < 5; i++) rejected.push(failureTag(yield* b.mint(`b-open-${i}`)))
        expect(rejected).toEqual(Array(5).fill("CircuitOpen"))
        expect(yield* mintRequests).toBe(failedOnA)
        expect(b.events.some((e) => e._tag === "BreakerTransition" && e.operation === "mint" && e.to === "Open"))
          .toBe(true)

        // the service is back but slow: the open period ends, six calls at once on both replicas
        yield* server.setFaults({ outage: null, latency: { fixedMs: 400, endpoints: ["mint"] } })
        yield* eventually(
          Effect.all([a.mintState, b.mintState]),
          ([x, y]) => x === "HalfOpen" && y === "HalfOpen",
          "the open period to end"
        )
        const exits = yield* Effect.all(
          [a, b, a, b, a, b].map((r, i) => r.mint(`probe-${i}`)),
          { concurrency: "unbounded" }
        )
        const tags = exits.map(failureTag)
        expect(tags.filter((tag) => tag === undefined)).toHaveLength(1)
        expect(tags.filter((tag) => tag === "CircuitOpen")).toHaveLength(5)
        expect((yield* mintRequests) - failedOnA).toBe(1)

        // closed for both
        yield* server.setFaults({ latency: null })
        yield* eventually(
          Effect.all([a.mintState, b.mintState]),
          ([x, y]) => x === "Closed" && y === "Closed",
          "both breakers to close"
        )
        expect(Exit.isSuccess(yield* b.mint("after-1"))).toBe(true)
        expect(Exit.isSuccess(yield* a.mint("after-2"))).toBe(true)
        expect((yield* mintRequests) - failedOnA).toBe(3)
      }))

    it.scoped("Redis killed: each replica runs on its own breaker, with an event; Redis back: shared again", () =>
      Effect.gen(function*() {
        const { a, b, redis, server } = yield* setup("fallback")
        const fallbacksBefore = yield* fallbacks
        yield* redis.stop
        for (const r of [a, b]) {
          yield* sawEvent(r, "FleetFallback")
          expect(yield* r.run(storeMode)).toBe("fallback")
        }
        expect((yield* fallbacks) - fallbacksBefore).toBe(2)

        // minting goes on; A's breaker opens on its own failures, B's does not follow
        expect(Exit.isSuccess(yield* b.mint("down-ok"))).toBe(true)
        yield* server.setFaults({ outage: { mode: "refuse" } })
        yield* tripped(a, "a-local")
        const before = yield* mintRequests
        expect(failureTag(yield* b.mint("b-local"))).toBe("ConnectionError")
        expect(yield* b.mintState).toBe("Closed")
        expect((yield* mintRequests) - before).toBe(1)
        yield* server.setFaults({ outage: null })
        expect(Exit.isSuccess(yield* b.mint("b-still-minting"))).toBe(true)

        // Redis back: both share again
        yield* redis.start
        for (const r of [a, b]) yield* sawEvent(r, "FleetRestored")
        yield* a.run(Effect.flatMap(IdServiceBreakers, (breakers) => breakers.mint.reset))
        yield* server.setFaults({ outage: { mode: "refuse" } })
        yield* tripped(b, "b-shared")
        yield* eventually(a.mintState, (state) => state === "Open", "A to follow B again")
        const shared = yield* mintRequests
        expect(failureTag(yield* a.mint("a-shared"))).toBe("CircuitOpen")
        expect(yield* mintRequests).toBe(shared)
        yield* server.setFaults({ outage: null })
      }))

    it.scoped("Fleet.layerRedis shares the breakers too", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const redis = yield* startRedis
        const a = yield* replica(server.url, server.token, redis.url, "fleet", "fleet")
        const b = yield* replica(server.url, server.token, redis.url, "fleet", "store")
        expect(yield* a.run(Effect.map(CircuitBreakerStore, (store) => store.backend))).toBe("redis")
        yield* server.setFaults({ outage: { mode: "refuse" } })
        yield* tripped(a, "fleet")
        yield* eventually(b.mintState, (state) => state === "Open", "B to follow A")
        const before = yield* mintRequests
        expect(failureTag(yield* b.mint("fleet-b"))).toBe("CircuitOpen")
        expect(yield* mintRequests).toBe(before)
        yield* server.setFaults({ outage: null })
      }))

    it.scoped("a Redis that is down when the layer is built: the service builds, mints, and shares once Redis is up", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const redis = yield* startRedis
        yield* redis.stop
        const a = yield* replica(server.url, server.token, redis.url, "late")
        expect(yield* a.run(storeMode)).toBe("fallback")
        expect(Exit.isSuccess(yield* a.mint("late-ok"))).toBe(true)
        yield* redis.start
        yield* eventually(a.run(storeMode), (mode) => mode === "shared", "the store to share")
      }))
  })
})
