import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Schema, Scope, TestClock } from "effect"
import * as Api from "../src/Api.ts"
import * as ChittyId from "../src/ChittyId.ts"
import { duplicateMints, type Options, ReferenceServer } from "../src/server/ReferenceServer.ts"
import { type Answer, answered, type Failed, request, type RequestOptions } from "./server-http.ts"

type Server = ReferenceServer["Type"]

const withServer = <A, E>(f: (server: Server) => Effect.Effect<A, E>, options?: Options) =>
  Effect.flatMap(ReferenceServer, f).pipe(Effect.provide(ReferenceServer.layer({ seed: 1, ...options })))

const send = (server: Server, path: string, options: RequestOptions = {}) =>
  request(server.url, path, { token: server.token, ...options })

const mint = (server: Server, body: unknown = { entityType: "P" }, headers?: Record<string, string>) =>
  send(server, Api.paths.mint, { body, ...(headers === undefined ? {} : { headers }) })

const validate = (server: Server, id = "03-1-USA-5537-P-2602-0-38") =>
  send(server, Api.paths.validate, { body: { id } })

const health = (server: Server) => send(server, Api.paths.health, { token: null })

/** Real time, whatever the clock under test: lets loopback I/O happen. */
const pause = (millis: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, millis)))

const waitUntil = (condition: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      if (yield* condition) return
      yield* pause(5)
    }
    throw new Error("condition not met within 2 s")
  })

const failed = (result: Answer | Failed): Failed => {
  if (result._tag === "Answer") throw new Error(`expected the request to fail, got ${result.status} ${result.text}`)
  return result
}

describe("ReferenceServer faults", () => {
  it.effect("latency waits on Effect's Clock (fixed + jitter) before answering", () =>
    withServer(
      (server) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.fork(mint(server))
          yield* waitUntil(Effect.map(server.counts, (c) => c.requests.mint === 1))
          yield* pause(30)
          expect(fiber.unsafePoll()).toBeNull()
          yield* TestClock.adjust("4999 millis")
          yield* pause(30)
          expect(fiber.unsafePoll()).toBeNull()
          yield* TestClock.adjust("1 second")
          const answer = answered(yield* Fiber.join(fiber))
          expect(answer.status).toBe(200)
          expect((yield* server.counts).faults.latency).toBe(1)
          // health is not targeted by default: answered at once
          expect(answered(yield* health(server)).status).toBe(200)
        }),
      { faults: { latency: { fixedMs: 5000, jitterMs: 500 } } }
    ))

  it.effect("errors answer 503 SERVICE_UNAVAILABLE, with Retry-After in seconds or as an HTTP-date when asked", () =>
    withServer((server) =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2026-02-01T00:00:00.000Z"))
        yield* server.setFaults({ errors: {} })
        const bare = answered(yield* mint(server))
        expect(bare.status).toBe(503)
        expect(bare.headers.get("retry-after")).toBeNull()
        expect(Schema.decodeUnknownSync(Api.ServiceUnavailableBody)(bare.json).error).toBe("SERVICE_UNAVAILABLE")

        yield* server.setFaults({ errors: { retryAfter: 2 } })
        expect(answered(yield* validate(server)).headers.get("retry-after")).toBe("2")

        yield* server.setFaults({ errors: { retryAfter: 2, retryAfterFormat: "http-date" } })
        expect(answered(yield* mint(server)).headers.get("retry-after")).toBe("Sun, 01 Feb 2026 00:00:02 GMT")

        const counts = yield* server.counts
        expect(counts.faults.errors).toBe(3)
        expect(counts.responses).toEqual({ "503": 3 })
        expect(counts.minted).toBe(0)
      })
    ))

  it.effect("errors strike at their rate, repeatably for a seed", () =>
    Effect.gen(function*() {
      const statuses = (seed: number) =>
        withServer(
          (server) =>
            Effect.forEach(Array.from({ length: 30 }), () => Effect.map(mint(server), (r) => answered(r).status)),
          { seed, faults: { errors: { rate: 0.5 } } }
        )
      const a = yield* statuses(42)
      expect(yield* statuses(42)).toEqual(a)
      expect(a).toContain(200)
      expect(a).toContain(503)
      expect(yield* statuses(43)).not.toEqual(a)
    }))

  it.effect("an outage resets or closes every connection, health included; the admin plane still answers", () =>
    withServer((server) =>
      Effect.gen(function*() {
        yield* server.setFaults({ outage: { mode: "reset" } })
        expect(failed(yield* mint(server)).code).toBe("ECONNRESET")
        expect(failed(yield* health(server))._tag).toBe("Failed")

        yield* server.setFaults({ outage: { mode: "refuse" } })
        for (const attempt of [validate(server), health(server), send(server, "/elsewhere")]) {
          expect(failed(yield* attempt)._tag).toBe("Failed")
        }
        const counts = answered(yield* send(server, "/_admin/counts"))
        expect(counts.status).toBe(200)
        expect(counts.json).toMatchObject({
          requests: { mint: 1, validate: 1, health: 2, other: 1 },
          faults: { outage: 5 },
          responses: {},
          minted: 0
        })

        yield* server.setFaults({ outage: null })
        expect(answered(yield* mint(server)).status).toBe(200)
      })
    ))

  it.effect("a 429 burst answers the next N targeted requests with Retry-After, then lets them through", () =>
    withServer((server) =>
      Effect.gen(function*() {
        yield* server.setFaults({ rateLimit: { burst: 2 } })
        const first = answered(yield* mint(server))
        expect(first.status).toBe(429)
        expect(first.headers.get("retry-after")).toBe("1")
        expect(first.json).toMatchObject({ success: false, error: "RATE_LIMITED" })
        expect(answered(yield* health(server)).status).toBe(200) // not targeted: does not use up the burst
        expect(answered(yield* validate(server)).status).toBe(429)
        expect(answered(yield* mint(server)).status).toBe(200)
        expect((yield* server.faults).rateLimit).toMatchObject({ burst: 0 })
        expect((yield* server.counts).faults.rateLimit).toBe(2)

        yield* server.setFaults({ rateLimit: { burst: 1, retryAfter: 30, endpoints: ["health"] } })
        const limited = answered(yield* health(server))
        expect(limited.status).toBe(429)
        expect(limited.headers.get("retry-after")).toBe("30")
      })
    ))

  it.effect("a hang is never answered: the client gives up, and the server still stops with its scope", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = Context.get(
        yield* Layer.buildWithScope(ReferenceServer.layer({ faults: { hang: { endpoints: ["validate"] } } }), scope),
        ReferenceServer
      )
      const givenUp = failed(yield* send(server, Api.paths.validate, { body: { id: "x" }, timeoutMs: 150 }))
      expect(givenUp.code).toBe("TimeoutError")
      expect((yield* server.counts).faults.hang).toBe(1)
      expect(answered(yield* mint(server)).status).toBe(200)

      // a hung request with a patient client does not hold the server open
      const patient = yield* Effect.fork(validate(server))
      yield* waitUntil(Effect.map(server.counts, (c) => c.faults.hang === 2))
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      expect(Date.now() - started).toBeLessThan(2000)
      expect(failed(yield* Fiber.join(patient))._tag).toBe("Failed")
      expect(failed(yield* health(server)).code).toBe("ECONNREFUSED")
    }))

  it.effect("garbage: 200 answers that are not JSON, have the wrong shape, or carry a bad ID", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const decodesMint = Schema.is(Schema.encodedSchema(Api.MintResponse))
        for (const kind of ["not-json", "wrong-shape", "bad-id"] as const) {
          yield* server.setFaults({ garbage: { kinds: [kind] } })
          for (const attempt of [mint(server), validate(server)]) {
            const answer = answered(yield* attempt)
            expect(answer.status).toBe(200)
            if (kind === "not-json") {
              expect(answer.json).toBeUndefined()
            } else {
              expect(answer.json).toBeDefined()
              const asMint = Schema.decodeUnknownEither(Api.MintResponse)(answer.json)
              const asValidate = Schema.decodeUnknownEither(Api.ValidateResponse)(answer.json)
              expect(asMint._tag).toBe("Left")
              expect(asValidate._tag).toBe("Left")
            }
          }
          if (kind === "bad-id") {
            // shaped like a mint answer; only the ID is wrong
            const answer = answered(yield* mint(server))
            expect(decodesMint(answer.json)).toBe(true)
            const id = (answer.json as { readonly chittyId: string }).chittyId
            expect(ChittyId.isChittyId(id) || ChittyId.isFallbackId(id)).toBe(false)
          }
        }
        const counts = yield* server.counts
        expect(counts.faults.garbage).toBe(7)
        expect(counts.minted).toBe(0)
      })
    ))

  it.effect("fallback: mint answers a placeholder; nothing is minted or kept under the key", () =>
    withServer((server) =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2026-02-10T00:00:00.000Z"))
        yield* server.setFaults({ fallback: {} })
        const headers = { "idempotency-key": "fb-1" }
        const degraded = answered(yield* mint(server, { entityType: "thing" }, headers))
        expect(degraded.status).toBe(200)
        const body = Schema.decodeUnknownSync(Api.MintFallback)(degraded.json)
        expect(body).toMatchObject({ fallback: true, errorCode: "MINT_UNAVAILABLE" })
        expect(ChittyId.parseOrThrow(body.chittyId)).toMatchObject({
          kind: "fallback",
          errorCode: "MINT_UNAVAILABLE",
          entityType: "T",
          yearMonth: "2602"
        })
        yield* server.setFaults({ fallback: { errorCode: "DRAND_UNAVAILABLE" } })
        expect(answered(yield* mint(server)).json).toMatchObject({ errorCode: "DRAND_UNAVAILABLE" })
        expect(yield* server.mintLog).toEqual([])

        yield* server.setFaults({ fallback: null })
        const retried = answered(yield* mint(server, { entityType: "thing" }, headers))
        expect(Schema.decodeUnknownSync(Api.MintSuccess)(retried.json).chittyId).toMatch(/^03-1-USA-0000-T-2602/)
        const counts = yield* server.counts
        expect(counts).toMatchObject({ minted: 1, replayed: 0, faults: { fallback: 2 } })
      })
    ))

  it.effect("lost answer: the ID is committed, the connection dropped; a retry with the key gets that ID", () =>
    withServer(
      (server) =>
        Effect.gen(function*() {
          const headers = { "idempotency-key": "lost-1" }
          const body = { entityType: "person", metadata: { callId: "call-1" } }
          expect(failed(yield* mint(server, body, headers))._tag).toBe("Failed")
          const [record] = yield* server.mintLog
          expect(record).toMatchObject({ idempotencyKey: "lost-1", callId: "call-1" })

          // the fault is still on: a replay is never dropped
          const retried = answered(yield* mint(server, body, headers))
          expect(retried.status).toBe(200)
          expect(Schema.decodeUnknownSync(Api.MintSuccess)(retried.json).chittyId).toBe(record?.chittyId)

          const counts = yield* server.counts
          expect(counts).toMatchObject({ minted: 1, replayed: 1, faults: { lostAnswer: 1 } })
          expect(counts.responses).toEqual({ "200": 1 })
          expect(duplicateMints(yield* server.mintLog)).toBe(0)

          // a client that retries without the key mints twice: the log shows it
          const bare = { entityType: "person", metadata: { callId: "call-2" } }
          expect(failed(yield* mint(server, bare))._tag).toBe("Failed")
          expect(failed(yield* mint(server, bare))._tag).toBe("Failed")
          expect(duplicateMints(yield* server.mintLog)).toBe(1)
        }),
      { faults: { lostAnswer: {} } }
    ))

  it.effect("faults target only the endpoints they are given", () =>
    withServer((server) =>
      Effect.gen(function*() {
        yield* server.setFaults({ errors: { endpoints: ["health"] } })
        expect(answered(yield* health(server)).status).toBe(503)
        expect(answered(yield* mint(server)).status).toBe(200)
        yield* server.setFaults({ errors: { endpoints: ["other"] } })
        expect(answered(yield* send(server, "/nowhere")).status).toBe(503)
        expect(answered(yield* health(server)).status).toBe(200)
        yield* server.resetFaults
        expect(answered(yield* send(server, "/nowhere")).status).toBe(404)
      })
    ))

  it.effect("rejects a fault out of range as a defect, from Effect code and at start", () =>
    Effect.gen(function*() {
      const exit = yield* withServer((server) => server.setFaults({ errors: { rate: 2 } })).pipe(Effect.exit)
      expect(Exit.isFailure(exit) && Exit.causeOption(exit)._tag === "Some").toBe(true)
      expect(String(exit)).toContain("probability")
      const atStart = yield* withServer(() => Effect.void, { faults: { latency: { fixedMs: -5 } } }).pipe(Effect.exit)
      expect(Exit.isFailure(atStart)).toBe(true)
    }))
})
