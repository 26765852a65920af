import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Clock,
  Duration,
  Effect,
  Exit,
  FastCheck,
  Fiber,
  Option,
  Random,
  Ref,
  Schedule,
  TestClock
} from "effect"
import * as IdServiceError from "../src/IdServiceError.ts"
import * as Retry from "../src/Retry.ts"

// -----------------------------------------------------------------------------
// Harness: run a call under the policy on the TestClock and record when each attempt started.
// -----------------------------------------------------------------------------

interface Observed<A, E> {
  /** Clock time at which each attempt started, from the start of the observation. */
  readonly times: ReadonlyArray<number>
  /** Time between consecutive attempts: the delays the policy really applied. */
  readonly gaps: ReadonlyArray<number>
  /** Clock time at which the retried effect finished, from the start of the observation. */
  readonly endedAt: number
  readonly exit: Exit.Exit<A, E>
}

const gapsOf = (times: ReadonlyArray<number>): Array<number> => times.slice(1).map((t, i) => t - times[i]!)

/**
 * Runs `call(attempt)` (attempt from 1) retried by `retried`, with the given `Random`, lets the
 * TestClock run two days ahead, and reports the attempt times.
 */
const observe = <A, E>(
  call: (attempt: number) => Effect.Effect<A, E>,
  retried: (self: Effect.Effect<A, E>) => Effect.Effect<A, E>,
  random: Random.Random = Random.make("retry-tests")
) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const times: Array<number> = []
    const attempt = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      times.push(now - start)
      return call(times.length)
    })
    const fiber = yield* retried(attempt).pipe(
      Effect.exit,
      Effect.zip(Clock.currentTimeMillis),
      Effect.withRandom(random),
      Effect.fork
    )
    yield* TestClock.adjust(Duration.days(2))
    const [exit, endedAt] = yield* Fiber.join(fiber)
    return { times, gaps: gapsOf(times), endedAt: endedAt - start, exit } satisfies Observed<A, E>
  })

/** Like `observe`, but without moving the clock: for policies that must give up without waiting. */
const observeWithoutWaiting = <A, E>(
  call: (attempt: number) => Effect.Effect<A, E>,
  retried: (self: Effect.Effect<A, E>) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const attempts = yield* Ref.make(0)
    const fiber = yield* retried(Effect.flatMap(Ref.updateAndGet(attempts, (n) => n + 1), call)).pipe(
      Effect.exit,
      Effect.fork
    )
    yield* TestClock.adjust(Duration.zero) // lets the fiber run until it finishes or sleeps
    const done = yield* Fiber.poll(fiber)
    yield* Fiber.interrupt(fiber)
    const exit = Option.flatMap(done, (outer) => Exit.isSuccess(outer) ? Option.some(outer.value) : Option.none())
    return { attempts: yield* Ref.get(attempts), exit }
  })

const unavailable = (attempt: number, retryAfterMs?: number) =>
  new IdServiceError.ServiceUnavailable({
    message: `503 on attempt ${attempt}`,
    status: 503,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs })
  })

const rateLimited = (attempt: number, retryAfterMs: number) =>
  new IdServiceError.RateLimited({ message: `429 on attempt ${attempt}`, retryAfterMs })

const alwaysUnavailable = (attempt: number) => Effect.fail(unavailable(attempt))

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E =>
  Exit.match(exit, {
    onFailure: (cause) =>
      Option.getOrThrowWith(Cause.failureOption(cause), () => new Error(`expected a failure, got ${cause}`)),
    onSuccess: (value) => {
      throw new Error(`expected a failure, got ${String(value)}`)
    }
  })

/** Upper bound of the n-th (from 0) full-jitter / no-jitter delay: `base * factor^n` capped, in whole ms. */
const ceiling = (base: number, factor: number, cap: number, n: number) => Math.floor(Math.min(cap, base * factor ** n))

const seeds = Array.from({ length: 60 }, (_, i) => i)

// -----------------------------------------------------------------------------

describe("Retry", () => {
  describe("defaults", () => {
    it("are the documented ones", () => {
      expect(Duration.toMillis(Retry.defaults.base)).toBe(100)
      expect(Retry.defaults.factor).toBe(2)
      expect(Duration.toMillis(Retry.defaults.maxDelay)).toBe(5000)
      expect(Retry.defaults.maxRetries).toBe(3)
      expect(Duration.toMillis(Retry.defaults.deadline)).toBe(10_000)
      expect(Retry.defaults.jitter).toBe("full")
      expect(Retry.defaults.while).toBe(IdServiceError.isRetryable)
      const asOptions: Required<Retry.Options> = Retry.defaults
      expect(asOptions.maxRetries).toBe(3)
    })

    it.effect("retry 3 times with full jitter under 100/200/400 ms", () =>
      Effect.gen(function*() {
        for (const seed of seeds.slice(0, 20)) {
          const { exit, gaps, times } = yield* observe(alwaysUnavailable, Retry.retry(), Random.make(seed))
          expect(times).toHaveLength(4)
          gaps.forEach((gap, n) => {
            expect(gap).toBeGreaterThanOrEqual(0)
            expect(gap).toBeLessThanOrEqual(100 * 2 ** n)
          })
          expect(failureOf(exit).message).toBe("503 on attempt 4")
        }
      }))
  })

  describe("backoff", () => {
    it.effect("jitter \"none\" waits exactly base * factor^n, capped at maxDelay", () =>
      Effect.gen(function*() {
        const { exit, gaps } = yield* observe(
          alwaysUnavailable,
          Retry.retry({ jitter: "none", base: "100 millis", factor: 2, maxDelay: "1 second", maxRetries: 6 })
        )
        expect(gaps).toEqual([100, 200, 400, 800, 1000, 1000])
        expect(failureOf(exit).message).toBe("503 on attempt 7")
      }))

    it.effect("jitter \"none\" honours another factor", () =>
      Effect.gen(function*() {
        const { gaps } = yield* observe(
          alwaysUnavailable,
          Retry.retry({ jitter: "none", base: "10 millis", factor: 3, maxRetries: 4 })
        )
        expect(gaps).toEqual([10, 30, 90, 270])
      }))

    it.effect("full jitter stays within [0, min(cap, base * factor^n)] over many seeds", () =>
      Effect.gen(function*() {
        const firstGaps: Array<number> = []
        for (const seed of seeds) {
          const { gaps } = yield* observe(
            alwaysUnavailable,
            Retry.retry({
              jitter: "full",
              base: 100,
              factor: 2,
              maxDelay: 2000,
              maxRetries: 7,
              deadline: Duration.infinity
            }),
            Random.make(seed)
          )
          expect(gaps).toHaveLength(7)
          gaps.forEach((gap, n) => {
            expect(Number.isInteger(gap)).toBe(true)
            expect(gap).toBeGreaterThanOrEqual(0)
            expect(gap).toBeLessThanOrEqual(ceiling(100, 2, 2000, n))
          })
          firstGaps.push(gaps[0]!)
        }
        // really random and spread over the whole range, not pinned to a bound
        const mean = firstGaps.reduce((a, b) => a + b, 0) / firstGaps.length
        expect(mean).toBeGreaterThan(35)
        expect(mean).toBeLessThan(65)
        expect(new Set(firstGaps).size).toBeGreaterThan(30)
        expect(Math.min(...firstGaps)).toBeLessThan(15)
        expect(Math.max(...firstGaps)).toBeGreaterThan(85)
      }))

    it.effect("full jitter reaches both ends of its range", () =>
      Effect.gen(function*() {
        const options = { jitter: "full", base: 100, maxDelay: 1000, maxRetries: 5 } as const
        const low = yield* observe(alwaysUnavailable, Retry.retry(options), Random.fixed([0]))
        expect(low.gaps).toEqual([0, 0, 0, 0, 0])
        const high = yield* observe(alwaysUnavailable, Retry.retry(options), Random.fixed([0.999999]))
        expect(high.gaps).toEqual([100, 200, 400, 800, 1000])
      }))

    it.effect("the same seed gives the same delays", () =>
      Effect.gen(function*() {
        const options = { maxRetries: 5, deadline: Duration.infinity }
        const a = yield* observe(alwaysUnavailable, Retry.retry(options), Random.make(42))
        const b = yield* observe(alwaysUnavailable, Retry.retry(options), Random.make(42))
        const c = yield* observe(alwaysUnavailable, Retry.retry(options), Random.make(43))
        expect(a.gaps).toEqual(b.gaps)
        expect(a.gaps).not.toEqual(c.gaps)
      }))

    it.effect("decorrelated jitter stays within [base, min(cap, previous * 3)] over many seeds", () =>
      Effect.gen(function*() {
        const spread = new Set<number>()
        for (const seed of seeds) {
          const { gaps } = yield* observe(
            alwaysUnavailable,
            Retry.retry({
              jitter: "decorrelated",
              base: 100,
              maxDelay: 3000,
              maxRetries: 8,
              deadline: Duration.infinity
            }),
            Random.make(seed)
          )
          expect(gaps).toHaveLength(8)
          let previous = 100
          for (const gap of gaps) {
            expect(Number.isInteger(gap)).toBe(true)
            expect(gap).toBeGreaterThanOrEqual(100)
            expect(gap).toBeLessThanOrEqual(Math.min(3000, previous * 3))
            previous = gap
          }
          spread.add(gaps[1]!)
        }
        expect(spread.size).toBeGreaterThan(30)
      }))

    it.effect("decorrelated jitter reaches both ends of its range", () =>
      Effect.gen(function*() {
        const options = {
          jitter: "decorrelated",
          base: 100,
          maxDelay: 5000,
          maxRetries: 5,
          deadline: Duration.infinity
        } as const
        const low = yield* observe(alwaysUnavailable, Retry.retry(options), Random.fixed([0]))
        expect(low.gaps).toEqual([100, 100, 100, 100, 100])
        const high = yield* observe(alwaysUnavailable, Retry.retry(options), Random.fixed([0.999999]))
        expect(high.gaps).toEqual([300, 900, 2700, 5000, 5000])
      }))

    it.effect.prop(
      "any settings: exactly maxRetries retries, each delay within its jitter bounds",
      {
        base: FastCheck.integer({ min: 1, max: 1000 }),
        factor: FastCheck.double({ min: 1, max: 4, noNaN: true }),
        cap: FastCheck.integer({ min: 1, max: 20_000 }),
        maxRetries: FastCheck.integer({ min: 0, max: 8 }),
        jitter: FastCheck.constantFrom<Retry.Jitter>("full", "decorrelated", "none"),
        seed: FastCheck.integer()
      },
      ({ base, cap, factor, jitter, maxRetries, seed }) =>
        Effect.gen(function*() {
          const { exit, gaps } = yield* observe(
            alwaysUnavailable,
            Retry.retry({ base, factor, maxDelay: cap, maxRetries, jitter, deadline: Duration.infinity }),
            Random.make(seed)
          )
          expect(gaps).toHaveLength(maxRetries)
          expect(failureOf(exit).message).toBe(`503 on attempt ${maxRetries + 1}`)
          let previous = base
          gaps.forEach((gap, n) => {
            expect(Number.isInteger(gap)).toBe(true)
            if (jitter === "none") expect(gap).toBe(ceiling(base, factor, cap, n))
            if (jitter === "full") {
              expect(gap).toBeGreaterThanOrEqual(0)
              expect(gap).toBeLessThanOrEqual(ceiling(base, factor, cap, n))
            }
            if (jitter === "decorrelated") {
              expect(gap).toBeGreaterThanOrEqual(Math.min(base, cap))
              expect(gap).toBeLessThanOrEqual(Math.min(cap, previous * 3))
            }
            previous = gap
          })
        }),
      { fastCheck: { numRuns: 60 } }
    )
  })

  describe("bounds", () => {
    it.effect("makes exactly maxRetries retries, then fails with the last error", () =>
      Effect.gen(function*() {
        for (const maxRetries of [0, 1, 2, 5]) {
          const { exit, times } = yield* observe(alwaysUnavailable, Retry.retry({ maxRetries }))
          expect(times).toHaveLength(maxRetries + 1)
          expect(failureOf(exit).message).toBe(`503 on attempt ${maxRetries + 1}`)
        }
      }))

    it.effect("a negative maxRetries means no retry", () =>
      Effect.gen(function*() {
        const { times } = yield* observe(alwaysUnavailable, Retry.retry({ maxRetries: -2 }))
        expect(times).toHaveLength(1)
      }))

    it.effect("succeeds as soon as an attempt does", () =>
      Effect.gen(function*() {
        const { exit, times } = yield* observe(
          (attempt) => attempt < 3 ? Effect.fail(unavailable(attempt)) : Effect.succeed(`ok on ${attempt}`),
          Retry.retry({ maxRetries: 5 })
        )
        expect(times).toHaveLength(3)
        expect(exit).toEqual(Exit.succeed("ok on 3"))
      }))

    it.effect("no retry starts after the deadline, counted from the first call", () =>
      Effect.gen(function*() {
        const options = { jitter: "none", base: "1 second", factor: 2, maxRetries: 10 } as const
        // attempts at 0, 1000, 3000; the next would start at 7000
        const within = yield* observe(alwaysUnavailable, Retry.retry({ ...options, deadline: "5 seconds" }))
        expect(within.times).toEqual([0, 1000, 3000])
        expect(within.endedAt).toBe(3000) // gave up at once, did not wait for 7000
        // a retry that would start exactly at the deadline is still made
        const exact = yield* observe(alwaysUnavailable, Retry.retry({ ...options, deadline: "3 seconds" }))
        expect(exact.times).toEqual([0, 1000, 3000])
        const justBefore = yield* observe(alwaysUnavailable, Retry.retry({ ...options, deadline: 2999 }))
        expect(justBefore.times).toEqual([0, 1000])
        expect(justBefore.endedAt).toBe(1000)
      }))

    it.effect("the deadline of retry counts the first call, the Schedule's the first failure", () =>
      Effect.gen(function*() {
        // each attempt takes 500 ms; the first retry would start at 500 + 1000 = 1500
        const slow = (attempt: number) => Effect.zipRight(Effect.sleep("500 millis"), alwaysUnavailable(attempt))
        const options = { jitter: "none", base: "1 second", maxRetries: 1, deadline: "1200 millis" } as const
        const viaRetry = yield* observe(slow, Retry.retry(options))
        expect(viaRetry.times).toEqual([0])
        expect(viaRetry.endedAt).toBe(500)
        const viaSchedule = yield* observe(slow, (self) => Effect.retry(self, Retry.schedule(options)))
        expect(viaSchedule.times).toEqual([0, 1500])
      }))

    it.effect("Duration.infinity disables the deadline", () =>
      Effect.gen(function*() {
        const { times } = yield* observe(
          alwaysUnavailable,
          Retry.retry({ jitter: "none", base: "1 hour", maxDelay: "1 day", maxRetries: 3, deadline: Duration.infinity })
        )
        expect(times).toEqual([0, 3_600_000, 10_800_000, 25_200_000])
      }))

    it.effect("an unbounded backoff (no cap) is stopped by the deadline, not shortened", () =>
      Effect.gen(function*() {
        for (const jitter of ["full", "none"] as const) {
          const { endedAt, times } = yield* observe(
            alwaysUnavailable,
            Retry.retry({ jitter, base: 100, factor: 1e308, maxDelay: Duration.infinity, maxRetries: 5 })
          )
          expect(times).toHaveLength(2)
          expect(times[1]).toBeLessThanOrEqual(100)
          expect(endedAt).toBe(times[1])
        }
      }))

    it.effect("maxRetries Infinity: only the deadline bounds, long after base * factor^n overflows", () =>
      Effect.gen(function*() {
        const { times } = yield* observe(
          alwaysUnavailable,
          Retry.retry({
            jitter: "none",
            base: 1000,
            factor: 1e10,
            maxDelay: "1 second",
            maxRetries: Infinity,
            deadline: "1 minute"
          })
        )
        expect(times).toEqual(Array.from({ length: 61 }, (_, i) => i * 1000))
      }))

    it.effect.prop(
      "the deadline bounds when the last attempt starts",
      {
        deadline: FastCheck.integer({ min: 0, max: 10_000 }),
        maxRetries: FastCheck.integer({ min: 0, max: 20 }),
        seed: FastCheck.integer()
      },
      ({ deadline, maxRetries, seed }) =>
        Effect.gen(function*() {
          const { endedAt, gaps, times } = yield* observe(
            alwaysUnavailable,
            Retry.retry({ base: 200, maxDelay: 3000, maxRetries, deadline }),
            Random.make(seed)
          )
          expect(times.at(-1)!).toBeLessThanOrEqual(deadline)
          expect(endedAt).toBe(times.at(-1))
          expect(gaps.length).toBeLessThanOrEqual(maxRetries)
        }),
      { fastCheck: { numRuns: 40 } }
    )
  })

  describe("which failures", () => {
    const nonRetryable = [
      new IdServiceError.InvalidRequest({ message: "bad", status: 400 }),
      new IdServiceError.Unauthorized({ message: "no", status: 401 }),
      new IdServiceError.IdempotencyConflict({ message: "409" }),
      new IdServiceError.MalformedResponse({ message: "not JSON", endpoint: "mint", status: 200 }),
      new IdServiceError.CircuitOpen({ message: "open", retryAt: 60_000 }),
      new IdServiceError.RequestTimeout({ message: "too slow overall", timeoutMs: 10_000, scope: "overall" })
    ]
    const retryable = [
      new IdServiceError.ServiceUnavailable({ message: "503", status: 503 }),
      new IdServiceError.RateLimited({ message: "429" }),
      new IdServiceError.RequestTimeout({ message: "attempt too slow", timeoutMs: 5000, scope: "attempt" }),
      new IdServiceError.ConnectionError({ message: "reset" }),
      new IdServiceError.MintUnavailable({
        message: "fallback",
        errorCode: "MINT_UNAVAILABLE",
        fallbackId: "03-0-ERR-0001-T-2602-0-25"
      })
    ]

    it.effect("non-retryable failures fail after one attempt, without waiting", () =>
      Effect.gen(function*() {
        for (const error of nonRetryable) {
          const { attempts, exit } = yield* observeWithoutWaiting(() => Effect.fail(error), Retry.retry())
          expect(attempts).toBe(1)
          expect(exit).toEqual(Option.some(Exit.fail(error)))
        }
      }))

    it.effect("retryable failures are retried", () =>
      Effect.gen(function*() {
        for (const error of retryable) {
          const { exit, times } = yield* observe(() => Effect.fail(error), Retry.retry())
          expect(times).toHaveLength(4)
          expect(exit).toEqual(Exit.fail(error))
        }
      }))

    it.effect("stops at the first non-retryable failure", () =>
      Effect.gen(function*() {
        const conflict = new IdServiceError.IdempotencyConflict({ message: "409" })
        const { exit, times } = yield* observe(
          (attempt): Effect.Effect<never, IdServiceError.IdServiceError> =>
            attempt < 2 ? Effect.fail(unavailable(attempt)) : Effect.fail(conflict),
          Retry.retry({ maxRetries: 5 })
        )
        expect(times).toHaveLength(2)
        expect(exit).toEqual(Exit.fail(conflict))
      }))

    it.effect("a custom while decides instead", () =>
      Effect.gen(function*() {
        const { exit, times } = yield* observe(
          (attempt) => Effect.fail(attempt < 3 ? `transient ${attempt}` : `fatal ${attempt}`),
          Retry.retry({ while: (error: string) => error.startsWith("transient"), maxRetries: 5 })
        )
        expect(times).toHaveLength(3)
        expect(exit).toEqual(Exit.fail("fatal 3"))
        // and can retry what the default would not
        const malformed = new IdServiceError.MalformedResponse({ message: "x", endpoint: "mint", status: 200 })
        const retried = yield* observe(() => Effect.fail(malformed), Retry.retry({ while: () => true }))
        expect(retried.times).toHaveLength(4)
      }))
  })

  describe("Retry-After", () => {
    it.effect("is a floor on the next delay", () =>
      Effect.gen(function*() {
        const { gaps } = yield* observe(
          (attempt) => Effect.fail(rateLimited(attempt, 1500)),
          Retry.retry({ jitter: "none", base: 100 })
        )
        expect(gaps).toEqual([1500, 1500, 1500])
      }))

    it.effect("does not shorten a longer backoff", () =>
      Effect.gen(function*() {
        const { gaps } = yield* observe(
          (attempt) => Effect.fail(unavailable(attempt, 150)),
          Retry.retry({ jitter: "none", base: 100 })
        )
        expect(gaps).toEqual([150, 200, 400])
      }))

    it.effect("is honoured above the cap", () =>
      Effect.gen(function*() {
        const { gaps } = yield* observe(
          (attempt) => Effect.fail(rateLimited(attempt, 3000)),
          Retry.retry({ jitter: "none", maxDelay: "1 second", maxRetries: 2 })
        )
        expect(gaps).toEqual([3000, 3000])
      }))

    it.effect("applies only to the failure that carries it", () =>
      Effect.gen(function*() {
        const { gaps } = yield* observe(
          (attempt) => Effect.fail(attempt === 2 ? unavailable(attempt, 2500) : unavailable(attempt)),
          Retry.retry({ jitter: "none", base: 100 })
        )
        expect(gaps).toEqual([100, 2500, 400])
      }))

    it.effect("no retry comes earlier than Retry-After, whatever the jitter", () =>
      Effect.gen(function*() {
        for (const seed of seeds.slice(0, 20)) {
          for (const jitter of ["full", "decorrelated"] as const) {
            const { gaps } = yield* observe(
              (attempt) => Effect.fail(rateLimited(attempt, 700)),
              Retry.retry({ jitter, base: 400, maxRetries: 4, deadline: Duration.infinity }),
              Random.make(seed)
            )
            expect(gaps).toHaveLength(4)
            for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(700)
          }
        }
      }))

    it.effect("beyond the deadline: gives up at once with that failure", () =>
      Effect.gen(function*() {
        const { attempts, exit } = yield* observeWithoutWaiting(
          (attempt) => Effect.fail(rateLimited(attempt, 20_000)),
          Retry.retry({ deadline: "10 seconds" })
        )
        expect(attempts).toBe(1)
        expect(exit).toEqual(Option.some(Exit.fail(rateLimited(1, 20_000))))
      }))

    it.effect("beyond what is left of the deadline: gives up after the retries that fit", () =>
      Effect.gen(function*() {
        const { endedAt, exit, times } = yield* observe(
          (attempt) => Effect.fail(attempt === 3 ? rateLimited(attempt, 5000) : unavailable(attempt)),
          Retry.retry({ jitter: "none", base: 1000, deadline: "7 seconds", maxRetries: 5 })
        )
        // 0, 1000, 3000; then Retry-After 5000 would start the next at 8000 > 7000
        expect(times).toEqual([0, 1000, 3000])
        expect(endedAt).toBe(3000)
        expect(failureOf(exit)).toEqual(rateLimited(3, 5000))
      }))
  })

  describe("onRetry", () => {
    it.effect("is told each retry's attempt, delay and error, before the wait", () =>
      Effect.gen(function*() {
        const seen: Array<{ attempt: number; delay: number; error: string; at: number }> = []
        const { gaps, times } = yield* observe(
          (attempt) => Effect.fail(attempt === 2 ? unavailable(attempt, 900) : unavailable(attempt)),
          Retry.retry<IdServiceError.ServiceUnavailable>({
            maxRetries: 3,
            onRetry: ({ attempt, delay, error }) =>
              Effect.map(Clock.currentTimeMillis, (at) => {
                seen.push({ attempt, delay: Duration.toMillis(delay), error: error.message, at })
              })
          }),
          Random.make(7)
        )
        expect(times).toHaveLength(4)
        expect(seen).toEqual([
          { attempt: 1, delay: gaps[0], error: "503 on attempt 1", at: times[0] },
          { attempt: 2, delay: gaps[1], error: "503 on attempt 2", at: times[1] },
          { attempt: 3, delay: gaps[2], error: "503 on attempt 3", at: times[2] }
        ])
        expect(seen[1]!.delay).toBeGreaterThanOrEqual(900)
      }))

    it.effect("is not called when the policy gives up", () =>
      Effect.gen(function*() {
        const calls = yield* Ref.make(0)
        const onRetry = () => Ref.update(calls, (n) => n + 1)
        yield* observeWithoutWaiting(
          () => Effect.fail(new IdServiceError.Unauthorized({ message: "no" })),
          Retry.retry({ onRetry })
        )
        expect(yield* Ref.get(calls)).toBe(0)
        yield* observeWithoutWaiting((attempt) => Effect.fail(rateLimited(attempt, 60_000)), Retry.retry({ onRetry }))
        expect(yield* Ref.get(calls)).toBe(0)
        yield* observe(alwaysUnavailable, Retry.retry({ onRetry, maxRetries: 2 }))
        expect(yield* Ref.get(calls)).toBe(2)
      }))
  })

  describe("schedule", () => {
    it.effect("works with Effect.retry and applies the same delays as retry", () =>
      Effect.gen(function*() {
        const options = { maxRetries: 4, jitter: "decorrelated" } as const
        const viaSchedule = yield* observe(
          alwaysUnavailable,
          (self) => Effect.retry(self, Retry.schedule(options)),
          Random.make(3)
        )
        const viaRetry = yield* observe(alwaysUnavailable, Retry.retry(options), Random.make(3))
        expect(viaSchedule.gaps).toEqual(viaRetry.gaps)
        expect(viaSchedule.exit).toEqual(viaRetry.exit)
      }))

    it.effect("outputs the Info of each retry", () =>
      Effect.gen(function*() {
        const outputs = yield* Effect.gen(function*() {
          const driver = yield* Schedule.driver(
            Retry.schedule<string>({ jitter: "none", maxRetries: 2, while: () => true })
          )
          const first = yield* driver.next("a")
          const second = yield* driver.next("b")
          const third = yield* Effect.either(driver.next("c"))
          return { first, second, third }
        }).pipe(Effect.fork, Effect.tap(() => TestClock.adjust("1 second")), Effect.flatMap(Fiber.join))
        expect(outputs.first).toEqual({ attempt: 1, delay: Duration.millis(100), error: "a" })
        expect(outputs.second).toEqual({ attempt: 2, delay: Duration.millis(200), error: "b" })
        expect(outputs.third._tag).toBe("Left")
      }))

    it.effect("retry keeps the effect's types, data-first and data-last", () =>
      Effect.gen(function*() {
        const call: Effect.Effect<number, IdServiceError.IdServiceError> = Effect.succeed(1)
        const piped: Effect.Effect<number, IdServiceError.IdServiceError> = call.pipe(Retry.retry())
        const direct: Effect.Effect<number, IdServiceError.IdServiceError> = Retry.retry(call, { maxRetries: 1 })
        expect(yield* piped).toBe(1)
        expect(yield* direct).toBe(1)
      }))
  })

  describe("parseRetryAfter", () => {
    const now = Date.UTC(1994, 10, 6, 8, 49, 0) // Sun, 06 Nov 1994 08:49:00 GMT

    it("reads delta-seconds", () => {
      expect(Retry.parseRetryAfter("120", now)).toEqual(Option.some(120_000))
      expect(Retry.parseRetryAfter("0", now)).toEqual(Option.some(0))
      expect(Retry.parseRetryAfter("007", now)).toEqual(Option.some(7000))
      expect(Retry.parseRetryAfter(" 5\t", now)).toEqual(Option.some(5000))
    })

    it("reads the three HTTP-date forms", () => {
      expect(Retry.parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)).toEqual(Option.some(37_000))
      expect(Retry.parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now)).toEqual(Option.some(37_000))
      expect(Retry.parseRetryAfter("Sun Nov  6 08:49:37 1994", now)).toEqual(Option.some(37_000))
      expect(Retry.parseRetryAfter("Mon Nov 07 08:49:00 1994", now)).toEqual(Option.some(86_400_000))
    })

    it("reads a two-digit year as RFC 9110 says", () => {
      const in2026 = Date.UTC(2026, 1, 1, 0, 0, 0)
      expect(Retry.parseRetryAfter("Sunday, 01-Feb-26 00:00:09 GMT", in2026)).toEqual(Option.some(9000))
      // 94 is not 2094 (more than 50 years ahead) but 1994: in the past
      expect(Retry.parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", in2026)).toEqual(Option.some(0))
    })

    it("reads a date in the past as no wait", () => {
      expect(Retry.parseRetryAfter("Sun, 06 Nov 1994 08:48:00 GMT", now)).toEqual(Option.some(0))
      expect(Retry.parseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT", now)).toEqual(Option.some(0))
    })

    it("caps absurd waits at one day", () => {
      expect(Retry.parseRetryAfter("86401", now)).toEqual(Option.some(86_400_000))
      expect(Retry.parseRetryAfter("99999999999999999999999", now)).toEqual(Option.some(86_400_000))
      expect(Retry.parseRetryAfter("Sun, 13 Nov 1994 08:49:00 GMT", now)).toEqual(Option.some(86_400_000))
    })

    it("rejects anything else", () => {
      for (
        const value of [
          "",
          " ",
          "-1",
          "+5",
          "1.5",
          "1e3",
          "5s",
          "soon",
          "0x10",
          "2026-02-01T00:00:00Z",
          "Sun, 06 Nov 1994 08:49:37 gmt",
          "Sun, 06 Nov 1994 08:49:37 UTC",
          "Sun, 06 Nov 1994 08:49:37",
          "Sun, 6 Nov 1994 08:49:37 GMT",
          "Sun, 31 Feb 1995 08:49:37 GMT",
          "Sun, 06 Nov 1994 24:00:00 GMT",
          "Sun, 06 Nov 1994 08:60:00 GMT",
          "Sun, 06 Foo 1994 08:49:37 GMT",
          "Funday, 06-Nov-94 08:49:37 GMT",
          "Sun Nov 6 08:49:37 1994",
          "1".repeat(65)
        ]
      ) {
        expect(Retry.parseRetryAfter(value, now), value).toEqual(Option.none())
      }
    })

    it.prop(
      "delta-seconds up to a day read as that many seconds",
      [FastCheck.integer({ min: 0, max: 86_400 })],
      ([seconds]) => {
        expect(Retry.parseRetryAfter(String(seconds), now)).toEqual(Option.some(seconds * 1000))
      }
    )

    it.prop(
      "an IMF-fixdate reads as the time from now to it (0 when past, at most a day)",
      [
        FastCheck.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }),
        FastCheck.integer({ min: -3 * 86_400, max: 3 * 86_400 })
      ],
      ([nowMs, offsetSeconds]) => {
        const date = Math.floor(nowMs / 1000) * 1000 + offsetSeconds * 1000
        const header = new Date(date).toUTCString()
        expect(Retry.parseRetryAfter(header, nowMs)).toEqual(
          Option.some(Math.min(86_400_000, Math.max(0, date - nowMs)))
        )
      }
    )
  })
})
