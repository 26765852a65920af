/**
 * `chittyid health`: one health check of the service now, and the client's view of it (connection,
 * breaker, latency). Exit 1 when the service did not answer healthy.
 *
 * @since 0.2.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { HealthMonitor } from "../HealthMonitor.ts"
import { IdService } from "../IdService.ts"
import * as Client from "./Client.ts"
import { CliFailure } from "./Io.ts"

/**
 * The `health` command.
 *
 * @example
 * ```sh
 * chittyid health --json
 * ```
 *
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make("health", {
  json: Options.boolean("json").pipe(Options.withDescription("One JSON object")),
  service: Client.options
}, ({ json, service }) =>
  Effect.gen(function*() {
    const settings = yield* Client.settings(service)
    const check = yield* HealthMonitor.pipe(Effect.flatMap((monitor) => monitor.checkNow))
    const report = yield* IdService.pipe(Effect.flatMap((ids) => ids.health))
    const latency = `${Math.round(check.latencyMs)} ms`
    yield* json
      ? Console.log(JSON.stringify({
        url: settings.url,
        service: { ok: check.ok, detail: check.detail, latencyMs: check.latencyMs },
        client: { status: report.status, connection: report.connection, breaker: report.breaker }
      }))
      : Console.log([
        `url           ${settings.url}`,
        `service       ${check.ok ? "up" : "down"}: ${check.detail} (${latency})`,
        `client        ${report.status}`,
        `connection    ${report.connection}`,
        `breaker       ${report.breaker}`
      ].join("\n"))
    if (!check.ok) return yield* Effect.fail(new CliFailure({ message: `the service is not healthy: ${check.detail}` }))
  }).pipe(Effect.provide(Client.layer(service)))).pipe(
    Command.withDescription("Check the service's health now, and show the client's view of it")
  )
