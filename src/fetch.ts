/**
 * Web-standard wiring: the live `IdService` over `@effect/platform`'s `FetchHttpClient`, for
 * Cloudflare Workers, Deno, Bun and browsers. Same settings, errors, breakers, retries, cache and
 * body cap as `effect-chittyid/node`; nothing here imports `node:` or undici.
 *
 * In a Worker, build the runtime once per isolate with {@link layerWorker} (no health fiber, no timer
 * between requests) and settings from the Worker's `env` ({@link configProvider}); see
 * `docs/runtimes.md` and `examples/worker.ts`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Fetch from "effect-chittyid/fetch"
 *
 * const minted = IdService.mint({ entityType: "P" }).pipe(Effect.provide(Fetch.layer), Effect.runPromise)
 * ```
 *
 * @since 0.2.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Layer from "effect/Layer"
import { IdService } from "./IdService.ts"
import type * as IdServiceModule from "./IdService.ts"
import * as IdServiceConfig from "./IdServiceConfig.ts"

/**
 * The live `IdService` configured from `CHITTY_ID_*` (Effect's `Config`), over `fetch`, with the
 * health monitor's background fiber (for long-lived processes: Deno, Bun, a browser tab).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Fetch from "effect-chittyid/fetch"
 *
 * const program = IdService.validate("03-1-USA-5537-P-2602-0-38").pipe(Effect.provide(Fetch.layer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<IdServiceModule.LiveServices, ConfigError.ConfigError> = IdService.layer.pipe(
  Layer.provide(FetchHttpClient.layer)
)

/**
 * The live `IdService` with settings given in code, over `fetch`. Pass `healthMonitor: "onDemand"`
 * where nothing may run between requests.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import * as Fetch from "effect-chittyid/fetch"
 *
 * const ServiceLive = Fetch.layerWith({
 *   url: "https://id.chitty.cc",
 *   token: Redacted.make("..."),
 *   healthMonitor: "onDemand"
 * })
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerWith = (
  input: IdServiceConfig.Input & IdServiceModule.LiveOptions
): Layer.Layer<IdServiceModule.LiveServices, ConfigError.ConfigError> =>
  IdService.layerWith(input).pipe(Layer.provide(FetchHttpClient.layer))

/**
 * The live `IdService` with its settings read from `Config`s (see `IdService.layerConfig`), over
 * `fetch`. A missing or bad value fails the layer with a `ConfigError`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import * as Fetch from "effect-chittyid/fetch"
 * const ServiceLive = Fetch.layerConfig({ url: Config.string("MY_URL"), token: Config.redacted("MY_TOKEN") })
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<IdServiceConfig.Input & IdServiceModule.LiveOptions>
): Layer.Layer<IdServiceModule.LiveServices, ConfigError.ConfigError> =>
  IdService.layerConfig(options).pipe(Layer.provide(FetchHttpClient.layer))

/**
 * The live `IdService` for request-scoped runtimes (Cloudflare Workers, serverless functions):
 * configured from `CHITTY_ID_*`, over `fetch`, with the health monitor on demand, so building it
 * starts no fiber and no timer; every request, retry and timer belongs to the call that made it.
 * Provide the settings with {@link configProvider}.
 *
 * @example
 * ```ts
 * import { Layer, ManagedRuntime } from "effect"
 * import * as Fetch from "effect-chittyid/fetch"
 *
 * const runtimeFor = (env: Record<string, unknown>) =>
 *   ManagedRuntime.make(Fetch.layerWorker.pipe(Layer.provide(Layer.setConfigProvider(Fetch.configProvider(env)))))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerWorker: Layer.Layer<IdServiceModule.LiveServices, ConfigError.ConfigError> = IdService
  .layerFromConfig({ healthMonitor: "onDemand" })
  .pipe(Layer.provide(Layer.merge(IdServiceConfig.IdServiceConfig.layer, FetchHttpClient.layer)))

/**
 * A `ConfigProvider` over the string values of an environment object, such as a Worker's `env`
 * (its bindings that are not strings, like KV namespaces, are left out).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Fetch from "effect-chittyid/fetch"
 * import * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
 *
 * const settings = IdServiceConfig.config.pipe(
 *   Effect.withConfigProvider(Fetch.configProvider({ CHITTY_ID_URL: "http://127.0.0.1:8787", CHITTY_ID_TOKEN: "t" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category config
 */
export const configProvider = (env: Readonly<Record<string, unknown>>): ConfigProvider.ConfigProvider =>
  ConfigProvider.fromMap(
    new Map(
      Object.entries(env).flatMap(([key, value]): Array<[string, string]> =>
        typeof value === "string" ? [[key, value]] : []
      )
    )
  )
