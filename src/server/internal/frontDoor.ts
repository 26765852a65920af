/**
 * The reference server's front door: what the platform would answer in its own shapes comes out in
 * the contract's, requests are counted, faults injected and the body size limited.
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as Headers from "@effect/platform/Headers"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { Readable } from "node:stream"
import * as Api from "../../Api.ts"
import * as Admin from "../Admin.ts"
import * as Fault from "../Faults.ts"
import { backendFailure, bearerProblem, dropConnection, mintLive } from "./handlers.ts"
import { errorBody, jsonError, now, serviceName, type State } from "./state.ts"

// -----------------------------------------------------------------------------
// Errors in the contract's shape
// -----------------------------------------------------------------------------

/**
 * One readable line from a decode error: an issue per path, without the noise of the union members
 * an optional or nullable field adds ("Expected undefined", "Expected null").
 */
const describeDecodeError = (error: HttpApiDecodeError): string => {
  const byPath = new Map<string, string>()
  const noise = /^Expected (undefined|null), actual/
  const issues = error.issues.filter((issue) => !noise.test(issue.message))
  for (const issue of issues.length > 0 ? issues : error.issues) {
    const path = issue.path.map(String).join(".")
    if (!byPath.has(path)) byPath.set(path, path === "" ? issue.message : `${path}: ${issue.message}`)
  }
  return `invalid request: ${byPath.size > 0 ? Array.from(byPath.values()).join("; ") : error.message}`
}

const isRequestError = (u: unknown): u is { readonly reason: string; readonly cause?: unknown } =>
  Predicate.hasProperty(u, "_tag") && u._tag === "RequestError" && Predicate.hasProperty(u, "reason")

const isTooLarge = (cause: unknown): boolean => cause instanceof Error && cause.message === "maxBytes exceeded"

/**
 * API-level middleware: what the platform would answer in its own shapes (a body that does not
 * decode, is not JSON or is too large; an unknown route) comes out in the contract's
 * `{ success: false, error, message }` instead. Typed errors of the handlers pass through.
 */
export const contractErrors = (state: State) => (app: HttpApp.Default): HttpApp.Default =>
  Effect.catchAllCause(app, (cause) => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) {
      const error: unknown = failure.value
      if (error instanceof HttpApiDecodeError) {
        return state.profile === "live"
          ? liveBadInput(state)
          : Effect.succeed(jsonError(400, "INVALID_REQUEST", describeDecodeError(error)))
      }
      if (Predicate.isTagged(error, "RouteNotFound")) {
        return state.profile === "live"
          ? Effect.flatMap(
            HttpServerRequest.HttpServerRequest,
            (request) =>
              Effect.map(now, (date) =>
                HttpServerResponse.unsafeJson({
                  ...errorBody("NOT_FOUND", `Route not found: ${pathOf(request.url)}`),
                  timestamp: date.toISOString(),
                  service: serviceName
                }, { status: 404 }))
          )
          : Effect.succeed(jsonError(404, "NOT_FOUND", "no such endpoint"))
      }
      return Effect.failCause(cause)
    }
    const defect = Cause.dieOption(cause)
    if (Option.isSome(defect) && isRequestError(defect.value)) {
      const requestError = defect.value
      if (isTooLarge(requestError.cause)) return Effect.succeed(tooLarge(state.maxBodyBytes))
      if (requestError.reason === "Decode") {
        if (state.profile === "live") return liveBadInput(state)
        const detail = requestError.cause instanceof Error ? `: ${requestError.cause.message}` : ""
        return Effect.succeed(jsonError(400, "INVALID_REQUEST", `the request body is not valid JSON${detail}`))
      }
    }
    if (Option.isSome(defect)) {
      // A bug of the server: say so in the contract's shape, and log the cause (never the request).
      return Effect.as(
        Effect.logError("reference server defect", cause),
        jsonError(500, "INTERNAL_ERROR", "internal error of the reference server")
      )
    }
    return Effect.failCause(cause)
  })

/**
 * `live`: a body that is not JSON or does not decode. A mint takes no body then (a Thing, or the
 * query's `type`); a validate answers 503 `SECURITY_ERROR`, as the live service's catch-all does.
 */
const liveBadInput = (state: State): HttpApp.Default =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const endpoint = classify(request.method, request.url)
    if (endpoint === "mint") {
      const query = new URLSearchParams(request.url.slice(pathOf(request.url).length))
      const urlParams: Record<string, string> = {}
      for (const name of ["type", "for", "region", "jurisdiction", "trust"] as const) {
        const value = query.get(name)
        if (value !== null) urlParams[name] = value
      }
      return Effect.map(
        mintLive(state, {}, urlParams, request.headers["authorization"]),
        (answer) => HttpServerResponse.unsafeJson(answer)
      )
    }
    return Effect.map(now, (date) =>
      HttpServerResponse.unsafeJson({
        ...errorBody("SECURITY_ERROR", "Request processing failed security validation"),
        timestamp: date.toISOString()
      }, { status: 503 }))
  })

const tooLarge = (limit: number) =>
  jsonError(
    413,
    "PAYLOAD_TOO_LARGE",
    limit > 0 ? `the request body is over the limit of ${limit} bytes` : "the request body is over the limit",
    { connection: "close" }
  )

// -----------------------------------------------------------------------------
// Front door: counts, body limit, faults
// -----------------------------------------------------------------------------

const pathOf = (url: string): string => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

const classify = (method: string, url: string): Fault.Endpoint | "admin" => {
  const path = pathOf(url)
  if (path === Api.paths.mint) return method === "POST" ? "mint" : "other"
  if (path === Api.paths.getChittyId || path === Api.paths.generate) return method === "GET" ? "mint" : "other"
  if (path === Api.paths.validate) return method === "POST" ? "validate" : "other"
  if (path === Api.paths.health || path === Api.paths.healthAlias || path === Api.paths.spec) {
    return method === "GET" || method === "HEAD" ? "health" : "other"
  }
  return path.startsWith(Admin.paths.prefix) ? "admin" : "other"
}

const retryAfterHeader = (seconds: number, format: Fault.RetryAfterFormat): Effect.Effect<string> =>
  format === "seconds"
    ? Effect.succeed(String(seconds))
    : Effect.map(
      Clock.currentTimeMillis,
      // An HTTP-date has whole seconds: round up so the date is never earlier than intended.
      (millis) => new Date(Math.ceil((millis + seconds * 1000) / 1000) * 1000).toUTCString()
    )

/**
 * `live`, on mint: the backend's trouble comes back as a 200 placeholder (a 429 burst is
 * `RATE_LIMITED`, an error `MINT_REJECTED` or the fault's `placeholder`, a hang `MINT_TIMEOUT`,
 * answered at once); a whole-service outage and garbage stay as they are.
 */
const livePlaceholder = (action: Fault.Action, faults: Fault.Faults): Fault.PlaceholderCode | undefined => {
  switch (action._tag) {
    case "RateLimited":
      return "RATE_LIMITED"
    case "Unavailable":
      return faults.errors?.placeholder ?? "MINT_REJECTED"
    case "Hang":
      return "MINT_TIMEOUT"
    default:
      return undefined
  }
}

const inject = (
  state: State,
  request: HttpServerRequest.HttpServerRequest,
  endpoint: Fault.Endpoint,
  decision: Fault.Decision,
  next: HttpApp.Default
): HttpApp.Default => {
  const action = decision.action
  const act: HttpApp.Default = Effect.suspend(() => {
    if (state.profile === "live") {
      const code = livePlaceholder(action, state.injector.snapshot())
      if (code !== undefined) return Effect.locally(next, backendFailure, code)
    }
    switch (action._tag) {
      case "Pass":
        return next
      case "Refuse":
        return dropConnection(request, "close")
      case "Reset":
        return dropConnection(request, "reset")
      case "Hang":
        return Effect.interruptible(Effect.never)
      case "RateLimited":
        return Effect.map(retryAfterHeader(action.retryAfter, action.format), (retryAfter) =>
          jsonError(
            429,
            "RATE_LIMITED",
            `too many requests (injected fault): retry after ${action.retryAfter} s`,
            { "retry-after": retryAfter }
          ))
      case "Unavailable": {
        const { format, retryAfter } = action
        return retryAfter === undefined
          ? Effect.succeed(jsonError(503, "SERVICE_UNAVAILABLE", "the service is unavailable (injected fault)"))
          : Effect.map(retryAfterHeader(retryAfter, format), (header) =>
            jsonError(
              503,
              "SERVICE_UNAVAILABLE",
              `the service is unavailable (injected fault): retry after ${retryAfter} s`,
              { "retry-after": header }
            ))
      }
      case "Garbage":
        return Effect.map(now, (date) => {
          const garbage = Fault.garbageBody(action.kind, endpoint, action.draw, date.toISOString())
          return HttpServerResponse.text(garbage.body, { status: 200, contentType: garbage.contentType })
        })
    }
  })
  // A refusal is immediate: nothing about the request is waited for.
  return decision.delayMs > 0 && action._tag !== "Refuse"
    ? Effect.zipRight(Effect.interruptible(Effect.sleep(Duration.millis(decision.delayMs))), act)
    : act
}

const corsHeaders = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "Content-Type, Authorization"
} as const

/** A preflight, as the live service answers it (both profiles): 200, empty, the CORS headers. */
const preflight = Effect.succeed(HttpServerResponse.empty({ status: 200, headers: corsHeaders }))

/**
 * Wraps the whole app (outside `HttpApiBuilder`, so it sees the final status): answers CORS
 * preflights, counts the request, checks what can be checked before a body is read (`strict`: the
 * token, the media type, a declared length), lets the fault injector decide, counts the response.
 * The admin plane passes straight through (after the same early checks), uncounted and never faulted.
 */
export const frontDoor = (state: State) => (app: HttpApp.Default): HttpApp.Default =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const endpoint = classify(request.method, request.url)
    // The platform's `request.headers` makes a fresh copy of the node headers on every read: one here.
    const headers = request.headers
    const early = request.method === "OPTIONS" ? preflight : beforeBody(state, request, headers, endpoint)
    const handled = early ?? withBodyRead(state, request, headers, app)
    if (endpoint === "admin") return handled
    state.counters.request(endpoint)
    const answer = early === undefined && state.injector.active()
      ? Effect.flatMap(
        // `live`: backend faults (errors, 429 bursts, hangs) reach only mint; elsewhere they are not drawn.
        state.injector.decide(endpoint, { serviceOnly: state.profile === "live" && endpoint !== "mint" }),
        (decision) => inject(state, request, endpoint, decision, withBodyRead(state, request, headers, app))
      )
      : handled
    // The app answers through the platform (the pre-response handler, `answerHeaders`, applies); an
    // early answer is ours.
    return Effect.map(answer, (response) => {
      state.counters.response(response.status)
      return HttpServerResponse.setHeader(response, "access-control-allow-origin", "*")
    })
  })

const anyOrigin = { "access-control-allow-origin": "*" } as const

/**
 * The server's pre-response handler, installed once for every request (a handler appended per
 * request costs a fiber-ref update each): what the app answers gets CORS's header (not the admin
 * plane's answers) and the headers its handler recorded in `state.answerHeaders`.
 */
export const answerHeaders = (state: State): HttpApp.PreResponseHandler => (request, response) => {
  const recorded = state.answerHeaders.get(NodeHttpServerRequest.toIncomingMessage(request))
  const cors = pathOf(request.url).startsWith(Admin.paths.prefix) ? undefined : anyOrigin
  return Effect.succeed(
    recorded === undefined
      ? cors === undefined ? response : HttpServerResponse.setHeaders(response, cors)
      : HttpServerResponse.setHeaders(response, cors === undefined ? recorded : { ...cors, ...recorded })
  )
}

const hasBody = (headers: Headers.Headers): boolean => {
  const length = headers["content-length"]
  return headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")
}

/** An early answer closes the connection when a body is left unread: it is never read or parsed. */
const answerEarly = (headers: Headers.Headers, response: HttpServerResponse.HttpServerResponse) =>
  Effect.succeed(hasBody(headers) ? HttpServerResponse.setHeader(response, "connection", "close") : response)

/**
 * What is answered before any byte of the body is read: in `strict`, 401 for a missing or wrong
 * token (mint, validate, admin), 415 for a mint body that is not `application/json`; in both
 * profiles, 413 for a declared length over the limit. A chunked body is cut as soon as it passes the
 * limit (`withBodyRead`), and answered 413.
 */
const beforeBody = (
  state: State,
  request: HttpServerRequest.HttpServerRequest,
  headers: Headers.Headers,
  endpoint: Fault.Endpoint | "admin"
): HttpApp.Default | undefined => {
  // The admin plane needs the token in both profiles.
  const guarded = endpoint === "admin" ||
    (state.profile === "strict" && (endpoint === "mint" || endpoint === "validate"))
  if (guarded) {
    const problem = bearerProblem(state, headers["authorization"])
    if (problem !== undefined) return answerEarly(headers, jsonError(401, "UNAUTHORIZED", problem))
    state.tokenChecked.add(NodeHttpServerRequest.toIncomingMessage(request))
  }
  if (state.profile === "strict") {
    const contentType = headers["content-type"]?.toLowerCase() ?? ""
    if (endpoint === "mint" && hasBody(headers) && !contentType.startsWith("application/json")) {
      return answerEarly(
        headers,
        jsonError(415, "UNSUPPORTED_MEDIA_TYPE", "a mint body must be JSON: send Content-Type: application/json")
      )
    }
  }
  const length = headers["content-length"]
  if (length !== undefined && Number(length) > state.maxBodyBytes) {
    return Effect.succeed(tooLarge(state.maxBodyBytes))
  }
  return undefined
}

/**
 * A body is read here, after the early checks, and never past the limit: a chunked one (no declared
 * length) that passes it stops being read and is answered 413 (the connection is closed, the rest
 * never read). Within it, the app gets the request with the body already read — a declared length
 * too (over the limit it was answered early): one `Effect.async` instead of the platform's reader,
 * which runs a fiber of its own and a cache per request.
 */
const withBodyRead = (
  state: State,
  request: HttpServerRequest.HttpServerRequest,
  headers: Headers.Headers,
  app: HttpApp.Default
): HttpApp.Default => {
  if (!hasBody(headers)) return app
  return Effect.flatMap(
    readCapped(NodeHttpServerRequest.toIncomingMessage(request), state.maxBodyBytes),
    (body) =>
      body === undefined
        ? Effect.succeed(tooLarge(state.maxBodyBytes))
        : Effect.provideService(app, HttpServerRequest.HttpServerRequest, withBody(request, body))
  )
}

/** The body as text, or `undefined` once it passes `limit` bytes (reading stops there). */
const readCapped = (source: Readable, limit: number): Effect.Effect<string | undefined> =>
  Effect.async<string | undefined>((resume) => {
    const chunks: Array<Buffer> = []
    let bytes = 0
    const done = (result: string | undefined) => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      resume(Effect.succeed(result))
    }
    const onData = (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > limit) {
        source.pause()
        return done(undefined)
      }
      chunks.push(chunk)
    }
    const onEnd = () => done(Buffer.concat(chunks).toString("utf8"))
    // A broken upload: the connection is gone, nothing will be answered.
    const onError = () => done(undefined)
    source.on("data", onData)
    source.once("end", onEnd)
    source.once("error", onError)
    return Effect.sync(() => done(undefined))
  })

/**
 * The request with its body already read: `text` (and so `json`, `urlParamsBody`) answers it; every
 * other property is the platform's request, the node socket included.
 */
const withBody = (
  request: HttpServerRequest.HttpServerRequest,
  text: string
): HttpServerRequest.HttpServerRequest => {
  const read: HttpServerRequest.HttpServerRequest = Object.create(request, {
    text: { value: Effect.succeed(text), enumerable: false }
  })
  return read
}
