/**
 * Records every HTTP attempt a client makes (an `HttpClient` transform): when it was sent, how and
 * when it ended. Used by the chaos runner and the resilience tests to check what reached the wire.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Api from "effect-chittyid/Api"
import * as UndiciClient from "effect-chittyid/internal/undiciClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/** Whether an attempt was ended by its timer: interrupted (over any client), or failed by the lean client's. */
const endedByTimer = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isInterrupted(exit) ||
  (Exit.isFailure(exit) && exit.cause._tag === "Fail" && typeof exit.cause.error === "object" &&
    exit.cause.error !== null && "cause" in exit.cause.error &&
    exit.cause.error.cause instanceof UndiciClient.TransportFailure && exit.cause.error.cause.reason === "timeout")

/** One HTTP attempt, as the client's `HttpClient` saw it. */
export interface Attempt {
  readonly endpoint: string
  readonly idempotencyKey: string | undefined
  /** `performance.now()` and `Date.now()` when the request was handed to undici. */
  readonly sentAt: number
  readonly sentWallMs: number
  /** When the answer's head arrived; `undefined` when none did. */
  answeredAt: number | undefined
  answeredWallMs: number | undefined
  status: number | undefined
  retryAfter: string | undefined
  /** How the attempt ended: answered, failed in transport, or interrupted (ended by a timeout). */
  outcome: "pending" | "answered" | "failed" | "interrupted"
}

/** Records every attempt the service's `HttpClient` makes. */
export interface Recorder {
  readonly attempts: ReadonlyArray<Attempt>
  readonly transformClient: (client: HttpClient.HttpClient) => HttpClient.HttpClient
}

/** A fresh recorder. */
export const recorder = (): Recorder => {
  const attempts: Array<Attempt> = []
  return {
    attempts,
    transformClient: (client) =>
      HttpClient.transform(client, (effect, request) =>
        Effect.suspend(() => {
          const attempt: Attempt = {
            endpoint: new URL(request.url, "http://x").pathname,
            idempotencyKey: request.headers[Api.idempotencyKeyHeader],
            sentAt: performance.now(),
            sentWallMs: Date.now(),
            answeredAt: undefined,
            answeredWallMs: undefined,
            status: undefined,
            retryAfter: undefined,
            outcome: "pending"
          }
          attempts.push(attempt)
          return Effect.onExit(effect, (exit) =>
            Effect.sync(() => {
              if (Exit.isSuccess(exit)) {
                attempt.answeredAt = performance.now()
                attempt.answeredWallMs = Date.now()
                attempt.status = exit.value.status
                attempt.retryAfter = exit.value.headers["retry-after"]
                attempt.outcome = "answered"
              } else {
                attempt.outcome = endedByTimer(exit) ? "interrupted" : "failed"
              }
            }))
        }))
  }
}
