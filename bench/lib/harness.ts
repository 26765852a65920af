/**
 * The measuring loop, the same for every contender: `concurrency` workers take call numbers from one
 * counter until `total` calls have run; each call is timed with `performance.now()` around it. A round
 * reports every latency, its wall time and the client process's CPU time.
 *
 * Promise contenders are driven by async workers; Effect contenders by fibers doing the very same
 * loop, so an Effect user's code path (no `runPromise` per call) is what gets measured.
 *
 * The garbage collector's pauses in the round are summed from Node's `gc` performance entries: a
 * client whose garbage survives (see docs/performance.md, "Fifth round") shows there first.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { constants, PerformanceObserver } from "node:perf_hooks"

/** What one round measured. */
export interface Round {
  /** Milliseconds, one per call. */
  readonly latencies: Float64Array
  readonly wallMs: number
  /** User + system CPU time of this process during the round, in microseconds. */
  readonly cpuUs: number
  readonly errors: number
  readonly firstError: string | undefined
  /** Milliseconds this process paused in garbage collection during the round, and how often. */
  readonly gc: GcPauses
}

/** Garbage-collection pauses: young-generation ("minor") collections and the others. */
export interface GcPauses {
  readonly ms: number
  readonly minor: number
  readonly other: number
}

/** A contender: one mint per call, as a Promise or as an Effect run on its runtime. */
export type Contender =
  | {
    readonly _tag: "Promise"
    readonly name: string
    readonly call: () => Promise<unknown>
    readonly close: () => Promise<void>
  }
  | {
    readonly _tag: "Effect"
    readonly name: string
    /** Runs an effect on the contender's runtime (`ManagedRuntime.runPromise`). */
    readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
    readonly call: () => Effect.Effect<unknown, unknown>
    readonly close: () => Promise<void>
  }

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : typeof error === "object" && error !== null
    ? JSON.stringify(error).slice(0, 300)
    : String(error)

const cpuNow = (): number => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

/** A round before its collections are added. */
type Measured = Omit<Round, "gc">

/** Sums the collections from now until `stop`, which waits for the last entries (they come a turn late). */
const watchGc = () => {
  const gc = { ms: 0, minor: 0, other: 0 }
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.ms += entry.duration
      const detail: unknown = "detail" in entry ? entry.detail : undefined
      const kind = typeof detail === "object" && detail !== null && "kind" in detail ? detail.kind : undefined
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++
      else gc.other++
    }
  })
  observer.observe({ entryTypes: ["gc"] })
  return {
    stop: (): Promise<GcPauses> =>
      new Promise((resolve) =>
        setTimeout(() => {
          observer.disconnect()
          resolve(gc)
        }, 5)
      )
  }
}

const roundOf = (
  latencies: Float64Array,
  started: number,
  cpuStarted: number,
  errors: number,
  first: string | undefined
) => ({
  latencies,
  wallMs: performance.now() - started,
  cpuUs: cpuNow() - cpuStarted,
  errors,
  firstError: first
})

const runPromise = async (
  call: () => Promise<unknown>,
  total: number,
  concurrency: number
): Promise<Measured> => {
  const latencies = new Float64Array(total)
  let issued = 0
  let errors = 0
  let firstError: string | undefined
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = issued++
      if (i >= total) return
      const t0 = performance.now()
      try {
        await call()
      } catch (error) {
        errors++
        firstError ??= describe(error)
      }
      latencies[i] = performance.now() - t0
    }
  }
  const cpuStarted = cpuNow()
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
  return roundOf(latencies, started, cpuStarted, errors, firstError)
}

const runEffect = (
  run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>,
  call: () => Effect.Effect<unknown, unknown>,
  total: number,
  concurrency: number
): Promise<Measured> =>
  run(Effect.suspend(() => {
    const latencies = new Float64Array(total)
    let issued = 0
    let errors = 0
    let firstError: string | undefined
    const worker = Effect.gen(function*() {
      for (;;) {
        const i = issued++
        if (i >= total) return
        const t0 = performance.now()
        const exit = yield* Effect.exit(call())
        latencies[i] = performance.now() - t0
        if (Exit.isFailure(exit)) {
          errors++
          firstError ??= describe(exit.cause.toJSON())
        }
      }
    })
    const cpuStarted = cpuNow()
    const started = performance.now()
    return Effect.all(Array.from({ length: Math.min(concurrency, total) }, () => worker), {
      concurrency: "unbounded",
      discard: true
    }).pipe(Effect.map(() => roundOf(latencies, started, cpuStarted, errors, firstError)))
  }))

/** Runs `total` calls of the contender with `concurrency` workers. */
export const round = async (contender: Contender, total: number, concurrency: number): Promise<Round> => {
  const gc = watchGc()
  const measured = await (contender._tag === "Promise"
    ? runPromise(contender.call, total, concurrency)
    : runEffect(contender.run, contender.call, total, concurrency))
  return { ...measured, gc: await gc.stop() }
}
