/**
 * The reference server under hostile input (issue 9, items 6–9), over real loopback HTTP with raw
 * `node:http` / `node:net` clients where a well-behaved client cannot do the damage: deep JSON,
 * unbounded stores, work before auth, slow and idle connections.
 */
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Redacted, TestClock } from "effect"
import * as http from "node:http"
import * as net from "node:net"
import * as Api from "../src/Api.ts"
import * as ChittyId from "../src/ChittyId.ts"
import * as Admin from "../src/server/Admin.ts"
import * as IdempotencyStore from "../src/server/IdempotencyStore.ts"
import * as Json from "../src/server/internal/json.ts"
import * as Placeholders from "../src/server/internal/placeholders.ts"
import { defaultLimits, makeAdminClient, type Options, ReferenceServer } from "../src/server/ReferenceServer.ts"
import * as Registry from "../src/server/Registry.ts"
import { answered, request, type RequestOptions } from "./server-http.ts"

type Server = ReferenceServer["Type"]

const withServer = <A, E, R>(f: (server: Server) => Effect.Effect<A, E, R>, options?: Options) =>
  Effect.flatMap(ReferenceServer, f).pipe(Effect.provide(ReferenceServer.layer(options)))

const call = (server: Server, path: string, options: RequestOptions = {}) =>
  Effect.map(request(server.url, path, { token: server.token, ...options }), answered)

/** `depth` nested arrays around a number, as JSON text: `[[[1]]]` is depth 3. */
const nestedText = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`
const nested = (depth: number): unknown => JSON.parse(nestedText(depth))

describe("deep JSON (issue 9 item 6)", () => {
  it("the depth check and the fingerprint walk any nesting without recursion", () => {
    const deep = nested(200_000)
    expect(Json.exceeds(deep, 32)).toBe(true)
    expect(Json.exceeds(nested(32), 32)).toBe(false)
    expect(Json.exceeds(nested(33), 32)).toBe(true)
    expect(Json.exceeds({ a: 1, b: "x", c: null }, 1)).toBe(false)
    expect(IdempotencyStore.fingerprint(deep)).toMatch(/^[0-9a-f]{64}$/)
    expect(IdempotencyStore.fingerprint(deep)).not.toBe(IdempotencyStore.fingerprint(nested(199_999)))
  })

  it("the fingerprint is a hash of the canonical JSON: key order does not matter, values do", () => {
    const a = { b: [1, { y: 2, x: "s" }], a: null, u: undefined }
    const b = { a: null, b: [1, { x: "s", y: 2 }] }
    expect(IdempotencyStore.fingerprint(a)).toBe(IdempotencyStore.fingerprint(b))
    expect(IdempotencyStore.fingerprint(a)).not.toBe(IdempotencyStore.fingerprint({ ...b, a: 0 }))
    expect(IdempotencyStore.fingerprint([1, 2])).not.toBe(IdempotencyStore.fingerprint([2, 1]))
    expect(IdempotencyStore.fingerprint({ "a,b": 1 })).not.toBe(IdempotencyStore.fingerprint({ a: 1, b: 1 }))
  })

  it.effect("metadata nested past the limit is 400 INVALID_REQUEST, with or without a key; nothing is stored", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const body = (depth: number) => `{"entityType":"person","metadata":{"m":${nestedText(depth)}}}`
        const withKey = yield* call(server, Api.paths.mint, {
          body: body(3000),
          headers: { [Api.idempotencyKeyHeader]: "deep" }
        })
        expect(withKey.status).toBe(400)
        expect(withKey.json).toMatchObject({ error: "INVALID_REQUEST", message: expect.stringContaining("32") })
        const withoutKey = yield* call(server, Api.paths.mint, { body: body(5000) })
        expect(withoutKey.status).toBe(400)
        expect((yield* server.counts).minted).toBe(0)
        // within the limit: minted, and the mint log still encodes
        const ok = yield* call(server, Api.paths.mint, { body: body(defaultLimits.maxJsonDepth - 2) })
        expect(ok.status).toBe(200)
        const log = yield* call(server, Admin.paths.mintLog)
        expect(log.status).toBe(200)
        expect(Array.isArray(log.json) && log.json.length).toBe(1)
        // a deep validate body is a plain 400 too
        const validate = yield* call(server, Api.paths.validate, { body: `{"id":${nestedText(5000)}}` })
        expect(validate.status).toBe(400)
      }), { maxJsonDepth: defaultLimits.maxJsonDepth, maxBodyBytes: 64 * 1024 }))
})

describe("bounded memory (issue 9 item 7)", () => {
  const input = (n: number, metadata: Registry.MintInput["metadata"] = null): Registry.MintInput => ({
    region: 1,
    jurisdiction: "USA",
    entityType: "P",
    yearMonth: "2602",
    trustLevel: 0,
    idempotencyKey: `k${n}`,
    metadata,
    mintedAt: "2026-02-01T00:00:00.000Z"
  })

  it.effect("the registry keeps at most maxRecords and a metadata budget, oldest forgotten; sequences never repeat", () =>
    Effect.gen(function*() {
      const registry = Registry.make({ capacity: 100, maxRecords: 3 })
      const ids = []
      for (let n = 0; n < 5; n++) ids.push(yield* registry.mint(input(n)))
      expect(new Set(ids).size).toBe(5)
      expect(registry.size()).toBe(3)
      expect(registry.minted()).toBe(5)
      expect((yield* registry.log).map((r) => r.chittyId)).toEqual(ids.slice(2))
      expect(registry.lookup(ids[0]!)).toBeUndefined()
      expect((yield* registry.page(1, 5)).map((r) => r.chittyId)).toEqual(ids.slice(3))

      const budget = Registry.make({ capacity: 100, maxMetadataBytes: 100 })
      const fat = { pad: "x".repeat(60) }
      for (let n = 0; n < 4; n++) yield* budget.mint(input(n, fat))
      expect(budget.size()).toBe(1)
      expect(budget.minted()).toBe(4)
    }))

  it.effect("idempotency keys expire after their TTL (on the Clock) and the store keeps a hash", () =>
    Effect.gen(function*() {
      const store = IdempotencyStore.make<string, never>({ capacity: 10, ttlMillis: 60_000 })
      const fingerprint = IdempotencyStore.fingerprint({ entityType: "P" })
      const first = yield* store.claim("k", fingerprint)
      expect(first._tag).toBe("Claimed")
      if (first._tag === "Claimed") expect(first.entry.fingerprint).toHaveLength(64)
      expect((yield* store.claim("k", fingerprint))._tag).toBe("Existing")
      yield* TestClock.adjust(Duration.millis(59_999))
      expect((yield* store.claim("k", "other"))._tag).toBe("Conflict")
      yield* TestClock.adjust(Duration.millis(1))
      expect((yield* store.claim("k", "other"))._tag).toBe("Claimed")
      expect(store.size()).toBe(1)
    }))

  it.effect("placeholders are bounded and expire", () =>
    Effect.gen(function*() {
      const placeholders = Placeholders.make({ capacity: 2, ttlMillis: 1000 })
      const request = { payload: { entityType: "T" }, urlParams: {} }
      const ids = (["MINT_UNAVAILABLE", "MINT_TIMEOUT", "MINT_REJECTED"] as const).map((errorCode) =>
        ChittyId.makeFallback({ errorCode, entityType: "T", yearMonth: "2602" })
      )
      for (const id of ids) yield* placeholders.remember(id, request)
      expect(placeholders.size()).toBe(2)
      expect(yield* placeholders.lookup(ids[0]!)).toBeUndefined()
      expect(yield* placeholders.lookup(ids[2]!)).toBeDefined()
      yield* TestClock.adjust(Duration.millis(1000))
      expect(yield* placeholders.lookup(ids[2]!)).toBeUndefined()
      expect(placeholders.size()).toBe(0)
    }))

  it.effect("the admin mint log is paged", () =>
    withServer((server) =>
      Effect.gen(function*() {
        for (let n = 0; n < 5; n++) yield* call(server, Api.paths.mint, { body: { entityType: "P" } })
        const page = (query: string) => call(server, `${Admin.paths.mintLog}${query}`)
        expect((yield* page("?limit=2")).json).toHaveLength(2)
        expect((yield* page("?offset=4&limit=2")).json).toHaveLength(1)
        expect((yield* page("?limit=0")).status).toBe(400)
        expect((yield* page(`?limit=${Admin.mintLogPage.max + 1}`)).status).toBe(400)
        const admin = yield* makeAdminClient({ url: server.url, token: server.token })
        expect((yield* Admin.readMintLog(admin)).map((r) => r.chittyId)).toEqual(
          (yield* server.mintLog).map((r) => r.chittyId)
        )
      }).pipe(Effect.provide(FetchHttpClient.layer))
    ))
})

// -----------------------------------------------------------------------------
// Raw clients
// -----------------------------------------------------------------------------

const portOf = (server: Server) => Number(new URL(server.url).port)

/**
 * A chunked POST sending `parts`: ended when `end`, else left open. Resolves with the answer's
 * status (0 for a failed request), or "no answer" after `waitMs`.
 */
const chunkedPost = (
  server: Server,
  path: string,
  headers: Record<string, string>,
  parts: ReadonlyArray<string>,
  options: { readonly end: boolean; readonly waitMs: number }
) =>
  Effect.async<number | "no answer">((resume) => {
    const req = http.request({
      host: "127.0.0.1",
      port: portOf(server),
      path,
      method: "POST",
      headers: { "content-type": "application/json", "transfer-encoding": "chunked", ...headers }
    }, (res) => {
      res.resume()
      resume(Effect.succeed(res.statusCode ?? 0))
    })
    req.on("error", () => resume(Effect.succeed(0)))
    for (const part of parts) req.write(part)
    if (options.end) req.end()
    const timer = setTimeout(() => resume(Effect.succeed("no answer")), options.waitMs)
    return Effect.sync(() => {
      clearTimeout(timer)
      req.destroy()
    })
  })

/** Sends `parts` and leaves the upload open: an answer can only come before the body is read. */
const openUpload = (server: Server, path: string, headers: Record<string, string>, parts: ReadonlyArray<string>) =>
  chunkedPost(server, path, headers, parts, { end: false, waitMs: 5000 })

describe("work before auth (issue 9 item 8)", () => {
  it.effect("strict: a wrong token is 401 before any of a chunked body is read", () =>
    withServer((server) =>
      Effect.gen(function*() {
        for (const path of [Api.paths.mint, Api.paths.validate, Admin.paths.faults]) {
          const status = yield* openUpload(server, path, { authorization: "Bearer wrong" }, ["{\"entityType\":"])
          expect(status).toBe(401)
        }
        const missing = yield* openUpload(server, Api.paths.mint, {}, ["{"])
        expect(missing).toBe(401)
      })
    ))

  it.effect("the body limit applies to chunked bodies: 413 as soon as it is passed, the upload still open", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const chunk = "x".repeat(1024)
        const auth = { authorization: `Bearer ${Redacted.value(server.token)}` }
        const over = yield* openUpload(server, Api.paths.mint, auth, Array.from({ length: 5 }, () => chunk))
        expect(over).toBe(413)
        // within the limit, a chunked body is read to its end and served
        const ok = yield* chunkedPost(server, Api.paths.mint, auth, ["{\"entityType\":", "\"person\"}"], {
          end: true,
          waitMs: 5000
        })
        expect(ok).toBe(200)
      }), { maxBodyBytes: 4 * 1024 }))
})

/** Opens a raw TCP connection; `closed` resolves with the ms until the server closed it, or "open" after `waitMs`. */
const rawSocket = (server: Server) =>
  Effect.acquireRelease(
    Effect.async<net.Socket>((resume) => {
      const socket = net.connect(portOf(server), "127.0.0.1", () => resume(Effect.succeed(socket)))
      socket.on("error", () => undefined)
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )

const closedWithin = (socket: net.Socket, waitMs: number) =>
  Effect.async<boolean>((resume) => {
    if (socket.destroyed || socket.readableEnded) return resume(Effect.succeed(true))
    const timer = setTimeout(() => resume(Effect.succeed(false)), waitMs)
    socket.once("close", () => {
      clearTimeout(timer)
      resume(Effect.succeed(true))
    })
    socket.resume()
    return Effect.sync(() => clearTimeout(timer))
  })

describe("slow and idle connections (issue 9 item 9)", () => {
  const limits: Options = {
    headersTimeoutMillis: 400,
    requestTimeoutMillis: 1000,
    keepAliveTimeoutMillis: 300,
    maxConnections: 3
  }

  it.scoped("a connection that trickles its headers is closed after the header timeout", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const socket = yield* rawSocket(server)
        socket.write("POST /v1/mint HTTP/1.1\r\nHost: x\r\n")
        let n = 0
        const trickle = setInterval(() => socket.writable && socket.write(`X-${n++}: y\r\n`), 50)
        const closed = yield* closedWithin(socket, 8000)
        clearInterval(trickle)
        // Node's own default is 60 s: well past this wait
        expect(closed).toBe(true)
      }), limits))

  it.scoped("a connection that sends nothing, and an idle kept-alive one, are closed", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const silent = yield* rawSocket(server)
        expect(yield* closedWithin(silent, 8000)).toBe(true)
        const kept = yield* rawSocket(server)
        kept.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        // answered, then idle: closed after the keep-alive timeout (node's default 5 s is past the wait)
        expect(yield* closedWithin(kept, 4000)).toBe(true)
      }), limits))

  it.scoped("connections over the cap are closed at once", () =>
    withServer((server) =>
      Effect.gen(function*() {
        const open = yield* Effect.all(Array.from({ length: 3 }, () => rawSocket(server)))
        for (const socket of open) socket.write("GET /health HTTP/1.1\r\n")
        const extra = yield* rawSocket(server)
        expect(yield* closedWithin(extra, 3000)).toBe(true)
        // the three within the cap are still open (their header timeout has not run out)
        expect(open.every((socket) => !socket.destroyed)).toBe(true)
      }), { ...limits, headersTimeoutMillis: 20_000, requestTimeoutMillis: 30_000 }))

  it("refuses a header timeout over the request timeout, and bad limits", () => {
    const build = (options: Options) =>
      Effect.runSyncExit(
        Effect.scoped(Effect.asVoid(ReferenceServer.pipe(Effect.provide(ReferenceServer.layer(options)))))
      )
    expect(Exit.isFailure(build({ headersTimeoutMillis: 5000, requestTimeoutMillis: 1000 }))).toBe(true)
    expect(Exit.isFailure(build({ maxConnections: 0 }))).toBe(true)
    expect(Exit.isFailure(build({ maxJsonDepth: 1.5 }))).toBe(true)
  })
})
