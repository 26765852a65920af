/**
 * The fleet's shared pieces on Redis, built from `@effect/experimental`: the validation answers in a
 * `PersistedCache` over its Redis `Persistence` (this process's LRU engine in front, keeping each
 * answer's time to live), and the mint permits from its `RateLimiter` over its Redis store.
 *
 * Each piece falls back to its local form when a Redis command fails or takes longer than the
 * command timeout (ioredis's `commandTimeout`, also for commands queued while it reconnects): logged
 * once, a `FleetFallback` event, `chittyid.fleet.fallbacks` counted. While local, a piece sends
 * Redis nothing but a probe every poll interval; the first probe that answers brings it back
 * (`FleetRestored`).
 *
 * @internal
 */
import * as PersistedCache from "@effect/experimental/PersistedCache"
import * as Persistence from "@effect/experimental/Persistence"
import * as ExperimentalRateLimiter from "@effect/experimental/RateLimiter"
import * as Clock from "effect/Clock"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as PrimaryKey from "effect/PrimaryKey"
import * as PubSub from "effect/PubSub"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { RedisOptions } from "ioredis"
import * as Api from "../Api.ts"
import type * as ChittyId from "../ChittyId.ts"
import type * as IdServiceConfig from "../IdServiceConfig.ts"
import * as IdServiceError from "../IdServiceError.ts"
import * as Observability from "../Observability.ts"
import type * as ValidationCache from "../ValidationCache.ts"
import * as BreakerStoreRedis from "./circuitBreakerStoreRedis.ts"
import type * as Fleet from "./fleet.ts"
import * as RedisClient from "./fleetRedisClient.ts"
import * as MintRateLimit from "./mintRateLimit.ts"
import * as Engine from "./validationCache.ts"

/**
 * What `Fleet.layerRedis` takes: the breaker store's Redis options, with its defaults, since the fleet
 * passes the same options to both.
 */
export type Options = BreakerStoreRedis.Options

/** A cached answer as Redis keeps it: the answer and when it expires (epoch milliseconds). */
const RemoteAnswer = Schema.Union(
  Schema.Struct({ valid: Schema.Literal(true), components: Api.Components }),
  Schema.Struct({ valid: Schema.Literal(false), unknown: Schema.Boolean, error: Schema.String })
)

const StoredAnswer = Schema.Struct({ answer: RemoteAnswer, expiresAt: Schema.Number })

/** The key of one ID's answer in the persisted cache: `<prefix>:validation:<id>` in Redis. */
class ValidationKey extends Schema.TaggedRequest<ValidationKey>()("ValidationKey", {
  failure: IdServiceError.IdServiceError,
  success: StoredAnswer,
  payload: { id: Schema.String }
}) {
  [PrimaryKey.symbol](): string {
    return this.id
  }
}

/**
 * ioredis options from a `redis://` or `rediss://` URL: short command and connect timeouts, and a
 * reconnect backoff capped at 2 seconds; commands wait for a reconnection no longer than the timeout.
 */
export const redisOptions = (
  url: string,
  commandTimeout: number
): Either.Either<RedisOptions, ConfigError.ConfigError> => {
  const invalid = (message: string) => Either.left(ConfigError.InvalidData(["url"], `Fleet.layerRedis: ${message}`))
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return invalid("the url is not an absolute URL (expected redis://host:port or rediss://host:port)")
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return invalid(`the url must use redis: or rediss:, not ${parsed.protocol}`)
  }
  const db = parsed.pathname === "" || parsed.pathname === "/" ? 0 : Number(parsed.pathname.slice(1))
  if (!Number.isSafeInteger(db) || db < 0) return invalid("the url's path must be a database number, e.g. /0")
  if (parsed.hostname === "") return invalid("the url has no host")
  return Either.right({
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    ...(parsed.username === "" ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === "" ? {} : { password: decodeURIComponent(parsed.password) }),
    db,
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    commandTimeout,
    connectTimeout: Math.max(1_000, commandTimeout * 10),
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000)
  })
}

/** One shared piece: whether it works on Redis now, and how to see that Redis is back. */
interface Piece {
  readonly component: Observability.FleetComponent
  state: Fleet.ComponentState
  readonly probe: Effect.Effect<void, unknown>
}

const reasonOf = (error: unknown): string => {
  const cause = typeof error === "object" && error !== null && "cause" in error ? error.cause : error
  const text = cause instanceof Error ? cause.message : typeof error === "object" && error !== null &&
      "message" in error && typeof error.message === "string"
    ? error.message
    : String(cause)
  return text.slice(0, 200)
}

export const make = (options: Options): Effect.Effect<Fleet.Shared, ConfigError.ConfigError, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.prefix ?? BreakerStoreRedis.defaults.prefix
    const commandTimeout = Duration.toMillis(
      Duration.decode(options.commandTimeout ?? BreakerStoreRedis.defaults.commandTimeout)
    )
    const pollInterval = BreakerStoreRedis.pollInterval(options)
    const redis = yield* redisOptions(options.url, commandTimeout)

    const connection = yield* RedisClient.connect(redis)
    const persistence = Context.get(
      yield* Layer.build(
        Persistence.layerResult.pipe(
          Layer.provide(Layer.succeed(Persistence.BackingPersistence, RedisClient.backingPersistence(connection)))
        )
      ),
      Persistence.ResultPersistence
    )
    const rateLimitStore = RedisClient.rateLimiterStore(connection, `${prefix}:ratelimit:`)
    const limiter = yield* ExperimentalRateLimiter.make.pipe(
      Effect.provideService(ExperimentalRateLimiter.RateLimiterStore, rateLimitStore)
    )
    const storeId = `${prefix}:validation`
    const probeStore = yield* persistence.make({ storeId })

    const events = yield* Effect.acquireRelease(
      PubSub.sliding<Observability.ClientEvent>(Observability.eventBuffer),
      PubSub.shutdown
    )
    const publish = (event: Observability.ClientEvent) =>
      Effect.flatMap(PubSub.isShutdown(events), (down) => down ? Effect.void : PubSub.publish(events, event))

    const cache: Piece = {
      component: "cache",
      state: "shared",
      probe: probeStore.get(new ValidationKey({ id: "probe" }))
    }
    const rateLimit: Piece = {
      component: "rateLimit",
      state: "shared",
      probe: rateLimitStore.fixedWindow({
        key: "probe",
        tokens: 1,
        refillRate: Duration.millis(1),
        limit: undefined
      })
    }

    const fallBack = (piece: Piece, error: unknown): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (piece.state === "local") return Effect.void
        piece.state = "local"
        const reason = reasonOf(error)
        return Effect.all([
          Effect.logWarning(
            `fleet: the shared ${piece.component} is unavailable (${reason}); this process works on its local ${piece.component} until Redis answers again`
          ),
          Metric.increment(
            Metric.tagged(Observability.metrics.fleetFallbacks, "chittyid.fleet.component", piece.component)
          ),
          Effect.flatMap(
            Clock.currentTimeMillis,
            (at) => publish(Observability.ClientEvent.FleetFallback({ component: piece.component, reason, at }))
          )
        ], { discard: true })
      })

    const restore = (piece: Piece): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (piece.state === "shared") return Effect.void
        piece.state = "shared"
        return Effect.zipRight(
          Effect.logInfo(`fleet: the shared ${piece.component} is back`),
          Effect.flatMap(
            Clock.currentTimeMillis,
            (at) => publish(Observability.ClientEvent.FleetRestored({ component: piece.component, at }))
          )
        )
      })

    // While a piece is local, a probe every poll interval; the first that answers brings it back.
    yield* Effect.forEach(
      [cache, rateLimit],
      (piece) => piece.state === "shared" ? Effect.void : Effect.option(Effect.zipRight(piece.probe, restore(piece))),
      { discard: true }
    ).pipe(Effect.repeat(Schedule.spaced(pollInterval)), Effect.interruptible, Effect.forkScoped)

    const makeValidationCache = (
      cacheOptions: ValidationCache.Options
    ): Effect.Effect<ValidationCache.Service, never, Scope.Scope> =>
      Effect.gen(function*() {
        const validTtl = Engine.millisOf(cacheOptions.validTtl)
        const unknownTtl = Engine.millisOf(cacheOptions.unknownTtl)
        const ask = (id: ChittyId.ChittyId): Effect.Effect<typeof StoredAnswer.Type, IdServiceError.IdServiceError> =>
          Effect.flatMap(cacheOptions.lookup(id), (response) =>
            Effect.map(Clock.currentTimeMillis, (now) => {
              const answer = Engine.answerOf(response)
              return { answer, expiresAt: now + Engine.ttlOf(answer, validTtl, unknownTtl) }
            }))
        // The look-ups that ran in this process, by ID, until their caller is done: when Redis fails
        // after the service answered (storing the answer), the caller keeps that answer instead of
        // asking again. The engine runs one look-up per ID at a time.
        const ran = new Map<string, Exit.Exit<typeof StoredAnswer.Type, IdServiceError.IdServiceError>>()
        const persisted = yield* PersistedCache.make({
          storeId,
          lookup: (key: ValidationKey) =>
            Effect.flatten(Effect.tap(Effect.exit(ask(key.id as ChittyId.ChittyId)), (exit) =>
              Effect.sync(() => {
                ran.set(key.id, exit)
              }))),
          // Failures are never stored (a zero time to live is not written).
          timeToLive: (_key, exit) =>
            Exit.isSuccess(exit) ? Math.max(0, Engine.ttlOf(exit.value.answer, validTtl, unknownTtl)) : 0,
          // The engine in front is the in-memory cache; this one only joins concurrent look-ups.
          inMemoryCapacity: 1,
          inMemoryTTL: 0
        }).pipe(Effect.provideService(Persistence.ResultPersistence, persistence))

        const lookup = (id: ChittyId.ChittyId): Effect.Effect<Engine.Found, IdServiceError.IdServiceError> =>
          Effect.suspend(() =>
            cache.state === "local"
              ? ask(id)
              : persisted.get(new ValidationKey({ id })).pipe(
                Effect.map((stored): Engine.Found => ({ ...stored, shared: !ran.has(id) })),
                Effect.catchTag("PersistenceError", (error) => {
                  const answered = ran.get(id)
                  return Effect.zipRight(fallBack(cache, error), answered ?? ask(id))
                }),
                Effect.ensuring(Effect.sync(() => ran.delete(id)))
              )
          )
        return yield* Engine.makeEngine({
          capacity: cacheOptions.capacity,
          validTtl,
          unknownTtl,
          lookup
        })
      })

    const makeMintPermit = (
      settings: IdServiceConfig.RateLimit
    ): Effect.Effect<MintRateLimit.Permit, never, Scope.Scope> =>
      Effect.map(MintRateLimit.local(settings), (localPermit): MintRateLimit.Permit => {
        const consume = limiter.consume({
          algorithm: "fixed-window",
          onExceeded: settings.onExceeded,
          window: settings.window,
          limit: settings.limit,
          key: "mint"
        })
        return Effect.suspend(() =>
          rateLimit.state === "local"
            ? localPermit
            : Effect.matchEffect(consume, {
              onFailure: (error) =>
                error.reason === "Exceeded"
                  ? Effect.fail(
                    MintRateLimit.rateLimited(
                      settings,
                      Math.max(1, Math.ceil(Duration.toMillis(error.retryAfter))),
                      "fleet-wide"
                    )
                  )
                  : Effect.zipRight(fallBack(rateLimit, error), localPermit),
              onSuccess: ({ delay }) => Duration.isZero(delay) ? Effect.void : Effect.sleep(delay)
            })
        )
      })

    return {
      makeValidationCache,
      makeMintPermit,
      events: Stream.fromPubSub(events),
      state: Effect.sync(() => ({ cache: cache.state, rateLimit: rateLimit.state }))
    } satisfies Fleet.Shared
  })
