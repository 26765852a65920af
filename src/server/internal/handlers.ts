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
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { timingSafeEqual } from "node:crypto"
import * as Api from "../../Api.ts"
import * as ChittyId from "../../ChittyId.ts"
import * as Admin from "../Admin.ts"
import * as IdempotencyStore from "../IdempotencyStore.ts"
import * as JsonDepth from "./json.ts"
import type * as Placeholders from "./placeholders.ts"
import {
  errorBody,
  type InvalidRequest,
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

/**
 * What is wrong with an `Authorization` header, or `undefined` when it carries the server's bearer
 * token. Constant time: compares fixed-length digests, never the tokens themselves.
 */
export const bearerProblem = (state: State, header: string | undefined): string | undefined => {
  if (header === undefined || header === "") return "missing bearer token: send Authorization: Bearer <token>"
  if (header.length < 7 || header.slice(0, 7).toLowerCase() !== "bearer ") {
    return "the Authorization header must use the Bearer scheme"
  }
  return timingSafeEqual(sha256(header.slice(7)), state.tokenDigest) ? undefined : "invalid bearer token"
}

/**
 * `strict`: the bearer token is required. `live`: no check of its own on mint and validate (a wrong
 * token is a `MINT_REJECTED` placeholder); the admin plane needs it in both.
 */
export const authorizationLive = (state: State) =>
  Layer.succeed(
    Api.Authorization,
    Api.Authorization.of({
      bearer: () =>
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
          // `live` checks no token on mint and validate; its admin plane still needs one.
          if (state.profile === "live" && !request.url.startsWith(Admin.paths.prefix)) return Effect.void
          // The front door has already checked it (every guarded route, both profiles).
          if (state.tokenChecked.has(NodeHttpServerRequest.toIncomingMessage(request))) return Effect.void
          const problem = bearerProblem(state, request.headers["authorization"])
          return problem === undefined ? Effect.void : Effect.fail(errorBody("UNAUTHORIZED", problem))
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

type PlaceholderCode = Exclude<ChittyId.FallbackErrorCode, "UNKNOWN">

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

const isJurisdiction = Schema.is(ChittyId.Jurisdiction)

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
  if (!isJurisdiction(jurisdiction)) {
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
  /** The answer was served again from the idempotency store. */
  readonly replayed: boolean
}

type CommitFailure = typeof Api.SequenceExhaustedBody.Type

/** Mints a permanent ID in the registry for a checked request. */
const commit = (
  state: State,
  input: MintInput,
  record: { readonly idempotencyKey: string | null; readonly metadata: Api.MintRequest["metadata"] },
  date: Date
): Effect.Effect<Api.MintSuccess, CommitFailure> => {
  const timestamp = date.toISOString()
  // `live` keeps no metadata, only the call id the chaos runs count duplicates by.
  const callId = record.metadata?.["callId"]
  return state.registry.mint({
    ...input,
    yearMonth: ChittyId.yearMonthOf(date),
    idempotencyKey: record.idempotencyKey,
    metadata: state.profile === "live" ? null : record.metadata ?? null,
    callId: typeof callId === "string" ? callId : null,
    mintedAt: timestamp
  }).pipe(
    Effect.catchTag("SequenceExhausted", (e) => Effect.fail(errorBody("SEQUENCE_EXHAUSTED", e.message))),
    Effect.map((chittyId): Api.MintSuccess => ({
      success: true,
      chittyId,
      components: Api.componentsOf(ChittyId.parseOrThrow(chittyId)),
      timestamp,
      ...(state.profile === "live" ? { service: serviceName, mintedBy: serviceName } : {})
    }))
  )
}

/**
 * Issues a placeholder for a request and remembers the request, so a validate of the placeholder
 * can replace it once minting works again.
 */
const issuePlaceholder = (
  state: State,
  code: PlaceholderCode,
  entityType: ChittyId.EntityTypeCode,
  request: Placeholders.PendingRequest,
  date: Date
): Effect.Effect<Api.MintFallback> => {
  const chittyId = ChittyId.makeFallback({ errorCode: code, entityType, yearMonth: ChittyId.yearMonthOf(date) })
  return Effect.as(state.placeholders.remember(chittyId, request), {
    success: true,
    chittyId,
    fallback: true,
    errorCode: code,
    message: state.profile === "live"
      ? `ChittyMint unavailable. Issued fallback ID with error code ${code}. ` +
        "This ID will be replaced with a valid ID on next verification."
      : `minting is degraded (${code}): this is a placeholder, not a permanent ChittyID; ` +
        "validate it again once minting works to have it replaced",
    components: Api.componentsOf(ChittyId.parseOrThrow(chittyId)),
    geo: { region: "0", regionName: "Error/Pending", jurisdiction: "ERR", source: "fallback" },
    trust: { level: 0, source: "fallback", verified: false },
    timestamp: date.toISOString(),
    service: serviceName,
    mintedBy: "fallback"
  })
}

/** The `strict` mint: the contract's checks, then a placeholder (fallback fault) or a permanent ID. */
const mintOnce = (
  state: State,
  payload: Api.MintRequest,
  urlParams: typeof Api.MintUrlParams.Type,
  idempotencyKey: string | null
): Effect.Effect<Minted, InvalidRequest | CommitFailure> =>
  Effect.gen(function*() {
    const input = parseMintInput(payload, urlParams)
    if (Either.isLeft(input)) return yield* Effect.fail(invalidRequest(input.left))
    if (payload.metadata !== undefined && JsonDepth.exceeds(payload.metadata, state.maxJsonDepth)) {
      return yield* Effect.fail(invalidRequest(`metadata is nested deeper than ${state.maxJsonDepth} levels`))
    }
    const date = yield* now
    const fallbackCode = yield* state.injector.fallback
    if (fallbackCode !== undefined) {
      const request = {
        payload: {
          entityType: input.right.entityType,
          ...(payload.metadata === undefined ? {} : { metadata: payload.metadata })
        },
        urlParams
      }
      const response = yield* issuePlaceholder(state, fallbackCode, input.right.entityType, request, date)
      return { committed: false, replayed: false, response }
    }
    const response = yield* commit(state, input.right, { idempotencyKey, metadata: payload.metadata }, date)
    return { committed: true, replayed: false, response }
  })

/** The entity type as the live service reads it: body, else the query's `type` or `for`, else a Thing. */
const liveRequest = (
  payload: Api.MintRequest,
  urlParams: typeof Api.MintUrlParams.Type
): Placeholders.PendingRequest => {
  const given = payload.entityType ?? payload.entity_type ?? nonEmpty(urlParams.type) ?? nonEmpty(urlParams.for) ??
    "thing"
  const entityType = Option.isSome(ChittyId.entityTypeOf(given)) ? given : given.toLowerCase()
  // The live service forwards region, jurisdiction and trust only when they are not empty.
  const region = nonEmpty(urlParams.region)
  const jurisdiction = nonEmpty(urlParams.jurisdiction)
  const trust = nonEmpty(urlParams.trust)
  // No metadata is kept, only the call id the chaos runs count duplicates by.
  const callId = payload.metadata?.["callId"]
  return {
    payload: { entityType, ...(typeof callId === "string" ? { metadata: { callId } } : {}) },
    urlParams: {
      ...(region === undefined ? {} : { region }),
      ...(jurisdiction === undefined ? {} : { jurisdiction }),
      ...(trust === undefined ? {} : { trust })
    }
  }
}

const nonEmpty = (value: string | undefined): string | undefined => value === "" ? undefined : value

/**
 * The mint of the `live` profile: every trouble is a 200 placeholder (backend trouble decided by the
 * front door, a wrong token, bad input, the fallback fault); keys are ignored, metadata not kept.
 */
export const mintLive = (
  state: State,
  payload: Api.MintRequest,
  urlParams: typeof Api.MintUrlParams.Type,
  authorization: string | undefined
): Effect.Effect<Api.MintResponse> =>
  Effect.gen(function*() {
    const request = liveRequest(payload, urlParams)
    const date = yield* now
    const known = ChittyId.entityTypeOf(request.payload.entityType ?? "thing")
    const placeholderType = Option.getOrElse(known, (): ChittyId.EntityTypeCode => "T")
    const issue = (code: PlaceholderCode) => issuePlaceholder(state, code, placeholderType, request, date)
    const failure = yield* FiberRef.get(backendFailure)
    if (failure !== undefined) return yield* issue(failure)
    if (bearerProblem(state, authorization) !== undefined) return yield* issue("MINT_REJECTED")
    const input = parseMintInput(request.payload, request.urlParams)
    if (Either.isLeft(input)) return yield* issue("INVALID_REQUEST")
    const fallbackCode = yield* state.injector.fallback
    if (fallbackCode !== undefined) return yield* issue(fallbackCode)
    return yield* commit(state, input.right, { idempotencyKey: null, metadata: request.payload.metadata }, date).pipe(
      // The live backend refuses what it cannot mint: a 4xx, so a placeholder.
      Effect.catchAll(() => issue("INVALID_REQUEST"))
    )
  })

/**
 * The backend trouble the front door decided for this mint (`live` profile), as the placeholder
 * code it becomes; `undefined`: the backend answers.
 */
export const backendFailure: FiberRef.FiberRef<PlaceholderCode | undefined> = FiberRef.unsafeMake<
  PlaceholderCode | undefined
>(undefined)

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
        return { response, committed: false, replayed: true }
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

/** The `lostAnswer` fault in `live`: a permanent ID was minted, then the connection is dropped. */
const loseLiveAnswer = <E>(
  state: State,
  request: HttpServerRequest.HttpServerRequest,
  mint: Effect.Effect<Api.MintResponse, E>
): Effect.Effect<Api.MintResponse, E> =>
  Effect.flatMap(mint, (response): Effect.Effect<Api.MintResponse> =>
    response.fallback === true
      ? Effect.succeed(response)
      : Effect.flatMap(state.injector.loseAnswer, (lose) =>
        lose ? dropConnection(request, "close") : Effect.succeed(response)))

/** `strict`: a mint answer stored under a key echoes the key, and says so when it is a replay. */
const echoKey = (
  state: State,
  request: HttpServerRequest.HttpServerRequest,
  key: string,
  replayed: boolean
): Effect.Effect<void> =>
  Effect.sync(() => {
    state.answerHeaders.set(NodeHttpServerRequest.toIncomingMessage(request), {
      [Api.idempotencyKeyEchoHeader]: key,
      ...(replayed ? { [Api.idempotentReplayedHeader]: "true" } : {})
    })
  })

export const idsLive = (state: State) =>
  HttpApiBuilder.group(Admin.ServerApi, "ids", (handlers) =>
    handlers
      .handle("mint", ({ headers, payload, request, urlParams }) =>
        state.profile === "live"
          ? loseLiveAnswer(state, request, mintLive(state, payload, urlParams, request.headers["authorization"]))
          : Effect.gen(function*() {
            const key = headers[Api.idempotencyKeyHeader]
            if (key !== undefined && (key.length === 0 || key.length > maxKeyLength)) {
              return yield* Effect.fail(invalidRequest(`Idempotency-Key must be 1 to ${maxKeyLength} characters`))
            }
            const minted = key === undefined
              ? yield* mintOnce(state, payload, urlParams, null)
              : yield* mintIdempotent(state, key, payload, urlParams)
            if (key !== undefined && minted.response.fallback !== true) {
              yield* echoKey(state, request, key, minted.replayed)
            }
            if (minted.committed && (yield* state.injector.loseAnswer)) {
              return yield* dropConnection(request, "close")
            }
            return minted.response
          }))
      .handle("getChittyId", ({ request, urlParams }) => mintByQuery(state, urlParams, request))
      .handle("generate", ({ request, urlParams }) => mintByQuery(state, urlParams, request))
      .handle("validate", ({ payload, request }) => validate(state, payload.id, request.headers["authorization"])))

/** The `GET` mints of the official clients: the entity type is in the query (default a Thing). */
const mintByQuery = (
  state: State,
  urlParams: typeof Api.MintUrlParams.Type,
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<Api.MintResponse, InvalidRequest | CommitFailure> =>
  state.profile === "live"
    ? loseLiveAnswer(state, request, mintLive(state, {}, urlParams, request.headers["authorization"]))
    : Effect.map(
      mintOnce(state, { entityType: urlParams.type ?? urlParams.for ?? "thing" }, urlParams, null),
      (minted) => minted.response
    )

// -----------------------------------------------------------------------------
// Validate and health
// -----------------------------------------------------------------------------

const validate = (state: State, id: string, authorization: string | undefined): Effect.Effect<Api.ValidateResponse> =>
  Effect.gen(function*() {
    const date = yield* now
    const timestamp = date.toISOString()
    const parsed = ChittyId.parse(id)
    if (Either.isLeft(parsed)) return { success: true, valid: false, error: parsed.left.reason, timestamp } as const
    const parts = parsed.right
    if (parts.kind === "fallback") return yield* validatePlaceholder(state, parts, authorization, date)
    // `live` checks the format and the check number only; `strict` knows what it minted.
    if (state.profile === "strict" && state.registry.lookup(id) === undefined) {
      return { success: true, valid: false, error: Api.unknownIdError, timestamp } as const
    }
    return { success: true, valid: true, components: Api.componentsOf(parts), timestamp } as const
  })

/**
 * A placeholder issued here is replaced once minting works again (no fault in force stops it; in
 * `live`, where the backend checks the token, the validate request carries the right one): a
 * permanent ID is minted for the request that got the placeholder, and answered every time after.
 * Otherwise the answer says what the placeholder is and whether it can be replaced.
 */
const validatePlaceholder = (
  state: State,
  parts: ChittyId.FallbackParts,
  authorization: string | undefined,
  date: Date
): Effect.Effect<Api.ValidatePlaceholder | Api.ValidateReplaced> =>
  Effect.gen(function*() {
    const timestamp = date.toISOString()
    const pending = yield* state.placeholders.lookup(parts.id)
    const replaced = (newId: ChittyId.ChittyId): Api.ValidateReplaced => ({
      success: true,
      replaced: true,
      oldId: parts.id as ChittyId.FallbackId,
      newId,
      message: "Fallback error ID has been replaced with a valid ChittyID",
      chittyId: newId,
      components: Api.componentsOf(ChittyId.parseOrThrow(newId)),
      timestamp
    })
    if (pending?.replacedBy !== undefined) return replaced(pending.replacedBy)
    const mayMint = !state.injector.mintBroken() &&
      (state.profile === "strict" || bearerProblem(state, authorization) === undefined)
    if (pending !== undefined && mayMint) {
      const input = parseMintInput(pending.request.payload, pending.request.urlParams)
      if (Either.isRight(input)) {
        const minted = yield* Effect.either(
          commit(state, input.right, { idempotencyKey: null, metadata: pending.request.payload.metadata }, date)
        )
        if (Either.isRight(minted)) {
          pending.replacedBy = minted.right.chittyId
          return replaced(minted.right.chittyId)
        }
      }
    }
    const errorName = parts.errorCode === "UNKNOWN" ? "UNKNOWN_ERROR" : parts.errorCode
    // The live service says any placeholder can be replaced; `strict` only one it issued.
    const canReplace = state.profile === "live" || pending !== undefined
    return {
      success: true,
      valid: false,
      isError: true,
      errorCode: parts.sequence,
      errorName,
      message: `This is a fallback error ID. Error: ${errorName}. ` +
        (canReplace ? "Re-verify to attempt replacement with a valid ID." : "It was not issued here."),
      canReplace,
      ...(state.profile === "strict"
        ? { error: `a fallback ID (error ${parts.errorCode}) is a placeholder, not a permanent ChittyID` }
        : {}),
      timestamp
    } as const
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
  const health = (status: Api.HealthStatus) =>
    Effect.map(now, (date) => ({
      status,
      service: serviceName,
      version: state.version,
      timestamp: date.toISOString()
    }))
  return HttpApiBuilder.group(
    Admin.ServerApi,
    "health",
    (handlers) =>
      handlers
        .handle("health", () => health("ok"))
        // The live service answers "healthy" on /api/health.
        .handle("healthAlias", () => health(state.profile === "live" ? "healthy" : "ok"))
  )
}

// -----------------------------------------------------------------------------
// Admin
// -----------------------------------------------------------------------------

export const adminLive = (state: State) =>
  HttpApiBuilder.group(Admin.ServerApi, "admin", (handlers) =>
    handlers
      .handle("counts", () => snapshot(state))
      .handle(
        "mintLog",
        ({ urlParams }) => state.registry.page(urlParams.offset ?? 0, urlParams.limit ?? Admin.mintLogPage.default)
      )
      .handle("faults", () => state.injector.current)
      .handle("setFaults", ({ payload }) => Effect.zipRight(state.injector.set(payload), state.injector.current))
      .handle("reset", () => resetAll(state)))
