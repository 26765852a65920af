/**
 * A circuit breaker: a `Ref`-backed state machine `Closed` → `Open` → `HalfOpen` → `Closed` that stops
 * calling a failing dependency, rejects at once with `CircuitOpen` while it is open, and lets a few
 * probes find out when the dependency has recovered.
 *
 * - **Closed** runs every call and opens after `consecutiveFailures` failures in a row, or when the
 *   failure rate (or the slow-call rate) over a sliding window reaches its threshold once the window
 *   holds `minimumCalls` calls.
 * - **Open** rejects every call without running it. The first call (or `state` read) after the open
 *   period moves it to `HalfOpen`: no timer fiber, only `Clock`, so `TestClock` drives it. The open
 *   period backs off by `openBackoffFactor` on each trip until the breaker closes again.
 * - **HalfOpen** runs up to `halfOpenProbes` calls at once and rejects the rest; it closes after
 *   `halfOpenSuccesses` successful probes and opens again on a failed (or slow) probe.
 * - **Isolated** is held open by hand (`isolate`) until `release`d.
 *
 * Every decision is one `Ref.modify`, so concurrent callers never see more probes than allowed.
 * Which failures count is up to `isFailure`; an interruption never counts.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ consecutiveFailures: 3, openDuration: "30 seconds" })
 *   const guarded = Effect.tryPromise(() => fetch("https://example.com")).pipe(CircuitBreaker.withBreaker(breaker))
 *   return yield* guarded // fails with CircuitOpen, without fetching, while the breaker is open
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import type * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as CircuitBreakerStore from "./CircuitBreakerStore.ts"
import { CircuitOpen } from "./IdServiceError.ts"
import * as internal from "./internal/circuitBreaker.ts"

// -----------------------------------------------------------------------------
// State
// -----------------------------------------------------------------------------

/**
 * The names of the four states.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * Schema.is(CircuitBreaker.StateTag)("HalfOpen") // true
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const StateTag = Schema.Literal("Closed", "Open", "HalfOpen", "Isolated")

/**
 * @since 0.1.0
 * @category state
 */
export type StateTag = typeof StateTag.Type

/**
 * Why the breaker opened: too many failures in a row, the failure rate or the slow-call rate over
 * the window, or a probe that failed or was slow.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * Schema.is(CircuitBreaker.OpenReason)("FailureRate") // true
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const OpenReason = Schema.Literal(
  "ConsecutiveFailures",
  "FailureRate",
  "SlowCallRate",
  "ProbeFailed",
  "SlowProbe"
)

/**
 * @since 0.1.0
 * @category state
 */
export type OpenReason = typeof OpenReason.Type

/**
 * Why a transition happened: an `OpenReason`, or `OpenElapsed` (the open period passed),
 * `HalfOpenNow` (asked to probe at once), `ProbesSucceeded`, `Isolate`, `Release` or `Reset`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * Schema.is(CircuitBreaker.TransitionReason)("OpenElapsed") // true
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const TransitionReason = Schema.Literal(
  ...OpenReason.literals,
  "OpenElapsed",
  "HalfOpenNow",
  "ProbesSucceeded",
  "Isolate",
  "Release",
  "Reset"
)

/**
 * @since 0.1.0
 * @category state
 */
export type TransitionReason = typeof TransitionReason.Type

const Count = Schema.NonNegativeInt
const EpochMillis = Schema.Number

/**
 * Calls run. `consecutiveFailures` and the window's counts (`windowCalls`, `windowFailures`,
 * `windowSlowCalls`) are the ones the breaker judges; `since` is when it last closed (epoch ms).
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const closed: CircuitBreaker.Closed = {
 *   _tag: "Closed", since: 0, consecutiveFailures: 0, windowCalls: 0, windowFailures: 0, windowSlowCalls: 0
 * }
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const Closed = Schema.TaggedStruct("Closed", {
  since: EpochMillis,
  consecutiveFailures: Count,
  windowCalls: Count,
  windowFailures: Count,
  windowSlowCalls: Count
})

/**
 * @since 0.1.0
 * @category state
 */
export type Closed = typeof Closed.Type

/**
 * Calls rejected until `retryAt` (epoch ms); `trips` counts the openings since the breaker last
 * closed (the open period backs off with it).
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const open: CircuitBreaker.Open = { _tag: "Open", since: 0, retryAt: 60_000, reason: "FailureRate", trips: 1 }
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const Open = Schema.TaggedStruct("Open", {
  since: EpochMillis,
  retryAt: EpochMillis,
  reason: OpenReason,
  trips: Count
})

/**
 * @since 0.1.0
 * @category state
 */
export type Open = typeof Open.Type

/**
 * Probing: `probesInFlight` calls running, `successes` of the probes needed to close.
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const probing: CircuitBreaker.HalfOpen = { _tag: "HalfOpen", since: 0, probesInFlight: 1, successes: 2, trips: 1 }
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const HalfOpen = Schema.TaggedStruct("HalfOpen", {
  since: EpochMillis,
  probesInFlight: Count,
  successes: Count,
  trips: Count
})

/**
 * @since 0.1.0
 * @category state
 */
export type HalfOpen = typeof HalfOpen.Type

/**
 * Held open by hand since `since` (epoch ms), until `release`d.
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const isolated: CircuitBreaker.Isolated = { _tag: "Isolated", since: 0 }
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const Isolated = Schema.TaggedStruct("Isolated", { since: EpochMillis })

/**
 * @since 0.1.0
 * @category state
 */
export type Isolated = typeof Isolated.Type

/**
 * A snapshot of the breaker's state.
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const describe = (state: CircuitBreaker.State): string =>
 *   state._tag === "Open" ? `open until ${new Date(state.retryAt).toISOString()}` : state._tag
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const State = Schema.Union(Closed, Open, HalfOpen, Isolated)

/**
 * @since 0.1.0
 * @category state
 */
export type State = typeof State.Type

/**
 * A change of state, at `at` (epoch ms); `retryAt` is set when it opened.
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const opened: CircuitBreaker.Transition = {
 *   from: "Closed", to: "Open", at: 0, reason: "ConsecutiveFailures", retryAt: 60_000
 * }
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const Transition = Schema.Struct({
  from: StateTag,
  to: StateTag,
  at: EpochMillis,
  reason: TransitionReason,
  retryAt: Schema.optional(EpochMillis)
})

/**
 * @since 0.1.0
 * @category state
 */
export type Transition = typeof Transition.Type

/**
 * Counters since the breaker was made, with the current state. `calls` were run; each ended as one
 * of `successes`, `failures`, `ignored` (a failure `isFailure` does not count) or `interrupted`, or
 * is still running. `slowCalls` counts the successes and failures slower than `slowCallDuration`.
 * `rejected` calls were not run. `opened`, `halfOpened`, `closed`, `isolated` count the transitions
 * into each state.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const failFast = (breaker: CircuitBreaker.CircuitBreaker) =>
 *   breaker.stats.pipe(Effect.map((stats) => stats.rejected / Math.max(1, stats.calls + stats.rejected)))
 * ```
 *
 * @since 0.1.0
 * @category state
 */
export const Stats = Schema.Struct({
  state: State,
  calls: Count,
  successes: Count,
  failures: Count,
  ignored: Count,
  interrupted: Count,
  slowCalls: Count,
  rejected: Count,
  opened: Count,
  halfOpened: Count,
  closed: Count,
  isolated: Count
})

/**
 * @since 0.1.0
 * @category state
 */
export type Stats = typeof Stats.Type

// -----------------------------------------------------------------------------
// Options
// -----------------------------------------------------------------------------

/**
 * The sliding window the failure and slow-call rates are measured over: the last `size` calls, or
 * the calls that ended in the last `duration` (which slides in steps of a tenth of its length).
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const window: CircuitBreaker.SlidingWindow = CircuitBreaker.countWindow(100)
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export type SlidingWindow =
  | { readonly _tag: "Count"; readonly size: number }
  | { readonly _tag: "Time"; readonly duration: Duration.DurationInput }

/**
 * A window of the last `size` calls.
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * CircuitBreaker.make({ window: CircuitBreaker.countWindow(50), minimumCalls: 20 })
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const countWindow = (size: number): SlidingWindow => ({ _tag: "Count", size })

/**
 * A window of the calls that ended in the last `duration`.
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * CircuitBreaker.make({ window: CircuitBreaker.timeWindow("30 seconds") })
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const timeWindow = (duration: Duration.DurationInput): SlidingWindow => ({ _tag: "Time", duration })

/**
 * How a breaker behaves; every field is optional (see `defaults`).
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const options: CircuitBreaker.Options = {
 *   consecutiveFailures: 5,
 *   failureRateThreshold: 0.5,
 *   minimumCalls: 10,
 *   window: CircuitBreaker.timeWindow("10 seconds"),
 *   slowCallDuration: "2 seconds",
 *   openDuration: "60 seconds",
 *   openBackoffFactor: 2,
 *   maxOpenDuration: "10 minutes"
 * }
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** Names the breaker in `CircuitOpen` messages. */
  readonly name?: string | undefined
  /** Opens after this many counted failures in a row (default 5; `Infinity` disables the rule). */
  readonly consecutiveFailures?: number | undefined
  /**
   * Opens when failures / calls in the window reach this fraction (default 0.5); judged once the
   * window holds `minimumCalls`. A value above 1 disables the rule.
   */
  readonly failureRateThreshold?: number | undefined
  /** Calls the window must hold before its rates are judged (default 10; capped by a count window's size). */
  readonly minimumCalls?: number | undefined
  /** The sliding window (default `timeWindow("10 seconds")`). */
  readonly window?: SlidingWindow | undefined
  /** A call that takes longer than this is slow (default: none, slow calls are not tracked). */
  readonly slowCallDuration?: Duration.DurationInput | undefined
  /** Opens when slow calls / calls in the window reach this fraction (default 0.5). */
  readonly slowCallRateThreshold?: number | undefined
  /** How long the breaker stays open on its first trip (default 60 s). */
  readonly openDuration?: Duration.DurationInput | undefined
  /** Each further trip before the breaker closes again multiplies the open period by this (default 1: no backoff). */
  readonly openBackoffFactor?: number | undefined
  /** The longest open period backoff reaches (default 10 min; never below `openDuration`). */
  readonly maxOpenDuration?: Duration.DurationInput | undefined
  /** How many probes may run at once in `HalfOpen` (default 3); the others are rejected. */
  readonly halfOpenProbes?: number | undefined
  /** Successful probes that close the breaker (default 3). */
  readonly halfOpenSuccesses?: number | undefined
  /**
   * Does this failure count against the dependency? Default: every failure and defect counts.
   * Interruptions never reach it and never count. A failure it rejects is `ignored`: it neither
   * counts as a failure nor as a success (it does not reset the consecutive count, is not put in the
   * window, does not close a half-open breaker) but frees its probe slot. See `countErrors`.
   */
  readonly isFailure?: ((cause: Cause.Cause<unknown>) => boolean) | undefined
  /**
   * State shared with the other replicas of a fleet (`CircuitBreakerStore`): the fleet counts failures
   * in a row together, one replica's opening opens every replica's breaker, and one replica probes
   * for all. Without it (the default) the breaker keeps all of its state to itself. `isolate`,
   * `release`, `reset` and `halfOpenNow` stay local.
   *
   * @since 0.2.0
   */
  readonly shared?: CircuitBreakerStore.Shared | undefined
}

/**
 * The defaults of `Options` (after the earlier client's proven settings: 5 failures, 10 s, 60 s, 3
 * probes).
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const probes: CircuitBreaker.Defaults["halfOpenProbes"] = CircuitBreaker.defaults.halfOpenProbes // 3
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export interface Defaults {
  readonly consecutiveFailures: number
  readonly failureRateThreshold: number
  readonly minimumCalls: number
  readonly window: SlidingWindow
  readonly slowCallRateThreshold: number
  readonly openDuration: Duration.DurationInput
  readonly openBackoffFactor: number
  readonly maxOpenDuration: Duration.DurationInput
  readonly halfOpenProbes: number
  readonly halfOpenSuccesses: number
}

/**
 * The values used for options left out.
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * CircuitBreaker.defaults.consecutiveFailures // 5
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const defaults: Defaults = {
  consecutiveFailures: 5,
  failureRateThreshold: 0.5,
  minimumCalls: 10,
  window: timeWindow("10 seconds"),
  slowCallRateThreshold: 0.5,
  openDuration: "60 seconds",
  openBackoffFactor: 1,
  maxOpenDuration: "10 minutes",
  halfOpenProbes: 3,
  halfOpenSuccesses: 3
}

/**
 * An `isFailure` that counts defects and the typed errors `predicate` accepts. For example, count
 * only the failures worth retrying, so that a request the caller got wrong never trips the breaker.
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * import * as IdServiceError from "effect-chittyid/IdServiceError"
 * CircuitBreaker.make({ isFailure: CircuitBreaker.countErrors(IdServiceError.isRetryable) })
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const countErrors = (predicate: (error: unknown) => boolean) => (cause: Cause.Cause<unknown>): boolean =>
  Cause.isDie(cause) || Chunk.some(Cause.failures(cause), predicate)

/**
 * `Options` read from `Config`, every key optional: `consecutiveFailures`, `failureRateThreshold`,
 * `minimumCalls`, `windowSize` (count window) or `windowDuration` (time window), `slowCallDuration`,
 * `slowCallRateThreshold`, `openDuration`, `openBackoffFactor`, `maxOpenDuration`, `halfOpenProbes`,
 * `halfOpenSuccesses`. Durations are written like `"10 seconds"`. A bad value fails with a
 * `ConfigError` naming it. Nest it (`Config.nested`) to give the keys a prefix.
 *
 * @example
 * ```ts
 * import { Config, ConfigProvider, Effect } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const options = Effect.withConfigProvider(
 *   Config.nested(CircuitBreaker.config, "breaker"),
 *   ConfigProvider.fromJson({ breaker: { consecutiveFailures: 3, openDuration: "30 seconds" } })
 * )
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const config: Config.Config<Options> = Config.all({
  consecutiveFailures: Config.option(Config.number("consecutiveFailures")),
  failureRateThreshold: Config.option(Config.number("failureRateThreshold")),
  minimumCalls: Config.option(Config.integer("minimumCalls")),
  windowSize: Config.option(Config.integer("windowSize")),
  windowDuration: Config.option(Config.duration("windowDuration")),
  slowCallDuration: Config.option(Config.duration("slowCallDuration")),
  slowCallRateThreshold: Config.option(Config.number("slowCallRateThreshold")),
  openDuration: Config.option(Config.duration("openDuration")),
  openBackoffFactor: Config.option(Config.number("openBackoffFactor")),
  maxOpenDuration: Config.option(Config.duration("maxOpenDuration")),
  halfOpenProbes: Config.option(Config.integer("halfOpenProbes")),
  halfOpenSuccesses: Config.option(Config.integer("halfOpenSuccesses"))
}).pipe(Config.mapOrFail((raw) => {
  if (Option.isSome(raw.windowSize) && Option.isSome(raw.windowDuration)) {
    return Either.left(ConfigError.InvalidData([], "set windowSize or windowDuration, not both"))
  }
  const options: Options = {
    consecutiveFailures: Option.getOrUndefined(raw.consecutiveFailures),
    failureRateThreshold: Option.getOrUndefined(raw.failureRateThreshold),
    minimumCalls: Option.getOrUndefined(raw.minimumCalls),
    window: Option.isSome(raw.windowSize)
      ? countWindow(raw.windowSize.value)
      : Option.isSome(raw.windowDuration)
      ? timeWindow(raw.windowDuration.value)
      : undefined,
    slowCallDuration: Option.getOrUndefined(raw.slowCallDuration),
    slowCallRateThreshold: Option.getOrUndefined(raw.slowCallRateThreshold),
    openDuration: Option.getOrUndefined(raw.openDuration),
    openBackoffFactor: Option.getOrUndefined(raw.openBackoffFactor),
    maxOpenDuration: Option.getOrUndefined(raw.maxOpenDuration),
    halfOpenProbes: Option.getOrUndefined(raw.halfOpenProbes),
    halfOpenSuccesses: Option.getOrUndefined(raw.halfOpenSuccesses)
  }
  return Either.match(internal.resolve(options, defaults), {
    onLeft: (message) => Either.left(ConfigError.InvalidData([], message)),
    onRight: () => Either.right(options)
  })
}))

// -----------------------------------------------------------------------------
// The breaker
// -----------------------------------------------------------------------------

/**
 * A circuit breaker. Its state changes only through calls and the operations below, each of them
 * atomic.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 *
 * const maintenance = (breaker: CircuitBreaker.CircuitBreaker, work: Effect.Effect<void>) =>
 *   Effect.acquireUseRelease(breaker.isolate, () => work, () => breaker.release)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreaker {
  /**
   * Runs `effect` if the breaker lets it through, otherwise fails with `CircuitOpen` without
   * running it. Its exit (success, failure, interruption, time taken) is recorded.
   */
  readonly withBreaker: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  /**
   * Like `withBreaker`, but the call learns how it was let through: `probe` is `true` when it is a
   * half-open probe, so it can test the dependency with one request instead of a retried call.
   *
   * @since 0.2.0
   */
  readonly withAdmission: <A, E, R>(
    f: (admission: Admission) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | CircuitOpen, R>
  /** The current state, after any transition that is due (an elapsed open period moves to `HalfOpen`). */
  readonly state: Effect.Effect<State>
  /** Counters since the breaker was made, with the current state. */
  readonly stats: Effect.Effect<Stats>
  /** The transitions that happen while the stream runs, in order. */
  readonly transitions: Stream.Stream<Transition>
  /** Subscribes at once (no transition is missed after it returns) for the life of the scope. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<Transition>, never, Scope.Scope>
  /** Holds the breaker open (`Isolated`) until `release`: every call is rejected, no timer runs. */
  readonly isolate: Effect.Effect<void>
  /** Ends an isolation: the breaker goes to `HalfOpen` and lets probes decide. No-op otherwise. */
  readonly release: Effect.Effect<void>
  /**
   * Back to `Closed` with an empty window, no consecutive failures and no backoff, from any state
   * (no transition is published if it was `Closed` already). `stats` counters are kept.
   */
  readonly reset: Effect.Effect<void>
  /**
   * `Open` → `HalfOpen` at once, without waiting for the open period (for a health check that saw
   * the dependency recover). No-op in any other state; an isolated breaker stays isolated.
   */
  readonly halfOpenNow: Effect.Effect<void>
}

/**
 * How a call was let through the breaker (see `withAdmission`).
 *
 * @example
 * ```ts
 * import type * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const attempts = (admission: CircuitBreaker.Admission) => admission.probe ? 1 : 4
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Admission {
  /** `true` for a half-open probe: one try of the dependency decides the state. */
  readonly probe: boolean
}

const probeAdmission: Admission = { probe: true }
const callAdmission: Admission = { probe: false }

/**
 * The breaker as a service, for `layer` and `layerConfig`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.CircuitBreaker
 *   return yield* breaker.state
 * }).pipe(Effect.provide(CircuitBreaker.layer({ consecutiveFailures: 3 })))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const CircuitBreaker: Context.Tag<CircuitBreaker, CircuitBreaker> = Context.GenericTag<CircuitBreaker>(
  "effect-chittyid/CircuitBreaker"
)

/**
 * Makes a breaker, `Closed`. Options out of range are a defect (`IllegalArgumentException` naming
 * them); read them with `config` to get a `ConfigError` instead.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ window: CircuitBreaker.countWindow(20), halfOpenProbes: 1 })
 *   yield* breaker.withBreaker(Effect.succeed(1))
 *   return yield* breaker.stats
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<CircuitBreaker> =>
  Effect.gen(function*() {
    const settings = yield* Either.match(internal.resolve(options, defaults), {
      onLeft: (message) => Effect.die(new Cause.IllegalArgumentException(message)),
      onRight: Effect.succeed
    })
    const ref = yield* Ref.make(internal.initial(settings, yield* Clock.currentTimeMillis))
    const pubsub = yield* PubSub.unbounded<Transition>()

    // One atomic step of the machine. A transition is published inside the same step, so subscribers
    // see transitions in the order they happened.
    // (the time read from the fiber's `Clock` at once: one effect less per step than `currentTimeMillis`)
    const step = <B>(f: (machine: internal.Machine, now: number) => readonly [B, internal.Machine]): Effect.Effect<B> =>
      Effect.clockWith((clock) =>
        Ref.modify(ref, (machine) => {
          const [result, next] = f(machine, clock.unsafeCurrentTimeMillis())
          if (next.transition !== machine.transition && next.transition !== undefined) {
            pubsub.unsafeOffer(next.transition)
          }
          return [result, next]
        })
      )
    const shared = options.shared
    if (shared !== undefined) return yield* makeShared(settings, shared, step, pubsub)

    const withAdmission = admission(
      settings,
      step(internal.admit),
      (ticket, outcome, result) => step((machine, now) => [result, internal.complete(machine, ticket, outcome, now)])
    )
    return assemble(step, pubsub, withAdmission, internal.advance)
  })

type Step = <B>(
  f: (machine: internal.Machine, now: number) => readonly [B, internal.Machine]
) => Effect.Effect<B>

/**
 * `withAdmission` from how a call is admitted (a `Ticket`, or the `CircuitOpen` to fail with) and how
 * its exit is recorded; admission and recording cannot be interrupted, the call can.
 */
const admission = (
  settings: internal.Settings,
  admit: Effect.Effect<internal.Ticket | CircuitOpen>,
  /** Records the call's outcome and goes on with `result` (one step, no mapping after it). */
  complete: <B>(ticket: internal.Ticket, outcome: internal.Outcome, result: B) => Effect.Effect<B>
): CircuitBreaker["withAdmission"] =>
<A, E, R>(f: (admission: Admission) => Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(admit, (ticket): Effect.Effect<A, E | CircuitOpen, R> => {
      if (ticket instanceof CircuitOpen) return Effect.fail(ticket)
      // `f` is called here, not suspended (one step less): a throw is the call's defect, recorded
      // like any other failure, so an admitted call always completes its ticket
      let call: Effect.Effect<A, E, R>
      try {
        call = f(ticket.probe ? probeAdmission : callAdmission)
      } catch (defect) {
        call = Effect.die(defect)
      }
      // (`matchCauseEffect` rather than `onExit`: this region is uninterruptible already, and
      // `onExit` would mask it again on every call)
      return Effect.matchCauseEffect(restore(call), {
        onFailure: (cause) =>
          Effect.zipRight(
            complete(ticket, internal.classify(settings, Exit.failCause(cause)), undefined),
            Effect.failCause(cause)
          ),
        onSuccess: (a) => complete(ticket, "success", a)
      })
    })
  )

/** The breaker from its step, admission and view of the state now (`current`). */
const assemble = (
  step: Step,
  pubsub: PubSub.PubSub<Transition>,
  withAdmission: CircuitBreaker["withAdmission"],
  current: (machine: internal.Machine, now: number) => internal.Machine
): CircuitBreaker => {
  const update = (f: (machine: internal.Machine, now: number) => internal.Machine): Effect.Effect<void> =>
    step((machine, now) => [undefined, f(machine, now)])
  return CircuitBreaker.of({
    withBreaker: (effect) => withAdmission(() => effect),
    withAdmission,
    state: step((machine, now) => {
      const next = current(machine, now)
      return [internal.snapshot(next, now), next]
    }),
    stats: step((machine, now) => {
      const next = current(machine, now)
      return [internal.stats(next, now), next]
    }),
    transitions: Stream.fromPubSub(pubsub),
    subscribe: PubSub.subscribe(pubsub),
    isolate: update(internal.isolate),
    release: update(internal.release),
    reset: update(internal.reset),
    halfOpenNow: update(internal.halfOpenNow)
  })
}

/**
 * The breaker over a fleet's shared state: the same machine, which takes the fleet's state in (from
 * memory, no I/O) before each decision, counts its failures with the fleet, claims the fleet's one
 * probe, and shares its openings and closings.
 */
const makeShared = (
  settings: internal.Settings,
  shared: CircuitBreakerStore.Shared,
  step: Step,
  pubsub: PubSub.PubSub<Transition>
): Effect.Effect<CircuitBreaker> =>
  Effect.gen(function*() {
    const update = (f: (machine: internal.Machine, now: number) => internal.Machine): Effect.Effect<void> =>
      step((machine, now) => [undefined, f(machine, now)])
    const windowMillis = internal.sharedWindowMillis(settings)
    // a change of the fleet's state shows in this breaker's state, events and gauge at once
    yield* shared.follow(update((machine, now) => internal.adopt(machine, shared.view(), now)))

    /** Shares what a step did: an opening or a closing. */
    const share = (before: internal.Machine, after: internal.Machine): Effect.Effect<boolean> => {
      if (after.transition === before.transition || after.transition === undefined) return Effect.succeed(false)
      const period = internal.openPeriod(after)
      if (period !== undefined && after.transition.from !== "Open") return Effect.as(shared.open(period), true)
      if (after.phase._tag === "Closed" && after.transition.reason === "ProbesSucceeded") {
        return Effect.as(shared.close(after.phase.since), true)
      }
      return Effect.succeed(false)
    }
    const stepShared = (f: (machine: internal.Machine, now: number) => internal.Machine) =>
      Effect.flatMap(
        step((machine, now) => {
          const next = f(machine, now)
          return [[machine, next] as const, next]
        }),
        ([before, after]) => share(before, after)
      )

    const admitLocal = step((machine, now) => internal.admitShared(machine, shared.view(), now))
    /** A probe goes out only with the fleet's claim; without it the call is judged again on what the claim told. */
    const admit: Effect.Effect<internal.Ticket | CircuitOpen> = Effect.flatMap(
      admitLocal,
      (ticket) =>
        ticket instanceof CircuitOpen || !ticket.probe
          ? Effect.succeed(ticket)
          : Effect.flatMap(shared.claimProbe(ticket.openedAt ?? 0), (claimed) =>
            claimed ? Effect.succeed(ticket) : step((machine, now) => {
              const [again, next] = internal.admitShared(internal.unadmit(machine, ticket), shared.view(), now)
              // still half-open here: the claim went to another replica meanwhile
              return again instanceof CircuitOpen || !again.probe ? [again, next] : [
                next.phase._tag === "HalfOpen"
                  ? next.phase.rejection
                  : new CircuitOpen({ message: "probing elsewhere" }),
                internal.unadmit(next, again)
              ]
            }))
    )

    const complete = <B>(ticket: internal.Ticket, outcome: internal.Outcome, result: B): Effect.Effect<B> =>
      Effect.as(record(ticket, outcome), result)
    const record = (ticket: internal.Ticket, outcome: internal.Outcome): Effect.Effect<void> =>
      Effect.flatMap(
        step((machine, now) => {
          const next = internal.complete(machine, ticket, outcome, now)
          return [[machine, next] as const, next]
        }),
        ([before, after]) =>
          Effect.flatMap(share(before, after), (shared_) => {
            if (shared_ || ticket.probe || ticket.epoch !== before.epoch || before.phase._tag !== "Closed") {
              return Effect.void
            }
            if (outcome === "failure") {
              return Effect.flatMap(
                shared.recordFailure(windowMillis),
                (failures) =>
                  failures !== undefined && failures >= settings.consecutiveFailures
                    ? Effect.asVoid(stepShared(internal.tripShared))
                    : Effect.void
              )
            }
            return outcome === "success" && before.phase.consecutiveFailures > 0 ? shared.endStreak : Effect.void
          })
      )

    const withAdmission = admission(settings, admit, complete)

    return assemble(
      step,
      pubsub,
      withAdmission,
      (machine, now) => internal.advance(internal.adopt(machine, shared.view(), now), now)
    )
  })

/**
 * Runs an effect through a breaker: fails with `CircuitOpen`, without running it, while the breaker
 * rejects calls.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make()
 *   const a = yield* Effect.succeed(1).pipe(CircuitBreaker.withBreaker(breaker))
 *   const b = yield* CircuitBreaker.withBreaker(Effect.succeed(2), breaker)
 *   return a + b
 * })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const withBreaker: {
  (breaker: CircuitBreaker): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, breaker: CircuitBreaker): Effect.Effect<A, E | CircuitOpen, R>
} = dual(
  2,
  <A, E, R>(effect: Effect.Effect<A, E, R>, breaker: CircuitBreaker): Effect.Effect<A, E | CircuitOpen, R> =>
    breaker.withBreaker(effect)
)

/**
 * A layer with one breaker made from `options`.
 *
 * @example
 * ```ts
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const BreakerLive = CircuitBreaker.layer({ consecutiveFailures: 5, openDuration: "60 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<CircuitBreaker> => Layer.effect(CircuitBreaker, make(options))

/**
 * A layer with one breaker made from options read from `Config` (by default `config`, keys without
 * prefix); a bad value fails the layer with a `ConfigError`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * const BreakerLive = CircuitBreaker.layerConfig(Config.nested(CircuitBreaker.config, "breaker"))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<CircuitBreaker, ConfigError.ConfigError> =>
  Layer.effect(CircuitBreaker, Effect.flatMap(options, (options) => make(options)))
