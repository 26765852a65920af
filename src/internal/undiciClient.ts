/**
 * A lean `HttpClient` over undici's `dispatch`: one request is one `Effect.async` around one undici
 * handler. The body is read inside it, to a string, up to a cap; one timer (the attempt's, taken from
 * {@link currentTimeout}) bounds the whole exchange; interruption and the timer end the request
 * through undici's own `abort`, which destroys the connection (a request that ended normally leaves
 * its connection in the keep-alive pool). No `AbortController`, no `new URL`, no finalization
 * registry, no span of its own: the caller's span is propagated as `traceparent`.
 *
 * @internal
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Undici from "undici"

/** What bounds one request: its time, headers and body (`0`: none), and the body's size. */
export interface Limits {
  readonly timeoutMs: number
  readonly maxResponseBytes: number
}

/**
 * The limits of the requests made in this fiber, when the caller sets them (the `IdService`
 * transport does, around each attempt: the attempt's timeout cut to what is left of the call's
 * deadline, and the body cap of its settings); otherwise the client's own.
 */
export const currentLimits: FiberRef.FiberRef<Limits | undefined> = globalValue(
  "effect-chittyid/UndiciHttpClient/currentLimits",
  () => FiberRef.unsafeMake<Limits | undefined>(undefined)
)

/** Marks the clients made here, so the transport knows the timer lives inside the request. */
export const TypeId: unique symbol = Symbol.for("effect-chittyid/UndiciHttpClient")

/** Whether `client` is a lean client made by {@link make} (not transformed). */
export const isLean = (client: HttpClient.HttpClient): boolean => TypeId in client

/** Options of {@link make}. */
export interface Options {
  readonly dispatcher: Undici.Dispatcher
  /** The limits of a request made outside {@link currentLimits}. */
  readonly limits: Limits
}

/** Why a request failed before its answer was read; `requestSent` says whether it may have left. */
export class TransportFailure {
  readonly _tag = "TransportFailure"
  constructor(
    readonly reason: "timeout" | "connection",
    readonly requestSent: boolean,
    readonly timeoutMs: number,
    readonly cause: unknown
  ) {}
  get code(): string | undefined {
    const code = typeof this.cause === "object" && this.cause !== null
      ? (this.cause as { readonly code?: unknown }).code
      : undefined
    return typeof code === "string" ? code : undefined
  }
}

/** The answer's body is longer than the cap: it was not read. */
export class BodyTooLarge {
  readonly _tag = "BodyTooLarge"
  constructor(readonly maxBytes: number, readonly declared: number | undefined) {}
}

const headerRecord = (raw: ReadonlyArray<Buffer | string>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!.toString().toLowerCase()
    const value = raw[i + 1]!.toString()
    out[key] = out[key] === undefined ? value : `${out[key]}, ${value}`
  }
  return out
}

/** A response whose body has been read already (or refused for its size). */
export class Response extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  private parsedHeaders: Headers.Headers | undefined
  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    readonly status: number,
    private readonly rawHeaders: ReadonlyArray<Buffer | string>,
    /** The body as text, or why it was not read. */
    readonly body: string | BodyTooLarge
  ) {
    super()
  }
  get headers(): Headers.Headers {
    return this.parsedHeaders ??= Headers.fromInput(headerRecord(this.rawHeaders))
  }
  get cookies(): Cookies.Cookies {
    const header = this.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(header.split(/,(?=\s*[^;,=\s]+=)/))
  }
  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }
  private decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }
  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return typeof this.body === "string" ? Effect.succeed(this.body) : Effect.fail(this.decodeError(this.body))
  }
  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => text === "" ? null : JSON.parse(text) as unknown,
        catch: (cause) => this.decodeError(cause)
      }))
  }
  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }
  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => {
      const bytes = Buffer.from(text)
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    })
  }
  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.flatMap(this.text, (text) => Stream.succeed(new Uint8Array(Buffer.from(text))))
  }
  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.fail(this.decodeError(new Error("form data is not read by this client")))
  }
  toJSON(): unknown {
    return { _id: "@effect/platform/HttpClientResponse", request: this.request.toJSON(), status: this.status }
  }
}

const urlPattern = /^(https?:\/\/[^/?#]+)([^#]*)/

const pathWithParams = (path: string, params: UrlParams.UrlParams): string => {
  if (params.length === 0) return path === "" ? "/" : path
  let query = ""
  for (const [key, value] of params) {
    query += `${query === "" ? "" : "&"}${encodeURIComponent(key)}=${encodeURIComponent(value)}`
  }
  return `${path === "" ? "/" : path}${path.includes("?") ? "&" : "?"}${query}`
}

const bodyOf = (body: HttpClientRequest.HttpClientRequest["body"]): string | Uint8Array | null | undefined => {
  switch (body._tag) {
    case "Empty":
      return null
    case "Uint8Array":
      return body.body
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array ? body.body : undefined
    default:
      return undefined
  }
}

const lengthOf = (raw: ReadonlyArray<Buffer | string>): number | undefined => {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!
    if (key.length === 14 && key.toString().toLowerCase() === "content-length") {
      const n = Number(raw[i + 1]!.toString())
      return Number.isFinite(n) ? n : undefined
    }
  }
  return undefined
}

/** One request through `dispatcher`, its answer read whole (up to the cap) before it resumes. */
const send = (
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  { maxResponseBytes: maxBytes, timeoutMs }: Limits,
  traceparent: string | undefined
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
    const url = urlPattern.exec(request.url)
    if (url === null) {
      resume(Effect.fail(
        new HttpClientError.RequestError({
          request,
          reason: "InvalidUrl",
          description: "an absolute http: or https: URL is needed"
        })
      ))
      return
    }
    const body = bodyOf(request.body)
    if (body === undefined) {
      resume(Effect.fail(
        new HttpClientError.RequestError({
          request,
          reason: "Encode",
          description: `a ${request.body._tag} body is not sent by this client (use @effect/platform-node's)`
        })
      ))
      return
    }
    let done = false
    let connected = false
    let abort: ((error?: Error) => void) | undefined
    let pending: Error | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    let status = 0
    let rawHeaders: ReadonlyArray<Buffer | string> = []
    let chunks: Array<Buffer> = []
    let size = 0

    const finish = (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => {
      if (done) return
      done = true
      if (timer !== undefined) clearTimeout(timer)
      resume(effect)
    }
    /** Ends the request: through undici's abort once it has a connection (which destroys it). */
    const stop = (error: Error) => {
      if (abort !== undefined) abort(error)
      else pending = error
    }
    const failed = (reason: "timeout" | "connection", cause: unknown) =>
      Effect.fail(
        new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: new TransportFailure(reason, connected, timeoutMs, cause),
          ...(reason === "timeout" ? { description: `no complete answer within ${timeoutMs} ms` } : {})
        })
      )

    const handler: Undici.Dispatcher.DispatchHandler = {
      onConnect: (abortRequest) => {
        connected = true
        abort = abortRequest
        if (pending !== undefined) abortRequest(pending)
      },
      onHeaders: (statusCode, headers) => {
        status = statusCode
        rawHeaders = headers as ReadonlyArray<Buffer>
        const declared = lengthOf(rawHeaders)
        if (declared !== undefined && declared > maxBytes) {
          finish(Effect.succeed(new Response(request, status, rawHeaders, new BodyTooLarge(maxBytes, declared))))
          stop(new Error("answer body over the cap"))
          return false
        }
        return true
      },
      onData: (chunk) => {
        size += chunk.length
        if (size > maxBytes) {
          chunks = []
          finish(Effect.succeed(new Response(request, status, rawHeaders, new BodyTooLarge(maxBytes, undefined))))
          stop(new Error("answer body over the cap"))
          return false
        }
        chunks.push(chunk)
        return true
      },
      onComplete: () => {
        const text = chunks.length === 1
          ? chunks[0]!.toString()
          : chunks.length === 0
          ? ""
          : Buffer.concat(chunks, size).toString()
        finish(Effect.succeed(new Response(request, status, rawHeaders, text)))
      },
      onError: (error) => finish(failed("connection", error))
    }

    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        finish(failed("timeout", undefined))
        stop(new Error("attempt timed out"))
      }, timeoutMs)
    }
    dispatcher.dispatch({
      origin: url[1]!,
      path: pathWithParams(url[2]!, request.urlParams),
      method: request.method,
      headers: traceparent === undefined ? request.headers : { ...request.headers, traceparent },
      body,
      // the attempt's own timer bounds the exchange; undici's stay as a backstop
      headersTimeout: 0,
      bodyTimeout: 0
    }, handler)

    return Effect.sync(() => {
      if (done) return
      done = true
      if (timer !== undefined) clearTimeout(timer)
      stop(new Error("interrupted"))
    })
  })

/** A lean `HttpClient` over `options.dispatcher`. */
export const make = (options: Options): HttpClient.HttpClient => {
  const client = HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    (effect) =>
      Effect.flatMap(
        effect,
        (request) =>
          Effect.withFiberRuntime<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((fiber) => {
            const span = fiber.getFiberRef(HttpClient.currentTracerPropagation) ? fiber.currentSpan : undefined
            const traceparent = span !== undefined && span._tag === "Span"
              ? `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
              : undefined
            return send(options.dispatcher, request, fiber.getFiberRef(currentLimits) ?? options.limits, traceparent)
          })
      ),
    (request: HttpClientRequest.HttpClientRequest) => Effect.succeed(request)
  )
  return Object.assign(client, { [TypeId]: TypeId })
}
