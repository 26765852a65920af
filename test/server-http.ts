/**
 * A small loopback HTTP helper for the reference server tests: real requests with `fetch`, the
 * answer's status, headers and body (JSON when it parses), or the connection error.
 */
import { Effect, Redacted } from "effect"
import * as http from "node:http"

export interface Answer {
  readonly _tag: "Answer"
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown
}

export interface Failed {
  readonly _tag: "Failed"
  /** The low-level cause: `ECONNRESET`, `UND_ERR_SOCKET`, `ECONNREFUSED`, `AbortError`, … */
  readonly code: string
  readonly message: string
}

export interface RequestOptions {
  readonly method?: string
  /** A value sent as JSON, or a string sent as is. */
  readonly body?: unknown
  readonly token?: Redacted.Redacted<string> | string | null
  readonly headers?: Record<string, string>
  /** Give up after this many real milliseconds. */
  readonly timeoutMs?: number
}

const codeOf = (error: unknown): string => {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error
  if (cause !== null && typeof cause === "object") {
    if ("code" in cause && typeof cause.code === "string") return cause.code
    if ("name" in cause && typeof cause.name === "string") return cause.name
  }
  return "UNKNOWN"
}

export const request = (url: string, path: string, options: RequestOptions = {}): Effect.Effect<Answer | Failed> =>
  Effect.promise(async (signal) => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.token !== undefined && options.token !== null) {
      headers["authorization"] = `Bearer ${
        typeof options.token === "string" ? options.token : Redacted.value(options.token)
      }`
    }
    let body: string | undefined
    if (options.body !== undefined) {
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body)
      headers["content-type"] ??= "application/json"
    }
    const signals = [signal, ...(options.timeoutMs === undefined ? [] : [AbortSignal.timeout(options.timeoutMs)])]
    try {
      const response = await fetch(`${url}${path}`, {
        method: options.method ?? (body === undefined ? "GET" : "POST"),
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.any(signals)
      })
      const text = await response.text()
      let json: unknown = undefined
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { _tag: "Answer", status: response.status, headers: response.headers, text, json } as const
    } catch (error) {
      return { _tag: "Failed", code: codeOf(error), message: String(error) } as const
    }
  })

/** Asserts an answer came back (not a connection failure). */
export const answered = (result: Answer | Failed): Answer => {
  if (result._tag === "Failed") throw new Error(`expected an answer, the request failed: ${result.message}`)
  return result
}

/** A POST with a chunked body (no Content-Length), sent in two parts. */
export const postChunked = (
  url: string,
  path: string,
  token: Redacted.Redacted<string>,
  parts: ReadonlyArray<string>
): Effect.Effect<{ readonly status: number; readonly text: string } | { readonly error: string }> =>
  Effect.async((resume) => {
    const target = new URL(path, url)
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: {
          authorization: `Bearer ${Redacted.value(token)}`,
          "content-type": "application/json",
          "transfer-encoding": "chunked"
        }
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (text += chunk))
        res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, text })))
      }
    )
    req.on("error", (error) => resume(Effect.succeed({ error: error.message })))
    for (const part of parts) req.write(part)
    req.end()
    return Effect.sync(() => req.destroy())
  })
