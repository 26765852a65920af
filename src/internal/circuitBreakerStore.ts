/**
 * The breaker store's front: per breaker name, what this replica knows of the fleet's state (kept
 * in memory, read by the breaker without I/O), the commands of the protocol run against a backend
 * (Redis, or a `Map` for one process), and the fallback to local state while the backend is down or
 * slow.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as CircuitBreaker from "../CircuitBreaker.ts"
import type * as CircuitBreakerStore from "../CircuitBreakerStore.ts"
import * as Observability from "../Observability.ts"
import * as Machine from "./circuitBreaker.ts"

/**
 * The store's tag, by key: the same service as the public `CircuitBreakerStore` class, without
 * loading its Redis implementation (the live layers look it up with this one).
 *
 * @internal
 */
export const tag: Context.Tag<CircuitBreakerStore.CircuitBreakerStore, CircuitBreakerStore.Service> = Context
  .GenericTag<CircuitBreakerStore.CircuitBreakerStore, CircuitBreakerStore.Service>(
    "effect-chittyid/CircuitBreakerStore"
  )

/** @internal */
export class StoreError extends Data.TaggedError("StoreError")<{ readonly message: string }> {}

/**
 * An open period as stored: who opened it, when, why and after how many trips. Its end is the
 * key's time to live, so replicas never compare clocks to know when it ends.
 *
 * @internal
 */
export interface Mark {
  readonly since: number
  readonly reason: CircuitBreaker.OpenReason
  readonly trips: number
}

/** @internal */
export interface TimedMark {
  readonly mark: Mark
  /** milliseconds the open period has left */
  readonly ttl: number
}

/** What a replica is told when another opens or closes the breaker. @internal */
export type Message =
  | { readonly _tag: "Open"; readonly mark: Mark; readonly ttl: number }
  | { readonly _tag: "Closed"; readonly since: number }

/** The answer to a probe claim. @internal */
export type Claim =
  | { readonly _tag: "Claimed" }
  | { readonly _tag: "Busy"; readonly ttl: number }
  | { readonly _tag: "Open"; readonly open: TimedMark }
  | { readonly _tag: "Closed"; readonly since: number }

/** The shared state of one breaker, read at once. @internal */
export interface Snapshot {
  readonly open: TimedMark | undefined
  readonly probe: { readonly owner: string; readonly ttl: number } | undefined
  readonly closed: number | undefined
}

/**
 * The commands of the protocol. Each runs atomically where it is stored (a Lua script in Redis).
 *
 * @internal
 */
export interface Backend {
  readonly kind: "memory" | "redis"
  /** Counts one failure in the window (the window starts with its first failure); with the open period, if any. */
  readonly recordFailure: (
    name: string,
    windowMillis: number
  ) => Effect.Effect<{ readonly failures: number; readonly open: TimedMark | undefined }, StoreError>
  /** A success ended a run of failures: the count starts again. */
  readonly endStreak: (name: string) => Effect.Effect<void, StoreError>
  /** Stores the open period for `ttl` ms, clears the count (and `owner`'s probe claim) and tells the fleet. */
  readonly open: (name: string, mark: Mark, ttl: number, owner: string) => Effect.Effect<void, StoreError>
  /** Claims the fleet's one probe for `ttl` ms, unless the breaker is open again or closed since `openedAt`. */
  readonly claim: (name: string, owner: string, ttl: number, openedAt: number) => Effect.Effect<Claim, StoreError>
  /** Closes the breaker for the fleet (remembered for `ttl` ms) and tells the fleet. */
  readonly close: (name: string, since: number, ttl: number) => Effect.Effect<void, StoreError>
  readonly read: (name: string) => Effect.Effect<Snapshot, StoreError>
  /** Calls `onMessage` (with the time it arrived) for the fleet's messages about `name`, for the scope's life. */
  readonly listen: (
    name: string,
    onMessage: (message: Message, now: number) => void
  ) => Effect.Effect<void, never, Scope.Scope>
  readonly ping: Effect.Effect<void, StoreError>
}

/** Options of {@link make}. @internal */
export interface Options {
  /**
   * How often each replica reads the shared state (catching messages it missed) and, in fallback,
   * checks whether the backend is back; `undefined`: never (a backend that cannot fail).
   */
  readonly pollInterval: Duration.Duration | undefined
  /** Start in fallback (the backend could not be reached while the layer was built). */
  readonly startInFallback: string | undefined
}

/** How long the fleet remembers that the breaker closed (replicas that missed the message learn it from this). */
const closedMarkerMillis = 10 * 60_000

/** @internal */
export const defaultProbeTimeout: Duration.Duration = Duration.seconds(10)

const viewOfOpen = (open: TimedMark, now: number): Machine.SharedView => ({
  _tag: "Open",
  since: open.mark.since,
  retryAt: now + open.ttl,
  reason: open.mark.reason,
  trips: open.mark.trips
})

const viewOfSnapshot = (snapshot: Snapshot, owner: string, now: number): Machine.SharedView =>
  snapshot.open !== undefined
    ? viewOfOpen(snapshot.open, now)
    : snapshot.probe !== undefined && snapshot.probe.owner !== owner
    ? { _tag: "Probing", until: now + snapshot.probe.ttl }
    : snapshot.closed !== undefined
    ? { _tag: "Closed", since: snapshot.closed }
    : Machine.unknownView

/** Does `next` say something `current` does not? (An open period read again only ends a little later.) */
const changed = (current: Machine.SharedView, next: Machine.SharedView): boolean => {
  if (current._tag !== next._tag) return true
  switch (next._tag) {
    case "Open":
      return current._tag !== "Open" || current.since !== next.since || current.trips !== next.trips
    case "Closed":
      return current._tag !== "Closed" || current.since !== next.since
    case "Probing":
    case "Unknown":
      return false
  }
}

/** A name for this replica's claims: unique across processes and within one. */
const ownerId = (): string => globalThis.crypto.randomUUID()

interface Entry {
  readonly name: string
  readonly owner: string
  view: Machine.SharedView
  readonly set: (view: Machine.SharedView) => void
}

/**
 * A store over `backend`: the service the breakers use.
 *
 * @internal
 */
export const make = (
  backend: Backend,
  options: Options
): Effect.Effect<CircuitBreakerStore.Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const events = yield* Effect.acquireRelease(
      PubSub.sliding<Observability.ClientEvent>(Observability.eventBuffer),
      PubSub.shutdown
    )
    const fallbacks = Metric.tagged(Observability.metrics.fleetFallbacks, "chittyid.fleet.component", "breaker")
    const entries = new Set<Entry>()
    let mode: CircuitBreakerStore.Mode = "shared"

    const toFallback = (reason: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (mode === "fallback") return Effect.void
        mode = "fallback"
        for (const entry of entries) entry.view = Machine.unknownView
        return Effect.all([
          Effect.logWarning("circuit breaker store unavailable: each breaker keeps its own state until it is back")
            .pipe(Effect.annotateLogs({ backend: backend.kind, reason })),
          Metric.increment(fallbacks),
          Effect.flatMap(
            Clock.currentTimeMillis,
            (at) =>
              PubSub.publish(events, Observability.ClientEvent.FleetFallback({ component: "breaker", reason, at }))
          )
        ], { discard: true })
      })

    const restored: Effect.Effect<void> = Effect.suspend(() => {
      if (mode === "shared") return Effect.void
      mode = "shared"
      return Effect.zipRight(
        Effect.logInfo("circuit breaker store back: breakers share their state again").pipe(
          Effect.annotateLogs({ backend: backend.kind })
        ),
        Effect.flatMap(
          Clock.currentTimeMillis,
          (at) => PubSub.publish(events, Observability.ClientEvent.FleetRestored({ component: "breaker", at }))
        )
      )
    })

    /** Runs a command while shared; its failure (or any command in fallback) answers `local`. */
    const guarded = <A>(command: Effect.Effect<A, StoreError>, local: A): Effect.Effect<A> =>
      Effect.suspend(() =>
        mode === "fallback"
          ? Effect.succeed(local)
          : Effect.catchAll(command, (error) => Effect.as(toFallback(error.message), local))
      )

    const refresh = (entry: Entry): Effect.Effect<void> =>
      guarded(
        Effect.flatMap(
          backend.read(entry.name),
          (snapshot) =>
            Effect.map(Clock.currentTimeMillis, (now) => entry.set(viewOfSnapshot(snapshot, entry.owner, now)))
        ),
        undefined
      )

    if (options.startInFallback !== undefined) {
      yield* toFallback(options.startInFallback)
    }

    if (options.pollInterval !== undefined) {
      const poll = Effect.suspend(() =>
        mode === "fallback"
          ? Effect.flatMap(Effect.either(backend.ping), (pong) =>
            pong._tag === "Right"
              ? Effect.zipRight(restored, Effect.forEach(entries, refresh, { discard: true }))
              : Effect.void)
          : Effect.forEach(entries, refresh, { discard: true })
      )
      yield* Effect.sleep(options.pollInterval).pipe(
        Effect.zipRight(poll),
        Effect.forever,
        Effect.interruptible,
        Effect.forkScoped
      )
    }

    const breaker = (
      name: string,
      breakerOptions: CircuitBreakerStore.BreakerOptions = {}
    ): Effect.Effect<CircuitBreakerStore.Shared, never, Scope.Scope> =>
      Effect.gen(function*() {
        const scope = yield* Effect.scope
        const probeMillis = Math.max(
          1,
          Duration.toMillis(Duration.decode(breakerOptions.probeTimeout ?? defaultProbeTimeout))
        )
        const followers: Array<Queue.Queue<void>> = []
        const entry: Entry = {
          name,
          owner: ownerId(),
          view: Machine.unknownView,
          set: (view) => {
            if (mode === "fallback") return
            const notify = changed(entry.view, view)
            entry.view = view
            if (notify) { for (const follower of followers) follower.unsafeOffer(undefined) }
          }
        }
        yield* Effect.acquireRelease(
          Effect.sync(() => entries.add(entry)),
          () => Effect.sync(() => entries.delete(entry))
        )
        yield* backend.listen(name, (message, now) =>
          entry.set(
            message._tag === "Open"
              ? viewOfOpen(message, now)
              : { _tag: "Closed", since: message.since }
          ))
        yield* refresh(entry)

        const shared: CircuitBreakerStore.Shared = {
          name,
          view: () => entry.view,
          recordFailure: (windowMillis) =>
            guarded(
              Effect.flatMap(
                backend.recordFailure(name, windowMillis),
                (answer) =>
                  Effect.map(Clock.currentTimeMillis, (now) => {
                    if (answer.open !== undefined) entry.set(viewOfOpen(answer.open, now))
                    return Option.some(answer.failures)
                  })
              ),
              Option.none()
            ).pipe(Effect.map(Option.getOrUndefined)),
          endStreak: guarded(backend.endStreak(name), undefined),
          open: (period) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              const ttl = Math.ceil(period.retryAt - now)
              if (ttl <= 0) {
                return Effect.void
              }
              const mark: Mark = { since: period.since, reason: period.reason, trips: period.trips }
              entry.set({ _tag: "Open", ...mark, retryAt: period.retryAt })
              return guarded(backend.open(name, mark, ttl, entry.owner), undefined)
            }),
          claimProbe: (openedAt) =>
            guarded(
              Effect.flatMap(backend.claim(name, entry.owner, probeMillis, openedAt), (claim) =>
                Effect.map(Clock.currentTimeMillis, (now) => {
                  switch (claim._tag) {
                    case "Claimed":
                      return true
                    case "Busy":
                      entry.set({ _tag: "Probing", until: now + claim.ttl })
                      return false
                    case "Open":
                      entry.set(viewOfOpen(claim.open, now))
                      return false
                    case "Closed":
                      entry.set({ _tag: "Closed", since: claim.since })
                      return false
                  }
                })),
              true
            ),
          close: (since) =>
            Effect.suspend(() => {
              entry.set({ _tag: "Closed", since })
              return guarded(backend.close(name, since, closedMarkerMillis), undefined)
            }),
          follow: (onChange) =>
            Effect.gen(function*() {
              const follower = yield* Queue.sliding<void>(1)
              followers.push(follower)
              yield* Queue.take(follower).pipe(
                Effect.zipRight(onChange),
                Effect.forever,
                Effect.interruptible,
                Effect.forkIn(scope)
              )
            })
        }
        return shared
      })

    return {
      backend: backend.kind,
      breaker,
      mode: Effect.sync(() => mode),
      events: Stream.fromPubSub(events)
    } satisfies CircuitBreakerStore.Service
  })

// -----------------------------------------------------------------------------
// In memory
// -----------------------------------------------------------------------------

interface Expiring<A> {
  readonly value: A
  readonly expiresAt: number
}

interface MemoryState {
  failures: Expiring<number> | undefined
  open: Expiring<Mark> | undefined
  probe: Expiring<string> | undefined
  closed: Expiring<number> | undefined
  readonly listeners: Set<(message: Message, now: number) => void>
}

const live = <A>(entry: Expiring<A> | undefined, now: number): Expiring<A> | undefined =>
  entry !== undefined && entry.expiresAt > now ? entry : undefined

/**
 * The protocol over a `Map`, with `Clock` time (so `TestClock` drives its expiries): the breakers of
 * one process that share the store share their state, exactly as replicas do over Redis.
 *
 * @internal
 */
export const memoryBackend = (): Backend => {
  const states = new Map<string, MemoryState>()
  const stateOf = (name: string): MemoryState => {
    let state = states.get(name)
    if (state === undefined) {
      state = { failures: undefined, open: undefined, probe: undefined, closed: undefined, listeners: new Set() }
      states.set(name, state)
    }
    return state
  }
  const withState = <A>(name: string, f: (state: MemoryState, now: number) => A): Effect.Effect<A> =>
    Effect.map(Clock.currentTimeMillis, (now) => f(stateOf(name), now))
  const publish = (state: MemoryState, message: Message, now: number): void => {
    for (const listener of state.listeners) listener(message, now)
  }
  const timed = (open: Expiring<Mark> | undefined, now: number): TimedMark | undefined => {
    const current = live(open, now)
    return current === undefined ? undefined : { mark: current.value, ttl: current.expiresAt - now }
  }
  return {
    kind: "memory",
    recordFailure: (name, windowMillis) =>
      withState(name, (state, now) => {
        const current = live(state.failures, now)
        state.failures = current === undefined
          ? { value: 1, expiresAt: now + windowMillis }
          : { value: current.value + 1, expiresAt: current.expiresAt }
        return { failures: state.failures.value, open: timed(state.open, now) }
      }),
    endStreak: (name) =>
      withState(name, (state) => {
        state.failures = undefined
      }),
    open: (name, mark, ttl, owner) =>
      withState(name, (state, now) => {
        state.open = { value: mark, expiresAt: now + ttl }
        state.failures = undefined
        if (live(state.probe, now)?.value === owner) state.probe = undefined
        publish(state, { _tag: "Open", mark, ttl }, now)
      }),
    claim: (name, owner, ttl, openedAt) =>
      withState(name, (state, now): Claim => {
        const open = timed(state.open, now)
        if (open !== undefined) return { _tag: "Open", open }
        const closed = live(state.closed, now)
        if (closed !== undefined && closed.value > openedAt) return { _tag: "Closed", since: closed.value }
        const probe = live(state.probe, now)
        if (probe === undefined || probe.value === owner) {
          state.probe = { value: owner, expiresAt: now + ttl }
          return { _tag: "Claimed" }
        }
        return { _tag: "Busy", ttl: probe.expiresAt - now }
      }),
    close: (name, since, ttl) =>
      withState(name, (state, now) => {
        state.open = undefined
        state.failures = undefined
        state.probe = undefined
        state.closed = { value: since, expiresAt: now + ttl }
        publish(state, { _tag: "Closed", since }, now)
      }),
    read: (name) =>
      withState(name, (state, now) => {
        const probe = live(state.probe, now)
        return {
          open: timed(state.open, now),
          probe: probe === undefined ? undefined : { owner: probe.value, ttl: probe.expiresAt - now },
          closed: live(state.closed, now)?.value
        }
      }),
    listen: (name, onMessage) =>
      Effect.acquireRelease(
        Effect.sync(() => stateOf(name).listeners.add(onMessage)),
        () => Effect.sync(() => stateOf(name).listeners.delete(onMessage))
      ),
    ping: Effect.void
  }
}
