/**
 * The circuit breaker's state machine as pure functions `(machine, now) => [result, machine]`, so the
 * public module can run every decision inside one `Ref.modify`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as CircuitBreaker from "../CircuitBreaker.ts"
import { CircuitOpen } from "../IdServiceError.ts"
import * as Window from "./circuitBreakerWindow.ts"

// -----------------------------------------------------------------------------
// Settings
// -----------------------------------------------------------------------------

/** @internal */
export interface Settings {
  readonly name: string | undefined
  readonly consecutiveFailures: number
  readonly failureRateThreshold: number
  readonly minimumCalls: number
  readonly window: Window.Spec
  readonly slowCallMillis: number | undefined
  readonly slowCallRateThreshold: number
  readonly openMillis: number
  readonly openBackoffFactor: number
  readonly maxOpenMillis: number
  readonly halfOpenProbes: number
  readonly halfOpenSuccesses: number
  readonly isFailure: (cause: Cause.Cause<unknown>) => boolean
}

const countsEverything = (): boolean => true

const isCount = (n: number): boolean => Number.isInteger(n) && n >= 1

const isRate = (n: number): boolean => !Number.isNaN(n) && n > 0

/**
 * Checks the options and fills in the defaults; `Left` carries a message naming the bad option.
 *
 * @internal
 */
export const resolve = (
  options: CircuitBreaker.Options,
  defaults: typeof CircuitBreaker.defaults
): Either.Either<Settings, string> => {
  const problems: Array<string> = []
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(problem)
  }
  const duration = (key: string, input: Duration.DurationInput): number => {
    const decoded = Duration.decodeUnknown(input)
    if (decoded._tag === "None") {
      problems.push(`${key} must be a duration`)
      return 0
    }
    return Duration.toMillis(decoded.value)
  }

  const consecutiveFailures = options.consecutiveFailures ?? defaults.consecutiveFailures
  check(
    isCount(consecutiveFailures) || consecutiveFailures === Infinity,
    "consecutiveFailures must be a whole number ≥ 1 (or Infinity to disable)"
  )
  const failureRateThreshold = options.failureRateThreshold ?? defaults.failureRateThreshold
  check(isRate(failureRateThreshold), "failureRateThreshold must be a fraction > 0 (above 1 disables the rule)")
  const minimumCalls = options.minimumCalls ?? defaults.minimumCalls
  check(isCount(minimumCalls), "minimumCalls must be a whole number ≥ 1")

  const windowOption = options.window ?? defaults.window
  let window: Window.Spec
  if (windowOption._tag === "Count") {
    check(isCount(windowOption.size), "window size must be a whole number ≥ 1")
    window = { _tag: "Count", size: windowOption.size }
  } else {
    const millis = duration("window", windowOption.duration)
    check(millis > 0 && Number.isFinite(millis), "window duration must be finite and > 0")
    window = { _tag: "Time", millis }
  }

  const slowCallMillis = options.slowCallDuration === undefined
    ? undefined
    : duration("slowCallDuration", options.slowCallDuration)
  check(slowCallMillis === undefined || slowCallMillis >= 0, "slowCallDuration must be ≥ 0")
  const slowCallRateThreshold = options.slowCallRateThreshold ?? defaults.slowCallRateThreshold
  check(isRate(slowCallRateThreshold), "slowCallRateThreshold must be a fraction > 0 (above 1 disables the rule)")

  const openMillis = duration("openDuration", options.openDuration ?? defaults.openDuration)
  check(openMillis >= 0 && Number.isFinite(openMillis), "openDuration must be finite and ≥ 0")
  const openBackoffFactor = options.openBackoffFactor ?? defaults.openBackoffFactor
  check(openBackoffFactor >= 1 && Number.isFinite(openBackoffFactor), "openBackoffFactor must be finite and ≥ 1")
  const maxOpenMillis = duration("maxOpenDuration", options.maxOpenDuration ?? defaults.maxOpenDuration)
  check(maxOpenMillis >= 0 && Number.isFinite(maxOpenMillis), "maxOpenDuration must be finite and ≥ 0")

  const halfOpenProbes = options.halfOpenProbes ?? defaults.halfOpenProbes
  check(isCount(halfOpenProbes), "halfOpenProbes must be a whole number ≥ 1")
  const halfOpenSuccesses = options.halfOpenSuccesses ?? defaults.halfOpenSuccesses
  check(isCount(halfOpenSuccesses), "halfOpenSuccesses must be a whole number ≥ 1")

  if (problems.length > 0) {
    return Either.left(`invalid circuit breaker options: ${problems.join("; ")}`)
  }
  return Either.right({
    name: options.name,
    consecutiveFailures,
    failureRateThreshold,
    minimumCalls,
    window,
    slowCallMillis,
    slowCallRateThreshold,
    openMillis,
    openBackoffFactor,
    maxOpenMillis: Math.max(maxOpenMillis, openMillis),
    halfOpenProbes,
    halfOpenSuccesses,
    isFailure: options.isFailure ?? countsEverything
  })
}

// -----------------------------------------------------------------------------
// Machine
// -----------------------------------------------------------------------------

type Phase =
  | {
    readonly _tag: "Closed"
    readonly since: number
    readonly consecutiveFailures: number
    readonly window: Window.Window
  }
  | {
    readonly _tag: "Open"
    readonly since: number
    readonly retryAt: number
    readonly reason: CircuitBreaker.OpenReason
    readonly rejection: CircuitOpen
  }
  | {
    readonly _tag: "HalfOpen"
    readonly since: number
    /** when the open period that led here began (the `since` of that `Open`) */
    readonly openedAt: number
    readonly probesInFlight: number
    readonly successes: number
    readonly rejection: CircuitOpen
  }
  | {
    readonly _tag: "Isolated"
    readonly since: number
    readonly rejection: CircuitOpen
  }

type Counters = Omit<CircuitBreaker.Stats, "state">

/** @internal */
export interface Machine {
  readonly settings: Settings
  readonly phase: Phase
  /** bumped on every transition: a call finishing under another epoch no longer moves the state */
  readonly epoch: number
  /** trips since the breaker last closed: the open duration backs off with them */
  readonly trips: number
  readonly counters: Counters
  /** the latest transition; a step that changes it has a transition to publish */
  readonly transition: CircuitBreaker.Transition | undefined
}

/**
 * What an admitted call carries to its completion.
 *
 * @internal
 */
export interface Ticket {
  readonly epoch: number
  readonly startedAt: number
  /** Admitted in `HalfOpen`: the call is a probe of the dependency. */
  readonly probe: boolean
  /** For a probe: when the open period it ends began (a shared store compares it with the fleet's close). */
  readonly openedAt?: number
}

/** @internal */
export type Outcome = "success" | "failure" | "ignored" | "interrupted"

const zeroCounters: Counters = {
  calls: 0,
  successes: 0,
  failures: 0,
  ignored: 0,
  interrupted: 0,
  slowCalls: 0,
  rejected: 0,
  opened: 0,
  halfOpened: 0,
  closed: 0,
  isolated: 0
}

const closedPhase = (settings: Settings, now: number): Phase => ({
  _tag: "Closed",
  since: now,
  consecutiveFailures: 0,
  window: Window.empty(settings.window)
})

/** @internal */
export const initial = (settings: Settings, now: number): Machine => ({
  settings,
  phase: closedPhase(settings, now),
  epoch: 0,
  trips: 0,
  counters: zeroCounters,
  transition: undefined
})

const label = (settings: Settings): string =>
  settings.name === undefined ? "circuit breaker" : `circuit breaker "${settings.name}"`

const openMillis = (settings: Settings, trips: number): number =>
  Math.min(settings.openMillis * Math.pow(settings.openBackoffFactor, Math.max(0, trips - 1)), settings.maxOpenMillis)

const transitionCounter = {
  Closed: "closed",
  Open: "opened",
  HalfOpen: "halfOpened",
  Isolated: "isolated"
} as const

const moveTo = (
  machine: Machine,
  phase: Phase,
  reason: CircuitBreaker.TransitionReason,
  now: number,
  trips: number
): Machine => {
  const counter = transitionCounter[phase._tag]
  const transition: CircuitBreaker.Transition = phase._tag === "Open"
    ? { from: machine.phase._tag, to: "Open", at: now, reason, retryAt: phase.retryAt }
    : { from: machine.phase._tag, to: phase._tag, at: now, reason }
  return {
    settings: machine.settings,
    phase,
    epoch: machine.epoch + 1,
    trips,
    counters: bump(machine.counters, counter),
    transition
  }
}

const open = (machine: Machine, reason: CircuitBreaker.OpenReason, now: number): Machine => {
  const trips = machine.trips + 1
  return openUntil(machine, reason, now, now + openMillis(machine.settings, trips), trips, now, "")
}

const openUntil = (
  machine: Machine,
  reason: CircuitBreaker.OpenReason,
  now: number,
  retryAt: number,
  trips: number,
  since: number,
  origin: string
): Machine => {
  const rejection = new CircuitOpen({
    message: `${label(machine.settings)} is open (${reason}${origin}); next probe at ${
      new Date(retryAt).toISOString()
    }`,
    retryAt
  })
  return moveTo(machine, { _tag: "Open", since, retryAt, reason, rejection }, reason, now, trips)
}

const halfOpen = (machine: Machine, reason: CircuitBreaker.TransitionReason, now: number): Machine =>
  moveTo(
    machine,
    {
      _tag: "HalfOpen",
      since: now,
      openedAt: machine.phase._tag === "Open" ? machine.phase.since : now,
      probesInFlight: 0,
      successes: 0,
      rejection: new CircuitOpen({
        message: `${
          label(machine.settings)
        } is half-open and all ${machine.settings.halfOpenProbes} probe(s) are in flight`
      })
    },
    reason,
    now,
    machine.trips
  )

const close = (machine: Machine, reason: CircuitBreaker.TransitionReason, now: number): Machine =>
  moveTo(machine, closedPhase(machine.settings, now), reason, now, 0)

/**
 * Applies the transition that is due without a call: `Open` → `HalfOpen` once the open period has
 * passed.
 *
 * @internal
 */
export const advance = (machine: Machine, now: number): Machine =>
  machine.phase._tag === "Open" && now >= machine.phase.retryAt ? halfOpen(machine, "OpenElapsed", now) : machine

// The machine and its counters are rebuilt field by field (not spread): every call admits and
// completes once, and an object literal of a known shape is several times cheaper than a spread.
const withPhase = (machine: Machine, phase: Phase, counters: Counters = machine.counters): Machine => ({
  settings: machine.settings,
  phase,
  epoch: machine.epoch,
  trips: machine.trips,
  counters,
  transition: machine.transition
})

const withCounters = (machine: Machine, counters: Counters): Machine => withPhase(machine, machine.phase, counters)

/** The counters with `field` one higher (and `slowCalls` too when `slow`). */
const bump = (c: Counters, field: keyof Counters, slow = false): Counters => ({
  calls: field === "calls" ? c.calls + 1 : c.calls,
  successes: field === "successes" ? c.successes + 1 : c.successes,
  failures: field === "failures" ? c.failures + 1 : c.failures,
  ignored: field === "ignored" ? c.ignored + 1 : c.ignored,
  interrupted: field === "interrupted" ? c.interrupted + 1 : c.interrupted,
  slowCalls: slow ? c.slowCalls + 1 : c.slowCalls,
  rejected: field === "rejected" ? c.rejected + 1 : c.rejected,
  opened: field === "opened" ? c.opened + 1 : c.opened,
  halfOpened: field === "halfOpened" ? c.halfOpened + 1 : c.halfOpened,
  closed: field === "closed" ? c.closed + 1 : c.closed,
  isolated: field === "isolated" ? c.isolated + 1 : c.isolated
})

/**
 * Lets a call through (a `Ticket`) or rejects it (the `CircuitOpen` to fail with).
 *
 * @internal
 */
export const admit = (machine: Machine, now: number): readonly [Ticket | CircuitOpen, Machine] => {
  const current = advance(machine, now)
  const phase = current.phase
  switch (phase._tag) {
    case "Closed": {
      return [
        { epoch: current.epoch, startedAt: now, probe: false },
        withCounters(current, bump(current.counters, "calls"))
      ]
    }
    case "HalfOpen": {
      if (phase.probesInFlight < current.settings.halfOpenProbes) {
        return [
          { epoch: current.epoch, startedAt: now, probe: true, openedAt: phase.openedAt },
          withPhase(current, { ...phase, probesInFlight: phase.probesInFlight + 1 }, bump(current.counters, "calls"))
        ]
      }
      return [phase.rejection, withCounters(current, bump(current.counters, "rejected"))]
    }
    case "Open":
    case "Isolated": {
      return [phase.rejection, withCounters(current, bump(current.counters, "rejected"))]
    }
  }
}

/**
 * What a call's exit means to the breaker. Interruptions never count; a predicate that throws counts
 * the failure.
 *
 * @internal
 */
export const classify = (settings: Settings, exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return "success"
  if (Cause.isInterruptedOnly(exit.cause)) return "interrupted"
  try {
    return settings.isFailure(exit.cause) ? "failure" : "ignored"
  } catch {
    return "failure"
  }
}

const tripReason = (
  settings: Settings,
  consecutiveFailures: number,
  window: Window.Window,
  now: number
): CircuitBreaker.OpenReason | undefined => {
  if (consecutiveFailures >= settings.consecutiveFailures) return "ConsecutiveFailures"
  const totals = Window.totals(window, now)
  if (totals.calls === 0 || totals.calls < Window.minimumCalls(window, settings.minimumCalls)) return undefined
  if (totals.failures / totals.calls >= settings.failureRateThreshold) return "FailureRate"
  if (settings.slowCallMillis !== undefined && totals.slowCalls / totals.calls >= settings.slowCallRateThreshold) {
    return "SlowCallRate"
  }
  return undefined
}

/**
 * Records the end of an admitted call and makes the transition it causes.
 *
 * @internal
 */
export const complete = (machine: Machine, ticket: Ticket, outcome: Outcome, now: number): Machine => {
  const settings = machine.settings
  const counted = outcome === "success" || outcome === "failure"
  const slow = counted && settings.slowCallMillis !== undefined && now - ticket.startedAt > settings.slowCallMillis
  const counters = bump(
    machine.counters,
    outcome === "success" ? "successes" : outcome === "failure" ? "failures" : outcome,
    slow
  )
  const current = withCounters(machine, counters)
  const phase = current.phase
  if (ticket.epoch !== current.epoch) {
    // admitted under an earlier state: counted, but it no longer decides anything
    return current
  }
  switch (phase._tag) {
    case "Closed": {
      if (!counted) return current
      const failure = outcome === "failure"
      const consecutiveFailures = failure ? phase.consecutiveFailures + 1 : 0
      const window = Window.record(phase.window, now, failure, slow)
      const next = withPhase(current, { _tag: "Closed", since: phase.since, consecutiveFailures, window })
      const reason = tripReason(settings, consecutiveFailures, window, now)
      return reason === undefined ? next : open(next, reason, now)
    }
    case "HalfOpen": {
      const released = withPhase(current, { ...phase, probesInFlight: phase.probesInFlight - 1 })
      if (!counted) return released
      if (outcome === "failure") return open(released, "ProbeFailed", now)
      if (slow) return open(released, "SlowProbe", now)
      const successes = phase.successes + 1
      return successes >= settings.halfOpenSuccesses
        ? close(released, "ProbesSucceeded", now)
        : { ...released, phase: { ...phase, probesInFlight: phase.probesInFlight - 1, successes } }
    }
    case "Open":
    case "Isolated": {
      return current
    }
  }
}

/** @internal */
export const isolate = (machine: Machine, now: number): Machine =>
  machine.phase._tag === "Isolated"
    ? machine
    : moveTo(
      machine,
      {
        _tag: "Isolated",
        since: now,
        rejection: new CircuitOpen({ message: `${label(machine.settings)} is isolated until released` })
      },
      "Isolate",
      now,
      machine.trips
    )

/** @internal */
export const release = (machine: Machine, now: number): Machine =>
  machine.phase._tag === "Isolated" ? halfOpen(machine, "Release", now) : machine

/** @internal */
export const reset = (machine: Machine, now: number): Machine =>
  machine.phase._tag === "Closed"
    ? { ...machine, phase: closedPhase(machine.settings, now), trips: 0 }
    : close(machine, "Reset", now)

/** @internal */
export const halfOpenNow = (machine: Machine, now: number): Machine =>
  machine.phase._tag === "Open" ? halfOpen(machine, "HalfOpenNow", now) : machine

/**
 * The public snapshot of the state at `now`.
 *
 * @internal
 */
export const snapshot = (machine: Machine, now: number): CircuitBreaker.State => {
  const phase = machine.phase
  switch (phase._tag) {
    case "Closed": {
      const totals = Window.totals(phase.window, now)
      return {
        _tag: "Closed",
        since: phase.since,
        consecutiveFailures: phase.consecutiveFailures,
        windowCalls: totals.calls,
        windowFailures: totals.failures,
        windowSlowCalls: totals.slowCalls
      }
    }
    case "Open": {
      return { _tag: "Open", since: phase.since, retryAt: phase.retryAt, reason: phase.reason, trips: machine.trips }
    }
    case "HalfOpen": {
      return {
        _tag: "HalfOpen",
        since: phase.since,
        probesInFlight: phase.probesInFlight,
        successes: phase.successes,
        trips: machine.trips
      }
    }
    case "Isolated": {
      return { _tag: "Isolated", since: phase.since }
    }
  }
}

/** @internal */
export const stats = (machine: Machine, now: number): CircuitBreaker.Stats => ({
  state: snapshot(machine, now),
  ...machine.counters
})

// -----------------------------------------------------------------------------
// Shared state (CircuitBreakerStore)
// -----------------------------------------------------------------------------

/**
 * What this replica knows of the state its fleet shares (see `CircuitBreakerStore`): nothing, the
 * time the fleet's breaker last closed, its open period (`since` and `reason` are the opener's), or
 * another replica holding the probe claim until `until`. All times are epoch ms.
 *
 * @internal
 */
export type SharedView =
  | { readonly _tag: "Unknown" }
  | { readonly _tag: "Closed"; readonly since: number }
  | {
    readonly _tag: "Open"
    readonly since: number
    readonly retryAt: number
    readonly reason: CircuitBreaker.OpenReason
    readonly trips: number
  }
  | { readonly _tag: "Probing"; readonly until: number }

/** @internal */
export const unknownView: SharedView = { _tag: "Unknown" }

/**
 * The machine after taking the fleet's state in: an open period another replica started is adopted
 * (a closed or half-open breaker opens until the fleet's `retryAt`, an open one waits as long), and a
 * close that came after this breaker opened closes it. An isolated breaker stays isolated.
 *
 * @internal
 */
export const adopt = (machine: Machine, view: SharedView, now: number): Machine => {
  const phase = machine.phase
  switch (view._tag) {
    case "Open": {
      if (view.retryAt <= now) return machine
      const trips = Math.max(machine.trips, view.trips)
      if (phase._tag === "Closed" || (phase._tag === "HalfOpen" && phase.openedAt < view.since)) {
        return openUntil(machine, view.reason, now, view.retryAt, trips, view.since, ", shared by the fleet")
      }
      if (phase._tag === "Open" && phase.retryAt < view.retryAt) {
        // open already: it waits as long as the fleet does, without another transition
        const rejection = new CircuitOpen({
          message: `${label(machine.settings)} is open (${view.reason}, shared by the fleet); next probe at ${
            new Date(view.retryAt).toISOString()
          }`,
          retryAt: view.retryAt
        })
        return { ...machine, trips, phase: { ...phase, retryAt: view.retryAt, rejection } }
      }
      return machine
    }
    case "Closed": {
      if (
        (phase._tag === "Open" && phase.since < view.since) ||
        (phase._tag === "HalfOpen" && phase.openedAt < view.since)
      ) {
        return close(machine, "ProbesSucceeded", now)
      }
      return machine
    }
    case "Probing":
    case "Unknown": {
      return machine
    }
  }
}

/**
 * `admit` with the fleet's state taken in first; while another replica holds the probe claim, a
 * half-open breaker rejects instead of probing.
 *
 * @internal
 */
export const admitShared = (
  machine: Machine,
  view: SharedView,
  now: number
): readonly [Ticket | CircuitOpen, Machine] => {
  const current = advance(adopt(machine, view, now), now)
  if (current.phase._tag === "HalfOpen" && view._tag === "Probing" && view.until > now) {
    return [
      current.phase.rejection,
      withCounters(current, bump(current.counters, "rejected"))
    ]
  }
  return admit(current, now)
}

/**
 * Takes back a probe the fleet did not let this replica send: its slot is freed and the call counts
 * as rejected.
 *
 * @internal
 */
export const unadmit = (machine: Machine, ticket: Ticket): Machine => {
  const phase = machine.phase
  if (!ticket.probe || ticket.epoch !== machine.epoch || phase._tag !== "HalfOpen") return machine
  return {
    ...machine,
    phase: { ...phase, probesInFlight: phase.probesInFlight - 1 },
    counters: { ...machine.counters, calls: machine.counters.calls - 1, rejected: machine.counters.rejected + 1 }
  }
}

/**
 * Opens a closed breaker because the fleet counted `consecutiveFailures` failures in a row.
 *
 * @internal
 */
export const tripShared = (machine: Machine, now: number): Machine =>
  machine.phase._tag === "Closed" ? open(machine, "ConsecutiveFailures", now) : machine

/**
 * The open period to share, when the machine is open.
 *
 * @internal
 */
export const openPeriod = (
  machine: Machine
): Extract<SharedView, { _tag: "Open" }> | undefined =>
  machine.phase._tag === "Open"
    ? {
      _tag: "Open",
      since: machine.phase.since,
      retryAt: machine.phase.retryAt,
      reason: machine.phase.reason,
      trips: machine.trips
    }
    : undefined

/**
 * The window of the fleet's failure count: the breaker's time window (10 s for a count window).
 *
 * @internal
 */
export const sharedWindowMillis = (settings: Settings): number =>
  settings.window._tag === "Time" ? settings.window.millis : 10_000
