import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Exit, FastCheck, Layer, Option, Redacted, Schema, Scope, TestClock } from "effect"
import * as Api from "../src/Api.ts"
import * as ChittyId from "../src/ChittyId.ts"
import * as Admin from "../src/server/Admin.ts"
import {
  defaultMaxBodyBytes,
  duplicateMints,
  Faults,
  makeAdminClient,
  MintRecord,
  type Options,
  ReferenceServer,
  ServerCounts
} from "../src/server/ReferenceServer.ts"
import { answered, postChunked, request, type RequestOptions } from "./server-http.ts"

type Server = ReferenceServer["Type"]

const withServer = <A, E>(f: (server: Server) => Effect.Effect<A, E>, options?: Options) =>
  Effect.flatMap(ReferenceServer, f).pipe(Effect.provide(ReferenceServer.layer(options)))

const call = (server: Server, path: string, options: RequestOptions = {}) =>
  Effect.map(request(server.url, path, { token: server.token, ...options }), answered)

const mint = (server: Server, body: unknown, query = "", headers?: Record<string, string>) =>
  call(server, `${Api.paths.mint}${query}`, { body, ...(headers === undefined ? {} : { headers }) })

const validate = (server: Server, id: string) => call(server, Api.paths.validate, { body: { id } })

const decodeMint = Schema.decodeUnknownSync(Api.MintSuccess)
const decodeValidate = Schema.decodeUnknownSync(Api.ValidateResponse)
const decodeError = Schema.decodeUnknownSync(Api.ErrorBody)

const sample = <A>(arbitrary: FastCheck.Arbitrary<A>, seed: number): A => {
  const [value] = FastCheck.sample(arbitrary, { numRuns: 1, seed })
  if (value === undefined) throw new Error("no sample")
  return value
}

describe("ReferenceServer", () => {
  describe("auth", () => {
    it.effect("accepts the right token and rejects a missing, wrong or non-bearer one with 401", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const ok = yield* mint(server, { entityType: "P" })
          expect(ok.status).toBe(200)

          const missing = yield* call(server, Api.paths.mint, { body: { entityType: "P" }, token: null })
          expect(missing.status).toBe(401)
          expect(decodeError(missing.json)).toEqual({
            success: false,
            error: "UNAUTHORIZED",
            message: expect.stringContaining("missing bearer token")
          })

          const wrong = yield* call(server, Api.paths.mint, { body: { entityType: "P" }, token: "not-the-token" })
          expect(wrong.status).toBe(401)
          expect(wrong.json).toMatchObject({ success: false, error: "UNAUTHORIZED", message: "invalid bearer token" })

          const basic = yield* call(server, Api.paths.validate, {
            body: { id: "x" },
            token: null,
            headers: { authorization: `Basic ${Redacted.value(server.token)}` }
          })
          expect(basic.status).toBe(401)
          expect(basic.json).toMatchObject({ error: "UNAUTHORIZED", message: expect.stringContaining("Bearer") })

          // the token never appears in an answer
          expect(wrong.text + missing.text + basic.text).not.toContain(Redacted.value(server.token))
          // a rejected request mints nothing
          expect((yield* server.counts).minted).toBe(1)
        })
      ))

    it.effect("uses the token it was given", () =>
      withServer(
        (server) =>
          Effect.gen(function*() {
            expect(Redacted.value(server.token)).toBe("s3cret-token")
            expect((yield* call(server, Api.paths.mint, { body: { entityType: "T" }, token: "s3cret-token" })).status)
              .toBe(200)
          }),
        { token: Redacted.make("s3cret-token") }
      ))
  })

  describe("mint", () => {
    it.effect("mints every entity input (codes, words, legacy names) with the region, jurisdiction and trust asked", () =>
      withServer((server) =>
        Effect.gen(function*() {
          for (const [i, input] of ChittyId.entityTypeInputs.entries()) {
            const region = (i % 9) + 1
            const trust = i % 6
            const field = i % 2 === 0 ? "entityType" : "entity_type"
            const answer = yield* mint(server, { [field]: input }, `?region=${region}&jurisdiction=GBR&trust=${trust}`)
            expect(answer.status).toBe(200)
            const body = decodeMint(answer.json)
            const parts = ChittyId.parseOrThrow(body.chittyId)
            expect(parts).toMatchObject({
              kind: "permanent",
              region,
              jurisdiction: "GBR",
              trustLevel: trust,
              entityType: Option.getOrThrow(ChittyId.entityTypeOf(input))
            })
            expect(body.components).toEqual(Api.componentsOf(parts))
          }
        })
      ))

    it.effect("defaults to region 1, USA, trust 0, and the year-month of Effect's Clock", () =>
      withServer((server) =>
        Effect.gen(function*() {
          yield* TestClock.setTime(Date.parse("2026-02-14T12:00:00.000Z"))
          const body = decodeMint((yield* mint(server, { entityType: "person" })).json)
          expect(ChittyId.parseOrThrow(body.chittyId)).toMatchObject({
            region: 1,
            jurisdiction: "USA",
            trustLevel: 0,
            entityType: "P",
            yearMonth: "2602"
          })
          expect(body.timestamp).toBe("2026-02-14T12:00:00.000Z")
        })
      ))

    it.effect("answers 400 INVALID_REQUEST naming every bad part", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const cases: ReadonlyArray<readonly [unknown, string, ReadonlyArray<string>]> = [
            [{}, "", ["entityType is required"]],
            [{ entityType: "Person" }, "", ["entityType \"Person\" is not an entity type", "person"]],
            [{ entityType: "P", entity_type: "L" }, "", ["disagree"]],
            [{ entityType: "P" }, "?region=0", ["region must be one digit from 1 to 9, got \"0\""]],
            [{ entityType: "P" }, "?region=10", ["region"]],
            [{ entityType: "P" }, "?jurisdiction=usa", ["jurisdiction must be three upper-case letters"]],
            [{ entityType: "P" }, "?jurisdiction=ERR", ["reserved for fallback"]],
            [{ entityType: "P" }, "?trust=6", ["trust must be one digit from 0 to 5, got \"6\""]],
            [{ entityType: "x" }, "?region=x&trust=x", ["entityType", "region", "trust"]]
          ]
          for (const [body, query, fragments] of cases) {
            const answer = yield* mint(server, body, query)
            expect(answer.status).toBe(400)
            const error = decodeError(answer.json)
            expect(error.error).toBe("INVALID_REQUEST")
            for (const fragment of fragments) expect(error.message).toContain(fragment)
          }
          expect((yield* server.counts).minted).toBe(0)
        })
      ))

    it.effect("gives HttpApi's own decode errors the contract's shape", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const wrongType = yield* mint(server, { entityType: 5 })
          expect(wrongType.status).toBe(400)
          expect(wrongType.json).toEqual({
            success: false,
            error: "INVALID_REQUEST",
            message: "invalid request: entityType: Expected string, actual 5"
          })

          const notJson = yield* mint(server, "{\"entityType\":")
          expect(notJson.status).toBe(400)
          expect(decodeError(notJson.json)).toMatchObject({
            error: "INVALID_REQUEST",
            message: expect.stringContaining("not valid JSON")
          })

          const twice = yield* mint(server, { entityType: "P" }, "?region=1&region=2")
          expect(twice.status).toBe(400)
          expect(decodeError(twice.json).message).toContain("region")

          const noId = yield* call(server, Api.paths.validate, { body: { ID: "x" } })
          expect(noId.status).toBe(400)
          expect(decodeError(noId.json)).toMatchObject({
            error: "INVALID_REQUEST",
            message: expect.stringContaining("id")
          })

          const unknownPath = yield* call(server, "/v1/nope")
          expect(unknownPath.status).toBe(404)
          expect(decodeError(unknownPath.json).error).toBe("NOT_FOUND")
        })
      ))

    it.effect("never repeats a sequence for one prefix", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const ids = yield* Effect.forEach(
            Array.from({ length: 60 }, (_, i) => i),
            () => Effect.map(mint(server, { entityType: "T" }), (a) => decodeMint(a.json).chittyId),
            { concurrency: 8 }
          )
          expect(new Set(ids).size).toBe(60)
          const sequences = ids.map((id) => ChittyId.parseOrThrow(id).sequence)
          expect(new Set(sequences).size).toBe(60)
        })
      ))

    it.effect("answers 422 SEQUENCE_EXHAUSTED at the capacity of a prefix, never a duplicate", () =>
      withServer(
        (server) =>
          Effect.gen(function*() {
            const ids: Array<string> = []
            for (let i = 0; i < 3; i++) ids.push(decodeMint((yield* mint(server, { entityType: "E" })).json).chittyId)
            expect(new Set(ids).size).toBe(3)

            const exhausted = yield* mint(server, { entityType: "E" })
            expect(exhausted.status).toBe(422)
            expect(decodeError(exhausted.json)).toMatchObject({
              error: "SEQUENCE_EXHAUSTED",
              message: expect.stringMatching(/exhausted.*1-USA-E-.*3 sequences/)
            })
            // other prefixes are untouched
            expect((yield* mint(server, { entityType: "E" }, "?jurisdiction=CAN")).status).toBe(200)
            expect((yield* mint(server, { entityType: "P" })).status).toBe(200)
            expect((yield* server.mintLog).map((r) => r.chittyId)).toEqual(expect.arrayContaining(ids))
            expect((yield* server.counts).minted).toBe(5)
          }),
        { sequenceCapacity: 3 }
      ))
  })

  describe("idempotency", () => {
    it.effect("replays exactly the same answer for the same key and request, minting once", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const headers = { "idempotency-key": "call-1" }
          const first = yield* mint(server, { entityType: "P", metadata: { a: 1, b: [1, 2] } }, "?region=3", headers)
          yield* TestClock.adjust("1 hour")
          // same request, keys in another order
          const again = yield* mint(server, { metadata: { b: [1, 2], a: 1 }, entityType: "P" }, "?region=3", headers)
          expect(first.status).toBe(200)
          expect(again.status).toBe(200)
          expect(again.text).toBe(first.text)
          const counts = yield* server.counts
          expect(counts.minted).toBe(1)
          expect(counts.replayed).toBe(1)
          const [record] = yield* server.mintLog
          expect(record).toMatchObject({ idempotencyKey: "call-1", metadata: { a: 1, b: [1, 2] } })
        })
      ))

    it.effect("answers 409 IDEMPOTENCY_CONFLICT for the same key with another body or query", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const headers = { "idempotency-key": "k" }
          expect((yield* mint(server, { entityType: "P" }, "", headers)).status).toBe(200)
          for (const [body, query] of [[{ entityType: "L" }, ""], [{ entityType: "P" }, "?trust=1"]] as const) {
            const conflict = yield* mint(server, body, query, headers)
            expect(conflict.status).toBe(409)
            expect(decodeError(conflict.json)).toMatchObject({
              error: "IDEMPOTENCY_CONFLICT",
              message: expect.stringContaining("Idempotency-Key")
            })
          }
          expect((yield* server.counts).minted).toBe(1)
        })
      ))

    it.effect("mints once for concurrent requests with one key", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const answers = yield* Effect.all(
            Array.from({ length: 25 }, () => mint(server, { entityType: "L" }, "", { "idempotency-key": "same" })),
            { concurrency: "unbounded" }
          )
          expect(answers.every((a) => a.status === 200)).toBe(true)
          expect(new Set(answers.map((a) => a.text)).size).toBe(1)
          const counts = yield* server.counts
          expect(counts.minted).toBe(1)
          expect(counts.replayed).toBe(24)
          expect(duplicateMints(yield* server.mintLog)).toBe(0)
        })
      ))

    it.effect("does not keep a failed request under its key", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const headers = { "idempotency-key": "retry-me" }
          expect((yield* mint(server, { entityType: "nope" }, "", headers)).status).toBe(400)
          expect((yield* mint(server, { entityType: "P" }, "", headers)).status).toBe(200)
          expect((yield* mint(server, { entityType: "" }, "", { "idempotency-key": "" })).status).toBe(400)
        })
      ))

    it.effect("is bounded: the oldest key is forgotten", () =>
      withServer(
        (server) =>
          Effect.gen(function*() {
            for (const key of ["k1", "k2", "k3"]) {
              expect((yield* mint(server, { entityType: "P" }, "", { "idempotency-key": key })).status).toBe(200)
            }
            // k1 was evicted: another body is no longer a conflict; k3 is still remembered
            expect((yield* mint(server, { entityType: "T" }, "", { "idempotency-key": "k1" })).status).toBe(200)
            expect((yield* mint(server, { entityType: "T" }, "", { "idempotency-key": "k3" })).status).toBe(409)
          }),
        { idempotencyCapacity: 2 }
      ))
  })

  describe("body limit", () => {
    it.effect("answers 413 PAYLOAD_TOO_LARGE over the limit, declared or chunked", () =>
      withServer(
        (server) =>
          Effect.gen(function*() {
            const body = (size: number) => {
              const base = JSON.stringify({ entityType: "P", metadata: { pad: "" } })
              return JSON.stringify({ entityType: "P", metadata: { pad: "x".repeat(size - base.length) } })
            }
            expect(body(256).length).toBe(256)
            expect((yield* mint(server, body(256))).status).toBe(200)
            const over = yield* mint(server, body(257))
            expect(over.status).toBe(413)
            expect(over.json).toEqual({
              success: false,
              error: "PAYLOAD_TOO_LARGE",
              message: "the request body is over the limit of 256 bytes"
            })

            const chunked = yield* postChunked(server.url, Api.paths.mint, server.token, [
              body(400).slice(0, 200),
              body(400).slice(200)
            ])
            expect(chunked).toMatchObject({ status: 413 })
            const chunkedOk = yield* postChunked(server.url, Api.paths.mint, server.token, [
              "{\"entityType\":",
              "\"T\"}"
            ])
            expect(chunkedOk).toMatchObject({ status: 200 })
            expect((yield* server.counts).minted).toBe(2)
          }),
        { maxBodyBytes: 256 }
      ))

    it("defaults to 16 KiB", () => {
      expect(defaultMaxBodyBytes).toBe(16 * 1024)
    })
  })

  describe("validate", () => {
    it.effect("knows what it minted, what it did not, what is malformed and what is a fallback", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const minted = decodeMint((yield* mint(server, { entityType: "A" }, "?region=4&jurisdiction=JPN")).json)
          const known = decodeValidate((yield* validate(server, minted.chittyId)).json)
          expect(known).toMatchObject({ success: true, valid: true, components: minted.components })

          const unknownId = sample(ChittyId.arbitrary, 7)
          const unknown = decodeValidate((yield* validate(server, unknownId)).json)
          expect(unknown).toMatchObject({ success: true, valid: false, error: Api.unknownIdError })

          const tampered = minted.chittyId.slice(0, -2) +
            String((Number(minted.chittyId.slice(-2)) + 1) % 97).padStart(2, "0")
          const malformed = decodeValidate((yield* validate(server, tampered)).json)
          expect(malformed).toMatchObject({ valid: false, error: expect.stringContaining("check number") })
          const short = decodeValidate((yield* validate(server, minted.chittyId.slice(0, 10))).json)
          expect(short).toMatchObject({ valid: false, error: expect.stringContaining("segments") })

          const fallback = decodeValidate((yield* validate(server, sample(ChittyId.fallbackArbitrary, 3))).json)
          expect(fallback).toMatchObject({ valid: false, error: expect.stringContaining("fallback") })
          for (const answer of [known, unknown, malformed, fallback]) expect(typeof answer.timestamp).toBe("string")
        })
      ))
  })

  describe("official-client routes", () => {
    it.effect("mints with GET /api/get-chittyid and GET /generate (type or for, default a Thing)", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const cases: ReadonlyArray<readonly [string, ChittyId.EntityTypeCode]> = [
            [`${Api.paths.getChittyId}?type=person`, "P"],
            [`${Api.paths.generate}?for=event&region=3&jurisdiction=GBR&trust=2`, "E"],
            [Api.paths.generate, "T"]
          ]
          for (const [path, entityType] of cases) {
            const answer = yield* call(server, path)
            expect(answer.status).toBe(200)
            const minted = decodeMint(answer.json)
            expect(ChittyId.parseOrThrow(minted.chittyId).entityType).toBe(entityType)
          }
          expect(ChittyId.parseOrThrow(decodeMint((yield* call(server, cases[1]![0])).json).chittyId)).toMatchObject({
            region: 3,
            jurisdiction: "GBR",
            trustLevel: 2
          })
          expect((yield* server.counts).minted).toBe(4)
          const bad = yield* call(server, `${Api.paths.getChittyId}?type=spaceship`)
          expect(bad.status).toBe(400)
        })
      ))

    it.effect("serves GET /api/spec without a token", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const answer = yield* call(server, Api.paths.spec, { token: null })
          expect(answer.status).toBe(200)
          const spec = Schema.decodeUnknownSync(Api.SpecResponse)(answer.json)
          expect(spec.specification).toMatchObject({
            format: "VV-G-LLL-SSSS-T-YM-C-X",
            entityTypes: { P: "Person", L: "Place", T: "Thing", E: "Event", A: "Authority" },
            trustLevels: { 0: "Unverified", 5: "Official" }
          })
        })
      ))
  })

  describe("health", () => {
    it.effect("answers on /health and /api/health without a token", () =>
      withServer(
        (server) =>
          Effect.gen(function*() {
            yield* TestClock.setTime(Date.parse("2026-03-01T00:00:00.000Z"))
            for (const path of [Api.paths.health, Api.paths.healthAlias]) {
              const answer = yield* call(server, path, { token: null })
              expect(answer.status).toBe(200)
              expect(Schema.decodeUnknownSync(Api.HealthResponse)(answer.json)).toEqual({
                status: "ok",
                service: "chittyid-reference",
                version: "9.9.9",
                timestamp: "2026-03-01T00:00:00.000Z"
              })
            }
            expect((yield* server.counts).requests.health).toBe(2)
          }),
        { version: "9.9.9" }
      ))
  })

  describe("admin plane", () => {
    it.effect("reads counts, the mint log and faults, sets faults and resets, all behind the token", () =>
      withServer((server) =>
        Effect.gen(function*() {
          yield* mint(server, { entityType: "P", metadata: { callId: "c-1" } }, "", { "idempotency-key": "k-1" })
          yield* call(server, Api.paths.health, { token: null })

          const counts = Schema.decodeUnknownSync(ServerCounts)((yield* call(server, "/_admin/counts")).json)
          expect(counts).toMatchObject({
            requests: { mint: 1, validate: 0, health: 1, other: 0 },
            responses: { "200": 2 },
            minted: 1
          })
          const log = Schema.decodeUnknownSync(Schema.Array(MintRecord))((yield* call(server, "/_admin/mint-log")).json)
          expect(log).toEqual(yield* server.mintLog)
          expect(log[0]).toMatchObject({ idempotencyKey: "k-1", callId: "c-1", metadata: { callId: "c-1" } })

          const set = yield* call(server, "/_admin/faults", { body: { errors: { rate: 1 }, hang: null } })
          expect(set.status).toBe(200)
          expect(Schema.decodeUnknownSync(Faults)(set.json)).toMatchObject({ errors: { rate: 1 }, hang: null })
          expect((yield* server.faults).errors).toEqual({ rate: 1 })
          expect((yield* mint(server, { entityType: "P" })).status).toBe(503)
          // the admin plane is never faulted, and never counted
          const got = yield* call(server, "/_admin/faults")
          expect(got.status).toBe(200)
          expect((yield* server.counts).requests).toEqual({ mint: 2, validate: 0, health: 1, other: 0 })

          const bad = yield* call(server, "/_admin/faults", { body: { errors: { rate: 1.5 } } })
          expect(bad.status).toBe(400)
          expect(decodeError(bad.json)).toMatchObject({
            error: "INVALID_REQUEST",
            message: expect.stringContaining("errors.rate")
          })

          for (const [path, method] of [["/_admin/counts", "GET"], ["/_admin/reset", "POST"]] as const) {
            expect((yield* call(server, path, { method, token: null })).status).toBe(401)
            expect((yield* call(server, path, { method, token: "wrong" })).status).toBe(401)
          }

          expect((yield* call(server, "/_admin/reset", { method: "POST" })).status).toBe(204)
          const cleared = yield* server.counts
          expect(cleared).toMatchObject({ requests: { mint: 0, health: 0 }, responses: {}, minted: 0 })
          expect(yield* server.mintLog).toEqual([])
          expect((yield* server.faults).errors).toBeNull()
          // the idempotency store was cleared too: the old key takes another body
          expect((yield* mint(server, { entityType: "T" }, "", { "idempotency-key": "k-1" })).status).toBe(200)
        })
      ))
  })

  describe("admin client", () => {
    it.effect("drives the admin plane with a typed HttpApiClient", () =>
      withServer((server) =>
        Effect.gen(function*() {
          const admin = yield* makeAdminClient({ url: server.url, token: server.token })
          const faults = yield* admin.admin.setFaults({ payload: { rateLimit: { burst: 1, retryAfter: 5 } } })
          expect(faults.rateLimit).toEqual({ burst: 1, retryAfter: 5 })
          expect((yield* mint(server, { entityType: "P" })).status).toBe(429)
          expect((yield* mint(server, { entityType: "P" })).status).toBe(200)
          const counts = yield* admin.admin.counts()
          expect(counts).toMatchObject({ requests: { mint: 2 }, responses: { "200": 1, "429": 1 }, minted: 1 })
          expect((yield* Admin.readMintLog(admin)).map((r) => r.chittyId)).toEqual(
            (yield* server.mintLog).map((r) => r.chittyId)
          )
          yield* admin.admin.reset()
          expect((yield* admin.admin.counts()).minted).toBe(0)
          const wrong = yield* makeAdminClient({ url: server.url, token: Redacted.make("wrong") })
          const denied = yield* Effect.flip(wrong.admin.counts())
          expect(denied).toMatchObject({ error: "UNAUTHORIZED" })
        }).pipe(Effect.provide(FetchHttpClient.layer))
      ))
  })

  describe("lifecycle", () => {
    it.effect("stops when its scope closes: a request afterwards cannot connect", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const server = Context.get(yield* Layer.buildWithScope(ReferenceServer.layer(), scope), ReferenceServer)
        expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect((yield* call(server, Api.paths.health)).status).toBe(200)
        yield* Scope.close(scope, Exit.void)
        const after = yield* request(server.url, Api.paths.health)
        expect(after).toMatchObject({ _tag: "Failed", code: "ECONNREFUSED" })
      }))

    it.effect("two servers never share a port or state", () =>
      Effect.gen(function*() {
        const one = withServer((server) =>
          Effect.map(mint(server, { entityType: "P" }), (x) => [server.url, decodeMint(x.json).chittyId] as const)
        )
        const [a, b] = yield* Effect.all([one, one], { concurrency: 2 })
        expect(a[0]).not.toBe(b[0])
        expect(ChittyId.parseOrThrow(a[1]).sequence).toBe("0000")
        expect(ChittyId.parseOrThrow(b[1]).sequence).toBe("0000")
      }))
  })

  it("exports Schemas that round-trip", () => {
    const counts = {
      requests: { mint: 1, validate: 2, health: 3, other: 4 },
      responses: { "200": 5 },
      faults: { latency: 0, errors: 1, outage: 0, rateLimit: 0, hang: 0, garbage: 0, fallback: 0, lostAnswer: 0 },
      minted: 1,
      replayed: 0
    }
    expect(Schema.decodeUnknownSync(ServerCounts)(Schema.encodeSync(ServerCounts)(counts))).toEqual(counts)
    expect(Either.isLeft(Schema.decodeUnknownEither(Faults)({ latency: { fixedMs: -1 } }))).toBe(true)
  })
})
