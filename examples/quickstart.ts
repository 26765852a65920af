/**
 * `npm start`: mint IDs of every entity type, validate them locally and with the service, show why
 * broken IDs are refused, a cache hit next to a service call, and the client's health.
 *
 * With no `CHITTY_ID_URL` set it runs against a reference server embedded on loopback; with
 * `CHITTY_ID_URL` (and `CHITTY_ID_TOKEN`) it talks to that server instead.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Option } from "effect"
import * as ChittyId from "effect-chittyid/ChittyId"
import { HealthMonitor } from "effect-chittyid/HealthMonitor"
import * as IdService from "effect-chittyid/IdService"
import * as Live from "./live.ts"

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const value = yield* effect
    return [value, (performance.now() - start) * 1000] as const
  })

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

const micros = (us: number) => us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`

const program = Effect.gen(function*() {
  const target = yield* Live.Target
  const ids = yield* IdService.IdService
  yield* Console.log(
    `ChittyID quickstart against ${target.url}${Option.isSome(target.server) ? " (embedded reference server)" : ""}\n`
  )

  yield* Console.log("Minted, one of each entity type:")
  const minted: Array<ChittyId.ChittyId> = []
  for (const entityType of ChittyId.entityTypeCodes) {
    const result = yield* ids.mint({ entityType, metadata: { example: "quickstart" } })
    if (result.fallback) {
      yield* Console.log(`  ${entityType}  fallback placeholder ${result.chittyId} (${result.errorCode})`)
      continue
    }
    minted.push(result.chittyId)
    const p = result.parts
    yield* Console.log(
      `  ${p.entityType}  ${result.chittyId}  ${ChittyId.entityTypeWords[p.entityType].padEnd(9)} region ${p.region} (${
        ChittyId.regions[p.region]
      }), ${p.jurisdiction}, trust ${p.trustLevel} (${ChittyId.trustLevels[p.trustLevel]}), ${p.year}-${
        String(p.month).padStart(2, "0")
      }`
    )
  }

  yield* Console.log("\nValidated locally (no request) and with the service:")
  for (const id of minted) {
    const local = yield* ids.validate(id)
    const remote = yield* ids.validate(id, { remote: true })
    yield* Console.log(
      `  ${id}  local: ${local.valid ? "valid" : "invalid"}  service: ${
        remote.valid ? "valid" : "invalid"
      } (${remote.source})`
    )
  }

  const sample = minted[0] ?? "03-1-USA-5537-P-2602-0-38"
  const broken = [
    `${sample.slice(0, 23)}${sample.endsWith("00") ? "01" : "00"}`,
    sample.toLowerCase(),
    `${sample}-0`,
    sample.replace(/-[PLTEA]-/, "-PEO-"),
    ChittyId.makeFallback({ errorCode: "MINT_UNAVAILABLE", entityType: "T", yearMonth: sample.slice(16, 20) }),
    "CT-A-CHI-1234-I-24-A-0"
  ]
  yield* Console.log("\nRefused locally, without a request:")
  for (const id of broken) {
    const result = yield* ids.validate(id, { remote: true })
    yield* Console.log(`  ${id.padEnd(27)} ${result.valid ? "valid?!" : `${result.rule}: ${result.reason}`}`)
  }

  yield* Console.log("\nRemote validation: a service call, then the same ID from the cache (median of 20 IDs):")
  const fresh = yield* Effect.forEach(
    ChittyId.entityTypeCodes.flatMap((t) => [t, t, t, t]),
    (entityType) => ids.mint({ entityType })
  )
  const service = yield* Effect.forEach(fresh, (m) => timed(ids.validate(m.chittyId, { remote: true })))
  const cached = yield* Effect.forEach(fresh, (m) => timed(ids.validate(m.chittyId, { remote: true })))
  for (const [label, runs] of [["service call", service], ["cache hit", cached]] as const) {
    const sources = [...new Set(runs.map(([r]) => r.source))].join(", ")
    yield* Console.log(
      `  ${label.padEnd(12)} ${micros(median(runs.map(([, us]) => us))).padStart(10)}  (source: ${sources})`
    )
  }

  // the monitor's first scheduled check comes one interval (30 s) after the build: check now instead
  yield* Effect.flatMap(HealthMonitor, (monitor) => monitor.checkNow)
  const health = yield* ids.health
  const stats = yield* ids.stats
  yield* Console.log("\nHealth:")
  yield* Console.log(
    `  status ${health.status}, connection ${health.connection}, breaker ${health.breaker}, last check ${
      health.lastCheck === undefined
        ? "none yet"
        : `${health.lastCheck.ok ? "ok" : "failed"} in ${health.lastCheck.latencyMs.toFixed(1)} ms`
    }`
  )
  yield* Console.log(
    `  cache: ${health.cache.size} entries, ${health.cache.hits} hits, ${health.cache.misses} misses; requests sent: mint ${stats.requests.sent.mint}, validate ${stats.requests.sent.validate}, health ${stats.requests.sent.health}`
  )
})

program.pipe(Effect.provide(Live.layer()), NodeRuntime.runMain)
