/**
 * A Cloudflare Worker that mints and validates ChittyIDs through `effect-chittyid/fetch`.
 *
 * - The runtime is built once per isolate (on its first request, from the Worker's `env`) and reused
 *   by every request after: the validation cache and the circuit breakers outlive a request, as
 *   they should.
 * - `Fetch.layerWorker` keeps the health monitor on demand: building the runtime starts no fiber and
 *   no timer, and every request, retry and timeout belongs to the request that made it. `GET /health`
 *   checks the service now.
 * - Work after the response goes through `ctx.waitUntil`, so the runtime lets it finish.
 *
 * Settings come from the Worker's variables and secrets: `CHITTY_ID_URL`, `CHITTY_ID_TOKEN` (a
 * secret: `wrangler secret put CHITTY_ID_TOKEN`) and any other `CHITTY_ID_*`.
 *
 * Routes: `POST /mint?type=person`, `GET /validate?id=…` (confirmed by the service), `GET /health`.
 * No `nodejs_compat` flag is needed.
 */
import { Effect, Layer, ManagedRuntime } from "effect"
import * as ChittyId from "effect-chittyid/ChittyId"
import * as Fetch from "effect-chittyid/fetch"
import { HealthMonitor } from "effect-chittyid/HealthMonitor"
import * as IdService from "effect-chittyid/IdService"
import type * as IdServiceError from "effect-chittyid/IdServiceError"
import type * as ConfigError from "effect/ConfigError"

/** The part of the Workers `ExecutionContext` used here (`@cloudflare/workers-types` has the full one). */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void
}

/** The Worker's bindings: its variables and secrets. */
type Env = Readonly<Record<string, unknown>>

type Runtime = ManagedRuntime.ManagedRuntime<IdService.LiveServices, ConfigError.ConfigError>

let runtime: Runtime | undefined

/** One runtime per isolate, configured from the first request's `env` (the same for every request). */
const runtimeFor = (env: Env): Runtime =>
  runtime ??= ManagedRuntime.make(
    Fetch.layerWorker.pipe(Layer.provide(Layer.setConfigProvider(Fetch.configProvider(env))))
  )

const json = (body: unknown, status = 200): Response => Response.json(body, { status })

/** A typed failure as an answer: the caller's mistakes are 400, the service's trouble 502/503. */
const failure = (error: IdServiceError.IdServiceError): Response =>
  json(
    { error: error._tag, message: error.message },
    error._tag === "InvalidRequest" ? 400 : error._tag === "CircuitOpen" ? 503 : 502
  )

const route = (
  request: Request
): Effect.Effect<Response, IdServiceError.IdServiceError, IdService.IdService | HealthMonitor> => {
  const url = new URL(request.url)
  switch (`${request.method} ${url.pathname}`) {
    case "POST /mint": {
      const type = url.searchParams.get("type") ?? "person"
      const entityType = ChittyId.entityTypeInputs.find((input) => input === type)
      if (entityType === undefined) return Effect.succeed(json({ error: "UNKNOWN_ENTITY_TYPE", type }, 400))
      return IdService.mint({ entityType }).pipe(
        Effect.map((minted) => json({ chittyId: minted.chittyId, fallback: minted.fallback }, 201))
      )
    }
    case "GET /validate":
      return IdService.validate(url.searchParams.get("id") ?? "", { remote: true }).pipe(
        Effect.map((checked) => json({ valid: checked.valid, source: checked.source, reason: checked.reason }))
      )
    case "GET /health":
      return Effect.flatMap(HealthMonitor, (monitor) => monitor.checkNow).pipe(
        Effect.zipRight(IdService.health),
        Effect.map((report) => json({ connection: report.connection }))
      )
    default:
      return Effect.succeed(json({ error: "NOT_FOUND" }, 404))
  }
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const rt = runtimeFor(env)
    const response = await rt.runPromise(
      route(request).pipe(Effect.catchAll((error) => Effect.succeed(failure(error))))
    )
    // After the answer: the counters in the log, finished before the isolate may be frozen.
    ctx.waitUntil(
      rt.runPromise(
        Effect.flatMap(IdService.stats, (stats) =>
          Effect.logDebug("chittyid stats").pipe(
            Effect.annotateLogs({ minted: stats.mint.succeeded, validated: stats.validate.calls })
          ))
      )
    )
    return response
  }
}
