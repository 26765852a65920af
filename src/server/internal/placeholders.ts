/**
 * The placeholders a server issued, with the request each was issued for, so that a later
 * `POST /api/validate` of the placeholder can mint a permanent ID for that request once minting
 * works again, and answer the same permanent ID every time after.
 *
 * A placeholder ID carries only its error code, entity type and month, so two requests can get the
 * same placeholder: while it is pending the first request is kept (the one a replacement mints for).
 * Bounded like every store of the server: at most `capacity` placeholders (the oldest forgotten
 * first), each forgotten `ttlMillis` after it was issued (on Effect's `Clock`).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Api from "../../Api.ts"
import type * as ChittyId from "../../ChittyId.ts"
import { sweepExpired } from "./expiry.ts"

/** What a replacement needs to mint for the request that got the placeholder. */
export interface PendingRequest {
  readonly payload: Api.MintRequest
  readonly urlParams: typeof Api.MintUrlParams.Type
}

export interface Pending {
  readonly request: PendingRequest
  readonly expiresAt: number
  /** Set once the placeholder was replaced: every later look-up answers this ID. */
  replacedBy: ChittyId.ChittyId | undefined
}

export interface Placeholders {
  /** Remembers a placeholder issued for `request` (keeps a pending one's first request). */
  readonly remember: (id: ChittyId.FallbackId, request: PendingRequest) => Effect.Effect<void>
  /** The placeholder's entry, if it was issued here and has not expired. */
  readonly lookup: (id: string) => Effect.Effect<Pending | undefined>
  readonly size: () => number
  readonly clear: Effect.Effect<void>
}

/** Default: the live service keeps a pending request 7 days. */
export const defaultTtlMillis = 7 * 24 * 60 * 60 * 1000
export const defaultCapacity = 10_000

export const make = (options: { readonly capacity: number; readonly ttlMillis: number }): Placeholders => {
  const entries = new Map<string, Pending>()
  const sweep = (now: number) => sweepExpired(entries, now)
  return {
    remember: (id, request) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        sweep(now)
        const existing = entries.get(id)
        if (existing !== undefined && existing.replacedBy === undefined) return
        // A placeholder issued again after it was replaced starts a new episode at the end.
        entries.delete(id)
        entries.set(id, { request, expiresAt: now + options.ttlMillis, replacedBy: undefined })
        while (entries.size > options.capacity) {
          const oldest = entries.keys().next()
          if (oldest.done === true) break
          entries.delete(oldest.value)
        }
      }),
    lookup: (id) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        sweep(now)
        return entries.get(id)
      }),
    size: () => entries.size,
    clear: Effect.sync(() => entries.clear())
  }
}
