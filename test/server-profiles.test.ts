/**
 * The two profiles of the reference server, request by request over real loopback HTTP: DESIGN
 * §5's table, one row per case, with what `strict` (the contract) and `live` (the live service)
 * answer; then the placeholder replacement both implement, and the key echo of `strict`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck, Schema } from "effect"
import * as Api from "../src/Api.ts"
import * as ChittyId from "../src/ChittyId.ts"
import { type Faults, type Options, type Profile, ReferenceServer } from "../src/server/ReferenceServer.ts"
import { type Answer, answered, type Failed, request, type RequestOptions } from "./server-http.ts"

type Server = ReferenceServer["Type"]

const withServer = <A, E>(profile: Profile, f: (server: Server) => Effect.Effect<A, E>, options?: Options) =>
  Effect.flatMap(ReferenceServer, f).pipe(Effect.provide(ReferenceServer.layer({ ...options, profile })))

const call = (server: Server, path: string, options: RequestOptions = {}) =>
  request(server.url, path, { token: server.token, ...options })

const sample = <A>(arbitrary: FastCheck.Arbitrary<A>, seed: number): A => {
  const [value] = FastCheck.sample(arbitrary, { numRuns: 1, seed })
  if (value === undefined) throw new Error("no sample")
  return value
}

const placeholderOf = (answer: Answer) => Schema.decodeUnknownSync(Api.MintFallback)(answer.json)
const permanentOf = (answer: Answer) => Schema.decodeUnknownSync(Api.MintSuccess)(answer.json)
const validateOf = (answer: Answer) => Schema.decodeUnknownSync(Api.ValidateResponse)(answer.json)

/** An answer the row expects: a check of it, per profile. */
type Expect = (result: Answer | Failed) => void

const status = (code: number): Expect => (result) => {
  expect(answered(result).status).toBe(code)
}
const placeholder = (errorCode: string, entityType: ChittyId.EntityTypeCode = "T"): Expect => (result) => {
  const answer = answered(result)
  expect(answer.status).toBe(200)
  expect(answer.headers.get("retry-after")).toBeNull()
  const body = placeholderOf(answer)
  expect(body.errorCode).toBe(errorCode)
  expect(ChittyId.parseOrThrow(body.chittyId)).toMatchObject({ kind: "fallback", errorCode, entityType })
}
const permanent = (entityType: ChittyId.EntityTypeCode): Expect => (result) => {
  const answer = answered(result)
  expect(answer.status).toBe(200)
  expect(ChittyId.parseOrThrow(permanentOf(answer).chittyId)).toMatchObject({ kind: "permanent", entityType })
}
const error = (code: number, name: string): Expect => (result) => {
  const answer = answered(result)
  expect(answer.status).toBe(code)
  expect(Schema.decodeUnknownSync(Api.ErrorBody)(answer.json).error).toBe(name)
}

interface Row {
  readonly name: string
  readonly faults?: Partial<Faults>
  readonly send: (server: Server) => Effect.Effect<Answer | Failed>
  readonly strict: Expect
  readonly live: Expect
}

const neverIssued = sample(ChittyId.arbitrary, 7)
const mint = (server: Server, body: unknown, query = "", options: RequestOptions = {}) =>
  call(server, `${Api.paths.mint}${query}`, { body, ...options })

const rows: ReadonlyArray<Row> = [
  {
    name: "mint with a wrong token",
    send: (server) => mint(server, { entityType: "person" }, "", { token: "wrong" }),
    strict: error(401, "UNAUTHORIZED"),
    live: placeholder("MINT_REJECTED", "P")
  },
  {
    name: "mint without a token",
    send: (server) => mint(server, { entityType: "person" }, "", { token: null }),
    strict: error(401, "UNAUTHORIZED"),
    live: placeholder("MINT_REJECTED", "P")
  },
  {
    name: "mint during a 429 burst",
    faults: { rateLimit: { burst: 1, retryAfter: 2 } },
    send: (server) => mint(server, { entityType: "event" }),
    strict: (result) => {
      error(429, "RATE_LIMITED")(result)
      expect(answered(result).headers.get("retry-after")).toBe("2")
    },
    live: placeholder("RATE_LIMITED", "E")
  },
  {
    name: "mint while the backend errs",
    faults: { errors: { retryAfter: 1 } },
    send: (server) => mint(server, { entityType: "place" }),
    strict: error(503, "SERVICE_UNAVAILABLE"),
    live: placeholder("MINT_REJECTED", "L")
  },
  {
    name: "mint while the backend is down",
    faults: { errors: { placeholder: "MINT_UNAVAILABLE" } },
    send: (server) => mint(server, { entityType: "place" }),
    strict: error(503, "SERVICE_UNAVAILABLE"),
    live: placeholder("MINT_UNAVAILABLE", "L")
  },
  {
    name: "mint while the backend hangs",
    faults: { hang: {} },
    send: (server) => mint(server, { entityType: "authority" }, "", { timeoutMs: 1500 }),
    strict: (result) => expect(result._tag).toBe("Failed"),
    live: placeholder("MINT_TIMEOUT", "A")
  },
  {
    name: "mint an unknown entity type",
    send: (server) => mint(server, { entityType: "spaceship" }),
    strict: error(400, "INVALID_REQUEST"),
    live: placeholder("INVALID_REQUEST")
  },
  ...["?region=0", "?region=X", "?jurisdiction=usa", "?trust=9"].map((query): Row => ({
    name: `mint with ${query}`,
    send: (server) => mint(server, { entityType: "person" }, query),
    strict: error(400, "INVALID_REQUEST"),
    live: placeholder("INVALID_REQUEST", "P")
  })),
  {
    name: "mint with no body",
    send: (server) => call(server, Api.paths.mint, { method: "POST" }),
    strict: error(400, "INVALID_REQUEST"),
    live: permanent("T")
  },
  {
    name: "mint with a body that is not JSON",
    send: (server) => mint(server, "{entityType: person"),
    strict: error(400, "INVALID_REQUEST"),
    live: permanent("T")
  },
  {
    name: "mint with { entity }",
    send: (server) => mint(server, { entity: "person" }),
    strict: error(400, "INVALID_REQUEST"),
    live: permanent("T")
  },
  {
    name: "mint with ?type=event in the query",
    send: (server) => call(server, `${Api.paths.mint}?type=event`, { method: "POST" }),
    strict: error(400, "INVALID_REQUEST"),
    live: permanent("E")
  },
  {
    name: "mint with a text/plain body",
    send: (server) => mint(server, "{\"entityType\":\"person\"}", "", { headers: { "content-type": "text/plain" } }),
    strict: error(415, "UNSUPPORTED_MEDIA_TYPE"),
    live: permanent("T")
  },
  {
    name: "GET /api/get-chittyid?type=person",
    send: (server) => call(server, `${Api.paths.getChittyId}?type=person`),
    strict: permanent("P"),
    live: permanent("P")
  },
  {
    name: "GET /generate?for=place",
    send: (server) => call(server, `${Api.paths.generate}?for=place`),
    strict: permanent("L"),
    live: permanent("L")
  },
  {
    name: "validate without a token",
    send: (server) => call(server, Api.paths.validate, { body: { id: neverIssued }, token: null }),
    strict: error(401, "UNAUTHORIZED"),
    live: status(200)
  },
  {
    name: "validate a well-formed ID never issued",
    send: (server) => call(server, Api.paths.validate, { body: { id: neverIssued } }),
    strict: (result) => expect(validateOf(answered(result))).toMatchObject({ valid: false, error: "NOT_FOUND" }),
    live: (result) => {
      const answer = validateOf(answered(result))
      expect(answer).toMatchObject({ valid: true })
      expect(Schema.is(Api.ValidateValid)(answer) && answer.components.checksum).toBe(neverIssued.slice(-2))
    }
  },
  {
    name: "validate a placeholder never issued here",
    send: (server) => call(server, Api.paths.validate, { body: { id: sample(ChittyId.fallbackArbitrary, 5) } }),
    strict: (result) => {
      const answer = validateOf(answered(result))
      expect(Schema.is(Api.ValidatePlaceholder)(answer)).toBe(true)
      expect(answer).toMatchObject({ valid: false, isError: true, canReplace: false, error: expect.any(String) })
    },
    live: (result) => {
      const answer = validateOf(answered(result))
      expect(Schema.is(Api.ValidatePlaceholder)(answer)).toBe(true)
      expect(answer).toMatchObject({ valid: false, isError: true, canReplace: true })
    }
  },
  {
    name: "validate a body that is not JSON",
    send: (server) => call(server, Api.paths.validate, { body: "{id:" }),
    strict: error(400, "INVALID_REQUEST"),
    live: error(503, "SECURITY_ERROR")
  },
  {
    name: "validate an id that is not a string",
    send: (server) => call(server, Api.paths.validate, { body: { id: 42 } }),
    strict: error(400, "INVALID_REQUEST"),
    live: error(503, "SECURITY_ERROR")
  },
  {
    name: "GET /api/health",
    send: (server) => call(server, Api.paths.healthAlias, { token: null }),
    strict: (result) => expect(answered(result).json).toMatchObject({ status: "ok" }),
    live: (result) => expect(answered(result).json).toMatchObject({ status: "healthy" })
  },
  {
    name: "GET /health",
    send: (server) => call(server, Api.paths.health, { token: null }),
    strict: (result) => expect(answered(result).json).toMatchObject({ status: "ok" }),
    live: (result) => expect(answered(result).json).toMatchObject({ status: "ok" })
  },
  {
    name: "GET /api/spec",
    send: (server) => call(server, Api.paths.spec, { token: null }),
    strict: (result) => expect(Schema.is(Api.SpecResponse)(answered(result).json)).toBe(true),
    live: (result) => expect(Schema.is(Api.SpecResponse)(answered(result).json)).toBe(true)
  },
  ...[Api.paths.mint, "/anything"].map((path): Row => {
    const cors: Expect = (result) => {
      const answer = answered(result)
      expect(answer.status).toBe(200)
      expect(answer.text).toBe("")
      expect(answer.headers.get("access-control-allow-origin")).toBe("*")
      expect(answer.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS")
      expect(answer.headers.get("access-control-allow-headers")).toBe("Content-Type, Authorization")
    }
    return {
      name: `OPTIONS ${path}`,
      send: (server) => call(server, path, { method: "OPTIONS", token: null }),
      strict: cors,
      live: cors
    }
  }),
  {
    name: "an unknown route",
    send: (server) => call(server, "/nope", { token: null }),
    strict: error(404, "NOT_FOUND"),
    live: (result) => {
      error(404, "NOT_FOUND")(result)
      expect(answered(result).json).toMatchObject({ message: "Route not found: /nope" })
    }
  },
  {
    name: "mint during a whole-service outage",
    faults: { outage: { mode: "refuse" } },
    send: (server) => mint(server, { entityType: "person" }),
    strict: (result) => expect(result._tag).toBe("Failed"),
    live: (result) => expect(result._tag).toBe("Failed")
  },
  {
    name: "mint answered with garbage",
    faults: { garbage: { kinds: ["not-json"] } },
    send: (server) => mint(server, { entityType: "person" }),
    strict: (result) => expect(answered(result).json).toBeUndefined(),
    live: (result) => expect(answered(result).json).toBeUndefined()
  }
]

describe("ReferenceServer profiles (DESIGN §5)", () => {
  for (const profile of ["strict", "live"] as const) {
    describe(profile, () => {
      for (const row of rows) {
        it.effect(row.name, () =>
          withServer(profile, (server) =>
            Effect.gen(function*() {
              if (row.faults !== undefined) yield* server.setFaults(row.faults)
              row[profile](yield* row.send(server))
              // every answer carries the CORS origin (both profiles)
            })))
      }
    })
  }

  it.effect("every answer carries Access-Control-Allow-Origin", () =>
    withServer("strict", (server) =>
      Effect.gen(function*() {
        for (const path of [Api.paths.health, "/nope"]) {
          expect(answered(yield* call(server, path)).headers.get("access-control-allow-origin")).toBe("*")
        }
      })))

  it.effect("live ignores Idempotency-Key (a replay mints again, nothing echoed) and keeps no metadata", () =>
    withServer("live", (server) =>
      Effect.gen(function*() {
        const headers = { [Api.idempotencyKeyHeader]: "key-1" }
        const body = { entityType: "person", metadata: { callId: "c1", secret: "x" } }
        const first = answered(yield* mint(server, body, "", { headers }))
        const second = answered(yield* mint(server, body, "", { headers }))
        expect(permanentOf(first).chittyId).not.toBe(permanentOf(second).chittyId)
        expect(first.headers.get(Api.idempotencyKeyEchoHeader)).toBeNull()
        expect(second.headers.get(Api.idempotentReplayedHeader)).toBeNull()
        const log = yield* server.mintLog
        expect(log.map((r) => ({ metadata: r.metadata, callId: r.callId, key: r.idempotencyKey }))).toEqual([
          { metadata: null, callId: "c1", key: null },
          { metadata: null, callId: "c1", key: null }
        ])
      })))

  it.effect("strict echoes the key on every stored mint answer and marks a replay", () =>
    withServer("strict", (server) =>
      Effect.gen(function*() {
        const headers = { [Api.idempotencyKeyHeader]: "key-1" }
        const first = answered(yield* mint(server, { entityType: "person" }, "", { headers }))
        expect(first.headers.get(Api.idempotencyKeyEchoHeader)).toBe("key-1")
        expect(first.headers.get(Api.idempotentReplayedHeader)).toBeNull()
        const replay = answered(yield* mint(server, { entityType: "person" }, "", { headers }))
        expect(replay.headers.get(Api.idempotencyKeyEchoHeader)).toBe("key-1")
        expect(replay.headers.get(Api.idempotentReplayedHeader)).toBe("true")
        expect(permanentOf(replay).chittyId).toBe(permanentOf(first).chittyId)
        // no key: nothing echoed
        const plain = answered(yield* mint(server, { entityType: "person" }))
        expect(plain.headers.get(Api.idempotencyKeyEchoHeader)).toBeNull()
        // a placeholder is not stored under the key: not echoed
        yield* server.setFaults({ fallback: {} })
        const degraded = answered(
          yield* mint(server, { entityType: "person" }, "", { headers: { [Api.idempotencyKeyHeader]: "key-2" } })
        )
        expect(placeholderOf(degraded).fallback).toBe(true)
        expect(degraded.headers.get(Api.idempotencyKeyEchoHeader)).toBeNull()
      })))

  describe("placeholder replacement", () => {
    for (const profile of ["strict", "live"] as const) {
      it.effect(`${profile}: a placeholder is answered as such while minting fails, then replaced once, for good`, () =>
        withServer(profile, (server) =>
          Effect.gen(function*() {
            const validate = (id: string) => Effect.map(call(server, Api.paths.validate, { body: { id } }), answered)
            yield* server.setFaults({ fallback: { errorCode: "MINT_UNAVAILABLE" } })
            const issued = placeholderOf(
              answered(
                yield* mint(
                  server,
                  { entityType: "event", metadata: { callId: "c" } },
                  "?region=3&jurisdiction=GBR&trust=2"
                )
              )
            )
            const pending = validateOf(yield* validate(issued.chittyId))
            expect(pending).toMatchObject({
              valid: false,
              isError: true,
              errorCode: ChittyId.parseOrThrow(issued.chittyId).sequence,
              errorName: "MINT_UNAVAILABLE",
              canReplace: true
            })
            expect((yield* server.counts).minted).toBe(0)

            yield* server.setFaults({ fallback: null })
            const replaced = validateOf(yield* validate(issued.chittyId))
            if (!Schema.is(Api.ValidateReplaced)(replaced)) throw new Error(`not replaced: ${JSON.stringify(replaced)}`)
            expect(replaced.oldId).toBe(issued.chittyId)
            // minted for the request that got the placeholder
            expect(ChittyId.parseOrThrow(replaced.newId)).toMatchObject({
              kind: "permanent",
              entityType: "E",
              region: 3,
              jurisdiction: "GBR",
              trustLevel: 2
            })
            expect(replaced.chittyId).toBe(replaced.newId)
            // the same new ID every time after, minted once
            for (let i = 0; i < 3; i++) {
              expect(validateOf(yield* validate(issued.chittyId))).toMatchObject({
                replaced: true,
                newId: replaced.newId
              })
            }
            expect((yield* server.counts).minted).toBe(1)
            expect((yield* server.mintLog).map((r) => [r.chittyId, r.callId])).toEqual([[replaced.newId, "c"]])
            // and the new ID is valid
            expect(validateOf(yield* validate(replaced.newId))).toMatchObject({ valid: true })
          })))
    }

    it.effect("live: a placeholder for a wrong token is replaced only for a validate with the right token", () =>
      withServer("live", (server) =>
        Effect.gen(function*() {
          const issued = placeholderOf(answered(yield* mint(server, { entityType: "thing" }, "", { token: "wrong" })))
          expect(issued.errorCode).toBe("MINT_REJECTED")
          const anonymous = validateOf(
            answered(yield* call(server, Api.paths.validate, { body: { id: issued.chittyId }, token: null }))
          )
          expect(anonymous).toMatchObject({ isError: true, errorName: "MINT_REJECTED", canReplace: true })
          const replaced = validateOf(
            answered(yield* call(server, Api.paths.validate, { body: { id: issued.chittyId } }))
          )
          expect(replaced).toMatchObject({ replaced: true, oldId: issued.chittyId })
        })))

    it.effect("live: a fault that stops minting keeps placeholders pending; an INVALID_REQUEST one is never replaced", () =>
      withServer("live", (server) =>
        Effect.gen(function*() {
          yield* server.setFaults({ errors: { placeholder: "MINT_UNAVAILABLE" } })
          const issued = placeholderOf(answered(yield* mint(server, { entityType: "person" })))
          const bad = placeholderOf(answered(yield* mint(server, { entityType: "person" }, "?trust=9")))
          expect(bad.errorCode).toBe("MINT_UNAVAILABLE")
          // validation works during the mint outage
          expect(validateOf(answered(yield* call(server, Api.paths.validate, { body: { id: issued.chittyId } }))))
            .toMatchObject({ isError: true })
          yield* server.setFaults({ errors: null })
          const invalid = placeholderOf(answered(yield* mint(server, { entityType: "person" }, "?trust=9")))
          expect(invalid.errorCode).toBe("INVALID_REQUEST")
          expect(validateOf(answered(yield* call(server, Api.paths.validate, { body: { id: invalid.chittyId } }))))
            .toMatchObject({ isError: true, errorName: "INVALID_REQUEST" })
          expect(validateOf(answered(yield* call(server, Api.paths.validate, { body: { id: issued.chittyId } }))))
            .toMatchObject({ replaced: true })
        })))
  })
})

describe("live lostAnswer", () => {
  it.effect("mints, then drops the connection; the mint log has the ID", () =>
    withServer("live", (server) =>
      Effect.gen(function*() {
        yield* server.setFaults({ lostAnswer: {} })
        const lost = yield* mint(server, { entityType: "person", metadata: { callId: "lost" } })
        expect(lost._tag).toBe("Failed")
        expect((yield* server.mintLog).map((r) => r.callId)).toEqual(["lost"])
      })))
})

describe("live: what stays guarded, what backend faults reach", () => {
  it.effect("the admin plane still needs the token", () =>
    withServer("live", (server) =>
      Effect.gen(function*() {
        expect(answered(yield* call(server, "/_admin/counts", { token: null })).status).toBe(401)
        expect(answered(yield* call(server, "/_admin/counts", { token: "wrong" })).status).toBe(401)
        expect(answered(yield* call(server, "/_admin/counts")).status).toBe(200)
      })))

  it.effect("a 429 burst is spent on mints only: validate and health do not draw it", () =>
    withServer("live", (server) =>
      Effect.gen(function*() {
        yield* server.setFaults({ rateLimit: { burst: 2, endpoints: ["mint", "validate", "health"] } })
        for (let i = 0; i < 3; i++) {
          expect(answered(yield* call(server, Api.paths.validate, { body: { id: neverIssued } })).status).toBe(200)
          expect(answered(yield* call(server, Api.paths.health)).status).toBe(200)
        }
        placeholder("RATE_LIMITED")(yield* mint(server, {}))
        placeholder("RATE_LIMITED")(yield* mint(server, {}))
        permanent("T")(yield* mint(server, {}))
        expect((yield* server.counts).faults.rateLimit).toBe(2)
      })))
})
