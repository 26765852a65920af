/**
 * The breaker store's protocol on Redis (`ioredis`, loaded when the layer is built so that nobody
 * who does not use it installs it). Every command is one Lua script, atomic in Redis:
 *
 * | key | value | TTL |
 * |---|---|---|
 * | `<prefix>:breaker:<name>:failures` | the fleet's failures in a row (`INCR`) | the breaker's window (`PEXPIRE` on the first) |
 * | `<prefix>:breaker:<name>:open` | the open period `{since, reason, trips}` | the open period |
 * | `<prefix>:breaker:<name>:probe` | the replica holding the probe (`SET NX PX`) | the probe timeout |
 * | `<prefix>:breaker:<name>:closed` | when the fleet's breaker last closed | 10 min |
 *
 * and the channel `<prefix>:breaker:<name>` carries `open` and `closed` messages.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { Redis, RedisOptions } from "ioredis"
import * as CircuitBreaker from "../CircuitBreaker.ts"
import * as Store from "./circuitBreakerStore.ts"

/** @internal */
export interface Options {
  readonly url: string
  readonly prefix?: string | undefined
  readonly commandTimeout?: Duration.DurationInput | undefined
  readonly pollInterval?: Duration.DurationInput | undefined
}

/** @internal */
export const defaults = {
  prefix: "chittyid",
  commandTimeout: Duration.millis(100),
  pollInterval: Duration.millis(500)
} as const

const RECORD_FAILURE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local o = redis.call('GET', KEYS[2])
if o then return {n, o, redis.call('PTTL', KEYS[2])} end
return {n}`

const OPEN = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`

const CLAIM = `
local o = redis.call('GET', KEYS[1])
if o then return {'open', o, redis.call('PTTL', KEYS[1])} end
local c = redis.call('GET', KEYS[3])
if c and tonumber(c) > tonumber(ARGV[3]) then return {'closed', c} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'claimed'} end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return {'claimed'}
end
return {'busy', redis.call('PTTL', KEYS[2])}`

const CLOSE = `
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`

const READ = `
return {redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2]) or '',
  redis.call('PTTL', KEYS[2]), redis.call('GET', KEYS[3]) or ''}`

const Mark = Schema.Struct({ since: Schema.Number, reason: CircuitBreaker.OpenReason, trips: Schema.NonNegativeInt })
const MarkJson = Schema.parseJson(Mark)
const Message = Schema.parseJson(Schema.Union(
  Schema.Struct({ t: Schema.Literal("open"), mark: Mark, ttl: Schema.Number }),
  Schema.Struct({ t: Schema.Literal("closed"), since: Schema.Number })
))
const Millis = Schema.NumberFromString

const FailureReply = Schema.Union(
  Schema.Tuple(Schema.Number),
  Schema.Tuple(Schema.Number, MarkJson, Schema.Number)
)
const ClaimReply = Schema.Union(
  Schema.Tuple(Schema.Literal("claimed")),
  Schema.Tuple(Schema.Literal("busy"), Schema.Number),
  Schema.Tuple(Schema.Literal("open"), MarkJson, Schema.Number),
  Schema.Tuple(Schema.Literal("closed"), Millis)
)
const ReadReply = Schema.Tuple(Schema.String, Schema.Number, Schema.String, Schema.Number, Schema.String)

/** @internal */
export const pollInterval = (options: Options): Duration.Duration =>
  Duration.decode(options.pollInterval ?? defaults.pollInterval)

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 200)

/**
 * Connects (without waiting long: a Redis that is down at start is a fallback, not a failure) and
 * gives the protocol over the connection; both connections close with the scope.
 *
 * @internal
 */
export const make = (
  options: Options
): Effect.Effect<{ readonly backend: Store.Backend; readonly unreachable: string | undefined }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.prefix ?? defaults.prefix
    const timeout = Duration.decode(options.commandTimeout ?? defaults.commandTimeout)
    const timeoutMs = Math.max(1, Math.round(Duration.toMillis(timeout)))
    const ioredis = yield* Effect.tryPromise({
      try: () => import("ioredis"),
      catch: (error) =>
        new Store.StoreError({
          message:
            `CircuitBreakerStore.layerRedis needs the optional peer dependency ioredis (npm install ioredis@^5): ${
              describe(error)
            }`
        })
    }).pipe(Effect.orDie)
    const connection: RedisOptions = {
      lazyConnect: true,
      // a command while Redis is away fails at once (the store falls back) instead of waiting in a queue
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1_000),
      retryStrategy: (times) => Math.min(times * 50, 500)
    }
    const client: Redis = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new ioredis.Redis(options.url, connection)
        // ioredis prints unhandled "error" events; a failing command is what the store acts on
        client.on("error", () => {})
        return client
      }),
      (client) => Effect.sync(() => client.disconnect())
    )
    const subscriber: Redis = yield* Effect.acquireRelease(
      Effect.sync(() => {
        // subscriptions wait in the queue for the connection and are renewed after each reconnect
        const subscriber = client.duplicate({
          lazyConnect: false,
          enableOfflineQueue: true,
          maxRetriesPerRequest: null
        })
        subscriber.on("error", () => {})
        return subscriber
      }),
      (subscriber) => Effect.sync(() => subscriber.disconnect())
    )
    const listeners = new Map<string, Set<(message: Store.Message, now: number) => void>>()
    subscriber.on("message", (channel: string, raw: string) => {
      const set = listeners.get(channel)
      if (set === undefined) return
      const decoded = Schema.decodeUnknownEither(Message)(raw)
      if (decoded._tag === "Left") return
      const now = Date.now()
      const message: Store.Message = decoded.right.t === "open"
        ? { _tag: "Open", mark: decoded.right.mark, ttl: decoded.right.ttl }
        : { _tag: "Closed", since: decoded.right.since }
      for (const listener of set) listener(message, now)
    })

    const key = (name: string, part: "failures" | "open" | "probe" | "closed") => `${prefix}:breaker:${name}:${part}`
    const channel = (name: string) => `${prefix}:breaker:${name}`

    /** One script under the command timeout, its reply decoded. */
    const run = <A, I>(
      schema: Schema.Schema<A, I>,
      script: string,
      keys: ReadonlyArray<string>,
      args: ReadonlyArray<string | number>
    ): Effect.Effect<A, Store.StoreError> =>
      Effect.tryPromise({
        try: () => client.eval(script, keys.length, ...keys, ...args),
        catch: (error) => new Store.StoreError({ message: describe(error) })
      }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new Store.StoreError({ message: `no answer from Redis within ${timeoutMs} ms` })
        }),
        Effect.flatMap((reply) =>
          Effect.mapError(
            Schema.decodeUnknown(schema)(reply),
            (error) =>
              new Store.StoreError({ message: `unexpected reply: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })
          )
        )
      )

    const unreachable = yield* Effect.tryPromise(() => client.connect()).pipe(
      Effect.timeout(Duration.millis(Math.max(timeoutMs, 1_000))),
      Effect.as(undefined),
      Effect.catchAll((error) => Effect.succeed(describe(error)))
    )

    const backend: Store.Backend = {
      kind: "redis",
      recordFailure: (name, windowMillis) =>
        Effect.map(
          run(FailureReply, RECORD_FAILURE, [key(name, "failures"), key(name, "open")], [
            Math.max(1, Math.round(windowMillis))
          ]),
          (reply) => ({
            failures: reply[0],
            open: reply.length === 3 ? { mark: reply[1], ttl: reply[2] } : undefined
          })
        ),
      endStreak: (name) =>
        Effect.asVoid(
          run(Schema.Number, "return redis.call('DEL', KEYS[1])", [key(name, "failures")], [])
        ),
      open: (name, mark, ttl, owner) =>
        Effect.asVoid(run(
          Schema.Number,
          OPEN,
          [key(name, "open"), key(name, "failures"), key(name, "probe")],
          [JSON.stringify(mark), ttl, owner, channel(name), JSON.stringify({ t: "open", mark, ttl })]
        )),
      claim: (name, owner, ttl, openedAt) =>
        Effect.map(
          run(ClaimReply, CLAIM, [key(name, "open"), key(name, "probe"), key(name, "closed")], [owner, ttl, openedAt]),
          (reply): Store.Claim => {
            switch (reply[0]) {
              case "claimed":
                return { _tag: "Claimed" }
              case "busy":
                return { _tag: "Busy", ttl: Math.max(0, reply[1]) }
              case "open":
                return { _tag: "Open", open: { mark: reply[1], ttl: Math.max(0, reply[2]) } }
              case "closed":
                return { _tag: "Closed", since: reply[1] }
            }
          }
        ),
      close: (name, since, ttl) =>
        Effect.asVoid(run(
          Schema.Number,
          CLOSE,
          [key(name, "open"), key(name, "failures"), key(name, "probe"), key(name, "closed")],
          [since, ttl, channel(name), JSON.stringify({ t: "closed", since })]
        )),
      read: (name) =>
        Effect.flatMap(
          run(ReadReply, READ, [key(name, "open"), key(name, "probe"), key(name, "closed")], []),
          ([open, openTtl, probe, probeTtl, closed]) =>
            Effect.gen(function*() {
              const mark = open === "" || openTtl <= 0 ? undefined : yield* decodeMark(open)
              const closedAt = closed === "" ? undefined : Number(closed)
              return {
                open: mark === undefined ? undefined : { mark, ttl: openTtl },
                probe: probe === "" || probeTtl <= 0 ? undefined : { owner: probe, ttl: probeTtl },
                closed: closedAt === undefined || Number.isNaN(closedAt) ? undefined : closedAt
              }
            })
        ),
      listen: (name, onMessage) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const ch = channel(name)
            let set = listeners.get(ch)
            if (set === undefined) {
              set = new Set()
              listeners.set(ch, set)
              subscriber.subscribe(ch).catch(() => {})
            }
            set.add(onMessage)
          }),
          () =>
            Effect.sync(() => {
              const ch = channel(name)
              const set = listeners.get(ch)
              set?.delete(onMessage)
              if (set !== undefined && set.size === 0) {
                listeners.delete(ch)
                subscriber.unsubscribe(ch).catch(() => {})
              }
            })
        ),
      ping: Effect.tryPromise({
        try: () => client.ping(),
        catch: (error) => new Store.StoreError({ message: describe(error) })
      }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new Store.StoreError({ message: `no answer from Redis within ${timeoutMs} ms` })
        }),
        Effect.asVoid
      )
    }
    return { backend, unreachable }
  })

const decodeMark = (raw: string): Effect.Effect<Store.Mark, Store.StoreError> =>
  Effect.mapError(
    Schema.decodeUnknown(MarkJson)(raw),
    (error) =>
      new Store.StoreError({ message: `unexpected open mark: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })
  )
