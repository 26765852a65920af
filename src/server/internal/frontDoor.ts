/**
 * The reference server's front door: what the platform would answer in its own shapes comes out in
 * the contract's, requests are counted, faults injected and the body size limited.
 *
 * @internal
 */
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Api from "../../Api.ts"
import * as Admin from "../Admin.ts"
import * as Fault from "../Faults.ts"
import { dropConnection } from "./handlers.ts"
import { jsonError, now, type State } from "./state.ts"

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
export const contractErrors = (app: HttpApp.Default): HttpApp.Default =>
  Effect.catchAllCause(app, (cause) => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) {
      const error: unknown = failure.value
      if (error instanceof HttpApiDecodeError) {
        return Effect.succeed(jsonError(400, "INVALID_REQUEST", describeDecodeError(error)))
      }
      if (Predicate.isTagged(error, "RouteNotFound")) {
        return Effect.succeed(jsonError(404, "NOT_FOUND", "no such endpoint"))
      }
      return Effect.failCause(cause)
    }
    const defect = Cause.dieOption(cause)
    if (Option.isSome(defect) && isRequestError(defect.value)) {
      const requestError = defect.value
      if (isTooLarge(requestError.cause)) return Effect.succeed(tooLarge(0))
      if (requestError.reason === "Decode") {
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

const classify = (method: string, url: string): Fault.Endpoint | "admin" => {
  const query = url.indexOf("?")
  const path = query === -1 ? url : url.slice(0, query)
  if (path === Api.paths.mint) return method === "POST" ? "mint" : "other"
  if (path === Api.paths.validate) return method === "POST" ? "validate" : "other"
  if (path === Api.paths.health || path === Api.paths.healthAlias) {
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

const inject = (
  request: HttpServerRequest.HttpServerRequest,
  endpoint: Fault.Endpoint,
  decision: Fault.Decision,
  next: HttpApp.Default
): HttpApp.Default => {
  const action = decision.action
  const act: HttpApp.Default = Effect.suspend(() => {
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

/**
 * Wraps the whole app (outside `HttpApiBuilder`, so it sees the final status): counts the request,
 * lets the fault injector decide, enforces the declared body size, counts the response. The admin
 * plane passes straight through, uncounted and never faulted.
 */
export const frontDoor = (state: State) => (app: HttpApp.Default): HttpApp.Default =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const limited = withBodyLimit(state, request, app)
    const endpoint = classify(request.method, request.url)
    if (endpoint === "admin") return limited
    state.counters.request(endpoint)
    const answer = state.injector.active()
      ? Effect.flatMap(state.injector.decide(endpoint), (decision) => inject(request, endpoint, decision, limited))
      : limited
    return Effect.map(answer, (response) => {
      state.counters.response(response.status)
      return response
    })
  })

/**
 * A body declared over the limit (`Content-Length`) is answered 413 before it is read. A chunked
 * body is read here (the platform caches it for the API) and answered 413 if it is over the limit;
 * past a hard cap the platform cuts the connection instead of buffering more.
 */
const withBodyLimit = (
  state: State,
  request: HttpServerRequest.HttpServerRequest,
  app: HttpApp.Default
): HttpApp.Default => {
  const length = request.headers["content-length"]
  if (length !== undefined) {
    return Number(length) > state.maxBodyBytes ? Effect.succeed(tooLarge(state.maxBodyBytes)) : app
  }
  if (request.headers["transfer-encoding"] === undefined) return app
  return Effect.flatMap(
    Effect.either(request.text),
    (text) =>
      Either.isRight(text) && Buffer.byteLength(text.right, "utf8") > state.maxBodyBytes
        ? Effect.succeed(tooLarge(state.maxBodyBytes))
        : app
  )
}

/** How much of a chunked body is buffered at most before the connection is cut. */
export const hardBodyCap = (maxBodyBytes: number): number => Math.max(1024 * 1024, 4 * maxBodyBytes)
