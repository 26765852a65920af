/**
 * The shared breaker state over the in-memory store (the protocol the Redis store runs), with
 * `TestClock`: two breakers built on one store act as two replicas of a fleet.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Ref, type Scope, Stream, TestClock } from "effect"
import * as CircuitBreaker from "../src/CircuitBreaker.ts"
import { CircuitBreakerStore } from "../src/CircuitBreakerStore.ts"
import { CircuitOpen } from "../src/IdServiceError.ts"

const options: CircuitBreaker.Options = {
  consecutiveFailures: 3,
  failureRateThreshold: 2, // off: the tests watch the count in a row
  openDuration: "10 seconds",
  halfOpenProbes: 1,
  halfOpenSuccesses: 1
}

/** A replica: a breaker on the store's state of `name`, and an effect that counts how often it ran. */
const replica = (name = "mint", extra: CircuitBreaker.Options = {}) =>
  Effect.gen(function*() {
    const store = yield* CircuitBreakerStore
    const shared = yield* store.breaker(name, { probeTimeout: "5 seconds" })
    const breaker = yield* CircuitBreaker.make({ ...options, ...extra, shared })
    const runs = yield* Ref.make(0)
    const run = (result: "ok" | "boom") =>
      breaker.withBreaker(
        Effect.zipRight(Ref.update(runs, (n) => n + 1), result === "ok" ? Effect.succeed("ok") : Effect.fail("boom"))
      ).pipe(Effect.exit)
    return { breaker, runs: Ref.get(runs), ok: run("ok"), fail: run("boom") }
  })

type Replica = Effect.Effect.Success<ReturnType<typeof replica>>

const isCircuitOpen = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isFailure(exit) &&
  Cause.failureOption(exit.cause).pipe((o) => o._tag === "Some" && o.value instanceof CircuitOpen)

const state = (r: Replica) => Effect.map(r.breaker.state, (s) => s._tag)

const times = <A, E, R>(n: number, effect: Effect.Effect<A, E, R>) => Effect.replicateEffect(effect, n)

const withStore = <A, E>(effect: Effect.Effect<A, E, CircuitBreakerStore | Scope.Scope>) =>
  effect.pipe(Effect.provide(CircuitBreakerStore.layerMemory), Effect.scoped)

describe("CircuitBreakerStore (in memory, TestClock)", () => {
  it.effect("one replica opening makes the other reject without running the call", () =>
    withStore(Effect.gen(function*() {
      const a = yield* replica()
      const b = yield* replica()
      yield* times(3, a.fail)
      expect(yield* state(a)).toBe("Open")
      expect(yield* state(b)).toBe("Open")
      const exit = yield* b.ok
      expect(isCircuitOpen(exit)).toBe(true)
      expect(yield* b.runs).toBe(0)
      const stats = yield* b.breaker.stats
      expect(stats.rejected).toBe(1)
      expect(stats.opened).toBe(1)
      if (stats.state._tag === "Open") expect(stats.state.reason).toBe("ConsecutiveFailures")
    })))

  it.effect("the fleet counts failures in a row together: 2 on A and 1 on B open both", () =>
    withStore(Effect.gen(function*() {
      const a = yield* replica()
      const b = yield* replica()
      yield* times(2, a.fail)
      expect(yield* state(a)).toBe("Closed")
      yield* b.fail
      expect(yield* state(b)).toBe("Open")
      expect(yield* state(a)).toBe("Open")
      expect(isCircuitOpen(yield* a.ok)).toBe(true)
      expect(yield* a.runs).toBe(2)
    })))

  it.effect("a success after failures starts the fleet's count again", () =>
    withStore(Effect.gen(function*() {
      const a = yield* replica()
      const b = yield* replica()
      yield* times(2, a.fail)
      yield* a.ok
      yield* times(2, b.fail)
      expect(yield* state(a)).toBe("Closed")
      expect(yield* state(b)).toBe("Closed")
      yield* b.fail
      expect(yield* state(a)).toBe("Open")
    })))

  it.effect("the count is per window: failures older than the window are forgotten", () =>
    withStore(Effect.gen(function*() {
      const a = yield* replica("mint", { window: CircuitBreaker.timeWindow("10 seconds") })
      const b = yield* replica("mint", { window: CircuitBreaker.timeWindow("10 seconds") })
      yield* times(2, a.fail)
      yield* TestClock.adjust("11 seconds")
      yield* b.fail
      expect(yield* state(a)).toBe("Closed")
      expect(yield* state(b)).toBe("Closed")
    })))

  it.effect("after the open period one replica probes for the fleet; its success closes every breaker", () =>
    withStore(Effect.gen(function*() {
      const a = yield* replica()
      const b = yield* replica()
      const c = yield* replica()
      yield* times(3, a.fail)
      yield* TestClock.adjust("10 seconds")
      // all three half-open; the first to call claims the probe, which stays in flight
      expect(yield* state(b)).toBe("HalfOpen")
      const gate = yield* Effect.makeLatch(false)
      const probe = yield* b.breaker.withBreaker(gate.await).pipe(Effect.fork)
      yield* Effect.yieldNow()
      expect(isCircuitOpen(yield* a.ok)).toBe(true)
      expect(isCircuitOpen(yield* c.ok)).toBe(true)
      expect(yield* a.runs).toBe(3)
      expect(yield* c.runs).toBe(0)
      yield* gate.open
      yield* probe.await
      for (const r of [a, b, c]) expect(yield* state(r)).toBe("Closed")
      expect(Exit.isSuccess(yield* c.ok)).toBe(true)
      expect(yield* c.runs).toBe(1)
      const transitions = yield* Effect.map(a.breaker.stats, (s) => [s.opened, s.halfOpened, s.closed])
      expect(transitions).toEqual([1, 1, 1])
    })))

  it.effect("a failed probe opens every breaker again, with the backoff of the trips so far", () =>
    withStore(Effect.gen(function*() {
      const a = yield* replica("mint", { openBackoffFactor: 2 })
      const b = yield* replica("mint", { openBackoffFactor: 2 })
      yield* times(3, a.fail)
      yield* TestClock.adjust("10 seconds")
      yield* b.fail // the probe
      const sa = yield* a.breaker.state
      const sb = yield* b.breaker.state
      expect(sa._tag).toBe("Open")
      expect(sb._tag).toBe("Open")
      if (sa._tag === "Open" && sb._tag === "Open") {
        expect(sb.reason).toBe("ProbeFailed")
        expect(sb.trips).toBe(2)
        expect(sa.retryAt).toBe(sb.retryAt)
        expect(sb.retryAt - sb.since).toBe(20_000)
      }
      yield* TestClock.adjust("10 seconds")
      expect(isCircuitOpen(yield* a.ok)).toBe(true) // still in the second, longer open period
      yield* TestClock.adjust("10 seconds")
      expect(Exit.isSuccess(yield* a.ok)).toBe(true)
      expect(yield* state(b)).toBe("Closed")
    })))

  it.effect("a replica that dies while probing frees the claim after the probe timeout", () =>
    withStore(Effect.gen(function*() {
      const a = yield* replica()
      const b = yield* replica()
      yield* times(3, a.fail)
      yield* TestClock.adjust("10 seconds")
      const hung = yield* a.breaker.withBreaker(Effect.never).pipe(Effect.fork)
      yield* Effect.yieldNow()
      expect(isCircuitOpen(yield* b.ok)).toBe(true)
      yield* TestClock.adjust("6 seconds") // the claim (5 s) has expired; A never answered
      expect(Exit.isSuccess(yield* b.ok)).toBe(true)
      expect(yield* state(a)).toBe("Closed")
      yield* Fiber.interrupt(hung)
    })))

  it.effect("breakers of other names share nothing", () =>
    withStore(Effect.gen(function*() {
      const mint = yield* replica("mint")
      const validate = yield* replica("validate")
      yield* times(3, mint.fail)
      expect(yield* state(mint)).toBe("Open")
      expect(yield* state(validate)).toBe("Closed")
      expect(Exit.isSuccess(yield* validate.ok)).toBe(true)
    })))

  it.effect("adopting the fleet's opening is a transition of this breaker, published at once", () =>
    withStore(Effect.gen(function*() {
      const a = yield* replica()
      const b = yield* replica()
      const seen = yield* b.breaker.transitions.pipe(Stream.take(1), Stream.runCollect, Effect.fork)
      yield* Effect.yieldNow()
      yield* times(3, a.fail)
      const [transition] = yield* Effect.map(seen.await, (exit) => Exit.isSuccess(exit) ? [...exit.value] : [])
      expect(transition?.from).toBe("Closed")
      expect(transition?.to).toBe("Open")
      expect(transition?.reason).toBe("ConsecutiveFailures")
    })))

  it.effect("one breaker on the store decides as a breaker without one (the default)", () =>
    Effect.gen(function*() {
      const script = "FFSFFFxSFFFxxS"
      const run = (breaker: CircuitBreaker.CircuitBreaker) =>
        Effect.forEach(script.split(""), (step) =>
          step === "x"
            ? Effect.as(TestClock.adjust("10 seconds"), "wait")
            : breaker.withBreaker(step === "S" ? Effect.succeed("ok") : Effect.fail("boom")).pipe(
              Effect.exit,
              Effect.map((exit) => Exit.isSuccess(exit) ? "ok" : isCircuitOpen(exit) ? "rejected" : "failed")
            ))
      const local = yield* CircuitBreaker.make(options)
      const localRun = yield* run(local)
      const localStats = yield* local.stats
      const sharedRun = yield* withStore(Effect.gen(function*() {
        const r = yield* replica()
        const results = yield* run(r.breaker)
        return { results, stats: yield* r.breaker.stats }
      }))
      expect(sharedRun.results).toEqual(localRun)
      expect({ ...sharedRun.stats, state: sharedRun.stats.state._tag }).toEqual({
        ...localStats,
        state: localStats.state._tag
      })
    }))

  it.effect("the memory store never falls back", () =>
    Effect.gen(function*() {
      const store = yield* CircuitBreakerStore
      expect(store.backend).toBe("memory")
      expect(yield* store.mode).toBe("shared")
    }).pipe(Effect.provide(Layer.fresh(CircuitBreakerStore.layerMemory))))
})
