/**
 * The in-memory `IdService` of `IdService.layerTest`: the same local rules as the live service,
 * deterministic sequences, a registry for remote validation, no network.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Api from "../Api.ts"
import * as ChittyId from "../ChittyId.ts"
import type * as HealthMonitor from "../HealthMonitor.ts"
import type * as IdService from "../IdService.ts"
import type * as IdServiceClient from "../IdServiceClient.ts"
import * as IdServiceConfig from "../IdServiceConfig.ts"
import * as IdServiceError from "../IdServiceError.ts"
import type * as Observability from "../Observability.ts"
import * as ValidationCache from "../ValidationCache.ts"
import * as breakerEvents from "./breaker.ts"
import { healthReport } from "./idService.ts"
import * as MintAudit from "./mintAudit.ts"
import * as MintRequest from "./mintRequest.ts"

/** What `IdService.layerTest` provides: the service and the same parts as the live layer. */
export interface Parts {
  readonly service: IdService.Service
  readonly cache: ValidationCache.Service
  readonly monitor: HealthMonitor.Service
  readonly breakers: IdServiceClient.Breakers
}

/** A monitor that is always `Connected`, with no fiber: `checkNow` answers an ok check at once. */
const connectedMonitor: Effect.Effect<HealthMonitor.Service> = Effect.map(
  Ref.make<{ readonly lastCheck: Observability.HealthCheck | undefined; readonly checks: number }>({
    lastCheck: undefined,
    checks: 0
  }),
  (track): HealthMonitor.Service => ({
    state: Effect.succeed("Connected"),
    changes: Stream.make<[Observability.ConnectionState]>("Connected"),
    lastCheck: Effect.map(Ref.get(track), (t) => t.lastCheck),
    checkNow: Effect.flatMap(Clock.currentTimeMillis, (at) => {
      const check: Observability.HealthCheck = { at, ok: true, latencyMs: 0, detail: "ok" }
      return Effect.as(Ref.update(track, (t) => ({ lastCheck: check, checks: t.checks + 1 })), check)
    }),
    events: Stream.empty,
    stats: Effect.map(Ref.get(track), (t) => ({ checks: t.checks, failures: 0, connection: "Connected" }))
  })
)

const SEQUENCE_SPACE = 10_000

export const make = (options: IdService.TestOptions = {}): Effect.Effect<Parts, never, Scope.Scope> =>
  Effect.gen(function*() {
    const startedAt = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    // As the live service: a `MintAudit` in context at build records every mint.
    const audit = yield* Effect.serviceOption(MintAudit.Tag)
    const registry = new Set<string>()
    // The cache and the breakers are the live ones with the default settings; the cache asks the registry.
    const cache = yield* ValidationCache.make({
      ...IdServiceConfig.defaults.cache,
      lookup: (id) =>
        Effect.map(Clock.currentTimeMillis, (now): Api.ValidateResponse => {
          const timestamp = new Date(now).toISOString()
          return registry.has(id)
            ? { success: true, valid: true, components: Api.componentsOf(ChittyId.parseOrThrow(id)), timestamp }
            : { success: true, valid: false, error: Api.unknownIdError, timestamp }
        })
    })
    const breakers = yield* Effect.provideService(
      breakerEvents.make,
      IdServiceConfig.IdServiceConfig,
      IdServiceConfig.defaults
    )
    const monitor = yield* connectedMonitor
    const sequences = new Map<string, number>()
    const idempotency = new Map<string, { readonly request: string; readonly result: IdService.MintResult }>()
    /** Placeholders issued, with the request each stands for, and their replacement once minted. */
    const placeholders = new Map<string, {
      readonly request: IdService.MintRequest
      readonly call: MintRequest.CheckedMint
      replacement: IdService.Minted | undefined
    }>()
    const counts = {
      mint: { calls: 0, succeeded: 0, failed: 0, fallbacks: 0 },
      validate: { calls: 0, local: 0, cache: 0, service: 0, failed: 0 }
    }
    let keys = 0

    const mintOnce = (
      request: IdService.MintRequest,
      call: MintRequest.CheckedMint,
      idempotencyKey: string,
      now: number
    ): Either.Either<IdService.MintResult, IdServiceError.IdServiceError> => {
      const yearMonth = ChittyId.yearMonthOf(new Date(now))
      const failure = options.failMint?.(request, counts.mint.calls)
      if (failure !== undefined) {
        if (failure._tag === "MintUnavailable" && (request.acceptFallback ?? options.acceptFallback ?? false)) {
          const chittyId = ChittyId.makeFallback({
            errorCode: "MINT_UNAVAILABLE",
            entityType: call.entityType,
            yearMonth
          })
          placeholders.set(chittyId, { request, call, replacement: undefined })
          const parts = ChittyId.parseOrThrow(chittyId)
          return parts.kind === "fallback"
            ? Either.right({
              fallback: true,
              chittyId,
              parts,
              errorCode: parts.errorCode,
              message: failure.message,
              idempotencyKey
            })
            : Either.left(failure)
        }
        return Either.left(failure)
      }
      const prefix = `${call.region}-${call.jurisdiction}-${call.entityType}-${yearMonth}`
      const next = sequences.get(prefix) ?? 0
      if (next >= SEQUENCE_SPACE) {
        return Either.left(
          new IdServiceError.InvalidRequest({
            message: `mint: all ${SEQUENCE_SPACE} sequences of ${prefix} are used`,
            status: 422
          })
        )
      }
      sequences.set(prefix, next + 1)
      return Either.map(
        Either.mapLeft(
          ChittyId.make({
            region: call.region,
            jurisdiction: call.jurisdiction,
            sequence: next,
            entityType: call.entityType,
            yearMonth,
            trustLevel: call.trustLevel
          }),
          (error) => new IdServiceError.InvalidRequest({ message: `mint: ${error.reason}` })
        ),
        (chittyId): IdService.MintResult => {
          registry.add(chittyId)
          const parts = ChittyId.parseOrThrow(chittyId) as ChittyId.PermanentParts
          return { fallback: false, chittyId, parts, timestamp: new Date(now).toISOString(), idempotencyKey }
        }
      )
    }

    const mint = (request: IdService.MintRequest) =>
      Effect.flatMap(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => {
        counts.mint.calls++
        const checked = MintRequest.check(request)
        if (Either.isLeft(checked)) {
          counts.mint.failed++
          return Effect.fail(checked.left)
        }
        const call = checked.right
        const idempotencyKey = Option.getOrElse(call.idempotencyKey, () => `test-key-${++keys}`)
        const fingerprint = `${call.body}?${JSON.stringify(call.urlParams)}`
        const seen = idempotency.get(idempotencyKey)
        if (seen !== undefined) {
          return seen.request === fingerprint
            ? Effect.succeed(seen.result)
            : Effect.fail(
              new IdServiceError.IdempotencyConflict({
                message: "the Idempotency-Key was used before with another request"
              })
            )
        }
        const result = mintOnce(request, call, idempotencyKey, now)
        if (Either.isLeft(result)) {
          counts.mint.failed++
          return Effect.fail(result.left)
        }
        if (result.right.fallback) counts.mint.fallbacks++
        else {
          counts.mint.succeeded++
          idempotency.set(idempotencyKey, { request: fingerprint, result: result.right })
        }
        return Effect.succeed(result.right)
      })

    const validate = (id: string, validateOptions?: IdService.ValidateOptions) =>
      Effect.suspend((): Effect.Effect<IdService.ValidationResult, IdServiceError.IdServiceError> => {
        counts.validate.calls++
        const local = MintRequest.validateLocally(id)
        if (Either.isLeft(local)) {
          counts.validate.local++
          return Effect.succeed(local.left)
        }
        const parts = local.right
        if (!(validateOptions?.remote ?? options.remoteValidation ?? false)) {
          counts.validate.local++
          return Effect.succeed(MintRequest.permanentAnswer(id, parts, "local"))
        }
        return cache.get(id as ChittyId.ChittyId).pipe(
          Effect.map((result) => {
            if (result.cached) counts.validate.cache++
            else counts.validate.service++
            return MintRequest.remoteAnswer(id, parts, result)
          }),
          Effect.tapError(() => Effect.sync(() => counts.validate.failed++))
        )
      })

    const replaceFallback = (placeholder: string) =>
      Effect.flatMap(Effect.clockWith((clock) => clock.currentTimeMillis), (now): Effect.Effect<
        IdService.Minted,
        IdServiceError.IdServiceError
      > => {
        const issued = placeholders.get(placeholder)
        if (!ChittyId.isFallbackId(placeholder) || issued === undefined) {
          return Effect.fail(
            new IdServiceError.InvalidRequest({
              message: `replaceFallback: ${JSON.stringify(String(placeholder).slice(0, 64))} is not a placeholder ` +
                "this service issued"
            })
          )
        }
        if (issued.replacement !== undefined) return Effect.succeed(issued.replacement)
        // Minting still fails (the caller's `failMint` says so): not yet.
        const minted = mintOnce({ ...issued.request, acceptFallback: false }, issued.call, placeholder, now)
        if (Either.isLeft(minted) || minted.right.fallback) {
          return Effect.fail(
            new IdServiceError.MintUnavailable({
              message: `replaceFallback: cannot replace ${placeholder} yet${
                Either.isLeft(minted) ? `: ${minted.left.message}` : ""
              }`,
              errorCode: Either.isLeft(minted) && minted.left._tag === "MintUnavailable"
                ? minted.left.errorCode
                : "MINT_UNAVAILABLE",
              fallbackId: placeholder
            })
          )
        }
        const replacement: IdService.Minted = { ...minted.right, replaces: placeholder }
        issued.replacement = replacement
        return Effect.succeed(replacement)
      })

    const stats = Effect.gen(function*(): Effect.fn.Return<Observability.ClientStats> {
      const breakerStats = yield* breakerEvents.stats(breakers)
      return {
        startedAt,
        mint: { ...counts.mint },
        validate: { ...counts.validate },
        requests: { sent: { mint: 0, validate: 0, health: 0 }, failures: {}, retries: 0, keysHonoured: true },
        breaker: breakerStats.total,
        breakers: breakerStats.each,
        droppedEvents: 0,
        cache: yield* cache.stats,
        health: yield* monitor.stats
      }
    })

    const service: IdService.Service = {
      mint: Option.isSome(audit) ? MintAudit.audited(audit.value, mint) : mint,
      validate,
      replaceFallback,
      health: healthReport(monitor, breakers, cache),
      stats,
      events: Stream.merge(breakerEvents.events(breakers), cache.evictions)
    }
    return { service, cache, monitor, breakers }
  })
