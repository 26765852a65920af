/**
 * Node.js wiring: the live `IdService` over a lean undici `HttpClient`, and that client on its own.
 *
 * The default client (`Node.layerHttpClient`) sends each request through undici's `dispatch` inside
 * one `Effect.async`: it reads the answer to a string up to the body cap, bounds the whole exchange
 * with the attempt's one timer, ends a request on interruption through undici's own abort (which
 * closes its connection) and keeps finished connections alive in a pool. It is an ordinary
 * `HttpClient`: `transformClient` can add headers or tracing to it. Any other `HttpClient` works
 * too — provide `IdService.layer` (or `layerWith`) over `NodeHttpClient.layerUndici`, `FetchHttpClient.layer`,
 * … and the library reads bodies with the same cap and races each attempt against its timeout.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeRuntime } from "@effect/platform-node"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Node from "effect-chittyid/node"
 *
 * IdService.mint({ entityType: "P" }).pipe(Effect.provide(Node.layer), NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { Agent } from "undici"
import { IdService } from "./IdService.ts"
import type * as IdServiceModule from "./IdService.ts"
import * as IdServiceConfig from "./IdServiceConfig.ts"
import * as IdServiceError from "./IdServiceError.ts"
import * as UndiciClient from "./internal/undiciClient.ts"
import * as MintAudit from "./MintAudit.ts"

/**
 * Options of {@link makeHttpClient} and {@link layerHttpClientWith}.
 *
 * @since 0.2.0
 * @category models
 */
export interface HttpClientOptions {
  /**
   * The largest answer body read, in bytes (default 64 KiB). `IdService` sets its own cap
   * (`CHITTY_ID_MAX_RESPONSE_BYTES`) on each of its requests.
   */
  readonly maxResponseBytes?: number | undefined
  /**
   * The time a request may take, headers and body (default: none). `IdService` sets each
   * attempt's own timeout on its requests.
   */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Idle time of a pooled keep-alive connection before it is closed (default: undici's, 4 seconds or
   * the server's `Keep-Alive` hint).
   */
  readonly keepAlive?: Duration.DurationInput | undefined
  /** Connections per origin (default: unlimited). */
  readonly connections?: number | undefined
}

/**
 * A lean `HttpClient` over an undici pool of its own, closed with the scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Node from "effect-chittyid/node"
 *
 * const status = Effect.scoped(
 *   Effect.flatMap(Node.makeHttpClient(), (client) => client.get("http://127.0.0.1:8787/health"))
 * ).pipe(Effect.map((response) => response.status))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeHttpClient = (
  options: HttpClientOptions = {}
): Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => {
        // undici's defaults (4 s, or the server's hint up to 10 minutes) unless a keep-alive is given
        const keepAlive = options.keepAlive === undefined ? undefined : Duration.toMillis(options.keepAlive)
        return new Agent({
          ...(keepAlive === undefined ? {} : { keepAliveTimeout: keepAlive, keepAliveMaxTimeout: keepAlive }),
          ...(options.connections === undefined ? {} : { connections: options.connections })
        })
      }),
      (agent) => Effect.promise(() => agent.destroy())
    ),
    (dispatcher) =>
      UndiciClient.make({
        dispatcher,
        limits: {
          maxResponseBytes: options.maxResponseBytes ?? IdServiceConfig.defaults.maxResponseBytes,
          timeoutMs: options.timeout === undefined ? 0 : Duration.toMillis(options.timeout)
        }
      })
  )

/**
 * The lean undici `HttpClient` with options.
 *
 * @example
 * ```ts
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Node from "effect-chittyid/node"
 * import { Layer } from "effect"
 *
 * const ServiceLive = IdService.IdService.layer.pipe(Layer.provide(Node.layerHttpClientWith({ connections: 16 })))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerHttpClientWith = (options: HttpClientOptions): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(HttpClient.HttpClient, makeHttpClient(options))

/**
 * The lean undici `HttpClient` with its defaults: what {@link layer} and {@link layerWith} use.
 *
 * @example
 * ```ts
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Node from "effect-chittyid/node"
 * import { Layer } from "effect"
 *
 * const ServiceLive = IdService.IdService.layer.pipe(Layer.provide(Node.layerHttpClient))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerHttpClient: Layer.Layer<HttpClient.HttpClient> = layerHttpClientWith({})

/**
 * The live `IdService` configured from `CHITTY_ID_*`, over the lean undici client.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Node from "effect-chittyid/node"
 * const program = IdService.mint({ entityType: "P" }).pipe(Effect.provide(Node.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<IdServiceModule.LiveServices, ConfigError.ConfigError> = IdService.layer.pipe(
  Layer.provide(layerHttpClient)
)

/**
 * The live `IdService` with settings given in code, over the lean undici client.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import * as Node from "effect-chittyid/node"
 * const ServiceLive = Node.layerWith({ url: "https://id.chitty.cc", token: Redacted.make("...") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  input: IdServiceConfig.Input & IdServiceModule.LiveOptions
): Layer.Layer<IdServiceModule.LiveServices, ConfigError.ConfigError> =>
  IdService.layerWith(input).pipe(Layer.provide(layerHttpClient))

/**
 * The live `IdService` with its settings read from `Config`s (see `IdService.layerConfig`), over
 * the lean undici client. A missing or bad value fails the layer with a `ConfigError`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import * as Node from "effect-chittyid/node"
 * const ServiceLive = Node.layerConfig({ url: Config.string("MY_URL"), token: Config.redacted("MY_TOKEN") })
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<IdServiceConfig.Input & IdServiceModule.LiveOptions>
): Layer.Layer<IdServiceModule.LiveServices, ConfigError.ConfigError> =>
  IdService.layerConfig(options).pipe(Layer.provide(layerHttpClient))

/**
 * The mint audit log in a file (`MintAudit.layerFile`) with Node's `FileSystem` provided (from
 * `@effect/platform-node`, loaded when the layer is built): compose it under the live layer and every
 * mint is recorded. See `docs/audit.md`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import * as Node from "effect-chittyid/node"
 *
 * const ServiceLive = Node.layerWith({ url: "https://id.chitty.cc" }).pipe(
 *   Layer.provideMerge(Node.layerMintAudit("/var/log/chittyid/mints.jsonl"))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerMintAudit = (
  path: string,
  options?: MintAudit.Options
): Layer.Layer<MintAudit.MintAudit, IdServiceError.AuditWriteFailed> =>
  MintAudit.MintAudit.layerFile(path, options).pipe(
    Layer.provide(Layer.unwrapEffect(Effect.tryPromise({
      // Loaded when the layer is built: effect-chittyid/node does not need @effect/platform-node otherwise.
      try: () => import("@effect/platform-node/NodeFileSystem").then((module) => module.layer),
      catch: () =>
        new IdServiceError.AuditWriteFailed({
          message:
            `audit log ${path}: Node.layerMintAudit needs @effect/platform-node (npm install @effect/platform-node@^0.108)`,
          path
        })
    })))
  )
