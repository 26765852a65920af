/**
 * What every chaos scenario needs: the admin plane of the server process, a live `IdService` wired
 * like a user's (over undici) with an attempt recorder in its `HttpClient`, logical calls timed one by
 * one, and the server's own records turned into figures (duplicates, successes it never minted).
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as IdService from "effect-chittyid/IdService"
import type * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
import type * as IdServiceError from "effect-chittyid/IdServiceError"
import type * as Observability from "effect-chittyid/Observability"
import * as Admin from "effect-chittyid/server/Admin"
import type * as Faults from "effect-chittyid/server/Faults"
import type { MintRecord, ServerCounts } from "effect-chittyid/server/ReferenceServer"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import { type Attempt, type Recorder, recorder } from "../lib/attemptRecorder.ts"
import { undiciPool } from "../lib/undiciPool.ts"
import type { ServerProcess } from "../serverProcess.ts"

export { type Attempt, type Recorder, recorder }

// -----------------------------------------------------------------------------
// The server's admin plane
// -----------------------------------------------------------------------------

/** The typed admin client of the server process (answers decoded with the server's Schemas). */
export type AdminClient = Effect.Effect.Success<ReturnType<typeof Admin.makeClient>>

/** Everything a scenario reads from or does to the server. */
export interface Server {
  readonly process: ServerProcess
  readonly reset: Effect.Effect<void>
  readonly setFaults: (patch: Faults.FaultsPatch) => Effect.Effect<void>
  readonly counts: Effect.Effect<ServerCounts>
  readonly mintLog: Effect.Effect<ReadonlyArray<MintRecord>>
  /** Open sockets of the server process (Linux `/proc`), `undefined` where that cannot be read. */
  readonly openSockets: Effect.Effect<number | undefined>
}

/** The admin plane's failures are the runner's own: they end the run. */
const orDie = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A> => Effect.orDie(effect)

/** The server process behind its admin plane. */
export const server = (process: ServerProcess): Effect.Effect<Server, never, HttpClient.HttpClient> =>
  Effect.map(Admin.makeClient({ url: process.url, token: process.token }), (admin) => ({
    process,
    reset: orDie(admin.admin.reset()),
    setFaults: (patch) => orDie(Effect.asVoid(admin.admin.setFaults({ payload: patch }))),
    counts: orDie(admin.admin.counts()),
    mintLog: orDie(Admin.readMintLog(admin)),
    openSockets: socketsOf(process.pid)
  }))

/** Open sockets of a process, from Linux `/proc` (`undefined` elsewhere). */
export const socketsOf = (pid: number): Effect.Effect<number | undefined> =>
  Effect.sync(() => {
    try {
      const dir = `/proc/${pid}/fd`
      let sockets = 0
      for (const fd of fs.readdirSync(dir)) {
        try {
          if (fs.readlinkSync(`${dir}/${fd}`).startsWith("socket:")) sockets++
        } catch {
          // closed while we looked
        }
      }
      return sockets
    } catch {
      return undefined
    }
  })

/** Sockets open in this process (the client side), idle keep-alive ones included. */
export const clientSockets: Effect.Effect<number | undefined> = Effect.suspend(() => socketsOf(process.pid))

// -----------------------------------------------------------------------------
// Attempts, seen from the client
// -----------------------------------------------------------------------------

// -----------------------------------------------------------------------------
// The client under test
// -----------------------------------------------------------------------------

/** The live service, wired as `effect-chittyid/node` wires it, with the recorder in its `HttpClient`. */
export interface Client {
  readonly ids: IdService.Service
  readonly recorder: Recorder
  /** Every `IdService.events` event since the client was made, in order. */
  readonly events: Effect.Effect<ReadonlyArray<Observability.ClientEvent>>
}

/** Options of {@link client}. */
export interface ClientOptions {
  /**
   * How long undici keeps an idle pooled connection (its default is 4 s). Short, so that after a
   * settle only connections still holding a request are open: what a socket-leak check must see.
   */
  readonly keepAliveMs?: number | undefined
  /** Talk to this URL instead of the reference server's (a hostile server of the scenario's own). */
  readonly url?: string | undefined
}

/**
 * Builds a live `IdService` against the server in the current scope (its own undici pool, breaker,
 * cache and health monitor), and starts collecting its events.
 */
export const client = (
  server: Server,
  settings: IdServiceConfig.Input,
  options: ClientOptions = {}
): Effect.Effect<Client, never, Scope.Scope> =>
  Effect.gen(function*() {
    const recording = recorder()
    const context = yield* Layer.build(
      IdService.IdService.layerWith({
        ...settings,
        url: options.url ?? server.process.url,
        token: server.process.token,
        transformClient: recording.transformClient
      }).pipe(Layer.provide(undiciPool(options.keepAliveMs)))
    ).pipe(Effect.orDie)
    const ids = yield* Effect.provide(IdService.IdService, context)
    const seen = yield* Ref.make(Chunk.empty<Observability.ClientEvent>())
    const subscribed = yield* Effect.makeLatch(false)
    yield* ids.events.pipe(
      Stream.onStart(subscribed.open),
      Stream.runForEach((event) => Ref.update(seen, Chunk.append(event))),
      Effect.forkScoped
    )
    yield* subscribed.await
    // The merged stream subscribes to each source as it starts: give them a turn.
    yield* Effect.sleep("5 millis")
    return { ids, recorder: recording, events: Effect.map(Ref.get(seen), Chunk.toReadonlyArray) }
  })

// -----------------------------------------------------------------------------
// Logical calls
// -----------------------------------------------------------------------------

/**
 * One logical `mint` call and how it ended. Kept small (no `Exit`, no error object): thousands are
 * held during a run, and what they retain would be scavenged again and again, inflating the
 * latencies being measured.
 */
export interface Call {
  readonly callId: string
  readonly ms: number
  /** The ID the caller got, when the call succeeded. */
  readonly chittyId: string | undefined
  /** The failure's tag (`RequestTimeout/overall` for timeouts), when the call failed. */
  readonly failure: string | undefined
}

/** Which failure a call ended with: its tag, and the scope of a timeout (`RequestTimeout/overall`). */
export const failureTag = (error: IdServiceError.IdServiceError): string =>
  error._tag === "RequestTimeout" ? `RequestTimeout/${error.scope}` : error._tag

const outcome = (
  exit: Exit.Exit<IdService.MintResult, IdServiceError.IdServiceError>
): Pick<Call, "chittyId" | "failure"> =>
  Exit.isSuccess(exit)
    ? { chittyId: exit.value.chittyId, failure: undefined }
    : {
      chittyId: undefined,
      failure: Option.match(Cause.failureOption(exit.cause), {
        onNone: () => Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect",
        onSome: failureTag
      })
    }

/** Makes one timed logical mint, tagged with `metadata.callId` so the server's log names its call. */
export const mintOnce = (ids: IdService.Service, callId: string): Effect.Effect<Call> =>
  Effect.suspend(() => {
    const start = performance.now()
    return Effect.map(
      Effect.exit(ids.mint({ entityType: "P", metadata: { callId } })),
      (exit) => ({ callId, ms: performance.now() - start, ...outcome(exit) })
    )
  })

/** `calls` logical mints, `concurrency` at a time, named `prefix-0`, `prefix-1`, … */
export const mintMany = (
  ids: IdService.Service,
  options: { readonly prefix: string; readonly calls: number; readonly concurrency: number }
): Effect.Effect<ReadonlyArray<Call>> =>
  Effect.forEach(
    Array.from({ length: options.calls }, (_, i) => `${options.prefix}-${i}`),
    (callId) => mintOnce(ids, callId),
    { concurrency: options.concurrency }
  )

// -----------------------------------------------------------------------------
// Figures
// -----------------------------------------------------------------------------

/** The `p`-th percentile (0–100) of some numbers, nearest rank; 0 for none. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] ?? 0
}

/** Rounds to `digits` decimals, for printing and JSON. */
export const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** How many IDs were minted beyond the first for one group. */
const extraPerGroup = (keys: ReadonlyArray<string | null>): number => {
  const seen = new Set<string>()
  let extra = 0
  for (const key of keys) {
    if (key === null) continue
    if (seen.has(key)) extra++
    else seen.add(key)
  }
  return extra
}

/** The figures every scenario reports about its calls, from the calls and the server's records. */
export interface Figures {
  readonly calls: number
  readonly succeeded: number
  readonly failed: number
  /** IDs minted more than once for one logical call (the larger of the two groupings below). */
  readonly duplicates: number
  readonly duplicatesByIdempotencyKey: number
  readonly duplicatesByCallId: number
  /** Successes whose ID is not the one the server minted for that call: built from something else. */
  readonly successesNotMinted: number
  /** IDs the server committed for calls that failed (the caller never learned them). */
  readonly orphanMints: number
  /** Requests the server counted (mint + validate) during the scenario. */
  readonly requestsSent: number
  /** Attempts the client made, from its own recorder. */
  readonly attempts: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly failuresByTag: Readonly<Record<string, number>>
}

/** Mint and validate requests the server counted between two readings of its counts. */
export const requestsBetween = (before: ServerCounts, after: ServerCounts): number =>
  after.requests.mint + after.requests.validate - before.requests.mint - before.requests.validate

/** Computes {@link Figures}. `log` is the server's mint log for the scenario (it was reset before). */
export const figures = (options: {
  readonly calls: ReadonlyArray<Call>
  readonly log: ReadonlyArray<MintRecord>
  /** Requests the server counted during the calls (see {@link requestsBetween}). */
  readonly requestsSent: number
  readonly attempts: number
}): Figures => {
  const { calls, log } = options
  const mintedFor = new Map<string, Set<string>>()
  for (const record of log) {
    if (record.callId === null) continue
    const ids = mintedFor.get(record.callId) ?? new Set<string>()
    ids.add(record.chittyId)
    mintedFor.set(record.callId, ids)
  }
  const failuresByTag: Record<string, number> = {}
  let succeeded = 0
  let successesNotMinted = 0
  let orphanMints = 0
  for (const call of calls) {
    if (call.chittyId !== undefined) {
      succeeded++
      if (!(mintedFor.get(call.callId)?.has(call.chittyId) ?? false)) successesNotMinted++
    } else {
      const tag = call.failure ?? "unknown"
      failuresByTag[tag] = (failuresByTag[tag] ?? 0) + 1
      orphanMints += mintedFor.get(call.callId)?.size ?? 0
    }
  }
  const byKey = extraPerGroup(log.map((record) => record.idempotencyKey))
  const byCall = extraPerGroup(log.map((record) => record.callId))
  const ms = calls.map((call) => call.ms)
  return {
    calls: calls.length,
    succeeded,
    failed: calls.length - succeeded,
    duplicates: Math.max(byKey, byCall),
    duplicatesByIdempotencyKey: byKey,
    duplicatesByCallId: byCall,
    successesNotMinted,
    orphanMints,
    requestsSent: options.requestsSent,
    attempts: options.attempts,
    p50Ms: round(percentile(ms, 50)),
    p99Ms: round(percentile(ms, 99)),
    maxMs: round(Math.max(0, ...ms)),
    failuresByTag
  }
}

/** Runs calls against a freshly reset server and computes their {@link Figures}. */
export const measured = <R>(
  server: Server,
  recorder: Recorder,
  run: Effect.Effect<ReadonlyArray<Call>, never, R>
): Effect.Effect<{ readonly calls: ReadonlyArray<Call>; readonly figures: Figures }, never, R> =>
  Effect.gen(function*() {
    const before = yield* server.counts
    const attemptsBefore = recorder.attempts.length
    const calls = yield* run
    const after = yield* server.counts
    const log = yield* server.mintLog
    return {
      calls,
      figures: figures({
        calls,
        log,
        requestsSent: requestsBetween(before, after),
        attempts: recorder.attempts.length - attemptsBefore
      })
    }
  })
