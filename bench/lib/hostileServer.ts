/**
 * A hostile HTTP server on loopback for the transport tests and the chaos runner: it answers every request with the
 * handler the test gives (a huge body, headers then a stalled body, …), counts requests, and tells
 * how many connections are open and how many body bytes it managed to write. It stops with its scope.
 */
import { Effect, type Scope } from "effect"
import * as http from "node:http"

/** A running hostile server. */
export interface Hostile {
  readonly url: string
  /** Requests received so far, `/health` aside (the health monitor's checks are answered `ok`). */
  readonly requests: () => number
  /** Connections open now (`server.getConnections`). */
  readonly connections: Effect.Effect<number>
  /** Connections accepted so far. */
  readonly accepted: () => number
  /** Connections that carried a request (`/health` aside) and are still open. */
  readonly openCarrying: () => number
  /** Body bytes handed to the sockets so far. */
  readonly written: () => number
}

/** What a handler may use besides the request and the response. */
export interface Tools {
  /** Writes `text` to `res` and counts it. */
  readonly write: (res: http.ServerResponse, text: string | Buffer) => boolean
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, tools: Tools) => void

/** Starts the server on 127.0.0.1, port 0, in the current scope. */
export const hostileServer = (handler: Handler): Effect.Effect<Hostile, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Hostile & { readonly server: http.Server }>((resume) => {
      let requests = 0
      let accepted = 0
      let written = 0
      const carrying = new Set<unknown>()
      const tools: Tools = {
        write: (res, text) => {
          written += typeof text === "string" ? Buffer.byteLength(text) : text.length
          return res.write(text)
        }
      }
      const server = http.createServer((req, res) => {
        // the request body is drained so that the answer is what the client waits for
        req.resume()
        if (req.url === "/health") {
          res.writeHead(200, { "content-type": "application/json" })
          res.end(
            JSON.stringify({ status: "ok", service: "hostile", version: "0", timestamp: new Date().toISOString() })
          )
          return
        }
        requests++
        if (!carrying.has(req.socket)) {
          carrying.add(req.socket)
          req.socket.once("close", () => carrying.delete(req.socket))
        }
        handler(req, res, tools)
      })
      server.on("connection", () => accepted++)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({
          server,
          url: `http://127.0.0.1:${port}`,
          requests: () => requests,
          accepted: () => accepted,
          written: () => written,
          openCarrying: () => carrying.size,
          connections: Effect.async<number>((done) => {
            server.getConnections((error, count) => done(Effect.succeed(error ? -1 : count)))
          })
        }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

/**
 * A handler answering 200 with a JSON body of about `bytes` bytes, written as the socket drains (the
 * server never holds it whole), with a `Content-Length` or chunked.
 */
export const hugeBody = (bytes: number, framing: "content-length" | "chunked"): Handler => (_req, res, tools) => {
  const head = "{\"success\":true,\"padding\":\""
  const tail = "\"}"
  const chunk = "x".repeat(64 * 1024)
  const padding = Math.max(0, bytes - head.length - tail.length)
  res.writeHead(200, {
    "content-type": "application/json",
    ...(framing === "content-length" ? { "content-length": String(head.length + padding + tail.length) } : {})
  })
  tools.write(res, head)
  let left = padding
  let closed = false
  res.on("close", () => {
    closed = true
  })
  const pump = () => {
    while (!closed && left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.slice(0, left)
      left -= piece.length
      if (!tools.write(res, piece)) {
        res.once("drain", pump)
        return
      }
    }
    if (!closed) res.end(tail)
  }
  pump()
}

/** A handler sending 200 and the start of a JSON body, then nothing: the body never ends. */
export const stalledBody = (framing: "content-length" | "chunked"): Handler => (_req, res, tools) => {
  res.writeHead(200, {
    "content-type": "application/json",
    ...(framing === "content-length" ? { "content-length": "4096" } : {})
  })
  tools.write(res, "{\"success\":true,")
}
