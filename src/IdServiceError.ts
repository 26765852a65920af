/**
 * The typed failures of `IdService`. Every one carries a `message` a person reads; none carries the
 * token. `isRetryable` tells which ones the retry policy may try again.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdServiceError from "effect-chittyid/IdServiceError"
 *
 * const onlyTransient = <A, R>(effect: Effect.Effect<A, IdServiceError.IdServiceError, R>) =>
 *   effect.pipe(Effect.catchIf(IdServiceError.isRetryable, () => Effect.succeed("try later")))
 * ```
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * The request was refused as malformed: by the local checks before sending, or by the service (400,
 * 404, 413, 422). `status` is absent when the request never left the process.
 *
 * @example
 * ```ts
 * import { InvalidRequest } from "effect-chittyid/IdServiceError"
 * new InvalidRequest({ message: "unknown entity type \"X\"" })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>("effect-chittyid/InvalidRequest")(
  "InvalidRequest",
  {
    message: Schema.String,
    status: Schema.optional(Schema.Number),
    /** When a fallback placeholder said it (live service): its error code name, e.g. `INVALID_REQUEST`. */
    errorCode: Schema.optional(Schema.String),
    /** When a fallback placeholder said it: the placeholder, never an ID to keep. */
    fallbackId: Schema.optional(Schema.String),
    /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
    idempotencyKey: Schema.optional(Schema.String)
  }
) {}

/**
 * The service refused the credentials (401/403), or no token was configured.
 *
 * @example
 * ```ts
 * import { Unauthorized } from "effect-chittyid/IdServiceError"
 * new Unauthorized({ message: "the service refused the token", status: 401 })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>("effect-chittyid/Unauthorized")(
  "Unauthorized",
  {
    message: Schema.String,
    status: Schema.optional(Schema.Number),
    /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
    idempotencyKey: Schema.optional(Schema.String)
  }
) {}

/**
 * The service answered 429. `retryAfterMs` is its `Retry-After`, when it sent one.
 *
 * @example
 * ```ts
 * import { RateLimited } from "effect-chittyid/IdServiceError"
 * new RateLimited({ message: "rate limited", retryAfterMs: 2000 })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>("effect-chittyid/RateLimited")("RateLimited", {
  message: Schema.String,
  retryAfterMs: Schema.optional(Schema.Number),
  /** When a fallback placeholder said it (live service): its error code name, e.g. `INVALID_REQUEST`. */
  errorCode: Schema.optional(Schema.String),
  /** When a fallback placeholder said it: the placeholder, never an ID to keep. */
  fallbackId: Schema.optional(Schema.String),
  /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
  idempotencyKey: Schema.optional(Schema.String)
}) {}

/**
 * The service answered 5xx. `retryAfterMs` is its `Retry-After`, when it sent one.
 *
 * @example
 * ```ts
 * import { ServiceUnavailable } from "effect-chittyid/IdServiceError"
 * new ServiceUnavailable({ message: "503 from the service", status: 503 })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>("effect-chittyid/ServiceUnavailable")(
  "ServiceUnavailable",
  {
    message: Schema.String,
    status: Schema.Number,
    retryAfterMs: Schema.optional(Schema.Number),
    /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
    idempotencyKey: Schema.optional(Schema.String)
  }
) {}

/**
 * The service answered a mint with a fallback placeholder instead of a permanent ID. Retryable: the
 * placeholder is not an ID to keep.
 *
 * @example
 * ```ts
 * import { MintUnavailable } from "effect-chittyid/IdServiceError"
 * new MintUnavailable({ message: "minting backend unavailable", errorCode: "MINT_UNAVAILABLE", fallbackId: "03-0-ERR-0001-T-2602-0-25" })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MintUnavailable extends Schema.TaggedError<MintUnavailable>("effect-chittyid/MintUnavailable")(
  "MintUnavailable",
  {
    message: Schema.String,
    errorCode: Schema.String,
    fallbackId: Schema.String,
    /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
    idempotencyKey: Schema.optional(Schema.String)
  }
) {}

/**
 * The service refused to mint and said so with a `MINT_REJECTED` placeholder: the live service does
 * not check the token itself but passes it to its minting backend, so a wrong or missing token (or a
 * backend refusal) comes back as a 200 with this placeholder. Not transient: not retried, and not a
 * failure of the service for the circuit breaker. Check the token (`CHITTY_ID_TOKEN`).
 *
 * @example
 * ```ts
 * import { MintRejected } from "effect-chittyid/IdServiceError"
 * new MintRejected({ message: "check the token", errorCode: "MINT_REJECTED", fallbackId: "03-0-ERR-0003-P-2602-0-87" })
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class MintRejected extends Schema.TaggedError<MintRejected>("effect-chittyid/MintRejected")(
  "MintRejected",
  {
    message: Schema.String,
    errorCode: Schema.String,
    fallbackId: Schema.String,
    /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
    idempotencyKey: Schema.optional(Schema.String)
  }
) {}

/**
 * A request, or the whole call with its retries, took longer than allowed.
 *
 * @example
 * ```ts
 * import { RequestTimeout } from "effect-chittyid/IdServiceError"
 * new RequestTimeout({ message: "no answer within 5000 ms", timeoutMs: 5000, scope: "attempt" })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>("effect-chittyid/RequestTimeout")(
  "RequestTimeout",
  {
    message: Schema.String,
    timeoutMs: Schema.Number,
    scope: Schema.Literal("attempt", "overall"),
    /**
     * Whether the request may have reached the service (default `true`): `false` only when it is
     * known not to have left this process (the connection was never made), so a mint may be retried
     * without any risk of minting twice.
     */
    requestSent: Schema.optionalWith(Schema.Boolean, { default: () => true }),
    /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
    idempotencyKey: Schema.optional(Schema.String)
  }
) {}

/**
 * A mint whose outcome is unknown: its request may have reached the service (a timeout after
 * sending, a connection lost before the answer), and the service is not known to honour
 * `Idempotency-Key`, so sending it again could mint a second ID. It was therefore not retried.
 * Retry it yourself with the same `idempotencyKey` (a service that honours keys returns the first
 * ID; one that ignores them, like the live service today, mints again), or look for the ID first.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 *
 * const mintOnce = IdService.mint({ entityType: "P" }).pipe(
 *   Effect.catchTag("MintOutcomeUnknown", (error) =>
 *     IdService.mint({ entityType: "P", idempotencyKey: error.idempotencyKey }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class MintOutcomeUnknown extends Schema.TaggedError<MintOutcomeUnknown>("effect-chittyid/MintOutcomeUnknown")(
  "MintOutcomeUnknown",
  {
    message: Schema.String,
    /** What happened to the request: it timed out, or the connection broke, after it was sent. */
    reason: Schema.Literal("RequestTimeout", "ConnectionError"),
    /** The key the request was sent with: pass it back (`MintRequest.idempotencyKey`) to retry it. */
    idempotencyKey: Schema.String
  }
) {}

/**
 * The connection could not be made or broke before an answer came (refused, reset, DNS).
 *
 * @example
 * ```ts
 * import { ConnectionError } from "effect-chittyid/IdServiceError"
 * new ConnectionError({ message: "connection refused" })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionError extends Schema.TaggedError<ConnectionError>("effect-chittyid/ConnectionError")(
  "ConnectionError",
  {
    message: Schema.String,
    /**
     * Whether the request may have reached the service (default `true`): `false` only when it is
     * known not to have left this process (connection refused, DNS failure), so a mint may be
     * retried without any risk of minting twice.
     */
    requestSent: Schema.optionalWith(Schema.Boolean, { default: () => true }),
    /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
    idempotencyKey: Schema.optional(Schema.String)
  }
) {}

/**
 * The service answered something the contract does not allow: a body that is not JSON, a wrong
 * shape, an ID of neither format, an unexpected status.
 *
 * @example
 * ```ts
 * import { MalformedResponse } from "effect-chittyid/IdServiceError"
 * new MalformedResponse({ message: "body is not JSON", endpoint: "mint", status: 200 })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>("effect-chittyid/MalformedResponse")(
  "MalformedResponse",
  {
    message: Schema.String,
    endpoint: Schema.String,
    status: Schema.Number,
    /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
    idempotencyKey: Schema.optional(Schema.String)
  }
) {}

/**
 * The circuit breaker is open: the call was rejected without touching the network. `retryAt` is
 * when it will let a probe through (epoch milliseconds); absent while isolated by hand, or while
 * half-open with every probe slot taken (no time is known then).
 *
 * @example
 * ```ts
 * import { CircuitOpen } from "effect-chittyid/IdServiceError"
 * new CircuitOpen({ message: "circuit open", retryAt: Date.now() + 60_000 })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class CircuitOpen extends Schema.TaggedError<CircuitOpen>("effect-chittyid/CircuitOpen")("CircuitOpen", {
  message: Schema.String,
  retryAt: Schema.optional(Schema.Number),
  /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
  idempotencyKey: Schema.optional(Schema.String)
}) {}

/**
 * The service answered 409: the `Idempotency-Key` was used before with another request body.
 *
 * @example
 * ```ts
 * import { IdempotencyConflict } from "effect-chittyid/IdServiceError"
 * new IdempotencyConflict({ message: "key reused with another body" })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class IdempotencyConflict extends Schema.TaggedError<IdempotencyConflict>(
  "effect-chittyid/IdempotencyConflict"
)("IdempotencyConflict", {
  message: Schema.String,
  /** The `Idempotency-Key` of the mint that failed (mint only): pass it back to retry the same mint. */
  idempotencyKey: Schema.optional(Schema.String)
}) {}

/**
 * The mint's line could not be written to the audit log (`MintAudit`, mode `"required"`): the
 * mint's outcome is known but was not recorded, so it is not handed out silently. `chittyId` is the
 * ID (or placeholder) the service answered, when it answered one, so the caller loses nothing;
 * `mintError` is the mint's own failure (tag and message), when it failed. Not retryable: fix the
 * audit log (disk full, permissions, a missing directory) first.
 *
 * @example
 * ```ts
 * import { AuditWriteFailed } from "effect-chittyid/IdServiceError"
 * new AuditWriteFailed({ message: "audit log /var/log/mints.jsonl: no space left", path: "/var/log/mints.jsonl" })
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class AuditWriteFailed extends Schema.TaggedError<AuditWriteFailed>("effect-chittyid/AuditWriteFailed")(
  "AuditWriteFailed",
  {
    message: Schema.String,
    /** The audit log (a file path, or `memory`). */
    path: Schema.String,
    /** What the mint came to: `minted`, `placeholder` or `failed`. */
    outcome: Schema.optional(Schema.Literal("minted", "placeholder", "failed")),
    /** The ID or placeholder the service answered: keep it, it was minted. */
    chittyId: Schema.optional(Schema.String),
    /** The mint's own failure, `Tag: message`, when it failed. */
    mintError: Schema.optional(Schema.String),
    /** The `Idempotency-Key` of the mint: pass it back to retry the same mint. */
    idempotencyKey: Schema.optional(Schema.String)
  }
) {}

/**
 * Every failure of `IdService`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as IdServiceError from "effect-chittyid/IdServiceError"
 * const describe = (e: IdServiceError.IdServiceError) => `${e._tag}: ${e.message}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type IdServiceError =
  | InvalidRequest
  | Unauthorized
  | RateLimited
  | ServiceUnavailable
  | MintUnavailable
  | MintRejected
  | MintOutcomeUnknown
  | RequestTimeout
  | ConnectionError
  | MalformedResponse
  | CircuitOpen
  | IdempotencyConflict
  | AuditWriteFailed

/**
 * Schema of every failure (for RPC, logs, persistence).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as IdServiceError from "effect-chittyid/IdServiceError"
 * const encode = Schema.encodeSync(IdServiceError.IdServiceError) // for logs, RPC, persistence
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const IdServiceError: Schema.Union<[
  typeof InvalidRequest,
  typeof Unauthorized,
  typeof RateLimited,
  typeof ServiceUnavailable,
  typeof MintUnavailable,
  typeof MintRejected,
  typeof MintOutcomeUnknown,
  typeof RequestTimeout,
  typeof ConnectionError,
  typeof MalformedResponse,
  typeof CircuitOpen,
  typeof IdempotencyConflict,
  typeof AuditWriteFailed
]> = Schema.Union(
  InvalidRequest,
  Unauthorized,
  RateLimited,
  ServiceUnavailable,
  MintUnavailable,
  MintRejected,
  MintOutcomeUnknown,
  RequestTimeout,
  ConnectionError,
  MalformedResponse,
  CircuitOpen,
  IdempotencyConflict,
  AuditWriteFailed
)

/**
 * The failures that may go away on their own, so a retry may help.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryableError = ServiceUnavailable | RequestTimeout | ConnectionError | RateLimited | MintUnavailable

const retryableTags: ReadonlySet<string> = new Set([
  "ServiceUnavailable",
  "RequestTimeout",
  "ConnectionError",
  "RateLimited",
  "MintUnavailable"
])

/**
 * Is this failure worth retrying? `ServiceUnavailable`, `RequestTimeout` (per attempt),
 * `ConnectionError`, `RateLimited` and `MintUnavailable` are; `InvalidRequest`, `Unauthorized`,
 * `MintRejected`, `MintOutcomeUnknown`, `IdempotencyConflict`, `MalformedResponse`, `CircuitOpen`, `AuditWriteFailed` and an overall timeout are not.
 *
 * @example
 * ```ts
 * import { isRetryable, ConnectionError, Unauthorized } from "effect-chittyid/IdServiceError"
 * isRetryable(new ConnectionError({ message: "reset" })) // true
 * isRetryable(new Unauthorized({ message: "no" })) // false
 * ```
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: unknown): error is RetryableError =>
  Predicate.isTagged(error, "RequestTimeout")
    ? (error as RequestTimeout).scope === "attempt"
    : Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" && retryableTags.has(error._tag)

/**
 * The `Retry-After` a failure carries, in milliseconds, if any.
 *
 * @example
 * ```ts
 * import { retryAfterMs, RateLimited } from "effect-chittyid/IdServiceError"
 * retryAfterMs(new RateLimited({ message: "slow down", retryAfterMs: 1000 })) // 1000
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const retryAfterMs = (error: unknown): number | undefined =>
  (Predicate.isTagged(error, "RateLimited") || Predicate.isTagged(error, "ServiceUnavailable")) &&
    Predicate.hasProperty(error, "retryAfterMs") && typeof error.retryAfterMs === "number"
    ? error.retryAfterMs
    : undefined

/**
 * The same failure, carrying the `Idempotency-Key` of the mint it ended, so the caller can retry
 * that very mint (`MintRequest.idempotencyKey`). Every failure of `IdService.mint` has it.
 *
 * @example
 * ```ts
 * import { withIdempotencyKey, ConnectionError } from "effect-chittyid/IdServiceError"
 * withIdempotencyKey(new ConnectionError({ message: "reset" }), "order-42").idempotencyKey // "order-42"
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const withIdempotencyKey = (error: IdServiceError, idempotencyKey: string): IdServiceError => {
  if (error.idempotencyKey === idempotencyKey) return error
  switch (error._tag) {
    case "InvalidRequest":
      return new InvalidRequest({ ...error, message: error.message, idempotencyKey })
    case "Unauthorized":
      return new Unauthorized({ ...error, message: error.message, idempotencyKey })
    case "RateLimited":
      return new RateLimited({ ...error, message: error.message, idempotencyKey })
    case "ServiceUnavailable":
      return new ServiceUnavailable({ ...error, message: error.message, idempotencyKey })
    case "MintUnavailable":
      return new MintUnavailable({ ...error, message: error.message, idempotencyKey })
    case "MintRejected":
      return new MintRejected({ ...error, message: error.message, idempotencyKey })
    case "MintOutcomeUnknown":
      return new MintOutcomeUnknown({ ...error, message: error.message, idempotencyKey })
    case "RequestTimeout":
      return new RequestTimeout({ ...error, message: error.message, idempotencyKey })
    case "ConnectionError":
      return new ConnectionError({ ...error, message: error.message, idempotencyKey })
    case "MalformedResponse":
      return new MalformedResponse({ ...error, message: error.message, idempotencyKey })
    case "CircuitOpen":
      return new CircuitOpen({ ...error, message: error.message, idempotencyKey })
    case "IdempotencyConflict":
      return new IdempotencyConflict({ ...error, message: error.message, idempotencyKey })
    case "AuditWriteFailed":
      return new AuditWriteFailed({ ...error, message: error.message, idempotencyKey })
  }
}
