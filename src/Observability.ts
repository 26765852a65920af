/**
 * What the client tells about itself: Effect `Metric`s with stable names, the `ClientEvent` union of
 * `IdService.events`, the `ClientStats` snapshot of `IdService.stats` and the `HealthReport` of
 * `IdService.health`. Spans are named `ChittyId.mint`, `ChittyId.validate` and `ChittyId.health`.
 * No metric, span or event carries the token or metadata values.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `chittyid_requests_total` | counter | `endpoint`, `outcome` (`ok` or the error tag) |
 * | `chittyid_request_duration_ms` | histogram | `endpoint` |
 * | `chittyid_retries_total` | counter | `endpoint` |
 * | `chittyid_breaker_state` | gauge (0 closed, 1 half-open, 2 open, 3 isolated) | — |
 * | `chittyid_breaker_transitions_total` | counter | `to` |
 * | `chittyid_breaker_rejections_total` | counter | — |
 * | `chittyid_cache_hits_total`, `chittyid_cache_misses_total`, `chittyid_cache_evictions_total` | counter | — |
 * | `chittyid_health_checks_total` | counter | `result` (`ok`, `degraded`, `failed`) |
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import * as Observability from "effect-chittyid/Observability"
 *
 * const retries = Metric.value(Observability.metrics.retries)
 * ```
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/**
 * The client's metrics. Labels are added where they are recorded (`Metric.tagged`).
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import * as Observability from "effect-chittyid/Observability"
 * const retries = Metric.value(Observability.metrics.retries).pipe(Effect.map((s) => s.count))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = {
  requests: Metric.counter("chittyid_requests_total", {
    description: "HTTP requests sent to the ChittyID service, by endpoint and outcome",
    incremental: true
  }),
  requestDuration: Metric.histogram(
    "chittyid_request_duration_ms",
    MetricBoundaries.exponential({ start: 0.25, factor: 2, count: 18 }),
    "Latency of one HTTP attempt in milliseconds, by endpoint"
  ),
  retries: Metric.counter("chittyid_retries_total", {
    description: "Retries scheduled, by endpoint",
    incremental: true
  }),
  breakerState: Metric.gauge("chittyid_breaker_state", {
    description: "Circuit breaker state: 0 closed, 1 half-open, 2 open, 3 isolated"
  }),
  breakerTransitions: Metric.counter("chittyid_breaker_transitions_total", {
    description: "Circuit breaker transitions, by target state",
    incremental: true
  }),
  breakerRejections: Metric.counter("chittyid_breaker_rejections_total", {
    description: "Calls rejected by the open circuit breaker without a request",
    incremental: true
  }),
  cacheHits: Metric.counter("chittyid_cache_hits_total", {
    description: "Validation cache hits",
    incremental: true
  }),
  cacheMisses: Metric.counter("chittyid_cache_misses_total", {
    description: "Validation cache misses",
    incremental: true
  }),
  cacheEvictions: Metric.counter("chittyid_cache_evictions_total", {
    description: "Validation cache evictions (capacity)",
    incremental: true
  }),
  healthChecks: Metric.counter("chittyid_health_checks_total", {
    description: "Health checks, by result",
    incremental: true
  })
} as const

/**
 * The connection to the service as the health monitor sees it.
 *
 * - `Connected`: the last check answered `ok`.
 * - `Degraded`: the service answered, but its status is not `ok`.
 * - `Disconnected`: the last check failed; no reconnect under way yet.
 * - `Reconnecting`: probing again with backoff after failures.
 * - `Unchecked`: no check has answered or failed yet (the state from the build until the first check;
 *   the monitor sends no request at build). Since 0.2.0.
 *
 * @since 0.1.0
 * @category models
 */
export type ConnectionState = "Connected" | "Degraded" | "Disconnected" | "Reconnecting" | "Unchecked"

/**
 * The state of the circuit breaker, as reported.
 *
 * @since 0.1.0
 * @category models
 */
export type BreakerStateName = "Closed" | "Open" | "HalfOpen" | "Isolated"

/**
 * One event of `IdService.events`.
 *
 * @since 0.1.0
 * @category events
 */
export type ClientEvent = Data.TaggedEnum<{
  /** A breaker changed state. */
  BreakerTransition: {
    /** Whose breaker: `mint`, `validate`, or `all` when one breaker judges both. */
    readonly operation: BreakerOperation
    readonly from: BreakerStateName
    readonly to: BreakerStateName
    readonly reason: string
    readonly at: number
  }
  /** A failed attempt will be retried after `delayMs`. */
  RetryScheduled: {
    readonly endpoint: string
    readonly attempt: number
    readonly delayMs: number
    readonly error: string
    readonly at: number
  }
  /** The connection state changed. */
  ConnectionChanged: {
    readonly from: ConnectionState
    readonly to: ConnectionState
    readonly at: number
  }
  /** A health check passed after failures: the connection healed itself. */
  Reconnected: {
    readonly attempts: number
    readonly downForMs: number
    readonly at: number
  }
  /** The validation cache dropped an entry to stay within its capacity. */
  CacheEvicted: {
    readonly id: string
    readonly at: number
  }
}>

/**
 * Constructors and matchers of {@link ClientEvent}.
 *
 * @example
 * ```ts
 * import * as Observability from "effect-chittyid/Observability"
 * const event = Observability.ClientEvent.CacheEvicted({ id: "03-1-USA-5537-P-2602-0-38", at: 0 })
 * ```
 *
 * @since 0.1.0
 * @category events
 */
export const ClientEvent = Data.taggedEnum<ClientEvent>()

/**
 * Counters of the HTTP layer.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestStats {
  /** Requests sent, by endpoint. */
  readonly sent: { readonly mint: number; readonly validate: number; readonly health: number }
  /** Failed attempts, by error tag. */
  readonly failures: Readonly<Record<string, number>>
  readonly retries: number
  /**
   * Whether the service is known to honour `Idempotency-Key` (setting `idempotency`; with `auto`,
   * learned from the key echoed on its mint answers). While `false`, a mint that may have reached
   * the service is not retried.
   */
  readonly keysHonoured: boolean
}

/**
 * Counters of the validation cache.
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheStats {
  readonly hits: number
  readonly misses: number
  readonly evictions: number
  readonly size: number
  readonly capacity: number
}

/**
 * Counters and state of the circuit breaker.
 *
 * @since 0.1.0
 * @category models
 */
export interface BreakerStats {
  readonly state: BreakerStateName
  readonly opened: number
  readonly halfOpened: number
  readonly closed: number
  readonly rejected: number
}

/**
 * Each operation's breaker counters.
 *
 * @since 0.2.0
 * @category models
 */
export interface BreakerStatsByOperation {
  readonly mint: BreakerStats
  readonly validate: BreakerStats
}

/**
 * Whose breaker an event is about: `mint`, `validate`, or `all` when one breaker judges both.
 *
 * @since 0.2.0
 * @category models
 */
export type BreakerOperation = "mint" | "validate" | "all"

/**
 * How many events a slow subscriber of `IdService.events` may fall behind by, per source; past it
 * the oldest are dropped (and counted in `ClientStats.droppedEvents`), so memory stays bounded.
 *
 * @example
 * ```ts
 * import * as Observability from "effect-chittyid/Observability"
 * Observability.eventBuffer // 1024
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export const eventBuffer = 1024

/**
 * The `IdService.stats` snapshot: counters since the layer was built.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientStats {
  readonly startedAt: number
  readonly mint: {
    readonly calls: number
    readonly succeeded: number
    readonly failed: number
    readonly fallbacks: number
  }
  readonly validate: {
    readonly calls: number
    readonly local: number
    readonly cache: number
    readonly service: number
    readonly failed: number
  }
  readonly requests: RequestStats
  /** Both breakers together: the least healthy state, the counters summed. */
  readonly breaker: BreakerStats
  /** Each operation's breaker. */
  readonly breakers: BreakerStatsByOperation
  /** Events dropped because a subscriber of `events` fell behind (the buffer keeps the newest). */
  readonly droppedEvents: number
  readonly cache: CacheStats
  readonly health: { readonly checks: number; readonly failures: number; readonly connection: ConnectionState }
}

/**
 * The last health check.
 *
 * @since 0.1.0
 * @category models
 */
export interface HealthCheck {
  readonly at: number
  readonly ok: boolean
  readonly latencyMs: number
  /** The service's `status`, or why the check failed. */
  readonly detail: string
}

/**
 * The `IdService.health` report.
 *
 * @since 0.1.0
 * @category models
 */
export interface HealthReport {
  /**
   * `ok` when connected with the breakers closed; `degraded` when reachable but not all well;
   * `unknown` before the first health check while no breaker is open (nothing is known to be wrong:
   * call `HealthMonitor.checkNow` to know); `down` otherwise.
   */
  readonly status: "ok" | "degraded" | "unknown" | "down"
  readonly connection: ConnectionState
  /** The least healthy of the breakers' states. */
  readonly breaker: BreakerStateName
  /** Each operation's breaker: minting trouble opens `mint` and leaves `validate` answering. */
  readonly breakers: { readonly mint: BreakerStateName; readonly validate: BreakerStateName }
  readonly cache: CacheStats
  readonly lastCheck: HealthCheck | undefined
  readonly latencyMs: number | undefined
}
