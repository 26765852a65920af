/**
 * The fleet's one ioredis connection, and `@effect/experimental`'s two storage interfaces over it:
 * a `Persistence.BackingPersistence` (for `Persistence.layerResult` and `PersistedCache`) and a
 * `RateLimiter.RateLimiterStore` (for `RateLimiter.make`).
 *
 * Why not `@effect/experimental`'s own `Persistence/Redis` and `RateLimiter/Redis` layers: each opens
 * a connection of its own that nobody listens to for errors, so while Redis is down ioredis writes
 * "[ioredis] Unhandled error event" to the console on every reconnect attempt, from a library. Here
 * the connection's errors are heard (the pieces learn of them from their failed commands), and one
 * connection serves both. The storage follows experimental's Redis implementations (`GET`/`SET PX`
 * of JSON under `<storeId>:<key>`; the fixed-window Lua script of its rate limiter).
 *
 * @internal
 */
import * as Persistence from "@effect/experimental/Persistence"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { Redis, type RedisOptions } from "ioredis"

interface FleetRedis extends Redis {
  chittyidFixedWindow(key: string, tokens: number, refillMillis: number, limit?: number): Promise<[number, number]>
}

/** The fixed-window script of `@effect/experimental`'s Redis rate limiter store. */
const fixedWindowScript = `
local key = KEYS[1]
local tokens = tonumber(ARGV[1])
local refillms = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local current = tonumber(redis.call("GET", key))

if not current then
  local nextpttl = refillms * tokens
  redis.call("SET", key, tokens, "PX", nextpttl)
  return { tokens, nextpttl }
end

local currentpttl = tonumber(redis.call("PTTL", key) or "0")
local next = current + tokens
if limit and next > limit then
  return { next, currentpttl }
end

local nextpttl = currentpttl + (refillms * tokens)
redis.call("SET", key, next, "PX", nextpttl)
return { next, nextpttl }
`

/** The connection, closed with the scope; its errors are heard, never printed. */
export const connect = (options: RedisOptions): Effect.Effect<FleetRedis, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const redis = new Redis(options) as FleetRedis
      redis.on("error", () => {
        // heard: a piece learns of the trouble from its own failed command and falls back
      })
      redis.defineCommand("chittyidFixedWindow", { lua: fixedWindowScript, numberOfKeys: 1, readOnly: false })
      return redis
    }),
    (redis) => Effect.promise(() => redis.quit().then(() => undefined, () => redis.disconnect()))
  )

const backingError = (method: string) => (cause: unknown) => Persistence.PersistenceBackingError.make(method, cause)

/** `@effect/experimental`'s backing storage over the connection: JSON under `<storeId>:<key>`, `PX` for the TTL. */
export const backingPersistence = (redis: Redis): Persistence.BackingPersistence =>
  Persistence.BackingPersistence.of({
    [Persistence.BackingPersistenceTypeId]: Persistence.BackingPersistenceTypeId,
    make: (storeId) =>
      Effect.sync(() => {
        const prefixed = (key: string) => `${storeId}:${key}`
        const parse = (method: string) => (text: string | null) =>
          text === null ? Effect.succeedNone : Effect.asSome(
            Effect.try({ try: (): unknown => JSON.parse(text), catch: backingError(method) })
          )
        const encode = (method: string, value: unknown) =>
          Effect.try({ try: () => JSON.stringify(value), catch: backingError(method) })
        return {
          get: (key) =>
            Effect.flatMap(
              Effect.tryPromise({ try: () => redis.get(prefixed(key)), catch: backingError("get") }),
              parse("get")
            ),
          getMany: (keys) =>
            Effect.flatMap(
              Effect.tryPromise({ try: () => redis.mget(keys.map(prefixed)), catch: backingError("getMany") }),
              Effect.forEach(parse("getMany"))
            ),
          set: (key, value, ttl) =>
            Effect.flatMap(encode("set", value), (text) =>
              Effect.tryPromise({
                try: () =>
                  Option.isNone(ttl)
                    ? redis.set(prefixed(key), text)
                    : redis.set(prefixed(key), text, "PX", Math.max(1, Math.ceil(Duration.toMillis(ttl.value)))),
                catch: backingError("set")
              })),
          setMany: (entries) =>
            Effect.flatMap(
              Effect.forEach(entries, ([key, value, ttl]) =>
                Effect.map(encode("setMany", value), (text) => ({ key, text, ttl }))),
              (encoded) =>
                Effect.tryPromise({
                  try: () => {
                    const multi = redis.multi()
                    for (const { key, text, ttl } of encoded) {
                      if (Option.isNone(ttl)) {
                        multi.set(prefixed(key), text)
                      } else multi.set(prefixed(key), text, "PX", Math.max(1, Math.ceil(Duration.toMillis(ttl.value))))
                    }
                    return multi.exec()
                  },
                  catch: backingError("setMany")
                })
            ),
          remove: (key) =>
            Effect.tryPromise({ try: () => redis.del(prefixed(key)), catch: backingError("remove") }),
          clear: Effect.tryPromise({
            try: async () => {
              let cursor = "0"
              do {
                const [next, keys] = await redis.scan(cursor, "MATCH", `${storeId}:*`, "COUNT", 500)
                if (keys.length > 0) await redis.del(keys)
                cursor = next
              } while (cursor !== "0")
            },
            catch: backingError("clear")
          })
        } satisfies Persistence.BackingPersistenceStore
      })
  })

/**
 * `@effect/experimental`'s rate limiter store over the connection, keys under `prefix`: the fixed
 * window only (the algorithm the fleet's mint limit uses).
 */
export const rateLimiterStore = (redis: FleetRedis, prefix: string): RateLimiter.RateLimiterStore["Type"] =>
  RateLimiter.RateLimiterStore.of({
    fixedWindow: (options) =>
      Effect.tryPromise({
        try: () => {
          const key = `${prefix}${options.key}`
          const refillMillis = Duration.toMillis(options.refillRate)
          return options.limit === undefined
            ? redis.chittyidFixedWindow(key, options.tokens, refillMillis)
            : redis.chittyidFixedWindow(key, options.tokens, refillMillis, options.limit)
        },
        catch: (cause) =>
          new RateLimiter.RateLimitStoreError({ message: "the fixed-window rate limit command failed", cause })
      }),
    tokenBucket: () =>
      Effect.fail(new RateLimiter.RateLimitStoreError({ message: "the fleet's store counts fixed windows only" }))
  })
