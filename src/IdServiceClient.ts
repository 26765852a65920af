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
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import type * as Api from "./Api.ts"
import type * as ChittyId from "./ChittyId.ts"
import * as CircuitBreaker from "./CircuitBreaker.ts"
import type { IdServiceConfig } from "./IdServiceConfig.ts"
import type * as IdServiceError from "./IdServiceError.ts"
import * as internalBreaker from "./internal/breaker.ts"
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
  /**
   * The span the call belongs to (`IdService.mint` passes its `ChittyId.mint` span): its context is
   * sent as `traceparent`, and it is the parent of any span the `HttpClient` makes. Without one, the
   * fiber's current span is.
   *
   * @since 0.2.0
   */
  readonly span?: Tracer.AnySpan | undefined
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
  /**
   * `POST /api/validate` for an ID that passed the local check, under the validate breaker. The
   * answer is checked against the ID (a valid answer carries its components, check number included);
   * one about another ID is `MalformedResponse`.
   */
  readonly validate: (id: ChittyId.ChittyId) => Effect.Effect<Api.ValidateResponse, IdServiceError.IdServiceError>
  /**
   * `POST /api/validate` for a fallback placeholder, under the mint breaker (the service tries to
   * mint its replacement then): the replacement answer, or `MintUnavailable` while the service
   * cannot replace it yet (retried like a placeholder mint: the service replaces a placeholder once
   * and answers the same permanent ID every time after), `InvalidRequest` if it never will.
   *
   * @since 0.2.0
   */
  readonly replaceFallback: (
    placeholder: ChittyId.FallbackId
  ) => Effect.Effect<Api.ValidateReplaced, IdServiceError.IdServiceError>
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
 * The circuit breakers of the client, one per operation: minting trouble (placeholders, a slow
 * minting backend) opens the mint breaker and never stops validation. A failure of the whole service
 * (a refused or broken connection) is recorded by both.
 *
 * @since 0.2.0
 * @category models
 */
export interface Breakers {
  readonly mint: CircuitBreaker.CircuitBreaker
  readonly validate: CircuitBreaker.CircuitBreaker
}

/**
 * The client's breakers, one per operation (see {@link Breakers}). The live `IdService` layers
 * provide them, so you can follow or `isolate` each.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { IdServiceBreakers } from "effect-chittyid/IdServiceClient"
 *
 * const states = Effect.flatMap(IdServiceBreakers, (breakers) =>
 *   Effect.all({ mint: breakers.mint.state, validate: breakers.validate.state }))
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class IdServiceBreakers extends Context.Tag("effect-chittyid/IdServiceBreakers")<
  IdServiceBreakers,
  Breakers
>() {
  /**
   * Two breakers (`mint`, `validate`) with the `breaker` settings of `IdServiceConfig`, their state
   * kept in the `chittyid.breaker.state` gauge labelled by `chittyid.operation`.
   *
   * @since 0.2.0
   */
  static readonly layer: Layer.Layer<IdServiceBreakers, never, IdServiceConfig> = Layer.scoped(
    IdServiceBreakers,
    internalBreaker.make
  )

  /**
   * One `CircuitBreaker` from context judging both operations (the wiring before 0.2.0).
   *
   * @since 0.2.0
   */
  static readonly layerShared: Layer.Layer<IdServiceBreakers, never, CircuitBreaker.CircuitBreaker> = Layer.effect(
    IdServiceBreakers,
    Effect.map(CircuitBreaker.CircuitBreaker, (breaker) => ({ mint: breaker, validate: breaker }))
  )
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
   * The client over the `HttpClient`, its breakers and settings in context.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<
    IdServiceClient,
    never,
    HttpClient.HttpClient | IdServiceBreakers | IdServiceConfig
  > = Layer.scoped(IdServiceClient, Effect.flatMap(IdServiceBreakers, (breakers) => internal.make({}, breakers)))

  /**
   * {@link IdServiceClient.layer} with options.
   *
   * @since 0.1.0
   */
  static readonly layerWith = (
    options: Options
  ): Layer.Layer<IdServiceClient, never, HttpClient.HttpClient | IdServiceBreakers | IdServiceConfig> =>
    Layer.scoped(IdServiceClient, Effect.flatMap(IdServiceBreakers, (breakers) => internal.make(options, breakers)))
}
