/**
 * What the reference server counts: requests per endpoint, responses by status, faults injected by
 * kind, IDs minted and idempotent replays. The admin plane is never counted, so reading the counts
 * does not change them.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Counts from "effect-chittyid/server/Counts"
 *
 * declare const json: unknown // the body of GET /_admin/counts
 * const counts = Schema.decodeUnknownSync(Counts.ServerCounts)(json)
 * counts.requests.mint
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Faults from "./Faults.ts"

const Count = Schema.NonNegativeInt

/**
 * A snapshot of the server's counters.
 *
 * - `requests`: per endpoint (`other` is any path outside the contract), admin excluded;
 * - `responses`: by HTTP status (`"200"`, `"503"`, …), answers actually sent;
 * - `faults`: injected, by kind;
 * - `minted`: IDs minted (each one is in the mint log);
 * - `replayed`: answers served again from the idempotency store.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Counts from "effect-chittyid/server/Counts"
 *
 * declare const json: unknown
 * Schema.decodeUnknownSync(Counts.ServerCounts)(json).faults.hang
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerCounts = Schema.Struct({
  requests: Schema.Struct({ mint: Count, validate: Count, health: Count, other: Count }),
  responses: Schema.Record({ key: Schema.String, value: Count }),
  faults: Schema.Struct({
    latency: Count,
    errors: Count,
    outage: Count,
    rateLimit: Count,
    hang: Count,
    garbage: Count,
    fallback: Count,
    lostAnswer: Count
  }),
  minted: Count,
  replayed: Count
}).annotations({ identifier: "ServerCounts" })

/**
 * @since 0.1.0
 * @category schemas
 */
export type ServerCounts = typeof ServerCounts.Type

/**
 * The counters the server bumps as requests go by. Plain synchronous increments: the hot path
 * pays one property write per event.
 *
 * @since 0.1.0
 * @category models
 */
export interface Counters {
  readonly request: (endpoint: Faults.Endpoint) => void
  readonly response: (status: number) => void
  readonly replay: () => void
  readonly snapshot: (
    faults: Faults.Injected,
    minted: number
  ) => Effect.Effect<ServerCounts>
  readonly clear: Effect.Effect<void>
}

/**
 * Creates zeroed counters.
 *
 * @example
 * ```ts
 * import * as Counts from "effect-chittyid/server/Counts"
 * const counters = Counts.make()
 * counters.request("mint")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Counters => {
  let requests = { mint: 0, validate: 0, health: 0, other: 0 }
  let responses: Record<string, number> = {}
  let replayed = 0
  return {
    request: (endpoint) => {
      requests[endpoint]++
    },
    response: (status) => {
      const key = String(status)
      responses[key] = (responses[key] ?? 0) + 1
    },
    replay: () => {
      replayed++
    },
    snapshot: (faults, minted) =>
      Effect.sync(() => ({
        requests: { ...requests },
        responses: { ...responses },
        faults: { ...faults },
        minted,
        replayed
      })),
    clear: Effect.sync(() => {
      requests = { mint: 0, validate: 0, health: 0, other: 0 }
      responses = {}
      replayed = 0
    })
  }
}
