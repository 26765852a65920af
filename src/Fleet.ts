/**
 * Fleet mode: replicas of a service that mint and validate IDs share what one process keeps to
 * itself, on a Redis they all reach. Provide {@link layerRedis} around the live layer; every
 * `IdService` built with the same Redis and prefix shares
 *
 * - **the remote-validation cache**: `@effect/experimental`'s `PersistedCache` over its Redis
 *   `Persistence`, this process's LRU in front. One replica's answer serves the others after it;
 *   answers keep their time to live (valid/unknown TTLs as configured) in Redis and in each LRU;
 *   failures are never stored.
 * - **the mint rate limit** (setting `rateLimit`, env `CHITTY_ID_RATE_LIMIT`): counted fleet-wide
 *   by `@effect/experimental`'s `RateLimiter` over its Redis store instead of in each process.
 * - **the circuit breakers' state** (`CircuitBreakerStore.layerRedis`, which this layer includes):
 *   failures in a row counted together, one replica's opening rejects on all, one probe for the
 *   fleet (see `docs/breaker-store.md`).
 *
 * Redis down or slow never takes minting down: each piece falls back to its local form (logged once,
 * a `FleetFallback` event on `IdService.events`, `chittyid.fleet.fallbacks` counted) and returns when
 * Redis answers again (`FleetRestored`). Commands wait at most `commandTimeout` (default 100 ms).
 *
 * Needs the optional peers `@effect/experimental` (0.61.x) and `ioredis` (^5); nothing else in the
 * package loads them. See `docs/fleet.md` for the keys and their lifetimes.
 *
 * @example
 * ```ts
 * import { Duration, Effect, Layer } from "effect"
 * import * as Fleet from "effect-chittyid/Fleet"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Node from "effect-chittyid/node"
 *
 * const ServiceLive = Node.layerWith({
 *   url: "http://127.0.0.1:8787",
 *   remoteValidation: true,
 *   rateLimit: { limit: 100, window: Duration.seconds(1) }
 * }).pipe(Layer.provideMerge(Fleet.layerRedis({ url: "redis://127.0.0.1:6379", prefix: "billing" })))
 *
 * const program = IdService.mint({ entityType: "P" }).pipe(Effect.provide(ServiceLive))
 * ```
 *
 * @since 0.2.0
 */
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import { CircuitBreakerStore } from "./CircuitBreakerStore.ts"
import * as internal from "./internal/fleet.ts"
import * as internalRedis from "./internal/fleetRedis.ts"

/**
 * What {@link layerRedis} takes.
 *
 * @example
 * ```ts
 * import type * as Fleet from "effect-chittyid/Fleet"
 *
 * const options: Fleet.RedisOptions = { url: "redis://127.0.0.1:6379", prefix: "billing", commandTimeout: "250 millis" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface RedisOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  readonly url: string
  /** The first part of every key: the replicas with the same Redis and prefix share (default `chittyid`). */
  readonly prefix?: string | undefined
  /** How long a Redis command may take before the piece falls back to local state (default 100 ms). */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** How often a piece on local state checks whether Redis is back (default 500 ms). */
  readonly pollInterval?: Duration.DurationInput | undefined
}

/**
 * The shared pieces in context. The live layers (`IdService.layer…`, `Node.layer…`,
 * `Fetch.layer…`) pick it up when they are built; you do not use it directly.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Fleet from "effect-chittyid/Fleet"
 *
 * // "shared", or "local" while Redis is away
 * const cacheState = Effect.flatMap(Fleet.Fleet, (fleet) => fleet.state).pipe(Effect.map((state) => state.cache))
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export const Fleet: typeof internal.Fleet = internal.Fleet

/**
 * The type of the {@link Fleet} tag.
 *
 * @since 0.2.0
 * @category tags
 */
export type Fleet = internal.Fleet

/**
 * The fleet's shared pieces on Redis. Building it never fails for Redis being away: the pieces fall
 * back to local state on their first failed command and share once Redis answers. A `url` that is
 * not `redis://` or `rediss://` fails with a `ConfigError`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import * as Fleet from "effect-chittyid/Fleet"
 * import * as Node from "effect-chittyid/node"
 *
 * const ServiceLive = Node.layerWith({ url: "http://127.0.0.1:8787", rateLimit: "100/1s:fail" }).pipe(
 *   Layer.provideMerge(Fleet.layerRedis({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRedis = (options: RedisOptions): Layer.Layer<Fleet | CircuitBreakerStore, ConfigError.ConfigError> =>
  Layer.merge(Layer.scoped(internal.Fleet, internalRedis.make(options)), CircuitBreakerStore.layerRedis(options))
