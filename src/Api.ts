/**
 * The ChittyID HTTP contract, defined once as an `HttpApi`. The reference server is built from it
 * with `HttpApiBuilder`; the client encodes its requests and decodes every answer with the same
 * Schemas, so the two can never drift apart.
 *
 * | endpoint | request | 2xx |
 * |---|---|---|
 * | `POST /v1/mint` | `{ entityType, metadata? }`, query `region`, `jurisdiction`, `trust` | {@link MintResponse} |
 * | `GET /api/get-chittyid`, `GET /generate` | query `type` (or `for`), `region`, `jurisdiction`, `trust` | {@link MintResponse} |
 * | `POST /api/validate` | `{ id }` | {@link ValidateResponse} |
 * | `GET /health`, `GET /api/health` | — | {@link HealthResponse} |
 * | `GET /api/spec` | — | {@link SpecResponse} |
 *
 * The same definition serves both profiles of the reference server (`strict`, the contract, and
 * `live`, what the live service answers): every Schema here decodes the answers of both.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 *
 * const answer = Schema.decodeUnknownSync(Api.HealthResponse)({
 *   status: "ok", service: "chittyid", version: "1.0.0", timestamp: "2026-02-01T00:00:00.000Z"
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as Schema from "effect/Schema"
import * as ChittyId from "./ChittyId.ts"

// -----------------------------------------------------------------------------
// Paths and headers
// -----------------------------------------------------------------------------

/**
 * The paths of the contract.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * Api.paths.mint // "/v1/mint"
 * ```
 *
 * @since 0.1.0
 * @category paths
 */
export const paths = {
  mint: "/v1/mint",
  /** The official ChittyOS client's mint (`GET`, query `type`). @since 0.2.0 */
  getChittyId: "/api/get-chittyid",
  /** Another `GET` mint of the live service (query `type`). @since 0.2.0 */
  generate: "/generate",
  validate: "/api/validate",
  health: "/health",
  healthAlias: "/api/health",
  /** The format specification. @since 0.2.0 */
  spec: "/api/spec"
} as const

/**
 * The header that makes a mint idempotent (our extension of the contract).
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const headers = { [Api.idempotencyKeyHeader]: crypto.randomUUID() }
 * ```
 *
 * @since 0.1.0
 * @category headers
 */
export const idempotencyKeyHeader = "idempotency-key"

/**
 * The response header in which a server that honours `Idempotency-Key` echoes the key of a mint
 * answer it stored (the reference server's `strict` profile does; the live service ignores keys
 * and never echoes them). Same name as the request header.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const honoured = (headers: Headers, key: string) => headers.get(Api.idempotencyKeyEchoHeader) === key
 * ```
 *
 * @since 0.2.0
 * @category headers
 */
export const idempotencyKeyEchoHeader: typeof idempotencyKeyHeader = idempotencyKeyHeader

/**
 * The response header (`Idempotent-Replayed: true`) on a mint answer served again from the
 * idempotency store instead of minted by this request.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const replayed = (headers: Headers) => headers.get(Api.idempotentReplayedHeader) === "true"
 * ```
 *
 * @since 0.2.0
 * @category headers
 */
export const idempotentReplayedHeader = "idempotent-replayed"

// -----------------------------------------------------------------------------
// Shared pieces
// -----------------------------------------------------------------------------

/**
 * The parts of an ID as the service reports them: every field a string, as written in the ID.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * const components: Api.Components = Api.componentsOf(ChittyId.parseOrThrow("03-1-USA-5537-P-2602-0-38"))
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export class Components extends Schema.Class<Components>("Components")({
  version: Schema.String,
  region: Schema.String,
  jurisdiction: Schema.String,
  sequential: Schema.String,
  entityType: Schema.String,
  yearMonth: Schema.String,
  trustLevel: Schema.String,
  checksum: Schema.String
}) {}

/**
 * The components of an ID, as the service writes them.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * Api.componentsOf(ChittyId.parseOrThrow("03-1-USA-5537-P-2602-0-38")).sequential // "5537"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const componentsOf = (parts: ChittyId.Parts): Components =>
  new Components({
    version: parts.version,
    region: String(parts.region),
    jurisdiction: parts.jurisdiction,
    sequential: parts.sequence,
    entityType: parts.entityType,
    yearMonth: parts.yearMonth,
    trustLevel: String(parts.trustLevel),
    checksum: parts.checkNumber
  }, { disableValidation: true })

/**
 * Metadata a caller attaches to a mint request: a JSON object, stored by the service.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * Schema.is(Api.Metadata)({ source: "signup", tier: 2 }) // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Metadata: Schema.Record$<typeof Schema.String, typeof Schema.Unknown> = Schema.Record({
  key: Schema.String,
  value: Schema.Unknown
})

// -----------------------------------------------------------------------------
// Mint
// -----------------------------------------------------------------------------

/**
 * The body of `POST /v1/mint`. The live service also reads `entity_type`; either names the entity
 * type as a code, a word or a legacy name.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const body = Schema.encodeSync(Api.MintRequest)({ entityType: "person", metadata: { source: "signup" } })
 * ```
 *
 * @since 0.1.0
 * @category mint
 */
export const MintRequest = Schema.Struct({
  entityType: Schema.optional(Schema.String),
  entity_type: Schema.optional(Schema.String),
  metadata: Schema.optional(Metadata)
}).annotations({ identifier: "MintRequest" })

/**
 * @since 0.1.0
 * @category mint
 */
export type MintRequest = typeof MintRequest.Type

/**
 * Query parameters of `POST /v1/mint`: region (1–9), jurisdiction (three letters) and trust level
 * (0–5); the service defaults them to 1, USA and 0.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const params: typeof Api.MintUrlParams.Type = { region: "3", jurisdiction: "GBR", trust: "2" }
 * ```
 *
 * @since 0.1.0
 * @category mint
 */
export const MintUrlParams = Schema.Struct({
  region: Schema.optional(Schema.String),
  jurisdiction: Schema.optional(Schema.String),
  trust: Schema.optional(Schema.String),
  /** The entity type in the query (the `GET` mints; the live service reads it on `POST` too). @since 0.2.0 */
  type: Schema.optional(Schema.String),
  /** An older spelling of `type`. @since 0.2.0 */
  for: Schema.optional(Schema.String)
})

/**
 * A mint that succeeded: a permanent ID and its components.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const isMinted = Schema.is(Api.MintSuccess)
 * ```
 *
 * @since 0.1.0
 * @category mint
 */
export const MintSuccess = Schema.Struct({
  success: Schema.Literal(true),
  chittyId: ChittyId.ChittyId,
  components: Components,
  timestamp: Schema.String,
  fallback: Schema.optional(Schema.Literal(false)),
  /** The live service names itself (`"id.chitty.cc"`). @since 0.2.0 */
  service: Schema.optional(Schema.String),
  /** The live service names its minting backend (`"mint.chitty.cc"`). @since 0.2.0 */
  mintedBy: Schema.optional(Schema.String)
}).annotations({ identifier: "MintSuccess" })

/**
 * @since 0.1.0
 * @category mint
 */
export type MintSuccess = typeof MintSuccess.Type

/**
 * Where the live service says a placeholder's geography comes from (`source: "fallback"`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * Schema.is(Api.FallbackGeo)({ region: "0", regionName: "Error/Pending", jurisdiction: "ERR", source: "fallback" }) // true
 * ```
 *
 * @since 0.2.0
 * @category mint
 */
export const FallbackGeo = Schema.Struct({
  region: Schema.String,
  regionName: Schema.optional(Schema.String),
  jurisdiction: Schema.String,
  source: Schema.optional(Schema.String)
}).annotations({ identifier: "FallbackGeo" })

/**
 * The trust the live service gives a placeholder (`level: 0`, `verified: false`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * Schema.is(Api.FallbackTrust)({ level: 0, source: "fallback", verified: false }) // true
 * ```
 *
 * @since 0.2.0
 * @category mint
 */
export const FallbackTrust = Schema.Struct({
  level: Schema.Number,
  source: Schema.optional(Schema.String),
  verified: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "FallbackTrust" })

/**
 * A degraded mint: the service answered 200 with a fallback placeholder. `errorCode` is the code's
 * name (`"MINT_UNAVAILABLE"`); the live service adds `components`, `geo`, `trust`, `service` and
 * `mintedBy`, all optional here.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const isPlaceholder = Schema.is(Api.MintFallback)
 * ```
 *
 * @since 0.1.0
 * @category mint
 */
export const MintFallback = Schema.Struct({
  success: Schema.Literal(true),
  chittyId: ChittyId.FallbackId,
  fallback: Schema.Literal(true),
  errorCode: Schema.String,
  message: Schema.String,
  timestamp: Schema.optional(Schema.String),
  /** @since 0.2.0 */
  components: Schema.optional(Components),
  /** @since 0.2.0 */
  geo: Schema.optional(FallbackGeo),
  /** @since 0.2.0 */
  trust: Schema.optional(FallbackTrust),
  /** @since 0.2.0 */
  service: Schema.optional(Schema.String),
  /** `"fallback"` on the live service. @since 0.2.0 */
  mintedBy: Schema.optional(Schema.String)
}).annotations({ identifier: "MintFallback" })

/**
 * @since 0.1.0
 * @category mint
 */
export type MintFallback = typeof MintFallback.Type

/**
 * Every 2xx answer of `POST /v1/mint`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const decode = Schema.decodeUnknownEither(Api.MintResponse) // Left: MalformedResponse material
 * ```
 *
 * @since 0.1.0
 * @category mint
 */
export const MintResponse = Schema.Union(MintSuccess, MintFallback).annotations({ identifier: "MintResponse" })

/**
 * @since 0.1.0
 * @category mint
 */
export type MintResponse = typeof MintResponse.Type

// -----------------------------------------------------------------------------
// Validate
// -----------------------------------------------------------------------------

/**
 * The body of `POST /api/validate`. The ID is sent as a string: judging it is the service's job.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const body = Schema.encodeSync(Api.ValidateRequest)({ id: "03-1-USA-5537-P-2602-0-38" })
 * ```
 *
 * @since 0.1.0
 * @category validate
 */
export const ValidateRequest = Schema.Struct({
  id: Schema.String
}).annotations({ identifier: "ValidateRequest" })

/**
 * @since 0.1.0
 * @category validate
 */
export type ValidateRequest = typeof ValidateRequest.Type

/**
 * The service knows the ID.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const known = Schema.is(Api.ValidateValid)
 * ```
 *
 * @since 0.1.0
 * @category validate
 */
export const ValidateValid = Schema.Struct({
  success: Schema.Literal(true),
  valid: Schema.Literal(true),
  components: Components,
  timestamp: Schema.String
}).annotations({ identifier: "ValidateValid" })

/**
 * The service does not accept the ID: malformed, or well-formed but never issued (`error` says which).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const refused = Schema.is(Api.ValidateInvalid)
 * ```
 *
 * @since 0.1.0
 * @category validate
 */
export const ValidateInvalid = Schema.Struct({
  success: Schema.Literal(true),
  valid: Schema.Literal(false),
  error: Schema.String,
  timestamp: Schema.String
}).annotations({ identifier: "ValidateInvalid" })

/**
 * The answer about a fallback placeholder that cannot be replaced yet (minting still fails):
 * `errorCode` is the four-digit code of the ID (`"0001"`), `errorName` its name
 * (`"MINT_UNAVAILABLE"`, `"UNKNOWN_ERROR"` for a code the service does not know), and
 * `canReplace: true` says a later validate may swap it for a permanent ID. The reference server's
 * `strict` profile answers this shape too, with an `error` for older callers.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const pending = Schema.is(Api.ValidatePlaceholder)
 * ```
 *
 * @since 0.2.0
 * @category validate
 */
export const ValidatePlaceholder = Schema.Struct({
  success: Schema.Literal(true),
  valid: Schema.Literal(false),
  isError: Schema.Literal(true),
  errorCode: Schema.String,
  errorName: Schema.String,
  message: Schema.String,
  canReplace: Schema.Boolean,
  error: Schema.optional(Schema.String),
  timestamp: Schema.String
}).annotations({ identifier: "ValidatePlaceholder" })

/**
 * @since 0.2.0
 * @category validate
 */
export type ValidatePlaceholder = typeof ValidatePlaceholder.Type

/**
 * The answer about a fallback placeholder once minting works again: the service minted a permanent
 * ID for the request that got the placeholder (`oldId`) and answers it as `newId`, the same every
 * time the placeholder is asked about again. The live service also spreads the mint answer in
 * (`chittyId` = `newId`, `components`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const replaced = Schema.is(Api.ValidateReplaced)
 * ```
 *
 * @since 0.2.0
 * @category validate
 */
export const ValidateReplaced = Schema.Struct({
  success: Schema.Literal(true),
  replaced: Schema.Literal(true),
  oldId: ChittyId.FallbackId,
  newId: ChittyId.ChittyId,
  message: Schema.String,
  chittyId: Schema.optional(ChittyId.ChittyId),
  components: Schema.optional(Components),
  timestamp: Schema.String
}).annotations({ identifier: "ValidateReplaced" })

/**
 * @since 0.2.0
 * @category validate
 */
export type ValidateReplaced = typeof ValidateReplaced.Type

/**
 * Every 2xx answer of `POST /api/validate`: {@link ValidateValid}, {@link ValidatePlaceholder}
 * (tried before {@link ValidateInvalid}, which it would also match when it carries `error`),
 * {@link ValidateInvalid} or {@link ValidateReplaced}. Tell them apart with `Schema.is` of each.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const decode = Schema.decodeUnknownEither(Api.ValidateResponse)
 * ```
 *
 * @since 0.1.0
 * @category validate
 */
export const ValidateResponse = Schema.Union(
  ValidateValid,
  ValidatePlaceholder,
  ValidateInvalid,
  ValidateReplaced
).annotations({
  identifier: "ValidateResponse"
})

/**
 * @since 0.1.0
 * @category validate
 */
export type ValidateResponse = typeof ValidateResponse.Type

/**
 * The `error` our reference server gives for an ID that is well-formed but was never minted there.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const neverIssued = (answer: Api.ValidateResponse) =>
 *   Schema.is(Api.ValidateInvalid)(answer) && answer.error === Api.unknownIdError
 * ```
 *
 * @since 0.1.0
 * @category validate
 */
export const unknownIdError = "NOT_FOUND"

// -----------------------------------------------------------------------------
// Health
// -----------------------------------------------------------------------------

/**
 * The `status` of a health answer: `"ok"` (`/health`, and the reference server's `strict`
 * `/api/health`) or `"healthy"` (the live service's `/api/health`). Both mean up.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * Schema.is(Api.HealthStatus)("healthy") // true
 * ```
 *
 * @since 0.2.0
 * @category health
 */
export const HealthStatus = Schema.Literal("ok", "healthy")

/**
 * @since 0.2.0
 * @category health
 */
export type HealthStatus = typeof HealthStatus.Type

/**
 * Does a health `status` say the service is up (`"ok"` or `"healthy"`)?
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * Api.isUp("healthy") // true
 * Api.isUp("degraded") // false
 * ```
 *
 * @since 0.2.0
 * @category health
 */
export const isUp: (status: string) => status is HealthStatus = Schema.is(HealthStatus)

/**
 * The answer of `GET /health` and `GET /api/health`. `status` is `"ok"` (`/health`) or `"healthy"`
 * (the live service's `/api/health`) when the service is up ({@link isUp}); any other string is
 * kept as is, so a service that reports itself degraded still decodes.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const up = (u: unknown) => Schema.is(Api.HealthResponse)(u) && u.status === "ok"
 * ```
 *
 * @since 0.1.0
 * @category health
 */
export const HealthResponse = Schema.Struct({
  status: Schema.String,
  service: Schema.String,
  version: Schema.String,
  timestamp: Schema.String
}).annotations({ identifier: "HealthResponse" })

/**
 * @since 0.1.0
 * @category health
 */
export type HealthResponse = typeof HealthResponse.Type

// -----------------------------------------------------------------------------
// Spec
// -----------------------------------------------------------------------------

/**
 * The answer of `GET /api/spec`: the format and the names of entity types and trust levels.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const spec = Schema.decodeUnknownSync(Api.SpecResponse)({
 *   success: true,
 *   specification: { format: "VV-G-LLL-SSSS-T-YM-C-X", entityTypes: { P: "Person" }, trustLevels: { "0": "Unverified" } },
 *   timestamp: "2026-02-01T00:00:00.000Z"
 * })
 * ```
 *
 * @since 0.2.0
 * @category spec
 */
export const SpecResponse = Schema.Struct({
  success: Schema.Literal(true),
  specification: Schema.Struct({
    format: Schema.String,
    entityTypes: Schema.Record({ key: Schema.String, value: Schema.String }),
    trustLevels: Schema.Record({ key: Schema.String, value: Schema.String })
  }),
  timestamp: Schema.String
}).annotations({ identifier: "SpecResponse" })

/**
 * @since 0.2.0
 * @category spec
 */
export type SpecResponse = typeof SpecResponse.Type

// -----------------------------------------------------------------------------
// Errors
// -----------------------------------------------------------------------------

const errorBody = <const Code extends string>(code: Code, status: number) =>
  Schema.Struct({
    success: Schema.Literal(false),
    error: Schema.Literal(code),
    message: Schema.String
  }).annotations(HttpApiSchema.annotations({ status, identifier: code }))

/**
 * 400: the request is malformed.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.InvalidRequestBody.Type = { success: false, error: "INVALID_REQUEST", message: "entityType is required" }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const InvalidRequestBody = errorBody("INVALID_REQUEST", 400)

/**
 * 401: the bearer token is missing or wrong.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.UnauthorizedBody.Type = { success: false, error: "UNAUTHORIZED", message: "invalid bearer token" }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const UnauthorizedBody = errorBody("UNAUTHORIZED", 401)

/**
 * 404: no such resource.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.NotFoundBody.Type = { success: false, error: "NOT_FOUND", message: "no such endpoint" }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const NotFoundBody = errorBody("NOT_FOUND", 404)

/**
 * 409: the `Idempotency-Key` was used before with another body.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.IdempotencyConflictBody.Type = { success: false, error: "IDEMPOTENCY_CONFLICT", message: "key reused" }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const IdempotencyConflictBody = errorBody("IDEMPOTENCY_CONFLICT", 409)

/**
 * 413: the request body is over the server's limit.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.PayloadTooLargeBody.Type = { success: false, error: "PAYLOAD_TOO_LARGE", message: "over 16384 bytes" }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const PayloadTooLargeBody = errorBody("PAYLOAD_TOO_LARGE", 413)

/**
 * 422: the sequence space of a prefix (region, jurisdiction, type, month) is used up: 10 000 IDs.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.SequenceExhaustedBody.Type = { success: false, error: "SEQUENCE_EXHAUSTED", message: "1-USA-P-2602 is full" }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const SequenceExhaustedBody = errorBody("SEQUENCE_EXHAUSTED", 422)

/**
 * 429: too many requests; the answer carries `Retry-After`.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.RateLimitedBody.Type = { success: false, error: "RATE_LIMITED", message: "retry after 1 s" }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const RateLimitedBody = errorBody("RATE_LIMITED", 429)

/**
 * 503: the service is unavailable; the answer may carry `Retry-After`.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.ServiceUnavailableBody.Type = { success: false, error: "SERVICE_UNAVAILABLE", message: "down" }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const ServiceUnavailableBody = errorBody("SERVICE_UNAVAILABLE", 503)

/**
 * 415: a mint body that is not `application/json` (reference server, `strict` profile).
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.UnsupportedMediaTypeBody.Type = { success: false, error: "UNSUPPORTED_MEDIA_TYPE", message: "send application/json" }
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export const UnsupportedMediaTypeBody = errorBody("UNSUPPORTED_MEDIA_TYPE", 415)

/**
 * 503 `SECURITY_ERROR`: the live service's answer to a validate body that is not JSON or whose `id`
 * is not a string.
 *
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const body: typeof Api.SecurityErrorBody.Type = { success: false, error: "SECURITY_ERROR", message: "Request processing failed security validation" }
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export const SecurityErrorBody = errorBody("SECURITY_ERROR", 503)

/**
 * Any error body of the contract (`{ success: false, error, message }`), whatever its code.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const serverMessage = Schema.decodeUnknownOption(Api.ErrorBody)
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const ErrorBody = Schema.Struct({
  success: Schema.Literal(false),
  error: Schema.String,
  message: Schema.String
}).annotations({ identifier: "ErrorBody" })

// -----------------------------------------------------------------------------
// The API
// -----------------------------------------------------------------------------

/**
 * Bearer-token authentication of the `ids` group.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Api from "effect-chittyid/Api"
 * const allowAll = Api.Authorization.of({ bearer: () => Effect.void })
 * ```
 *
 * @since 0.1.0
 * @category security
 */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("effect-chittyid/Api/Authorization", {
  failure: UnauthorizedBody,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/**
 * Minting and validation: authenticated.
 *
 * @example
 * ```ts
 * import { HttpApiBuilder } from "@effect/platform"
 * import * as Api from "effect-chittyid/Api"
 * // HttpApiBuilder.group(Api.ChittyIdApi, "ids", (handlers) => handlers.handle("mint", ...).handle("validate", ...))
 * ```
 *
 * @since 0.1.0
 * @category api
 */
export class IdsGroup extends HttpApiGroup.make("ids")
  .add(
    HttpApiEndpoint.post("mint", paths.mint)
      .setPayload(MintRequest)
      .setUrlParams(MintUrlParams)
      .setHeaders(Schema.Struct({ [idempotencyKeyHeader]: Schema.optional(Schema.String) }))
      .addSuccess(MintResponse)
      .addError(InvalidRequestBody)
      .addError(IdempotencyConflictBody)
      .addError(SequenceExhaustedBody)
      .addError(UnsupportedMediaTypeBody)
  )
  .add(
    HttpApiEndpoint.get("getChittyId", paths.getChittyId)
      .setUrlParams(MintUrlParams)
      .addSuccess(MintResponse)
      .addError(InvalidRequestBody)
      .addError(SequenceExhaustedBody)
  )
  .add(
    HttpApiEndpoint.get("generate", paths.generate)
      .setUrlParams(MintUrlParams)
      .addSuccess(MintResponse)
      .addError(InvalidRequestBody)
      .addError(SequenceExhaustedBody)
  )
  .add(
    HttpApiEndpoint.post("validate", paths.validate)
      .setPayload(ValidateRequest)
      .addSuccess(ValidateResponse)
      .addError(InvalidRequestBody)
      .addError(SecurityErrorBody)
  )
  .middleware(Authorization)
{}

/**
 * Health: public.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpApiBuilder } from "@effect/platform"
 * import * as Api from "effect-chittyid/Api"
 * const health = Effect.succeed({ status: "ok", service: "me", version: "1", timestamp: new Date().toISOString() })
 * const HealthLive = HttpApiBuilder.group(Api.ChittyIdApi, "health", (h) => h.handle("health", () => health).handle("healthAlias", () => health))
 * ```
 *
 * @since 0.1.0
 * @category api
 */
export class HealthGroup extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("health", paths.health).addSuccess(HealthResponse))
  .add(HttpApiEndpoint.get("healthAlias", paths.healthAlias).addSuccess(HealthResponse))
{}

/**
 * The format specification: public.
 *
 * @example
 * ```ts
 * import { HttpApiBuilder } from "@effect/platform"
 * import * as Api from "effect-chittyid/Api"
 * // HttpApiBuilder.group(Api.ChittyIdApi, "spec", (handlers) => handlers.handle("spec", ...))
 * ```
 *
 * @since 0.2.0
 * @category api
 */
export class SpecGroup extends HttpApiGroup.make("spec")
  .add(HttpApiEndpoint.get("spec", paths.spec).addSuccess(SpecResponse))
{}

/**
 * The whole ChittyID contract.
 *
 * @example
 * ```ts
 * import { HttpApiBuilder } from "@effect/platform"
 * import * as Api from "effect-chittyid/Api"
 * const ApiLive = HttpApiBuilder.api(Api.ChittyIdApi) // then provide the group handlers
 * ```
 *
 * @since 0.1.0
 * @category api
 */
export class ChittyIdApi extends HttpApi.make("chittyid")
  .add(IdsGroup)
  .add(HealthGroup)
  .add(SpecGroup)
  .addError(PayloadTooLargeBody)
  .addError(RateLimitedBody)
  .addError(ServiceUnavailableBody)
{}
