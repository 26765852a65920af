/**
 * An `HttpClient` over an undici pool of its own, closed with the scope; `keepAliveMs` shortens
 * undici's idle keep-alive (4 s) so that once things settle only connections still holding a request
 * are open — what a socket-leak check must see.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

export const undiciPool = (keepAliveMs: number | undefined): Layer.Layer<HttpClient.HttpClient> =>
  keepAliveMs === undefined
    ? NodeHttpClient.layerUndici
    : NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
      Layer.provide(Layer.scoped(
        NodeHttpClient.Dispatcher,
        Effect.acquireRelease(
          Effect.sync(() => new Undici.Agent({ keepAliveTimeout: keepAliveMs, keepAliveMaxTimeout: keepAliveMs })),
          (agent) => Effect.promise(() => agent.destroy())
        )
      ))
    )
