/**
 * What the client guarantees against each reference server profile (issue 8 item 8): one suite run
 * over both `ReferenceServer.layer({ profile })`, as @effect/experimental runs its RateLimiter tests
 * over several stores. `strict` is the contract (status codes, keys honoured and echoed); `live`
 * answers as the live service does (trouble is a 200 placeholder, keys ignored, no token check of its
 * own). The expectations that differ are in `expected`; everything else must hold against both.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as ChittyId from "../src/ChittyId.ts"
import * as IdService from "../src/IdService.ts"
import type * as IdServiceConfig from "../src/IdServiceConfig.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"
import * as ReferenceServerModule from "../src/server/ReferenceServer.ts"

/** What differs between the profiles, as the client sees it. */
const expected = {
  strict: {
    /** The failure of a mint sent with a wrong token. */
    wrongToken: "Unauthorized",
    /** Whether the service echoes the key on its mint answers (so the client learns keys are kept). */
    keysHonoured: true,
    /** `replaceFallback` of a placeholder the service never issued (strict: it never will replace it). */
    neverIssued: "InvalidRequest"
  },
  live: {
    wrongToken: "MintRejected",
    keysHonoured: false,
    neverIssued: "MintUnavailable"
  }
} as const satisfies Record<ReferenceServerModule.Profile, unknown>

const fast = {
  retry: { maxRetries: 3, base: "1 millis", maxDelay: "4 millis" },
  health: { interval: "1 hour" }
} as const satisfies IdServiceConfig.Input

/** A fresh live IdService against the server in context, in its own scope. */
const withService = <A, E, R>(effect: Effect.Effect<A, E, R>, input: IdServiceConfig.Input = {}) =>
  Effect.flatMap(ReferenceServer, (server) =>
    Effect.scoped(Effect.provide(
      effect,
      IdService.IdService.layerWith({ url: server.url, token: server.token, ...fast, ...input }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )))

const fresh = Effect.flatMap(ReferenceServer, (server) => Effect.zipRight(server.reset, server.resetFaults))

for (const profile of ReferenceServerModule.profiles) {
  const expect_ = expected[profile]
  describe(`the client against the ${profile} profile`, () => {
    layer(ReferenceServer.layer({ profile, seed: 8 }), { timeout: 30_000, excludeTestServices: true })((it) => {
      it.effect("a wrong token fails at once, after one request, and opens no breaker", () =>
        Effect.gen(function*() {
          yield* fresh
          const server = yield* ReferenceServer
          const error = yield* withService(Effect.flip(IdService.mint({ entityType: "P" })), {
            token: Redacted.make("not-the-token"),
            breaker: { consecutiveFailures: 1 }
          })
          expect(error._tag).toBe(expect_.wrongToken)
          if (error._tag === "MintRejected") {
            expect(error.message).toContain("check the token")
            expect(ChittyId.isFallbackId(error.fallbackId)).toBe(true)
          }
          expect(error.message).not.toContain("not-the-token")
          expect(typeof error.idempotencyKey).toBe("string")
          expect((yield* server.counts).requests.mint).toBe(1)
        }))

      it.effect("20 placeholders in a row: no success from any, the mint breaker opens, remote validation still answers from the service", () =>
        withService(
          Effect.gen(function*() {
            yield* fresh
            const server = yield* ReferenceServer
            const known = yield* IdService.mint({ entityType: "L" })
            yield* server.setFaults({ fallback: { errorCode: "MINT_UNAVAILABLE" } })
            const failures = yield* Effect.forEach(
              Array.from({ length: 20 }, () => "P" as const),
              (entityType) => Effect.flip(IdService.mint({ entityType }))
            )
            expect(new Set(failures.map((e) => e._tag))).toEqual(new Set(["MintUnavailable", "CircuitOpen"]))
            for (const failure of failures) {
              if (failure._tag === "MintUnavailable") expect(ChittyId.isFallbackId(failure.fallbackId)).toBe(true)
            }
            expect((yield* server.counts).minted).toBe(1)
            const health = yield* IdService.health
            expect(health.breakers).toEqual({ mint: "Open", validate: "Closed" })
            const checked = yield* IdService.validate(known.chittyId, { remote: true })
            expect(checked).toMatchObject({ valid: true, source: "service" })
            expect((yield* IdService.health).breakers.validate).toBe("Closed")
          }),
          { breaker: { consecutiveFailures: 5 } }
        ))

      it.effect("a lost answer is retried only when the service echoed keys; the caller's retry passes the key back", () =>
        withService(Effect.gen(function*() {
          yield* fresh
          const server = yield* ReferenceServer
          yield* IdService.mint({ entityType: "P" }) // the client learns whether keys are echoed
          expect((yield* IdService.stats).requests.keysHonoured).toBe(expect_.keysHonoured)
          const before = yield* server.counts
          yield* server.setFaults({ lostAnswer: { rate: 1 } })
          const outcome = yield* Effect.either(IdService.mint({ entityType: "P", idempotencyKey: "order-7" }))
          yield* server.setFaults({ lostAnswer: null })
          const during = yield* server.counts
          expect(during.minted - before.minted).toBe(1)
          if (expect_.keysHonoured) {
            // retried under the same key: the service replays the first answer, nothing minted twice
            expect(outcome._tag === "Right" && outcome.right.idempotencyKey).toBe("order-7")
            expect(during.requests.mint - before.requests.mint).toBe(2)
            expect(during.replayed - before.replayed).toBe(1)
          } else {
            // sent once: the outcome is unknown, and the error carries the key to retry with
            expect(outcome._tag === "Left" && outcome.left._tag).toBe("MintOutcomeUnknown")
            expect(outcome._tag === "Left" && outcome.left.idempotencyKey).toBe("order-7")
            expect(during.requests.mint - before.requests.mint).toBe(1)
          }

          // the caller's own retry, passing the key back
          const retried = yield* IdService.mint({ entityType: "P", idempotencyKey: "order-7" })
          const after = yield* server.counts
          if (expect_.keysHonoured) {
            // the first mint's ID again
            expect(after.minted).toBe(during.minted)
            expect(outcome._tag === "Right" && outcome.right.chittyId).toBe(retried.chittyId)
          } else {
            // the live service ignores keys: the retry mints again (see docs/client-guarantees.md)
            expect(after.minted).toBe(during.minted + 1)
          }
        })))

      it.effect("replaceFallback: MintUnavailable while minting fails, then the permanent ID, the same every time", () =>
        withService(
          Effect.gen(function*() {
            yield* fresh
            const server = yield* ReferenceServer
            yield* server.setFaults({ fallback: { errorCode: "MINT_TIMEOUT" } })
            const placeholder = yield* IdService.mint({ entityType: "E", acceptFallback: true })
            expect(placeholder.fallback).toBe(true)
            const notYet = yield* Effect.flip(IdService.replaceFallback(placeholder.chittyId))
            expect(notYet._tag).toBe("MintUnavailable")
            if (notYet._tag === "MintUnavailable") expect(notYet.fallbackId).toBe(placeholder.chittyId)

            yield* server.setFaults({ fallback: null })
            const replaced = yield* IdService.replaceFallback(placeholder.chittyId)
            expect(ChittyId.isChittyId(replaced.chittyId)).toBe(true)
            expect(replaced.parts.entityType).toBe("E")
            expect(replaced.replaces).toBe(placeholder.chittyId)
            const again = yield* IdService.replaceFallback(placeholder.chittyId)
            expect(again.chittyId).toBe(replaced.chittyId)
            expect((yield* server.counts).minted).toBe(1)
            // the replacement is an ID the service knows
            expect(yield* IdService.validate(replaced.chittyId, { remote: true })).toMatchObject({ valid: true })

            const notPlaceholder = yield* Effect.flip(IdService.replaceFallback(replaced.chittyId))
            expect(notPlaceholder._tag).toBe("InvalidRequest")
            const neverIssued = ChittyId.makeFallback({
              errorCode: "CERT_UNAVAILABLE",
              entityType: "A",
              yearMonth: "0001"
            })
            expect((yield* Effect.flip(IdService.replaceFallback(neverIssued)))._tag).toBe(expect_.neverIssued)
          }),
          { breaker: { consecutiveFailures: 100 } }
        ))

      it.effect("transient trouble: no ID is minted twice for one call, and no success is a placeholder", () =>
        withService(
          Effect.gen(function*() {
            yield* fresh
            const server = yield* ReferenceServer
            yield* IdService.mint({ entityType: "T", metadata: { callId: "learn" } })
            yield* server.setFaults({
              lostAnswer: { rate: 0.2 },
              fallback: { errorCode: "MINT_UNAVAILABLE", rate: 0.2 }
            })
            const calls = yield* Effect.forEach(
              Array.from({ length: 40 }, (_, i) => `call-${i}`),
              (callId) => Effect.either(IdService.mint({ entityType: "T", metadata: { callId } })),
              { concurrency: 4 }
            )
            yield* server.resetFaults
            const log = yield* server.mintLog
            const perCall = new Map<string, number>()
            for (const record of log) {
              if (record.callId !== null) perCall.set(record.callId, (perCall.get(record.callId) ?? 0) + 1)
            }
            expect([...perCall.values()].every((n) => n === 1)).toBe(true)
            const minted = new Set<string>(log.map((r) => r.chittyId))
            for (const call of calls) {
              if (call._tag === "Right") {
                expect(call.right.fallback).toBe(false)
                expect(minted.has(call.right.chittyId)).toBe(true)
              } else {
                expect(["MintOutcomeUnknown", "MintUnavailable", "ConnectionError"]).toContain(call.left._tag)
              }
            }
            if (expect_.keysHonoured) expect(calls.every((c) => c._tag === "Right")).toBe(true)
          }),
          { retry: { maxRetries: 8, base: "1 millis", maxDelay: "2 millis" }, breaker: { consecutiveFailures: 100 } }
        ))
    })
  })
}
