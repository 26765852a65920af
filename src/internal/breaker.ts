/**
 * The `IdService`'s circuit breakers, one per operation: built from the settings, counting only the
 * failures that say the service is unwell, and reported as `ClientEvent`s, stats and metrics.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as CircuitBreaker from "../CircuitBreaker.ts"
import type * as IdServiceClient from "../IdServiceClient.ts"
import { IdServiceConfig } from "../IdServiceConfig.ts"
import type * as IdServiceConfigModule from "../IdServiceConfig.ts"
import * as IdServiceError from "../IdServiceError.ts"
import * as Observability from "../Observability.ts"
import * as Store from "./circuitBreakerStore.ts"

/**
 * Does the failure of a call (after its retries) count against the breaker? A service that is down,
 * too slow (either timeout, or a mint whose outcome is unknown), answers 5xx, garbage or transient
 * placeholders does. Failures the caller caused (a bad request, a token the service or its minting
 * backend refused, a reused idempotency key) and back-pressure (429, `RATE_LIMITED` placeholders) do
 * not.
 */
export const countsAgainstBreaker = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "_tag" in error &&
  (error._tag === "MalformedResponse" || error._tag === "RequestTimeout" || error._tag === "MintOutcomeUnknown" ||
    (error._tag !== "RateLimited" && IdServiceError.isRetryable(error)))

/** Breaker options from the settings, for the breaker of one operation. */
export const options = (
  settings: IdServiceConfigModule.Settings["breaker"],
  operation: Operation
): CircuitBreaker.Options => ({
  name: `ChittyID ${operation}`,
  consecutiveFailures: settings.consecutiveFailures,
  failureRateThreshold: settings.failureRateThreshold,
  minimumCalls: settings.minimumCalls,
  window: CircuitBreaker.timeWindow(settings.window),
  ...(Option.isSome(settings.slowCall) ? { slowCallDuration: settings.slowCall.value } : {}),
  slowCallRateThreshold: settings.slowCallRateThreshold,
  openDuration: settings.openDuration,
  openBackoffFactor: settings.openBackoffFactor,
  maxOpenDuration: settings.maxOpenDuration,
  halfOpenProbes: settings.halfOpenProbes,
  halfOpenSuccesses: settings.halfOpenSuccesses,
  isFailure: CircuitBreaker.countErrors(countsAgainstBreaker)
})

/** The operations with a breaker of their own. */
export type Operation = "mint" | "validate"

export const operations: ReadonlyArray<Operation> = ["mint", "validate"]

const gaugeValue: Record<CircuitBreaker.StateTag, number> = { Closed: 0, HalfOpen: 1, Open: 2, Isolated: 3 }

/**
 * One breaker, its state kept in the gauge labelled by its operation, sharing its state through the
 * `CircuitBreakerStore` in context, if any (keys `<prefix>:breaker:<operation>:…`). A probe claim
 * holds as long as a call may take, and a second more.
 */
const makeOne = (settings: IdServiceConfigModule.Settings, operation: Operation) =>
  Effect.gen(function*() {
    const store = yield* Effect.serviceOption(Store.tag)
    const shared = Option.isSome(store)
      ? yield* store.value.breaker(operation, { probeTimeout: Duration.sum(settings.timeout, Duration.seconds(1)) })
      : undefined
    const breaker = yield* CircuitBreaker.make({ ...options(settings.breaker, operation), shared })
    const transitions = yield* breaker.subscribe
    const gauge = Metric.tagged(Observability.metrics.breakerState, "chittyid.operation", operation)
    yield* Metric.set(gauge, 0)
    yield* transitions.take.pipe(
      Effect.flatMap((transition) =>
        Effect.zipRight(
          Metric.set(gauge, gaugeValue[transition.to]),
          Metric.increment(
            Metric.tagged(
              Metric.tagged(Observability.metrics.breakerTransitions, "chittyid.operation", operation),
              "chittyid.breaker.to",
              transition.to
            )
          )
        )
      ),
      Effect.forever,
      Effect.forkScoped
    )
    return breaker
  })

/** The two breakers of the live client, from the settings. */
export const make: Effect.Effect<IdServiceClient.Breakers, never, IdServiceConfig | Scope.Scope> = Effect.gen(
  function*() {
    const settings = yield* IdServiceConfig
    return {
      mint: yield* makeOne(settings, "mint"),
      validate: yield* makeOne(settings, "validate")
    }
  }
)

/**
 * The breaker store's `FleetFallback` / `FleetRestored` events, when a store is in context.
 */
export const storeEvents: Effect.Effect<Stream.Stream<Observability.ClientEvent>> = Effect.map(
  Effect.serviceOption(Store.tag),
  Option.match({ onNone: () => Stream.empty, onSome: (store) => store.events })
)

/** The breakers' transitions as client events, each naming its operation. */
export const events = (breakers: IdServiceClient.Breakers): Stream.Stream<Observability.ClientEvent> =>
  Stream.mergeAll(
    distinct(breakers).map(([operation, breaker]) =>
      Stream.map(breaker.transitions, (transition) =>
        Observability.ClientEvent.BreakerTransition({
          operation,
          from: transition.from,
          to: transition.to,
          reason: transition.reason,
          at: transition.at
        }))
    ),
    { concurrency: "unbounded" }
  )

/** Each breaker once: a shared breaker is named `"all"`. */
const distinct = (
  breakers: IdServiceClient.Breakers
): ReadonlyArray<readonly [Observability.BreakerOperation, CircuitBreaker.CircuitBreaker]> =>
  breakers.mint === breakers.validate
    ? [["all", breakers.mint]]
    : [["mint", breakers.mint], ["validate", breakers.validate]]

/** The name of a breaker state. */
export const stateName = (state: CircuitBreaker.State): Observability.BreakerStateName => state._tag

const severity: Record<Observability.BreakerStateName, number> = { Closed: 0, HalfOpen: 1, Open: 2, Isolated: 3 }

/** The least healthy of some states. */
export const worst = (
  states: ReadonlyArray<Observability.BreakerStateName>
): Observability.BreakerStateName =>
  states.reduce<Observability.BreakerStateName>((a, b) => severity[b] > severity[a] ? b : a, "Closed")

const statsOf = (breaker: CircuitBreaker.CircuitBreaker): Effect.Effect<Observability.BreakerStats> =>
  Effect.map(breaker.stats, (stats) => ({
    state: stats.state._tag,
    opened: stats.opened,
    halfOpened: stats.halfOpened,
    closed: stats.closed,
    rejected: stats.rejected
  }))

/** Each breaker's counters, and their sum (with the least healthy state). */
export const stats = (
  breakers: IdServiceClient.Breakers
): Effect.Effect<
  { readonly total: Observability.BreakerStats; readonly each: Observability.BreakerStatsByOperation }
> =>
  Effect.gen(function*() {
    const mint = yield* statsOf(breakers.mint)
    const validate = yield* statsOf(breakers.validate)
    const shared = breakers.mint === breakers.validate
    const total: Observability.BreakerStats = shared ? mint : {
      state: worst([mint.state, validate.state]),
      opened: mint.opened + validate.opened,
      halfOpened: mint.halfOpened + validate.halfOpened,
      closed: mint.closed + validate.closed,
      rejected: mint.rejected + validate.rejected
    }
    return { total, each: { mint, validate } }
  })
