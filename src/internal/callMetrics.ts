/**
 * The metrics of logical calls: `chittyid.mints` and `chittyid.validations` by outcome.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type * as IdService from "../IdService.ts"
import * as Observability from "../Observability.ts"
import * as MetricLabels from "./metricLabels.ts"

const mints = MetricLabels.family(Observability.metrics.mints)
const validations = MetricLabels.family(Observability.metrics.validations)

// The counters of the outcomes that every call may have are made once, here: the hot paths (a cache
// hit is a few microseconds) pick one without building a key or a closure per call.
const mintedCounter = mints("minted", () => ({ "chittyid.outcome": "minted" }))
const placeholderCounter = mints("placeholder", () => ({ "chittyid.outcome": "placeholder" }))

/** The counter of a mint that answered an ID: a permanent one (`minted`) or a placeholder. */
export const minted = (fallback: boolean) => fallback ? placeholderCounter : mintedCounter

/** The counter of a mint that failed with the error tagged `error`. */
export const mintFailed = (error: string) =>
  mints(`failed ${error}`, () => ({ "chittyid.outcome": "failed", "error.type": error }))

const validatedBy = (source: IdService.ValidationSource) =>
  [false, true].map((valid) =>
    validations(`${source} ${valid}`, () => ({
      "chittyid.outcome": valid ? "valid" : "invalid",
      "chittyid.validation.source": source
    }))
  )
const validatedCounters = {
  local: validatedBy("local"),
  cache: validatedBy("cache"),
  service: validatedBy("service")
}

/** The counter of a validation that answered. */
export const validated = (answer: IdService.ValidationResult) => validatedCounters[answer.source][answer.valid ? 1 : 0]!

/** The counter of a validation that failed with the error tagged `error`. */
export const validateFailed = (error: string) =>
  validations(`failed ${error}`, () => ({ "chittyid.outcome": "failed", "error.type": error }))

/** `mint`, each call counted in `chittyid.mints` by what its caller gets. */
export const countMints = <R extends { readonly fallback: boolean }, E extends { readonly _tag: string }>(
  mint: (request: IdService.MintRequest) => Effect.Effect<R, E>
) =>
(request: IdService.MintRequest): Effect.Effect<R, E> =>
  MetricLabels.tapOutcome(mint(request), {
    onFailure: (error, labels) => mintFailed(error._tag).unsafeUpdate(1, labels),
    onSuccess: (result, labels) => minted(result.fallback).unsafeUpdate(1, labels)
  })
