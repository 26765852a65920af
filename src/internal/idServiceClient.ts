/**
 * The resilient client: transport attempts (each under one timer, cut to the call's deadline)
 * wrapped in metrics and the retry policy, the whole call under the circuit breaker.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import * as Api from "../Api.ts"
import * as ChittyId from "../ChittyId.ts"
import type * as IdServiceClient from "../IdServiceClient.ts"
import { IdServiceConfig } from "../IdServiceConfig.ts"
import * as IdServiceError from "../IdServiceError.ts"
import * as Observability from "../Observability.ts"
import * as Retry from "../Retry.ts"
import * as MetricLabels from "./metricLabels.ts"
import * as MintRequest from "./mintRequest.ts"
import * as Placeholder from "./placeholder.ts"
import * as Tracing from "./tracing.ts"
import * as Transport from "./transport.ts"

type Endpoint = Transport.Endpoint

const methods: Record<Endpoint, string> = { mint: "POST", validate: "POST", health: "GET" }
const templates: Record<Endpoint, string> = {
  mint: Api.paths.mint,
  validate: Api.paths.validate,
  health: Api.paths.health
}

/** `server.address` and `server.port` of the service's URL (the scheme's port when it names none). */
const serverOf = (url: string): { readonly address: string; readonly port: number } => {
  const parsed = new URL(url)
  const port = parsed.port !== "" ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80
  return { address: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port }
}

/**
 * The client's metrics, each set of attributes labelled once (see `metricLabels.ts`). Attributes
 * follow OpenTelemetry's HTTP client conventions; `error.type` is the error's tag.
 */
const makeInstruments = (url: string) => {
  const server = serverOf(url)
  const durations = MetricLabels.family(Observability.metrics.requestDuration)
  const retries = MetricLabels.family(Observability.metrics.retries)
  const rejections = MetricLabels.family(Observability.metrics.breakerRejections)
  return {
    duration: (endpoint: Endpoint, status: number | undefined, error: string | undefined) =>
      durations(`${endpoint} ${status} ${error}`, () => ({
        "http.request.method": methods[endpoint],
        "server.address": server.address,
        "server.port": server.port,
        "url.template": templates[endpoint],
        "http.response.status_code": status,
        "error.type": error
      })),
    retries: (endpoint: Endpoint) => retries(endpoint, () => ({ "chittyid.endpoint": endpoint })),
    rejections: (operation: Operation) => rejections(operation, () => ({ "chittyid.operation": operation }))
  }
}

/** The operations judged by their own breaker. */
type Operation = "mint" | "validate"

/** A failure of the whole service, not of one operation: both breakers record it. */
const isServiceWide = (error: IdServiceError.IdServiceError): boolean =>
  error._tag === "ConnectionError" || (error._tag === "MintOutcomeUnknown" && error.reason === "ConnectionError")

/** A failure after which the request may have reached the service: a mint retried then could mint twice. */
const mayHaveReached = (
  error: IdServiceError.IdServiceError
): error is IdServiceError.RequestTimeout | IdServiceError.ConnectionError =>
  (error._tag === "RequestTimeout" || error._tag === "ConnectionError") && error.requestSent

const outcomeUnknown = (
  error: IdServiceError.RequestTimeout | IdServiceError.ConnectionError,
  idempotencyKey: string
) =>
  new IdServiceError.MintOutcomeUnknown({
    message: `${error.message}; the request may have reached the service, which is not known to honour ` +
      `Idempotency-Key, so it was not sent again (that could mint a second ID). Retry it with the same ` +
      `idempotencyKey, or look for the ID first`,
    reason: error._tag,
    idempotencyKey
  })

const malformedValidate = (message: string) =>
  new IdServiceError.MalformedResponse({ message: `validate: ${message}`, endpoint: "validate", status: 200 })

/**
 * Is this the service's answer about `id`? A valid answer must carry `id`'s own components (check
 * number included); a placeholder or replacement answer about a permanent ID is no answer at all.
 */
const checkValidateAnswer = (
  id: ChittyId.ChittyId,
  answer: Api.ValidateResponse
): Effect.Effect<Api.ValidateResponse, IdServiceError.MalformedResponse> => {
  if ("replaced" in answer || "isError" in answer) {
    return Effect.fail(
      malformedValidate(`asked about the permanent ID ${id}, the service answered about a placeholder`)
    )
  }
  if (!answer.valid) return Effect.succeed(answer)
  const parts = ChittyId.parse(id)
  if (Either.isLeft(parts)) return Effect.fail(malformedValidate(parts.left.message))
  return MintRequest.componentsMatch(answer.components, parts.right)
    ? Effect.succeed(answer)
    : Effect.fail(
      malformedValidate(`the answer's components (${describeComponents(answer.components)}) are not those of ${id}`)
    )
}

/** The service's answer about a placeholder: replaced, not yet (`MintUnavailable`), or never. */
const replacementOf = (
  placeholder: ChittyId.FallbackId,
  answer: Api.ValidateResponse
): Effect.Effect<Api.ValidateReplaced, IdServiceError.IdServiceError> => {
  if ("replaced" in answer) {
    return answer.oldId === placeholder
      ? Effect.succeed(answer)
      : Effect.fail(malformedValidate(`asked to replace ${placeholder}, the service replaced ${answer.oldId}`))
  }
  if ("isError" in answer) {
    if (!answer.canReplace || answer.errorName === "INVALID_REQUEST") {
      return Effect.fail(
        new IdServiceError.InvalidRequest({
          message: `replaceFallback: the service will never replace ${placeholder} (${answer.errorName}): ${
            answer.message.slice(0, 200)
          }`,
          errorCode: answer.errorName,
          fallbackId: placeholder
        })
      )
    }
    return Effect.fail(
      new IdServiceError.MintUnavailable({
        message: `replaceFallback: the service cannot replace ${placeholder} yet (${answer.errorName}): ${
          answer.message.slice(0, 200)
        }`,
        errorCode: answer.errorName,
        fallbackId: placeholder
      })
    )
  }
  if (answer.valid) {
    return Effect.fail(malformedValidate(`the service calls the placeholder ${placeholder} a valid ID`))
  }
  return Effect.fail(
    new IdServiceError.InvalidRequest({
      message: `replaceFallback: the service will not replace ${placeholder}: ${answer.error.slice(0, 200)}`,
      fallbackId: placeholder
    })
  )
}

const describeComponents = (c: Api.Components): string =>
  [c.version, c.region, c.jurisdiction, c.sequential, c.entityType, c.yearMonth, c.trustLevel, c.checksum]
    .map((part) => part.slice(0, 8))
    .join("-")
    .slice(0, 64)

export const make = (
  options: IdServiceClient.Options,
  breakers: IdServiceClient.Breakers
): Effect.Effect<
  IdServiceClient.Service,
  never,
  HttpClient.HttpClient | IdServiceConfig | Scope.Scope
> =>
  Effect.gen(function*() {
    const settings = yield* IdServiceConfig
    const transport = yield* Transport.make({ config: settings, transformClient: options.transformClient })
    const events = yield* Effect.acquireRelease(
      PubSub.sliding<Observability.ClientEvent>(Observability.eventBuffer),
      PubSub.shutdown
    )
    const instruments = makeInstruments(settings.url)

    const sent = { mint: 0, validate: 0, health: 0 }
    const failures: Record<string, number> = {}
    let retries = 0
    // Per service (this client's URL): does it honour Idempotency-Key? Learned from its mint answers.
    let keysHonoured = settings.idempotency === "honoured"
    const learn = (answer: Transport.MintAnswer): void => {
      if (settings.idempotency !== "auto") return
      if (answer.keyEchoed) keysHonoured = true
      // A stored (permanent) answer without the echo: this service does not keep keys (any more).
      else if (answer.body.fallback !== true) keysHonoured = false
    }

    /** One attempt, counted and timed (in seconds), with the status of its answer when one came. */
    const instrument = <A>(
      endpoint: Endpoint,
      attempt: (onStatus: Transport.OnStatus) => Effect.Effect<A, IdServiceError.IdServiceError>
    ) =>
      Effect.withFiberRuntime<A, IdServiceError.IdServiceError>((fiber) => {
        sent[endpoint]++
        const start = performance.now()
        let status: number | undefined
        const seconds = () => (performance.now() - start) / 1000
        return MetricLabels.matchOutcome(
          fiber,
          attempt((answered) => {
            status = answered
          }),
          {
            onSuccess: (_, labels) => instruments.duration(endpoint, status, undefined).unsafeUpdate(seconds(), labels),
            onFailure: (error, labels) => {
              failures[error._tag] = (failures[error._tag] ?? 0) + 1
              instruments.duration(endpoint, status, error._tag).unsafeUpdate(seconds(), labels)
            }
          }
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
      mint: (requestSent: boolean) =>
        new IdServiceError.RequestTimeout({
          message: `mint: no result within ${overallTimeout} ms (retries included)`,
          timeoutMs: overallTimeout,
          scope: "overall",
          requestSent
        }),
      validate: (requestSent: boolean) =>
        new IdServiceError.RequestTimeout({
          message: `validate: no result within ${overallTimeout} ms (retries included)`,
          timeoutMs: overallTimeout,
          scope: "overall",
          requestSent
        })
    }
    /**
     * One logical call under the breaker of its operation. An ordinary call is retried by the policy;
     * a half-open probe sends exactly one request (its outcome alone decides the breaker). A failure
     * of the whole service (the connection) is recorded by the other operation's breaker too.
     */
    const resilient = <A>(
      operation: Operation,
      endpoint: Exclude<Endpoint, "health">,
      attempt: (
        deadline: Transport.Deadline,
        onStatus: Transport.OnStatus
      ) => Effect.Effect<A, IdServiceError.IdServiceError>
    ): Effect.Effect<A, IdServiceError.IdServiceError> =>
      breakers[operation].withAdmission(({ probe }) =>
        Effect.clockWith((clock) => {
          // made with `new`, as what lives as long as a call is: see "Allocation sites" in `undiciClient.ts`
          const deadline = new Transport.Deadline(clock.unsafeCurrentTimeMillis() + overallTimeout, overall[endpoint])
          const attempts = instrument(endpoint, (onStatus) => attempt(deadline, onStatus))
          return probe ? attempts : Retry.retry(attempts, retryPolicies[endpoint])
        })
      ).pipe(
        Effect.tapError((error) => {
          if (error._tag === "CircuitOpen") return Metric.increment(instruments.rejections(operation))
          const other = breakers[operation === "mint" ? "validate" : "mint"]
          return isServiceWide(error) && other !== breakers[operation]
            ? Effect.ignore(other.withBreaker(Effect.fail(error)))
            : Effect.void
        })
      )

    const mintAttempt = (
      call: IdServiceClient.MintCall,
      deadline: Transport.Deadline,
      onStatus: Transport.OnStatus
    ) =>
      Effect.matchEffect(transport.mint(call, deadline, onStatus), {
        // Sent, maybe received, no answer: sending it again is safe only if the service keeps keys.
        onFailure: (error) =>
          Effect.fail(mayHaveReached(error) && !keysHonoured ? outcomeUnknown(error, call.idempotencyKey) : error),
        onSuccess: (answer) => {
          learn(answer)
          const body = answer.body
          // A placeholder fails the attempt with what its code means (so the retry policy and the
          // breaker judge it), unless the caller takes placeholders.
          return body.fallback === true && !call.acceptFallback
            ? Effect.fail(Placeholder.toError(body))
            : Effect.succeed(body)
        }
      })

    return {
      mint: (call) => resilient("mint", "mint", (deadline, onStatus) => mintAttempt(call, deadline, onStatus)),
      // its span (when a tracer records it) is handed to the transport: see `tracing.ts`
      validate: (id) =>
        Effect.withFiberRuntime((fiber) => {
          const call = (span: Tracer.Span | undefined) =>
            resilient(
              "validate",
              "validate",
              (deadline, onStatus) =>
                Effect.flatMap(
                  transport.validate(id, deadline, onStatus, span),
                  (answer) => checkValidateAnswer(id, answer)
                )
            )
          return Tracing.clientSpan(fiber, "ChittyId.validate", validateSpanAttributes, call)
        }),
      // Asking about a placeholder makes the service try to mint its replacement: minting trouble,
      // judged by the mint breaker, so it never holds validation up. The service replaces a
      // placeholder once and answers the same permanent ID every time after: retries are safe.
      replaceFallback: (placeholder) =>
        resilient(
          "mint",
          "validate",
          (deadline, onStatus) =>
            Effect.flatMap(
              transport.validate(placeholder, deadline, onStatus),
              (answer) => replacementOf(placeholder, answer)
            )
        ),
      health: (timeout) =>
        instrument(
          "health",
          (onStatus) => transport.health(timeout === undefined ? undefined : Duration.decode(timeout), onStatus)
        ),
      retries: Stream.fromPubSub(events),
      stats: Effect.sync(() => ({ sent: { ...sent }, failures: { ...failures }, retries, keysHonoured }))
    } satisfies IdServiceClient.Service
  })

const validateSpanAttributes = () => ({ "chittyid.remote": true })

const errorTag = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : "Unknown"
