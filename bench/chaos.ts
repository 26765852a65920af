/**
 * `npm run chaos`: drives the live `IdService` through failure scenarios against the reference
 * server running in a child process, and checks the resilience targets of the issue.
 *
 * ```sh
 * npm run chaos                      # the table, settings and targets
 * npm run -s chaos -- --json         # one JSON object on stdout (-s: without npm's own banner)
 * npm run chaos -- --quick           # smaller scenarios (~30 s)
 * npm run chaos -- --strict          # exit 1 when a target is missed
 * npm run chaos -- --only hang,garbage --seed 7
 * ```
 *
 * The JSON: `{"seed","size","passed","scenarios":[{"name","calls","succeeded","failed","duplicates",
 * "requestsSent","p50Ms","p99Ms","maxMs","passed","description","durationMs","attempts",
 * "duplicatesByIdempotencyKey","duplicatesByCallId","successesNotMinted","orphanMints","failuresByTag",
 * …figures of the scenario, "targets":[{"name","target","actual","pass"}],"settings":{…}}]}`.
 * `duplicates` counts IDs the server's own mint log holds more than once for one logical call,
 * grouped by `Idempotency-Key` and by the `metadata.callId` each call sends (the larger of the two).
 *
 * The exit code is 0 unless the runner itself breaks (the server does not start, the admin plane
 * fails) — a missed target is reported, not a crash — or `--strict` is given and a target is missed.
 * Progress and library logs go to stderr.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { parseArgs } from "node:util"
import * as Fleet from "./chaos/fleet.ts"
import * as Harness from "./chaos/harness.ts"
import * as Report from "./chaos/report.ts"
import * as Scenarios from "./chaos/scenarios.ts"
import * as ServerProcess from "./serverProcess.ts"

const all: ReadonlyArray<Scenarios.Scenario> = [...Scenarios.all, Fleet.fleetOutage]

const usage = `Usage: npm run chaos -- [--json] [--quick] [--strict] [--seed N] [--only a,b] [--profile P] [--verbose]

  --json      print one JSON object {"scenarios":[...]} on stdout and nothing else
  --quick     smaller scenarios
  --strict    exit with code 1 when a target is missed
  --seed N    seed of the server's fault PRNG (default 42)
  --only a,b  run only these scenarios: ${all.map((s) => s.name).join(", ")}
  --profile P the reference server's profile: strict (the contract, default) or live (as the live service)
  --verbose   the library's logs (Info and up) on stderr
`

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: {
    json: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    strict: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    seed: { type: "string", default: "42" },
    only: { type: "string" },
    profile: { type: "string", default: "strict" },
    help: { type: "boolean", default: false }
  }
})

const seed = Number(values.seed)
const only = values.only?.split(",").map((name) => name.trim()).filter((name) => name !== "")
const unknown = (only ?? []).filter((name) => !all.some((s) => s.name === name))
const profile = values.profile === "live" || values.profile === "strict" ? values.profile : undefined

if (values.help) {
  console.log(usage)
} else if (!Number.isInteger(seed) || seed < 0 || unknown.length > 0 || profile === undefined) {
  console.error(
    unknown.length > 0
      ? `chaos: no scenario named ${unknown.join(", ")}`
      : profile === undefined
      ? `chaos: --profile is strict or live`
      : `chaos: --seed takes a whole number`
  )
  console.error(usage)
  process.exitCode = 2
} else {
  const size: Scenarios.Size = values.quick ? "quick" : "full"
  const selected = all.filter((s) => only === undefined || only.includes(s.name))
  const progress = (line: string) => Effect.sync(() => process.stderr.write(`${line}\n`))

  const main = Effect.gen(function*() {
    yield* progress(`chaos: starting the reference server (seed ${seed}, profile ${profile})…`)
    const child = yield* ServerProcess.start({ seed, args: ["--profile", profile] })
    const server = yield* Harness.server(child)
    const results: Array<Scenarios.Result & { readonly durationMs: number }> = []
    for (const scenario of selected) {
      yield* progress(`chaos: ${scenario.name}…`)
      const start = performance.now()
      const ran = yield* Effect.scoped(scenario.run(server, size))
      const result = profile === "live" ? Scenarios.againstLive(ran) : ran
      const durationMs = performance.now() - start
      results.push({ ...result, durationMs })
      yield* progress(
        `chaos: ${scenario.name} ${Report.passed(result) ? "met its targets" : "MISSED a target"} in ${
          (durationMs / 1000).toFixed(1)
        } s`
      )
    }
    const run = { seed, size }
    yield* Effect.sync(() => console.log(values.json ? Report.json(results, run) : Report.table(results, run)))
    if (values.strict && !results.every(Report.passed)) process.exitCode = 1
  }).pipe(
    Effect.scoped,
    Effect.catchTag("ServerProcessError", (error) =>
      Effect.sync(() => {
        console.error(`chaos: ${error.message}`)
        process.exitCode = 1
      }))
  )

  // stdout carries only the result: the library's logs go to stderr, and only when asked for.
  const logging = Layer.merge(
    Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)),
    Logger.minimumLogLevel(values.verbose ? LogLevel.Info : LogLevel.None)
  )

  NodeRuntime.runMain(
    main.pipe(Effect.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici, logging)))
  )
}
