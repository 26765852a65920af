/**
 * The reference server's `Idempotency-Key` store: one `Deferred` per key, so the first request
 * with a key does the work and every other request with that key (concurrent or later) gets the
 * very same answer. The same key with another request is a conflict. The store is bounded: past
 * its capacity the oldest key is forgotten, and every key is forgotten `ttl` after it was claimed
 * (on Effect's `Clock`). It keeps a fingerprint (a hash) per key, never the request.
 *
 * @example
 * ```ts
 * import { Deferred, Effect } from "effect"
 * import * as IdempotencyStore from "effect-chittyid/server/IdempotencyStore"
 *
 * const store = IdempotencyStore.make<string, never>({ capacity: 100_000 })
 * const program = Effect.gen(function*() {
 *   const claim = yield* store.claim("key-1", "fingerprint")
 *   if (claim._tag === "Claimed") yield* Deferred.succeed(claim.entry.deferred, "answer")
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { sweepExpired } from "./internal/expiry.ts"
import * as Json from "./internal/json.ts"

/**
 * The default number of keys kept.
 *
 * @example
 * ```ts
 * import * as IdempotencyStore from "effect-chittyid/server/IdempotencyStore"
 *
 * IdempotencyStore.defaultCapacity // 100000
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCapacity = 100_000

/**
 * The default life of a key: 24 hours.
 *
 * @example
 * ```ts
 * import * as IdempotencyStore from "effect-chittyid/server/IdempotencyStore"
 *
 * IdempotencyStore.defaultTtlMillis // 86400000
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultTtlMillis = 24 * 60 * 60 * 1000

/**
 * What is stored under a key: the fingerprint of the request that claimed it and its answer to be.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry<A, E> {
  readonly fingerprint: string
  readonly deferred: Deferred.Deferred<A, E>
  /** When the key is forgotten (`Clock` millis). @since 0.2.0 */
  readonly expiresAt: number
}

/**
 * The outcome of claiming a key: `Claimed` (the caller does the work and completes the entry),
 * `Existing` (another request with the same fingerprint did or is doing it: await its answer) or
 * `Conflict` (the key was used with another request).
 *
 * @since 0.1.0
 * @category models
 */
export type Claim<A, E> =
  | { readonly _tag: "Claimed"; readonly entry: Entry<A, E> }
  | { readonly _tag: "Existing"; readonly entry: Entry<A, E> }
  | { readonly _tag: "Conflict" }

/**
 * @since 0.1.0
 * @category models
 */
export interface IdempotencyStore<A, E> {
  /** Claims `key` for a request with this fingerprint; atomic. */
  readonly claim: (key: string, fingerprint: string) => Effect.Effect<Claim<A, E>>
  /** Forgets `key` if it still holds `entry` (e.g. the work failed and may be tried again). */
  readonly release: (key: string, entry: Entry<A, E>) => Effect.Effect<void>
  readonly size: () => number
  readonly clear: Effect.Effect<void>
}

/**
 * Creates an empty store holding at most `capacity` keys (oldest evicted first).
 *
 * @example
 * ```ts
 * import * as IdempotencyStore from "effect-chittyid/server/IdempotencyStore"
 *
 * const store = IdempotencyStore.make<string, never>({ capacity: 1000 })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <A, E>(options?: {
  readonly capacity?: number | undefined
  /** @since 0.2.0 */
  readonly ttlMillis?: number | undefined
}): IdempotencyStore<A, E> => {
  const capacity = Math.max(1, options?.capacity ?? defaultCapacity)
  const ttlMillis = Math.max(0, options?.ttlMillis ?? defaultTtlMillis)
  const entries = new Map<string, Entry<A, E>>()
  const sweep = (now: number) => sweepExpired(entries, now)
  return {
    claim: (key, fingerprint) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.withFiberRuntime((fiber) => {
          sweep(now)
          const existing = entries.get(key)
          if (existing !== undefined) {
            return Effect.succeed(
              existing.fingerprint === fingerprint
                ? { _tag: "Existing", entry: existing } as const
                : { _tag: "Conflict" } as const
            )
          }
          const entry: Entry<A, E> = {
            fingerprint,
            deferred: Deferred.unsafeMake<A, E>(fiber.id()),
            expiresAt: now + ttlMillis
          }
          entries.set(key, entry)
          if (entries.size > capacity) {
            const oldest = entries.keys().next()
            if (oldest.done !== true) entries.delete(oldest.value)
          }
          return Effect.succeed({ _tag: "Claimed", entry } as const)
        })),
    release: (key, entry) =>
      Effect.sync(() => {
        if (entries.get(key) === entry) entries.delete(key)
      }),
    size: () => entries.size,
    clear: Effect.sync(() => entries.clear())
  }
}

/**
 * The fingerprint of a request: a SHA-256 (hex) of its canonical JSON (object keys sorted), so
 * `{a,b}` and `{b,a}` match. Built without recursion, so any nesting is safe, and the store keeps
 * 64 characters per key, never the request.
 *
 * @example
 * ```ts
 * import * as IdempotencyStore from "effect-chittyid/server/IdempotencyStore"
 * IdempotencyStore.fingerprint({ b: 1, a: [2] }) === IdempotencyStore.fingerprint({ a: [2], b: 1 }) // true
 * ```
 *
 * @since 0.1.0
 * @category fingerprints
 */
export const fingerprint = (value: unknown): string => Json.canonicalHash(value)
