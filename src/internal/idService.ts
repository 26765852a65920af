/**
 * The live `IdService`: local checks first, then the resilient client, the validation cache and the
 * health monitor; spans, counters and the merged event stream.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import type * as Api from "../Api.ts"
import * as ChittyId from "../ChittyId.ts"
import { HealthMonitor } from "../HealthMonitor.ts"
import type * as IdService from "../IdService.ts"
import { IdServiceBreakers, IdServiceClient } from "../IdServiceClient.ts"
import type * as IdServiceClientModule from "../IdServiceClient.ts"
import { IdServiceConfig } from "../IdServiceConfig.ts"
import * as IdServiceError from "../IdServiceError.ts"
import * as Observability from "../Observability.ts"
import { ValidationCache } from "../ValidationCache.ts"
import * as breakerEvents from "./breaker.ts"
import * as CallMetrics from "./callMetrics.ts"
import { Fleet } from "./fleet.ts"
import * as MintAudit from "./mintAudit.ts"
import * as MintRateLimit from "./mintRateLimit.ts"
import * as MintRequest from "./mintRequest.ts"
import * as Tracing from "./tracing.ts"

const newIdempotencyKey = (): string => crypto.randomUUID()

/**
 * The call handed to the client: made with `new`, as what lives as long as a call is (see
 * "Allocation sites" in `undiciClient.ts`).
 */
class MintCall implements IdServiceClientModule.MintCall {
  constructor(
    readonly body: string,
    readonly urlParams: Readonly<Record<string, string>>,
    readonly idempotencyKey: string,
    readonly acceptFallback: boolean,
    readonly span: Tracer.AnySpan | undefined
  ) {}
}

// Spans are made with `captureStackTrace: false`: the frame Effect would capture is always this file's
// own call of `withSpan` (useless to a user), and capturing it costs an `Error` per call.

export const make: Effect.Effect<
  IdService.Service,
  never,
  IdServiceClient | ValidationCache | HealthMonitor | IdServiceBreakers | IdServiceConfig | Scope.Scope
> = Effect.gen(function*() {
  const settings = yield* IdServiceConfig
  const client = yield* IdServiceClient
  const cache = yield* ValidationCache
  const monitor = yield* HealthMonitor
  const breakers = yield* IdServiceBreakers
  const startedAt = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
  // A `MintAudit` in context when the layer is built records every mint; without one, nothing changes.
  const audit = yield* Effect.serviceOption(MintAudit.Tag)
  // Shared with the fleet when `Fleet.layerRedis` is provided around the live layer (no requirement otherwise).
  const fleet = yield* Effect.serviceOption(Fleet)
  const mintPermit = yield* MintRateLimit.make(settings.rateLimit, fleet)

  const counts = {
    mint: { calls: 0, succeeded: 0, failed: 0, fallbacks: 0 },
    validate: { calls: 0, local: 0, cache: 0, service: 0, failed: 0 }
  }

  /**
   * One mint; with `counted`, its outcome is counted in `chittyid.mints` here, in place, with the
   * caller's metric labels (one step less per call than a wrapper around it).
   */
  const mintWith =
    (counted: boolean) =>
    (request: IdService.MintRequest): Effect.Effect<IdService.MintResult, IdServiceError.IdServiceError> =>
      Effect.withFiberRuntime((fiber) => {
        counts.mint.calls++
        const labels = counted ? fiber.getFiberRef(FiberRef.currentMetricLabels) : undefined
        const checked = MintRequest.check(request)
        if (Either.isLeft(checked)) {
          counts.mint.failed++
          if (labels !== undefined) CallMetrics.mintFailed(checked.left._tag).unsafeUpdate(1, labels)
          return Effect.fail(checked.left)
        }
        const call = checked.right
        const idempotencyKey = Option.getOrElse(call.idempotencyKey, newIdempotencyKey)
        // Every failure carries the key, so the caller's own retry can send the same mint again.
        const withKey = (error: IdServiceError.IdServiceError) =>
          IdServiceError.withIdempotencyKey(error, idempotencyKey)
        const acceptFallback = request.acceptFallback ?? settings.acceptFallback
        // The answer checked, the key added to a failure and the call counted in one step after the
        // call, not one effect per step.
        const resultOf = (
          answer: Api.MintResponse
        ): Either.Either<IdService.MintResult, IdServiceError.IdServiceError> => {
          const parts = ChittyId.parse(answer.chittyId)
          if (Either.isLeft(parts)) {
            return Either.left(
              new IdServiceError.MalformedResponse({ message: parts.left.message, endpoint: "mint", status: 200 })
            )
          }
          if (answer.fallback === true && parts.right.kind === "fallback") {
            return Either.right({
              fallback: true,
              chittyId: answer.chittyId,
              parts: parts.right,
              errorCode: answer.errorCode,
              message: answer.message,
              idempotencyKey
            })
          }
          if (answer.fallback !== true && parts.right.kind === "permanent") {
            const mismatch = MintRequest.mismatch(call, parts.right)
            return Option.isSome(mismatch)
              ? Either.left(
                new IdServiceError.MalformedResponse({
                  message: `mint: the service answered an ID that does not match the request: ${mismatch.value}`,
                  endpoint: "mint",
                  status: 200
                })
              )
              : Either.right({
                fallback: false,
                chittyId: answer.chittyId,
                parts: parts.right,
                timestamp: answer.timestamp,
                idempotencyKey
              })
          }
          return Either.left(
            new IdServiceError.MalformedResponse({
              message: "mint: the answer's fallback flag disagrees with its ID",
              endpoint: "mint",
              status: 200
            })
          )
        }
        const traced = (span: Tracer.Span | undefined) => {
          const failed = (error: IdServiceError.IdServiceError) => {
            counts.mint.failed++
            if (labels !== undefined) CallMetrics.mintFailed(error._tag).unsafeUpdate(1, labels)
            span?.attribute("error.type", error._tag)
            return Effect.fail(withKey(error))
          }
          const send = client.mint(new MintCall(call.body, call.urlParams, idempotencyKey, acceptFallback, span))
          return Effect.matchEffect(
            mintPermit === MintRateLimit.unlimited ? send : Effect.zipRight(mintPermit, send),
            {
              onFailure: failed,
              onSuccess: (answer) => {
                const result = resultOf(answer)
                if (Either.isLeft(result)) return failed(result.left)
                if (result.right.fallback) counts.mint.fallbacks++
                else counts.mint.succeeded++
                if (labels !== undefined) CallMetrics.minted(result.right.fallback).unsafeUpdate(1, labels)
                return Effect.succeed(result.right)
              }
            }
          )
        }
        return Tracing.clientSpan(fiber, "ChittyId.mint", () => ({
          "chittyid.entity_type": call.entityType,
          "chittyid.region": call.region,
          "chittyid.jurisdiction": call.jurisdiction,
          "chittyid.trust_level": call.trustLevel,
          "chittyid.accept_fallback": acceptFallback
        }), traced)
      })

  const validate = (
    id: string,
    options?: IdService.ValidateOptions
  ): Effect.Effect<IdService.ValidationResult, IdServiceError.IdServiceError> =>
    Effect.withFiberRuntime((fiber) => {
      counts.validate.calls++
      // `chittyid.validations` is updated in place with the caller's metric labels: a cache hit costs
      // a few microseconds, and an effect (or a closure) per update would add a third to that.
      const labels = fiber.getFiberRef(FiberRef.currentMetricLabels)
      const local = MintRequest.validateLocally(id)
      if (Either.isLeft(local)) {
        counts.validate.local++
        CallMetrics.validated(local.left).unsafeUpdate(1, labels)
        return Effect.succeed(local.left)
      }
      const parts = local.right
      if (!(options?.remote ?? settings.remoteValidation)) {
        counts.validate.local++
        const answer = MintRequest.permanentAnswer(id, parts, "local")
        CallMetrics.validated(answer).unsafeUpdate(1, labels)
        return Effect.succeed(answer)
      }
      // No span here either: the remote call, when there is one, has its own `ChittyId.validate`
      // span (IdServiceClient).
      return cache.get(id as ChittyId.ChittyId).pipe(
        Effect.map((result): IdService.ValidationResult => {
          if (result.cached) counts.validate.cache++
          else counts.validate.service++
          const answer = MintRequest.remoteAnswer(id, parts, result)
          CallMetrics.validated(answer).unsafeUpdate(1, labels)
          return answer
        }),
        Effect.tapError(countValidateFailure)
      )
    })

  const countValidateFailure = (error: IdServiceError.IdServiceError) =>
    Effect.withFiberRuntime<void>((fiber) => {
      counts.validate.failed++
      CallMetrics.validateFailed(error._tag).unsafeUpdate(1, fiber.getFiberRef(FiberRef.currentMetricLabels))
      return Effect.void
    })

  const replaceFallback = (placeholder: string): Effect.Effect<IdService.Minted, IdServiceError.IdServiceError> =>
    Effect.suspend(() => {
      const parsed = ChittyId.parse(placeholder)
      if (!ChittyId.isFallbackId(placeholder) || Either.isLeft(parsed) || parsed.right.kind !== "fallback") {
        return Effect.fail(
          new IdServiceError.InvalidRequest({
            message: `replaceFallback: ${
              JSON.stringify(String(placeholder).slice(0, 64))
            } is not a fallback placeholder${Either.isLeft(parsed) ? ` (${parsed.left.reason})` : ""}`
          })
        )
      }
      const old = parsed.right
      return client.replaceFallback(placeholder).pipe(
        Effect.flatMap((answer) => {
          // Checked like a mint answer: a permanent ID of the placeholder's entity type, whose
          // components (when sent) are its own.
          const minted = MintRequest.replacementOf(old, answer)
          return Either.isLeft(minted)
            ? Effect.fail(
              new IdServiceError.MalformedResponse({
                message: `replaceFallback: ${minted.left}`,
                endpoint: "validate",
                status: 200
              })
            )
            : Effect.succeed(minted.right)
        }),
        Effect.withSpan("ChittyId.replaceFallback", { kind: "client", captureStackTrace: false })
      )
    })

  const health: Effect.Effect<Observability.HealthReport> = healthReport(monitor, breakers, cache).pipe(
    Effect.withSpan("ChittyId.health", { captureStackTrace: false })
  )

  // Every subscriber of `events` reads from its own bounded buffer: a slow one loses the oldest
  // events (counted in `droppedEvents`) instead of holding every event since it subscribed.
  let droppedEvents = 0
  const sources: Stream.Stream<Observability.ClientEvent> = Stream.mergeAll([
    breakerEvents.events(breakers),
    yield* breakerEvents.storeEvents,
    client.retries,
    monitor.events,
    cache.evictions,
    ...Option.toArray(Option.map(fleet, (shared) => shared.events))
  ], { concurrency: "unbounded" })
  const events: Stream.Stream<Observability.ClientEvent> = Stream.unwrapScoped(
    Effect.gen(function*() {
      const buffer = yield* Effect.acquireRelease(
        Queue.sliding<Observability.ClientEvent>(Observability.eventBuffer),
        Queue.shutdown
      )
      yield* Stream.runForEach(sources, (event) =>
        Effect.flatMap(Queue.size(buffer), (size) => {
          if (size >= Observability.eventBuffer) droppedEvents++
          return Queue.offer(buffer, event)
        })).pipe(Effect.forkScoped)
      return Stream.fromQueue(buffer)
    })
  )

  const stats: Effect.Effect<Observability.ClientStats> = Effect.gen(function*() {
    const requests = yield* client.stats
    const breakerStats = yield* breakerEvents.stats(breakers)
    const cacheStats = yield* cache.stats
    const healthStats = yield* monitor.stats
    return {
      startedAt,
      mint: { ...counts.mint },
      validate: { ...counts.validate },
      requests,
      breaker: breakerStats.total,
      breakers: breakerStats.each,
      droppedEvents,
      cache: cacheStats,
      health: healthStats
    }
  })

  return {
    // counted as the caller sees it: refused locally, or failed because it could not be audited, too
    mint: Option.isSome(audit)
      ? CallMetrics.countMints(MintAudit.audited(audit.value, mintWith(false), newIdempotencyKey))
      : mintWith(true),
    validate,
    replaceFallback,
    health,
    stats,
    events
  } satisfies IdService.Service
})

/**
 * The health report from the monitor, the breakers and the cache: the live and the test service
 * both report through here.
 *
 * @internal
 */
export const healthReport = (
  monitor: HealthMonitor["Type"],
  breakers: IdServiceBreakers["Type"],
  cache: ValidationCache["Type"]
): Effect.Effect<Observability.HealthReport> =>
  Effect.gen(function*() {
    const connection = yield* monitor.state
    const lastCheck = yield* monitor.lastCheck
    const each = yield* Effect.all({
      mint: Effect.map(breakers.mint.state, breakerEvents.stateName),
      validate: Effect.map(breakers.validate.state, breakerEvents.stateName)
    })
    const breakerState = breakerEvents.worst([each.mint, each.validate])
    const cacheStats = yield* cache.stats
    const status = connection === "Connected" && breakerState === "Closed"
      ? "ok"
      : connection === "Connected" || connection === "Degraded"
      ? "degraded"
      : connection === "Unchecked" && breakerState === "Closed"
      ? "unknown"
      : "down"
    return {
      status,
      connection,
      breaker: breakerState,
      breakers: each,
      cache: cacheStats,
      lastCheck,
      latencyMs: lastCheck?.latencyMs
    } satisfies Observability.HealthReport
  })
