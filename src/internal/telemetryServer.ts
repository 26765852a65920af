/**
 * The HTTP listener of `Telemetry.layerPrometheus`: Node's `http`, bound for the scope's lifetime.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import { TelemetryError } from "../Telemetry.ts"

/** `host` as it goes in a URL: an IPv6 address in brackets. */
export const hostInUrl = (host: string): string => host.includes(":") ? `[${host}]` : host

/**
 * Listens on `host:port` (port 0: a free one the system picks) and answers `GET /metrics` with `render`, anything
 * else with 404; succeeds with the bound port. The server is closed, its connections too, with the
 * scope, and never keeps the process alive by itself.
 */
export const listen = (
  host: string,
  port: number,
  render: (request: Http.IncomingMessage, response: Http.ServerResponse) => void
): Effect.Effect<number, TelemetryError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.async<Http.Server, TelemetryError>((resume) => {
        const server = Http.createServer((request, response) => {
          const path = (request.url ?? "").split("?")[0]
          if (path === "/metrics" && (request.method === "GET" || request.method === "HEAD")) {
            render(request, response)
          } else {
            response.statusCode = 404
            response.end()
          }
        })
        const onError = (error: NodeJS.ErrnoException) =>
          resume(
            Effect.fail(
              new TelemetryError({
                message: `Telemetry.layerPrometheus: cannot listen on ${hostInUrl(host)}:${port} (${
                  error.code ?? error.message
                })`,
                cause: error
              })
            )
          )
        server.once("error", onError)
        server.listen({ host, port }, () => {
          server.off("error", onError)
          server.unref()
          resume(Effect.succeed(server))
        })
        return Effect.sync(() => server.close())
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    ),
    (server) => {
      const address = server.address()
      return typeof address === "object" && address !== null ? address.port : port
    }
  )
