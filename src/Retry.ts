/**
 * The retry policy of `IdService`, as a `Schedule`.
 *
 * Exponential backoff (`base * factor^n`, each delay capped at `maxDelay`) with full or decorrelated
 * jitter drawn from Effect's `Random`, at most `maxRetries` retries, no retry that would start after the
 * `deadline`, only failures that `while` accepts (by default `IdServiceError.isRetryable`), and a
 * `Retry-After` sent by the service as a floor on the next delay. Every knob has a documented default
 * (see {@link defaults}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Retry from "effect-chittyid/Retry"
 * import { ServiceUnavailable } from "effect-chittyid/IdServiceError"
 *
 * const flaky = Effect.fail(new ServiceUnavailable({ message: "503", status: 503 }))
 *
 * // 100 ms doubling, capped at 5 s, full jitter, 3 retries, 10 s deadline
 * const resilient = flaky.pipe(Retry.retry())
 * // or as a plain Schedule
 * const same = Effect.retry(flaky, Retry.schedule())
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Interval from "effect/ScheduleInterval"
import * as Intervals from "effect/ScheduleIntervals"
import * as IdServiceError from "./IdServiceError.ts"

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * How a backoff delay is randomised.
 *
 * - `"full"`: uniform in `[0, min(maxDelay, base * factor^n)]` (spreads retries the most).
 * - `"decorrelated"`: AWS "decorrelated jitter", `next = min(maxDelay, uniform(base, previous * 3))`
 *   starting from `previous = base`; `factor` is not used.
 * - `"none"`: exactly `min(maxDelay, base * factor^n)`.
 *
 * @example
 * ```ts
 * import * as Retry from "effect-chittyid/Retry"
 * const jitter: Retry.Jitter = "decorrelated"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Jitter = "full" | "decorrelated" | "none"

/**
 * What the policy tells about a retry it is about to make: handed to `onRetry` and emitted as the
 * output of {@link schedule}.
 *
 * - `attempt`: the number of this retry, from 1 (the second call of the effect) to `maxRetries`.
 * - `delay`: how long the policy waits before it, Retry-After floor included.
 * - `error`: the failure that caused it.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import * as Retry from "effect-chittyid/Retry"
 * const info: Retry.Info<string> = { attempt: 1, delay: Duration.millis(87), error: "503" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Info<out E> {
  readonly attempt: number
  readonly delay: Duration.Duration
  readonly error: E
}

/**
 * The knobs of the policy. Every one is optional; a missing (or `undefined`) knob takes its value
 * from {@link defaults}.
 *
 * - `base`, `factor`: the backoff grows as `base * factor^n` for the `n`-th retry (from 0).
 * - `maxDelay`: the cap on each backoff delay. It does not lower a `Retry-After` floor.
 * - `maxRetries`: retries after the first call (`0`: never retry; `Infinity`: only the deadline bounds).
 * - `deadline`: no retry starts later than this after the first call (`retry`) or the first failure
 *   (`schedule`, which cannot see the first call). A retry whose delay would end past it is not made:
 *   the last failure is returned at once. `Duration.infinity` disables it.
 * - `jitter`: see {@link Jitter}.
 * - `while`: which failures are retried.
 * - `onRetry`: runs before the wait of each retry (not when the policy gives up).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Retry from "effect-chittyid/Retry"
 * import type { IdServiceError } from "effect-chittyid/IdServiceError"
 *
 * const options: Retry.Options<IdServiceError> = {
 *   base: "200 millis",
 *   maxRetries: 5,
 *   jitter: "decorrelated",
 *   onRetry: ({ attempt, error }) => Effect.logWarning(`retry ${attempt} after ${error._tag}`)
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E = unknown> {
  readonly base?: Duration.DurationInput | undefined
  readonly factor?: number | undefined
  readonly maxDelay?: Duration.DurationInput | undefined
  readonly maxRetries?: number | undefined
  readonly deadline?: Duration.DurationInput | undefined
  readonly jitter?: Jitter | undefined
  readonly while?: ((error: E) => boolean) | undefined
  readonly onRetry?: ((info: Info<E>) => Effect.Effect<void>) | undefined
}

/**
 * Every knob with its value: the type of {@link defaults}.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import * as Retry from "effect-chittyid/Retry"
 * const patient: Retry.Defaults = { ...Retry.defaults, maxRetries: 10, deadline: Duration.minutes(1) }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Defaults {
  readonly base: Duration.Duration
  readonly factor: number
  readonly maxDelay: Duration.Duration
  readonly maxRetries: number
  readonly deadline: Duration.Duration
  readonly jitter: Jitter
  readonly while: (error: unknown) => boolean
  readonly onRetry: (info: Info<unknown>) => Effect.Effect<void>
}

/**
 * The defaults: `base` 100 ms, `factor` 2, `maxDelay` 5 s (the earlier client's proven backoff, now
 * jittered), `maxRetries` 3, `deadline` 10 s, `jitter` `"full"`, `while` `IdServiceError.isRetryable`
 * (`ServiceUnavailable`, `RequestTimeout` per attempt, `ConnectionError`, `RateLimited`,
 * `MintUnavailable`), `onRetry` does nothing.
 *
 * With them a call waits at most 0.1 + 0.2 + 0.4 s between its four attempts, so the 10 s deadline only
 * bites when attempts are slow (timeouts) or the service asks for a long `Retry-After`.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import * as Retry from "effect-chittyid/Retry"
 * Duration.toMillis(Retry.defaults.maxDelay) // 5000
 * ```
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaults: Defaults = {
  base: Duration.millis(100),
  factor: 2,
  maxDelay: Duration.seconds(5),
  maxRetries: 3,
  deadline: Duration.seconds(10),
  jitter: "full",
  while: IdServiceError.isRetryable,
  onRetry: () => Effect.void
}

// -----------------------------------------------------------------------------
// The policy
// -----------------------------------------------------------------------------

interface Settings<E> {
  readonly baseMs: number
  readonly factor: number
  readonly maxDelayMs: number
  readonly maxRetries: number
  readonly deadlineMs: number
  readonly jitter: Jitter
  readonly while: (error: E) => boolean
  readonly onRetry: (info: Info<E>) => Effect.Effect<void>
}

const settings = <E>(options: Options<E> | undefined): Settings<E> => {
  const maxRetries = options?.maxRetries ?? defaults.maxRetries
  return {
    baseMs: Duration.toMillis(options?.base ?? defaults.base),
    factor: options?.factor ?? defaults.factor,
    maxDelayMs: Duration.toMillis(options?.maxDelay ?? defaults.maxDelay),
    maxRetries: maxRetries > 0 ? Math.floor(maxRetries) : 0,
    deadlineMs: Duration.toMillis(options?.deadline ?? defaults.deadline),
    jitter: options?.jitter ?? defaults.jitter,
    while: options?.while ?? defaults.while,
    onRetry: options?.onRetry ?? defaults.onRetry
  }
}

/**
 * A uniform whole number of milliseconds in `[low, high]`, from the `Random` service. An unbounded
 * `high` (no cap and an overflowing backoff) stays unbounded: the deadline, if any, then stops.
 */
const uniformMillis = (low: number, high: number): Effect.Effect<number> =>
  !Number.isFinite(high)
    ? Effect.succeed(high)
    : high > low
    ? Effect.map(Random.next, (r) => low + Math.floor(r * (high - low + 1)))
    : Effect.succeed(low)

/**
 * The backoff delay of each step, in whole milliseconds, as the output: the schedule itself does not
 * wait, the policy turns its final delay into the wait once (`Schedule.modifyDelay`). The exponential
 * is computed from `Schedule.forever`'s count rather than taken from `Schedule.exponential`, whose own
 * delay overflows to an empty interval after about a thousand steps and would make `intersect` spin.
 */
const backoff = (
  s: Pick<Settings<unknown>, "baseMs" | "factor" | "maxDelayMs" | "jitter">
): Schedule.Schedule<number> => {
  const exponential = (n: number) => {
    const raw = s.baseMs * s.factor ** n
    return Math.floor(Number.isNaN(raw) ? 0 : Math.min(s.maxDelayMs, raw))
  }
  switch (s.jitter) {
    case "none":
      return Schedule.map(Schedule.forever, exponential)
    case "full":
      return Schedule.mapEffect(Schedule.forever, (n) => uniformMillis(0, exponential(n)))
    case "decorrelated": {
      const base = Math.floor(s.baseMs)
      const cap = Math.floor(s.maxDelayMs)
      // State: the previous delay. AWS: sleep = min(cap, random_between(base, sleep * 3)).
      return Schedule.makeWithState(
        base,
        (now, _: unknown, previous: number) =>
          Effect.map(uniformMillis(base, previous * 3), (drawn) => {
            const next = Math.min(cap, drawn)
            return [next, next, ScheduleDecision.continueWith(Interval.after(now))] as const
          })
      )
    }
  }
}

/** `delay`, raised to the failure's `Retry-After` when it carries a larger one. */
const floorByRetryAfter = (delayMs: number, error: unknown): number => {
  const retryAfter = IdServiceError.retryAfterMs(error)
  return retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter > delayMs
    ? Math.ceil(retryAfter)
    : delayMs
}

/**
 * Stops `self` when its next recurrence would start later than `deadlineMs` after `startedAt` (or,
 * without it, after the first step).
 */
const withinDeadline = <Out, In, R>(
  self: Schedule.Schedule<Out, In, R>,
  deadlineMs: number,
  startedAt: number | undefined
): Schedule.Schedule<Out, In, R> =>
  Schedule.makeWithState(
    [self.initial, startedAt] as readonly [unknown, number | undefined],
    (now, input: In, [state, start = now]) =>
      Effect.map(self.step(now, input, state), ([next, out, decision]) =>
        [
          [next, start] as const,
          out,
          ScheduleDecision.isContinue(decision) && Intervals.start(decision.intervals) <= start + deadlineMs
            ? decision
            : ScheduleDecision.done
        ] as const)
  )

const make = <E>(s: Settings<E>, startedAt: number | undefined): Schedule.Schedule<Info<E>, E> => {
  const policy = backoff(s).pipe(
    Schedule.intersect(Schedule.identity<E>()),
    Schedule.intersect(Schedule.recurs(s.maxRetries)),
    Schedule.map(([[backoffMs, error], n]): Info<E> => ({
      attempt: n + 1,
      delay: Duration.millis(floorByRetryAfter(backoffMs, error)),
      error
    })),
    Schedule.modifyDelay((info) => info.delay),
    Schedule.whileInput(s.while)
  )
  const bounded = Number.isFinite(s.deadlineMs) ? withinDeadline(policy, s.deadlineMs, startedAt) : policy
  return Schedule.onDecision(
    bounded,
    (info, decision) => ScheduleDecision.isContinue(decision) ? s.onRetry(info) : Effect.void
  )
}

/**
 * The retry policy as a `Schedule` of failures, for `Effect.retry` (or `Effect.retryOrElse`, or any
 * other combinator of `Schedule`s). Its output is the {@link Info} of each retry.
 *
 * Used this way the deadline counts from the first failure, since a `Schedule` is not told when the
 * first call started; {@link retry} counts it from the first call.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Retry from "effect-chittyid/Retry"
 * import { ConnectionError } from "effect-chittyid/IdServiceError"
 *
 * const call = Effect.fail(new ConnectionError({ message: "reset" }))
 * const program = Effect.retry(call, Retry.schedule({ maxRetries: 2, jitter: "none" }))
 * // fails with the ConnectionError after waiting 100 ms, then 200 ms
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const schedule = <E>(options?: Options<E>): Schedule.Schedule<Info<E>, E> => make(settings(options), undefined)

/**
 * Retries an effect with the policy, keeping its success, failure and requirement types. When the
 * policy gives up, the effect fails with its last failure. The deadline counts from the first call.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Retry from "effect-chittyid/Retry"
 * import { RateLimited } from "effect-chittyid/IdServiceError"
 *
 * const call = Effect.fail(new RateLimited({ message: "slow down", retryAfterMs: 2000 }))
 * // no retry earlier than the 2 s the service asked for
 * const piped = call.pipe(Retry.retry({ maxRetries: 1 }))
 * const direct = Retry.retry(call, { maxRetries: 1 })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry: {
  <E = unknown>(options?: Options<E>): <A, E2 extends E, R>(self: Effect.Effect<A, E2, R>) => Effect.Effect<A, E2, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options?: Options<NoInfer<E>>): Effect.Effect<A, E, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(self: Effect.Effect<A, E, R>, options?: Options<E>): Effect.Effect<A, E, R> =>
    Effect.clockWith((clock) => {
      const startedAt = clock.unsafeCurrentTimeMillis()
      // The schedule and `Effect.retry`'s driver are built only once a first attempt has failed (most
      // calls succeed at once); that failure is replayed to the schedule as its first input.
      return Effect.catchAll(self, (first) => {
        let replay = true
        const attempts = Effect.suspend(() => {
          if (!replay) return self
          replay = false
          return Effect.fail(first)
        })
        return Effect.retry(attempts, make(settings(options), startedAt))
      })
    })
)

// -----------------------------------------------------------------------------
// Retry-After
// -----------------------------------------------------------------------------

/** The longest wait a `Retry-After` may ask for: one day. Longer values are cut down to it. */
const maxRetryAfterMs = 86_400_000

const dayNames = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
const longDayNames = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
const monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const
const months = monthNames.join("|")

const deltaSeconds = /^\d+$/
// IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
const imfFixdate = new RegExp(`^(?:${dayNames}), (\\d{2}) (${months}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`)
// obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
const rfc850Date = new RegExp(`^(?:${longDayNames}), (\\d{2})-(${months})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`)
// obsolete asctime (always UTC): Sun Nov  6 08:49:37 1994
const asctimeDate = new RegExp(`^(?:${dayNames}) (${months}) ([ \\d]\\d) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})$`)

/** Epoch milliseconds of a UTC date, if every field is in range (no 31 Feb). */
const utc = (
  year: number,
  month: string,
  day: number,
  hour: number,
  minute: number,
  second: number
): Option.Option<number> => {
  const monthIndex = monthNames.findIndex((name) => name === month)
  if (monthIndex < 0 || hour > 23 || minute > 59 || second > 60) return Option.none()
  const date = new Date(Date.UTC(year, monthIndex, day, hour, minute, second))
  if (year < 100) date.setUTCFullYear(year) // Date.UTC reads years 0-99 as 1900-1999
  return date.getUTCDate() === day && date.getUTCMonth() === monthIndex ? Option.some(date.getTime()) : Option.none()
}

/** RFC 9110: a two-digit year more than 50 years in the future means the latest such year in the past. */
const fullYear = (twoDigits: number, nowMs: number): number => {
  const thisYear = new Date(nowMs).getUTCFullYear()
  const candidate = thisYear - (thisYear % 100) + twoDigits
  return candidate > thisYear + 50 ? candidate - 100 : candidate
}

const httpDate = (value: string, nowMs: number): Option.Option<number> => {
  const imf = imfFixdate.exec(value)
  if (imf !== null) {
    const [, day, month, year, hour, minute, second] = imf
    return utc(Number(year), month!, Number(day), Number(hour), Number(minute), Number(second))
  }
  const rfc850 = rfc850Date.exec(value)
  if (rfc850 !== null) {
    const [, day, month, year, hour, minute, second] = rfc850
    if (!Number.isFinite(nowMs)) return Option.none()
    return utc(fullYear(Number(year), nowMs), month!, Number(day), Number(hour), Number(minute), Number(second))
  }
  const asctime = asctimeDate.exec(value)
  if (asctime !== null) {
    const [, month, day, hour, minute, second, year] = asctime
    return utc(Number(year), month!, Number(day!.trim()), Number(hour), Number(minute), Number(second))
  }
  return Option.none()
}

/**
 * Reads a `Retry-After` header value as the number of milliseconds to wait from `nowMs` (epoch
 * milliseconds, e.g. from `Clock.currentTimeMillis`).
 *
 * Accepts delay-seconds (`"120"`) and the three HTTP-date forms of RFC 9110 (IMF-fixdate
 * `"Sun, 06 Nov 1994 08:49:37 GMT"`, the obsolete RFC 850 and asctime forms), with optional
 * surrounding spaces. A date in the past means "now": `Some(0)`, as `"0"` does. Anything else
 * (negative or fractional numbers, other date formats, an impossible date, more than 64 characters) is
 * `None`. Waits longer than one day are cut down to one day (86 400 000 ms); the retry deadline
 * usually stops much earlier. The weekday name is not checked against the date.
 *
 * @example
 * ```ts
 * import * as Retry from "effect-chittyid/Retry"
 * const now = Date.parse("2026-02-01T00:00:00Z")
 * Retry.parseRetryAfter("3", now) // Option.some(3000)
 * Retry.parseRetryAfter("Sun, 01 Feb 2026 00:00:10 GMT", now) // Option.some(10000)
 * Retry.parseRetryAfter("soon", now) // Option.none()
 * ```
 *
 * @since 0.1.0
 * @category Retry-After
 */
export const parseRetryAfter = (value: string, nowMs: number): Option.Option<number> => {
  if (value.length > 64) return Option.none()
  const trimmed = value.replace(/^[ \t]+|[ \t]+$/g, "")
  if (deltaSeconds.test(trimmed)) return Option.some(Math.min(Number(trimmed) * 1000, maxRetryAfterMs))
  return Option.flatMap(httpDate(trimmed, nowMs), (dateMs) => {
    const wait = Math.ceil(dateMs - nowMs)
    return Number.isFinite(wait) ? Option.some(Math.min(Math.max(wait, 0), maxRetryAfterMs)) : Option.none()
  })
}
