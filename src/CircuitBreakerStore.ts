/**
 * Where circuit breakers keep the state they share with the other replicas of a fleet. Each breaker
 * still runs its own state machine (`CircuitBreaker`, `Ref`-backed, every decision local and
 * synchronous); the store shares what the fleet must agree on:
 *
 * - the **failures in a row**, counted by every replica together within the breaker's window: the
 *   fleet opens after `consecutiveFailures` of them, not each replica after its own;
 * - the **open period**: one replica's breaker opening makes every replica reject with
 *   `CircuitOpen`, without a request, until it ends;
 * - the **probe**: when it ends, one replica in the fleet claims the probe; a successful probe closes
 *   the breaker for all, a failed one opens it again for all.
 *
 * Without a store in context (the default) each breaker keeps all of its state to itself: today's
 * behaviour, at today's cost. `layerMemory` shares between the breakers of one process;
 * `layerRedis` between processes and machines, over Redis (`ioredis`, an optional peer dependency).
 * A replica reads the shared state from memory (kept up to date by Redis pub/sub and a short poll),
 * so a call costs no Redis round trip; Redis is asked when a failure is counted, a probe is claimed,
 * and the breaker opens or closes. When Redis is down or slow, every breaker carries on with its own
 * state (logged once, a `FleetFallback` event, the `chittyid.fleet.fallbacks` counter) and shares
 * again when Redis is back (`FleetRestored`). See docs/breaker-store.md.
 *
 * @example
 * ```ts
 * import { Layer, Redacted } from "effect"
 * import { CircuitBreakerStore } from "effect-chittyid/CircuitBreakerStore"
 * import * as Node from "effect-chittyid/node"
 *
 * // every replica built like this shares the mint and validate breakers through Redis
 * const ServiceLive = Node.layerWith({ url: "https://id.chitty.cc", token: Redacted.make("…") }).pipe(
 *   Layer.provideMerge(CircuitBreakerStore.layerRedis({ url: "redis://127.0.0.1:6379", prefix: "billing" }))
 * )
 * ```
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as CircuitBreaker from "./CircuitBreaker.ts"
import type * as Machine from "./internal/circuitBreaker.ts"
import * as internal from "./internal/circuitBreakerStore.ts"
import * as internalRedis from "./internal/circuitBreakerStoreRedis.ts"
import type * as Observability from "./Observability.ts"

/**
 * `shared` while the store answers; `fallback` while it is down or slow and each breaker keeps its
 * own state.
 *
 * @example
 * ```ts
 * import type * as CircuitBreakerStore from "effect-chittyid/CircuitBreakerStore"
 * const sharing = (mode: CircuitBreakerStore.Mode) => mode === "shared"
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Mode = "shared" | "fallback"

/**
 * What a replica knows of the fleet's breaker (times in epoch ms): nothing (`Unknown`, also in
 * fallback), when it last closed, its open period (opened by a replica at `since`, ending at
 * `retryAt`), or another replica probing until `until`.
 *
 * @example
 * ```ts
 * import type * as CircuitBreakerStore from "effect-chittyid/CircuitBreakerStore"
 * const rejecting = (view: CircuitBreakerStore.View, now: number) => view._tag === "Open" && view.retryAt > now
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type View = Machine.SharedView

/**
 * An open period to share: when it began, when it ends, why, and the trips so far (the open period
 * backs off with them).
 *
 * @example
 * ```ts
 * import type * as CircuitBreakerStore from "effect-chittyid/CircuitBreakerStore"
 * const period: CircuitBreakerStore.OpenPeriod = { since: 0, retryAt: 60_000, reason: "ConsecutiveFailures", trips: 1 }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface OpenPeriod {
  readonly since: number
  readonly retryAt: number
  readonly reason: CircuitBreaker.OpenReason
  readonly trips: number
}

/**
 * The shared state of one breaker, as its `CircuitBreaker` uses it (pass it as the `shared` option
 * of `CircuitBreaker.make`). No effect here fails: while the store is unavailable each answers what a
 * breaker on its own would (no fleet count, the probe is this replica's).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as CircuitBreaker from "effect-chittyid/CircuitBreaker"
 * import { CircuitBreakerStore } from "effect-chittyid/CircuitBreakerStore"
 *
 * const payments = Effect.gen(function*() {
 *   const store = yield* CircuitBreakerStore
 *   const shared = yield* store.breaker("payments", { probeTimeout: "5 seconds" })
 *   return yield* CircuitBreaker.make({ name: "payments", consecutiveFailures: 5, shared })
 * })
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Shared {
  /** The breaker's name in the store (its keys are `<prefix>:breaker:<name>:…`). */
  readonly name: string
  /** What this replica knows of the fleet now; no I/O. */
  readonly view: () => View
  /** Counts one failure for the fleet; the fleet's failures in a row, `undefined` in fallback. */
  readonly recordFailure: (windowMillis: number) => Effect.Effect<number | undefined>
  /** A success after failures: the fleet's count starts again. */
  readonly endStreak: Effect.Effect<void>
  /** This replica's breaker opened: the fleet's does. */
  readonly open: (period: OpenPeriod) => Effect.Effect<void>
  /**
   * Claims the fleet's one probe for a breaker that opened at `openedAt`: `false` when another
   * replica probes, or the fleet's breaker opened again or closed meanwhile (the view says which).
   */
  readonly claimProbe: (openedAt: number) => Effect.Effect<boolean>
  /** This replica's probe succeeded: the fleet's breaker closes. */
  readonly close: (since: number) => Effect.Effect<void>
  /** Runs `onChange` after each change of the view, for the life of the store's scope. */
  readonly follow: (onChange: Effect.Effect<void>) => Effect.Effect<void>
}

/**
 * Options of {@link Service.breaker}.
 *
 * @example
 * ```ts
 * import type * as CircuitBreakerStore from "effect-chittyid/CircuitBreakerStore"
 * const options: CircuitBreakerStore.BreakerOptions = { probeTimeout: "6 seconds" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface BreakerOptions {
  /**
   * How long a probe claim holds (default 10 s): longer than a probe can take, so that a replica that
   * dies while probing frees the claim after it.
   */
  readonly probeTimeout?: Duration.DurationInput | undefined
}

/**
 * The store.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreakerStore } from "effect-chittyid/CircuitBreakerStore"
 * const sharing = Effect.flatMap(CircuitBreakerStore, (store) => store.mode)
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  readonly backend: "memory" | "redis"
  /** The shared state of the breaker `name`, for the life of the scope. */
  readonly breaker: (name: string, options?: BreakerOptions) => Effect.Effect<Shared, never, Scope.Scope>
  /** `shared`, or `fallback` while the store is unavailable. */
  readonly mode: Effect.Effect<Mode>
  /**
   * `FleetFallback` and `FleetRestored` events (`component: "breaker"`), from the moment the stream
   * runs; the live `IdService` merges them into its `events`.
   */
  readonly events: Stream.Stream<Observability.ClientEvent>
}

/**
 * Options of {@link CircuitBreakerStore.layerRedis}.
 *
 * @example
 * ```ts
 * import type * as CircuitBreakerStore from "effect-chittyid/CircuitBreakerStore"
 * const options: CircuitBreakerStore.RedisOptions = { url: "redis://10.0.0.5:6379", prefix: "billing" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface RedisOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  readonly url: string
  /** The first part of every key: the replicas with the same Redis and prefix share (default `chittyid`). */
  readonly prefix?: string | undefined
  /** How long a command may take before the store falls back to local state (default 100 ms). */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /**
   * How often a replica reads the shared state besides pub/sub, and, in fallback, checks whether
   * Redis is back (default 500 ms).
   */
  readonly pollInterval?: Duration.DurationInput | undefined
}

/**
 * The breaker store. `IdServiceBreakers.layer` (in every live `IdService` layer) takes it from
 * context when it is built: provide it around the live layer and both of the client's breakers
 * (`mint`, `validate`) share their state through it.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { CircuitBreakerStore } from "effect-chittyid/CircuitBreakerStore"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Node from "effect-chittyid/node"
 *
 * const ServiceLive = Node.layer.pipe(Layer.provideMerge(CircuitBreakerStore.layerRedis({ url: "redis://127.0.0.1:6379" })))
 * const program = IdService.mint({ entityType: "P" }).pipe(Effect.provide(ServiceLive))
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class CircuitBreakerStore extends Context.Tag("effect-chittyid/CircuitBreakerStore")<
  CircuitBreakerStore,
  Service
>() {
  /**
   * A store in this process's memory: the breakers built with it (several `IdService`s of one
   * process, say) share their state as replicas do over Redis. Its expiries follow `Clock`, so
   * `TestClock` drives them.
   *
   * @since 0.2.0
   */
  static readonly layerMemory: Layer.Layer<CircuitBreakerStore> = Layer.scoped(
    CircuitBreakerStore,
    Effect.suspend(() =>
      internal.make(internal.memoryBackend(), { pollInterval: undefined, startInFallback: undefined })
    )
  )

  /**
   * A store on Redis. Building it never fails for Redis being away: it starts in fallback and
   * shares once Redis answers. `ioredis` (^5) must be installed.
   *
   * @since 0.2.0
   */
  static readonly layerRedis = (options: RedisOptions): Layer.Layer<CircuitBreakerStore> =>
    Layer.scoped(
      CircuitBreakerStore,
      Effect.flatMap(internalRedis.make(options), ({ backend, unreachable }) =>
        internal.make(backend, {
          pollInterval: internalRedis.pollInterval(options),
          startInFallback: unreachable
        }))
    )
}
