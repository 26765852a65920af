/**
 * One HTTP attempt against the ChittyID service: build the request, send it with a per-attempt
 * timeout, map the status to a typed error and decode the body with the contract's Schema.
 * No retries, no breaker: `IdService` composes those around it.
 *
 * @internal
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import * as Api from "../Api.ts"
import type * as IdServiceClient from "../IdServiceClient.ts"
import type * as IdServiceConfig from "../IdServiceConfig.ts"
import * as IdServiceError from "../IdServiceError.ts"
import * as Retry from "../Retry.ts"
import * as UndiciClient from "./undiciClient.ts"

/** The endpoints, as named in errors, metrics and spans. */
export type Endpoint = "mint" | "validate" | "health"

/** One attempt at each endpoint; `onStatus` is told the HTTP status of the answer, when one comes. */
export interface Transport {
  readonly mint: (
    call: IdServiceClient.MintCall,
    deadline?: Deadline,
    onStatus?: OnStatus
  ) => Effect.Effect<MintAnswer, IdServiceError.IdServiceError>
  readonly validate: (
    id: string,
    deadline?: Deadline,
    onStatus?: OnStatus,
    span?: Tracer.AnySpan
  ) => Effect.Effect<Api.ValidateResponse, IdServiceError.IdServiceError>
  readonly health: (
    timeout?: Duration.Duration,
    onStatus?: OnStatus
  ) => Effect.Effect<Api.HealthResponse, IdServiceError.IdServiceError>
}

/** Told the HTTP status of an attempt's answer before its body is read (for metrics). */
export type OnStatus = (status: number) => void

/** A mint answer and what its headers said about the `Idempotency-Key`. */
export interface MintAnswer {
  readonly body: Api.MintResponse
  /** The service echoed the key it was sent: it stored the answer under it (keys are honoured). */
  readonly keyEchoed: boolean
  /** The answer is a replay of the first answer under that key (`Idempotent-Replayed: true`). */
  readonly replayed: boolean
}

/**
 * The end of the whole logical call (epoch ms, by `Clock`) and what to fail with once it is reached:
 * an attempt's timeout is cut to the time left, so one timer bounds both the attempt and the call.
 */
export class Deadline {
  constructor(
    readonly at: number,
    /** `requestSent`: `false` when the deadline passed before this attempt sent anything. */
    readonly onTimeout: (requestSent: boolean) => IdServiceError.RequestTimeout
  ) {}
}

/** Options of {@link make}. */
export interface Options {
  readonly config: IdServiceConfig.Settings
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

const MAX_DETAIL = 300

const clip = (text: string): string => text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text

const decodeOptions = { errors: "first", onExcessProperty: "ignore" } as const
const decodeMintSuccess = Schema.decodeUnknownEither(Api.MintSuccess, decodeOptions)
const decodeMintFallback = Schema.decodeUnknownEither(Api.MintFallback, decodeOptions)

/**
 * `Api.MintResponse`, decoded through the member its `fallback` flag names. The same result as the
 * union's decoder; but that one, on every permanent answer (which has no `fallback` key), builds the
 * error of its missing discriminant before it tries the member that matches, and drops it.
 */
export const decodeMint = (u: unknown): Either.Either<Api.MintResponse, ParseResult.ParseError> =>
  typeof u === "object" && u !== null && "fallback" in u && u.fallback === true
    ? decodeMintFallback(u)
    : decodeMintSuccess(u)

const decoders = {
  mint: decodeMint,
  validate: Schema.decodeUnknownEither(Api.ValidateResponse, decodeOptions),
  health: Schema.decodeUnknownEither(Api.HealthResponse, decodeOptions)
} as const

const decodeErrorBody = Schema.decodeUnknownOption(Api.ErrorBody)

const parseJson = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text))
  } catch (error) {
    return Either.left(error instanceof Error ? error.message : "invalid JSON")
  }
}

/**
 * Maps a non-2xx answer to the typed failure it stands for, keeping the server's own message when
 * the body follows the contract.
 */
const statusError = (
  endpoint: Endpoint,
  status: number,
  retryAfterHeader: string | undefined,
  text: string,
  nowMs: number
): IdServiceError.IdServiceError => {
  const body = Either.match(parseJson(text), { onLeft: () => Option.none(), onRight: decodeErrorBody })
  const serverMessage = Option.map(body, (b) => clip(b.message))
  const message = (fallback: string) => Option.getOrElse(serverMessage, () => fallback)
  const retryAfterMs = Option.flatMap(
    Option.fromNullable(retryAfterHeader),
    (value) => Retry.parseRetryAfter(value, nowMs)
  )
  const retryAfter = Option.isSome(retryAfterMs) ? { retryAfterMs: retryAfterMs.value } : {}
  if (status === 401 || status === 403) {
    return new IdServiceError.Unauthorized({
      message: message(`the service refused the credentials (${status})`),
      status
    })
  }
  if (status === 409 && Option.exists(body, (b) => b.error === "IDEMPOTENCY_CONFLICT")) {
    return new IdServiceError.IdempotencyConflict({
      message: message("the Idempotency-Key was used before with another request")
    })
  }
  if (status === 429) {
    return new IdServiceError.RateLimited({
      message: message(`${endpoint}: rate limited by the service (429)`),
      ...retryAfter
    })
  }
  if (status >= 500) {
    return new IdServiceError.ServiceUnavailable({
      message: message(`${endpoint}: the service answered ${status}`),
      status,
      ...retryAfter
    })
  }
  if (status >= 400) {
    return new IdServiceError.InvalidRequest({
      message: message(`${endpoint}: the service refused the request (${status})`),
      status
    })
  }
  return new IdServiceError.MalformedResponse({
    message: `${endpoint}: unexpected HTTP status ${status}`,
    endpoint,
    status
  })
}

const decodeBody = <A>(
  endpoint: Endpoint,
  status: number,
  text: string,
  decode: (u: unknown) => Either.Either<A, ParseResult.ParseError>
): Either.Either<A, IdServiceError.MalformedResponse> => {
  const json = parseJson(text)
  if (Either.isLeft(json)) {
    return Either.left(
      new IdServiceError.MalformedResponse({
        message: `${endpoint}: the body is not JSON (${clip(json.left)})`,
        endpoint,
        status
      })
    )
  }
  return Either.mapLeft(decode(json.right), (error) =>
    new IdServiceError.MalformedResponse({
      message: `${endpoint}: the body does not match the contract: ${
        clip(ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s+/g, " "))
      }`,
      endpoint,
      status
    }))
}

/** The attempt's failure when the answer's body is longer than the cap. */
const tooLarge = (endpoint: Endpoint, status: number, maxBytes: number, declared?: number) =>
  new IdServiceError.MalformedResponse({
    message: `${endpoint}: the answer's body is longer than the cap of ${maxBytes} bytes${
      declared === undefined ? "" : ` (Content-Length ${declared})`
    }; not read (CHITTY_ID_MAX_RESPONSE_BYTES)`,
    endpoint,
    status
  })

const utf8 = new TextDecoder()

/** The chunks as one UTF-8 string, with web standards only (the core runs in Workers and browsers). */
const decodeUtf8 = (chunks: ReadonlyArray<Uint8Array>, size: number): string => {
  if (chunks.length === 1) return utf8.decode(chunks[0])
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return utf8.decode(bytes)
}

/**
 * Reads an answer's body as text, at most `maxBytes` of it, over any `HttpClient`. A declared
 * `Content-Length` within the cap bounds the body by HTTP's own framing, so it is read whole; one
 * over the cap is refused unread; without one (chunked), the byte stream is read until the cap. A
 * body not read to its end is abandoned through its stream, which ends the request (the client
 * aborts it and the connection is closed, not left to drain).
 */
const readBody = (
  endpoint: Endpoint,
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<string, IdServiceError.IdServiceError | HttpClientError.ResponseError> => {
  if (response instanceof UndiciClient.Response) {
    return typeof response.body === "string"
      ? Effect.succeed(response.body)
      : Effect.fail(tooLarge(endpoint, response.status, response.body.maxBytes, response.body.declared))
  }
  const declared = response.headers["content-length"]
  if (declared !== undefined) {
    const length = Number(declared)
    if (Number.isSafeInteger(length) && length >= 0 && length <= maxBytes) return response.text
    return Effect.zipRight(
      // the stream's end (after one chunk) is what makes the client abort the request
      Effect.ignore(Stream.runHead(response.stream)),
      Effect.fail(tooLarge(endpoint, response.status, maxBytes, Number.isFinite(length) ? length : undefined))
    )
  }
  return Effect.flatMap(
    Stream.runFoldWhile(
      response.stream,
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (read) => read.size <= maxBytes,
      (read, chunk) => {
        read.chunks.push(chunk)
        return { chunks: read.chunks, size: read.size + chunk.length }
      }
    ),
    (read) =>
      read.size > maxBytes
        ? Effect.fail(tooLarge(endpoint, response.status, maxBytes))
        : Effect.succeed(decodeUtf8(read.chunks, read.size))
  )
}

/** Connection failures that happen before any byte of the request is written. */
const notSentCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT"
])

/** Whether a failed request may have reached the service: `false` only when known not to. */
const mayHaveBeenSent = (cause: unknown): boolean => {
  if (cause instanceof UndiciClient.TransportFailure) return cause.requestSent
  let current: unknown = cause
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string" && notSentCodes.has(code)) return false
    current = (current as { readonly cause?: unknown }).cause
  }
  return true
}

const transportError = (
  endpoint: Endpoint,
  error: HttpClientError.HttpClientError,
  onTimeout: (requestSent: boolean) => IdServiceError.RequestTimeout
): IdServiceError.IdServiceError => {
  if (error._tag === "ResponseError") {
    return error.cause instanceof UndiciClient.BodyTooLarge
      ? tooLarge(endpoint, error.response.status, error.cause.maxBytes, error.cause.declared)
      : new IdServiceError.ConnectionError({
        message: `${endpoint}: the connection broke while reading the answer (${error.response.status})`
      })
  }
  if (error.reason !== "Transport") {
    return new IdServiceError.InvalidRequest({
      message: `${endpoint}: the request could not be built (${error.reason})`
    })
  }
  const cause = error.cause
  return cause instanceof UndiciClient.TransportFailure
    ? failureError(endpoint, cause, onTimeout)
    : new IdServiceError.ConnectionError({
      message: `${endpoint}: ${connectionDetail(cause)}`,
      requestSent: mayHaveBeenSent(cause)
    })
}

/** The typed failure of a request the lean client could not complete. */
const failureError = (
  endpoint: Endpoint,
  failure: UndiciClient.TransportFailure,
  onTimeout: (requestSent: boolean) => IdServiceError.RequestTimeout
): IdServiceError.IdServiceError =>
  failure.reason === "timeout"
    ? onTimeout(failure.requestSent)
    : new IdServiceError.ConnectionError({
      message: `${endpoint}: ${connectionDetail(failure.cause)}`,
      requestSent: failure.requestSent
    })

const connectionDetail = (cause: unknown): string => {
  const codes: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string") codes.push(code)
    current = (current as { readonly cause?: unknown }).cause
  }
  return codes.length > 0 ? `connection failed (${codes.join(", ")})` : "connection failed"
}

/** The answer of an attempt from its status, `Retry-After` and body: decoded on 2xx, else typed. */
const answerOf = <A>(
  endpoint: Endpoint,
  status: number,
  retryAfter: string | undefined,
  text: string,
  nowMs: number,
  decode: (u: unknown) => Either.Either<A, ParseResult.ParseError>
): Either.Either<A, IdServiceError.IdServiceError> =>
  status >= 200 && status < 300
    ? decodeBody(endpoint, status, text, decode)
    : Either.left(statusError(endpoint, status, retryAfter, text, nowMs))

/** Reads a header of an answer (lower-case name). */
type HeaderOf = (name: string) => string | undefined

// What lives as long as an attempt is made with `new`, not as an object literal: see "Allocation
// sites" in `undiciClient.ts`.

/** What an attempt sends, for either way of sending it. */
class Outgoing {
  constructor(
    readonly method: "GET" | "POST",
    /** The path on the service, without query. */
    readonly path: string,
    readonly authorized: boolean,
    /** A JSON body, already encoded. */
    readonly body?: string | undefined,
    readonly urlParams?: Readonly<Record<string, string>> | undefined,
    /** Sent as `Idempotency-Key`. */
    readonly idempotencyKey?: string | undefined
  ) {}
}

/** One attempt to make: what to send, how to decode the answer, its time, who is told of its headers. */
class Attempt<A> {
  constructor(
    readonly endpoint: Endpoint,
    readonly outgoing: Outgoing,
    readonly decode: (u: unknown) => Either.Either<A, ParseResult.ParseError>,
    readonly timeout: Duration.Duration,
    readonly deadline: Deadline | undefined,
    /** Told of every answer (its status, its headers) before its body is read. */
    readonly onResponse: ((status: number, header: HeaderOf) => void) | undefined,
    /**
     * The span of the call, sent as `traceparent` and the parent of any span the `HttpClient` makes;
     * the fiber's current span when absent.
     */
    readonly span: Tracer.AnySpan | undefined
  ) {}
}

/** An attempt's timer, and what its firing means. */
class AttemptWindow {
  constructor(
    readonly ms: number,
    readonly onTimeout: (requestSent: boolean) => IdServiceError.RequestTimeout
  ) {}
}

/** The headers of a request sent straight through the lean client's pool. */
class DirectHeaders {
  [name: string]: string
  accept = "application/json"
}

/** Builds the transport over the `HttpClient` in context. */
export const make = (options: Options): Effect.Effect<Transport, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { config } = options
    const http = yield* HttpClient.HttpClient
    // Requests are built with the full URL and `Accept` at once (no `mapRequest` step per call), so
    // `transformClient` sees them as before: after the base URL is applied.
    const base = http.pipe(options.transformClient ?? identity)
    const accept = { accept: "application/json" } as const
    const authorized = Option.map(
      config.token,
      (token) => base.pipe(HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(token))))
    )
    const noToken = (endpoint: Endpoint) =>
      Effect.fail(
        new IdServiceError.Unauthorized({ message: `${endpoint}: no token configured (set CHITTY_ID_TOKEN)` })
      )

    // The lean client (effect-chittyid/node's default), untransformed, is sent through directly: one
    // `Effect.async` per attempt around undici's `dispatch`, with the request's headers set one by one
    // and the attempt's one timer inside it. Transformed, it runs that timer inside the
    // request through `currentLimits`; over any other `HttpClient` the attempt is raced against
    // `Effect.timeoutFail`.
    const lean = UndiciClient.isLean(http)
    const origin = /^(https?:\/\/[^/?#]+)([^?#]*)$/.exec(config.url)
    const direct = lean && options.transformClient === undefined && origin !== null
      ? { client: UndiciClient.optionsOf(http)!, origin: origin[1]!, prefix: origin[2]! }
      : undefined
    const authorization = Option.match(config.token, {
      onNone: () => undefined,
      onSome: (token) => `Bearer ${Redacted.value(token)}`
    })
    const limits = (timeoutMs: number) => new UndiciClient.RequestLimits(timeoutMs, config.maxResponseBytes)

    /**
     * The attempt's timer and what its firing means, at `now`: its own timeout, or what is left of
     * the call's deadline when that is shorter; `undefined` once the deadline has passed.
     */
    const attemptWindow = (
      timeout: Duration.Duration,
      timeoutMs: number,
      endpoint: Endpoint,
      now: number,
      deadline?: Deadline
    ) => {
      const attemptTimeout = (requestSent: boolean) =>
        new IdServiceError.RequestTimeout({
          message: `${endpoint}: no answer within ${Duration.format(timeout)}`,
          timeoutMs,
          scope: "attempt",
          requestSent
        })
      if (deadline === undefined) return new AttemptWindow(timeoutMs, attemptTimeout)
      const left = deadline.at - now
      if (left <= 0) return undefined
      return left < timeoutMs
        ? new AttemptWindow(left, deadline.onTimeout)
        : new AttemptWindow(timeoutMs, attemptTimeout)
    }

    /** One attempt straight through the lean client's pool. */
    const sendDirect = <A>(
      target: NonNullable<typeof direct>,
      { deadline, decode, endpoint, onResponse, outgoing, span, timeout }: Attempt<A>
    ): Effect.Effect<A, IdServiceError.IdServiceError> =>
      Effect.withFiberRuntime((fiber) => {
        const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
        const attempt = attemptWindow(
          timeout,
          Duration.toMillis(timeout),
          endpoint,
          clock.unsafeCurrentTimeMillis(),
          deadline
        )
        if (attempt === undefined) return Effect.fail(deadline!.onTimeout(false))
        const traceparent = UndiciClient.traceparentOf(fiber, span)
        // set one by one, not spread from templates: cheaper on every attempt
        const headers = new DirectHeaders()
        if (outgoing.authorized && authorization !== undefined) headers.authorization = authorization
        if (outgoing.idempotencyKey !== undefined) headers[Api.idempotencyKeyHeader] = outgoing.idempotencyKey
        if (outgoing.body !== undefined) headers["content-type"] = "application/json"
        if (traceparent !== undefined) headers.traceparent = traceparent
        return UndiciClient.exchange<A, IdServiceError.IdServiceError>(
          target.client.dispatcher,
          new UndiciClient.DispatchRequest(
            target.origin,
            UndiciClient.pathWithParams(
              target.prefix + outgoing.path,
              outgoing.urlParams === undefined ? [] : Object.entries(outgoing.urlParams)
            ),
            outgoing.method,
            headers,
            outgoing.body ?? null
          ),
          limits(attempt.ms),
          (status, raw, body) => {
            onResponse?.(status, (name) => UndiciClient.headerValue(raw, name))
            if (typeof body !== "string") return Effect.fail(tooLarge(endpoint, status, body.maxBytes, body.declared))
            const answer = answerOf(
              endpoint,
              status,
              status >= 300 ? UndiciClient.headerValue(raw, "retry-after") : undefined,
              body,
              clock.unsafeCurrentTimeMillis(),
              decode
            )
            return Either.isRight(answer) ? Effect.succeed(answer.right) : Effect.fail(answer.left)
          },
          (failure) =>
            // A timer that fires late (a busy event loop) may end the attempt past the call's
            // deadline: then the call has run out of time, whichever timer said so first.
            Effect.fail(failureError(
              endpoint,
              failure,
              deadline !== undefined && clock.unsafeCurrentTimeMillis() >= deadline.at
                ? deadline.onTimeout
                : attempt.onTimeout
            ))
        )
      })

    /** One attempt through an `HttpClient`. */
    const sendClient = <A>(
      client: HttpClient.HttpClient,
      { deadline, decode, endpoint, onResponse, outgoing, span, timeout }: Attempt<A>
    ): Effect.Effect<A, IdServiceError.IdServiceError> => {
      const request = HttpClientRequest.make(outgoing.method)(`${config.url}${outgoing.path}`, {
        ...(outgoing.urlParams === undefined ? {} : { urlParams: outgoing.urlParams }),
        headers: outgoing.idempotencyKey === undefined
          ? accept
          : { ...accept, [Api.idempotencyKeyHeader]: outgoing.idempotencyKey },
        ...(outgoing.body === undefined ? {} : { body: jsonBody(outgoing.body) })
      })
      const execute = span === undefined
        ? client.execute(request)
        : Effect.withParentSpan(client.execute(request), span)
      const attempt = (onTimeout: (requestSent: boolean) => IdServiceError.RequestTimeout) =>
        execute.pipe(
          Effect.flatMap((response) => {
            onResponse?.(response.status, (name) => response.headers[name])
            return Effect.flatMap(readBody(endpoint, response, config.maxResponseBytes), (text) =>
              Effect.flatMap(
                Effect.clockWith((clock) => clock.currentTimeMillis),
                (now) => answerOf(endpoint, response.status, response.headers["retry-after"], text, now, decode)
              ))
          }),
          Effect.catchTags({
            RequestError: (error) => Effect.fail(transportError(endpoint, error, onTimeout)),
            ResponseError: (error) => Effect.fail(transportError(endpoint, error, onTimeout))
          })
        )
      const within = (ms: number, onTimeout: (requestSent: boolean) => IdServiceError.RequestTimeout) =>
        lean
          ? Effect.locally(attempt(onTimeout), UndiciClient.currentLimits, limits(ms))
          : Effect.timeoutFail(attempt(onTimeout), { duration: Duration.millis(ms), onTimeout: () => onTimeout(true) })
      const timeoutMs = Duration.toMillis(timeout)
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const attempt = attemptWindow(timeout, timeoutMs, endpoint, now, deadline)
        if (attempt === undefined) return Effect.fail(deadline!.onTimeout(false))
        if (deadline === undefined || attempt.onTimeout === deadline.onTimeout) {
          return within(attempt.ms, attempt.onTimeout)
        }
        // A timer that fires late (a busy event loop) may end the attempt past the call's deadline:
        // then the call has run out of time, whichever timer said so first.
        return Effect.catchIf(
          within(attempt.ms, attempt.onTimeout),
          (error): error is IdServiceError.RequestTimeout => error._tag === "RequestTimeout",
          (error) =>
            Effect.flatMap(
              Clock.currentTimeMillis,
              (at) => Effect.fail(at >= deadline.at ? deadline.onTimeout(error.requestSent) : error)
            )
        )
      })
    }

    /** One attempt at `endpoint`, directly or through the client. */
    const send = <A>(attempt: Attempt<A>): Effect.Effect<A, IdServiceError.IdServiceError> => {
      if (direct !== undefined && (!attempt.outgoing.authorized || Option.isSome(config.token))) {
        return sendDirect(direct, attempt)
      }
      const client = attempt.outgoing.authorized ? Option.getOrUndefined(authorized) : base
      return client === undefined ? noToken(attempt.endpoint) : sendClient(client, attempt)
    }

    const mint = (call: IdServiceClient.MintCall, deadline?: Deadline, onStatus?: OnStatus) => {
      // What the answer's headers said, read before its body is decoded (each answer sets both), and
      // put beside the body by the decoder: no step after the attempt.
      let keyEchoed = false
      let replayed = false
      return send<MintAnswer>(
        new Attempt(
          "mint",
          new Outgoing("POST", Api.paths.mint, true, call.body, call.urlParams, call.idempotencyKey),
          (u) => Either.map(decoders.mint(u), (body) => ({ body, keyEchoed, replayed })),
          config.requestTimeout,
          deadline,
          (status, header) => {
            onStatus?.(status)
            keyEchoed = header(Api.idempotencyKeyEchoHeader) === call.idempotencyKey
            replayed = header(Api.idempotentReplayedHeader) === "true"
          },
          call.span
        )
      )
    }

    const validate = (id: string, deadline?: Deadline, onStatus?: OnStatus, span?: Tracer.AnySpan) =>
      send(
        new Attempt(
          "validate",
          new Outgoing("POST", Api.paths.validate, true, JSON.stringify({ id })),
          decoders.validate,
          config.requestTimeout,
          deadline,
          onStatus,
          span
        )
      )

    const health = (timeout?: Duration.Duration, onStatus?: OnStatus) =>
      send(
        new Attempt(
          "health",
          new Outgoing("GET", Api.paths.health, false),
          decoders.health,
          timeout ?? config.health.timeout,
          undefined,
          onStatus,
          undefined
        )
      )

    return { mint, validate, health } satisfies Transport
  })

const jsonBody = (text: string) => HttpBody.text(text, "application/json")
