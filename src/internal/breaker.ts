/**
 * The `IdService`'s circuit breaker: built from the settings, counting only the failures that say
 * the service is unwell, and reported as `ClientEvent`s, stats and metrics.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as CircuitBreaker from "../CircuitBreaker.ts"
import { IdServiceConfig } from "../IdServiceConfig.ts"
import type * as IdServiceConfigModule from "../IdServiceConfig.ts"
import * as IdServiceError from "../IdServiceError.ts"
import * as Observability from "../Observability.ts"

/**
 * Does the failure of a call (after its retries) count against the breaker? A service that is down,
 * too slow (either timeout), answers 5xx, garbage or placeholders does. Failures the caller caused
 * (a bad request, a refused token, a reused idempotency key) and 429s (governed by `Retry-After`) do
 * not.
 */
export const countsAgainstBreaker = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "_tag" in error &&
  (error._tag === "MalformedResponse" || error._tag === "RequestTimeout" ||
    (error._tag !== "RateLimited" && IdServiceError.isRetryable(error)))

/** Breaker options from the settings. */
export const options = (settings: IdServiceConfigModule.Settings["breaker"]): CircuitBreaker.Options => ({
  name: "ChittyID service",
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

const gaugeValue: Record<CircuitBreaker.StateTag, number> = { Closed: 0, HalfOpen: 1, Open: 2, Isolated: 3 }

/**
 * The breaker of the live service, from the settings in context. Its transitions drive the
 * `chittyid_breaker_state` gauge and `chittyid_breaker_transitions_total` for the life of the layer.
 */
export const layer: Layer.Layer<CircuitBreaker.CircuitBreaker, never, IdServiceConfig> = Layer.scoped(
  CircuitBreaker.CircuitBreaker,
  Effect.gen(function*() {
    const settings = yield* IdServiceConfig
    const breaker = yield* CircuitBreaker.make(options(settings.breaker))
    const transitions = yield* breaker.subscribe
    yield* Metric.set(Observability.metrics.breakerState, 0)
    yield* transitions.take.pipe(
      Effect.flatMap((transition) =>
        Effect.zipRight(
          Metric.set(Observability.metrics.breakerState, gaugeValue[transition.to]),
          Metric.increment(Metric.tagged(Observability.metrics.breakerTransitions, "to", transition.to))
        )
      ),
      Effect.forever,
      Effect.forkScoped
    )
    return breaker
  })
)

/** The breaker's transitions as client events. */
export const events = (breaker: CircuitBreaker.CircuitBreaker): Stream.Stream<Observability.ClientEvent> =>
  Stream.map(breaker.transitions, (transition) =>
    Observability.ClientEvent.BreakerTransition({
      from: transition.from,
      to: transition.to,
      reason: transition.reason,
      at: transition.at
    }))

/** The name of a breaker state. */
export const stateName = (state: CircuitBreaker.State): Observability.BreakerStateName => state._tag

/** The breaker's counters as client stats. */
export const stats = (breaker: CircuitBreaker.CircuitBreaker): Effect.Effect<Observability.BreakerStats> =>
  Effect.map(breaker.stats, (stats) => ({
    state: stats.state._tag,
    opened: stats.opened,
    halfOpened: stats.halfOpened,
    closed: stats.closed,
    rejected: stats.rejected
  }))
