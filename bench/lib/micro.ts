/**
 * In-process costs of `IdService`, per call: a remote validation that asks the service, the same
 * validation answered by the cache, a locally rejected ID, and a mint rejected by the open breaker
 * (with the server's own count proving nothing was sent).
 *
 * Each call is timed with `performance.now()` inside one fiber's loop, as an Effect caller runs it;
 * the same calls through `runPromise` (a Promise caller) are reported beside them.
 */
import * as IdService from "effect-chittyid/IdService"
import type * as IdServiceError from "effect-chittyid/IdServiceError"
import * as Node from "effect-chittyid/node"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { Server } from "./server.ts"
import { microSummary } from "./stats.ts"
import { nextTarget } from "./workload.ts"

/** Median and p99 of one measured operation, µs. */
export interface Micro {
  readonly medianUs: number
  readonly p99Us: number
  readonly calls: number
}

/** Times `calls` runs of `f(i)` in one fiber. */
const timeEach = <A, E>(calls: number, f: (i: number) => Effect.Effect<A, E>, check: (exit: Exit.Exit<A, E>) => void) =>
  Effect.gen(function*() {
    const latencies = new Float64Array(calls)
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now()
      const exit = yield* Effect.exit(f(i))
      latencies[i] = performance.now() - t0
      check(exit)
    }
    return { ...microSummary(latencies), calls }
  })

/** The same through one `runPromise` per call. */
const timeEachPromise = async <A, E>(
  runtime: ManagedRuntime.ManagedRuntime<IdService.IdService, never>,
  calls: number,
  f: (i: number) => Effect.Effect<A, E>,
  check: (exit: Exit.Exit<A, E>) => void
): Promise<Micro> => {
  const latencies = new Float64Array(calls)
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now()
    const exit = await runtime.runPromiseExit(f(i))
    latencies[i] = performance.now() - t0
    check(exit)
  }
  return { ...microSummary(latencies), calls }
}

const expect = (what: string, ok: boolean) => {
  if (!ok) throw new Error(`benchmark check failed: ${what}`)
}

const sourceIs = (source: IdService.ValidationSource) => (exit: Exit.Exit<IdService.ValidationResult, unknown>) =>
  expect(
    `validate answered from ${source}`,
    Exit.isSuccess(exit) && exit.value.source === source && (source === "local" || exit.value.valid)
  )

/** What the validation benchmark measured. */
export interface ValidateFigures {
  readonly serviceCall: Micro
  readonly cacheHit: Micro
  readonly cacheHitRunPromise: Micro
  readonly localReject: Micro
  /** `POST /api/validate` requests the server received: one per distinct ID, none for hits or rejects. */
  readonly serverValidateRequests: number
  readonly distinctIds: number
}

/** Remote validation: service call, then cache hits; and a locally rejected ID. */
export const validate = async (
  server: Server,
  options: { ids: number; hitPasses: number }
): Promise<ValidateFigures> => {
  const runtime = ManagedRuntime.make(
    Node.layerWith({
      url: server.url,
      token: Redacted.make(server.token),
      health: { interval: "1 hour" },
      cache: { capacity: Math.max(10_000, options.ids) }
    }).pipe(Layer.orDie)
  )
  try {
    const service = await runtime.runPromise(IdService.IdService)
    const ids = await runtime.runPromise(
      Effect.forEach(
        Array.from({ length: options.ids }, nextTarget),
        (target) => Effect.map(service.mint(target), (minted) => minted.chittyId),
        { concurrency: 16 }
      )
    )
    const before = await server.counts()
    const remote = { remote: true } as const
    // Warm the local path (parse, spans) on IDs the cache will never hold.
    const bad = "03-1-USA-5537-P-2602-0-39" // check number off by one
    await runtime.runPromise(timeEach(2_000, () => service.validate(bad, remote), sourceIs("local")))
    const serviceCall = await runtime.runPromise(
      timeEach(ids.length, (i) => service.validate(ids[i]!, remote), sourceIs("service"))
    )
    const hits = ids.length * options.hitPasses
    const cacheHit = await runtime.runPromise(
      timeEach(hits, (i) => service.validate(ids[i % ids.length]!, remote), sourceIs("cache"))
    )
    const cacheHitRunPromise = await timeEachPromise(
      runtime,
      Math.min(hits, 20_000),
      (i) => service.validate(ids[i % ids.length]!, remote),
      sourceIs("cache")
    )
    const localReject = await runtime.runPromise(
      timeEach(hits, () => service.validate(bad, remote), sourceIs("local"))
    )
    const after = await server.counts()
    return {
      serviceCall,
      cacheHit,
      cacheHitRunPromise,
      localReject,
      serverValidateRequests: after.requests.validate - before.requests.validate,
      distinctIds: ids.length
    }
  } finally {
    await runtime.dispose()
  }
}

/** What the open-breaker benchmark measured. */
export interface BreakerFigures {
  readonly reject: Micro
  readonly rejectRunPromise: Micro
  /** Mint requests the server received while the rejected calls ran. */
  readonly requestsSent: number
  /** Failed calls it took to open the breaker. */
  readonly tripCalls: number
}

/**
 * Opens the breaker with real failures (the server answers 503 to every mint for a moment; no retries
 * so it trips in 5 calls), turns the fault off, then times mints rejected by the open breaker.
 */
export const breakerOpen = async (server: Server, options: { calls: number }): Promise<BreakerFigures> => {
  const runtime = ManagedRuntime.make(
    Node.layerWith({
      url: server.url,
      token: Redacted.make(server.token),
      health: { interval: "1 hour" },
      retry: { maxRetries: 0 }
    }).pipe(Layer.orDie)
  )
  try {
    const service = await runtime.runPromise(IdService.IdService)
    await runtime.runPromise(service.mint(nextTarget()))
    await server.setFaults({ errors: { rate: 1, endpoints: ["mint"] } })
    let tripCalls = 0
    for (; tripCalls < 100; tripCalls++) {
      const exit = await runtime.runPromiseExit(service.mint(nextTarget()))
      expect("a mint fails while the server answers 503", Exit.isFailure(exit))
      if ((await runtime.runPromise(service.health)).breaker === "Open") {
        tripCalls++
        break
      }
    }
    await server.setFaults({ errors: null })
    expect("the breaker opened", (await runtime.runPromise(service.health)).breaker === "Open")
    const rejected = (exit: Exit.Exit<unknown, IdServiceError.IdServiceError>) =>
      expect(
        "a mint is rejected with CircuitOpen",
        Exit.isFailure(exit) && Cause.failureOption(exit.cause).pipe(Option.exists((e) => e._tag === "CircuitOpen"))
      )
    const before = await server.counts()
    const target = nextTarget()
    const reject = await runtime.runPromise(timeEach(options.calls, () => service.mint(target), rejected))
    const rejectRunPromise = await timeEachPromise(
      runtime,
      Math.min(options.calls, 20_000),
      () => service.mint(target),
      rejected
    )
    const after = await server.counts()
    return { reject, rejectRunPromise, requestsSent: after.requests.mint - before.requests.mint, tripCalls }
  } finally {
    await runtime.dispose()
  }
}
