/**
 * The health monitor's fiber and state machine.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type * as Api from "../Api.ts"
import type * as HealthMonitor from "../HealthMonitor.ts"
import { IdServiceBreakers, IdServiceClient } from "../IdServiceClient.ts"
import { IdServiceConfig } from "../IdServiceConfig.ts"
import type * as IdServiceError from "../IdServiceError.ts"
import * as Observability from "../Observability.ts"

type Result = "ok" | "degraded" | "failed"

/** One check and what it found. */
interface Outcome {
  readonly result: Result
  readonly check: Observability.HealthCheck
}

/** Everything the monitor knows, changed only by one atomic `modifyEffect`. */
interface Track {
  readonly connection: Observability.ConnectionState
  readonly lastCheck: Observability.HealthCheck | undefined
  readonly checks: number
  readonly failures: number
  /** When the current outage was found (the first failed check); `undefined` while the service answers. */
  readonly downSince: number | undefined
  /** Failed checks in the current outage. */
  readonly outageFailures: number
}

const initial: Track = {
  connection: "Unchecked",
  lastCheck: undefined,
  checks: 0,
  failures: 0,
  downSince: undefined,
  outageFailures: 0
}

const isUp = (outcome: Outcome): boolean => outcome.result !== "failed"

const isDown = (outcome: Outcome): boolean => outcome.result === "failed"

/**
 * The state a check leads to. A failure moves an answering (or not yet checked) connection to
 * `Disconnected` and leaves a lost one as it is.
 */
const afterCheck = (track: Track, outcome: Outcome, now: number): Track => {
  const up = isUp(outcome)
  return {
    connection: outcome.result === "ok"
      ? "Connected"
      : outcome.result === "degraded"
      ? "Degraded"
      : track.connection === "Connected" || track.connection === "Degraded" || track.connection === "Unchecked"
      ? "Disconnected"
      : track.connection,
    lastCheck: outcome.check,
    checks: track.checks + 1,
    failures: up ? track.failures : track.failures + 1,
    downSince: up ? undefined : track.downSince ?? now,
    outageFailures: up ? 0 : track.outageFailures + 1
  }
}

const describeFailure = (cause: Cause.Cause<IdServiceError.IdServiceError>): string =>
  Option.match(Cause.failureOption(cause), {
    onSome: (error) => `${error._tag}: ${error.message}`,
    onNone: () => Cause.isInterruptedOnly(cause) ? "interrupted" : "defect in the health request"
  })

const classify = (exit: Exit.Exit<Api.HealthResponse, IdServiceError.IdServiceError>): [Result, string] =>
  Exit.isSuccess(exit)
    ? [exit.value.status === "ok" ? "ok" : "degraded", exit.value.status]
    : ["failed", describeFailure(exit.cause)]

const logChange = (from: Observability.ConnectionState, to: Observability.ConnectionState, detail: string) => {
  const annotations = { from, to, detail }
  switch (to) {
    case "Connected":
      // The first connection is routine; coming back after trouble is logged at Info elsewhere.
      return (from === "Disconnected" || from === "Reconnecting" || from === "Unchecked"
        ? Effect.logDebug
        : Effect.logInfo)(
          "ChittyID service connected"
        ).pipe(Effect.annotateLogs(annotations))
    case "Degraded":
      return Effect.logWarning("ChittyID service degraded").pipe(Effect.annotateLogs(annotations))
    case "Disconnected":
      return Effect.logWarning("ChittyID service unreachable").pipe(Effect.annotateLogs(annotations))
    case "Reconnecting":
      return Effect.logDebug("reconnecting to the ChittyID service").pipe(Effect.annotateLogs(annotations))
    case "Unchecked":
      return Effect.void
  }
}

/**
 * The reconnect delays: `base`, `2·base`, `4·base` …, never more than `max` (the union with
 * `spaced(max)` takes the shorter delay, also once the exponent overflows to an infinite duration).
 *
 * @internal
 */
export const backoff = (
  base: Duration.DurationInput,
  max: Duration.DurationInput
): Schedule.Schedule<[Duration.Duration, number]> =>
  Schedule.exponential(base).pipe(Schedule.union(Schedule.spaced(max)))

/**
 * Whether {@link make} starts the polling fiber: `false` builds the monitor on demand (request-scoped
 * runtimes such as Workers), where nothing runs between calls and only `checkNow` checks.
 *
 * @internal
 */
export const background: FiberRef.FiberRef<boolean> = globalValue(
  "effect-chittyid/HealthMonitor/background",
  () => FiberRef.unsafeMake(true)
)

/** @internal */
export const make: Effect.Effect<
  HealthMonitor.Service,
  never,
  IdServiceClient | IdServiceBreakers | IdServiceConfig | Scope.Scope
> = Effect.gen(function*() {
  const settings = (yield* IdServiceConfig).health
  const client = yield* IdServiceClient
  const breakers = yield* IdServiceBreakers
  // Each breaker once (one may judge both operations).
  const distinctBreakers = breakers.mint === breakers.validate ? [breakers.mint] : [breakers.mint, breakers.validate]
  const track = yield* SubscriptionRef.make(initial)
  const events = yield* Effect.acquireRelease(
    PubSub.sliding<Observability.ClientEvent>(Observability.eventBuffer),
    PubSub.shutdown
  )
  const counters: Record<Result, Metric.Metric.Counter<number>> = {
    ok: Metric.tagged(Observability.metrics.healthChecks, "chittyid.health.result", "ok"),
    degraded: Metric.tagged(Observability.metrics.healthChecks, "chittyid.health.result", "degraded"),
    failed: Metric.tagged(Observability.metrics.healthChecks, "chittyid.health.result", "failed")
  }

  /** Publishes and logs what a step changed; runs inside the step, so events keep their order. */
  const announce = (from: Track, to: Track, now: number, detail: string): Effect.Effect<void> =>
    Effect.gen(function*() {
      if (from.connection !== to.connection) {
        yield* PubSub.publish(
          events,
          Observability.ClientEvent.ConnectionChanged({ from: from.connection, to: to.connection, at: now })
        )
        yield* logChange(from.connection, to.connection, detail)
      }
      // The service answers `ok`: a breaker whose open period (with its backoff) has run out
      // half-opens now, visibly, instead of on the next call. Never earlier: `/health` being fine
      // says nothing about minting, and cutting the open period short would hammer a failing mint.
      if (to.connection === "Connected") yield* Effect.forEach(distinctBreakers, (breaker) => breaker.state)
      if (from.downSince !== undefined && to.downSince === undefined) {
        const downForMs = now - from.downSince
        yield* PubSub.publish(
          events,
          Observability.ClientEvent.Reconnected({ attempts: from.outageFailures, downForMs, at: now })
        )
        yield* Effect.logInfo("ChittyID service reachable again").pipe(
          Effect.annotateLogs({ attempts: from.outageFailures, downForMs })
        )
      }
    })

  /** One atomic step of the state machine, its events published inside it; never cut short. */
  const step = (f: (track: Track, now: number) => Track, detail: string): Effect.Effect<void> =>
    SubscriptionRef.updateEffect(track, (current) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const next = f(current, now)
        return Effect.as(announce(current, next, now, detail), next)
      })).pipe(Effect.uninterruptible)

  /** One `GET /health`, recorded. */
  const check: Effect.Effect<Outcome> = Effect.gen(function*() {
    const at = yield* Clock.currentTimeMillis
    const started = yield* Clock.currentTimeNanos
    const exit = yield* Effect.exit(client.health(settings.timeout))
    const latencyMs = Number((yield* Clock.currentTimeNanos) - started) / 1_000_000
    const [result, detail] = classify(exit)
    const outcome: Outcome = { result, check: { at, ok: result === "ok", latencyMs, detail } }
    yield* Metric.increment(counters[result])
    yield* Effect.logDebug("health check").pipe(Effect.annotateLogs({ result, latencyMs, detail }))
    yield* step((current, now) => afterCheck(current, outcome, now), detail)
    return outcome
  })

  /** A probe after a failure: the state says `Reconnecting` while it runs. */
  const probe = Effect.zipRight(
    step(
      (current) => current.connection === "Disconnected" ? { ...current, connection: "Reconnecting" } : current,
      "probing"
    ),
    check
  )

  // While the service answers: a check every `interval`, until one fails.
  const watching = Schedule.spaced(settings.interval).pipe(Schedule.whileInput(isUp), Schedule.passthrough)
  // After a failure: probes with backoff until one is answered.
  const reconnecting = backoff(settings.reconnectBase, settings.reconnectMax).pipe(
    Schedule.whileInput(isDown),
    Schedule.passthrough
  )
  /** Alternates the two phases forever; each phase ends with the check that starts the next. */
  const cycle = (last: Outcome): Effect.Effect<never> =>
    Effect.flatMap(
      isUp(last) ? Effect.scheduleFrom(check, last, watching) : Effect.scheduleFrom(probe, last, reconnecting),
      cycle
    )

  const annotate = Effect.annotateLogs({ module: "HealthMonitor" })
  // The first check waits one interval, like every later one: building the layer sends no request.
  if (yield* FiberRef.get(background)) {
    yield* Effect.sleep(settings.interval).pipe(
      Effect.zipRight(check),
      Effect.flatMap(cycle),
      annotate,
      Effect.forkScoped
    )
  }

  return {
    state: Effect.map(SubscriptionRef.get(track), (t) => t.connection),
    changes: track.changes.pipe(Stream.map((t) => t.connection), Stream.changes),
    lastCheck: Effect.map(SubscriptionRef.get(track), (t) => t.lastCheck),
    checkNow: Effect.map(check, (outcome) => outcome.check).pipe(annotate),
    events: Stream.fromPubSub(events),
    stats: Effect.map(SubscriptionRef.get(track), (t) => ({
      checks: t.checks,
      failures: t.failures,
      connection: t.connection
    }))
  } satisfies HealthMonitor.Service
})
