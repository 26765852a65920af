import { describe, expect, it } from "@effect/vitest"
import { Array, Cause, Chunk, Deferred, Effect, Exit, FastCheck, Fiber, Ref, TestClock } from "effect"
import * as CircuitBreaker from "../src/CircuitBreaker.ts"
import { CircuitOpen } from "../src/IdServiceError.ts"

/** Lets forked fibers run until each is done or suspended (the TestClock waits for that). */
const settle = TestClock.adjust(0)

const isRejection = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isFailure(exit) && Chunk.some(Cause.failures(exit.cause), (error) => error instanceof CircuitOpen)

/**
 * Starts `callers` concurrent calls through the breaker, each of which, if let through, counts itself
 * and waits for the latch; returns how many ran before the latch opened, and every exit.
 */
const storm = (breaker: CircuitBreaker.CircuitBreaker, callers: number, outcome: Effect.Effect<void, string>) =>
  Effect.gen(function*() {
    const latch = yield* Deferred.make<void>()
    const running = yield* Ref.make(0)
    const held = Ref.update(running, (n) => n + 1).pipe(
      Effect.zipRight(Deferred.await(latch)),
      Effect.zipRight(outcome)
    )
    const fiber = yield* Effect.fork(
      Effect.forEach(Array.range(1, callers), () => Effect.exit(breaker.withBreaker(held)), {
        concurrency: "unbounded"
      })
    )
    yield* settle
    const ranBeforeRelease = yield* Ref.get(running)
    const inFlight = yield* breaker.state
    yield* Deferred.succeed(latch, undefined)
    const exits = yield* Fiber.join(fiber)
    return { ranBeforeRelease, inFlight, exits, ran: yield* Ref.get(running) }
  })

const halfOpen = (options: CircuitBreaker.Options) =>
  Effect.gen(function*() {
    const breaker = yield* CircuitBreaker.make({ consecutiveFailures: 1, ...options })
    yield* Effect.exit(breaker.withBreaker(Effect.fail("boom")))
    yield* breaker.halfOpenNow
    expect((yield* breaker.state)._tag).toBe("HalfOpen")
    return breaker
  })

describe("CircuitBreaker under concurrency", () => {
  it.effect("1 000 concurrent callers in HalfOpen with one probe allowed: exactly one runs", () =>
    Effect.gen(function*() {
      const breaker = yield* halfOpen({ halfOpenProbes: 1, halfOpenSuccesses: 1 })
      const { exits, inFlight, ran, ranBeforeRelease } = yield* storm(breaker, 1000, Effect.void)
      expect(ranBeforeRelease).toBe(1)
      expect(ran).toBe(1)
      expect(inFlight).toMatchObject({ _tag: "HalfOpen", probesInFlight: 1 })
      expect(exits.filter(Exit.isSuccess)).toHaveLength(1)
      expect(exits.filter(isRejection)).toHaveLength(999)
      expect(yield* breaker.stats).toMatchObject({ state: { _tag: "Closed" }, rejected: 999, successes: 1 })
    }))

  it.effect("1 000 concurrent callers with three probes allowed: exactly three run", () =>
    Effect.gen(function*() {
      const breaker = yield* halfOpen({ halfOpenProbes: 3, halfOpenSuccesses: 5 })
      const { exits, inFlight, ran } = yield* storm(breaker, 1000, Effect.void)
      expect(ran).toBe(3)
      expect(inFlight).toMatchObject({ _tag: "HalfOpen", probesInFlight: 3 })
      expect(exits.filter(isRejection)).toHaveLength(997)
      expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", probesInFlight: 0, successes: 3 })
    }))

  it.effect("1 000 callers arriving after the open period: one transition, probes still limited", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ consecutiveFailures: 1, halfOpenProbes: 2 })
      yield* Effect.exit(breaker.withBreaker(Effect.fail("boom")))
      yield* TestClock.adjust("60 seconds")
      const { exits, ran } = yield* storm(breaker, 1000, Effect.fail("still down"))
      expect(ran).toBe(2)
      expect(exits.filter(isRejection)).toHaveLength(998)
      const stats = yield* breaker.stats
      // Closed → Open, Open → HalfOpen once, then the first failed probe re-opens; the second is stale
      expect(stats).toMatchObject({ opened: 2, halfOpened: 1, failures: 3, state: { _tag: "Open", trips: 2 } })
    }))

  it.effect("1 000 concurrent failures admitted while Closed open the breaker exactly once", () =>
    Effect.scoped(Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ consecutiveFailures: 5 })
      const subscription = yield* breaker.subscribe
      const { exits, ran } = yield* storm(breaker, 1000, Effect.fail("boom"))
      expect(ran).toBe(1000)
      expect(exits.filter(isRejection)).toHaveLength(0)
      const transitions = yield* subscription.takeAll
      expect(Chunk.toReadonlyArray(transitions).map((t) => t.to)).toEqual(["Open"])
      expect(yield* breaker.stats).toMatchObject({ opened: 1, failures: 1000, calls: 1000 })
    })))

  it.effect("a probe's slot comes back when it succeeds, is ignored or is interrupted; a dying probe re-opens", () =>
    Effect.gen(function*() {
      const breaker = yield* halfOpen({
        halfOpenProbes: 4,
        halfOpenSuccesses: 100,
        isFailure: CircuitBreaker.countErrors((error) => error !== "caller")
      })
      const probe = <E>(outcome: Effect.Effect<void, E>) =>
        Effect.gen(function*() {
          const latch = yield* Deferred.make<void>()
          const fiber = yield* Effect.fork(breaker.withBreaker(Effect.zipRight(Deferred.await(latch), outcome)))
          return { fiber, release: Deferred.succeed(latch, undefined) }
        })
      const succeeds = yield* probe(Effect.void)
      const ignored = yield* probe(Effect.fail("caller"))
      const interrupted = yield* probe(Effect.void)
      const dies = yield* probe(Effect.die("defect"))
      yield* settle
      expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", probesInFlight: 4 })
      yield* succeeds.release
      yield* Fiber.await(succeeds.fiber)
      expect(yield* breaker.state).toMatchObject({ probesInFlight: 3, successes: 1 })
      yield* ignored.release
      yield* Fiber.await(ignored.fiber)
      expect(yield* breaker.state).toMatchObject({ probesInFlight: 2, successes: 1 })
      yield* Fiber.interrupt(interrupted.fiber)
      expect(yield* breaker.state).toMatchObject({ probesInFlight: 1, successes: 1 })
      yield* dies.release
      yield* Fiber.await(dies.fiber)
      expect(yield* breaker.state).toMatchObject({ _tag: "Open", reason: "ProbeFailed" })
      expect(yield* breaker.stats).toMatchObject({ successes: 1, ignored: 1, interrupted: 1, failures: 2 })
    }))

  it.effect.prop(
    "never more calls run in HalfOpen than halfOpenProbes",
    { probes: FastCheck.integer({ min: 1, max: 6 }), callers: FastCheck.integer({ min: 1, max: 200 }) },
    ({ callers, probes }) =>
      Effect.gen(function*() {
        const breaker = yield* halfOpen({ halfOpenProbes: probes, halfOpenSuccesses: 1000 })
        const { exits, ran } = yield* storm(breaker, callers, Effect.void)
        expect(ran).toBe(Math.min(callers, probes))
        expect(exits.filter(isRejection)).toHaveLength(callers - Math.min(callers, probes))
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", probesInFlight: 0 })
      }),
    { fastCheck: { numRuns: 50 } }
  )
})

// -----------------------------------------------------------------------------
// The closed state against a reference model
// -----------------------------------------------------------------------------

type Step = "S" | "F" | "C"

interface ModelOptions {
  readonly consecutiveFailures: number
  readonly size: number
  readonly minimumCalls: number
  readonly threshold: number
}

/** The step after which the breaker must open, and why; written plainly from the documented rules. */
const expectedTrip = (
  options: ModelOptions,
  steps: ReadonlyArray<Step>
): { readonly at: number; readonly reason: CircuitBreaker.OpenReason } | undefined => {
  let consecutive = 0
  const window: Array<boolean> = []
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]
    if (step === "C") continue
    const failed = step === "F"
    consecutive = failed ? consecutive + 1 : 0
    window.push(failed)
    if (window.length > options.size) window.shift()
    if (consecutive >= options.consecutiveFailures) return { at: i, reason: "ConsecutiveFailures" }
    const failures = window.filter((f) => f).length
    if (
      window.length >= Math.min(options.minimumCalls, options.size) && failures / window.length >= options.threshold
    ) {
      return { at: i, reason: "FailureRate" }
    }
  }
  return undefined
}

describe("CircuitBreaker closed-state rules", () => {
  it.effect.prop(
    "opens exactly where the reference model says, for the reason it says",
    {
      consecutiveFailures: FastCheck.oneof(FastCheck.integer({ min: 1, max: 8 }), FastCheck.constant(Infinity)),
      size: FastCheck.integer({ min: 1, max: 20 }),
      minimumCalls: FastCheck.integer({ min: 1, max: 25 }),
      threshold: FastCheck.constantFrom(0.2, 0.25, 0.5, 0.75, 1, 2),
      steps: FastCheck.array(FastCheck.constantFrom<Step>("S", "F", "C"), { maxLength: 60 })
    },
    ({ consecutiveFailures, minimumCalls, size, steps, threshold }) =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          consecutiveFailures,
          window: CircuitBreaker.countWindow(size),
          minimumCalls,
          failureRateThreshold: threshold,
          isFailure: CircuitBreaker.countErrors((error) => error !== "caller")
        })
        const expected = expectedTrip({ consecutiveFailures, size, minimumCalls, threshold }, steps)
        let actual: { at: number; reason: CircuitBreaker.OpenReason } | undefined
        for (let i = 0; i < steps.length && actual === undefined; i++) {
          const step = steps[i]
          yield* Effect.exit(
            breaker.withBreaker(step === "S" ? Effect.void : Effect.fail(step === "F" ? "boom" : "caller"))
          )
          const state = yield* breaker.state
          if (state._tag === "Open") actual = { at: i, reason: state.reason }
        }
        expect(actual).toEqual(expected)
      }),
    { fastCheck: { numRuns: 300 } }
  )
})
