/**
 * The reference ChittyID server: the contract of `Api` served with `HttpApiBuilder` on
 * `@effect/platform-node`, with bearer-token auth, an in-memory registry, `Idempotency-Key`
 * handling, a body size limit, and fault injection controlled at run time (see `Faults`).
 *
 * It runs as a scoped `Layer` listening on 127.0.0.1 (port 0 by default, so tests never collide)
 * and tells its `url`; closing the scope stops it, hung requests included. `npm run serve` runs it
 * standalone.
 *
 * @example
 * ```ts
 * import { Effect, Redacted } from "effect"
 * import { ReferenceServer } from "effect-chittyid/server/ReferenceServer"
 *
 * const program = Effect.gen(function*() {
 *   const server = yield* ReferenceServer
 *   const response = yield* Effect.promise(() =>
 *     fetch(`${server.url}/v1/mint`, {
 *       method: "POST",
 *       headers: { authorization: `Bearer ${Redacted.value(server.token)}`, "content-type": "application/json" },
 *       body: JSON.stringify({ entityType: "person" })
 *     })
 *   )
 *   yield* server.setFaults({ errors: { rate: 0.3, retryAfter: 1 } })
 * }).pipe(Effect.provide(ReferenceServer.layer({ seed: 42 })))
 * ```
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { createHash, randomInt, randomUUID, timingSafeEqual } from "node:crypto"
import * as Http from "node:http"
import * as Api from "../Api.ts"
import * as ChittyId from "../ChittyId.ts"
import * as Admin from "./Admin.ts"
import * as Counts from "./Counts.ts"
import * as Fault from "./Faults.ts"
import * as IdempotencyStore from "./IdempotencyStore.ts"
import * as Registry from "./Registry.ts"

// -----------------------------------------------------------------------------
// Public surface
// -----------------------------------------------------------------------------

/**
 * Every fault the server can inject (`null` is off); send a `Partial<Faults>` to change some.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Faults } from "effect-chittyid/server/ReferenceServer"
 *
 * declare const json: unknown // the body of GET /_admin/faults
 * const inForce = Schema.decodeUnknownSync(Faults)(json)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Faults: typeof Fault.Faults = Fault.Faults

/**
 * @since 0.1.0
 * @category schemas
 */
export type Faults = Fault.Faults

/**
 * A change to the faults in force, as `POST /_admin/faults` takes it: each fault given replaces
 * that fault, `null` switches it off, faults not given are kept.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { FaultsPatch } from "effect-chittyid/server/ReferenceServer"
 *
 * const body = Schema.encodeSync(FaultsPatch)({ errors: { rate: 0.3, retryAfter: 1 }, hang: null })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const FaultsPatch: typeof Fault.FaultsPatch = Fault.FaultsPatch

/**
 * @since 0.1.0
 * @category schemas
 */
export type FaultsPatch = Fault.FaultsPatch

/**
 * The server's counters (requests, responses, faults, IDs minted, replays).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ServerCounts } from "effect-chittyid/server/ReferenceServer"
 *
 * declare const json: unknown // the body of GET /_admin/counts
 * Schema.decodeUnknownSync(ServerCounts)(json).minted
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerCounts: typeof Counts.ServerCounts = Counts.ServerCounts

/**
 * @since 0.1.0
 * @category schemas
 */
export type ServerCounts = Counts.ServerCounts

/**
 * One minted ID with the idempotency key, call id and metadata of the request that minted it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { MintRecord } from "effect-chittyid/server/ReferenceServer"
 *
 * declare const json: unknown // the body of GET /_admin/mint-log
 * Schema.decodeUnknownSync(Schema.Array(MintRecord))(json)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const MintRecord: typeof Registry.MintRecord = Registry.MintRecord

/**
 * @since 0.1.0
 * @category schemas
 */
export type MintRecord = Registry.MintRecord

/**
 * How many IDs were minted beyond the first for one logical call (by `metadata.callId`, else by
 * idempotency key): the `duplicates` of a chaos run.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ReferenceServer, duplicateMints } from "effect-chittyid/server/ReferenceServer"
 * const duplicates = Effect.map(Effect.flatMap(ReferenceServer, (server) => server.mintLog), duplicateMints)
 * ```
 *
 * @since 0.1.0
 * @category duplicates
 */
export const duplicateMints: (records: ReadonlyArray<MintRecord>) => number = Registry.duplicateMints

/**
 * The admin plane as an `HttpApi`, for a typed client (`HttpApiClient.make(AdminApi, …)`).
 *
 * @example
 * ```ts
 * import { HttpApiClient } from "@effect/platform"
 * import { AdminApi } from "effect-chittyid/server/ReferenceServer"
 *
 * const client = HttpApiClient.make(AdminApi, { baseUrl: "http://127.0.0.1:8787" })
 * ```
 *
 * @since 0.1.0
 * @category admin
 */
export const AdminApi: typeof Admin.AdminApi = Admin.AdminApi

/**
 * A typed client of a server's admin plane (counts, mint log, faults, reset), for runners that
 * start the server in another process. Needs an `HttpClient`.
 *
 * @example
 * ```ts
 * import { Effect, Redacted } from "effect"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { makeAdminClient } from "effect-chittyid/server/ReferenceServer"
 *
 * const counts = Effect.gen(function*() {
 *   const admin = yield* makeAdminClient({ url: "http://127.0.0.1:8787", token: Redacted.make("secret") })
 *   yield* admin.admin.setFaults({ payload: { hang: { rate: 0.2 } } })
 *   return yield* admin.admin.counts()
 * }).pipe(Effect.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * @since 0.1.0
 * @category admin
 */
export const makeAdminClient: typeof Admin.makeClient = Admin.makeClient

/**
 * The name the server gives in `/health`.
 *
 * @example
 * ```ts
 * import { serviceName } from "effect-chittyid/server/ReferenceServer"
 *
 * serviceName // "chittyid-reference"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const serviceName = "chittyid-reference"

/**
 * Options of {@link ReferenceServer.layer}. All optional.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The bearer token clients must send. Default: a random UUID (read it from the service). */
  readonly token?: Redacted.Redacted<string> | undefined
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Default 0: a free port chosen by the system (read `url`). */
  readonly port?: number | undefined
  /** Request bodies over this size are answered 413. Default 16 KiB. */
  readonly maxBodyBytes?: number | undefined
  /** Seed of the fault PRNG. Default: random. */
  readonly seed?: number | undefined
  /** Faults in force from the start. */
  readonly faults?: Partial<Faults> | undefined
  /**
   * Testing knob: how many IDs one prefix (region, jurisdiction, type, month) may have before mint
   * answers 422 `SEQUENCE_EXHAUSTED`. Default (and maximum) 10 000, the four-digit sequence space.
   */
  readonly sequenceCapacity?: number | undefined
  /** Idempotency keys kept (oldest forgotten first). Default 100 000. */
  readonly idempotencyCapacity?: number | undefined
  /** The `version` of `/health`. Default `0.1.0`. */
  readonly version?: string | undefined
}

/**
 * Default body size limit: 16 KiB.
 *
 * @example
 * ```ts
 * import { defaultMaxBodyBytes } from "effect-chittyid/server/ReferenceServer"
 *
 * defaultMaxBodyBytes // 16384
 * ```
 *
 * @since 0.1.0
 * @category options
 */
export const defaultMaxBodyBytes = 16 * 1024

/**
 * The running reference server: where it listens, its token, and run-time control of faults,
 * counts and state.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ReferenceServer } from "effect-chittyid/server/ReferenceServer"
 *
 * const minted = Effect.gen(function*() {
 *   const server = yield* ReferenceServer
 *   return (yield* server.counts).minted
 * }).pipe(Effect.provide(ReferenceServer.layer()))
 * ```
 *
 * @since 0.1.0
 * @category service
 */
export class ReferenceServer extends Context.Tag("effect-chittyid/ReferenceServer")<ReferenceServer, {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  readonly token: Redacted.Redacted<string>
  /** Merges: each fault given replaces that fault, `null` switches it off. */
  readonly setFaults: (faults: Partial<Faults>) => Effect.Effect<void>
  readonly resetFaults: Effect.Effect<void>
  readonly faults: Effect.Effect<Faults>
  readonly counts: Effect.Effect<ServerCounts>
  readonly mintLog: Effect.Effect<ReadonlyArray<MintRecord>>
  /** Clears the registry, the idempotency store, the counts and the faults; reseeds the PRNG. */
  readonly reset: Effect.Effect<void>
}>() {
  /**
   * The server as a scoped layer: it listens when the layer is built and stops (hung requests
   * included) when its scope closes.
   *
   * @since 0.1.0
   */
  static layer(options?: Options): Layer.Layer<ReferenceServer, ServeError> {
    return Layer.scoped(ReferenceServer, make(options))
  }
}

// -----------------------------------------------------------------------------
// State
// -----------------------------------------------------------------------------

interface State {
  readonly tokenDigest: Buffer
  readonly version: string
  readonly maxBodyBytes: number
  readonly registry: Registry.Registry
  readonly store: IdempotencyStore.IdempotencyStore<Api.MintResponse, MintFailure>
  readonly counters: Counts.Counters
  readonly injector: Fault.Injector
}

const sha256 = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

const validateOptions = (options: Options): void => {
  const bad = (message: string) => {
    throw new RangeError(`ReferenceServer: ${message}`)
  }
  const { maxBodyBytes, port, seed, sequenceCapacity } = options
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    bad(`port must be an integer from 0 to 65535, got ${port}`)
  }
  if (maxBodyBytes !== undefined && !(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    bad(`maxBodyBytes must be a positive integer, got ${maxBodyBytes}`)
  }
  if (
    sequenceCapacity !== undefined &&
    !(Number.isInteger(sequenceCapacity) && sequenceCapacity >= 0 && sequenceCapacity <= Registry.maxSequences)
  ) {
    bad(`sequenceCapacity must be an integer from 0 to ${Registry.maxSequences}, got ${sequenceCapacity}`)
  }
  if (seed !== undefined && !Number.isFinite(seed)) bad(`seed must be a finite number, got ${seed}`)
  if (options.faults !== undefined) Schema.validateSync(Fault.FaultsPatch)(options.faults)
}

/**
 * Starts a server in the current scope. {@link ReferenceServer.layer} is this as a layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as ReferenceServer from "effect-chittyid/server/ReferenceServer"
 *
 * const url = Effect.scoped(Effect.map(ReferenceServer.make({ seed: 1 }), (server) => server.url))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Context.Tag.Service<ReferenceServer>, ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* Effect.sync(() => validateOptions(options))
    const token = options.token ?? Redacted.make(randomUUID())
    const state: State = {
      tokenDigest: sha256(Redacted.value(token)),
      version: options.version ?? "0.1.0",
      maxBodyBytes: options.maxBodyBytes ?? defaultMaxBodyBytes,
      registry: Registry.make({ capacity: options.sequenceCapacity ?? Registry.maxSequences }),
      store: IdempotencyStore.make({ capacity: options.idempotencyCapacity }),
      counters: Counts.make(),
      injector: Fault.makeInjector({ seed: options.seed ?? randomInt(2 ** 31), faults: options.faults })
    }
    const nodeServer = Http.createServer()
    const context = yield* Layer.build(
      serverLayer(state).pipe(
        Layer.provideMerge(
          NodeHttpServer.layer(() => nodeServer, { host: options.host ?? "127.0.0.1", port: options.port ?? 0 })
        )
      )
    )
    // Runs before the platform's own `server.close()`, which would wait for hung requests forever.
    yield* Effect.addFinalizer(() => closeAllConnections(nodeServer))
    const address = Context.get(context, HttpServer.HttpServer).address
    const url = address._tag === "TcpAddress"
      ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
      : `http://unix:${address.path}`
    const setFaults = (patch: Partial<Faults>) =>
      Effect.suspend(() => state.injector.set(Schema.validateSync(Fault.FaultsPatch)(patch)))
    return ReferenceServer.of({
      url,
      token,
      setFaults,
      resetFaults: state.injector.set(Fault.none),
      faults: state.injector.current,
      counts: snapshot(state),
      mintLog: state.registry.log,
      reset: resetAll(state)
    })
  })

const snapshot = (state: State): Effect.Effect<ServerCounts> =>
  Effect.flatMap(state.injector.injected, (injected) => state.counters.snapshot(injected, state.registry.size()))

const resetAll = (state: State): Effect.Effect<void> =>
  Effect.all([state.registry.clear, state.store.clear, state.counters.clear, state.injector.reset], {
    discard: true
  })

const closeAllConnections = (server: Http.Server): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (!server.listening) return resume(Effect.void)
    server.close(() => resume(Effect.void))
    server.closeAllConnections()
  })

// -----------------------------------------------------------------------------
// Layers
// -----------------------------------------------------------------------------

const serverLayer = (state: State) =>
  HttpApiBuilder.serve(frontDoor(state)).pipe(
    Layer.provide(HttpApiBuilder.middleware(Admin.ServerApi, contractErrors)),
    Layer.provide(
      HttpApiBuilder.api(Admin.ServerApi).pipe(
        Layer.provide(
          Layer.mergeAll(idsLive(state), healthLive(state), adminLive(state)).pipe(
            Layer.provide(authorizationLive(state))
          )
        )
      )
    ),
    Layer.provide(
      Layer.succeed(HttpIncomingMessage.MaxBodySize, Option.some(FileSystem.Size(hardBodyCap(state.maxBodyBytes))))
    ),
    // A test double needs no server span per request: keep the hot path lean.
    HttpMiddleware.withTracerDisabledWhen(() => true)
  )

// -----------------------------------------------------------------------------
// Contract bodies
// -----------------------------------------------------------------------------

const errorBody = <const Code extends string>(error: Code, message: string) => ({
  success: false as const,
  error,
  message
})

type InvalidRequest = typeof Api.InvalidRequestBody.Type
type MintFailure =
  | InvalidRequest
  | typeof Api.IdempotencyConflictBody.Type
  | typeof Api.SequenceExhaustedBody.Type

const invalidRequest = (message: string): InvalidRequest => errorBody("INVALID_REQUEST", message)

const jsonError = (status: number, error: string, message: string, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson(errorBody(error, message), headers === undefined ? { status } : { status, headers })

const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

// -----------------------------------------------------------------------------
// Authorization
// -----------------------------------------------------------------------------

const unauthorized = (message: string) => Effect.fail(errorBody("UNAUTHORIZED", message))

const authorizationLive = (state: State) =>
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
): Effect.Effect<Minted, MintFailure> =>
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
const dropConnection = (request: HttpServerRequest.HttpServerRequest, how: "close" | "reset"): Effect.Effect<never> =>
  Effect.zipRight(
    Effect.sync(() => {
      const socket = NodeHttpServerRequest.toIncomingMessage(request).socket
      if (how === "reset") socket.resetAndDestroy()
      else socket.destroy()
    }),
    Effect.interruptible(Effect.never)
  )

const idsLive = (state: State) =>
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
      .handle("validate", ({ payload }) => validate(state, payload.id)))

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

const healthLive = (state: State) => {
  const health = Effect.map(now, (date) => ({
    status: "ok",
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

const adminLive = (state: State) =>
  HttpApiBuilder.group(Admin.ServerApi, "admin", (handlers) =>
    handlers
      .handle("counts", () => snapshot(state))
      .handle("mintLog", () => state.registry.log)
      .handle("faults", () => state.injector.current)
      .handle("setFaults", ({ payload }) => Effect.zipRight(state.injector.set(payload), state.injector.current))
      .handle("reset", () => resetAll(state)))

// -----------------------------------------------------------------------------
// Errors in the contract's shape
// -----------------------------------------------------------------------------

/**
 * One readable line from a decode error: an issue per path, without the noise of the union members
 * an optional or nullable field adds ("Expected undefined", "Expected null").
 */
const describeDecodeError = (error: HttpApiDecodeError): string => {
  const byPath = new Map<string, string>()
  const noise = /^Expected (undefined|null), actual/
  const issues = error.issues.filter((issue) => !noise.test(issue.message))
  for (const issue of issues.length > 0 ? issues : error.issues) {
    const path = issue.path.map(String).join(".")
    if (!byPath.has(path)) byPath.set(path, path === "" ? issue.message : `${path}: ${issue.message}`)
  }
  return `invalid request: ${byPath.size > 0 ? Array.from(byPath.values()).join("; ") : error.message}`
}

const isRequestError = (u: unknown): u is { readonly reason: string; readonly cause?: unknown } =>
  Predicate.hasProperty(u, "_tag") && u._tag === "RequestError" && Predicate.hasProperty(u, "reason")

const isTooLarge = (cause: unknown): boolean => cause instanceof Error && cause.message === "maxBytes exceeded"

/**
 * API-level middleware: what the platform would answer in its own shapes (a body that does not
 * decode, is not JSON or is too large; an unknown route) comes out in the contract's
 * `{ success: false, error, message }` instead. Typed errors of the handlers pass through.
 */
const contractErrors = (app: HttpApp.Default): HttpApp.Default =>
  Effect.catchAllCause(app, (cause) => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) {
      const error: unknown = failure.value
      if (error instanceof HttpApiDecodeError) {
        return Effect.succeed(jsonError(400, "INVALID_REQUEST", describeDecodeError(error)))
      }
      if (Predicate.isTagged(error, "RouteNotFound")) {
        return Effect.succeed(jsonError(404, "NOT_FOUND", "no such endpoint"))
      }
      return Effect.failCause(cause)
    }
    const defect = Cause.dieOption(cause)
    if (Option.isSome(defect) && isRequestError(defect.value)) {
      const requestError = defect.value
      if (isTooLarge(requestError.cause)) return Effect.succeed(tooLarge(0))
      if (requestError.reason === "Decode") {
        const detail = requestError.cause instanceof Error ? `: ${requestError.cause.message}` : ""
        return Effect.succeed(jsonError(400, "INVALID_REQUEST", `the request body is not valid JSON${detail}`))
      }
    }
    if (Option.isSome(defect)) {
      // A bug of the server: say so in the contract's shape, and log the cause (never the request).
      return Effect.as(
        Effect.logError("reference server defect", cause),
        jsonError(500, "INTERNAL_ERROR", "internal error of the reference server")
      )
    }
    return Effect.failCause(cause)
  })

const tooLarge = (limit: number) =>
  jsonError(
    413,
    "PAYLOAD_TOO_LARGE",
    limit > 0 ? `the request body is over the limit of ${limit} bytes` : "the request body is over the limit",
    { connection: "close" }
  )

// -----------------------------------------------------------------------------
// Front door: counts, body limit, faults
// -----------------------------------------------------------------------------

const classify = (method: string, url: string): Fault.Endpoint | "admin" => {
  const query = url.indexOf("?")
  const path = query === -1 ? url : url.slice(0, query)
  if (path === Api.paths.mint) return method === "POST" ? "mint" : "other"
  if (path === Api.paths.validate) return method === "POST" ? "validate" : "other"
  if (path === Api.paths.health || path === Api.paths.healthAlias) {
    return method === "GET" || method === "HEAD" ? "health" : "other"
  }
  return path.startsWith(Admin.paths.prefix) ? "admin" : "other"
}

const retryAfterHeader = (seconds: number, format: Fault.RetryAfterFormat): Effect.Effect<string> =>
  format === "seconds"
    ? Effect.succeed(String(seconds))
    : Effect.map(
      Clock.currentTimeMillis,
      // An HTTP-date has whole seconds: round up so the date is never earlier than intended.
      (millis) => new Date(Math.ceil((millis + seconds * 1000) / 1000) * 1000).toUTCString()
    )

const inject = (
  request: HttpServerRequest.HttpServerRequest,
  endpoint: Fault.Endpoint,
  decision: Fault.Decision,
  next: HttpApp.Default
): HttpApp.Default => {
  const action = decision.action
  const act: HttpApp.Default = Effect.suspend(() => {
    switch (action._tag) {
      case "Pass":
        return next
      case "Refuse":
        return dropConnection(request, "close")
      case "Reset":
        return dropConnection(request, "reset")
      case "Hang":
        return Effect.interruptible(Effect.never)
      case "RateLimited":
        return Effect.map(retryAfterHeader(action.retryAfter, action.format), (retryAfter) =>
          jsonError(
            429,
            "RATE_LIMITED",
            `too many requests (injected fault): retry after ${action.retryAfter} s`,
            { "retry-after": retryAfter }
          ))
      case "Unavailable": {
        const { format, retryAfter } = action
        return retryAfter === undefined
          ? Effect.succeed(jsonError(503, "SERVICE_UNAVAILABLE", "the service is unavailable (injected fault)"))
          : Effect.map(retryAfterHeader(retryAfter, format), (header) =>
            jsonError(
              503,
              "SERVICE_UNAVAILABLE",
              `the service is unavailable (injected fault): retry after ${retryAfter} s`,
              { "retry-after": header }
            ))
      }
      case "Garbage":
        return Effect.map(now, (date) => {
          const garbage = Fault.garbageBody(action.kind, endpoint, action.draw, date.toISOString())
          return HttpServerResponse.text(garbage.body, { status: 200, contentType: garbage.contentType })
        })
    }
  })
  // A refusal is immediate: nothing about the request is waited for.
  return decision.delayMs > 0 && action._tag !== "Refuse"
    ? Effect.zipRight(Effect.interruptible(Effect.sleep(Duration.millis(decision.delayMs))), act)
    : act
}

/**
 * Wraps the whole app (outside `HttpApiBuilder`, so it sees the final status): counts the request,
 * lets the fault injector decide, enforces the declared body size, counts the response. The admin
 * plane passes straight through, uncounted and never faulted.
 */
const frontDoor = (state: State) => (app: HttpApp.Default): HttpApp.Default =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const limited = withBodyLimit(state, request, app)
    const endpoint = classify(request.method, request.url)
    if (endpoint === "admin") return limited
    state.counters.request(endpoint)
    const answer = state.injector.active()
      ? Effect.flatMap(state.injector.decide(endpoint), (decision) => inject(request, endpoint, decision, limited))
      : limited
    return Effect.map(answer, (response) => {
      state.counters.response(response.status)
      return response
    })
  })

/**
 * A body declared over the limit (`Content-Length`) is answered 413 before it is read. A chunked
 * body is read here (the platform caches it for the API) and answered 413 if it is over the limit;
 * past a hard cap the platform cuts the connection instead of buffering more.
 */
const withBodyLimit = (
  state: State,
  request: HttpServerRequest.HttpServerRequest,
  app: HttpApp.Default
): HttpApp.Default => {
  const length = request.headers["content-length"]
  if (length !== undefined) {
    return Number(length) > state.maxBodyBytes ? Effect.succeed(tooLarge(state.maxBodyBytes)) : app
  }
  if (request.headers["transfer-encoding"] === undefined) return app
  return Effect.flatMap(
    Effect.either(request.text),
    (text) =>
      Either.isRight(text) && Buffer.byteLength(text.right, "utf8") > state.maxBodyBytes
        ? Effect.succeed(tooLarge(state.maxBodyBytes))
        : app
  )
}

/** How much of a chunked body is buffered at most before the connection is cut. */
const hardBodyCap = (maxBodyBytes: number): number => Math.max(1024 * 1024, 4 * maxBodyBytes)
