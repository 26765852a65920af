/**
 * `chittyid serve`: the reference server, standalone (also the `chittyid-reference-server` bin and
 * `npm run serve`). Prints one line of JSON on stdout once it listens — `{"url":"http://127.0.0.1:PORT"}`,
 * plus `"token"` when the token was generated — so a parent process can read where it is; logs go to
 * stderr. Runs until SIGINT/SIGTERM.
 *
 * @since 0.2.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import * as Fault from "../server/Faults.ts"
import { type Options as ServerOptions, profiles, ReferenceServer } from "../server/ReferenceServer.ts"
import { integerBetween, invalid, oneOf } from "./Flags.ts"
import { CliFailure } from "./Io.ts"

const optionalInteger = (name: string, min: number, max: number, description: string) =>
  integerBetween(name, min, max).pipe(Options.withDescription(description), Options.optional)

const rate = (name: string, description: string) =>
  Options.float(name).pipe(
    Options.withDescription(`${description} (a probability from 0 to 1)`),
    Options.mapEffect((n) =>
      n >= 0 && n <= 1
        ? Effect.succeed(n)
        : Effect.fail(invalid(`--${name} must be a probability from 0 to 1, got ${n}`))
    ),
    Options.optional
  )

const millis = (name: string, description: string) =>
  Options.float(name).pipe(
    Options.withDescription(description),
    Options.mapEffect((n) =>
      n >= 0 ? Effect.succeed(n) : Effect.fail(invalid(`--${name} must be a number of milliseconds ≥ 0, got ${n}`))
    ),
    Options.optional
  )

const list = (name: string, description: string) =>
  Options.text(name).pipe(
    Options.withDescription(description),
    Options.map((value) => value.split(",").map((s) => s.trim()).filter((s) => s !== "")),
    Options.optional
  )

const faultFlags = Options.all({
  latencyMs: millis("latency-ms", "Added latency, ms"),
  jitterMs: millis("jitter-ms", "Plus up to this much latency, drawn uniformly, ms"),
  errorRate: rate("error-rate", "503 SERVICE_UNAVAILABLE (live: a MINT_REJECTED placeholder on mint)"),
  errorPlaceholder: Options.text("error-placeholder").pipe(
    Options.withDescription("live: the placeholder code of --error-rate instead (e.g. MINT_UNAVAILABLE)"),
    Options.optional
  ),
  retryAfter: optionalInteger(
    "retry-after",
    0,
    86_400,
    "Retry-After seconds on 503 and 429 (default: none on 503, 1 on 429)"
  ),
  retryAfterFormat: oneOf("retry-after-format", [["seconds", "seconds"], ["http-date", "http-date"]] as const).pipe(
    Options.withDescription("How Retry-After is written (default seconds)"),
    Options.optional
  ),
  outage: Options.text("outage").pipe(Options.withDescription("refuse | reset: every request fails"), Options.optional),
  rateLimitBurst: optionalInteger("rate-limit-burst", 0, Number.MAX_SAFE_INTEGER, "The next n requests answer 429"),
  hangRate: rate("hang-rate", "Requests never answered"),
  garbageRate: rate("garbage-rate", "200 with a garbage body"),
  garbageKinds: list("garbage-kind", "not-json, wrong-shape, bad-id (comma-separated; default all)"),
  fallbackRate: rate("fallback-rate", "Mint answers a fallback placeholder ID"),
  fallbackCode: Options.text("fallback-code").pipe(
    Options.withDescription("Its error code (default MINT_UNAVAILABLE)"),
    Options.optional
  ),
  lostAnswerRate: rate("lost-answer-rate", "Mint commits, then drops the connection"),
  endpoints: list("fault-endpoints", "mint, validate, health, other (comma-separated; default mint,validate)")
}).pipe(
  Options.mapEffect((f) => {
    const get = Option.getOrUndefined
    const targeting = Option.match(f.endpoints, { onNone: () => ({}), onSome: (endpoints) => ({ endpoints }) })
    const retry = {
      ...Option.match(f.retryAfter, { onNone: () => ({}), onSome: (retryAfter) => ({ retryAfter }) }),
      ...Option.match(f.retryAfterFormat, { onNone: () => ({}), onSome: (retryAfterFormat) => ({ retryAfterFormat }) })
    }
    const patch = {
      ...(Option.isNone(f.latencyMs) && Option.isNone(f.jitterMs) ? {} : {
        latency: { fixedMs: get(f.latencyMs) ?? 0, jitterMs: get(f.jitterMs) ?? 0, ...targeting }
      }),
      ...Option.match(f.errorRate, {
        onNone: () => ({}),
        onSome: (rate) => ({
          errors: {
            rate,
            ...retry,
            ...targeting,
            ...Option.match(f.errorPlaceholder, { onNone: () => ({}), onSome: (placeholder) => ({ placeholder }) })
          }
        })
      }),
      ...Option.match(f.outage, { onNone: () => ({}), onSome: (mode) => ({ outage: { mode, ...targeting } }) }),
      ...Option.match(f.rateLimitBurst, {
        onNone: () => ({}),
        onSome: (burst) => ({ rateLimit: { burst, ...retry, ...targeting } })
      }),
      ...Option.match(f.hangRate, { onNone: () => ({}), onSome: (rate) => ({ hang: { rate, ...targeting } }) }),
      ...(Option.isNone(f.garbageRate) && Option.isNone(f.garbageKinds) ? {} : {
        garbage: {
          rate: get(f.garbageRate) ?? 1,
          ...Option.match(f.garbageKinds, { onNone: () => ({}), onSome: (kinds) => ({ kinds }) }),
          ...targeting
        }
      }),
      ...(Option.isNone(f.fallbackRate) && Option.isNone(f.fallbackCode) ? {} : {
        fallback: {
          rate: get(f.fallbackRate) ?? 1,
          ...Option.match(f.fallbackCode, { onNone: () => ({}), onSome: (errorCode) => ({ errorCode }) })
        }
      }),
      ...Option.match(f.lostAnswerRate, { onNone: () => ({}), onSome: (rate) => ({ lostAnswer: { rate } }) })
    }
    return Either.match(Schema.decodeUnknownEither(Fault.FaultsPatch)(patch, { errors: "all" }), {
      onRight: Effect.succeed,
      onLeft: (error) => {
        const byPath = new Map<string, string>()
        for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
          const path = issue.path.join(".")
          if (!/^Expected (null|undefined),/.test(issue.message) && !byPath.has(path)) {
            byPath.set(path, `${path}: ${issue.message}`)
          }
        }
        return Effect.fail(invalid(`bad fault flags: ${Array.from(byPath.values()).join("; ")} (see --help)`))
      }
    })
  })
)

const flags = {
  profile: oneOf("profile", profiles.map((p) => [p, p] as const)).pipe(
    Options.withDescription("strict: the contract; live: what the live service answers"),
    Options.withDefault("strict" as const)
  ),
  port: integerBetween("port", 0, 65_535).pipe(
    Options.withDescription("Port (0 = any free port)"),
    Options.withDefault(8787)
  ),
  host: Options.text("host").pipe(Options.withDescription("Host to listen on"), Options.withDefault("127.0.0.1")),
  token: Options.redacted("token").pipe(
    Options.withDescription("Bearer token (default $CHITTY_ID_TOKEN, else a random one, printed)"),
    Options.optional
  ),
  seed: optionalInteger("seed", 0, 2 ** 32 - 1, "Seed of the fault PRNG (default random)"),
  maxBodyBytes: optionalInteger("max-body-bytes", 1, 2 ** 30, "Request body limit (default 16384)"),
  sequenceCapacity: optionalInteger(
    "sequence-capacity",
    0,
    10_000,
    "IDs per region/jurisdiction/type/month before 422 (default 10000)"
  ),
  maxJsonDepth: optionalInteger("max-json-depth", 1, 10_000, "Deepest mint metadata accepted (default 32)"),
  maxRecords: optionalInteger("max-records", 1, 100_000_000, "Mint records kept (default 100000)"),
  maxConnections: optionalInteger("max-connections", 1, 1_000_000, "Open connections at most (default 1024)"),
  headersTimeoutMillis: optionalInteger(
    "headers-timeout-ms",
    0,
    3_600_000,
    "Time to receive request headers (default 10000)"
  ),
  requestTimeoutMillis: optionalInteger(
    "request-timeout-ms",
    0,
    3_600_000,
    "Time to receive a whole request (default 30000)"
  ),
  keepAliveTimeoutMillis: optionalInteger(
    "keep-alive-timeout-ms",
    0,
    3_600_000,
    "Idle kept-alive connections closed after (default 5000)"
  ),
  faults: faultFlags
}

type Flags = Command.Command.ParseConfig<typeof flags>

/**
 * The server's options from the flags; `tokenGenerated` when neither `--token` nor `CHITTY_ID_TOKEN`
 * gave one (it is then printed).
 *
 * @since 0.2.0
 * @category constructors
 */
const serverOptions = (
  flags: Flags,
  envToken: Option.Option<Redacted.Redacted<string>>
): { readonly options: ServerOptions; readonly tokenGenerated: boolean } => {
  const given = Option.orElse(flags.token, () => Option.filter(envToken, (t) => Redacted.value(t) !== ""))
  const get = Option.getOrUndefined
  return {
    tokenGenerated: Option.isNone(given),
    options: {
      port: flags.port,
      host: flags.host,
      token: Option.getOrElse(given, () => Redacted.make(randomUUID())),
      seed: get(flags.seed),
      maxBodyBytes: get(flags.maxBodyBytes),
      sequenceCapacity: get(flags.sequenceCapacity),
      profile: flags.profile,
      maxJsonDepth: get(flags.maxJsonDepth),
      maxRecords: get(flags.maxRecords),
      maxConnections: get(flags.maxConnections),
      headersTimeoutMillis: get(flags.headersTimeoutMillis),
      requestTimeoutMillis: get(flags.requestTimeoutMillis),
      keepAliveTimeoutMillis: get(flags.keepAliveTimeoutMillis),
      faults: flags.faults
    }
  }
}

/**
 * The `serve` command, under a name: `serve` in `chittyid`, `chittyid-reference-server` as a bin of
 * its own.
 *
 * @example
 * ```sh
 * chittyid serve --port 0 --seed 42 --error-rate 0.3 --retry-after 1
 * chittyid serve --profile live
 * ```
 *
 * @since 0.2.0
 * @category commands
 */
export const named = <Name extends string>(name: Name) =>
  Command.make(name, flags, (flags) =>
    Effect.gen(function*() {
      const envToken = yield* Config.option(Config.redacted("CHITTY_ID_TOKEN")).pipe(
        Effect.orElseSucceed(() => Option.none())
      )
      const { options, tokenGenerated } = serverOptions(flags, envToken)
      yield* serve(options, tokenGenerated)
    })).pipe(Command.withDescription(
      "Run the reference server; prints one JSON line {\"url\"} (and \"token\" when generated) on stdout"
    ))

const serve = (options: ServerOptions, tokenGenerated: boolean) =>
  Effect.gen(function*() {
    const server = yield* ReferenceServer
    yield* Console.log(
      JSON.stringify(tokenGenerated ? { url: server.url, token: Redacted.value(server.token) } : { url: server.url })
    )
    return yield* Effect.never
  }).pipe(
    Effect.provide(ReferenceServer.layer(options)),
    Effect.catchTag("ServeError", (error) =>
      Effect.fail(
        new CliFailure({ message: `cannot listen on ${options.host}:${options.port}: ${String(error.cause)}` })
      ))
  )

/**
 * The `serve` command of `chittyid`.
 *
 * @since 0.2.0
 * @category commands
 */
export const command = named("serve")
