/**
 * A lean `HttpClient` over undici's `dispatch`: one request is one `Effect.async` around one undici
 * handler. The body is read inside it, to a string, up to a cap; one timer (the attempt's, taken from
 * {@link currentTimeout}) bounds the whole exchange; interruption and the timer end the request
 * through undici's own `abort`, which destroys the connection (a request that ended normally leaves
 * its connection in the keep-alive pool). No `AbortController`, no `new URL`, no finalization
 * registry, no span of its own: the caller's span is propagated as `traceparent`.
 *
 * Allocation sites. V8 counts how many of an object literal's objects survive a young-generation
 * collection and, past a threshold, allocates that literal's objects in the old generation from then
 * on ("pretenuring"). When such an object dies, whatever young objects it points to are kept by the
 * next collections as if alive, and promoted: under load the whole object graph of each request
 * was copied and promoted, and garbage collection cost more than the rest of the client (see
 * docs/performance.md, "Fifth round"). So on the request path:
 * - what lives as long as a request is made with `new` (no allocation site is tracked for it);
 * - the exchange, which `Effect.async` keeps (Effect's own interruption handler is a literal), lets
 *   go of the request's objects once done.
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
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import type * as Undici from "undici"

/** What bounds one request: its time, headers and body (`0`: none), and the body's size. */
export interface Limits {
  readonly timeoutMs: number
  readonly maxResponseBytes: number
}

/** {@link Limits} as made for each request (with `new`: see "Allocation sites" above). */
export class RequestLimits implements Limits {
  constructor(readonly timeoutMs: number, readonly maxResponseBytes: number) {}
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

/** The clients made here and their options: the transport sends through their pool directly. */
const leanClients = new WeakMap<HttpClient.HttpClient, Options>()

/** Whether `client` is a lean client made by {@link make} (not transformed). */
export const isLean = (client: HttpClient.HttpClient): boolean => leanClients.has(client)

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

/** `path` with the query of `params` appended (percent-encoded, `?` or `&` as the path needs). */
export const pathWithParams = (path: string, params: UrlParams.UrlParams): string => {
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

/**
 * A request as undici's `dispatch` takes it: origin, path with its query, headers and body. The
 * exchange's own timer bounds it, so undici's header and body timers are off.
 *
 * Made with `new`, as every object that lives as long as a request is (see "Allocation sites" in
 * this module's notes): V8 tracks an object literal's allocation site, and may start allocating a
 * site's objects in the old generation.
 */
export class DispatchRequest implements Undici.Dispatcher.DispatchOptions {
  readonly headersTimeout = 0
  readonly bodyTimeout = 0
  constructor(
    readonly origin: string,
    readonly path: string,
    readonly method: Undici.Dispatcher.HttpMethod,
    readonly headers: Readonly<Record<string, string>>,
    readonly body: string | Uint8Array | null
  ) {}
}

/** The answer's header lines as undici gives them: name, value, name, value… */
export type RawHeaders = ReadonlyArray<Buffer | string>

/**
 * The value of header `name` (lower case) in raw header lines, repeated values joined with `, ` as
 * {@link Response}'s `headers` does; `undefined` when absent.
 */
export const headerValue = (raw: RawHeaders, name: string): string | undefined => {
  let value: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!
    if (key.length === name.length && key.toString().toLowerCase() === name) {
      const v = raw[i + 1]!.toString()
      value = value === undefined ? v : `${value}, ${v}`
    }
  }
  return value
}

/**
 * One exchange through `dispatcher`, its answer read whole (up to the cap) before it resumes with
 * `onAnswer` (the body as text, or why it was not read); a request that fails before its answer is
 * read resumes with `onFailure`. Both are called once, on the event loop, and return the effect the
 * fiber goes on with. The one timer (`limits.timeoutMs`, `0`: none) bounds the whole exchange;
 * interruption and the timer end the request through undici's own abort.
 *
 * The effect is this one exchange, sent when it is run: build it where it runs (each run of the
 * callers' effects builds its own). Run a second time, it dies.
 */
export const exchange = <A, E>(
  dispatcher: Undici.Dispatcher,
  request: DispatchRequest,
  limits: Limits,
  onAnswer: (status: number, rawHeaders: RawHeaders, body: string | BodyTooLarge) => Effect.Effect<A, E>,
  onFailure: (failure: TransportFailure) => Effect.Effect<A, E>
): Effect.Effect<A, E> => Effect.async<A, E>(new Exchange(dispatcher, request, limits, onAnswer, onFailure).start)

const noHeaders: RawHeaders = []

/**
 * One exchange's state and undici's handler of it: methods on one object per request rather than a
 * closure per callback. It resumes the fiber once, with the answer or the failure, whichever first.
 *
 * It is also all that `Effect.async` keeps of the request (its register is `start`, its canceler
 * calls `interrupt`), and it lets go of the request, the callbacks and the answer once done: an
 * object that outlives the request and still points here then holds only this shell (see
 * "Allocation sites" in this module's notes).
 */
class Exchange<A, E> implements Undici.Dispatcher.DispatchHandler {
  done = false
  connected = false
  abort: ((error?: Error) => void) | undefined = undefined
  pending: Error | undefined = undefined
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  status = 0
  rawHeaders: RawHeaders = noHeaders
  /** The body's first chunk; the later ones, with it, in `chunks` (most answers come in one). */
  first: Buffer | undefined = undefined
  chunks: Array<Buffer> | undefined = undefined
  size = 0
  resume: ((effect: Effect.Effect<A, E>) => void) | undefined = undefined
  constructor(
    private dispatcher: Undici.Dispatcher | undefined,
    private request: DispatchRequest | undefined,
    readonly limits: Limits,
    private onAnswer:
      | ((status: number, rawHeaders: RawHeaders, body: string | BodyTooLarge) => Effect.Effect<A, E>)
      | undefined,
    private onFailure: ((failure: TransportFailure) => Effect.Effect<A, E>) | undefined
  ) {}

  /** `Effect.async`'s register: sends the request. */
  readonly start = (resume: (effect: Effect.Effect<A, E>) => void): Effect.Effect<void> => {
    const { dispatcher, request } = this
    if (dispatcher === undefined || request === undefined) {
      resume(Effect.die(new Error("an undici exchange is sent once: build a new one for each run")))
      return Effect.void
    }
    this.dispatcher = undefined
    this.request = undefined
    this.resume = resume
    if (this.limits.timeoutMs > 0) this.timer = setTimeout(this.timedOut, this.limits.timeoutMs)
    dispatcher.dispatch(request, this)
    return Effect.sync(() => this.interrupt())
  }

  /** Marks the exchange done, clears its timer and lets go of all it held; `false` when it was done already. */
  private settle(): boolean {
    if (this.done) return false
    this.done = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.resume = undefined
    this.onAnswer = undefined
    this.onFailure = undefined
    this.rawHeaders = noHeaders
    this.first = undefined
    this.chunks = undefined
    return true
  }
  private finish(effect: Effect.Effect<A, E>): void {
    const resume = this.resume
    if (resume !== undefined && this.settle()) resume(effect)
  }
  /** Resumes with `onAnswer`'s effect, unless done. */
  private answer(body: string | BodyTooLarge): void {
    if (this.onAnswer !== undefined) this.finish(this.onAnswer(this.status, this.rawHeaders, body))
  }
  /** Resumes with `onFailure`'s effect, unless done. */
  private fail(reason: TransportFailure["reason"], cause: unknown): void {
    if (this.onFailure !== undefined) {
      this.finish(this.onFailure(new TransportFailure(reason, this.connected, this.limits.timeoutMs, cause)))
    }
  }
  /** Ends the request: through undici's abort once it has a connection (which destroys it). */
  private stop(error: Error): void {
    const abort = this.abort
    this.abort = undefined
    if (abort !== undefined) abort(error)
    else this.pending = error
  }
  private tooLarge(declared: number | undefined): false {
    this.answer(new BodyTooLarge(this.limits.maxResponseBytes, declared))
    this.stop(new Error("answer body over the cap"))
    return false
  }

  onConnect(abortRequest: (error?: Error) => void): void {
    this.connected = true
    this.abort = abortRequest
    if (this.pending !== undefined) abortRequest(this.pending)
  }
  onHeaders(statusCode: number, headers: Array<Buffer> | Array<string> | null): boolean {
    if (this.done) return true
    this.status = statusCode
    this.rawHeaders = headers ?? noHeaders
    const declared = lengthOf(this.rawHeaders)
    return declared !== undefined && declared > this.limits.maxResponseBytes ? this.tooLarge(declared) : true
  }
  onData(chunk: Buffer): boolean {
    if (this.done) return true
    this.size += chunk.length
    if (this.size > this.limits.maxResponseBytes) return this.tooLarge(undefined)
    if (this.first === undefined) this.first = chunk
    else if (this.chunks === undefined) this.chunks = [this.first, chunk]
    else this.chunks.push(chunk)
    return true
  }
  onComplete(): void {
    const text = this.chunks !== undefined
      ? Buffer.concat(this.chunks, this.size).toString()
      : this.first !== undefined
      ? this.first.toString()
      : ""
    // the request is over: undici's abort (and the request it holds) is not needed any more
    this.abort = undefined
    this.answer(text)
  }
  onError(error: Error): void {
    this.fail("connection", error)
  }
  private readonly timedOut = () => this.timeout()
  /** The attempt's timer fired. */
  timeout(): void {
    this.fail("timeout", undefined)
    this.stop(new Error("attempt timed out"))
  }
  /** The fiber was interrupted. */
  interrupt(): void {
    if (this.settle()) this.stop(new Error("interrupted"))
  }
}

/** One request through `dispatcher` as an `HttpClient` sends it. */
const send = (
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  limits: Limits,
  traceparent: string | undefined
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
  const url = urlPattern.exec(request.url)
  if (url === null) {
    return Effect.fail(
      new HttpClientError.RequestError({
        request,
        reason: "InvalidUrl",
        description: "an absolute http: or https: URL is needed"
      })
    )
  }
  const body = bodyOf(request.body)
  if (body === undefined) {
    return Effect.fail(
      new HttpClientError.RequestError({
        request,
        reason: "Encode",
        description: `a ${request.body._tag} body is not sent by this client (use @effect/platform-node's)`
      })
    )
  }
  return exchange<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>(
    dispatcher,
    new DispatchRequest(
      url[1]!,
      pathWithParams(url[2]!, request.urlParams),
      request.method,
      traceparent === undefined ? request.headers : { ...request.headers, traceparent },
      body
    ),
    limits,
    (status, rawHeaders, text) => Effect.succeed(new Response(request, status, rawHeaders, text)),
    (failure) =>
      Effect.fail(
        new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: failure,
          ...(failure.reason === "timeout" ? { description: `no complete answer within ${failure.timeoutMs} ms` } : {})
        })
      )
  )
}

/**
 * The `traceparent` of `span` (default: the fiber's current span), when the fiber propagates it
 * (`HttpClient.withTracerPropagation`) and the span is a real one.
 */
export const traceparentOf = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  span: Tracer.AnySpan | undefined = fiber.currentSpan
): string | undefined =>
  span !== undefined && span._tag === "Span" && fiber.getFiberRef(HttpClient.currentTracerPropagation)
    ? `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
    : undefined

/** A lean `HttpClient` over `options.dispatcher`. */
export const make = (options: Options): HttpClient.HttpClient => {
  const client = HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    (effect) =>
      Effect.flatMap(
        effect,
        (request) =>
          Effect.withFiberRuntime<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((fiber) =>
            send(options.dispatcher, request, fiber.getFiberRef(currentLimits) ?? options.limits, traceparentOf(fiber))
          )
      ),
    (request: HttpClientRequest.HttpClientRequest) => Effect.succeed(request)
  )
  leanClients.set(client, options)
  return client
}

/**
 * The dispatcher and limits of a lean client made by {@link make} and not transformed since, for
 * callers that send through its pool directly ({@link exchange}); `undefined` for any other client.
 */
export const optionsOf = (client: HttpClient.HttpClient): Options | undefined => leanClients.get(client)
