#!/usr/bin/env node
/**
 * The reference ChittyID server, standalone: the `chittyid-reference-server` bin (in this
 * repository: `npm run serve -- [flags]`).
 *
 * Prints one line of JSON to stdout once it listens — `{"url":"http://127.0.0.1:PORT"}`, plus
 * `"token"` when the token was generated — so a parent process can read where it is. Runs until
 * SIGINT/SIGTERM. Bad flags: a message on stderr and exit code 2.
 *
 * @example
 * ```sh
 * chittyid-reference-server --port 0 --seed 42 --error-rate 0.3 --retry-after 1
 * chittyid-reference-server --profile live
 * ```
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Logger from "effect/Logger"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import { parseArgs } from "node:util"
import * as Fault from "../server/Faults.ts"
import { type Options, profiles, ReferenceServer } from "../server/ReferenceServer.ts"

const usage = `Usage: chittyid-reference-server [flags]

The reference ChittyID server. Prints {"url":...} (and "token" when generated) as one JSON line.

  --profile <p>              strict (default): the contract; live: what the live service answers
  --port <n>                 port (default 8787; 0 = any free port)
  --host <host>              host (default 127.0.0.1)
  --token <token>            bearer token (default $CHITTY_ID_TOKEN, else a random one, printed)
  --seed <n>                 seed of the fault PRNG (default random)
  --max-body-bytes <n>       request body limit (default 16384)
  --sequence-capacity <n>    IDs per region/jurisdiction/type/month before 422 (default 10000)
  --max-json-depth <n>       deepest mint metadata accepted (default 32)
  --max-records <n>          mint records kept (default 100000)
  --max-connections <n>      open connections at most (default 1024)
  --headers-timeout-ms <ms>  time to receive request headers (default 10000)
  --request-timeout-ms <ms>  time to receive a whole request (default 30000)
  --keep-alive-timeout-ms <ms> idle kept-alive connections closed after (default 5000)
Faults (rates are probabilities from 0 to 1):
  --latency-ms <ms>          added latency
  --jitter-ms <ms>           plus up to this much, drawn uniformly
  --error-rate <r>           503 SERVICE_UNAVAILABLE (live: a MINT_REJECTED placeholder on mint)
  --error-placeholder <c>    live: the placeholder code of --error-rate instead (e.g. MINT_UNAVAILABLE)
  --retry-after <s>          Retry-After seconds on 503 and 429 (default: none on 503, 1 on 429)
  --retry-after-format <f>   seconds | http-date (default seconds)
  --outage <mode>            refuse | reset: every request fails
  --rate-limit-burst <n>     the next n requests answer 429
  --hang-rate <r>            requests never answered
  --garbage-rate <r>         200 with a garbage body
  --garbage-kind <k,...>     not-json, wrong-shape, bad-id (default all)
  --fallback-rate <r>        mint answers a fallback placeholder ID
  --fallback-code <c>        its error code (default MINT_UNAVAILABLE)
  --lost-answer-rate <r>     mint commits, then drops the connection
  --fault-endpoints <e,...>  mint, validate, health, other (default mint,validate)
  --help                     this text
`

class UsageError extends Error {}

const number = (name: string, value: string | undefined, check: (n: number) => boolean, expected: string) => {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === "" || !Number.isFinite(n) || !check(n)) {
    throw new UsageError(`--${name} must be ${expected}, got ${JSON.stringify(value)}`)
  }
  return n
}
const integer = (name: string, value: string | undefined, min: number, max: number) =>
  number(name, value, (n) => Number.isInteger(n) && n >= min && n <= max, `an integer from ${min} to ${max}`)
const rate = (name: string, value: string | undefined) =>
  number(name, value, (n) => n >= 0 && n <= 1, "a probability from 0 to 1")
const list = (value: string | undefined) => value?.split(",").map((s) => s.trim()).filter((s) => s !== "")

interface Flags {
  readonly options: Options
  /** No token was given: it was generated, and is printed. */
  readonly tokenGenerated: boolean
}

const parseFlags = (argv: ReadonlyArray<string>): Flags | "help" => {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      profile: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      token: { type: "string" },
      seed: { type: "string" },
      "max-body-bytes": { type: "string" },
      "sequence-capacity": { type: "string" },
      "max-json-depth": { type: "string" },
      "max-records": { type: "string" },
      "max-connections": { type: "string" },
      "headers-timeout-ms": { type: "string" },
      "request-timeout-ms": { type: "string" },
      "keep-alive-timeout-ms": { type: "string" },
      "latency-ms": { type: "string" },
      "jitter-ms": { type: "string" },
      "error-rate": { type: "string" },
      "retry-after": { type: "string" },
      "retry-after-format": { type: "string" },
      outage: { type: "string" },
      "rate-limit-burst": { type: "string" },
      "hang-rate": { type: "string" },
      "garbage-rate": { type: "string" },
      "garbage-kind": { type: "string" },
      "fallback-rate": { type: "string" },
      "fallback-code": { type: "string" },
      "error-placeholder": { type: "string" },
      "lost-answer-rate": { type: "string" },
      "fault-endpoints": { type: "string" },
      help: { type: "boolean" }
    }
  })
  if (values.help === true) return "help"
  const endpoints = list(values["fault-endpoints"])
  const targeting = endpoints === undefined ? {} : { endpoints }
  const retryAfter = integer("retry-after", values["retry-after"], 0, 86_400)
  const retryAfterFormat = values["retry-after-format"]
  const retry = {
    ...(retryAfter === undefined ? {} : { retryAfter }),
    ...(retryAfterFormat === undefined ? {} : { retryAfterFormat })
  }
  const latencyMs = number("latency-ms", values["latency-ms"], (n) => n >= 0, "a number of milliseconds ≥ 0")
  const jitterMs = number("jitter-ms", values["jitter-ms"], (n) => n >= 0, "a number of milliseconds ≥ 0")
  const errorRate = rate("error-rate", values["error-rate"])
  const burst = integer("rate-limit-burst", values["rate-limit-burst"], 0, Number.MAX_SAFE_INTEGER)
  const hangRate = rate("hang-rate", values["hang-rate"])
  const garbageRate = rate("garbage-rate", values["garbage-rate"])
  const garbageKinds = list(values["garbage-kind"])
  const fallbackRate = rate("fallback-rate", values["fallback-rate"])
  const lostAnswerRate = rate("lost-answer-rate", values["lost-answer-rate"])
  const faults = {
    ...(latencyMs === undefined && jitterMs === undefined ? {} : {
      latency: { fixedMs: latencyMs ?? 0, jitterMs: jitterMs ?? 0, ...targeting }
    }),
    ...(errorRate === undefined ? {} : {
      errors: {
        rate: errorRate,
        ...retry,
        ...targeting,
        ...(values["error-placeholder"] === undefined ? {} : { placeholder: values["error-placeholder"] })
      }
    }),
    ...(values.outage === undefined ? {} : { outage: { mode: values.outage, ...targeting } }),
    ...(burst === undefined ? {} : { rateLimit: { burst, ...retry, ...targeting } }),
    ...(hangRate === undefined ? {} : { hang: { rate: hangRate, ...targeting } }),
    ...(garbageRate === undefined && garbageKinds === undefined ? {} : {
      garbage: { rate: garbageRate ?? 1, ...(garbageKinds === undefined ? {} : { kinds: garbageKinds }), ...targeting }
    }),
    ...(fallbackRate === undefined && values["fallback-code"] === undefined ? {} : {
      fallback: {
        rate: fallbackRate ?? 1,
        ...(values["fallback-code"] === undefined ? {} : { errorCode: values["fallback-code"] })
      }
    }),
    ...(lostAnswerRate === undefined ? {} : { lostAnswer: { rate: lostAnswerRate } })
  }
  const decoded = Schema.decodeUnknownEither(Fault.FaultsPatch)(faults, { errors: "all" })
  if (Either.isLeft(decoded)) {
    const byPath = new Map<string, string>()
    for (const issue of ParseResult.ArrayFormatter.formatErrorSync(decoded.left)) {
      const path = issue.path.join(".")
      if (!/^Expected (null|undefined),/.test(issue.message) && !byPath.has(path)) {
        byPath.set(path, `${path}: ${issue.message}`)
      }
    }
    throw new UsageError(`bad fault flags: ${Array.from(byPath.values()).join("; ")} (see --help)`)
  }
  const token = values.token ?? process.env["CHITTY_ID_TOKEN"]
  const port = integer("port", values.port, 0, 65_535)
  const seed = integer("seed", values.seed, 0, 2 ** 32 - 1)
  const maxBodyBytes = integer("max-body-bytes", values["max-body-bytes"], 1, 2 ** 30)
  const sequenceCapacity = integer("sequence-capacity", values["sequence-capacity"], 0, 10_000)
  const profile = values.profile
  if (profile !== undefined && !profiles.some((p) => p === profile)) {
    throw new UsageError(`--profile must be one of ${profiles.join(", ")}, got ${JSON.stringify(profile)}`)
  }
  const maxJsonDepth = integer("max-json-depth", values["max-json-depth"], 1, 10_000)
  const maxRecords = integer("max-records", values["max-records"], 1, 100_000_000)
  const maxConnections = integer("max-connections", values["max-connections"], 1, 1_000_000)
  const headersTimeoutMillis = integer("headers-timeout-ms", values["headers-timeout-ms"], 0, 3_600_000)
  const requestTimeoutMillis = integer("request-timeout-ms", values["request-timeout-ms"], 0, 3_600_000)
  const keepAliveTimeoutMillis = integer("keep-alive-timeout-ms", values["keep-alive-timeout-ms"], 0, 3_600_000)
  const tokenGenerated = token === undefined || token === ""
  return {
    tokenGenerated,
    options: {
      port: port ?? 8787,
      host: values.host ?? "127.0.0.1",
      token: Redacted.make(tokenGenerated ? randomUUID() : token),
      seed,
      maxBodyBytes,
      sequenceCapacity,
      profile: profile === "live" ? "live" : "strict",
      maxJsonDepth,
      maxRecords,
      maxConnections,
      headersTimeoutMillis,
      requestTimeoutMillis,
      keepAliveTimeoutMillis,
      faults: decoded.right
    }
  }
}

let flags: Flags | "help"
try {
  flags = parseFlags(process.argv.slice(2))
} catch (error) {
  const message = error instanceof Error ? error.message : String(error)
  console.error(`serve: ${message}\nRun with --help for the flags.`)
  process.exit(2)
}

if (flags === "help") {
  console.log(usage)
} else {
  const { options: serverOptions, tokenGenerated } = flags
  const main = Effect.gen(function*() {
    const server = yield* ReferenceServer
    console.log(
      JSON.stringify(tokenGenerated ? { url: server.url, token: Redacted.value(server.token) } : { url: server.url })
    )
    return yield* Effect.never
  }).pipe(
    Effect.provide(ReferenceServer.layer(serverOptions)),
    // stdout carries the one JSON line a parent reads; logs go to stderr.
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
    Effect.catchTag("ServeError", (error) =>
      Effect.sync(() => {
        console.error(`serve: cannot listen on ${serverOptions.host}:${serverOptions.port}: ${String(error.cause)}`)
        process.exitCode = 1
      }))
  )
  NodeRuntime.runMain(main, { disableErrorReporting: true })
}
