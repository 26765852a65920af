/**
 * `IdService`: mint and validate ChittyIDs from Effect code.
 *
 * Provide {@link IdService.layer} (live, over `HttpClient`, configured from `CHITTY_ID_*`) in your
 * service and {@link IdService.layerTest} (in memory, deterministic) in your tests; write your code
 * against the tag or the accessors {@link mint} and {@link validate}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 *
 * const program = Effect.gen(function*() {
 *   const minted = yield* IdService.mint({ entityType: "person" })
 *   const checked = yield* IdService.validate(minted.chittyId)
 *   return checked.valid // true
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(IdService.IdService.layerTest())))
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type * as ChittyId from "./ChittyId.ts"
import { HealthMonitor } from "./HealthMonitor.ts"
import { IdServiceBreakers, IdServiceClient } from "./IdServiceClient.ts"
import * as IdServiceConfig from "./IdServiceConfig.ts"
import type * as IdServiceError from "./IdServiceError.ts"
import * as internal from "./internal/idService.ts"
import * as internalTest from "./internal/idServiceTest.ts"
import type * as Observability from "./Observability.ts"
import { ValidationCache } from "./ValidationCache.ts"

/**
 * What to mint.
 *
 * @since 0.1.0
 * @category models
 */
export interface MintRequest {
  /** A code (`P`), a word (`person`) or a legacy name (`PEO`). */
  readonly entityType: ChittyId.EntityTypeInput
  /** Stored with the ID by the service. Must be JSON. */
  readonly metadata?: Readonly<Record<string, unknown>> | undefined
  /** 1–9; the service defaults to 1. */
  readonly region?: ChittyId.Region | undefined
  /** Three upper-case letters; the service defaults to `USA`. */
  readonly jurisdiction?: string | undefined
  /** 0–5; the service defaults to 0. */
  readonly trustLevel?: ChittyId.TrustLevel | undefined
  /** Accept a fallback placeholder as the result instead of failing with `MintUnavailable`. */
  readonly acceptFallback?: boolean | undefined
  /**
   * The `Idempotency-Key` of this logical mint. Default: a new random key per `mint` call, reused by
   * its retries. Pass your own to make a mint idempotent across calls or processes.
   */
  readonly idempotencyKey?: string | undefined
}

/**
 * A minted permanent ID.
 *
 * @since 0.1.0
 * @category models
 */
export interface Minted {
  readonly fallback: false
  readonly chittyId: ChittyId.ChittyId
  readonly parts: ChittyId.PermanentParts
  /** When the service minted it (its own timestamp). */
  readonly timestamp: string
  /** The key the mint was sent with; for a replacement (`replaceFallback`), the placeholder. */
  readonly idempotencyKey: string
  /** For an ID from `replaceFallback`: the placeholder it replaced. @since 0.2.0 */
  readonly replaces?: string | undefined
}

/**
 * A fallback placeholder, returned only when the caller accepts placeholders.
 *
 * @since 0.1.0
 * @category models
 */
export interface FallbackMinted {
  readonly fallback: true
  readonly chittyId: ChittyId.FallbackId
  readonly parts: ChittyId.FallbackParts
  readonly errorCode: string
  readonly message: string
  readonly idempotencyKey: string
}

/**
 * The result of a mint: a permanent ID, or (only when accepted) a fallback placeholder.
 *
 * @since 0.1.0
 * @category models
 */
export type MintResult = Minted | FallbackMinted

/**
 * Where a validation answer came from.
 *
 * @since 0.1.0
 * @category models
 */
export type ValidationSource = "local" | "cache" | "service"

/**
 * The answer of `validate`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ValidationResult {
  readonly chittyId: string
  readonly valid: boolean
  /** `"permanent"` or `"fallback"` when the ID is well-formed. */
  readonly kind?: ChittyId.Parts["kind"] | undefined
  /** Why it is not valid, in words. */
  readonly reason?: string | undefined
  /** The format rule it broke, when the local check refused it. */
  readonly rule?: ChittyId.Rule | undefined
  /** For a well-formed ID: its parts. */
  readonly parts?: ChittyId.Parts | undefined
  readonly source: ValidationSource
}

/**
 * Options of one `validate` call.
 *
 * @since 0.1.0
 * @category models
 */
export interface ValidateOptions {
  /** Confirm a locally valid ID with the service (default: the `remoteValidation` setting). */
  readonly remote?: boolean | undefined
}

/**
 * The service's interface.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Mints an ID. Sends one `Idempotency-Key` per call, reused by its retries, so a retry never
   * mints twice. A fallback placeholder fails with `MintUnavailable` unless accepted.
   */
  readonly mint: (request: MintRequest) => Effect.Effect<MintResult, IdServiceError.IdServiceError>
  /**
   * Validates an ID: locally by default (the service's own rules, no request); with `remote`, a
   * locally valid ID is confirmed by the service (and cached). A locally invalid ID is never sent.
   */
  readonly validate: (
    id: string,
    options?: ValidateOptions
  ) => Effect.Effect<ValidationResult, IdServiceError.IdServiceError>
  /**
   * Turns a fallback placeholder into the permanent ID the service minted for its request once
   * minting works again: asks the service about it (`POST /api/validate`, which replaces it on the
   * live service and both reference server profiles; the same permanent ID every time after) and
   * checks the new ID locally like a mint answer. Fails `MintUnavailable` while the service cannot
   * replace it yet (try again later), `InvalidRequest` for an input that is not a placeholder or one
   * the service will never replace.
   *
   * @since 0.2.0
   */
  readonly replaceFallback: (placeholder: string) => Effect.Effect<Minted, IdServiceError.IdServiceError>
  /** Connection state, breaker states, cache stats and the last health check. */
  readonly health: Effect.Effect<Observability.HealthReport>
  /** Counters since start. */
  readonly stats: Effect.Effect<Observability.ClientStats>
  /** Breaker transitions, retries, reconnections, health changes, cache evictions. */
  readonly events: Stream.Stream<Observability.ClientEvent>
}

/**
 * The `IdService` tag and its layers.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { IdService } from "effect-chittyid/IdService"
 *
 * const program = Effect.flatMap(IdService, (ids) => ids.mint({ entityType: "P" }))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class IdService extends Context.Tag("effect-chittyid/IdService")<IdService, Service>() {
  /**
   * The service over its parts in context: build your own wiring with this (for example a shared
   * `CircuitBreaker`, or a `ValidationCache` of your own).
   *
   * @since 0.1.0
   */
  static readonly layerWithoutDependencies: Layer.Layer<
    IdService,
    never,
    IdServiceClient | ValidationCache | HealthMonitor | IdServiceBreakers | IdServiceConfig.IdServiceConfig
  > = Layer.scoped(IdService, internal.make)

  /**
   * The live service over the `HttpClient` and the settings in context: the client, its circuit
   * breakers (one per operation), the validation cache and the health monitor (whose fiber runs in
   * the layer's scope). The cache, the monitor and the breakers are provided too, so you can
   * `invalidate` a cached answer, follow the connection state or `isolate` a breaker.
   *
   * @since 0.1.0
   */
  static readonly layerFromConfig = (
    options: LiveOptions = {}
  ): Layer.Layer<LiveServices, never, HttpClient.HttpClient | IdServiceConfig.IdServiceConfig> =>
    IdService.layerWithoutDependencies.pipe(
      Layer.provideMerge(
        Layer.merge(
          ValidationCache.layer,
          options.healthMonitor === "onDemand" ? HealthMonitor.layerOnDemand : HealthMonitor.layer
        )
      ),
      Layer.provideMerge(IdServiceClient.layerWith(options)),
      Layer.provideMerge(IdServiceBreakers.layer)
    )

  /**
   * The live service over the `HttpClient` in context, configured from `CHITTY_ID_*` (see
   * `IdServiceConfig`). A bad setting fails the layer with a `ConfigError`.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<LiveServices, ConfigError.ConfigError, HttpClient.HttpClient> = IdService
    .layerFromConfig().pipe(Layer.provide(IdServiceConfig.IdServiceConfig.layer))

  /**
   * The live service with settings given in code (defaults for the rest). A bad setting fails the
   * layer with a `ConfigError`.
   *
   * @since 0.1.0
   */
  static readonly layerWith = (
    input: IdServiceConfig.Input & LiveOptions
  ): Layer.Layer<LiveServices, ConfigError.ConfigError, HttpClient.HttpClient> =>
    IdService.layerFromConfig({ transformClient: input.transformClient, healthMonitor: input.healthMonitor }).pipe(
      Layer.provide(IdServiceConfig.IdServiceConfig.layerWith(input))
    )

  /**
   * The live service with its settings read from `Config`s (as `@effect/ai-openai`'s
   * `OpenAiClient.layerConfig` does): each setting a plain value or a `Config`, the whole read when
   * the layer is built. A missing or bad value fails the layer with a `ConfigError`.
   *
   * @example
   * ```ts
   * import { Config } from "effect"
   * import { IdService } from "effect-chittyid/IdService"
   *
   * const ServiceLive = IdService.layerConfig({
   *   url: Config.string("MY_ID_SERVICE_URL"),
   *   token: Config.redacted("MY_ID_SERVICE_TOKEN"),
   *   health: { interval: Config.duration("MY_HEALTH_INTERVAL").pipe(Config.withDefault("1 minute")) }
   * })
   * ```
   *
   * @since 0.2.0
   */
  static readonly layerConfig = (
    options: Config.Config.Wrap<IdServiceConfig.Input & LiveOptions>
  ): Layer.Layer<LiveServices, ConfigError.ConfigError, HttpClient.HttpClient> =>
    Layer.unwrapEffect(Effect.map(Config.unwrap<IdServiceConfig.Input & LiveOptions>(options), IdService.layerWith))

  /**
   * An in-memory service for tests: deterministic sequences, a registry for remote validation, no
   * network. Mints follow the same rules as the service (format, entity types, defaults). It
   * provides the same services as the live layer, so code that uses them runs without the network:
   * a `ValidationCache` over the registry (the live cache with the default capacity and TTLs, so
   * `invalidate` and hits behave as live), a `HealthMonitor` always `Connected` with no fiber
   * (`checkNow` answers an ok check) and real `IdServiceBreakers` with the default settings
   * (`isolate` one and `health` reports it; the in-memory calls do not run through them).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { IdService } from "effect-chittyid/IdService"
   * import { IdServiceBreakers } from "effect-chittyid/IdServiceClient"
   *
   * const degraded = Effect.gen(function*() {
   *   const breakers = yield* IdServiceBreakers
   *   yield* breakers.mint.isolate
   *   return (yield* (yield* IdService).health).status // "degraded"
   * }).pipe(Effect.provide(IdService.layerTest()))
   * ```
   *
   * @since 0.1.0
   */
  static readonly layerTest = (options?: TestOptions): Layer.Layer<LiveServices> =>
    Layer.scopedContext(
      Effect.map(internalTest.make(options), (parts) =>
        Context.make(IdService, parts.service).pipe(
          Context.add(ValidationCache, parts.cache),
          Context.add(HealthMonitor, parts.monitor),
          Context.add(IdServiceBreakers, parts.breakers)
        ))
    )
}

/**
 * What the live layers provide: the service, and the parts you may want to reach directly
 * (`ValidationCache.invalidate`, `HealthMonitor.changes`, `IdServiceBreakers` to `isolate` one…).
 *
 * @since 0.1.0
 * @category models
 */
export type LiveServices = IdService | ValidationCache | HealthMonitor | IdServiceBreakers

/**
 * Extra options of the live layer given in code.
 *
 * @since 0.1.0
 * @category models
 */
export interface LiveOptions {
  /** Transforms the `HttpClient` (add headers, tracing, a proxy…), after the base URL is applied. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
  /**
   * `"background"` (default): a fiber checks `/health` every interval for as long as the layer
   * lives. `"onDemand"`: no fiber and no timer between calls (Workers, serverless); the connection
   * state changes only through `HealthMonitor.checkNow`.
   *
   * @since 0.2.0
   */
  readonly healthMonitor?: "background" | "onDemand" | undefined
}

/**
 * Options of {@link IdService.layerTest}.
 *
 * @since 0.1.0
 * @category models
 */
export interface TestOptions {
  /** Validate remotely (against the in-memory registry) by default. */
  readonly remoteValidation?: boolean | undefined
  /** Accept fallback placeholders by default. */
  readonly acceptFallback?: boolean | undefined
  /**
   * Decides, per mint, a failure to return instead of minting (to test your error handling); a
   * `MintUnavailable` here yields a fallback placeholder when accepted.
   */
  readonly failMint?: ((request: MintRequest, n: number) => IdServiceError.IdServiceError | undefined) | undefined
}

/**
 * Mints an ID with the `IdService` in context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * const ids = Effect.forEach(["P", "L"] as const, (entityType) => IdService.mint({ entityType }))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const mint = (request: MintRequest): Effect.Effect<MintResult, IdServiceError.IdServiceError, IdService> =>
  Effect.flatMap(IdService, (service) => service.mint(request))

/**
 * Validates an ID with the `IdService` in context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * const valid = IdService.validate("03-1-USA-5537-P-2602-0-38").pipe(Effect.map((r) => r.valid))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const validate = (
  id: string,
  options?: ValidateOptions
): Effect.Effect<ValidationResult, IdServiceError.IdServiceError, IdService> =>
  Effect.flatMap(IdService, (service) => service.validate(id, options))

/**
 * Replaces a fallback placeholder with the permanent ID the service minted for it, with the
 * `IdService` in context (see `Service.replaceFallback`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * const permanent = (placeholder: string) =>
 *   IdService.replaceFallback(placeholder).pipe(
 *     Effect.retry({ times: 5, while: (error) => error._tag === "MintUnavailable" })
 *   )
 * ```
 *
 * @since 0.2.0
 * @category accessors
 */
export const replaceFallback = (
  placeholder: string
): Effect.Effect<Minted, IdServiceError.IdServiceError, IdService> =>
  Effect.flatMap(IdService, (service) => service.replaceFallback(placeholder))

/**
 * The health report of the `IdService` in context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * const state = IdService.health.pipe(Effect.map((h) => h.connection))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const health: Effect.Effect<Observability.HealthReport, never, IdService> = Effect.flatMap(
  IdService,
  (service) => service.health
)

/**
 * The counters of the `IdService` in context.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * const minted = IdService.stats.pipe(Effect.map((s) => s.mint.succeeded))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const stats: Effect.Effect<Observability.ClientStats, never, IdService> = Effect.flatMap(
  IdService,
  (service) => service.stats
)
