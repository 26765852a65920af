/**
 * The sliding window of a closed circuit breaker: persistent (every `record` returns a new window)
 * so that the breaker can update it inside one `Ref.modify`.
 *
 * - count-based: a ring of the outcomes of the last `size` calls;
 * - time-based: ten buckets, each a tenth of the window wide, so the window slides in steps of a
 *   tenth of its length (a 10 s window forgets a call between 9 and 10 s after it ended).
 *
 * @internal
 */

/** @internal */
export type Spec =
  | { readonly _tag: "Count"; readonly size: number }
  | { readonly _tag: "Time"; readonly millis: number }

/** @internal */
export interface Totals {
  readonly calls: number
  readonly failures: number
  readonly slowCalls: number
}

interface CountWindow extends Totals {
  readonly _tag: "Count"
  readonly size: number
  /** bit 0: failure, bit 1: slow */
  readonly ring: ReadonlyArray<number>
  readonly next: number
}

interface Bucket extends Totals {
  readonly index: number
}

interface TimeWindow {
  readonly _tag: "Time"
  readonly bucketMillis: number
  readonly buckets: ReadonlyArray<Bucket | undefined>
}

/** @internal */
export type Window = CountWindow | TimeWindow

/** @internal */
export const bucketCount = 10

const FAILURE = 1
const SLOW = 2

const emptyTotals: Totals = { calls: 0, failures: 0, slowCalls: 0 }

/** @internal */
export const empty = (spec: Spec): Window =>
  spec._tag === "Count"
    ? { _tag: "Count", size: spec.size, ring: [], next: 0, calls: 0, failures: 0, slowCalls: 0 }
    : { _tag: "Time", bucketMillis: spec.millis / bucketCount, buckets: new Array(bucketCount).fill(undefined) }

const bucketIndex = (window: TimeWindow, now: number): number => Math.floor(now / window.bucketMillis)

const slotOf = (index: number): number => ((index % bucketCount) + bucketCount) % bucketCount

/**
 * The window with one more finished call in it.
 *
 * @internal
 */
export const record = (window: Window, now: number, failure: boolean, slow: boolean): Window => {
  const code = (failure ? FAILURE : 0) | (slow ? SLOW : 0)
  const failures = failure ? 1 : 0
  const slowCalls = slow ? 1 : 0
  if (window._tag === "Count") {
    const ring = window.ring.slice()
    if (ring.length < window.size) {
      ring.push(code)
      return {
        _tag: "Count",
        size: window.size,
        ring,
        next: ring.length % window.size,
        calls: window.calls + 1,
        failures: window.failures + failures,
        slowCalls: window.slowCalls + slowCalls
      }
    }
    const evicted = ring[window.next] ?? 0
    ring[window.next] = code
    return {
      _tag: "Count",
      size: window.size,
      ring,
      next: (window.next + 1) % window.size,
      calls: window.calls,
      failures: window.failures + failures - (evicted & FAILURE ? 1 : 0),
      slowCalls: window.slowCalls + slowCalls - (evicted & SLOW ? 1 : 0)
    }
  }
  const index = bucketIndex(window, now)
  const slot = slotOf(index)
  const current = window.buckets[slot]
  const bucket: Bucket = current !== undefined && current.index === index
    ? {
      index,
      calls: current.calls + 1,
      failures: current.failures + failures,
      slowCalls: current.slowCalls + slowCalls
    }
    : { index, calls: 1, failures, slowCalls }
  const buckets = window.buckets.slice()
  buckets[slot] = bucket
  return { _tag: "Time", bucketMillis: window.bucketMillis, buckets }
}

/**
 * The calls, failures and slow calls the window holds at `now`.
 *
 * @internal
 */
export const totals = (window: Window, now: number): Totals => {
  if (window._tag === "Count") {
    return window
  }
  const index = bucketIndex(window, now)
  let calls = 0
  let failures = 0
  let slowCalls = 0
  for (const bucket of window.buckets) {
    if (bucket !== undefined && bucket.index <= index && bucket.index > index - bucketCount) {
      calls += bucket.calls
      failures += bucket.failures
      slowCalls += bucket.slowCalls
    }
  }
  return calls === 0 ? emptyTotals : { calls, failures, slowCalls }
}

/**
 * How many calls the window must hold before its rates are judged: `minimumCalls`, but never more
 * than a count window can hold.
 *
 * @internal
 */
export const minimumCalls = (window: Window, minimumCalls: number): number =>
  window._tag === "Count" ? Math.min(minimumCalls, window.size) : minimumCalls
