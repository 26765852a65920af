/**
 * The handlers of the reference server's `HttpApi` groups: authorization, mint (with idempotency),
 * validate, health and the admin plane.
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { timingSafeEqual } from "node:crypto"
import * as Api from "../../Api.ts"
import * as ChittyId from "../../ChittyId.ts"
import * as Admin from "../Admin.ts"
import * as IdempotencyStore from "../IdempotencyStore.ts"
import {
  errorBody,
  invalidRequest,
  type MintFailure,
  now,
  resetAll,
  serviceName,
  sha256,
  snapshot,
  type State
} from "./state.ts"

// -----------------------------------------------------------------------------
// Authorization
// -----------------------------------------------------------------------------

const unauthorized = (message: string) => Effect.fail(errorBody("UNAUTHORIZED", message))

export const authorizationLive = (state: State) =>
  Layer.succeed(
    Api.Authorization,
    Api.Authorization.of({
      bearer: (presented) =>
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
          const header = request.headers["authorization"]
          if (header === undefined || header === "") {
            return unauthorized("missing bearer token: send Authorization: Bearer <token>")
          }
          if (header.length < 7 || header.slice(0, 7).toLowerCase() !== "bearer ") {
            return unauthorized("the Authorization header must use the Bearer scheme")
          }
          // Constant time: compare fixed-length digests, never the tokens themselves.
          return timingSafeEqual(sha256(Redacted.value(presented)), state.tokenDigest)
            ? Effect.void
            : unauthorized("invalid bearer token")
        })
    })
  )

// -----------------------------------------------------------------------------
// Mint
// -----------------------------------------------------------------------------

interface MintInput {
  readonly region: ChittyId.Region
  readonly jurisdiction: string
  readonly entityType: ChittyId.EntityTypeCode
  readonly trustLevel: ChittyId.TrustLevel
}

const quote = (value: string): string => JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value)

const entityTypeHelp = `one of ${ChittyId.entityTypeInputs.join(", ")}`

const parseEntityType = (payload: Api.MintRequest): Either.Either<ChittyId.EntityTypeCode, string> => {
  const { entity_type, entityType } = payload
  const input = entityType ?? entity_type
  if (input === undefined) return Either.left(`entityType is required: ${entityTypeHelp}`)
  const code = ChittyId.entityTypeOf(input)
  if (Option.isNone(code)) return Either.left(`entityType ${quote(input)} is not an entity type: ${entityTypeHelp}`)
  if (entityType !== undefined && entity_type !== undefined) {
    const other = ChittyId.entityTypeOf(entity_type)
    if (Option.isNone(other) || other.value !== code.value) {
      return Either.left(`entityType ${quote(entityType)} and entity_type ${quote(entity_type)} disagree`)
    }
  }
  return Either.right(code.value)
}

const singleDigit = (value: string, max: number): number | undefined => {
  if (value.length !== 1) return undefined
  const digit = value.charCodeAt(0) - 48
  return digit >= 0 && digit <= max ? digit : undefined
}

/** Checks the whole request and reports every problem, not just the first. */
const parseMintInput = (
  payload: Api.MintRequest,
  urlParams: typeof Api.MintUrlParams.Type
): Either.Either<MintInput, string> => {
  const problems: Array<string> = []
  const entityType = parseEntityType(payload)
  if (Either.isLeft(entityType)) problems.push(entityType.left)
  const region = urlParams.region === undefined ? 1 : singleDigit(urlParams.region, 9)
  if (region === undefined || region === 0) {
    problems.push(`region must be one digit from 1 to 9, got ${quote(urlParams.region ?? "")}`)
  }
  const jurisdiction = urlParams.jurisdiction ?? "USA"
  if (!Schema.is(ChittyId.Jurisdiction)(jurisdiction)) {
    problems.push(`jurisdiction must be three upper-case letters A–Z (e.g. USA), got ${quote(jurisdiction)}`)
  } else if (jurisdiction === "ERR") {
    problems.push("jurisdiction ERR is reserved for fallback IDs")
  }
  const trust = urlParams.trust === undefined ? 0 : singleDigit(urlParams.trust, 5)
  if (trust === undefined) problems.push(`trust must be one digit from 0 to 5, got ${quote(urlParams.trust ?? "")}`)
  if (problems.length > 0 || Either.isLeft(entityType)) return Either.left(problems.join("; "))
  return Either.right({
    region: region as ChittyId.Region,
    jurisdiction,
    entityType: entityType.right,
    trustLevel: trust as ChittyId.TrustLevel
  })
}

interface Minted {
  readonly response: Api.MintResponse
  /** A new ID was committed by this request (not a fallback, not a replay). */
  readonly committed: boolean
}

const mintOnce = (
  state: State,
  payload: Api.MintRequest,
  urlParams: typeof Api.MintUrlParams.Type,
  idempotencyKey: string | null
): Effect.Effect<Minted, Exclude<MintFailure, typeof Api.IdempotencyConflictBody.Type>> =>
  Effect.gen(function*() {
    const input = parseMintInput(payload, urlParams)
    if (Either.isLeft(input)) return yield* Effect.fail(invalidRequest(input.left))
    const date = yield* now
    const timestamp = date.toISOString()
    const yearMonth = ChittyId.yearMonthOf(date)
    const fallbackCode = yield* state.injector.fallback
    if (fallbackCode !== undefined) {
      const chittyId = ChittyId.makeFallback({ errorCode: fallbackCode, entityType: input.right.entityType, yearMonth })
      return {
        committed: false,
        response: {
          success: true,
          chittyId,
          fallback: true,
          errorCode: fallbackCode,
          message: `minting is degraded (${fallbackCode}): this is a placeholder, not a permanent ChittyID`,
          timestamp
        }
      } as const
    }
    const chittyId = yield* state.registry.mint({
      ...input.right,
      yearMonth,
      idempotencyKey,
      metadata: payload.metadata ?? null,
      mintedAt: timestamp
    }).pipe(Effect.catchTag("SequenceExhausted", (e) => Effect.fail(errorBody("SEQUENCE_EXHAUSTED", e.message))))
    const parts = ChittyId.parseOrThrow(chittyId)
    return {
      committed: true,
      response: { success: true, chittyId, components: Api.componentsOf(parts), timestamp }
    } as const
  })

const maxKeyLength = 256

/**
 * The first request with a key claims it and mints; any other request with the same key and the
 * same body and query (concurrent or later) awaits that answer; the same key with another request
 * is a 409. A failure or a fallback is not kept: the key is released so a retry may mint.
 */
const mintIdempotent = (
  state: State,
  key: string,
  payload: Api.MintRequest,
  urlParams: typeof Api.MintUrlParams.Type
): Effect.Effect<Minted, MintFailure> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const claim = yield* state.store.claim(key, IdempotencyStore.fingerprint({ payload, urlParams }))
      if (claim._tag === "Conflict") {
        return yield* Effect.fail(errorBody(
          "IDEMPOTENCY_CONFLICT",
          "this Idempotency-Key was already used with another request (body or query differ); use a new key"
        ))
      }
      if (claim._tag === "Existing") {
        const response = yield* restore(Deferred.await(claim.entry.deferred))
        state.counters.replay()
        return { response, committed: false }
      }
      const exit = yield* Effect.exit(mintOnce(state, payload, urlParams, key))
      if (Exit.isFailure(exit) || exit.value.response.fallback === true) {
        yield* state.store.release(key, claim.entry)
      }
      yield* Deferred.done(claim.entry.deferred, Exit.map(exit, (minted) => minted.response))
      return yield* exit
    })
  )

/** Destroys the connection under a request; the request's fiber is interrupted when it closes. */
export const dropConnection = (
  request: HttpServerRequest.HttpServerRequest,
  how: "close" | "reset"
): Effect.Effect<never> =>
  Effect.zipRight(
    Effect.sync(() => {
      const socket = NodeHttpServerRequest.toIncomingMessage(request).socket
      if (how === "reset") socket.resetAndDestroy()
      else socket.destroy()
    }),
    Effect.interruptible(Effect.never)
  )

export const idsLive = (state: State) =>
  HttpApiBuilder.group(Admin.ServerApi, "ids", (handlers) =>
    handlers
      .handle("mint", ({ headers, payload, request, urlParams }) =>
        Effect.gen(function*() {
          const key = headers[Api.idempotencyKeyHeader]
          if (key !== undefined && (key.length === 0 || key.length > maxKeyLength)) {
            return yield* Effect.fail(invalidRequest(`Idempotency-Key must be 1 to ${maxKeyLength} characters`))
          }
          const minted = key === undefined
            ? yield* mintOnce(state, payload, urlParams, null)
            : yield* mintIdempotent(state, key, payload, urlParams)
          if (minted.committed && (yield* state.injector.loseAnswer)) {
            return yield* dropConnection(request, "close")
          }
          return minted.response
        }))
      .handle("getChittyId", ({ urlParams }) => mintByQuery(state, urlParams))
      .handle("generate", ({ urlParams }) => mintByQuery(state, urlParams))
      .handle("validate", ({ payload }) => validate(state, payload.id)))

/** The `GET` mints of the official clients: the entity type is in the query (default a Thing). */
const mintByQuery = (state: State, urlParams: typeof Api.MintUrlParams.Type) =>
  Effect.map(
    mintOnce(state, { entityType: urlParams.type ?? urlParams.for ?? "thing" }, urlParams, null),
    (minted) => minted.response
  )

// -----------------------------------------------------------------------------
// Validate and health
// -----------------------------------------------------------------------------

const validate = (state: State, id: string): Effect.Effect<Api.ValidateResponse> =>
  Effect.map(now, (date): Api.ValidateResponse => {
    const timestamp = date.toISOString()
    const parsed = ChittyId.parse(id)
    if (Either.isLeft(parsed)) return { success: true, valid: false, error: parsed.left.reason, timestamp }
    const parts = parsed.right
    if (parts.kind === "fallback") {
      return {
        success: true,
        valid: false,
        error: `a fallback ID (error ${parts.errorCode}) is a placeholder, not a permanent ChittyID`,
        timestamp
      }
    }
    if (state.registry.lookup(id) === undefined) {
      return { success: true, valid: false, error: Api.unknownIdError, timestamp }
    }
    return { success: true, valid: true, components: Api.componentsOf(parts), timestamp }
  })

const capitalized = (word: string): string => `${word.charAt(0).toUpperCase()}${word.slice(1)}`
const specEntityTypes: Record<string, string> = Object.fromEntries(
  Object.entries(ChittyId.entityTypeWords).map(([code, word]) => [code, capitalized(word)])
)
const specTrustLevels: Record<string, string> = Object.fromEntries(
  Object.entries(ChittyId.trustLevels).map(([level, name]) => [level, name])
)

export const specLive = HttpApiBuilder.group(
  Admin.ServerApi,
  "spec",
  (handlers) =>
    handlers.handle("spec", () =>
      Effect.map(now, (date) => ({
        success: true as const,
        specification: {
          format: "VV-G-LLL-SSSS-T-YM-C-X",
          entityTypes: specEntityTypes,
          trustLevels: specTrustLevels
        },
        timestamp: date.toISOString()
      })))
)

export const healthLive = (state: State) => {
  const health = Effect.map(now, (date) => ({
    status: "ok" as const,
    service: serviceName,
    version: state.version,
    timestamp: date.toISOString()
  }))
  return HttpApiBuilder.group(
    Admin.ServerApi,
    "health",
    (handlers) => handlers.handle("health", () => health).handle("healthAlias", () => health)
  )
}

// -----------------------------------------------------------------------------
// Admin
// -----------------------------------------------------------------------------

export const adminLive = (state: State) =>
  HttpApiBuilder.group(Admin.ServerApi, "admin", (handlers) =>
    handlers
      .handle("counts", () => snapshot(state))
      .handle("mintLog", () => state.registry.log)
      .handle("faults", () => state.injector.current)
      .handle("setFaults", ({ payload }) => Effect.zipRight(state.injector.set(payload), state.injector.current))
      .handle("reset", () => resetAll(state)))
