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

/** The counter of a mint that answered an ID: a permanent one (`minted`) or a placeholder. */
const minted = (fallback: boolean) =>
  fallback
    ? mints("placeholder", () => ({ "chittyid.outcome": "placeholder" }))
    : mints("minted", () => ({ "chittyid.outcome": "minted" }))

/** The counter of a mint that failed with the error tagged `error`. */
const mintFailed = (error: string) =>
  mints(`failed ${error}`, () => ({ "chittyid.outcome": "failed", "error.type": error }))

/** The counter of a validation that answered. */
export const validated = (answer: IdService.ValidationResult) =>
  validations(`${answer.source} ${answer.valid}`, () => ({
    "chittyid.outcome": answer.valid ? "valid" : "invalid",
    "chittyid.validation.source": answer.source
  }))

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
