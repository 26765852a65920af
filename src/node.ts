/**
 * Node.js wiring: the live `IdService` over `@effect/platform-node`'s undici `HttpClient`, and the
 * reference server's listener.
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
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import { IdService } from "./IdService.ts"
import type * as IdServiceModule from "./IdService.ts"
import type * as IdServiceConfig from "./IdServiceConfig.ts"

/**
 * The live `IdService` configured from `CHITTY_ID_*`, over undici.
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
  Layer.provide(NodeHttpClient.layerUndici)
)

/**
 * The live `IdService` with settings given in code, over undici.
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
  IdService.layerWith(input).pipe(Layer.provide(NodeHttpClient.layerUndici))
