/**
 * Fault injection for the reference server: what can go wrong, as Schemas (so faults travel as JSON
 * to an out-of-process server), and the seeded injector that decides, request by request, which
 * fault strikes.
 *
 * Every fault is off (`null`) until set. A fault strikes with its `rate` (a probability, default 1)
 * on its `endpoints` (default mint and validate; an outage hits every endpoint unless told
 * otherwise). The dice come from a PRNG seeded by the server's `seed`, so the same seed, faults and
 * sequence of requests give the same faults.
 *
 * | fault | effect |
 * |---|---|
 * | `latency` | waits `fixedMs` + up to `jitterMs` (on Effect's `Clock`) before answering |
 * | `errors` | 503 `SERVICE_UNAVAILABLE`, with `Retry-After` when `retryAfter` is set (`live` profile, on mint: a `placeholder`, default `MINT_REJECTED`) |
 * | `outage` | `refuse`: the connection is closed as soon as the request head arrives; `reset`: TCP reset |
 * | `rateLimit` | the next `burst` requests answer 429 `RATE_LIMITED` with `Retry-After` (`live`, on mint: a `RATE_LIMITED` placeholder) |
 * | `hang` | the request is never answered (until the client gives up or the server stops) (`live`, on mint: a `MINT_TIMEOUT` placeholder) |
 * | `garbage` | 200 with a body that is not JSON, has the wrong shape, or carries a bad ID |
 * | `fallback` | mint answers 200 with a fallback placeholder ID (both profiles), replaced on validate once off |
 * | `lostAnswer` | mint commits the ID, then drops the connection without answering |
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * const patch = Schema.decodeUnknownSync(Faults.FaultsPatch)({ errors: { rate: 0.3, retryAfter: 1 } })
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import * as ChittyId from "../ChittyId.ts"

// -----------------------------------------------------------------------------
// Schemas
// -----------------------------------------------------------------------------

/**
 * The endpoints a fault can target. `other` is any path outside the contract (answered 404).
 *
 * @example
 * ```ts
 * import * as Faults from "effect-chittyid/server/Faults"
 * Faults.endpoints // ["mint", "validate", "health", "other"]
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const endpoints = ["mint", "validate", "health", "other"] as const

/**
 * @since 0.1.0
 * @category schemas
 */
export type Endpoint = typeof endpoints[number]

/**
 * Schema of an {@link Endpoint}.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 * Schema.is(Faults.Endpoint)("mint") // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Endpoint: Schema.Literal<typeof endpoints> = Schema.Literal(...endpoints)

/**
 * A probability from 0 to 1.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 * Schema.is(Faults.Rate)(0.3) // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Rate = Schema.Number.pipe(
  Schema.between(0, 1, { message: () => "a rate is a probability from 0 to 1" }),
  Schema.annotations({ identifier: "Rate" })
)

const Millis = Schema.Number.pipe(
  Schema.finite(),
  Schema.between(0, 3_600_000, { message: () => "milliseconds from 0 to 3600000" })
)

const Seconds = Schema.Int.pipe(
  Schema.between(0, 86_400, { message: () => "Retry-After is whole seconds from 0 to 86400" })
)

/**
 * How `Retry-After` is written: delay-seconds (`"2"`) or an HTTP-date (`"Sun, 01 Feb 2026 00:00:02 GMT"`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 * Schema.is(Faults.RetryAfterFormat)("http-date") // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const RetryAfterFormat = Schema.Literal("seconds", "http-date")

/**
 * @since 0.1.0
 * @category schemas
 */
export type RetryAfterFormat = typeof RetryAfterFormat.Type

const targeting = {
  /** Probability that the fault strikes a request it targets (default 1). */
  rate: Schema.optional(Rate),
  /** Endpoints the fault targets (default mint and validate). */
  endpoints: Schema.optional(Schema.Array(Endpoint))
}

/**
 * Added latency: `fixedMs` plus a uniformly drawn share of `jitterMs`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.decodeUnknownSync(Faults.Latency)({ fixedMs: 200, jitterMs: 50, rate: 0.5 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Latency = Schema.Struct({
  fixedMs: Schema.optional(Millis),
  jitterMs: Schema.optional(Millis),
  ...targeting
}).annotations({ identifier: "Latency" })

/**
 * The fallback error codes a degraded mint can carry.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.is(Faults.FallbackErrorCode)("MINT_TIMEOUT") // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const FallbackErrorCode = Schema.Literal(
  "MINT_UNAVAILABLE",
  "MINT_TIMEOUT",
  "MINT_REJECTED",
  "DRAND_UNAVAILABLE",
  "CERT_UNAVAILABLE",
  "TRUST_UNAVAILABLE",
  "RATE_LIMITED",
  "INVALID_REQUEST",
  "INTERNAL_ERROR"
)

/**
 * A placeholder error code.
 *
 * @since 0.2.0
 * @category schemas
 */
export type PlaceholderCode = typeof FallbackErrorCode.Type

/**
 * 503 answers, with `Retry-After` (seconds) when `retryAfter` is set.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.decodeUnknownSync(Faults.ServerErrors)({ rate: 0.3, retryAfter: 1 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerErrors = Schema.Struct({
  retryAfter: Schema.optional(Seconds),
  retryAfterFormat: Schema.optional(RetryAfterFormat),
  /**
   * `live` profile only: the placeholder a mint gets instead of the 503 (the live service turns a
   * backend 5xx into `MINT_REJECTED`, the default; `MINT_UNAVAILABLE` models a backend that is down).
   * @since 0.2.0
   */
  placeholder: Schema.optional(FallbackErrorCode),
  ...targeting
}).annotations({ identifier: "ServerErrors" })

/**
 * A full outage. `refuse` closes the connection as soon as the request head arrives (nothing is
 * read or processed; the admin plane stays reachable); `reset` aborts it with a TCP reset.
 * Targets every endpoint unless `endpoints` says otherwise.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.decodeUnknownSync(Faults.Outage)({ mode: "refuse" })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Outage = Schema.Struct({
  mode: Schema.Literal("refuse", "reset"),
  ...targeting
}).annotations({ identifier: "Outage" })

/**
 * A 429 burst: the next `burst` targeted requests answer 429 with `Retry-After` (default 1 s).
 * Counts down as it strikes; `rate` does not apply.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.decodeUnknownSync(Faults.RateLimit)({ burst: 5, retryAfter: 2 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const RateLimit = Schema.Struct({
  burst: Schema.NonNegativeInt,
  retryAfter: Schema.optional(Seconds),
  retryAfterFormat: Schema.optional(RetryAfterFormat),
  endpoints: Schema.optional(Schema.Array(Endpoint))
}).annotations({ identifier: "RateLimit" })

/**
 * Requests that are never answered.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.decodeUnknownSync(Faults.Hang)({ rate: 0.1, endpoints: ["validate"] })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Hang = Schema.Struct(targeting).annotations({ identifier: "Hang" })

/**
 * The kinds of garbage: a body that is not JSON, JSON of the wrong shape, or a mint answer whose
 * `chittyId` is of neither format or has a wrong check number (on validate, `bad-id` answers a
 * wrong shape: a validate answer carries no ID).
 *
 * @example
 * ```ts
 * import * as Faults from "effect-chittyid/server/Faults"
 * Faults.garbageKinds // ["not-json", "wrong-shape", "bad-id"]
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const garbageKinds = ["not-json", "wrong-shape", "bad-id"] as const

/**
 * @since 0.1.0
 * @category schemas
 */
export type GarbageKind = typeof garbageKinds[number]

/**
 * Schema of a {@link GarbageKind}.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.is(Faults.GarbageKind)("bad-id") // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const GarbageKind: Schema.Literal<typeof garbageKinds> = Schema.Literal(...garbageKinds)

/**
 * 200 answers with a garbage body, of one of `kinds` (default all, drawn by the seeded PRNG).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.decodeUnknownSync(Faults.Garbage)({ kinds: ["not-json", "bad-id"], rate: 0.2 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Garbage = Schema.Struct({
  kinds: Schema.optional(Schema.NonEmptyArray(GarbageKind)),
  ...targeting
}).annotations({ identifier: "Garbage" })

/**
 * Degraded mints: 200 with a fallback placeholder (`fallback: true`, `errorCode`); nothing is
 * minted or stored under the idempotency key. Mint only.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.decodeUnknownSync(Faults.Fallback)({ errorCode: "DRAND_UNAVAILABLE", rate: 0.1 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fallback = Schema.Struct({
  errorCode: Schema.optional(FallbackErrorCode),
  rate: Schema.optional(Rate)
}).annotations({ identifier: "Fallback" })

/**
 * "Answer lost after commit": the server mints and records a new ID (and stores the answer under
 * the idempotency key), then drops the connection without answering. Mint only; a replayed answer
 * is never dropped.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * Schema.decodeUnknownSync(Faults.LostAnswer)({ rate: 0.3 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const LostAnswer = Schema.Struct({
  rate: Schema.optional(Rate)
}).annotations({ identifier: "LostAnswer" })

/**
 * Every fault the server can inject; `null` is off.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 * Schema.encodeSync(Faults.Faults)(Faults.none) // { latency: null, errors: null, ... }
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Faults = Schema.Struct({
  latency: Schema.NullOr(Latency),
  errors: Schema.NullOr(ServerErrors),
  outage: Schema.NullOr(Outage),
  rateLimit: Schema.NullOr(RateLimit),
  hang: Schema.NullOr(Hang),
  garbage: Schema.NullOr(Garbage),
  fallback: Schema.NullOr(Fallback),
  lostAnswer: Schema.NullOr(LostAnswer)
}).annotations({ identifier: "Faults" })

/**
 * @since 0.1.0
 * @category schemas
 */
export type Faults = typeof Faults.Type

/**
 * A change to the faults in force: each key given replaces that fault (`null` switches it off);
 * keys not given are kept.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 * Schema.decodeUnknownSync(Faults.FaultsPatch)({ hang: { rate: 0.1 }, latency: null })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const FaultsPatch = Schema.partialWith(Faults, { exact: true }).annotations({ identifier: "FaultsPatch" })

/**
 * @since 0.1.0
 * @category schemas
 */
export type FaultsPatch = typeof FaultsPatch.Type

/**
 * The names of the faults, as counted by the server.
 *
 * @since 0.1.0
 * @category schemas
 */
export type FaultKind = keyof Faults

/**
 * Every fault off.
 *
 * @example
 * ```ts
 * import * as Faults from "effect-chittyid/server/Faults"
 * Faults.none.errors // null
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const none: Faults = {
  latency: null,
  errors: null,
  outage: null,
  rateLimit: null,
  hang: null,
  garbage: null,
  fallback: null,
  lostAnswer: null
}

/**
 * The faults in force after applying a patch.
 *
 * @example
 * ```ts
 * import * as Faults from "effect-chittyid/server/Faults"
 * Faults.merge(Faults.none, { hang: { rate: 0.5 } }).hang // { rate: 0.5 }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const merge = (self: Faults, patch: FaultsPatch): Faults => ({ ...self, ...patch })

// -----------------------------------------------------------------------------
// Decisions
// -----------------------------------------------------------------------------

/**
 * What the front door does with one request, before the API sees it.
 *
 * @since 0.1.0
 * @category decisions
 */
export type Action =
  | { readonly _tag: "Pass" }
  | { readonly _tag: "Refuse" }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "RateLimited"; readonly retryAfter: number; readonly format: RetryAfterFormat }
  | {
    readonly _tag: "Unavailable"
    readonly retryAfter: number | undefined
    readonly format: RetryAfterFormat
  }
  | { readonly _tag: "Hang" }
  | { readonly _tag: "Garbage"; readonly kind: GarbageKind; readonly draw: number }

/**
 * A decision: wait `delayMs` (0 for none), then act.
 *
 * @since 0.1.0
 * @category decisions
 */
export interface Decision {
  readonly delayMs: number
  readonly action: Action
}

const pass: Action = { _tag: "Pass" }
const noFault: Decision = { delayMs: 0, action: pass }
const defaultEndpoints: ReadonlyArray<Endpoint> = ["mint", "validate"]

/**
 * How many faults of each kind were injected.
 *
 * @since 0.1.0
 * @category decisions
 */
export type Injected = Record<FaultKind, number>

const zeroInjected = (): Injected => ({
  latency: 0,
  errors: 0,
  outage: 0,
  rateLimit: 0,
  hang: 0,
  garbage: 0,
  fallback: 0,
  lostAnswer: 0
})

const targets = (
  fault: { readonly endpoints?: ReadonlyArray<Endpoint> | undefined },
  endpoint: Endpoint,
  fallback: ReadonlyArray<Endpoint> = defaultEndpoints
): boolean => (fault.endpoints ?? fallback).includes(endpoint)

/**
 * The seeded injector: holds the faults in force and a PRNG, decides per request and counts what it
 * injected. All its state changes happen inside `Effect.sync`, so they are atomic.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * const injector = Faults.makeInjector({ seed: 42, faults: { errors: { rate: 1 } } })
 * Effect.runSync(injector.decide("mint")).action._tag // "Unavailable"
 * ```
 *
 * @since 0.1.0
 * @category decisions
 */
export interface Injector {
  /** The faults in force (a `rateLimit` burst shows what is left of it). */
  readonly current: Effect.Effect<Faults>
  /** The faults in force, read synchronously. @since 0.2.0 */
  readonly snapshot: () => Faults
  /** Is any fault in force? Cheap: read on every request. */
  readonly active: () => boolean
  readonly set: (patch: FaultsPatch) => Effect.Effect<void>
  /** All faults off, counts cleared, PRNG reseeded. */
  readonly reset: Effect.Effect<void>
  readonly injected: Effect.Effect<Injected>
  /**
   * The front-door decision for one request. `serviceOnly`: only the faults of the whole service
   * (latency, outage, garbage) are drawn, not those of a minting backend (errors, 429 bursts, hangs):
   * the `live` profile's validate and health, which the live service serves without its backend.
   */
  readonly decide: (
    endpoint: Endpoint,
    options?: { readonly serviceOnly?: boolean | undefined }
  ) => Effect.Effect<Decision>
  /** Should this mint answer a fallback placeholder? Returns its error code when it should. */
  readonly fallback: Effect.Effect<Schema.Schema.Type<typeof FallbackErrorCode> | undefined>
  /** Should the answer of this freshly committed mint be dropped? */
  readonly loseAnswer: Effect.Effect<boolean>
  /**
   * Does a fault in force stop minting (fallback, errors, a 429 burst, hang or outage on mint,
   * whatever its rate)? While it does, a placeholder is not replaced. @since 0.2.0
   */
  readonly mintBroken: () => boolean
}

/**
 * Creates an {@link Injector}, its PRNG seeded with `seed`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Faults from "effect-chittyid/server/Faults"
 *
 * const injector = Faults.makeInjector({ seed: 1, faults: { hang: { rate: 0.5 } } })
 * const decision = Effect.runSync(injector.decide("validate"))
 * ```
 *
 * @since 0.1.0
 * @category decisions
 */
export const makeInjector = (
  options: { readonly seed: number; readonly faults?: FaultsPatch | undefined }
): Injector => {
  const initial = merge(none, options.faults ?? {})
  let faults = initial
  let random = Random.make(options.seed)
  let injected = zeroInjected()
  let active = isActive(faults)

  const roll = (rate: number | undefined): Effect.Effect<boolean> =>
    rate === undefined || rate >= 1
      ? Effect.succeed(true)
      : rate <= 0
      ? Effect.succeed(false)
      : Effect.map(random.next, (x) => x < rate)

  const count = (kind: FaultKind) => {
    injected[kind]++
  }

  const decideAction = (endpoint: Endpoint, serviceOnly: boolean): Effect.Effect<Action> =>
    Effect.gen(function*() {
      const { garbage, outage } = faults
      const { errors, hang, rateLimit } = serviceOnly ? none : faults
      if (outage !== null && targets(outage, endpoint, endpoints) && (yield* roll(outage.rate))) {
        count("outage")
        return outage.mode === "refuse" ? { _tag: "Refuse" } as const : { _tag: "Reset" } as const
      }
      if (rateLimit !== null && rateLimit.burst > 0 && targets(rateLimit, endpoint)) {
        faults = { ...faults, rateLimit: { ...rateLimit, burst: rateLimit.burst - 1 } }
        count("rateLimit")
        return {
          _tag: "RateLimited",
          retryAfter: rateLimit.retryAfter ?? 1,
          format: rateLimit.retryAfterFormat ?? "seconds"
        } as const
      }
      if (errors !== null && targets(errors, endpoint) && (yield* roll(errors.rate))) {
        count("errors")
        return {
          _tag: "Unavailable",
          retryAfter: errors.retryAfter,
          format: errors.retryAfterFormat ?? "seconds"
        } as const
      }
      if (hang !== null && targets(hang, endpoint) && (yield* roll(hang.rate))) {
        count("hang")
        return { _tag: "Hang" } as const
      }
      if (garbage !== null && targets(garbage, endpoint) && (yield* roll(garbage.rate))) {
        count("garbage")
        const kinds = garbage.kinds ?? garbageKinds
        const kind = kinds[kinds.length === 1 ? 0 : yield* random.nextIntBetween(0, kinds.length)] ?? "not-json"
        return { _tag: "Garbage", kind, draw: yield* random.next } as const
      }
      return pass
    })

  const decideDelay = (endpoint: Endpoint): Effect.Effect<number> =>
    Effect.gen(function*() {
      const latency = faults.latency
      if (latency === null || !targets(latency, endpoint) || !(yield* roll(latency.rate))) return 0
      const jitter = latency.jitterMs ?? 0
      const delay = (latency.fixedMs ?? 0) + (jitter > 0 ? (yield* random.next) * jitter : 0)
      if (delay > 0) count("latency")
      return delay
    })

  return {
    current: Effect.sync(() => faults),
    snapshot: () => faults,
    active: () => active,
    set: (patch) =>
      Effect.sync(() => {
        faults = merge(faults, patch)
        active = isActive(faults)
      }),
    reset: Effect.sync(() => {
      faults = none
      active = false
      random = Random.make(options.seed)
      injected = zeroInjected()
    }),
    injected: Effect.sync(() => ({ ...injected })),
    decide: (endpoint, options) =>
      active
        ? Effect.zipWith(
          decideDelay(endpoint),
          decideAction(endpoint, options?.serviceOnly === true),
          (delayMs, action) => ({ delayMs, action })
        )
        : Effect.succeed(noFault),
    fallback: Effect.suspend(() => {
      const fallback = faults.fallback
      return fallback === null ? Effect.succeed(undefined) : Effect.map(roll(fallback.rate), (hit) => {
        if (!hit) return undefined
        count("fallback")
        return fallback.errorCode ?? "MINT_UNAVAILABLE"
      })
    }),
    mintBroken: () => {
      const { errors, fallback, hang, outage, rateLimit } = faults
      return (fallback !== null && fallback.rate !== 0) ||
        (errors !== null && errors.rate !== 0 && targets(errors, "mint")) ||
        (rateLimit !== null && rateLimit.burst > 0 && targets(rateLimit, "mint")) ||
        (hang !== null && hang.rate !== 0 && targets(hang, "mint")) ||
        (outage !== null && outage.rate !== 0 && targets(outage, "mint", endpoints))
    },
    loseAnswer: Effect.suspend(() => {
      const lostAnswer = faults.lostAnswer
      return lostAnswer === null ? Effect.succeed(false) : Effect.tap(roll(lostAnswer.rate), (hit) => {
        if (hit) count("lostAnswer")
      })
    })
  }
}

const isActive = (faults: Faults): boolean =>
  faults.latency !== null || faults.errors !== null || faults.outage !== null || faults.rateLimit !== null ||
  faults.hang !== null || faults.garbage !== null

// -----------------------------------------------------------------------------
// Garbage
// -----------------------------------------------------------------------------

/**
 * A garbage body for an endpoint: what a broken proxy or a buggy service might send with a 200.
 * `draw` (from the injector's PRNG) picks among the variants of a kind, so seeded runs repeat.
 *
 * @example
 * ```ts
 * import * as Faults from "effect-chittyid/server/Faults"
 * Faults.garbageBody("not-json", "mint", 0.5).contentType // "application/json"
 * ```
 *
 * @since 0.1.0
 * @category garbage
 */
export const garbageBody = (
  kind: GarbageKind,
  endpoint: Endpoint,
  draw: number,
  timestamp = "1970-01-01T00:00:00.000Z"
): { readonly body: string; readonly contentType: string } => {
  if (kind === "not-json") {
    const variants = [
      "{\"success\":true,\"chittyId\":\"03-1-USA-",
      "<html><body><h1>502 Bad Gateway</h1></body></html>",
      "OK"
    ]
    return { body: pick(variants, draw), contentType: "application/json" }
  }
  if (kind === "bad-id" && endpoint === "mint") {
    const badIds = [
      // the pattern of the older documents and their test data: of neither format
      "CT-A-CHI-1234-I-24-A-0",
      "01-A-CHI-1234-I-2409-5-0",
      wrongCheckNumber(draw)
    ]
    const chittyId = pick(badIds, draw)
    return {
      body: JSON.stringify({
        success: true,
        chittyId,
        components: {
          version: "03",
          region: "1",
          jurisdiction: "USA",
          sequential: "0000",
          entityType: "P",
          yearMonth: "0000",
          trustLevel: "0",
          checksum: "00"
        },
        timestamp
      }),
      contentType: "application/json"
    }
  }
  const shapes: ReadonlyArray<unknown> = endpoint === "validate"
    ? [{ success: true, valid: "yes", timestamp }, { ok: true }, [true]]
    : [{ success: true, id: "03-1-USA-0000-P-0000-0-00", timestamp }, { ok: true }, []]
  return { body: JSON.stringify(pick(shapes, draw)), contentType: "application/json" }
}

const pick = <A>(variants: ReadonlyArray<A>, draw: number): A =>
  variants[Math.min(variants.length - 1, Math.floor(draw * variants.length))] as A

/** A well-formed permanent ID whose check number is off by one: rejected by every validator. */
const wrongCheckNumber = (draw: number): string => {
  const body = `03-1-USA-${String(Math.floor(draw * 10_000)).padStart(4, "0")}-P-2602-0`
  const right = Number(ChittyId.checkNumber(body))
  return `${body}-${String((right + 1) % 97).padStart(2, "0")}`
}
