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
  trust: Schema.optional(Schema.String)
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
 * Every 2xx answer of `POST /api/validate`.
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
 * @example
 * ```ts
 * import * as Api from "effect-chittyid/Api"
 * const neverIssued = (answer: Api.ValidateResponse) => !answer.valid && answer.error === Api.unknownIdError
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
 * The answer of `GET /health`. `status` is `"ok"` when the service is fully up.
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
