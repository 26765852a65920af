/**
 * The in-memory `IdService` of `IdService.layerTest`: the same local rules as the live service,
 * deterministic sequences, a registry for remote validation, no network.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as ChittyId from "../ChittyId.ts"
import type * as IdService from "../IdService.ts"
import * as IdServiceError from "../IdServiceError.ts"
import type * as Observability from "../Observability.ts"
import * as MintRequest from "./mintRequest.ts"

const SEQUENCE_SPACE = 10_000

export const make = (options: IdService.TestOptions = {}): Effect.Effect<IdService.Service> =>
  Effect.gen(function*() {
    const startedAt = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const registry = new Set<string>()
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
      Effect.sync((): IdService.ValidationResult => {
        counts.validate.calls++
        const local = MintRequest.validateLocally(id)
        if (Either.isLeft(local)) {
          counts.validate.local++
          return local.left
        }
        const parts = local.right
        if (!(validateOptions?.remote ?? options.remoteValidation ?? false)) {
          counts.validate.local++
          return MintRequest.permanentAnswer(id, parts, "local")
        }
        counts.validate.service++
        return MintRequest.permanentAnswer(
          id,
          parts,
          "service",
          registry.has(id) ? undefined : MintRequest.neverIssuedReason
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

    const cache: Observability.CacheStats = { hits: 0, misses: 0, evictions: 0, size: 0, capacity: 0 }

    const health = Effect.succeed<Observability.HealthReport>({
      status: "ok",
      connection: "Connected",
      breaker: "Closed",
      breakers: { mint: "Closed", validate: "Closed" },
      cache,
      lastCheck: undefined,
      latencyMs: undefined
    })

    const closedBreaker: Observability.BreakerStats = {
      state: "Closed",
      opened: 0,
      halfOpened: 0,
      closed: 0,
      rejected: 0
    }

    const stats = Effect.sync((): Observability.ClientStats => ({
      startedAt,
      mint: { ...counts.mint },
      validate: { ...counts.validate },
      requests: { sent: { mint: 0, validate: 0, health: 0 }, failures: {}, retries: 0, keysHonoured: true },
      breaker: closedBreaker,
      breakers: { mint: closedBreaker, validate: closedBreaker },
      droppedEvents: 0,
      cache,
      health: { checks: 0, failures: 0, connection: "Connected" }
    }))

    return { mint, validate, replaceFallback, health, stats, events: Stream.empty } satisfies IdService.Service
  })
