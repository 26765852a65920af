/**
 * The `HttpClient` effect-chittyid/node uses (the lean undici client) over a pool of its own, closed
 * with the scope; `keepAliveMs` shortens undici's idle keep-alive (4 s) so that once things settle
 * only connections still holding a request are open — what a socket-leak check must see.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Node from "effect-chittyid/node"
import * as Duration from "effect/Duration"
import type * as Layer from "effect/Layer"

export const undiciPool = (keepAliveMs: number | undefined): Layer.Layer<HttpClient.HttpClient> =>
  keepAliveMs === undefined
    ? Node.layerHttpClient
    : Node.layerHttpClientWith({ keepAlive: Duration.millis(keepAliveMs) })
