/**
 * One replica of the `fleet-outage` chaos scenario (bench/chaos/fleet.ts spawns four): two live
 * `IdService`s against the reference server, one sharing its breakers through Redis (`shared`), one
 * on its own (`local`, the comparison). Driven by lines on stdin:
 *
 * - `go shared` / `go local` / `go limited`: mint with that service, one call every `--pace` ms, until
 * - `stop`: prints `{"type":"done",…}` (the mint attempts' send times, the calls' outcomes);
 * - `exit` (or the end of stdin): closes the services and exits.
 *
 * `limited` is a third service on `Fleet.layerRedis` (its own prefix) with the mint rate limit
 * `--limit` per hour, failing when it is reached: the fleet shares that one window.
 *
 * Every transition of the mint breaker is printed at once as `{"type":"transition",…}`; the first
 * line is `{"type":"ready"}`. The token comes in `CHITTY_ID_TOKEN`.
 */
import * as Api from "effect-chittyid/Api"
import { CircuitBreakerStore } from "effect-chittyid/CircuitBreakerStore"
import * as Fleet from "effect-chittyid/Fleet"
import * as IdService from "effect-chittyid/IdService"
import type * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as readline from "node:readline"
import { parseArgs } from "node:util"
import { recorder } from "../lib/attemptRecorder.ts"
import { undiciPool } from "../lib/undiciPool.ts"

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: {
    server: { type: "string" },
    redis: { type: "string" },
    prefix: { type: "string", default: "chaos" },
    open: { type: "string", default: "2000" },
    pace: { type: "string", default: "5" },
    "command-timeout": { type: "string", default: "100" },
    limit: { type: "string", default: "50" }
  }
})

const print = (line: unknown) => Effect.sync(() => process.stdout.write(`${JSON.stringify(line)}\n`))

type Mode = "shared" | "local" | "limited"

const settings = (): IdServiceConfig.Input => ({
  url: values.server ?? "",
  token: Redacted.make(process.env["CHITTY_ID_TOKEN"] ?? ""),
  requestTimeout: "1 second",
  timeout: "5 seconds",
  // a retry of a call admitted before the opening would reach the server after it: this scenario
  // watches the breaker alone
  retry: { maxRetries: 0 },
  health: { interval: "1 hour" },
  breaker: { consecutiveFailures: 5, openDuration: `${Number(values.open)} millis`, openBackoffFactor: 1 }
})

/** One service of the replica, its mint attempts recorded and its mint transitions printed. */
const service = (mode: Mode) =>
  Effect.gen(function*() {
    const recording = recorder()
    const live = IdService.IdService.layerWith({
      ...settings(),
      transformClient: recording.transformClient,
      ...(mode === "limited"
        ? { rateLimit: { limit: Number(values.limit), window: "1 hour", onExceeded: "fail" } }
        : {})
    }).pipe(Layer.provide(undiciPool(undefined)))
    const commandTimeout = `${Number(values["command-timeout"])} millis` as const
    const context = yield* Layer.build(
      values.redis === undefined || mode === "local"
        ? live
        : mode === "shared"
        ? live.pipe(Layer.provideMerge(CircuitBreakerStore.layerRedis({
          url: values.redis,
          prefix: values.prefix,
          commandTimeout
        })))
        : live.pipe(Layer.provideMerge(Fleet.layerRedis({
          url: values.redis,
          prefix: `${values.prefix}-limited`,
          commandTimeout
        })))
    )
    const ids = yield* Effect.provide(IdService.IdService, context)
    const fallbacks: Array<string> = []
    yield* ids.events.pipe(
      Stream.runForEach((event) => {
        if (event._tag === "FleetFallback") fallbacks.push(event.reason)
        return event._tag === "BreakerTransition" && event.operation === "mint"
          ? print({ type: "transition", mode, from: event.from, to: event.to, reason: event.reason, at: event.at })
          : Effect.void
      }),
      Effect.forkScoped
    )
    yield* Effect.sleep("20 millis") // the merged event sources subscribe as they start
    return { ids, recording, fallbacks: () => fallbacks.splice(0) }
  })

const program = Effect.gen(function*() {
  const services = {
    shared: yield* service("shared"),
    local: yield* service("local"),
    limited: yield* service("limited")
  }
  const commands = yield* Queue.unbounded<string>()
  const lines = readline.createInterface({ input: process.stdin })
  lines.on("line", (line) => commands.unsafeOffer(line.trim()))
  lines.on("close", () => commands.unsafeOffer("exit"))
  yield* print({ type: "ready" })

  const pace = Number(values.pace)
  for (;;) {
    const command = yield* Queue.take(commands)
    if (command === "exit") return
    if (!command.startsWith("go ")) continue
    const mode: Mode = command === "go local" ? "local" : command === "go limited" ? "limited" : "shared"
    const { fallbacks, ids, recording } = services[mode]
    const attemptsBefore = recording.attempts.length
    const calls: Array<{ callId: string; ms: number; chittyId?: string; failure?: string }> = []
    let i = 0
    // mint at the pace until "stop" arrives
    for (;;) {
      const next = yield* Queue.poll(commands)
      if (next._tag === "Some" && next.value === "stop") break
      const start = performance.now()
      const callId = `${mode}-${process.pid}-${i++}`
      const exit = yield* Effect.exit(ids.mint({ entityType: "P", metadata: { callId } }))
      const ms = Math.round((performance.now() - start) * 1000) / 1000
      calls.push(
        Exit.isSuccess(exit)
          ? { callId, ms, chittyId: exit.value.chittyId }
          : { callId, ms, failure: exit.cause._tag === "Fail" ? exit.cause.error._tag : "defect" }
      )
      const left = pace - (performance.now() - start)
      if (left > 0) yield* Effect.sleep(`${left} millis`)
    }
    const attempts = recording.attempts.slice(attemptsBefore).filter((a) => a.endpoint === Api.paths.mint)
    yield* print({
      type: "done",
      mode,
      attempts: attempts.map((a) => a.sentWallMs),
      calls,
      fallbacks: fallbacks()
    })
  }
})

program.pipe(
  Effect.scoped,
  Effect.provide(Logger.minimumLogLevel(LogLevel.None)),
  Effect.runPromise
).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`fleet replica: ${String(error)}\n`)
    process.exit(1)
  }
)
