/**
 * Metrics with their attributes (labels) fixed once, so the hot path neither allocates nor hashes
 * metric keys.
 *
 * @internal
 */
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"

/**
 * `metric` with `labels` fixed once. `Metric.tagged` merges its labels into a new array on every
 * update, so Effect's hook cache (keyed by that array) always misses and the registry builds and
 * hashes a new `MetricKey` per call; here the same array is passed every time and the cached hook is
 * found at once. Labels added by the caller (`Effect.labelMetrics`) are merged as `Metric.tagged` does.
 */
export const labelled = <Type, In, Out>(
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

/** Attributes as `key → value`; an `undefined` value leaves the attribute out. */
export type Attributes = Readonly<Record<string, string | number | undefined>>

/**
 * The instances of `metric` by attributes, each made on first use and kept: `get(key, attributes)`
 * answers the instance made for `key` (the caller's short name for that set of attributes), making it
 * from `attributes()` the first time. The set of keys must stay small (bounded attribute values).
 */
export const family = <Type, In, Out>(metric: Metric.Metric<Type, In, Out>) => {
  const instances = new Map<string, Metric.Metric<Type, In, Out>>()
  return (key: string, attributes: () => Attributes): Metric.Metric<Type, In, Out> => {
    let instance = instances.get(key)
    if (instance === undefined) {
      const labels: Array<MetricLabel.MetricLabel> = []
      for (const [name, value] of Object.entries(attributes())) {
        if (value !== undefined) labels.push(MetricLabel.make(name, String(value)))
      }
      instance = labelled(metric, labels)
      instances.set(key, instance)
    }
    return instance
  }
}

/**
 * Runs `self` and tells `record` how it ended — a success or a failure, not an interruption or a
 * defect — with the labels the caller added (`Effect.labelMetrics`), so the metrics are updated in
 * place (`unsafeUpdate`) instead of one effect per update on every call.
 */
export const tapOutcome = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  record: Outcomes<A, E>
): Effect.Effect<A, E, R> => Effect.withFiberRuntime((fiber) => matchOutcome(fiber, self, record))

/** What {@link tapOutcome} tells of an outcome, with the caller's metric labels. */
export interface Outcomes<A, E> {
  readonly onSuccess: (a: A, labels: ReadonlyArray<MetricLabel.MetricLabel>) => void
  readonly onFailure: (e: E, labels: ReadonlyArray<MetricLabel.MetricLabel>) => void
}

/** {@link tapOutcome} inside a `withFiberRuntime` the caller has already entered. */
export const matchOutcome = <A, E, R>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  self: Effect.Effect<A, E, R>,
  record: Outcomes<A, E>
): Effect.Effect<A, E, R> =>
  Effect.matchCauseEffect(self, {
    onSuccess: (a) => {
      record.onSuccess(a, fiber.getFiberRef(FiberRef.currentMetricLabels))
      return Effect.succeed(a)
    },
    onFailure: (cause) => {
      const error = Cause.failureOption(cause)
      if (Option.isSome(error)) record.onFailure(error.value, fiber.getFiberRef(FiberRef.currentMetricLabels))
      return Effect.failCause(cause)
    }
  })
