/**
 * Watching the client heal itself: subscribe to `IdService.events` while the embedded reference
 * server is switched down and up again. Logs go through Effect's JSON logger, as a service in
 * production would ship them.
 *
 *   npx tsx examples/events.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Fiber, Logger, LogLevel, Option, Stream } from "effect"
import * as IdService from "effect-chittyid/IdService"
import type * as Observability from "effect-chittyid/Observability"
import * as Live from "./live.ts"

const describe = (event: Observability.ClientEvent): string => {
  switch (event._tag) {
    case "BreakerTransition":
      return `breaker ${event.from} → ${event.to} (${event.reason})`
    case "RetryScheduled":
      return `retry #${event.attempt} of ${event.endpoint} in ${event.delayMs} ms after ${event.error}`
    case "ConnectionChanged":
      return `connection ${event.from} → ${event.to}`
    case "Reconnected":
      return `reconnected after ${event.attempts} probes, down for ${event.downForMs} ms`
    case "CacheEvicted":
      return `cache evicted ${event.id}`
    case "FleetFallback":
      return `fleet ${event.component} on local state: ${event.reason}`
    case "FleetRestored":
      return `fleet ${event.component} shared again`
  }
}

const program = Effect.gen(function*() {
  const target = yield* Live.Target
  if (Option.isNone(target.server)) {
    return yield* Console.log("This example switches the embedded server down and up: run it without CHITTY_ID_URL.")
  }
  const server = target.server.value
  const ids = yield* IdService.IdService
  const start = Date.now()
  const printer = yield* ids.events.pipe(
    Stream.runForEach((event) => Console.log(`+${String(Date.now() - start).padStart(5)} ms  ${describe(event)}`)),
    Effect.fork
  )
  yield* Effect.sleep("100 millis")

  yield* Console.log("minting while the service is up")
  yield* ids.mint({ entityType: "P" })

  yield* Console.log("switching the service DOWN (connections reset)")
  yield* server.setFaults({ outage: { mode: "reset", endpoints: ["mint", "validate", "health"] } })
  for (let i = 0; i < 3; i++) {
    const failed = yield* Effect.flip(ids.mint({ entityType: "P" }))
    yield* Console.log(`  mint failed: ${failed._tag}`)
  }
  const rejected = yield* Effect.flip(ids.mint({ entityType: "P" }))
  yield* Console.log(`  mint rejected at once: ${rejected._tag}`)
  yield* Effect.sleep("1500 millis")

  yield* Console.log("switching the service UP")
  yield* server.resetFaults
  yield* Effect.sleep("2500 millis")
  const minted = yield* ids.mint({ entityType: "P" })
  yield* Console.log(`minting again: ${minted.chittyId}`)
  const health = yield* ids.health
  yield* Console.log(`health: ${health.status}, ${health.connection}, breaker ${health.breaker}`)
  yield* Effect.sleep("100 millis")
  yield* Fiber.interrupt(printer)
})

program.pipe(
  Effect.provide(Live.layer({
    retry: { maxRetries: 1, base: "50 millis" },
    breaker: { consecutiveFailures: 3, openDuration: "30 seconds" },
    health: { interval: "1 second", reconnectBase: "200 millis", reconnectMax: "1 second" }
  })),
  Effect.provide(Logger.json),
  Logger.withMinimumLogLevel(LogLevel.Info),
  (effect) => NodeRuntime.runMain(effect, { disablePrettyLogger: true })
)
