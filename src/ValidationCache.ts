/**
 * The cache of remote validation answers. A locally valid permanent ID is confirmed by the service
 * once, then answered from memory in microseconds until its time to live runs out.
 *
 * - **Coalescing**: every concurrent caller of one uncached ID shares one `POST /api/validate`.
 * - **Time to live per answer**: "valid" answers live `validTtl` (default 5 minutes); "not valid"
 *   answers (the ID was never issued, or the service disagrees on its format) live `unknownTtl`
 *   (default 30 seconds), so a freshly minted ID is not reported unknown for long.
 * - **Failures are never cached**: the next call asks again; concurrent callers of a failing
 *   look-up all get that one failure.
 * - **Capacity** (default 10 000) with least-recently-used eviction: a hit protects its entry.
 *   Each eviction is counted and published as `ClientEvent.CacheEvicted`.
 * - `Observability.metrics.cacheHits`, `cacheMisses` and `cacheEvictions` are updated as it goes.
 *
 * A caller that found another caller's look-up under way is reported `cached: true`, like a hit: it
 * sent no request of its own (`hits + misses` counts calls, `misses` counts look-ups started). The
 * caller that started the look-up is `cached: false`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * import { ValidationCache } from "effect-chittyid/ValidationCache"
 *
 * const isKnown = (id: ChittyId.ChittyId) =>
 *   Effect.flatMap(ValidationCache, (cache) => cache.get(id)).pipe(Effect.map(({ answer }) => answer.valid))
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as Api from "./Api.ts"
import type * as ChittyId from "./ChittyId.ts"
import { IdServiceClient } from "./IdServiceClient.ts"
import { IdServiceConfig } from "./IdServiceConfig.ts"
import type * as IdServiceError from "./IdServiceError.ts"
import { Fleet } from "./internal/fleet.ts"
import * as internal from "./internal/validationCache.ts"
import type * as Observability from "./Observability.ts"

/**
 * The service's answer about a locally valid ID. `unknown` is `true` when the ID is well-formed but
 * was never issued (`error` is `Api.unknownIdError`); any other refusal keeps the service's `error`.
 *
 * @example
 * ```ts
 * import type * as ValidationCache from "effect-chittyid/ValidationCache"
 *
 * const describe = (answer: ValidationCache.RemoteAnswer): string =>
 *   answer.valid ? `issued in ${answer.components.jurisdiction}` : answer.unknown ? "never issued" : answer.error
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type RemoteAnswer =
  | { readonly valid: true; readonly components: Api.Components }
  | { readonly valid: false; readonly unknown: boolean; readonly error: string }

/**
 * What {@link Service.get} returns: the answer, and whether this call was spared a request.
 *
 * @example
 * ```ts
 * import type * as ValidationCache from "effect-chittyid/ValidationCache"
 *
 * const source = (result: ValidationCache.Result) => result.cached ? "cache" : "service"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Result {
  readonly answer: RemoteAnswer
  /** `true` for a hit, and for a caller that shared another caller's look-up. */
  readonly cached: boolean
}

/**
 * The cache's interface.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type * as ChittyId from "effect-chittyid/ChittyId"
 * import type * as ValidationCache from "effect-chittyid/ValidationCache"
 *
 * const recheck = (cache: ValidationCache.Service, id: ChittyId.ChittyId) =>
 *   Effect.zipRight(cache.invalidate(id), cache.get(id))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * The answer for a locally valid permanent ID: from the cache (`cached: true`), or from one
   * `IdServiceClient.validate` request shared by every concurrent caller of the same ID.
   */
  readonly get: (id: ChittyId.ChittyId) => Effect.Effect<Result, IdServiceError.IdServiceError>
  /** Forgets the answer for one ID; a look-up under way for it will not be stored. */
  readonly invalidate: (id: string) => Effect.Effect<void>
  /** Forgets every answer; look-ups under way will not be stored. */
  readonly invalidateAll: Effect.Effect<void>
  /** Hits, misses, evictions, entries held (expired ones until next touched) and capacity. */
  readonly stats: Effect.Effect<Observability.CacheStats>
  /** A `ClientEvent.CacheEvicted` for each entry dropped to stay within the capacity, from subscription on. */
  readonly evictions: Stream.Stream<Observability.ClientEvent>
}

/**
 * What {@link make} takes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * import type * as ValidationCache from "effect-chittyid/ValidationCache"
 *
 * const options: ValidationCache.Options = {
 *   capacity: 100,
 *   validTtl: "1 minute",
 *   unknownTtl: "5 seconds",
 *   lookup: () => Effect.succeed({ success: true, valid: false, error: Api.unknownIdError, timestamp: "" })
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Entries kept; the least recently used goes first. `0` caches nothing (look-ups are still shared). */
  readonly capacity: number
  /** Life of a "valid" answer; zero or less: not cached. */
  readonly validTtl: Duration.DurationInput
  /** Life of a "not valid" answer; zero or less: not cached. */
  readonly unknownTtl: Duration.DurationInput
  /** Asks the service (`IdServiceClient.validate` in {@link ValidationCache.layer}). */
  readonly lookup: (id: ChittyId.ChittyId) => Effect.Effect<Api.ValidateResponse, IdServiceError.IdServiceError>
}

/**
 * Reads a `POST /api/validate` answer as a {@link RemoteAnswer}.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * import * as ValidationCache from "effect-chittyid/ValidationCache"
 *
 * ValidationCache.answerOf({ success: true, valid: false, error: Api.unknownIdError, timestamp: "" })
 * // { valid: false, unknown: true, error: "NOT_FOUND" }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const answerOf: (response: Api.ValidateResponse) => RemoteAnswer = internal.answerOf

/**
 * Builds a cache over any look-up, without the tags: for tests, or a cache of your own. The
 * `evictions` stream ends when the scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as ValidationCache from "effect-chittyid/ValidationCache"
 * import { IdServiceClient } from "effect-chittyid/IdServiceClient"
 *
 * const cache = Effect.flatMap(IdServiceClient, (client) =>
 *   ValidationCache.make({ capacity: 1000, validTtl: "1 minute", unknownTtl: "5 seconds", lookup: client.validate })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Service, never, Scope.Scope> = internal.make

/**
 * The validation cache tag and its layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ValidationCache } from "effect-chittyid/ValidationCache"
 *
 * const hitRate = Effect.map(
 *   Effect.flatMap(ValidationCache, (cache) => cache.stats),
 *   ({ hits, misses }) => hits / Math.max(1, hits + misses)
 * )
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class ValidationCache extends Context.Tag("effect-chittyid/ValidationCache")<ValidationCache, Service>() {
  /**
   * The cache over `IdServiceClient.validate`, sized and timed by `IdServiceConfig`'s `cache`
   * settings (`CHITTY_ID_CACHE_CAPACITY`, `CHITTY_ID_CACHE_TTL`, `CHITTY_ID_CACHE_UNKNOWN_TTL`).
   * With `Fleet.layerRedis` provided around it, the answers are shared with the fleet (see
   * `effect-chittyid/Fleet`); without it, they stay in this process.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<ValidationCache, never, IdServiceClient | IdServiceConfig> = Layer.scoped(
    ValidationCache,
    Effect.gen(function*() {
      const settings = yield* IdServiceConfig
      const client = yield* IdServiceClient
      const fleet = yield* Effect.serviceOption(Fleet)
      const options: Options = { ...settings.cache, lookup: client.validate }
      return yield* (Option.isSome(fleet) ? fleet.value.makeValidationCache(options) : make(options))
    })
  )
}
