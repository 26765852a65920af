/**
 * The validation cache's engine: a `Map` of completed answers threaded on an intrusive doubly linked
 * list in access order (least recently used at the head), a `Map` of in-flight look-ups (one
 * `Deferred` shared by every caller of one ID) and the counters.
 *
 * Why not `effect/Cache`: in effect 3.x its access list holds a second, stale node for every entry
 * (the one made while the look-up was pending), so an entry touched after insertion is still
 * evicted at its insertion position (FIFO rather than LRU), and that list only shrinks while the
 * cache is over capacity, so it grows without bound when entries expire or are invalidated below it.
 * This engine keeps the same semantics otherwise (look-up in the first caller's fiber, waiters
 * share its `Exit`, time-to-live chosen per answer, failures never stored).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import type * as Metric from "effect/Metric"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Api from "../Api.ts"
import type * as ChittyId from "../ChittyId.ts"
import type * as IdServiceError from "../IdServiceError.ts"
import * as Observability from "../Observability.ts"
import type * as ValidationCache from "../ValidationCache.ts"

type Result = ValidationCache.Result
type Answer = ValidationCache.RemoteAnswer
type Failure = IdServiceError.IdServiceError

/** A completed answer, and its node in the access list. */
interface Entry {
  readonly id: string
  /** What a hit returns, built once. */
  readonly result: Result
  readonly expiresAt: number
  prev: Entry | undefined
  next: Entry | undefined
}

/**
 * What a look-up found: the answer, and, when it comes from a store shared with other processes, when
 * it expires there (the local entry does not outlive it).
 */
export interface Found {
  readonly answer: Answer
  readonly expiresAt?: number | undefined
  /** `true` when the answer came from the shared store: no request was sent for it. */
  readonly shared?: boolean | undefined
}

/** The engine's options: {@link ValidationCache.Options} with a look-up that may say when its answer expires. */
export interface EngineOptions {
  readonly capacity: number
  readonly validTtl: Duration.DurationInput
  readonly unknownTtl: Duration.DurationInput
  readonly lookup: (id: ChittyId.ChittyId) => Effect.Effect<Found, Failure>
}

/** A look-up under way; its identity tells whether it is still the current one for its ID. */
interface Flight {
  readonly deferred: Deferred.Deferred<Answer, Failure>
}

export const answerOf = (response: Api.ValidateResponse): Answer =>
  "replaced" in response
    ? { valid: false, unknown: false, error: `replaced by ${response.newId}` }
    : response.valid
    ? { valid: true, components: response.components }
    : "isError" in response
    ? { valid: false, unknown: false, error: response.errorName }
    : { valid: false, unknown: response.error === Api.unknownIdError, error: response.error }

const capacityOf = (capacity: number): number => Number.isNaN(capacity) ? 0 : Math.max(0, Math.floor(capacity))

/** The time to live of an answer, in milliseconds: "valid" ones live `validTtl`, the others `unknownTtl`. */
export const ttlOf = (answer: Answer, validTtl: number, unknownTtl: number): number =>
  answer.valid ? validTtl : unknownTtl

export const millisOf = (ttl: Duration.DurationInput): number => Duration.toMillis(Duration.decode(ttl))

const nowOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): number =>
  Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis()

export const make = (
  options: ValidationCache.Options
): Effect.Effect<ValidationCache.Service, never, Scope.Scope> =>
  makeEngine({
    ...options,
    lookup: (id) => Effect.map(options.lookup(id), (response): Found => ({ answer: answerOf(response) }))
  })

export const makeEngine = (
  options: EngineOptions
): Effect.Effect<ValidationCache.Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const capacity = capacityOf(options.capacity)
    const validTtl = millisOf(options.validTtl)
    const unknownTtl = millisOf(options.unknownTtl)
    const lookup = options.lookup
    const events = yield* Effect.acquireRelease(
      PubSub.sliding<Observability.ClientEvent>(Observability.eventBuffer),
      PubSub.shutdown
    )

    const entries = new Map<string, Entry>()
    const flights = new Map<string, Flight>()
    /** Least recently used. */
    let head: Entry | undefined
    /** Most recently used. */
    let tail: Entry | undefined
    let hits = 0
    let misses = 0
    let evictions = 0

    const unlink = (entry: Entry): void => {
      if (entry.prev === undefined) head = entry.next
      else entry.prev.next = entry.next
      if (entry.next === undefined) tail = entry.prev
      else entry.next.prev = entry.prev
      entry.prev = undefined
      entry.next = undefined
    }

    const append = (entry: Entry): void => {
      entry.prev = tail
      if (tail === undefined) head = entry
      else tail.next = entry
      tail = entry
    }

    const touch = (entry: Entry): void => {
      if (entry !== tail) {
        unlink(entry)
        append(entry)
      }
    }

    const remove = (entry: Entry): void => {
      unlink(entry)
      entries.delete(entry.id)
    }

    const count = (fiber: Fiber.RuntimeFiber<unknown, unknown>, metric: Metric.Metric.Counter<number>, by = 1) =>
      metric.unsafeUpdate(by, fiber.getFiberRef(FiberRef.currentMetricLabels))

    /**
     * Stores an answer as the most recently used entry and drops least recently used ones beyond the
     * capacity. Returns the IDs of live entries dropped; expired ones go without counting.
     */
    const store = (id: string, found: Found, now: number): Array<string> => {
      const answer = found.answer
      const expiresAt = Math.min(now + ttlOf(answer, validTtl, unknownTtl), found.expiresAt ?? Infinity)
      const evicted: Array<string> = []
      if (expiresAt <= now || capacity === 0) return evicted
      const existing = entries.get(id)
      if (existing !== undefined) remove(existing)
      const entry: Entry = {
        id,
        result: { answer, cached: true },
        expiresAt,
        prev: undefined,
        next: undefined
      }
      entries.set(id, entry)
      append(entry)
      while (entries.size > capacity && head !== undefined) {
        const oldest = head
        remove(oldest)
        if (now < oldest.expiresAt) evicted.push(oldest.id)
      }
      return evicted
    }

    const publishEvictions = (evicted: ReadonlyArray<string>, at: number): Effect.Effect<void> =>
      Effect.flatMap(
        PubSub.isShutdown(events),
        (down) =>
          down
            ? Effect.void
            : PubSub.publishAll(events, evicted.map((id) => Observability.ClientEvent.CacheEvicted({ id, at })))
      )

    /**
     * The first caller of an uncached ID: runs the look-up in its own fiber, then settles every waiter.
     * The look-up is registered only inside the uninterruptible region, right before it runs: a caller
     * interrupted earlier registers nothing, so no later caller can wait on a look-up nobody runs.
     */
    const originate = (id: ChittyId.ChittyId): Effect.Effect<Result, Failure> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.withFiberRuntime<Result, Failure>((fiber) => {
          // Another caller may have registered a look-up since this one found none.
          const running = flights.get(id)
          if (running !== undefined) return restore(await_(id, running))
          const flight: Flight = { deferred: Deferred.unsafeMake<Answer, Failure>(fiber.id()) }
          flights.set(id, flight)
          return settle(id, flight, restore(lookup(id)))
        })
      )

    /** Runs `lookup` (interruptible), then, whatever its exit, settles the flight's waiters and stores the answer. */
    const settle = (
      id: ChittyId.ChittyId,
      flight: Flight,
      lookup: Effect.Effect<Found, Failure>
    ): Effect.Effect<Result, Failure> =>
      Effect.flatMap(Effect.exit(lookup), (exit) =>
        Effect.withFiberRuntime<Result, Failure>((settling) => {
          // Invalidated meanwhile (or superseded): hand the answer to the waiters, keep nothing.
          const current = flights.get(id) === flight
          if (current) {
            flights.delete(id)
          }
          const answered = Exit.map(exit, (found) => found.answer)
          Deferred.unsafeDone(flight.deferred, answered)
          const result = Exit.map(exit, (found): Result => ({ answer: found.answer, cached: found.shared === true }))
          if (!current || Exit.isFailure(exit)) {
            return result
          }
          const now = nowOf(settling)
          const evicted = store(id, exit.value, now)
          if (evicted.length === 0) {
            return result
          }
          evictions += evicted.length
          count(settling, Observability.metrics.cacheEvictions, evicted.length)
          return Effect.zipRight(publishEvictions(evicted, now), result)
        }))

    /**
     * A caller that found a look-up under way shares its `Exit`. If that look-up was interrupted (its
     * caller gave up), the waiter is not: it asks again, and may start the next look-up itself.
     */
    const await_ = (id: ChittyId.ChittyId, flight: Flight): Effect.Effect<Result, Failure> =>
      Effect.matchCauseEffect(Deferred.await(flight.deferred), {
        onSuccess: (answer) => Effect.succeed({ answer, cached: true }),
        onFailure: (cause) => Cause.isInterruptedOnly(cause) ? get(id) : Effect.failCause(cause)
      })

    const get = (id: ChittyId.ChittyId): Effect.Effect<Result, Failure> =>
      Effect.withFiberRuntime<Result, Failure>((fiber) => {
        const entry = entries.get(id)
        if (entry !== undefined) {
          if (nowOf(fiber) < entry.expiresAt) {
            touch(entry)
            hits++
            count(fiber, Observability.metrics.cacheHits)
            return Effect.succeed(entry.result)
          }
          remove(entry)
        }
        const flight = flights.get(id)
        if (flight !== undefined) {
          hits++
          count(fiber, Observability.metrics.cacheHits)
          return await_(id, flight)
        }
        misses++
        count(fiber, Observability.metrics.cacheMisses)
        return originate(id)
      })

    return {
      get,
      invalidate: (id) =>
        Effect.sync(() => {
          const entry = entries.get(id)
          if (entry !== undefined) remove(entry)
          flights.delete(id)
        }),
      invalidateAll: Effect.sync(() => {
        entries.clear()
        flights.clear()
        head = undefined
        tail = undefined
      }),
      stats: Effect.sync((): Observability.CacheStats => ({ hits, misses, evictions, size: entries.size, capacity })),
      evictions: Stream.fromPubSub(events)
    } satisfies ValidationCache.Service
  })
