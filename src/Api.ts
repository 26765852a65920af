/**
 * The ChittyID HTTP contract, defined once as an `HttpApi`. The reference server is built from it
 * with `HttpApiBuilder`; the client encodes its requests and decodes every answer with the same
 * Schemas, so the two can never drift apart.
 *
 * | endpoint | request | 2xx |
 * |---|---|---|
 * | `POST /v1/mint` | `{ entityType, metadata? }`, query `region`, `jurisdiction`, `trust` | {@link MintResponse} |
 * | `POST /api/validate` | `{ id }` | {@link ValidateResponse} |
 * | `GET /health`, `GET /api/health` | — | {@link HealthResponse} |
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
  validate: "/api/validate",
  health: "/health",
  healthAlias: "/api/health"
} as const

/**
 * The header that makes a mint idempotent (our extension of the contract).
 *
 * @since 0.1.0
 * @category headers
 */
export const idempotencyKeyHeader = "idempotency-key"

// -----------------------------------------------------------------------------
// Shared pieces
// -----------------------------------------------------------------------------

/**
 * The parts of an ID as the service reports them: every field a string, as written in the ID.
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
 * @since 0.1.0
 * @category mint
 */
export const MintUrlParams = Schema.Struct({
  region: Schema.optional(Schema.String),
  jurisdiction: Schema.optional(Schema.String),
  trust: Schema.optional(Schema.String)
})

/**
 * A mint that succeeded: a permanent ID and its components.
 *
 * @since 0.1.0
 * @category mint
 */
export const MintSuccess = Schema.Struct({
  success: Schema.Literal(true),
  chittyId: ChittyId.ChittyId,
  components: Components,
  timestamp: Schema.String,
  fallback: Schema.optional(Schema.Literal(false))
}).annotations({ identifier: "MintSuccess" })

/**
 * @since 0.1.0
 * @category mint
 */
export type MintSuccess = typeof MintSuccess.Type

/**
 * A degraded mint: the service answered 200 with a fallback placeholder.
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
  timestamp: Schema.optional(Schema.String)
}).annotations({ identifier: "MintFallback" })

/**
 * @since 0.1.0
 * @category mint
 */
export type MintFallback = typeof MintFallback.Type

/**
 * Every 2xx answer of `POST /v1/mint`.
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
 * Every 2xx answer of `POST /api/validate`.
 *
 * @since 0.1.0
 * @category validate
 */
export const ValidateResponse = Schema.Union(ValidateValid, ValidateInvalid).annotations({
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
 * @since 0.1.0
 * @category validate
 */
export const unknownIdError = "NOT_FOUND"

// -----------------------------------------------------------------------------
// Health
// -----------------------------------------------------------------------------

/**
 * The answer of `GET /health`. `status` is `"ok"` when the service is fully up.
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
 * @since 0.1.0
 * @category errors
 */
export const InvalidRequestBody = errorBody("INVALID_REQUEST", 400)

/**
 * 401: the bearer token is missing or wrong.
 *
 * @since 0.1.0
 * @category errors
 */
export const UnauthorizedBody = errorBody("UNAUTHORIZED", 401)

/**
 * 404: no such resource.
 *
 * @since 0.1.0
 * @category errors
 */
export const NotFoundBody = errorBody("NOT_FOUND", 404)

/**
 * 409: the `Idempotency-Key` was used before with another body.
 *
 * @since 0.1.0
 * @category errors
 */
export const IdempotencyConflictBody = errorBody("IDEMPOTENCY_CONFLICT", 409)

/**
 * 413: the request body is over the server's limit.
 *
 * @since 0.1.0
 * @category errors
 */
export const PayloadTooLargeBody = errorBody("PAYLOAD_TOO_LARGE", 413)

/**
 * 422: the sequence space of a prefix (region, jurisdiction, type, month) is used up: 10 000 IDs.
 *
 * @since 0.1.0
 * @category errors
 */
export const SequenceExhaustedBody = errorBody("SEQUENCE_EXHAUSTED", 422)

/**
 * 429: too many requests; the answer carries `Retry-After`.
 *
 * @since 0.1.0
 * @category errors
 */
export const RateLimitedBody = errorBody("RATE_LIMITED", 429)

/**
 * 503: the service is unavailable; the answer may carry `Retry-After`.
 *
 * @since 0.1.0
 * @category errors
 */
export const ServiceUnavailableBody = errorBody("SERVICE_UNAVAILABLE", 503)

/**
 * Any error body of the contract (`{ success: false, error, message }`), whatever its code.
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
  )
  .add(
    HttpApiEndpoint.post("validate", paths.validate)
      .setPayload(ValidateRequest)
      .addSuccess(ValidateResponse)
      .addError(InvalidRequestBody)
  )
  .middleware(Authorization)
{}

/**
 * Health: public.
 *
 * @since 0.1.0
 * @category api
 */
export class HealthGroup extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("health", paths.health).addSuccess(HealthResponse))
  .add(HttpApiEndpoint.get("healthAlias", paths.healthAlias).addSuccess(HealthResponse))
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
  .addError(PayloadTooLargeBody)
  .addError(RateLimitedBody)
  .addError(ServiceUnavailableBody)
{}
