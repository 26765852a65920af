/**
 * What every part of the reference server shares: its state and the contract's error bodies.
 *
 * @internal
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import type * as Api from "../../Api.ts"
import type * as Counts from "../Counts.ts"
import type * as Fault from "../Faults.ts"
import type * as IdempotencyStore from "../IdempotencyStore.ts"
import type * as Registry from "../Registry.ts"
import type * as Placeholders from "./placeholders.ts"

/**
 * How the server behaves: `strict` is the contract (DESIGN §2), `live` is what the live service
 * answers (DESIGN §5).
 */
export type Profile = "strict" | "live"

/** The `service` the health endpoint names. */
export const serviceName = "chittyid-reference"

// -----------------------------------------------------------------------------
// State
// -----------------------------------------------------------------------------

/** The server's state: one per `ReferenceServer.make`. */
export interface State {
  readonly profile: Profile
  readonly tokenDigest: Buffer
  readonly version: string
  readonly maxBodyBytes: number
  readonly registry: Registry.Registry
  readonly store: IdempotencyStore.IdempotencyStore<Api.MintResponse, MintFailure>
  readonly counters: Counts.Counters
  readonly injector: Fault.Injector
  readonly placeholders: Placeholders.Placeholders
  /** Deepest nesting of mint `metadata` accepted (strict). */
  readonly maxJsonDepth: number
  /**
   * Headers a handler adds to its request's answer (the idempotency key's echo), by the request's
   * node message: the server's one pre-response handler sets them with CORS's, no handler of its own
   * per request.
   */
  readonly answerHeaders: WeakMap<object, Readonly<Record<string, string>>>
  /**
   * The requests (their node messages) whose bearer token the front door checked and found right:
   * the `Authorization` middleware does not hash it a second time.
   */
  readonly tokenChecked: WeakSet<object>
}

export const sha256 = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

// -----------------------------------------------------------------------------
// Contract bodies
// -----------------------------------------------------------------------------

export const errorBody = <const Code extends string>(error: Code, message: string) => ({
  success: false as const,
  error,
  message
})

export type InvalidRequest = typeof Api.InvalidRequestBody.Type
export type MintFailure =
  | InvalidRequest
  | typeof Api.IdempotencyConflictBody.Type
  | typeof Api.SequenceExhaustedBody.Type

export const invalidRequest = (message: string): InvalidRequest => errorBody("INVALID_REQUEST", message)

export const jsonError = (status: number, error: string, message: string, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson(errorBody(error, message), headers === undefined ? { status } : { status, headers })

export const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

/** The counts as the admin plane and `ReferenceServer.counts` report them. */
export const snapshot = (state: State): Effect.Effect<Counts.ServerCounts> =>
  Effect.flatMap(state.injector.injected, (injected) => state.counters.snapshot(injected, state.registry.minted()))

/** Clears the registry, the idempotency store, the counts and the faults. */
export const resetAll = (state: State): Effect.Effect<void> =>
  Effect.all([
    state.registry.clear,
    state.store.clear,
    state.counters.clear,
    state.injector.reset,
    state.placeholders.clear
  ], { discard: true })
