/**
 * `npm run bench:fleet`: validation requests the service receives from a fleet, with and without
 * `Fleet.layerRedis`. 4 replicas (an `IdService` each, built in a `ManagedRuntime` of its own as
 * separate processes would), each making 1 000 remote validations of the same 100 minted IDs in its
 * own random order (8 look-ups in flight per replica), against the reference server on loopback; the
 * `POST /api/validate` requests are counted at the server. Three runs: without the fleet layer, with
 * it and the replicas all at once (two replicas may ask for one ID before either has stored it: the
 * fleet does not coalesce across replicas), and with it one replica after another.
 *
 * Redis: `REDIS_URL`, or a `redis-server` of its own on a free loopback port (no persistence).
 * Flags: `--replicas N`, `--lookups N`, `--ids N`, `--json` (one JSON object on stdout).
 */
import { Effect, Layer } from "effect"
import * as IdService from "effect-chittyid/IdService"
import type * as IdServiceError from "effect-chittyid/IdServiceError"
import * as ReferenceServer from "effect-chittyid/server/ReferenceServer"
import { replica } from "../test/fleet-support.ts"
import { startRedis } from "../test/redisServer.ts"

const argv = process.argv.slice(2)
const flag = (name: string, fallback: number): number => {
  const index = argv.indexOf(`--${name}`)
  const value = index >= 0 ? Number(argv[index + 1]) : fallback
  return Number.isSafeInteger(value) && value > 0 ? value : fallback
}
const json = argv.includes("--json")
const replicas = flag("replicas", 4)
const lookups = flag("lookups", 1_000)
const idCount = flag("ids", 100)

const log = (message: string): void => {
  process.stderr.write(`${message}\n`)
}

/** A shuffled sequence of `n` look-ups over the IDs (each ID at least once when n >= ids). */
const plan = (ids: ReadonlyArray<string>, n: number): Array<string> => {
  const order = Array.from({ length: n }, (_, i) => ids[i % ids.length]!)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const swap = order[i]!
    order[i] = order[j]!
    order[j] = swap
  }
  return order
}

interface Row {
  readonly mode: string
  readonly replicas: number
  readonly lookups: number
  readonly ids: number
  readonly validateRequests: number
  readonly perReplica: ReadonlyArray<{ readonly service: number; readonly cache: number }>
  readonly wallMs: number
}

const measure = (
  server: ReferenceServer.ReferenceServer["Type"],
  ids: ReadonlyArray<string>,
  fleetUrl: string | undefined,
  together: boolean
): Effect.Effect<Row, IdServiceError.IdServiceError> =>
  Effect.scoped(Effect.gen(function*() {
    const fleet = fleetUrl === undefined
      ? undefined
      : { url: fleetUrl, prefix: `bench-fleet:${Date.now().toString(36)}`, commandTimeout: "1 second" } as const
    const fleetReplicas = yield* Effect.forEach(
      Array.from({ length: replicas }),
      () => replica(server, fleet),
      { concurrency: "unbounded" }
    )
    const before = (yield* server.counts).requests.validate
    const started = performance.now()
    const perReplica = yield* Effect.forEach(fleetReplicas, (r) =>
      r.run(Effect.gen(function*() {
        const service = yield* IdService.IdService
        yield* Effect.forEach(plan(ids, lookups), (id) => service.validate(id), { concurrency: 8, discard: true })
        const stats = yield* service.stats
        return { service: stats.validate.service, cache: stats.validate.cache }
      })), { concurrency: together ? "unbounded" : 1 })
    const wallMs = Math.round(performance.now() - started)
    const validateRequests = (yield* server.counts).requests.validate - before
    return {
      mode: `${fleetUrl === undefined ? "without fleet" : "with Fleet.layerRedis"}, ${
        together ? "replicas at once" : "one replica after another"
      }`,
      replicas,
      lookups,
      ids: ids.length,
      validateRequests,
      perReplica,
      wallMs
    } satisfies Row
  }))

const program = Effect.gen(function*() {
  const server = yield* ReferenceServer.make({ seed: 42 })
  const envUrl = process.env["REDIS_URL"]
  const redisUrl = envUrl !== undefined && envUrl !== "" ? envUrl : (yield* startRedis).url
  log(`reference server ${server.url}, Redis ${redisUrl.replace(/\/\/[^@]*@/, "//")}`)

  const minter = yield* replica(server, undefined)
  const ids = yield* minter.run(
    Effect.flatMap(IdService.IdService, (service) =>
      Effect.forEach(
        Array.from({ length: idCount }),
        () => Effect.map(service.mint({ entityType: "P" }), (minted) => minted.chittyId),
        { concurrency: 8 }
      ))
  )
  log(`${ids.length} IDs minted; ${replicas} replicas x ${lookups} look-ups each`)

  const rows: Array<Row> = []
  for (const [fleetUrl, together] of [[undefined, true], [redisUrl, true], [redisUrl, false]] as const) {
    const row = yield* measure(server, ids, fleetUrl, together)
    log(`${row.mode}: ${row.validateRequests} validate requests at the server (${row.wallMs} ms)`)
    rows.push(row)
  }

  if (json) {
    process.stdout.write(`${JSON.stringify({ replicas, lookups, ids: idCount, rows })}\n`)
    return
  }
  const lines = [
    `| mode | replicas × look-ups (IDs) | validate requests at the server | per replica: service / cache | wall time |`,
    `|---|---|---|---|---|`,
    ...rows.map((row) =>
      `| ${row.mode} | ${row.replicas} × ${row.lookups} (${row.ids}) | ${row.validateRequests} | ${
        row.perReplica.map((r) => `${r.service} / ${r.cache}`).join(", ")
      } | ${row.wallMs} ms |`
    )
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Layer.empty))).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:fleet failed: ${String(error)}\n`)
    process.exit(1)
  }
)
