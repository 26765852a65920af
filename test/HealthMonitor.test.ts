import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  Context,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  Metric,
  Redacted,
  Ref,
  Schedule,
  Scope,
  Stream,
  TestClock
} from "effect"
import * as CircuitBreaker from "../src/CircuitBreaker.ts"
import { HealthMonitor } from "../src/HealthMonitor.ts"
import { IdServiceBreakers, IdServiceClient } from "../src/IdServiceClient.ts"
import { IdServiceConfig } from "../src/IdServiceConfig.ts"
import * as IdServiceError from "../src/IdServiceError.ts"
import * as internal from "../src/internal/healthMonitor.ts"
import * as Observability from "../src/Observability.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"

// -----------------------------------------------------------------------------
// Harness: a fake client whose /health answers as the test says, counting calls on the TestClock,
// the real circuit breaker, and the monitor built in a scope the test controls.
// -----------------------------------------------------------------------------

/** What the fake service does on `GET /health`. */
type Mode = "ok" | "degraded" | "down" | "hang"

interface Harness {
  readonly monitor: HealthMonitor["Type"]
  readonly breaker: CircuitBreaker.CircuitBreaker
  readonly setMode: (mode: Mode) => Effect.Effect<void>
  /** TestClock time of each `/health` call. */
  readonly calls: Effect.Effect<ReadonlyArray<number>>
  /** The timeouts the monitor passed to `health`, in ms. */
  readonly timeouts: Effect.Effect<ReadonlyArray<number>>
  /** Health calls interrupted while in flight. */
  readonly interrupted: Effect.Effect<number>
  /** The scope the monitor's layer lives in. */
  readonly scope: Scope.CloseableScope
}

const fakeClient = (
  mode: Ref.Ref<Mode>,
  calls: Ref.Ref<ReadonlyArray<number>>,
  timeouts: Ref.Ref<ReadonlyArray<number>>,
  interrupted: Ref.Ref<number>
) =>
  Layer.succeed(IdServiceClient, {
    mint: () => Effect.dieMessage("mint is not used by the health monitor"),
    validate: () => Effect.dieMessage("validate is not used by the health monitor"),
    replaceFallback: () => Effect.dieMessage("replaceFallback is not used by the health monitor"),
    health: (timeout) =>
      Effect.gen(function*() {
        const now = yield* TestClock.currentTimeMillis
        yield* Ref.update(calls, (times) => [...times, now])
        yield* Ref.update(timeouts, (all) => [...all, timeout === undefined ? -1 : Duration.toMillis(timeout)])
        switch (yield* Ref.get(mode)) {
          case "ok":
            return { status: "ok", service: "chittyid", version: "test", timestamp: new Date(now).toISOString() }
          case "degraded":
            return { status: "degraded", service: "chittyid", version: "test", timestamp: new Date(now).toISOString() }
          case "down":
            return yield* new IdServiceError.ConnectionError({ message: "connection refused" })
          case "hang":
            return yield* Effect.never.pipe(Effect.onInterrupt(() => Ref.update(interrupted, (n) => n + 1)))
        }
      }),
    retries: Stream.empty,
    stats: Effect.succeed({ sent: { mint: 0, validate: 0, health: 0 }, failures: {}, retries: 0, keysHonoured: false })
  })

/** Lets the forked fibers run without moving the clock. */
const settle = TestClock.adjust(0)

/**
 * Builds the monitor with a fake service in `initialMode` and a breaker that opens on the first
 * failure and would stay open 10 minutes on its own. The build happens one interval before time 0,
 * so the monitor's first scheduled check is at 0 when this returns (the build itself sends none:
 * see the first test).
 */
const harness = (initialMode: Mode, health: Parameters<typeof IdServiceConfig.layerWith>[0]["health"] = {}) =>
  Effect.gen(function*() {
    const mode = yield* Ref.make<Mode>(initialMode)
    const calls = yield* Ref.make<ReadonlyArray<number>>([])
    const timeouts = yield* Ref.make<ReadonlyArray<number>>([])
    const interrupted = yield* Ref.make(0)
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const interval = Duration.toMillis(health.interval ?? Duration.seconds(30))
    yield* TestClock.setTime(-interval)
    const dependencies = Layer.mergeAll(
      fakeClient(mode, calls, timeouts, interrupted),
      IdServiceBreakers.layerShared.pipe(
        Layer.provideMerge(CircuitBreaker.layer({ consecutiveFailures: 1, openDuration: "10 minutes" }))
      ),
      IdServiceConfig.layerWith({ url: "http://127.0.0.1:1", health })
    )
    const context = yield* Layer.buildWithScope(
      HealthMonitor.layer.pipe(Layer.provideMerge(dependencies)),
      scope
    ).pipe(Effect.orDie)
    yield* settle
    if ((yield* Ref.get(calls)).length > 0) return yield* Effect.dieMessage("the build sent a health check")
    yield* TestClock.adjust(interval)
    return {
      monitor: Context.get(context, HealthMonitor),
      breaker: Context.get(context, CircuitBreaker.CircuitBreaker),
      setMode: (next) => Ref.set(mode, next),
      calls: Ref.get(calls),
      timeouts: Ref.get(timeouts),
      interrupted: Ref.get(interrupted),
      scope
    } satisfies Harness
  })

/** Collects `events` in the background; read them with the returned effect. */
const recordEvents = (monitor: HealthMonitor["Type"]) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<ReadonlyArray<Observability.ClientEvent>>([])
    yield* monitor.events.pipe(
      Stream.runForEach((event) => Ref.update(seen, (all) => [...all, event])),
      Effect.forkScoped
    )
    yield* settle
    return Ref.get(seen)
  })

const tripBreaker = (breaker: CircuitBreaker.CircuitBreaker) =>
  Effect.gen(function*() {
    yield* Effect.exit(breaker.withBreaker(new IdServiceError.ConnectionError({ message: "boom" })))
    expect((yield* breaker.state)._tag).toBe("Open")
  })

/** A logger that keeps each line as `LEVEL message {annotations}`. */
const capturingLogger = (lines: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ annotations, logLevel, message }) => {
      lines.push(`${logLevel.label} ${[message].flat().join(" ")} ${JSON.stringify(Object.fromEntries(annotations))}`)
    })
  )

const gaps = (times: ReadonlyArray<number>): Array<number> => times.slice(1).map((t, i) => t - times[i]!)

const healthChecks = (result: "ok" | "degraded" | "failed") =>
  Metric.value(Metric.tagged(Observability.metrics.healthChecks, "chittyid.health.result", result)).pipe(
    Effect.map((state) => state.count)
  )

// -----------------------------------------------------------------------------
// Tests
// -----------------------------------------------------------------------------

describe("HealthMonitor", () => {
  it.scoped("building sends no request: the first check comes one interval later (none at 29 s)", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make<ReadonlyArray<number>>([])
      const scope = yield* Scope.make()
      yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
      const context = yield* Layer.buildWithScope(
        HealthMonitor.layer.pipe(
          Layer.provide(
            Layer.merge(
              fakeClient(
                yield* Ref.make<Mode>("ok"),
                calls,
                yield* Ref.make<ReadonlyArray<number>>([]),
                yield* Ref.make(0)
              ),
              IdServiceBreakers.layer
            ).pipe(Layer.provideMerge(IdServiceConfig.layerWith({ url: "http://127.0.0.1:1" })))
          )
        ),
        scope
      ).pipe(Effect.orDie)
      const monitor = Context.get(context, HealthMonitor)
      yield* settle
      expect(yield* calls).toEqual([])
      expect(yield* monitor.state).toBe("Unchecked")
      yield* TestClock.adjust("29 seconds")
      expect(yield* calls).toEqual([])
      yield* TestClock.adjust("1 second")
      expect(yield* calls).toEqual([30_000])
      expect(yield* monitor.state).toBe("Connected")
    }))

  it.scoped("checks every 30 s (none at 29 s)", () =>
    Effect.gen(function*() {
      const { calls, monitor, timeouts } = yield* harness("ok")
      expect(yield* calls).toEqual([0])
      expect(yield* monitor.state).toBe("Connected")

      yield* TestClock.adjust("29 seconds")
      expect(yield* calls).toEqual([0])
      yield* TestClock.adjust("1 second")
      expect(yield* calls).toEqual([0, 30_000])
      yield* TestClock.adjust("90 seconds")
      expect(yield* calls).toEqual([0, 30_000, 60_000, 90_000, 120_000])
      // each check under the configured health timeout
      expect(new Set(yield* timeouts)).toEqual(new Set([5_000]))

      const last = yield* monitor.lastCheck
      expect(last).toMatchObject({ at: 120_000, ok: true, detail: "ok" })
    }))

  it.scoped("goes from Unchecked to Disconnected, and stays so, when the first check fails", () =>
    Effect.gen(function*() {
      const { monitor } = yield* harness("down")
      expect(yield* monitor.state).toBe("Disconnected")
      expect(yield* monitor.lastCheck).toMatchObject({
        at: 0,
        ok: false,
        detail: "ConnectionError: connection refused"
      })
      expect(yield* monitor.stats).toEqual({ checks: 1, failures: 1, connection: "Disconnected" })
    }))

  it.scoped("after a failure probes with backoff 1 s, 2 s, 4 s … capped at 60 s, Reconnecting meanwhile", () =>
    Effect.gen(function*() {
      const { calls, monitor, setMode } = yield* harness("ok")
      yield* setMode("down")
      yield* TestClock.adjust("30 seconds")
      expect(yield* monitor.state).toBe("Disconnected")
      yield* TestClock.adjust("999 millis")
      expect(yield* monitor.state).toBe("Disconnected")
      expect((yield* calls).length).toBe(2)
      yield* TestClock.adjust("1 millis")
      expect(yield* monitor.state).toBe("Reconnecting")
      expect((yield* calls).at(-1)).toBe(31_000)

      yield* TestClock.adjust("10 minutes")
      const times = yield* calls
      expect(times.slice(0, 10)).toEqual([0, 30_000, 31_000, 33_000, 37_000, 45_000, 61_000, 93_000, 153_000, 213_000])
      expect(gaps(times)).toEqual([30_000, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, ...Array(8).fill(60_000)])
      expect(yield* monitor.state).toBe("Reconnecting")
    }))

  it.effect("the backoff stays capped however long the outage (past the exponent's overflow)", () =>
    Effect.gen(function*() {
      // 2000 probes: 2^1024 overflows, ~33 hours of a 60 s cap
      const delays = yield* Schedule.run(
        Schedule.delays(internal.backoff("1 second", "60 seconds")),
        0,
        Array(2_000).fill(0)
      )
      const millis = Chunk.toReadonlyArray(delays).map(Duration.toMillis)
      expect(millis.slice(0, 8)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000])
      expect(millis.length).toBe(2_000)
      expect(new Set(millis.slice(6))).toEqual(new Set([60_000]))
    }))

  it.scoped("uses the configured interval and backoff", () =>
    Effect.gen(function*() {
      const { calls, setMode } = yield* harness("ok", {
        interval: Duration.seconds(10),
        reconnectBase: Duration.millis(250),
        reconnectMax: Duration.seconds(1)
      })
      yield* TestClock.adjust("10 seconds")
      yield* setMode("down")
      yield* TestClock.adjust("10 seconds")
      yield* TestClock.adjust("3 seconds")
      expect(yield* calls).toEqual([0, 10_000, 20_000, 20_250, 20_750, 21_750, 22_750])
    }))

  it.scoped("on recovery: Connected, Reconnected, the interval resumes; the breaker half-opens only when its open period has run out", () =>
    Effect.gen(function*() {
      const { breaker, calls, monitor, setMode } = yield* harness("ok")
      const events = yield* recordEvents(monitor)
      const transitions = yield* Ref.make<ReadonlyArray<CircuitBreaker.Transition>>([])
      yield* breaker.transitions.pipe(
        Stream.runForEach((t) => Ref.update(transitions, (all) => [...all, t])),
        Effect.forkScoped
      )
      yield* settle
      yield* setMode("down")
      yield* TestClock.adjust("30 seconds") // fails: Disconnected
      yield* tripBreaker(breaker) // the calls failed too
      yield* TestClock.adjust("3 seconds") // probes at 31 s and 33 s fail
      expect(yield* monitor.state).toBe("Reconnecting")
      expect((yield* breaker.state)._tag).toBe("Open")

      yield* setMode("ok")
      yield* TestClock.adjust("4 seconds") // probe at 37 s passes
      expect(yield* calls).toEqual([0, 30_000, 31_000, 33_000, 37_000])
      expect(yield* monitor.state).toBe("Connected")
      // the breaker's own open period (10 minutes) is far from over: /health being fine does not
      // cut it short (a failing mint would be probed again and again)
      expect(yield* breaker.state).toMatchObject({ _tag: "Open", since: 30_000, retryAt: 630_000 })
      const reconnected = (yield* events).filter(Observability.ClientEvent.$is("Reconnected"))
      expect(reconnected).toEqual([
        Observability.ClientEvent.Reconnected({ attempts: 3, downForMs: 7_000, at: 37_000 })
      ])

      // back on the 30 s interval, not the backoff
      yield* TestClock.adjust("29 seconds")
      expect((yield* calls).length).toBe(5)
      yield* TestClock.adjust("1 second")
      expect((yield* calls).at(-1)).toBe(67_000)

      // the check after the open period has run out (at 637 s) half-opens the breaker, before any call
      yield* TestClock.adjust("580 seconds") // to 647 s
      expect((yield* transitions).map((t) => [t.to, t.reason, t.at])).toEqual([
        ["Open", "ConsecutiveFailures", 30_000],
        ["HalfOpen", "OpenElapsed", 637_000]
      ])

      // a later outage starts the backoff from 1 s again
      yield* setMode("down")
      yield* TestClock.adjust("33 seconds")
      expect((yield* calls).slice(25)).toEqual([667_000, 668_000, 670_000, 674_000])
    }))

  it.scoped("answered but not \"ok\" is Degraded: no failure, no backoff, and the breaker is left alone", () =>
    Effect.gen(function*() {
      const { breaker, calls, monitor, setMode } = yield* harness("degraded")
      expect(yield* monitor.state).toBe("Degraded")
      expect(yield* monitor.lastCheck).toMatchObject({ ok: false, detail: "degraded" })
      yield* tripBreaker(breaker)
      yield* TestClock.adjust("60 seconds")
      expect(yield* calls).toEqual([0, 30_000, 60_000])
      expect(yield* monitor.stats).toEqual({ checks: 3, failures: 0, connection: "Degraded" })
      expect((yield* breaker.state)._tag).toBe("Open")

      // fully up again: Connected, but the breaker waits out its own open period
      yield* setMode("ok")
      yield* TestClock.adjust("30 seconds")
      expect(yield* monitor.state).toBe("Connected")
      expect((yield* breaker.state)._tag).toBe("Open")
    }))

  it.scoped("an outage that ends Degraded is a reconnection without half-opening the breaker", () =>
    Effect.gen(function*() {
      const { breaker, monitor, setMode } = yield* harness("down")
      const events = yield* recordEvents(monitor)
      yield* tripBreaker(breaker)
      yield* setMode("degraded")
      yield* TestClock.adjust("1 second")
      expect(yield* monitor.state).toBe("Degraded")
      expect((yield* breaker.state)._tag).toBe("Open")
      expect((yield* events).filter(Observability.ClientEvent.$is("Reconnected"))).toEqual([
        Observability.ClientEvent.Reconnected({ attempts: 1, downForMs: 1_000, at: 1_000 })
      ])
    }))

  it.scoped("emits every change in order", () =>
    Effect.gen(function*() {
      const { monitor, setMode } = yield* harness("down")
      const events = yield* recordEvents(monitor)
      const changes = yield* Ref.make<ReadonlyArray<Observability.ConnectionState>>([])
      yield* monitor.changes.pipe(
        Stream.runForEach((state) => Ref.update(changes, (all) => [...all, state])),
        Effect.forkScoped
      )
      yield* settle

      yield* TestClock.adjust("1 second") // probe fails
      yield* setMode("ok")
      yield* TestClock.adjust("2 seconds") // probe at 3 s passes
      yield* setMode("degraded")
      yield* TestClock.adjust("30 seconds")
      yield* setMode("ok")
      yield* TestClock.adjust("30 seconds")
      yield* setMode("down")
      yield* TestClock.adjust("30 seconds")

      const { ConnectionChanged, Reconnected } = Observability.ClientEvent
      expect(yield* events).toEqual([
        ConnectionChanged({ from: "Disconnected", to: "Reconnecting", at: 1_000 }),
        ConnectionChanged({ from: "Reconnecting", to: "Connected", at: 3_000 }),
        Reconnected({ attempts: 2, downForMs: 3_000, at: 3_000 }),
        ConnectionChanged({ from: "Connected", to: "Degraded", at: 33_000 }),
        ConnectionChanged({ from: "Degraded", to: "Connected", at: 63_000 }),
        ConnectionChanged({ from: "Connected", to: "Disconnected", at: 93_000 })
      ])
      expect(yield* changes).toEqual([
        "Disconnected",
        "Reconnecting",
        "Connected",
        "Degraded",
        "Connected",
        "Disconnected"
      ])
    }))

  it.scoped("checkNow checks at once, updates the state like a scheduled check and keeps the schedule", () =>
    Effect.gen(function*() {
      const { calls, monitor, setMode } = yield* harness("ok")
      const events = yield* recordEvents(monitor)
      yield* TestClock.adjust("10 seconds")
      yield* setMode("down")
      const check = yield* monitor.checkNow
      expect(check).toMatchObject({ at: 10_000, ok: false, detail: "ConnectionError: connection refused" })
      expect(yield* monitor.lastCheck).toEqual(check)
      expect(yield* monitor.state).toBe("Disconnected")
      yield* settle
      expect(yield* events).toEqual([
        Observability.ClientEvent.ConnectionChanged({ from: "Connected", to: "Disconnected", at: 10_000 })
      ])

      yield* setMode("ok")
      expect(yield* monitor.checkNow).toMatchObject({ at: 10_000, ok: true, detail: "ok" })
      expect(yield* monitor.state).toBe("Connected")
      // the scheduled check still comes at 30 s
      yield* TestClock.adjust("20 seconds")
      expect(yield* calls).toEqual([0, 10_000, 10_000, 30_000])
    }))

  it.scoped("stats and the health-check metric count every check by result", () =>
    Effect.gen(function*() {
      const before = {
        ok: yield* healthChecks("ok"),
        degraded: yield* healthChecks("degraded"),
        failed: yield* healthChecks("failed")
      }
      const { monitor, setMode } = yield* harness("ok") // 0 s: ok
      yield* TestClock.adjust("30 seconds") // 30 s: ok
      yield* setMode("degraded")
      yield* TestClock.adjust("30 seconds") // 60 s: degraded
      yield* setMode("down")
      yield* TestClock.adjust("33 seconds") // 90 s, 91 s, 93 s: failed
      yield* monitor.checkNow // failed

      expect(yield* monitor.stats).toEqual({ checks: 7, failures: 4, connection: "Reconnecting" })
      expect({
        ok: (yield* healthChecks("ok")) - before.ok,
        degraded: (yield* healthChecks("degraded")) - before.degraded,
        failed: (yield* healthChecks("failed")) - before.failed
      }).toEqual({ ok: 2, degraded: 1, failed: 4 })
    }))

  it.scoped("closing the scope stops the fiber, interrupts a check in flight and ends the streams", () =>
    Effect.gen(function*() {
      const { calls, interrupted, monitor, scope, setMode } = yield* harness("ok")
      const events = yield* monitor.events.pipe(Stream.runCollect, Effect.fork)
      yield* settle
      yield* setMode("hang")
      yield* TestClock.adjust("30 seconds") // the check at 30 s hangs
      expect(yield* calls).toEqual([0, 30_000])

      yield* Scope.close(scope, Exit.void)
      expect(yield* interrupted).toBe(1)
      expect(Exit.isSuccess(yield* Fiber.await(events))).toBe(true)

      yield* setMode("ok")
      yield* TestClock.adjust("1 hour")
      expect(yield* calls).toEqual([0, 30_000])
    }))

  it.scoped("a closed monitor makes no more checks after an outage either", () =>
    Effect.gen(function*() {
      const { calls, scope } = yield* harness("down")
      yield* TestClock.adjust("3 seconds")
      const before = yield* calls
      expect(before).toEqual([0, 1_000, 3_000])
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust("1 day")
      expect(yield* calls).toEqual(before)
    }))

  it.scopedLive("heals over loopback: the reference server's outage switched on and off", () => {
    const lines: Array<string> = []
    return Effect.gen(function*() {
      const server = yield* Layer.build(ReferenceServer.layer({ seed: 7 })).pipe(
        Effect.map(Context.get(ReferenceServer)),
        Effect.orDie
      )
      const context = yield* Layer.build(
        HealthMonitor.layer.pipe(
          Layer.provideMerge(IdServiceClient.layer),
          Layer.provideMerge(
            Layer.mergeAll(
              NodeHttpClient.layerUndici,
              IdServiceBreakers.layerShared.pipe(
                Layer.provideMerge(CircuitBreaker.layer({ consecutiveFailures: 1, openDuration: "10 minutes" }))
              ),
              IdServiceConfig.layerWith({
                url: server.url,
                token: server.token,
                health: {
                  interval: Duration.millis(100),
                  timeout: Duration.seconds(1),
                  reconnectBase: Duration.millis(20),
                  reconnectMax: Duration.millis(80)
                }
              })
            )
          )
        )
      ).pipe(Effect.orDie)
      const monitor = Context.get(context, HealthMonitor)
      const breaker = Context.get(context, CircuitBreaker.CircuitBreaker)
      const events = yield* monitor.events.pipe(
        Stream.filter(Observability.ClientEvent.$is("Reconnected")),
        Stream.runHead,
        Effect.fork
      )
      const reach = (state: Observability.ConnectionState) =>
        monitor.changes.pipe(
          Stream.filter((s) => s === state),
          Stream.runHead,
          Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error(`never ${state}`) })
        )

      yield* reach("Connected")
      yield* tripBreaker(breaker)
      yield* server.setFaults({ outage: { mode: "refuse", endpoints: ["health"] } })
      yield* reach("Reconnecting")
      expect((yield* monitor.lastCheck)?.ok).toBe(false)
      expect((yield* breaker.state)._tag).toBe("Open")

      yield* server.setFaults({ outage: null })
      yield* reach("Connected")
      // its open period (10 minutes) has not run out: the monitor leaves it open
      expect((yield* breaker.state)._tag).toBe("Open")
      const reconnected = yield* Fiber.join(events)
      expect(reconnected._tag).toBe("Some")
      const stats = yield* monitor.stats
      expect(stats.failures).toBeGreaterThanOrEqual(1)
      expect(stats.checks).toBeGreaterThan(stats.failures)

      // told through Effect's Logger, never with the token
      expect(lines).toContainEqual(expect.stringMatching(/^WARN ChittyID service unreachable .*ConnectionError/))
      expect(lines).toContainEqual(expect.stringMatching(/^INFO ChittyID service reachable again/))
      expect(lines.filter((line) => line.includes(Redacted.value(server.token)))).toEqual([])
    }).pipe(Effect.provide(capturingLogger(lines)))
  })
})
