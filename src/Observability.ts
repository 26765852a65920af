/**
 * What the client tells about itself: Effect `Metric`s with stable names, the `ClientEvent` union of
 * `IdService.events`, the `ClientStats` snapshot of `IdService.stats` and the `HealthReport` of
 * `IdService.health`. Spans are named `ChittyId.mint`, `ChittyId.validate` and `ChittyId.health`.
 * No metric, span or event carries the token or metadata values.
 *
 * Metric names follow OpenTelemetry's semantic conventions (`http.client.request.duration` in seconds
 * with `http.request.method`, `server.address`, `server.port`, `http.response.status_code`,
 * `error.type`), the client's own have the `chittyid.` prefix (`chittyid.mints`, `chittyid.retries`,
 * `chittyid.breaker.state`, …); `docs/telemetry.md` lists each with its attributes and unit.
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
 * The client's metrics. Names and attributes follow OpenTelemetry's semantic conventions where one
 * exists (`http.client.request.duration` in seconds, with `http.request.method`, `server.address`,
 * `server.port`, `url.template`, `http.response.status_code` and `error.type`); the client's own carry
 * the `chittyid.` prefix. Attributes are added where the metric is recorded; `docs/telemetry.md` lists
 * them all. `effect-chittyid/Telemetry` exports them to Prometheus or an OpenTelemetry collector.
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
  /**
   * One HTTP attempt, in seconds (its count is the number of requests sent). Attributes
   * `http.request.method`, `server.address`, `server.port`, `url.template`, and
   * `http.response.status_code` when an answer came, `error.type` (the error's tag) when it failed.
   */
  requestDuration: Metric.histogram(
    "http.client.request.duration",
    MetricBoundaries.fromIterable([
      0.0005,
      0.001,
      0.0025,
      0.005,
      0.01,
      0.025,
      0.05,
      0.075,
      0.1,
      0.25,
      0.5,
      0.75,
      1,
      2.5,
      5,
      7.5,
      10
    ]),
    "Duration of HTTP client requests to the ChittyID service"
  ),
  /** Logical mints, by `chittyid.outcome` (`minted`, `placeholder`, `failed`) and `error.type` when failed. */
  mints: Metric.counter("chittyid.mints", {
    description: "Mint calls, by outcome",
    incremental: true
  }),
  /**
   * Validations, by `chittyid.outcome` (`valid`, `invalid`, `failed`), `chittyid.validation.source`
   * (`local`, `cache`, `service`; absent when failed) and `error.type` when failed.
   */
  validations: Metric.counter("chittyid.validations", {
    description: "Validate calls, by outcome and where the answer came from",
    incremental: true
  }),
  /** Retries scheduled, by `chittyid.endpoint` (`mint`, `validate`). */
  retries: Metric.counter("chittyid.retries", {
    description: "Retries scheduled, by endpoint",
    incremental: true
  }),
  /** By `chittyid.operation` (`mint`, `validate`): 0 closed, 1 half-open, 2 open, 3 isolated. */
  breakerState: Metric.gauge("chittyid.breaker.state", {
    description: "Circuit breaker state: 0 closed, 1 half-open, 2 open, 3 isolated"
  }),
  /** By `chittyid.operation` and `chittyid.breaker.to` (`Closed`, `HalfOpen`, `Open`, `Isolated`). */
  breakerTransitions: Metric.counter("chittyid.breaker.transitions", {
    description: "Circuit breaker transitions, by operation and target state",
    incremental: true
  }),
  /** By `chittyid.operation`: calls failed with `CircuitOpen` before any request. */
  breakerRejections: Metric.counter("chittyid.breaker.rejections", {
    description: "Calls rejected by an open circuit breaker without a request, by operation",
    incremental: true
  }),
  cacheHits: Metric.counter("chittyid.cache.hits", {
    description: "Validation cache hits",
    incremental: true
  }),
  cacheMisses: Metric.counter("chittyid.cache.misses", {
    description: "Validation cache misses",
    incremental: true
  }),
  cacheEvictions: Metric.counter("chittyid.cache.evictions", {
    description: "Validation cache evictions (capacity)",
    incremental: true
  }),
  /** By `chittyid.health.result` (`ok`, `degraded`, `failed`). */
  healthChecks: Metric.counter("chittyid.health.checks", {
    description: "Health checks, by result",
    incremental: true
  }),
  /**
   * By `chittyid.fleet.component` (`cache`, `breaker`, `rateLimit`): a shared piece of
   * `Fleet.layerRedis` went local.
   */
  fleetFallbacks: Metric.counter("chittyid.fleet.fallbacks", {
    description: "Times a shared fleet component (cache, breaker, rateLimit) fell back to local state, by component",
    incremental: true
  })
} as const

/**
 * The unit of each metric of {@link metrics}, by metric name, in the UCUM notation OpenTelemetry uses
 * (`s` for seconds, `{mint}` for a count of mints). Effect's `Metric` has no unit of its own:
 * `effect-chittyid/Telemetry` reads them from here.
 *
 * @example
 * ```ts
 * import * as Observability from "effect-chittyid/Observability"
 * Observability.units["http.client.request.duration"] // "s"
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const units: Readonly<Record<string, string>> = {
  "http.client.request.duration": "s",
  "chittyid.mints": "{mint}",
  "chittyid.validations": "{validation}",
  "chittyid.retries": "{retry}",
  "chittyid.breaker.state": "{state}",
  "chittyid.breaker.transitions": "{transition}",
  "chittyid.breaker.rejections": "{call}",
  "chittyid.cache.hits": "{lookup}",
  "chittyid.cache.misses": "{lookup}",
  "chittyid.cache.evictions": "{entry}",
  "chittyid.health.checks": "{check}",
  "chittyid.fleet.fallbacks": "{fallback}",
  "chittyid.audit.entries": "{entry}",
  "chittyid.audit.failures": "{failure}"
}

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
  /** A piece the fleet shares (on Redis) is unavailable: it works on local state until it is back. */
  FleetFallback: {
    readonly component: FleetComponent
    readonly reason: string
    readonly at: number
  }
  /** A shared piece is back after a `FleetFallback`. */
  FleetRestored: {
    readonly component: FleetComponent
    readonly at: number
  }
}>

/**
 * The pieces a fleet of replicas shares: the validation cache, the circuit breakers, the mint rate
 * limit.
 *
 * @since 0.2.0
 * @category models
 */
export type FleetComponent = "cache" | "breaker" | "rateLimit"

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
