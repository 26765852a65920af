/**
 * The `fleet-outage` chaos scenario: four client processes (bench/chaos/fleetReplica.ts) share their
 * breakers through one Redis (a redis-server of the scenario's own: free loopback port, no
 * persistence, its folder removed at the end) and mint at a steady pace while the service goes down
 * and comes back. The same four processes then run the same outage with breakers of their own, for
 * comparison. Last, the four mint as fast as they can on `Fleet.layerRedis` with one mint rate limit
 * (`limitedMints` per hour, failing when reached): the fleet shares the one window.
 *
 * Times are the machine's wall clock (`Date.now()`, one clock for every process): breaker transitions
 * as each replica published them, and each mint request as it was handed to undici.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn } from "node:child_process"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import { startRedis } from "../../test/redisServer.ts"
import { type Call, figures as computeFigures, percentile, round, type Server } from "./harness.ts"
import { atLeast, atMost, exactly, result, type Scenario, settingsOf, type Size, type Target } from "./scenarios.ts"

const root = fileURLToPath(new URL("../..", import.meta.url))

const replicas = 4

/**
 * The store's command timeout in the replicas: longer than the default 100 ms, because the four
 * replicas, Redis and the server share a machine that may be busy, and a timeout is a fallback to
 * local breakers (counted, and a target of its own), not what this scenario is about.
 */
const commandTimeoutMs = 1_000

/** The fleet's mint rate limit in the last phase: per hour, so the whole phase is one window. */
const limitedMints = 50

const Line = Schema.parseJson(Schema.Union(
  Schema.Struct({ type: Schema.Literal("ready") }),
  Schema.Struct({
    type: Schema.Literal("transition"),
    mode: Schema.Literal("shared", "local", "limited"),
    from: Schema.String,
    to: Schema.String,
    reason: Schema.String,
    at: Schema.Number
  }),
  Schema.Struct({
    type: Schema.Literal("done"),
    mode: Schema.Literal("shared", "local", "limited"),
    attempts: Schema.Array(Schema.Number),
    calls: Schema.Array(Schema.Struct({
      callId: Schema.String,
      ms: Schema.Number,
      chittyId: Schema.optional(Schema.String),
      failure: Schema.optional(Schema.String)
    })),
    fallbacks: Schema.Array(Schema.String)
  })
))
type Line = typeof Line.Type
type Transition = Extract<Line, { type: "transition" }>
type Done = Extract<Line, { type: "done" }>

/** A replica process and what it printed so far. */
interface Replica {
  readonly child: ChildProcess
  readonly lines: Array<Line>
  stderr: string
  readonly send: (command: string) => Effect.Effect<void>
}

const spawnReplica = (
  server: Server,
  redisUrl: string,
  openMs: number
): Effect.Effect<Replica, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [
        "--import",
        "tsx",
        "bench/chaos/fleetReplica.ts",
        "--server",
        server.process.url,
        "--redis",
        redisUrl,
        "--prefix",
        "chaos-fleet",
        "--open",
        String(openMs),
        "--command-timeout",
        String(commandTimeoutMs),
        "--limit",
        String(limitedMints)
      ], {
        cwd: root,
        env: { ...process.env, CHITTY_ID_TOKEN: Redacted.value(server.process.token) },
        stdio: ["pipe", "pipe", "pipe"]
      })
      const replica: Replica = {
        child,
        lines: [],
        stderr: "",
        send: (command) => Effect.sync(() => child.stdin?.write(`${command}\n`))
      }
      readline.createInterface({ input: child.stdout! }).on("line", (raw) => {
        const decoded = Schema.decodeUnknownEither(Line)(raw)
        if (decoded._tag === "Right") replica.lines.push(decoded.right)
      })
      child.stderr?.on("data", (chunk: Buffer) => {
        replica.stderr = (replica.stderr + chunk.toString("utf8")).slice(-2048)
      })
      return replica
    }),
    (replica) =>
      Effect.async<void>((resume) => {
        if (replica.child.exitCode !== null || replica.child.signalCode !== null) return resume(Effect.void)
        const timer = setTimeout(() => replica.child.kill("SIGKILL"), 5_000)
        replica.child.once("exit", () => {
          clearTimeout(timer)
          resume(Effect.void)
        })
        replica.child.stdin?.end("exit\n")
      })
  )

/** Waits (polling, up to `seconds`) until `ok` holds; `false` when it never did. */
const until = (ok: () => boolean, seconds: number): Effect.Effect<boolean> =>
  Effect.sync(ok).pipe(
    Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("5 millis") }),
    Effect.as(true),
    Effect.timeoutTo({ duration: `${seconds} seconds`, onSuccess: (done) => done, onTimeout: () => false })
  )

const transitionsOf = (replica: Replica, mode: string, from: number): ReadonlyArray<Transition> =>
  replica.lines.flatMap((line) => line.type === "transition" && line.mode === mode && line.at >= from ? [line] : [])

const firstAt = (transitions: ReadonlyArray<Transition>, to: string, after = 0): number | undefined =>
  transitions.find((t) => t.to === to && t.at >= after)?.at

/** What one outage did to the fleet, from the replicas' own records. */
interface Phase {
  readonly mode: "shared" | "local"
  readonly calls: ReadonlyArray<Call>
  readonly attempts: ReadonlyArray<ReadonlyArray<number>>
  readonly outageAt: number
  /** The first replica's opening, the last one's (the fleet rejects as one from then on). */
  readonly firstOpenAt: number
  readonly allOpenAt: number
  /** The first half-open breaker, and each replica's closing. */
  readonly firstHalfOpenAt: number
  readonly closedAt: ReadonlyArray<number>
  readonly fallbacks: ReadonlyArray<string>
  readonly complete: boolean
}

const runPhase = (
  server: Server,
  fleet: ReadonlyArray<Replica>,
  mode: "shared" | "local"
): Effect.Effect<Phase> =>
  Effect.gen(function*() {
    const started = Date.now()
    yield* Effect.forEach(fleet, (r) => r.send(`go ${mode}`), { discard: true })
    yield* Effect.sleep("300 millis") // all well: every replica mints
    const outageAt = Date.now()
    yield* server.setFaults({ outage: { mode: "refuse", endpoints: ["mint"] } })
    const opened = yield* until(
      () => fleet.every((r) => firstAt(transitionsOf(r, mode, outageAt), "Open") !== undefined),
      15
    )
    // the service is back: the open period runs out, one probe, closed
    yield* server.setFaults({ outage: null })
    const allOpenAt = Math.max(...fleet.map((r) => firstAt(transitionsOf(r, mode, outageAt), "Open") ?? Infinity))
    const closed = yield* until(
      () => fleet.every((r) => firstAt(transitionsOf(r, mode, outageAt), "Closed", allOpenAt) !== undefined),
      15
    )
    yield* Effect.sleep("200 millis")
    const doneBefore = fleet.map((r) => r.lines.filter((l) => l.type === "done").length)
    yield* Effect.forEach(fleet, (r) => r.send("stop"), { discard: true })
    yield* until(
      () => fleet.every((r, i) => r.lines.filter((l) => l.type === "done").length > (doneBefore[i] ?? 0)),
      15
    )
    const done = fleet.map((r) => r.lines.filter((l): l is Done => l.type === "done" && l.mode === mode).at(-1))
    const transitions = fleet.map((r) => transitionsOf(r, mode, started))
    const opens = transitions.map((t) => firstAt(t, "Open", outageAt) ?? Infinity)
    return {
      mode,
      calls: done.flatMap((d) =>
        (d?.calls ?? []).map((c): Call => ({
          callId: c.callId,
          ms: c.ms,
          chittyId: c.chittyId,
          failure: c.failure
        }))
      ),
      attempts: done.map((d) => d?.attempts ?? []),
      outageAt,
      firstOpenAt: Math.min(...opens),
      allOpenAt: Math.max(...opens),
      firstHalfOpenAt: Math.min(...transitions.map((t) => firstAt(t, "HalfOpen", outageAt) ?? Infinity)),
      closedAt: transitions.map((t) => firstAt(t, "Closed", outageAt) ?? Infinity),
      fallbacks: done.flatMap((d) => d?.fallbacks ?? []),
      complete: opened && closed && done.every((d) => d !== undefined)
    }
  })

/** The fleet minting flat out for `seconds` under one shared rate limit. */
const runLimited = (server: Server, fleet: ReadonlyArray<Replica>, seconds: number) =>
  Effect.gen(function*() {
    const before = yield* server.counts
    const doneBefore = fleet.map((r) => r.lines.filter((l) => l.type === "done").length)
    yield* Effect.forEach(fleet, (r) => r.send("go limited"), { discard: true })
    yield* Effect.sleep(`${seconds} seconds`)
    yield* Effect.forEach(fleet, (r) => r.send("stop"), { discard: true })
    const complete = yield* until(
      () => fleet.every((r, i) => r.lines.filter((l) => l.type === "done").length > (doneBefore[i] ?? 0)),
      15
    )
    const after = yield* server.counts
    const calls = fleet.flatMap((r) =>
      r.lines.filter((l): l is Done => l.type === "done" && l.mode === "limited").at(-1)?.calls ?? []
    )
    return {
      complete,
      calls: calls.length,
      minted: calls.filter((c) => c.chittyId !== undefined).length,
      refused: calls.filter((c) => c.failure === "RateLimited").length,
      requests: after.requests.mint - before.requests.mint,
      fallbacks: fleet.flatMap((r) =>
        r.lines.filter((l): l is Done => l.type === "done" && l.mode === "limited").at(-1)?.fallbacks ?? []
      )
    }
  })

const between = (times: ReadonlyArray<number>, from: number, to: number): number =>
  times.filter((t) => t >= from && t < to).length

/** The phase's requests: to open the fleet's breaker, while it was open, its probes, during the outage. */
const countsOf = (phase: Phase) => {
  const all = phase.attempts.flat()
  return {
    toOpen: between(all, phase.outageAt, phase.firstOpenAt),
    // requests a replica sent after another's breaker opened, before it learned of it
    propagating: between(all, phase.firstOpenAt, phase.allOpenAt),
    whileOpen: between(all, phase.allOpenAt, phase.firstHalfOpenAt),
    // each replica's requests from the first half-open breaker until its own breaker closed
    probes: phase.attempts.reduce(
      (n, times, i) => n + between(times, phase.firstHalfOpenAt, phase.closedAt[i] ?? Infinity),
      0
    ),
    outage: between(all, phase.outageAt, Math.max(...phase.closedAt))
  }
}

/** The scenario. */
export const fleetOutage: Scenario = {
  name: "fleet-outage",
  description: `${replicas} client processes share their breakers on one Redis; the service goes down and comes back`,
  run: (server, size: Size) =>
    Effect.gen(function*() {
      const openMs = size === "quick" ? 1_500 : 3_000
      const input = {
        requestTimeout: "1 second",
        timeout: "5 seconds",
        retry: { maxRetries: 0 },
        health: { interval: "1 hour" },
        breaker: { consecutiveFailures: 5, openDuration: `${openMs} millis`, openBackoffFactor: 1 }
      } as const
      const redis = yield* Effect.either(startRedis)
      if (redis._tag === "Left") {
        return result(
          fleetOutage,
          computeFigures({ calls: [], log: [], requestsSent: 0, attempts: 0 }),
          settingsOf(
            input,
            { calls: 0, concurrency: replicas }
          ),
          [exactly("redis-server started", redis.left.message, "yes")]
        )
      }
      yield* server.reset
      const fleet = yield* Effect.forEach(
        Array.from({ length: replicas }),
        () => spawnReplica(server, redis.right.url, openMs),
        { concurrency: "unbounded" }
      )
      const ready = yield* until(() => fleet.every((r) => r.lines.some((l) => l.type === "ready")), 60)
      if (!ready) {
        return yield* Effect.dieMessage(
          `fleet-outage: the replicas did not start: ${fleet.map((r) => r.stderr.trim()).join(" | ")}`
        )
      }

      const before = yield* server.counts
      const shared = yield* runPhase(server, fleet, "shared")
      const after = yield* server.counts
      const log = yield* server.mintLog
      const local = yield* runPhase(server, fleet, "local")
      const limited = yield* runLimited(server, fleet, size === "quick" ? 1 : 2)
      const s = countsOf(shared)
      const l = countsOf(local)
      const figures = computeFigures({
        calls: shared.calls,
        log,
        requestsSent: after.requests.mint + after.requests.validate - before.requests.mint - before.requests.validate,
        attempts: shared.attempts.flat().length
      })
      const rejections = shared.calls.filter((c) => c.failure === "CircuitOpen").map((c) => c.ms)
      const targets: Array<Target> = [
        exactly(
          "both outages and the limited run ran to the end",
          shared.complete && local.complete && limited.complete ? "yes" : "no",
          "yes"
        ),
        exactly("requests while the fleet's breaker was open", s.whileOpen, 0),
        exactly("probes fleet-wide until closed", s.probes, 1),
        // the failures that open it, and the calls the other replicas had in flight then
        atMost("requests to open the fleet's breaker", s.toOpen, input.breaker.consecutiveFailures + replicas - 1),
        exactly("Redis fallbacks", shared.fallbacks.length + limited.fallbacks.length, 0),
        atMost(`mints across the fleet (limit ${limitedMints} per window)`, limited.minted, limitedMints),
        atMost("mint requests across the fleet under the limit", limited.requests, limitedMints),
        atLeast("calls refused RateLimited (the limit was reached)", limited.refused, 1),
        exactly("duplicates", figures.duplicates, 0)
      ]
      return result(
        fleetOutage,
        figures,
        settingsOf(input, { calls: figures.calls, concurrency: replicas }, {
          outage: { mode: "refuse", endpoints: ["mint"] }
        }, { outage: null }),
        targets,
        {
          replicas,
          openMs,
          commandTimeoutMs,
          requestsToOpen: s.toOpen,
          requestsWhilePropagating: s.propagating,
          propagationMs: round(shared.allOpenAt - shared.firstOpenAt, 1),
          requestsWhileOpen: s.whileOpen,
          probes: s.probes,
          outageRequests: s.outage,
          rejectP50Ms: round(percentile(rejections, 50), 3),
          rejectP99Ms: round(percentile(rejections, 99), 3),
          withoutStoreRequestsToOpen: l.toOpen + l.propagating,
          withoutStoreProbes: l.probes,
          withoutStoreOutageRequests: l.outage,
          limitedCalls: limited.calls,
          limitedMinted: limited.minted,
          limitedRefused: limited.refused,
          limitedRequests: limited.requests,
          fallbackReasons: [...new Set([...shared.fallbacks, ...limited.fallbacks])].join("; ") || "none"
        }
      )
    })
}
