/**
 * The Worker of examples/worker.ts, bundled by esbuild for the browser platform, runs in workerd
 * (Cloudflare's runtime) and mints and validates through `effect-chittyid/fetch` against the
 * reference server on loopback.
 */
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Either, Redacted, Schema } from "effect"
import * as ChittyId from "../../src/ChittyId.ts"
import { ReferenceServer } from "../../src/server/ReferenceServer.ts"
import { vectors } from "../fixtures.ts"
import { type Bundle, bundle, measureMinimalWorker, serve, sizeBudgetGzip } from "./harness.ts"

const request = (url: string, init?: RequestInit) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, body: (await response.json()) as unknown }
  })

const Minted = Schema.Struct({ chittyId: ChittyId.ChittyId, fallback: Schema.Literal(false) })

let worker: Bundle | undefined
const built = Effect.promise(async () => worker ??= await bundle("examples/worker.ts", { minify: false }))

describe("examples/worker.ts in workerd", () => {
  it.effect(
    "bundles for the browser platform with nothing from Node (no node:, no undici)",
    () =>
      Effect.gen(function*() {
        const { inputs } = yield* built
        expect(inputs.some((input) => input.endsWith("src/fetch.ts"))).toBe(true)
        expect(inputs.filter((input) => input.startsWith("node:") || input.includes("node_modules/undici/"))).toEqual(
          []
        )
      }),
    60_000
  )

  it.effect(
    "the minimal mint + validate Worker stays within its size budget (minified, gzip)",
    () =>
      Effect.gen(function*() {
        const size = yield* Effect.promise(measureMinimalWorker)
        expect(size.gzip).toBeGreaterThan(0)
        expect(size.gzip, `${size.gzip} gzip bytes, budget ${sizeBudgetGzip}: run npm run size`).toBeLessThanOrEqual(
          sizeBudgetGzip
        )
        // Schema's Arbitrary (fast-check) is for tests: it must not reach a Worker that does not use it
        expect(Object.keys(size.bytesByInput).filter((input) => input.includes("node_modules/fast-check/"))).toEqual([])
      }),
    60_000
  )

  layer(ReferenceServer.layer({ seed: 12 }), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.scoped(
      "mints, validates with the service and checks health from inside workerd",
      () =>
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          yield* server.reset
          const { code } = yield* built
          const workerd = yield* serve(code, {
            CHITTY_ID_URL: server.url,
            CHITTY_ID_TOKEN: Redacted.value(server.token),
            CHITTY_ID_RETRY_MAX: "0"
          })

          const mint = yield* request(`${workerd.url}/mint?type=person`, { method: "POST" })
          expect(mint.status, workerd.output()).toBe(201)
          const minted = Schema.decodeUnknownSync(Minted)(mint.body)
          expect(Either.getOrThrow(ChittyId.parse(minted.chittyId))).toMatchObject({
            kind: "permanent",
            entityType: "P"
          })

          const confirmed = yield* request(`${workerd.url}/validate?id=${minted.chittyId}`)
          expect(confirmed).toEqual({ status: 200, body: { valid: true, source: "service" } })

          // never issued by this server: the service says no (strict profile)
          const other = vectors.valid.map((vector) => vector.id).find((id) => id !== minted.chittyId)
          expect(other).toBeDefined()
          const unknown = yield* request(`${workerd.url}/validate?id=${other}`)
          expect(unknown).toMatchObject({ status: 200, body: { valid: false, source: "service" } })

          // refused locally: never sent
          const invalid = vectors.invalid[0]!
          const refused = yield* request(`${workerd.url}/validate?id=${encodeURIComponent(invalid.id)}`)
          expect(refused).toMatchObject({ status: 200, body: { valid: false, source: "local" } })

          const health = yield* request(`${workerd.url}/health`)
          expect(health).toEqual({ status: 200, body: { connection: "Connected" } })

          const counts = yield* server.counts
          expect(counts.minted).toBe(1)
          expect(counts.requests.validate).toBe(2)
          // the monitor is on demand: the one check is the one GET /health asked for
          expect(counts.requests.health).toBe(1)
        }),
      120_000
    )

    it.scoped(
      "a typed failure comes back as an answer: a wrong token is Unauthorized",
      () =>
        Effect.gen(function*() {
          const server = yield* ReferenceServer
          const { code } = yield* built
          const workerd = yield* serve(code, { CHITTY_ID_URL: server.url, CHITTY_ID_TOKEN: "not-the-token" })
          const mint = yield* request(`${workerd.url}/mint?type=P`, { method: "POST" })
          expect(mint).toMatchObject({ status: 502, body: { error: "Unauthorized" } })
          expect(JSON.stringify(mint.body)).not.toContain("not-the-token")
        }),
      120_000
    )
  })
})
