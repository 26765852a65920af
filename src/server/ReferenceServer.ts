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
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { randomInt, randomUUID } from "node:crypto"
import * as Http from "node:http"
import * as Admin from "./Admin.ts"
import * as Counts from "./Counts.ts"
import * as Fault from "./Faults.ts"
import * as IdempotencyStore from "./IdempotencyStore.ts"
import * as FrontDoor from "./internal/frontDoor.ts"
import * as Handlers from "./internal/handlers.ts"
import * as Placeholders from "./internal/placeholders.ts"
import { resetAll, serviceName as internalServiceName, sha256, snapshot, type State } from "./internal/state.ts"
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
export const serviceName: typeof internalServiceName = internalServiceName

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
  /**
   * `strict` (default): the contract of DESIGN §2 plus the official clients' routes. `live`: what
   * the live service answers (DESIGN §5): no token check, trouble as 200 placeholders, keys ignored,
   * any well-formed ID valid. See `docs/profiles.md`. @since 0.2.0
   */
  readonly profile?: Profile | undefined
  /** How long an idempotency key is kept, in ms (on Effect's `Clock`). Default 24 h. @since 0.2.0 */
  readonly idempotencyTtlMillis?: number | undefined
  /** Mint records kept for validation and the mint log (oldest forgotten first). Default 100 000. @since 0.2.0 */
  readonly maxRecords?: number | undefined
  /** Metadata kept over all mint records, in bytes of JSON. Default 32 MiB. @since 0.2.0 */
  readonly maxMetadataBytes?: number | undefined
  /** Deepest nesting of mint `metadata` accepted (400 beyond, `strict`). Default 32. @since 0.2.0 */
  readonly maxJsonDepth?: number | undefined
  /** Placeholders remembered for replacement (oldest forgotten first). Default 10 000. @since 0.2.0 */
  readonly placeholderCapacity?: number | undefined
  /** How long a placeholder can be replaced, in ms (on Effect's `Clock`). Default 7 days. @since 0.2.0 */
  readonly placeholderTtlMillis?: number | undefined
  /** Time to receive a request's headers, in ms; then the connection is closed. Default 10 000. @since 0.2.0 */
  readonly headersTimeoutMillis?: number | undefined
  /** Time to receive a whole request, in ms; then 408 and close. Default 30 000. @since 0.2.0 */
  readonly requestTimeoutMillis?: number | undefined
  /** An idle kept-alive connection is closed after this many ms. Default 5 000. @since 0.2.0 */
  readonly keepAliveTimeoutMillis?: number | undefined
  /** Open connections at most; more are closed at once. Default 1 024. @since 0.2.0 */
  readonly maxConnections?: number | undefined
}

/**
 * The two behaviours of the reference server: `strict` (the contract) and `live` (the live service).
 *
 * @since 0.2.0
 * @category options
 */
export type Profile = "strict" | "live"

/**
 * The profiles, default first.
 *
 * @example
 * ```ts
 * import { profiles } from "effect-chittyid/server/ReferenceServer"
 * profiles // ["strict", "live"]
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const profiles: readonly ["strict", "live"] = ["strict", "live"]

/**
 * The defaults of the server's limits (see `docs/reliability.md`, "Reference server limits").
 *
 * @example
 * ```ts
 * import { defaultLimits } from "effect-chittyid/server/ReferenceServer"
 * defaultLimits.maxJsonDepth // 32
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const defaultLimits = {
  maxBodyBytes: 16 * 1024,
  maxJsonDepth: 32,
  maxRecords: Registry.defaultMaxRecords,
  maxMetadataBytes: Registry.defaultMaxMetadataBytes,
  idempotencyCapacity: IdempotencyStore.defaultCapacity,
  idempotencyTtlMillis: IdempotencyStore.defaultTtlMillis,
  placeholderCapacity: Placeholders.defaultCapacity,
  placeholderTtlMillis: Placeholders.defaultTtlMillis,
  headersTimeoutMillis: 10_000,
  requestTimeoutMillis: 30_000,
  keepAliveTimeoutMillis: 5_000,
  maxConnections: 1024
} as const

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
export const defaultMaxBodyBytes: number = defaultLimits.maxBodyBytes

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
  if (options.profile !== undefined && !profiles.includes(options.profile)) {
    bad(`profile must be one of ${profiles.join(", ")}, got ${String(options.profile)}`)
  }
  const positive = [
    "maxRecords",
    "maxJsonDepth",
    "placeholderCapacity",
    "idempotencyCapacity",
    "maxConnections"
  ] as const
  for (const name of positive) {
    const value = options[name]
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      bad(`${name} must be a positive integer, got ${value}`)
    }
  }
  const nonNegative = [
    "maxMetadataBytes",
    "idempotencyTtlMillis",
    "placeholderTtlMillis",
    "headersTimeoutMillis",
    "requestTimeoutMillis",
    "keepAliveTimeoutMillis"
  ] as const
  for (const name of nonNegative) {
    const value = options[name]
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      bad(`${name} must be a number ≥ 0, got ${value}`)
    }
  }
  const headers = options.headersTimeoutMillis ?? defaultLimits.headersTimeoutMillis
  const whole = options.requestTimeoutMillis ?? defaultLimits.requestTimeoutMillis
  if (whole > 0 && headers > whole) {
    bad(`headersTimeoutMillis (${headers}) must not be over requestTimeoutMillis (${whole})`)
  }
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
      profile: options.profile ?? "strict",
      tokenDigest: sha256(Redacted.value(token)),
      version: options.version ?? "0.1.0",
      maxBodyBytes: options.maxBodyBytes ?? defaultMaxBodyBytes,
      maxJsonDepth: options.maxJsonDepth ?? defaultLimits.maxJsonDepth,
      registry: Registry.make({
        capacity: options.sequenceCapacity ?? Registry.maxSequences,
        maxRecords: options.maxRecords,
        maxMetadataBytes: options.maxMetadataBytes
      }),
      store: IdempotencyStore.make({ capacity: options.idempotencyCapacity, ttlMillis: options.idempotencyTtlMillis }),
      counters: Counts.make(),
      injector: Fault.makeInjector({ seed: options.seed ?? randomInt(2 ** 31), faults: options.faults }),
      placeholders: Placeholders.make({
        capacity: options.placeholderCapacity ?? defaultLimits.placeholderCapacity,
        ttlMillis: options.placeholderTtlMillis ?? defaultLimits.placeholderTtlMillis
      }),
      answerHeaders: new WeakMap(),
      tokenChecked: new WeakSet()
    }
    const nodeServer = makeNodeServer(options)
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

/**
 * The node server with the connection limits set: slow or idle connections are closed, and no more
 * than `maxConnections` are open at once. Node checks the header and request timeouts on an
 * interval: a quarter of the header timeout (at most 1 s), so a trickled request is cut close to it.
 */
const makeNodeServer = (options: Options): Http.Server => {
  const headersTimeout = options.headersTimeoutMillis ?? defaultLimits.headersTimeoutMillis
  const requestTimeout = options.requestTimeoutMillis ?? defaultLimits.requestTimeoutMillis
  const server = Http.createServer({
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeoutMillis ?? defaultLimits.keepAliveTimeoutMillis,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor((headersTimeout || 4000) / 4)))
  })
  server.maxConnections = options.maxConnections ?? defaultLimits.maxConnections
  return server
}

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
  HttpApiBuilder.serve(FrontDoor.frontDoor(state)).pipe(
    Layer.provide(HttpApiBuilder.middleware(Admin.ServerApi, FrontDoor.contractErrors(state))),
    Layer.provide(
      HttpApiBuilder.api(Admin.ServerApi).pipe(
        Layer.provide(
          Layer.mergeAll(
            Handlers.idsLive(state),
            Handlers.healthLive(state),
            Handlers.specLive,
            Handlers.adminLive(state)
          ).pipe(
            Layer.provide(Handlers.authorizationLive(state))
          )
        )
      )
    ),
    Layer.provide(
      Layer.succeed(
        HttpIncomingMessage.MaxBodySize,
        Option.some(FileSystem.Size(state.maxBodyBytes))
      )
    ),
    // A test double needs no server span per request: keep the hot path lean.
    HttpMiddleware.withTracerDisabledWhen(() => true),
    // Every request starts with the server's one pre-response handler.
    Layer.locally(HttpApp.currentPreResponseHandlers, Option.some(FrontDoor.answerHeaders(state)))
  )
