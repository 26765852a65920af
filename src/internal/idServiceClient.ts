/**
 * The resilient client: transport attempts (each under one timer, cut to the call's deadline)
 * wrapped in metrics and the retry policy, the whole call under the circuit breaker.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as CircuitBreaker from "../CircuitBreaker.ts"
import type * as IdServiceClient from "../IdServiceClient.ts"
import { IdServiceConfig } from "../IdServiceConfig.ts"
import * as IdServiceError from "../IdServiceError.ts"
import * as Observability from "../Observability.ts"
import * as Retry from "../Retry.ts"
import * as Placeholder from "./placeholder.ts"
import * as Transport from "./transport.ts"

type Endpoint = Transport.Endpoint

const endpoints: ReadonlyArray<Endpoint> = ["mint", "validate", "health"]

/**
 * `metric` with `labels` fixed once. `Metric.tagged` merges its labels into a new array on every
 * update, so Effect's hook cache (keyed by that array) always misses and the registry builds and
 * hashes a new `MetricKey` per call; here the same array is passed every time and the cached hook is
 * found at once. Labels added by the caller (`Effect.labelMetrics`) are merged as `Metric.tagged` does.
 */
const labelled = <Type, In, Out>(
  metric: Metric.Metric<Type, In, Out>,
  labels: ReadonlyArray<MetricLabel.MetricLabel>
): Metric.Metric<Type, In, Out> => {
  const withExtra = (extra: ReadonlyArray<MetricLabel.MetricLabel>) =>
    extra.length === 0 ? labels : Arr.union(labels, extra)
  return Metric.make(
    metric.keyType,
    (input, extra) => metric.unsafeUpdate(input, withExtra(extra)),
    (extra) => metric.unsafeValue(withExtra(extra)),
    (input, extra) => metric.unsafeModify(input, withExtra(extra))
  )
}

const label = MetricLabel.make

/** Metrics per endpoint, labelled once so the hot path neither allocates nor hashes metric keys. */
const makeInstruments = () => {
  const ok = new Map<Endpoint, Metric.Metric.Counter<number>>()
  const duration = new Map<Endpoint, Metric.Metric.Histogram<number>>()
  const retries = new Map<Endpoint, Metric.Metric.Counter<number>>()
  const failed = new Map<string, Metric.Metric.Counter<number>>()
  for (const endpoint of endpoints) {
    ok.set(
      endpoint,
      labelled(Observability.metrics.requests, [label("endpoint", endpoint), label("outcome", "ok")])
    )
    duration.set(endpoint, labelled(Observability.metrics.requestDuration, [label("endpoint", endpoint)]))
    retries.set(endpoint, labelled(Observability.metrics.retries, [label("endpoint", endpoint)]))
  }
  const failure = (endpoint: Endpoint, tag: string) => {
    const key = `${endpoint}/${tag}`
    let metric = failed.get(key)
    if (metric === undefined) {
      metric = labelled(Observability.metrics.requests, [label("endpoint", endpoint), label("outcome", tag)])
      failed.set(key, metric)
    }
    return metric
  }
  return {
    ok: (endpoint: Endpoint) => ok.get(endpoint)!,
    duration: (endpoint: Endpoint) => duration.get(endpoint)!,
    retries: (endpoint: Endpoint) => retries.get(endpoint)!,
    failure
  }
}

export const make = (
  options: IdServiceClient.Options
): Effect.Effect<
  IdServiceClient.Service,
  never,
  HttpClient.HttpClient | CircuitBreaker.CircuitBreaker | IdServiceConfig | Scope.Scope
> =>
  Effect.gen(function*() {
    const settings = yield* IdServiceConfig
    const breaker = yield* CircuitBreaker.CircuitBreaker
    const transport = yield* Transport.make({ config: settings, transformClient: options.transformClient })
    const events = yield* Effect.acquireRelease(PubSub.unbounded<Observability.ClientEvent>(), PubSub.shutdown)
    const instruments = makeInstruments()

    const sent = { mint: 0, validate: 0, health: 0 }
    const failures: Record<string, number> = {}
    let retries = 0

    /** One attempt, counted and timed. */
    const instrument = <A>(endpoint: Endpoint, attempt: Effect.Effect<A, IdServiceError.IdServiceError>) =>
      Effect.suspend(() => {
        sent[endpoint]++
        const start = performance.now()
        return attempt.pipe(
          Effect.tapBoth({
            onSuccess: () =>
              Effect.zipRight(
                Metric.increment(instruments.ok(endpoint)),
                Metric.update(instruments.duration(endpoint), performance.now() - start)
              ),
            onFailure: (error) => {
              failures[error._tag] = (failures[error._tag] ?? 0) + 1
              return Effect.zipRight(
                Metric.increment(instruments.failure(endpoint, error._tag)),
                Metric.update(instruments.duration(endpoint), performance.now() - start)
              )
            }
          })
        )
      })

    const overallTimeout = Duration.toMillis(settings.timeout)
    const retryOptions = (endpoint: Endpoint): Retry.Options => ({
      base: settings.retry.base,
      maxDelay: settings.retry.maxDelay,
      maxRetries: settings.retry.maxRetries,
      jitter: settings.retry.jitter,
      deadline: settings.timeout,
      onRetry: (info) =>
        Effect.suspend(() => {
          retries++
          return Effect.zipRight(
            Metric.increment(instruments.retries(endpoint)),
            Effect.flatMap(Effect.clockWith((clock) => clock.currentTimeMillis), (at) =>
              PubSub.publish(
                events,
                Observability.ClientEvent.RetryScheduled({
                  endpoint,
                  attempt: info.attempt,
                  delayMs: Duration.toMillis(info.delay),
                  error: errorTag(info.error),
                  at
                })
              ))
          )
        })
    })
    const retryPolicies = {
      mint: retryOptions("mint"),
      validate: retryOptions("validate")
    }

    /**
     * One logical call: attempts retried by the policy, all of it under the overall timeout, and the
     * breaker around the whole (it judges calls, not attempts: a transient failure that a retry
     * absorbs is not a failure of the service, and an open breaker rejects before any of this runs).
     */
    const overall = {
      mint: () =>
        new IdServiceError.RequestTimeout({
          message: `mint: no result within ${overallTimeout} ms (retries included)`,
          timeoutMs: overallTimeout,
          scope: "overall"
        }),
      validate: () =>
        new IdServiceError.RequestTimeout({
          message: `validate: no result within ${overallTimeout} ms (retries included)`,
          timeoutMs: overallTimeout,
          scope: "overall"
        })
    }
    const resilient = <A>(
      endpoint: "mint" | "validate",
      attempt: (deadline: Transport.Deadline) => Effect.Effect<A, IdServiceError.IdServiceError>
    ) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        instrument(endpoint, attempt({ at: now + overallTimeout, onTimeout: overall[endpoint] })).pipe(
          Retry.retry(retryPolicies[endpoint])
        )).pipe(breaker.withBreaker)

    return {
      mint: (call) =>
        resilient("mint", (deadline) =>
          transport.mint(call, deadline).pipe(
            // A placeholder fails the attempt with what its code means (so the retry policy and the
            // breaker judge it), unless the caller takes placeholders.
            Effect.flatMap((answer) =>
              answer.fallback === true && !call.acceptFallback
                ? Effect.fail(Placeholder.toError(answer))
                : Effect.succeed(answer)
            )
          )),
      validate: (id) =>
        resilient("validate", (deadline) =>
          transport.validate(id, deadline)).pipe(
            Effect.withSpan("ChittyId.validate", {
              kind: "client",
              captureStackTrace: false,
              attributes: { "chittyid.remote": true }
            })
          ),
      health: (timeout) =>
        instrument("health", transport.health(timeout === undefined ? undefined : Duration.decode(timeout))),
      retries: Stream.fromPubSub(events),
      stats: Effect.sync(() => ({ sent: { ...sent }, failures: { ...failures }, retries }))
    } satisfies IdServiceClient.Service
  })

const errorTag = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : "Unknown"
