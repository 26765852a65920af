import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Chunk,
  Config,
  ConfigProvider,
  Deferred,
  type Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Ref,
  Schema,
  Stream,
  TestClock
} from "effect"
import * as CircuitBreaker from "../src/CircuitBreaker.ts"
import { CircuitOpen } from "../src/IdServiceError.ts"

// "S" succeeds, "F" fails, "C" fails with an error the caller caused, "D" dies
type Step = "S" | "F" | "C" | "D"

const call = (step: Step): Effect.Effect<string, string> => {
  switch (step) {
    case "S":
      return Effect.succeed("ok")
    case "F":
      return Effect.fail("boom")
    case "C":
      return Effect.fail("caller")
    case "D":
      return Effect.die("defect")
  }
}

/** Runs the steps one after the other; the results say which were rejected. */
const runSteps = (breaker: CircuitBreaker.CircuitBreaker, steps: string) =>
  Effect.forEach(
    steps.split("") as Array<Step>,
    (step) => breaker.withBreaker(call(step)).pipe(Effect.exit)
  )

/** An effect that counts how often it really ran. */
const counting = Effect.gen(function*() {
  const runs = yield* Ref.make(0)
  return {
    runs: Ref.get(runs),
    succeed: Ref.update(runs, (n) => n + 1).pipe(Effect.as("ok")),
    fail: Ref.update(runs, (n) => n + 1).pipe(Effect.zipRight(Effect.fail("boom" as const)))
  }
})

const rejection = (exit: Exit.Exit<unknown, unknown>): CircuitOpen | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const failure = Cause.failureOption(exit.cause)
  return failure._tag === "Some" && failure.value instanceof CircuitOpen ? failure.value : undefined
}

/** Lets forked fibers run until each is done or suspended (the TestClock waits for that). */
const settle = TestClock.adjust(0)

const tagOf = (breaker: CircuitBreaker.CircuitBreaker) => Effect.map(breaker.state, (state) => state._tag)

/** Opens a breaker made with `consecutiveFailures: 1` (the default open period unless given). */
const tripped = (options: CircuitBreaker.Options = {}) =>
  Effect.gen(function*() {
    const breaker = yield* CircuitBreaker.make({ consecutiveFailures: 1, ...options })
    yield* runSteps(breaker, "F")
    expect(yield* tagOf(breaker)).toBe("Open")
    return breaker
  })

describe("CircuitBreaker", () => {
  describe("Closed → Open", () => {
    it.effect("opens after 5 consecutive failures by default, and a success resets the count", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ failureRateThreshold: 2 })
        yield* runSteps(breaker, "FFFFSFFFF")
        const closed = yield* breaker.state
        expect(closed).toMatchObject({ _tag: "Closed", consecutiveFailures: 4 })
        yield* runSteps(breaker, "F")
        const open = yield* breaker.state
        expect(open).toMatchObject({ _tag: "Open", reason: "ConsecutiveFailures", trips: 1, since: 0 })
      }))

    it.effect("opens on the failure rate only once the window holds minimumCalls", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          consecutiveFailures: Infinity,
          window: CircuitBreaker.countWindow(10),
          minimumCalls: 4,
          failureRateThreshold: 0.5
        })
        // 2 of 3 failed: above the threshold, but below the minimum number of calls
        yield* runSteps(breaker, "FSF")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 3, windowFailures: 2 })
        // 2 of 4 reaches 50 %
        yield* runSteps(breaker, "S")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", reason: "FailureRate" })
      }))

    it.effect("a count window forgets the calls that slid out of it", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          consecutiveFailures: Infinity,
          window: CircuitBreaker.countWindow(4),
          minimumCalls: 4,
          failureRateThreshold: 0.75
        })
        yield* runSteps(breaker, "FSFS")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 4, windowFailures: 2 })
        yield* runSteps(breaker, "SSSS")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 4, windowFailures: 0 })
        yield* runSteps(breaker, "FF")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 4, windowFailures: 2 })
        yield* runSteps(breaker, "F")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", reason: "FailureRate" })
      }))

    it.effect("minimumCalls above a count window's size is capped by the size", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          consecutiveFailures: Infinity,
          window: CircuitBreaker.countWindow(3),
          minimumCalls: 100
        })
        yield* runSteps(breaker, "SFF")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", reason: "FailureRate" })
      }))

    it.effect("a time window forgets the calls older than its duration (default 10 s)", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ consecutiveFailures: Infinity, minimumCalls: 4 })
        yield* runSteps(breaker, "FFF")
        yield* TestClock.adjust("9999 millis")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 3, windowFailures: 3 })
        yield* TestClock.adjust("1 millis")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 0, windowFailures: 0 })
        // the three old failures no longer count: 1 of 4 is below 50 %
        yield* runSteps(breaker, "FSSS")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 4, windowFailures: 1 })
      }))

    it.effect("a time window counts calls spread over its duration", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          consecutiveFailures: Infinity,
          minimumCalls: 4,
          window: CircuitBreaker.timeWindow("10 seconds")
        })
        yield* runSteps(breaker, "FF")
        yield* TestClock.adjust("5 seconds")
        yield* runSteps(breaker, "S")
        yield* TestClock.adjust("4 seconds")
        expect(yield* tagOf(breaker)).toBe("Closed")
        yield* runSteps(breaker, "S")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", reason: "FailureRate", since: 9000 })
      }))

    it.effect("opens on the slow-call rate; a call exactly at the threshold is not slow", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          consecutiveFailures: Infinity,
          failureRateThreshold: 2,
          window: CircuitBreaker.countWindow(4),
          minimumCalls: 4,
          slowCallDuration: "1 second",
          slowCallRateThreshold: 0.5
        })
        const timed = (duration: Duration.DurationInput) =>
          Effect.gen(function*() {
            const fiber = yield* Effect.fork(breaker.withBreaker(Effect.sleep(duration)))
            yield* TestClock.adjust(duration)
            yield* Fiber.join(fiber)
          })
        yield* timed("1 second")
        yield* timed("2 seconds")
        yield* timed("10 millis")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 3, windowSlowCalls: 1 })
        yield* timed("1001 millis")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", reason: "SlowCallRate" })
        const stats = yield* breaker.stats
        expect(stats).toMatchObject({ successes: 4, failures: 0, slowCalls: 2 })
      }))

    it.effect("slow calls are not tracked unless slowCallDuration is set", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ window: CircuitBreaker.countWindow(2), minimumCalls: 1 })
        const fiber = yield* Effect.fork(breaker.withBreaker(Effect.sleep("1 hour")))
        yield* TestClock.adjust("1 hour")
        yield* Fiber.join(fiber)
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowSlowCalls: 0 })
        expect((yield* breaker.stats).slowCalls).toBe(0)
      }))
  })

  describe("Open", () => {
    it.effect("rejects with CircuitOpen carrying retryAt, without running the effect", () =>
      Effect.gen(function*() {
        const { fail, runs, succeed } = yield* counting
        const breaker = yield* CircuitBreaker.make({ name: "ids" })
        for (let i = 0; i < 5; i++) yield* Effect.exit(breaker.withBreaker(fail))
        expect(yield* runs).toBe(5)
        yield* TestClock.adjust("1 second")
        const exits = yield* Effect.forEach([1, 2, 3], () => Effect.exit(breaker.withBreaker(succeed)))
        expect(yield* runs).toBe(5)
        for (const exit of exits) {
          const error = rejection(exit)
          expect(error).toBeInstanceOf(CircuitOpen)
          expect(error?.retryAt).toBe(60_000)
          expect(error?.message).toContain("\"ids\"")
        }
        expect(yield* breaker.stats).toMatchObject({ calls: 5, failures: 5, rejected: 3 })
      }))

    it.effect("moves to HalfOpen lazily once the open period has passed, not a moment before", () =>
      Effect.gen(function*() {
        const { runs, succeed } = yield* counting
        const breaker = yield* tripped({ openDuration: "30 seconds" })
        yield* TestClock.adjust("29999 millis")
        expect(rejection(yield* Effect.exit(breaker.withBreaker(succeed)))?.retryAt).toBe(30_000)
        expect(yield* runs).toBe(0)
        expect(yield* tagOf(breaker)).toBe("Open")
        yield* TestClock.adjust("1 millis")
        expect(yield* breaker.withBreaker(succeed)).toBe("ok")
        expect(yield* runs).toBe(1)
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", since: 30_000, successes: 1 })
      }))

    it.effect("reading the state applies the due transition too", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped({ openDuration: "1 second" })
        yield* TestClock.adjust("1 second")
        expect(yield* breaker.state).toEqual({
          _tag: "HalfOpen",
          since: 1000,
          probesInFlight: 0,
          successes: 0,
          trips: 1
        })
      }))

    it.effect("halfOpenNow lets probes through at once; it does nothing in other states", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped()
        yield* breaker.halfOpenNow
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", since: 0 })
        expect(yield* breaker.withBreaker(Effect.succeed(1))).toBe(1)

        const closed = yield* CircuitBreaker.make()
        yield* closed.halfOpenNow
        expect(yield* tagOf(closed)).toBe("Closed")
      }))
  })

  describe("HalfOpen", () => {
    it.effect("lets halfOpenProbes calls run at once and rejects the others without running them", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped({ halfOpenProbes: 2 })
        yield* breaker.halfOpenNow
        const latch = yield* Deferred.make<void>()
        const { runs, succeed } = yield* counting
        const held = Effect.zipRight(succeed, Deferred.await(latch))
        const probes = yield* Effect.fork(
          Effect.all([breaker.withBreaker(held), breaker.withBreaker(held)], { concurrency: "unbounded" })
        )
        yield* settle
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", probesInFlight: 2 })
        const third = rejection(yield* Effect.exit(breaker.withBreaker(succeed)))
        expect(third).toBeInstanceOf(CircuitOpen)
        expect(third?.retryAt).toBeUndefined()
        expect(yield* runs).toBe(2)
        yield* Deferred.succeed(latch, undefined)
        yield* Fiber.join(probes)
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", probesInFlight: 0, successes: 2 })
      }))

    it.effect("closes after halfOpenSuccesses successful probes (default 3)", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped()
        yield* breaker.halfOpenNow
        yield* runSteps(breaker, "SS")
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", successes: 2 })
        yield* runSteps(breaker, "S")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", consecutiveFailures: 0, windowCalls: 0 })
      }))

    it.effect("a failed probe re-opens with a backed-off period, capped, and reset once closed", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped({
          openDuration: "10 seconds",
          openBackoffFactor: 2,
          maxOpenDuration: "35 seconds",
          halfOpenSuccesses: 1
        })
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", retryAt: 10_000, trips: 1 })
        yield* TestClock.adjust("10 seconds")
        yield* runSteps(breaker, "F")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", reason: "ProbeFailed", retryAt: 30_000, trips: 2 })
        yield* TestClock.adjust("20 seconds")
        yield* runSteps(breaker, "F")
        // 40 s capped at 35 s
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", retryAt: 65_000, trips: 3 })
        yield* TestClock.adjust("35 seconds")
        yield* runSteps(breaker, "S")
        expect(yield* tagOf(breaker)).toBe("Closed")
        yield* runSteps(breaker, "F")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", retryAt: 75_000, trips: 1 })
      }))

    it.effect("the open period stays the same without backoff (default)", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped()
        yield* TestClock.adjust("60 seconds")
        yield* runSteps(breaker, "F")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", retryAt: 120_000, trips: 2 })
      }))

    it.effect("a slow probe re-opens", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped({ slowCallDuration: "1 second" })
        yield* breaker.halfOpenNow
        const fiber = yield* Effect.fork(breaker.withBreaker(Effect.sleep("2 seconds")))
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(fiber)
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", reason: "SlowProbe", trips: 2 })
      }))

    it.effect("an interrupted probe frees its slot and counts neither way", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped({ halfOpenProbes: 1 })
        yield* breaker.halfOpenNow
        const fiber = yield* Effect.fork(breaker.withBreaker(Effect.never))
        yield* settle
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", probesInFlight: 1 })
        expect(rejection(yield* Effect.exit(breaker.withBreaker(Effect.void)))).toBeInstanceOf(CircuitOpen)
        yield* Fiber.interrupt(fiber)
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", probesInFlight: 0, successes: 0 })
        expect(yield* breaker.withBreaker(Effect.succeed("probe"))).toBe("probe")
        expect(yield* breaker.stats).toMatchObject({ interrupted: 1, rejected: 1 })
      }))

    it.effect("a call admitted while Closed that ends after the breaker opened decides nothing", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ consecutiveFailures: 1, halfOpenSuccesses: 1 })
        const latch = yield* Deferred.make<void>()
        const slow = yield* Effect.fork(breaker.withBreaker(Deferred.await(latch)))
        yield* settle
        yield* runSteps(breaker, "F")
        yield* breaker.halfOpenNow
        yield* Deferred.succeed(latch, undefined)
        yield* Fiber.join(slow)
        // the late success was not a probe: still half-open, no probe in flight
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", probesInFlight: 0, successes: 0 })
        expect((yield* breaker.stats).successes).toBe(1)
      }))
  })

  describe("manual control", () => {
    it.effect("isolate holds the breaker open with no timer until release, which half-opens it", () =>
      Effect.gen(function*() {
        const { runs, succeed } = yield* counting
        const breaker = yield* CircuitBreaker.make()
        yield* breaker.isolate
        yield* TestClock.adjust("1 day")
        const error = rejection(yield* Effect.exit(breaker.withBreaker(succeed)))
        expect(error).toBeInstanceOf(CircuitOpen)
        expect(error?.retryAt).toBeUndefined()
        expect(yield* runs).toBe(0)
        yield* breaker.halfOpenNow
        expect(yield* breaker.state).toEqual({ _tag: "Isolated", since: 0 })
        yield* breaker.release
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", since: 86_400_000 })
        expect(yield* breaker.withBreaker(succeed)).toBe("ok")
        // release does nothing when not isolated
        yield* breaker.release
        expect(yield* tagOf(breaker)).toBe("HalfOpen")
      }))

    it.effect("reset closes from any state and clears the counts and the backoff", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped({ openBackoffFactor: 2, openDuration: "1 second" })
        yield* TestClock.adjust("1 second")
        yield* runSteps(breaker, "F")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", trips: 2 })
        yield* breaker.reset
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", since: 1000, consecutiveFailures: 0 })
        yield* runSteps(breaker, "F")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", retryAt: 2000, trips: 1 })

        const closed = yield* CircuitBreaker.make({ consecutiveFailures: 3 })
        yield* runSteps(closed, "FF")
        yield* closed.reset
        expect(yield* closed.state).toMatchObject({ _tag: "Closed", consecutiveFailures: 0, windowCalls: 0 })
        yield* runSteps(closed, "FF")
        expect(yield* tagOf(closed)).toBe("Closed")

        const isolated = yield* CircuitBreaker.make()
        yield* isolated.isolate
        yield* isolated.reset
        expect(yield* isolated.withBreaker(Effect.succeed(1))).toBe(1)
      }))
  })

  describe("which failures count", () => {
    it.effect("failures isFailure rejects neither trip it nor count as successes", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          window: CircuitBreaker.countWindow(10),
          minimumCalls: 2,
          failureRateThreshold: 0.5,
          isFailure: CircuitBreaker.countErrors((error) => error !== "caller")
        })
        yield* runSteps(breaker, "CCCCCCCCCC")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 0, consecutiveFailures: 0 })
        // ignored calls do not reset the consecutive count either
        yield* runSteps(breaker, "S")
        yield* runSteps(breaker, "C")
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", windowCalls: 1, windowFailures: 0 })
        yield* runSteps(breaker, "F")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", reason: "FailureRate" })
        expect(yield* breaker.stats).toMatchObject({ calls: 13, ignored: 11, successes: 1, failures: 1 })
      }))

    it.effect("an ignored probe frees its slot without closing the breaker", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped({
          halfOpenProbes: 1,
          halfOpenSuccesses: 1,
          isFailure: CircuitBreaker.countErrors((error) => error !== "caller")
        })
        yield* breaker.halfOpenNow
        yield* runSteps(breaker, "CC")
        expect(yield* breaker.state).toMatchObject({ _tag: "HalfOpen", probesInFlight: 0, successes: 0 })
        yield* runSteps(breaker, "S")
        expect(yield* tagOf(breaker)).toBe("Closed")
      }))

    it.effect("defects count by default, and with countErrors", () =>
      Effect.gen(function*() {
        const byDefault = yield* CircuitBreaker.make({ consecutiveFailures: 2 })
        yield* runSteps(byDefault, "DD")
        expect(yield* byDefault.state).toMatchObject({ _tag: "Open", reason: "ConsecutiveFailures" })

        const withPredicate = yield* CircuitBreaker.make({
          consecutiveFailures: 2,
          isFailure: CircuitBreaker.countErrors(() => false)
        })
        yield* runSteps(withPredicate, "FD")
        expect(yield* withPredicate.state).toMatchObject({ _tag: "Closed", consecutiveFailures: 1 })
      }))

    it.effect("interruptions never count, whatever isFailure says", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ consecutiveFailures: 1, isFailure: () => true })
        const fiber = yield* Effect.fork(breaker.withBreaker(Effect.never))
        yield* settle
        yield* Fiber.interrupt(fiber)
        yield* Effect.exit(breaker.withBreaker(Effect.interrupt))
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", consecutiveFailures: 0 })
        expect(yield* breaker.stats).toMatchObject({ calls: 2, interrupted: 2, failures: 0 })
      }))

    it.effect("a withAdmission function that throws is the call's defect: counted, and a probe's ticket is released", () =>
      Effect.gen(function*() {
        const thrower = (): Effect.Effect<string> => {
          throw new Error("thrown while building the call")
        }
        const breaker = yield* CircuitBreaker.make({ consecutiveFailures: 2, halfOpenSuccesses: 1 })
        const first = yield* Effect.exit(breaker.withAdmission(thrower))
        expect(Exit.isFailure(first) && Cause.isDie(first.cause)).toBe(true)
        expect(yield* breaker.state).toMatchObject({ _tag: "Closed", consecutiveFailures: 1 })
        yield* Effect.exit(breaker.withAdmission(thrower))
        expect(yield* tagOf(breaker)).toBe("Open")
        // half-open: the throwing probe fails and reopens; no probe stays in flight
        yield* breaker.halfOpenNow
        yield* Effect.exit(breaker.withAdmission(thrower))
        expect(yield* tagOf(breaker)).toBe("Open")
        yield* breaker.halfOpenNow
        expect(yield* breaker.withBreaker(Effect.succeed("ok"))).toBe("ok")
        expect(yield* tagOf(breaker)).toBe("Closed")
      }))

    it.effect("a predicate that throws counts the failure", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          consecutiveFailures: 1,
          isFailure: () => {
            throw new Error("bad predicate")
          }
        })
        yield* runSteps(breaker, "F")
        expect(yield* tagOf(breaker)).toBe("Open")
      }))

    it("countErrors counts defects and the errors the predicate accepts", () => {
      const countsBoom = CircuitBreaker.countErrors((error) => error === "boom")
      expect(countsBoom(Cause.fail("boom"))).toBe(true)
      expect(countsBoom(Cause.fail("caller"))).toBe(false)
      expect(countsBoom(Cause.die("defect"))).toBe(true)
      expect(countsBoom(Cause.parallel(Cause.fail("caller"), Cause.fail("boom")))).toBe(true)
    })
  })

  describe("transitions and stats", () => {
    it.scoped("publishes every transition in order, and counts them", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          consecutiveFailures: 2,
          openDuration: "5 seconds",
          halfOpenSuccesses: 2
        })
        const subscription = yield* breaker.subscribe
        yield* runSteps(breaker, "SFF") // Closed → Open
        yield* runSteps(breaker, "S") // rejected
        yield* TestClock.adjust("5 seconds")
        yield* runSteps(breaker, "F") // Open → HalfOpen → Open
        yield* breaker.halfOpenNow // Open → HalfOpen
        yield* runSteps(breaker, "SS") // HalfOpen → Closed
        yield* breaker.isolate // Closed → Isolated
        yield* breaker.release // Isolated → HalfOpen
        yield* breaker.reset // HalfOpen → Closed

        const transitions = yield* subscription.takeAll
        expect(Array.from(transitions)).toEqual([
          { from: "Closed", to: "Open", at: 0, reason: "ConsecutiveFailures", retryAt: 5000 },
          { from: "Open", to: "HalfOpen", at: 5000, reason: "OpenElapsed" },
          { from: "HalfOpen", to: "Open", at: 5000, reason: "ProbeFailed", retryAt: 10_000 },
          { from: "Open", to: "HalfOpen", at: 5000, reason: "HalfOpenNow" },
          { from: "HalfOpen", to: "Closed", at: 5000, reason: "ProbesSucceeded" },
          { from: "Closed", to: "Isolated", at: 5000, reason: "Isolate" },
          { from: "Isolated", to: "HalfOpen", at: 5000, reason: "Release" },
          { from: "HalfOpen", to: "Closed", at: 5000, reason: "Reset" }
        ])
        const stats = yield* breaker.stats
        expect(stats).toEqual({
          state: {
            _tag: "Closed",
            since: 5000,
            consecutiveFailures: 0,
            windowCalls: 0,
            windowFailures: 0,
            windowSlowCalls: 0
          },
          calls: 6,
          successes: 3,
          failures: 3,
          ignored: 0,
          interrupted: 0,
          slowCalls: 0,
          rejected: 1,
          opened: 2,
          halfOpened: 3,
          closed: 2,
          isolated: 1
        })
      }))

    it.effect("the transitions stream delivers transitions that happen while it runs", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ consecutiveFailures: 1 })
        const collected = yield* Effect.fork(
          breaker.transitions.pipe(Stream.take(2), Stream.runCollect, Effect.map(Chunk.toReadonlyArray))
        )
        yield* settle
        yield* runSteps(breaker, "F")
        yield* breaker.reset
        const transitions = yield* Fiber.join(collected)
        expect(transitions.map((t) => `${t.from}→${t.to}:${t.reason}`)).toEqual([
          "Closed→Open:ConsecutiveFailures",
          "Open→Closed:Reset"
        ])
      }))

    it.effect("transitions decode with the Transition and Stats schemas", () =>
      Effect.gen(function*() {
        const breaker = yield* tripped()
        const stats = yield* breaker.stats
        expect(Schema.is(CircuitBreaker.Stats)(stats)).toBe(true)
        expect(Schema.is(CircuitBreaker.State)(stats.state)).toBe(true)
        expect(Schema.is(CircuitBreaker.Transition)({ from: "Closed", to: "Open", at: 1, reason: "FailureRate" })).toBe(
          true
        )
        expect(Schema.is(CircuitBreaker.Transition)({ from: "Closed", to: "Shut", at: 1, reason: "FailureRate" })).toBe(
          false
        )
      }))
  })

  describe("constructors", () => {
    it.effect("withBreaker is dual", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make()
        const a = yield* Effect.succeed(1).pipe(CircuitBreaker.withBreaker(breaker))
        const b = yield* CircuitBreaker.withBreaker(Effect.succeed(2), breaker)
        expect(a + b).toBe(3)
        expect((yield* breaker.stats).successes).toBe(2)
      }))

    it.effect("layer provides a breaker through the CircuitBreaker tag", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.CircuitBreaker
        yield* runSteps(breaker, "F")
        return expect(yield* tagOf(breaker)).toBe("Open")
      }).pipe(Effect.provide(CircuitBreaker.layer({ consecutiveFailures: 1 }))))

    it.effect("make dies with IllegalArgumentException naming every bad option", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(
          CircuitBreaker.make({ consecutiveFailures: 0, halfOpenProbes: 1.5, window: CircuitBreaker.countWindow(0) })
        )
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        const message = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
        expect(message).toContain("IllegalArgumentException")
        expect(message).toContain("consecutiveFailures")
        expect(message).toContain("halfOpenProbes")
        expect(message).toContain("window size")
      }))

    it.effect("config reads the options and layerConfig builds a breaker from them", () =>
      Effect.gen(function*() {
        const provider = ConfigProvider.fromJson({
          breaker: { consecutiveFailures: 2, windowSize: 4, openDuration: "3 seconds", halfOpenProbes: 1 }
        })
        const options = yield* Effect.withConfigProvider(Config.nested(CircuitBreaker.config, "breaker"), provider)
        expect(options).toMatchObject({ consecutiveFailures: 2, window: { _tag: "Count", size: 4 }, halfOpenProbes: 1 })
        const breaker = yield* CircuitBreaker.CircuitBreaker.pipe(
          Effect.provide(CircuitBreaker.layerConfig(Config.nested(CircuitBreaker.config, "breaker"))),
          Effect.withConfigProvider(provider)
        )
        yield* runSteps(breaker, "FF")
        expect(yield* breaker.state).toMatchObject({ _tag: "Open", retryAt: 3000 })
      }))

    it.effect("config fails with a ConfigError on a bad value", () =>
      Effect.gen(function*() {
        const read = (json: object) =>
          Effect.withConfigProvider(CircuitBreaker.config, ConfigProvider.fromJson(json)).pipe(Effect.either)
        const rate = yield* read({ failureRateThreshold: -1 })
        expect(Either.isLeft(rate) && String(rate.left)).toContain("failureRateThreshold")
        const both = yield* read({ windowSize: 10, windowDuration: "10 seconds" })
        expect(Either.isLeft(both) && String(both.left)).toContain("not both")
        const duration = yield* read({ openDuration: "soon" })
        expect(Either.isLeft(duration)).toBe(true)
        expect(Either.isRight(yield* read({}))).toBe(true)
      }))
  })
})
