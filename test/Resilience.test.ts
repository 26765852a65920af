/**
 * The chaos scenarios as integration tests: the live IdService against the reference server over
 * loopback, real clock, small sizes and fast knobs, asserting the resilience targets of the issue
 * from what the client and the server recorded. (`npm run chaos` runs them at size, in a child
 * process, and prints the figures.)
 */
import { describe, expect, layer } from "@effect/vitest"
import { Duration, Effect, Exit, Redacted } from "effect"
import * as Api from "../src/Api.ts"
import type * as IdServiceConfig from "../src/IdServiceConfig.ts"
import type * as Observability from "../src/Observability.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"
import { vectors } from "./fixtures.ts"
import { type Attempt, type Call, extraPerGroup, failureOf, live, mints, poll, tcpProxy } from "./resilience-support.ts"

/** Fast retries: the tests wait milliseconds, not the defaults' hundreds. */
const fastRetry = { maxRetries: 3, base: "1 millis", maxDelay: "5 millis" } as const

/** A breaker that never trips, for tests that watch another mechanism on its own. */
const noTrip: IdServiceConfig.Input["breaker"] = {
  consecutiveFailures: 1_000_000,
  failureRateThreshold: 1,
  minimumCalls: 1_000_000
}

const mintAttempts = (attempts: ReadonlyArray<Attempt>) => attempts.filter((a) => a.endpoint === Api.paths.mint)

const mintRequests = Effect.map(Effect.flatMap(ReferenceServer, (server) => server.counts), (c) => c.requests.mint)

/** Every success is the ID the server minted for that very call (by callId and by key), once. */
const expectMintedOnceEach = (calls: ReadonlyArray<Call>) =>
  Effect.gen(function*() {
    const log = yield* Effect.flatMap(ReferenceServer, (server) => server.mintLog)
    expect(extraPerGroup(log.map((r) => r.callId))).toBe(0)
    expect(extraPerGroup(log.map((r) => r.idempotencyKey))).toBe(0)
    const byCall = new Map(log.map((r) => [r.callId, r]))
    for (const call of calls) {
      if (Exit.isSuccess(call.exit)) {
        const record = byCall.get(call.callId)
        expect(record?.chittyId).toBe(call.exit.value.chittyId)
        expect(record?.idempotencyKey).toBe(call.exit.value.idempotencyKey)
      }
    }
    return log
  })

describe("Resilience (live IdService, reference server on loopback)", () => {
  layer(ReferenceServer.layer({ seed: 11 }), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.scoped("transient-30pct: 30 % of mints answer 503, every call succeeds, nothing is minted twice", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        yield* server.setFaults({ errors: { rate: 0.3, endpoints: ["mint"] } })
        // 8 retries: a call fails only if 9 attempts in a row do (0.3^9 ≈ 2e-5)
        const { ids } = yield* live({ retry: { ...fastRetry, maxRetries: 8 }, breaker: { consecutiveFailures: 30 } })
        const calls = yield* mints(ids, "transient", 60, 4)
        const counts = yield* server.counts
        expect(calls.filter((c) => Exit.isFailure(c.exit)).map(failureOf)).toEqual([])
        expect(counts.faults.errors).toBeGreaterThan(5)
        expect(counts.requests.mint).toBe(60 + counts.faults.errors)
        const log = yield* expectMintedOnceEach(calls)
        expect(log).toHaveLength(60)
        expect((yield* ids.stats).requests.retries).toBe(counts.faults.errors)
      }))

    it.scoped("lost-answer: mints committed then dropped are retried under their key, never minted twice", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        yield* server.setFaults({ lostAnswer: { rate: 0.5 } })
        // the strict profile keeps keys; said up front, so even a first lost answer is retried
        const { ids } = yield* live({
          retry: { ...fastRetry, maxRetries: 8 },
          breaker: { consecutiveFailures: 30 },
          idempotency: "honoured"
        })
        const calls = yield* mints(ids, "lost", 30, 4)
        const counts = yield* server.counts
        expect(calls.filter((c) => Exit.isFailure(c.exit)).map(failureOf)).toEqual([])
        expect(counts.faults.lostAnswer).toBeGreaterThan(3)
        // every dropped answer was replayed from the idempotency store to the retry
        expect(counts.replayed).toBe(counts.faults.lostAnswer)
        expect(counts.minted).toBe(30)
        expect(yield* expectMintedOnceEach(calls)).toHaveLength(30)
      }))

    it.scoped("garbage: bad bodies are MalformedResponse, never retried, never a success", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        yield* server.setFaults({ garbage: { rate: 1, endpoints: ["mint", "validate"] } })
        const { attempts, ids } = yield* live({ retry: fastRetry, breaker: noTrip })
        const calls = yield* mints(ids, "garbage", 12, 3)
        expect(calls.map((c) => failureOf(c)?._tag)).toEqual(Array(12).fill("MalformedResponse"))
        expect(yield* mintRequests).toBe(12)
        expect(mintAttempts(attempts)).toHaveLength(12)
        expect((yield* server.counts).minted).toBe(0)
        const validation = yield* Effect.flip(ids.validate(vectors.valid[0].id, { remote: true }))
        expect(validation._tag).toBe("MalformedResponse")

        // half garbage: the successes are exactly the IDs the server minted for those calls
        yield* server.reset
        yield* server.setFaults({ garbage: { rate: 0.5, endpoints: ["mint"] } })
        const mixed = yield* mints(ids, "mixed", 30, 3)
        const failures = mixed.flatMap((c) => Exit.isFailure(c.exit) ? [failureOf(c)?._tag] : [])
        expect(failures.length).toBeGreaterThan(0)
        expect(new Set(failures)).toEqual(new Set(["MalformedResponse"]))
        const log = yield* expectMintedOnceEach(mixed)
        expect(log).toHaveLength(30 - failures.length)
      }))

    it.scoped("hang: every call ends with RequestTimeout (overall) in time, its requests aborted, no socket left", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        yield* server.setFaults({ hang: { endpoints: ["mint"] } })
        const proxy = yield* tcpProxy(server.url)
        const timeoutMs = 300
        const { attempts, ids } = yield* live(
          {
            timeout: Duration.millis(timeoutMs),
            requestTimeout: "120 millis",
            retry: fastRetry,
            breaker: noTrip,
            // keys known to be kept: the hung attempts are retried until the overall deadline
            idempotency: "honoured"
          },
          { url: proxy.url, keepAliveMs: 50 }
        )
        const calls = yield* mints(ids, "hang", 8, 8)
        for (const call of calls) {
          const error = failureOf(call)
          expect(error?._tag).toBe("RequestTimeout")
          // the target is timeout + 10 % (npm run chaos measures it); a test only asserts the call is not
          // held by the hang, with room for a busy machine's event-loop lag
          expect(call.ms).toBeLessThan(timeoutMs + 1_000)
          // it ends at the overall deadline; on a loaded machine a little before, with the attempt's
          // own timeout, when the retry policy sees that no further attempt could start in time
          if (error?._tag === "RequestTimeout" && error.scope === "attempt") {
            expect(call.ms).toBeGreaterThanOrEqual(2 * 120 - 5)
          } else {
            expect(error?._tag === "RequestTimeout" && error.scope).toBe("overall")
            expect(call.ms).toBeGreaterThanOrEqual(timeoutMs - 5)
          }
        }
        // two attempts time out at 120 ms, the third is cut by the overall timeout: all interrupted
        // (an attempt cut by the overall timeout may not have reached the server yet)
        const sent = mintAttempts(attempts)
        const hung = (yield* server.counts).faults.hang
        // on a quiet machine each call's first two attempts reach the server (16 hung); on a busy one an
        // attempt may be cut before it gets there, so only bounds that hold under any load are asserted
        expect(hung).toBeGreaterThanOrEqual(1)
        expect(hung).toBeLessThanOrEqual(sent.length)
        expect(sent.length).toBeGreaterThanOrEqual(8)
        expect(sent.map((a) => a.outcome)).toEqual(Array(sent.length).fill("interrupted"))
        // every connection that carried one was closed by the client (idle pooled ones expire in 50 ms)
        expect(proxy.accepted()).toBeGreaterThanOrEqual(1)
        expect(yield* poll(Effect.sync(proxy.open), (n) => n === 0, { every: "25 millis", within: "2 seconds" })).toBe(
          0
        )
      }))

    it.scoped(
      "rate-limited: no retry before Retry-After (seconds and HTTP-date), then success",
      () =>
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          yield* server.reset
          const { attempts, events, ids } = yield* live({ retry: fastRetry, timeout: "8 seconds" })

          yield* server.setFaults({ rateLimit: { burst: 2, retryAfter: 1, endpoints: ["mint"] } })
          const [seconds] = yield* mints(ids, "rate-seconds", 1)
          expect(seconds && Exit.isSuccess(seconds.exit)).toBe(true)
          const spaced = mintAttempts(attempts)
          expect(spaced.map((a) => a.status)).toEqual([429, 429, 200])
          for (let i = 0; i < 2; i++) {
            const gap = spaced[i + 1]!.sentAt - spaced[i]!.answeredAt!
            expect(spaced[i]!.retryAfter).toBe("1")
            expect(gap).toBeGreaterThanOrEqual(1000 - 1) // Node timers may fire up to 1 ms early
          }
          const delays = (yield* events).flatMap((e) => e._tag === "RetryScheduled" ? [e] : [])
          expect(delays.map((e) => e.error)).toEqual(["RateLimited", "RateLimited"])
          expect(delays.every((e) => e.delayMs >= 1000)).toBe(true)

          yield* server.setFaults({
            rateLimit: { burst: 1, retryAfter: 1, retryAfterFormat: "http-date", endpoints: ["mint"] }
          })
          const before = mintAttempts(attempts).length
          const wallBefore = Date.now()
          const [dated] = yield* mints(ids, "rate-date", 1)
          expect(dated && Exit.isSuccess(dated.exit)).toBe(true)
          const [limited, retried] = mintAttempts(attempts).slice(before)
          expect(limited?.status).toBe(429)
          const notBefore = Date.parse(limited?.retryAfter ?? "")
          expect(notBefore).toBeGreaterThan(wallBefore)
          // the retry started no earlier than the date the service named
          expect(retried?.sentWallMs).toBeGreaterThanOrEqual(notBefore - 1)
          yield* expectMintedOnceEach([...(seconds ? [seconds] : []), ...(dated ? [dated] : [])])
        }),
      { timeout: 20_000 }
    )

    it.scoped("rate-limited: a Retry-After past the deadline fails at once instead of waiting", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        yield* server.setFaults({ rateLimit: { burst: 5, retryAfter: 5, endpoints: ["mint"] } })
        const { ids } = yield* live({ retry: fastRetry, timeout: "1 second" })
        const [call] = yield* mints(ids, "rate-deadline", 1)
        const error = call && failureOf(call)
        expect(error?._tag).toBe("RateLimited")
        if (error?._tag === "RateLimited") expect(error.retryAfterMs).toBe(5000)
        expect(call?.ms).toBeLessThan(500)
        expect(yield* mintRequests).toBe(1)
        yield* server.resetFaults
      }))

    it.scoped(
      "outage-recovery: both breakers open, reject without a request; once the open period has run out the monitor half-opens them and one probe request closes the mint breaker",
      () =>
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          yield* server.reset
          const { attempts, events, ids } = yield* live({
            retry: fastRetry,
            // long enough that the rejections below all fall in it, even on a loaded machine
            breaker: { consecutiveFailures: 3, openDuration: "4 seconds" },
            health: {
              interval: "50 millis",
              timeout: "100 millis",
              reconnectBase: "10 millis",
              reconnectMax: "40 millis"
            },
            idempotency: "honoured"
          })
          const breakers = Effect.map(ids.health, (h) => h.breakers)
          expect((yield* mints(ids, "healthy", 3)).every((c) => Exit.isSuccess(c.exit))).toBe(true)

          yield* server.setFaults({ outage: { mode: "refuse" } })
          // the breaker judges calls: three calls fail after their retries, and that opens it; a refused
          // connection is the whole service's trouble, so the validate breaker opens too
          const tripping = yield* mints(ids, "trip", 3)
          expect(tripping.map((c) => failureOf(c)?._tag)).toEqual(Array(3).fill("ConnectionError"))
          expect((yield* server.counts).faults.outage).toBeGreaterThanOrEqual(3 * (fastRetry.maxRetries + 1))
          const [first] = yield* mints(ids, "first-rejected", 1)
          expect(first && failureOf(first)?._tag).toBe("CircuitOpen")
          expect(yield* breakers).toEqual({ mint: "Open", validate: "Open" })
          const requestsBefore = (yield* server.counts).requests
          const mintAttemptsBefore = mintAttempts(attempts).length
          const rejected = yield* mints(ids, "open", 50)
          expect(rejected.map((c) => failureOf(c)?._tag)).toEqual(Array(50).fill("CircuitOpen"))
          const validation = yield* Effect.flip(ids.validate(vectors.valid[0].id, { remote: true }))
          expect(validation._tag).toBe("CircuitOpen")
          const requestsAfter = (yield* server.counts).requests
          expect(requestsAfter.mint).toBe(requestsBefore.mint)
          expect(requestsAfter.validate).toBe(requestsBefore.validate)
          expect(mintAttempts(attempts)).toHaveLength(mintAttemptsBefore)
          const circuitOpen = failureOf(rejected[0]!)
          if (circuitOpen?._tag === "CircuitOpen") expect(circuitOpen.retryAt).toBeGreaterThan(Date.now())

          // the monitor's first check comes one interval after the build: let it see the outage
          // before the outage ends, or there is no reconnection to report
          const monitorFailures = yield* poll(Effect.map(ids.stats, (s) => s.health.failures), (n) => n > 0, {
            every: "5 millis",
            within: "10 seconds"
          })
          expect(monitorFailures).toBeGreaterThan(0)
          yield* server.setFaults({ outage: null })
          const atLift = yield* mintRequests
          const closed = yield* poll(mints(ids, "recover", 1), ([c]) => c !== undefined && Exit.isSuccess(c.exit), {
            every: "5 millis",
            within: "15 seconds"
          })
          expect(closed[0] && Exit.isSuccess(closed[0].exit)).toBe(true)
          expect((yield* breakers).mint).toBe("Closed")
          // closed by the first probe, one request: exactly one mint reached the server after the outage
          expect((yield* mintRequests) - atLift).toBe(1)
          const transitionsOf = (all: ReadonlyArray<Observability.ClientEvent>) =>
            all.flatMap((e) =>
              e._tag === "BreakerTransition" && e.operation === "mint" ? [`${e.from}>${e.to}:${e.reason}`] : []
            )
          // the event stream is consumed by its own fiber: wait for it to catch up with the state
          // (and for the monitor's Reconnected, which its next check reports, maybe after the probe)
          const seen = yield* poll(
            events,
            (all) => transitionsOf(all).length >= 3 && all.some((e) => e._tag === "Reconnected"),
            { every: "5 millis", within: "10 seconds" }
          )
          expect(transitionsOf(seen)).toEqual([
            "Closed>Open:ConsecutiveFailures",
            "Open>HalfOpen:OpenElapsed",
            "HalfOpen>Closed:ProbesSucceeded"
          ])
          expect(seen.some((e) => e._tag === "Reconnected")).toBe(true)
        }),
      { timeout: 40_000 }
    )

    it.scoped("outage-recovery without the monitor: a probe is one request, however many retries; the next one closes it", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const { ids } = yield* live({
          retry: fastRetry,
          breaker: { consecutiveFailures: 2, openDuration: "200 millis", openBackoffFactor: 1 },
          idempotency: "honoured"
        })
        yield* server.setFaults({ outage: { mode: "reset" } })
        const tripping = yield* mints(ids, "trip", 2)
        expect(tripping.map((c) => failureOf(c)?._tag)).toEqual(["ConnectionError", "ConnectionError"])
        expect((yield* ids.health).breaker).toBe("Open")
        const before = yield* mintRequests
        const [rejected] = yield* mints(ids, "open", 1)
        expect(rejected && failureOf(rejected)?._tag).toBe("CircuitOpen")
        expect(yield* mintRequests).toBe(before)
        // still down when the open period runs out: the probe fails after one request, not 1 + 3 retries
        yield* Effect.sleep("250 millis")
        const [failedProbe] = yield* mints(ids, "failed-probe", 1)
        expect(failedProbe && failureOf(failedProbe)?._tag).toBe("ConnectionError")
        expect((yield* mintRequests) - before).toBe(1)
        expect((yield* ids.health).breakers.mint).toBe("Open")
        yield* server.setFaults({ outage: null })
        yield* Effect.sleep("250 millis")
        const [probe] = yield* mints(ids, "probe", 1)
        expect(probe && Exit.isSuccess(probe.exit)).toBe(true)
        expect((yield* ids.health).breakers.mint).toBe("Closed")
        expect((yield* mintRequests) - before).toBe(2)
      }))

    describe("non-retryable failures are not retried end to end: exactly one request", () => {
      it.scoped("Unauthorized (a wrong token)", () =>
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          yield* server.reset
          const { events, ids } = yield* live({ retry: { ...fastRetry, maxRetries: 5 } }, {
            token: Redacted.make("not-the-token")
          })
          const wrong = yield* Effect.flip(ids.mint({ entityType: "P" }))
          expect(wrong._tag).toBe("Unauthorized")
          expect(yield* mintRequests).toBe(1)
          expect((yield* events).filter((e) => e._tag === "RetryScheduled")).toEqual([])
        }))

      it.scoped("IdempotencyConflict (one key, two bodies)", () =>
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          yield* server.reset
          const { events, ids } = yield* live({ retry: { ...fastRetry, maxRetries: 5 } })
          yield* ids.mint({ entityType: "P", idempotencyKey: "order-7" })
          const conflict = yield* Effect.flip(ids.mint({ entityType: "L", idempotencyKey: "order-7" }))
          expect(conflict._tag).toBe("IdempotencyConflict")
          expect(yield* mintRequests).toBe(2)
          expect((yield* events).filter((e) => e._tag === "RetryScheduled")).toEqual([])
        }))

      it.scoped("InvalidRequest (the service refuses the mint: sequence space used up)", () =>
        Effect.gen(function*() {
          const { events, ids } = yield* live({ retry: { ...fastRetry, maxRetries: 5 } })
          const refused = yield* Effect.flip(ids.mint({ entityType: "P" }))
          expect(refused._tag).toBe("InvalidRequest")
          expect((yield* ReferenceServer.pipe(Effect.flatMap((s) => s.counts))).requests.mint).toBe(1)
          expect((yield* events).filter((e) => e._tag === "RetryScheduled")).toEqual([])
        }).pipe(Effect.provide(ReferenceServer.layer({ sequenceCapacity: 0 }))))
    })
  })
})
