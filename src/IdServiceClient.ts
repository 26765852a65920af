/**
 * The resilient HTTP client of the ChittyID service: one typed call per endpoint, each attempt under
 * its own timeout cut to what is left of the call's overall deadline (one timer per attempt), retried
 * by the `Retry` policy within that deadline, the whole call under the circuit breaker (which judges
 * calls, so an open breaker rejects before anything else runs). Every
 * answer is decoded with the contract's Schema. `IdService`, `ValidationCache` and `HealthMonitor`
 * are built on it.
 *
 * ```
 * call ─► CircuitBreaker ─► retry(Schedule, deadline) ─► attempt timeout (cut to the deadline) ─► HttpClient
 * ```
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { IdServiceClient } from "effect-chittyid/IdServiceClient"
 *
 * const status = Effect.flatMap(IdServiceClient, (client) => client.health()).pipe(Effect.map((h) => h.status))
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type * as Api from "./Api.ts"
import type * as ChittyId from "./ChittyId.ts"
import type { CircuitBreaker } from "./CircuitBreaker.ts"
import type { IdServiceConfig } from "./IdServiceConfig.ts"
import type * as IdServiceError from "./IdServiceError.ts"
import * as internal from "./internal/idServiceClient.ts"
import type * as Observability from "./Observability.ts"

/**
 * What one logical mint sends; its retries send the same.
 *
 * @since 0.1.0
 * @category models
 */
export interface MintCall {
  /** The JSON body, already encoded. */
  readonly body: string
  readonly urlParams: Readonly<Record<string, string>>
  readonly idempotencyKey: string
  /**
   * Take a fallback placeholder as an answer. When `false`, a placeholder fails the attempt with
   * `MintUnavailable` (retryable; the service does not store failed mints under the key).
   */
  readonly acceptFallback: boolean
}

/**
 * The client's interface.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `POST /v1/mint`, retried with the same `Idempotency-Key`. */
  readonly mint: (call: MintCall) => Effect.Effect<Api.MintResponse, IdServiceError.IdServiceError>
  /** `POST /api/validate` for an ID that passed the local check. */
  readonly validate: (id: ChittyId.ChittyId) => Effect.Effect<Api.ValidateResponse, IdServiceError.IdServiceError>
  /** One `GET /health` attempt: no retry, no breaker (the health monitor judges the breaker). */
  readonly health: (
    timeout?: Duration.DurationInput
  ) => Effect.Effect<Api.HealthResponse, IdServiceError.IdServiceError>
  /** A `RetryScheduled` event for each retry. */
  readonly retries: Stream.Stream<Observability.ClientEvent>
  /** Counters of requests, failures and retries. */
  readonly stats: Effect.Effect<Observability.RequestStats>
}

/**
 * Options of {@link IdServiceClient.layerWith}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Transforms the `HttpClient` (add headers, tracing, a proxy…), after the base URL is applied. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * The client tag and its layers.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { IdServiceClient } from "effect-chittyid/IdServiceClient"
 * const ping = Effect.flatMap(IdServiceClient, (client) => client.health("2 seconds"))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class IdServiceClient extends Context.Tag("effect-chittyid/IdServiceClient")<IdServiceClient, Service>() {
  /**
   * The client over the `HttpClient`, `CircuitBreaker` and settings in context.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<
    IdServiceClient,
    never,
    HttpClient.HttpClient | CircuitBreaker | IdServiceConfig
  > = Layer.scoped(IdServiceClient, internal.make({}))

  /**
   * {@link IdServiceClient.layer} with options.
   *
   * @since 0.1.0
   */
  static readonly layerWith = (
    options: Options
  ): Layer.Layer<IdServiceClient, never, HttpClient.HttpClient | CircuitBreaker | IdServiceConfig> =>
    Layer.scoped(IdServiceClient, internal.make(options))
}
