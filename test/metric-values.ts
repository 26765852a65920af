/**
 * Reads the client's metrics from Effect's registry by name and attributes, whatever order the
 * attributes were added in: the count of a counter, or of a histogram's observations, summed over
 * every instance whose attributes include the given ones (`undefined`: the attribute is absent).
 */
import { Effect, Metric, MetricState } from "effect"

export const count = (name: string, attributes: Readonly<Record<string, string | number | undefined>> = {}) =>
  Effect.map(Metric.snapshot, (pairs) => {
    let total = 0
    for (const { metricKey, metricState } of pairs) {
      if (metricKey.name !== name) continue
      const tags = new Map(metricKey.tags.map((label) => [label.key, label.value]))
      const matches = Object.entries(attributes).every(([key, value]) =>
        value === undefined ? !tags.has(key) : tags.get(key) === String(value)
      )
      if (!matches) continue
      if (MetricState.isCounterState(metricState)) total += Number(metricState.count)
      else if (MetricState.isHistogramState(metricState)) total += metricState.count
    }
    return total
  })
