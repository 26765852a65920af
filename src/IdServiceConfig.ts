/**
 * Settings of the live `IdService`, read from Effect's `Config` (environment variables by default)
 * with documented defaults. A bad value fails layer construction with a `ConfigError` that names the
 * variable and says what is wrong; the token is `Redacted` and never printed.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `CHITTY_ID_URL` | `https://id.chitty.cc` | base URL of the service |
 * | `CHITTY_ID_TOKEN` | — | bearer token (`Redacted`); required for mint and remote validation |
 * | `CHITTY_ID_ALLOW_INSECURE_HTTP` | `false` | allow plain `http://` to a host other than loopback |
 * | `CHITTY_ID_REQUEST_TIMEOUT` | `5 seconds` | one HTTP attempt |
 * | `CHITTY_ID_TIMEOUT` | `15 seconds` | a whole call, retries included |
 * | `CHITTY_ID_MAX_RESPONSE_BYTES` | `65536` | largest answer body read (1 KiB to 256 MiB); a longer one is `MalformedResponse` |
 * | `CHITTY_ID_REMOTE_VALIDATION` | `false` | confirm locally valid IDs with the service |
 * | `CHITTY_ID_ACCEPT_FALLBACK` | `false` | accept fallback placeholders from mint instead of failing |
 * | `CHITTY_ID_IDEMPOTENCY` | `auto` | `auto` (keys honoured once the service echoes one), `honoured` or `ignored`; while not honoured, a mint that may have reached the service is not retried (`MintOutcomeUnknown`) |
 * | `CHITTY_ID_RETRY_MAX` | `3` | retries after the first attempt |
 * | `CHITTY_ID_RETRY_BASE` | `100 millis` | first retry delay, doubling |
 * | `CHITTY_ID_RETRY_MAX_DELAY` | `5 seconds` | cap of one delay (a `Retry-After` may exceed it) |
 * | `CHITTY_ID_RETRY_JITTER` | `full` | `full`, `decorrelated` or `none` |
 * | `CHITTY_ID_BREAKER_FAILURES` | `5` | consecutive failures that open the breaker |
 * | `CHITTY_ID_BREAKER_FAILURE_RATE` | `0.5` | failure rate over the window that opens it |
 * | `CHITTY_ID_BREAKER_MINIMUM_CALLS` | `10` | calls in the window before the rate counts |
 * | `CHITTY_ID_BREAKER_WINDOW` | `10 seconds` | sliding window of the rates |
 * | `CHITTY_ID_BREAKER_SLOW_CALL` | — | calls slower than this count as slow (off when unset) |
 * | `CHITTY_ID_BREAKER_SLOW_CALL_RATE` | `1` | slow-call rate that opens it |
 * | `CHITTY_ID_BREAKER_OPEN` | `60 seconds` | how long it stays open before probing |
 * | `CHITTY_ID_BREAKER_OPEN_BACKOFF` | `2` | factor of the open time on each further trip before it closes |
 * | `CHITTY_ID_BREAKER_MAX_OPEN` | `5 minutes` | cap of the open time as it backs off on repeated trips |
 * | `CHITTY_ID_BREAKER_PROBES` | `1` | probes let through at once while half-open |
 * | `CHITTY_ID_BREAKER_SUCCESSES` | `1` | successful probes that close it |
 * | `CHITTY_ID_CACHE_CAPACITY` | `10000` | validation cache entries (LRU) |
 * | `CHITTY_ID_CACHE_TTL` | `5 minutes` | life of a cached "valid" answer |
 * | `CHITTY_ID_CACHE_UNKNOWN_TTL` | `30 seconds` | life of a cached "well-formed but unknown" answer |
 * | `CHITTY_ID_HEALTH_INTERVAL` | `30 seconds` | health check interval |
 * | `CHITTY_ID_HEALTH_TIMEOUT` | `5 seconds` | one health check |
 * | `CHITTY_ID_RECONNECT_BASE` | `1 second` | first reconnect probe after a failed check, doubling |
 * | `CHITTY_ID_RECONNECT_MAX` | `60 seconds` | cap of the reconnect backoff |
 * | `CHITTY_ID_RATE_LIMIT` | — (no limit) | mints allowed per window: `<limit>/<window>[:delay\|fail]`, e.g. `100/1s` (over the limit a mint waits) or `100/1s:fail` (it fails `RateLimited`); fleet-wide with `Fleet.layerRedis` |
 *
 * Durations take Effect's duration syntax (`"250 millis"`, `"5 seconds"`, `"1 minute"`).
 *
 * @example
 * ```ts
 * import { ConfigProvider, Effect } from "effect"
 * import * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
 *
 * const program = IdServiceConfig.config.pipe(
 *   Effect.withConfigProvider(ConfigProvider.fromJson({ CHITTY_ID_URL: "http://127.0.0.1:8787", CHITTY_ID_TOKEN: "t" }))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/**
 * The jitter of retry delays.
 *
 * @since 0.1.0
 * @category models
 */
export type Jitter = "full" | "decorrelated" | "none"

/**
 * The mint rate limit (setting `rateLimit`, env `CHITTY_ID_RATE_LIMIT`): at most `limit` mints per
 * `window`, counted in this process by effect's `RateLimiter`, or across the fleet with
 * `Fleet.layerRedis`. Over the limit a mint waits for the next window (`"delay"`) or fails at once
 * with `RateLimited` and a retry-after (`"fail"`).
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import type * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
 *
 * const hundredPerSecond: IdServiceConfig.RateLimit = { limit: 100, window: Duration.seconds(1), onExceeded: "fail" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface RateLimit {
  readonly limit: number
  readonly window: Duration.Duration
  readonly onExceeded: "delay" | "fail"
}

/**
 * Every setting of the live client. Build one with {@link make} (defaults filled in) or read it
 * from the environment with {@link config}; provide it with {@link IdServiceConfig.layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  /** Base URL of the service, without a trailing slash. */
  readonly url: string
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly allowInsecureHttp: boolean
  readonly requestTimeout: Duration.Duration
  readonly timeout: Duration.Duration
  /**
   * The largest answer body read, in bytes: reading stops there and the attempt fails with
   * `MalformedResponse` (not retried). The service's answers are under 2 KiB.
   */
  readonly maxResponseBytes: number
  readonly remoteValidation: boolean
  readonly acceptFallback: boolean
  /**
   * Whether the service honours `Idempotency-Key` (a replay returns the first answer): `"auto"`
   * learns it (honoured once the service echoes the key on a mint answer), `"honoured"` and
   * `"ignored"` say it. While keys are not known to be honoured, a mint whose request may have
   * reached the service is not retried: it fails with `MintOutcomeUnknown`.
   */
  readonly idempotency: Idempotency
  readonly retry: {
    readonly maxRetries: number
    readonly base: Duration.Duration
    readonly maxDelay: Duration.Duration
    readonly jitter: Jitter
  }
  readonly breaker: {
    readonly consecutiveFailures: number
    readonly failureRateThreshold: number
    readonly minimumCalls: number
    readonly window: Duration.Duration
    readonly slowCall: Option.Option<Duration.Duration>
    readonly slowCallRateThreshold: number
    readonly openDuration: Duration.Duration
    readonly openBackoffFactor: number
    readonly maxOpenDuration: Duration.Duration
    readonly halfOpenProbes: number
    readonly halfOpenSuccesses: number
  }
  readonly cache: {
    readonly capacity: number
    readonly validTtl: Duration.Duration
    readonly unknownTtl: Duration.Duration
  }
  readonly health: {
    readonly interval: Duration.Duration
    readonly timeout: Duration.Duration
    readonly reconnectBase: Duration.Duration
    readonly reconnectMax: Duration.Duration
  }
  /** The mint rate limit; none by default. @since 0.2.0 */
  readonly rateLimit: Option.Option<RateLimit>
}

/**
 * The settings every field of {@link IdServiceConfig} takes when not given.
 *
 * @example
 * ```ts
 * import * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
 * IdServiceConfig.defaults.retry.maxRetries // 3
 * ```
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaults: Settings = {
  url: "https://id.chitty.cc",
  token: Option.none(),
  allowInsecureHttp: false,
  requestTimeout: Duration.seconds(5),
  timeout: Duration.seconds(15),
  maxResponseBytes: 64 * 1024,
  remoteValidation: false,
  acceptFallback: false,
  idempotency: "auto",
  retry: { maxRetries: 3, base: Duration.millis(100), maxDelay: Duration.seconds(5), jitter: "full" },
  breaker: {
    consecutiveFailures: 5,
    failureRateThreshold: 0.5,
    minimumCalls: 10,
    window: Duration.seconds(10),
    slowCall: Option.none(),
    slowCallRateThreshold: 1,
    openDuration: Duration.seconds(60),
    openBackoffFactor: 2,
    maxOpenDuration: Duration.minutes(5),
    halfOpenProbes: 1,
    halfOpenSuccesses: 1
  },
  cache: { capacity: 10_000, validTtl: Duration.minutes(5), unknownTtl: Duration.seconds(30) },
  health: {
    interval: Duration.seconds(30),
    timeout: Duration.seconds(5),
    reconnectBase: Duration.seconds(1),
    reconnectMax: Duration.seconds(60)
  },
  rateLimit: Option.none()
}

/**
 * Whether the service honours `Idempotency-Key` (env `CHITTY_ID_IDEMPOTENCY`, default `auto`).
 *
 * @since 0.2.0
 * @category models
 */
export type Idempotency = "auto" | "honoured" | "ignored"

/**
 * What {@link make} takes: some or all of the settings; nested groups may be given in part.
 *
 * @since 0.1.0
 * @category models
 */
export interface Input {
  readonly url?: string | URL | undefined
  readonly token?: Redacted.Redacted<string> | undefined
  readonly allowInsecureHttp?: boolean | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly maxResponseBytes?: number | undefined
  readonly remoteValidation?: boolean | undefined
  readonly acceptFallback?: boolean | undefined
  readonly idempotency?: Idempotency | undefined
  readonly retry?: {
    readonly maxRetries?: number | undefined
    readonly base?: Duration.DurationInput | undefined
    readonly maxDelay?: Duration.DurationInput | undefined
    readonly jitter?: Jitter | undefined
  } | undefined
  readonly breaker?: {
    readonly consecutiveFailures?: number | undefined
    readonly failureRateThreshold?: number | undefined
    readonly minimumCalls?: number | undefined
    readonly window?: Duration.DurationInput | undefined
    /** Calls slower than this count as slow; `undefined` turns slow-call tracking off. */
    readonly slowCall?: Duration.DurationInput | undefined
    readonly slowCallRateThreshold?: number | undefined
    readonly openDuration?: Duration.DurationInput | undefined
    readonly openBackoffFactor?: number | undefined
    readonly maxOpenDuration?: Duration.DurationInput | undefined
    readonly halfOpenProbes?: number | undefined
    readonly halfOpenSuccesses?: number | undefined
  } | undefined
  readonly cache?: {
    readonly capacity?: number | undefined
    readonly validTtl?: Duration.DurationInput | undefined
    readonly unknownTtl?: Duration.DurationInput | undefined
  } | undefined
  readonly health?: {
    readonly interval?: Duration.DurationInput | undefined
    readonly timeout?: Duration.DurationInput | undefined
    readonly reconnectBase?: Duration.DurationInput | undefined
    readonly reconnectMax?: Duration.DurationInput | undefined
  } | undefined
  /**
   * At most `limit` mints per `window`; over it a mint waits (`onExceeded: "delay"`, the default)
   * or fails `RateLimited` (`"fail"`). A string takes the `CHITTY_ID_RATE_LIMIT` format (`"100/1s:fail"`).
   *
   * @since 0.2.0
   */
  readonly rateLimit?:
    | {
      readonly limit: number
      readonly window: Duration.DurationInput
      readonly onExceeded?: "delay" | "fail" | undefined
    }
    | string
    | undefined
}

const rateLimitUnits: Readonly<Record<string, string>> = {
  ms: "millis",
  s: "seconds",
  m: "minutes",
  h: "hours"
}

const rateLimitFormat = "expected <limit>/<window>[:delay|fail], e.g. 100/1s or 100/1s:fail"

/**
 * Reads the `CHITTY_ID_RATE_LIMIT` format: `<limit>/<window>[:delay|fail]`, the window either
 * Effect's duration syntax (`1 second`, `500 millis`) or a number with `ms`, `s`, `m` or `h`
 * (`1s`, `250ms`). The limit is a positive whole number, the window longer than zero. The failure
 * says what is wrong.
 *
 * @example
 * ```ts
 * import * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
 *
 * IdServiceConfig.parseRateLimit("100/1s:fail") // Either.right({ limit: 100, window: 1 second, onExceeded: "fail" })
 * IdServiceConfig.parseRateLimit("100 per second") // Either.left("... expected <limit>/<window>[:delay|fail] ...")
 * ```
 *
 * @since 0.2.0
 * @category validation
 */
export const parseRateLimit = (text: string): Either.Either<RateLimit, string> => {
  const quoted = JSON.stringify(text.slice(0, 100))
  const match = /^\s*(\S+?)\s*\/\s*([^:]+?)\s*(?::\s*(\S*)\s*)?$/.exec(text)
  if (match === null) return Either.left(`${quoted}: ${rateLimitFormat}`)
  const [, limitText = "", windowText = "", mode] = match
  if (mode !== undefined && mode !== "delay" && mode !== "fail") {
    return Either.left(`${quoted}: the mode after ':' must be delay or fail, got ${JSON.stringify(mode)}`)
  }
  const limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN
  const short = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(windowText)
  const window = Duration.decodeUnknown(
    short === null ? windowText : `${short[1]} ${rateLimitUnits[short[2] ?? ""] ?? ""}`
  )
  if (Option.isNone(window)) {
    return Either.left(
      `${quoted}: the window ${JSON.stringify(windowText)} is not a duration (use 1s, 500ms, 1m or "1 second")`
    )
  }
  return checkRateLimit({ limit, window: window.value, onExceeded: mode ?? "delay" }).pipe(
    Either.mapLeft((problem) => `${quoted}: ${problem}`)
  )
}

const checkRateLimit = (rateLimit: RateLimit): Either.Either<RateLimit, string> =>
  !Number.isSafeInteger(rateLimit.limit) || rateLimit.limit <= 0
    ? Either.left(`the limit must be a positive whole number, got ${rateLimit.limit}`)
    : !Duration.isFinite(rateLimit.window) || Duration.toMillis(rateLimit.window) < 1
    ? Either.left(`the window must be at least 1 millisecond, got ${Duration.format(rateLimit.window)}`)
    : Either.right(rateLimit)

const rateLimitOf = (
  input: Input["rateLimit"]
): Either.Either<Option.Option<RateLimit>, string> => {
  if (input === undefined) return Either.right(Option.none())
  if (typeof input === "string") return Either.map(parseRateLimit(input), Option.some)
  const window = Duration.decodeUnknown(input.window)
  if (Option.isNone(window)) return Either.left(`the window is not a duration: ${String(input.window)}`)
  const onExceeded = input.onExceeded ?? "delay"
  if (onExceeded !== "delay" && onExceeded !== "fail") {
    return Either.left(`onExceeded must be "delay" or "fail", got ${JSON.stringify(onExceeded)}`)
  }
  return Either.map(checkRateLimit({ limit: input.limit, window: window.value, onExceeded }), Option.some)
}

const durations = <K extends string>(
  defaults: { readonly [P in K]: Duration.Duration },
  input: { readonly [P in NoInfer<K>]?: Duration.DurationInput | undefined } | undefined
): { [P in K]: Duration.Duration } => {
  const out = { ...defaults } as { [P in K]: Duration.Duration }
  for (const key of Object.keys(defaults) as Array<K>) {
    const value = input?.[key]
    if (value !== undefined) out[key] = Duration.decode(value)
  }
  return out
}

const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127(\.\d{1,3}){3}$/.test(hostname)

/**
 * Checks a base URL: absolute, `http:` or `https:`, no credentials, query or fragment; plain `http:`
 * only to a loopback host unless `allowInsecureHttp` (the token would travel in clear). Returns the
 * URL without a trailing slash, or a sentence saying what is wrong.
 *
 * @example
 * ```ts
 * import * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
 * IdServiceConfig.checkUrl("http://id.example.com", false) // Either.left("... plain http:// ...")
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const checkUrl = (input: string | URL, allowInsecureHttp: boolean): Either.Either<string, string> => {
  let url: URL
  try {
    url = new URL(String(input))
  } catch {
    return Either.left(`${JSON.stringify(String(input).slice(0, 200))} is not an absolute URL`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Either.left(`the URL must use http: or https:, not ${url.protocol}`)
  }
  if (url.username !== "" || url.password !== "") {
    return Either.left("the URL must not carry credentials; set CHITTY_ID_TOKEN instead")
  }
  if (url.search !== "" || url.hash !== "") {
    return Either.left("the URL must not have a query or a fragment")
  }
  if (url.protocol === "http:" && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    return Either.left(
      `plain http:// to ${url.hostname} would send the token in clear; use https:// or set CHITTY_ID_ALLOW_INSECURE_HTTP=true`
    )
  }
  return Either.right(`${url.origin}${url.pathname.replace(/\/+$/, "")}`)
}

const positive = (name: string, value: number, integer: boolean): Option.Option<string> =>
  Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value))
    ? Option.none()
    : Option.some(`${name} must be a positive ${integer ? "integer" : "number"}, got ${value}`)

/** Bounds of `maxResponseBytes`: 1 KiB (an answer is under 2 KiB) to 256 MiB. */
const minResponseBytes = 1024
const maxResponseBytes = 256 * 1024 * 1024

const checkSettings = (c: Settings): Option.Option<[path: string, message: string]> => {
  const checks: Array<[string, Option.Option<string>]> = [
    [
      "CHITTY_ID_RETRY_MAX",
      Number.isInteger(c.retry.maxRetries) && c.retry.maxRetries >= 0
        ? Option.none()
        : Option.some(`retries must be a whole number >= 0, got ${c.retry.maxRetries}`)
    ],
    ["CHITTY_ID_BREAKER_FAILURES", positive("consecutive failures", c.breaker.consecutiveFailures, true)],
    [
      "CHITTY_ID_BREAKER_FAILURE_RATE",
      c.breaker.failureRateThreshold > 0 && c.breaker.failureRateThreshold <= 1
        ? Option.none()
        : Option.some(`failure rate must be in (0, 1], got ${c.breaker.failureRateThreshold}`)
    ],
    [
      "CHITTY_ID_BREAKER_SLOW_CALL_RATE",
      c.breaker.slowCallRateThreshold > 0 && c.breaker.slowCallRateThreshold <= 1
        ? Option.none()
        : Option.some(`slow-call rate must be in (0, 1], got ${c.breaker.slowCallRateThreshold}`)
    ],
    [
      "CHITTY_ID_BREAKER_OPEN_BACKOFF",
      c.breaker.openBackoffFactor >= 1 && Number.isFinite(c.breaker.openBackoffFactor)
        ? Option.none()
        : Option.some(`open backoff factor must be >= 1, got ${c.breaker.openBackoffFactor}`)
    ],
    ["CHITTY_ID_BREAKER_MINIMUM_CALLS", positive("minimum calls", c.breaker.minimumCalls, true)],
    ["CHITTY_ID_BREAKER_PROBES", positive("half-open probes", c.breaker.halfOpenProbes, true)],
    ["CHITTY_ID_BREAKER_SUCCESSES", positive("half-open successes", c.breaker.halfOpenSuccesses, true)],
    ["CHITTY_ID_CACHE_CAPACITY", positive("cache capacity", c.cache.capacity, true)],
    [
      "CHITTY_ID_MAX_RESPONSE_BYTES",
      Number.isInteger(c.maxResponseBytes) && c.maxResponseBytes >= minResponseBytes &&
        c.maxResponseBytes <= maxResponseBytes
        ? Option.none()
        : Option.some(
          `the answer body cap must be a whole number of bytes from ${minResponseBytes} to ${maxResponseBytes}, got ${c.maxResponseBytes}`
        )
    ],
    ["CHITTY_ID_REQUEST_TIMEOUT", positive("request timeout (ms)", Duration.toMillis(c.requestTimeout), false)],
    ["CHITTY_ID_TIMEOUT", positive("timeout (ms)", Duration.toMillis(c.timeout), false)],
    ["CHITTY_ID_HEALTH_INTERVAL", positive("health interval (ms)", Duration.toMillis(c.health.interval), false)],
    ["CHITTY_ID_HEALTH_TIMEOUT", positive("health timeout (ms)", Duration.toMillis(c.health.timeout), false)],
    ["CHITTY_ID_RECONNECT_BASE", positive("reconnect base (ms)", Duration.toMillis(c.health.reconnectBase), false)],
    [
      "CHITTY_ID_RECONNECT_MAX",
      Duration.greaterThanOrEqualTo(c.health.reconnectMax, c.health.reconnectBase)
        ? Option.none()
        : Option.some("the reconnect cap must not be below the reconnect base")
    ],
    ["CHITTY_ID_RETRY_BASE", positive("retry base (ms)", Duration.toMillis(c.retry.base), false)],
    ["CHITTY_ID_BREAKER_WINDOW", positive("breaker window (ms)", Duration.toMillis(c.breaker.window), false)]
  ]
  for (const [path, problem] of checks) {
    if (Option.isSome(problem)) return Option.some([path, problem.value])
  }
  return Option.none()
}

/**
 * Builds a complete configuration from any subset of the settings, checking every value. The
 * failure is a `ConfigError` naming the setting.
 *
 * @example
 * ```ts
 * import * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
 * import { Redacted } from "effect"
 * IdServiceConfig.make({ url: "http://127.0.0.1:8787", token: Redacted.make("secret") })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: Input = {}): Either.Either<Settings, ConfigError.ConfigError> => {
  const allowInsecureHttp = input.allowInsecureHttp ?? defaults.allowInsecureHttp
  const url = checkUrl(input.url ?? defaults.url, allowInsecureHttp)
  if (Either.isLeft(url)) return Either.left(ConfigError.InvalidData(["CHITTY_ID_URL"], url.left))
  const rateLimit = rateLimitOf(input.rateLimit)
  if (Either.isLeft(rateLimit)) {
    return Either.left(ConfigError.InvalidData(["CHITTY_ID_RATE_LIMIT"], `rate limit: ${rateLimit.left}`))
  }
  const config: Settings = {
    url: url.right,
    token: Option.fromNullable(input.token),
    allowInsecureHttp,
    requestTimeout: Duration.decode(input.requestTimeout ?? defaults.requestTimeout),
    timeout: Duration.decode(input.timeout ?? defaults.timeout),
    maxResponseBytes: input.maxResponseBytes ?? defaults.maxResponseBytes,
    remoteValidation: input.remoteValidation ?? defaults.remoteValidation,
    acceptFallback: input.acceptFallback ?? defaults.acceptFallback,
    idempotency: input.idempotency ?? defaults.idempotency,
    retry: {
      maxRetries: input.retry?.maxRetries ?? defaults.retry.maxRetries,
      jitter: input.retry?.jitter ?? defaults.retry.jitter,
      ...durations({ base: defaults.retry.base, maxDelay: defaults.retry.maxDelay }, input.retry)
    },
    breaker: {
      consecutiveFailures: input.breaker?.consecutiveFailures ?? defaults.breaker.consecutiveFailures,
      failureRateThreshold: input.breaker?.failureRateThreshold ?? defaults.breaker.failureRateThreshold,
      minimumCalls: input.breaker?.minimumCalls ?? defaults.breaker.minimumCalls,
      slowCall: input.breaker?.slowCall === undefined
        ? defaults.breaker.slowCall
        : Option.some(Duration.decode(input.breaker.slowCall)),
      slowCallRateThreshold: input.breaker?.slowCallRateThreshold ?? defaults.breaker.slowCallRateThreshold,
      openBackoffFactor: input.breaker?.openBackoffFactor ?? defaults.breaker.openBackoffFactor,
      halfOpenProbes: input.breaker?.halfOpenProbes ?? defaults.breaker.halfOpenProbes,
      halfOpenSuccesses: input.breaker?.halfOpenSuccesses ?? defaults.breaker.halfOpenSuccesses,
      ...durations({
        window: defaults.breaker.window,
        openDuration: defaults.breaker.openDuration,
        maxOpenDuration: defaults.breaker.maxOpenDuration
      }, input.breaker)
    },
    cache: {
      capacity: input.cache?.capacity ?? defaults.cache.capacity,
      ...durations({ validTtl: defaults.cache.validTtl, unknownTtl: defaults.cache.unknownTtl }, input.cache)
    },
    health: durations(defaults.health, input.health),
    rateLimit: rateLimit.right
  }
  const problem = checkSettings(config)
  return Option.isSome(problem)
    ? Either.left(ConfigError.InvalidData([problem.value[0]], problem.value[1]))
    : Either.right(config)
}

const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.map(Config.option(config), Option.getOrUndefined)

/**
 * The configuration read from Effect's `Config` (environment variables `CHITTY_ID_*` by default;
 * see the table above). Fails with a `ConfigError` naming the variable.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
 * const program = Effect.gen(function*() {
 *   const config = yield* IdServiceConfig.config
 *   return config.url
 * })
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Settings> = Config.all({
  url: optional(Config.string("CHITTY_ID_URL")),
  token: optional(
    Config.redacted("CHITTY_ID_TOKEN").pipe(
      Config.validate({ message: "the token must not be empty", validation: (r) => Redacted.value(r).length > 0 })
    )
  ),
  allowInsecureHttp: optional(Config.boolean("CHITTY_ID_ALLOW_INSECURE_HTTP")),
  requestTimeout: optional(Config.duration("CHITTY_ID_REQUEST_TIMEOUT")),
  timeout: optional(Config.duration("CHITTY_ID_TIMEOUT")),
  maxResponseBytes: optional(Config.integer("CHITTY_ID_MAX_RESPONSE_BYTES")),
  remoteValidation: optional(Config.boolean("CHITTY_ID_REMOTE_VALIDATION")),
  acceptFallback: optional(Config.boolean("CHITTY_ID_ACCEPT_FALLBACK")),
  idempotency: optional(Config.literal("auto", "honoured", "ignored")("CHITTY_ID_IDEMPOTENCY")),
  retry: Config.all({
    maxRetries: optional(Config.integer("CHITTY_ID_RETRY_MAX")),
    base: optional(Config.duration("CHITTY_ID_RETRY_BASE")),
    maxDelay: optional(Config.duration("CHITTY_ID_RETRY_MAX_DELAY")),
    jitter: optional(Config.literal("full", "decorrelated", "none")("CHITTY_ID_RETRY_JITTER"))
  }),
  breaker: Config.all({
    consecutiveFailures: optional(Config.integer("CHITTY_ID_BREAKER_FAILURES")),
    failureRateThreshold: optional(Config.number("CHITTY_ID_BREAKER_FAILURE_RATE")),
    minimumCalls: optional(Config.integer("CHITTY_ID_BREAKER_MINIMUM_CALLS")),
    window: optional(Config.duration("CHITTY_ID_BREAKER_WINDOW")),
    slowCall: optional(Config.duration("CHITTY_ID_BREAKER_SLOW_CALL")),
    slowCallRateThreshold: optional(Config.number("CHITTY_ID_BREAKER_SLOW_CALL_RATE")),
    openDuration: optional(Config.duration("CHITTY_ID_BREAKER_OPEN")),
    openBackoffFactor: optional(Config.number("CHITTY_ID_BREAKER_OPEN_BACKOFF")),
    maxOpenDuration: optional(Config.duration("CHITTY_ID_BREAKER_MAX_OPEN")),
    halfOpenProbes: optional(Config.integer("CHITTY_ID_BREAKER_PROBES")),
    halfOpenSuccesses: optional(Config.integer("CHITTY_ID_BREAKER_SUCCESSES"))
  }),
  cache: Config.all({
    capacity: optional(Config.integer("CHITTY_ID_CACHE_CAPACITY")),
    validTtl: optional(Config.duration("CHITTY_ID_CACHE_TTL")),
    unknownTtl: optional(Config.duration("CHITTY_ID_CACHE_UNKNOWN_TTL"))
  }),
  health: Config.all({
    interval: optional(Config.duration("CHITTY_ID_HEALTH_INTERVAL")),
    timeout: optional(Config.duration("CHITTY_ID_HEALTH_TIMEOUT")),
    reconnectBase: optional(Config.duration("CHITTY_ID_RECONNECT_BASE")),
    reconnectMax: optional(Config.duration("CHITTY_ID_RECONNECT_MAX"))
  }),
  rateLimit: optional(Config.string("CHITTY_ID_RATE_LIMIT"))
}).pipe(
  Config.mapOrFail((raw) =>
    make({
      ...raw,
      retry: definedOnly(raw.retry),
      breaker: definedOnly(raw.breaker),
      cache: definedOnly(raw.cache),
      health: definedOnly(raw.health)
    })
  )
)

const definedOnly = <A extends object>(record: { readonly [K in keyof A]: A[K] | undefined }): Partial<A> =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<A>

/**
 * A short description of a configuration, safe to log: the token shows only as set or not set.
 *
 * @example
 * ```ts
 * import * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
 * IdServiceConfig.describe(IdServiceConfig.defaults) // "https://id.chitty.cc (token: not set, ...)"
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const describe = (config: Settings): string =>
  `${config.url} (token: ${Option.isSome(config.token) ? "set" : "not set"}, timeout ${
    Duration.format(config.timeout)
  }, retries ${config.retry.maxRetries}, remote validation ${config.remoteValidation ? "on" : "off"})`

/**
 * The settings in context: every layer of the client reads them from here.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { IdServiceConfig } from "effect-chittyid/IdServiceConfig"
 *
 * const url = Effect.map(IdServiceConfig, (settings) => settings.url)
 * const provided = url.pipe(Effect.provide(IdServiceConfig.layerWith({ url: "http://127.0.0.1:8787" })))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class IdServiceConfig extends Context.Tag("effect-chittyid/IdServiceConfig")<IdServiceConfig, Settings>() {
  /**
   * The settings read from `CHITTY_ID_*` (see the table above); a bad value fails with a `ConfigError`.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<IdServiceConfig, ConfigError.ConfigError> = Layer.effect(IdServiceConfig, config)

  /**
   * The settings given in code, defaults for the rest; a bad value fails with a `ConfigError`.
   *
   * @since 0.1.0
   */
  static readonly layerWith = (input: Input): Layer.Layer<IdServiceConfig, ConfigError.ConfigError> =>
    Layer.effect(IdServiceConfig, make(input))
}
