/**
 * The transport against hostile servers on loopback, over each `HttpClient` the library supports:
 * answer bodies are capped (issue 9 item 2) and every ended attempt closes its connection or returns
 * it usable (issue 9 item 3).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { hostileServer, hugeBody, stalledBody } from "../bench/lib/hostileServer.ts"
import * as IdService from "../src/IdService.ts"
import type * as IdServiceConfig from "../src/IdServiceConfig.ts"
import type * as IdServiceError from "../src/IdServiceError.ts"
import * as Node from "../src/node.ts"
import { poll } from "./resilience-support.ts"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["Node.layerHttpClient (lean undici)", Node.layerHttpClient],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["FetchHttpClient", FetchHttpClient.layer]
]

/** A live `IdService` over `http` against `url`, in the current scope, its health checks out of the way. */
const service = (url: string, http: Layer.Layer<HttpClient.HttpClient>, settings: IdServiceConfig.Input = {}) =>
  Effect.flatMap(
    Layer.build(
      IdService.IdService.layerWith({
        url,
        token: Redacted.make("hostile-test-token"),
        health: { interval: "1 hour" },
        retry: { base: "1 millis", maxDelay: "5 millis" },
        // these hostile servers answer nothing about keys: said to keep them, so a timed-out mint
        // stays a RequestTimeout instead of MintOutcomeUnknown (the client's idempotency rule)
        idempotency: "honoured",
        ...settings
      }).pipe(Layer.provide(http), Layer.orDie, Layer.provide(Logger.minimumLogLevel(LogLevel.None)))
    ),
    (context) => Effect.provide(IdService.IdService, context)
  )

const failureOf = <A>(exit: Exit.Exit<A, IdServiceError.IdServiceError>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

describe.each(clients)("transport over %s", (_name, http) => {
  describe("answer bodies are capped (issue 9 item 2)", () => {
    for (const framing of ["content-length", "chunked"] as const) {
      it.scopedLive(
        `a 200 padded to 128 MiB (${framing}) fails MalformedResponse after one request, unread`,
        () =>
          Effect.gen(function*() {
            const server = yield* hostileServer(hugeBody(128 * 1024 * 1024, framing))
            const ids = yield* service(server.url, http)
            const heapBefore = process.memoryUsage().heapUsed
            const exit = yield* Effect.exit(ids.mint({ entityType: "P" }))
            const heapAfter = process.memoryUsage().heapUsed
            const error = failureOf(exit)
            expect(error?._tag).toBe("MalformedResponse")
            expect(error?.message).toContain("65536")
            expect(server.requests()).toBe(1)
            // the client stopped reading: the server could hand the sockets only what the buffers hold
            expect(server.written()).toBeLessThan(32 * 1024 * 1024)
            expect(heapAfter - heapBefore).toBeLessThan(48 * 1024 * 1024)
            // and the connection is closed, not left to drain the rest
            const open = yield* poll(Effect.sync(server.openCarrying), (n) => n === 0, {
              every: "20 millis",
              within: "3 seconds"
            })
            expect(open).toBe(0)
          }),
        { timeout: 20_000 }
      )
    }

    it.scopedLive("the cap is a setting: a body over it fails, one under it is read", () =>
      Effect.gen(function*() {
        const server = yield* hostileServer(hugeBody(3000, "chunked"))
        const small = yield* service(server.url, http, { maxResponseBytes: 2048 })
        const capped = failureOf(yield* Effect.exit(small.mint({ entityType: "P" })))
        expect(capped?._tag).toBe("MalformedResponse")
        expect(capped?.message).toContain("2048")
        const large = yield* service(server.url, http, { maxResponseBytes: 4096 })
        // read whole, then refused by the Schema (no chittyId): still MalformedResponse, but about the shape
        const error = failureOf(yield* Effect.exit(large.mint({ entityType: "P" })))
        expect(error?._tag).toBe("MalformedResponse")
        expect(error?.message).not.toContain("4096")
        expect(server.requests()).toBe(2)
      }))
  })

  describe("every ended attempt closes its connection (issue 9 item 3)", () => {
    for (const framing of ["content-length", "chunked"] as const) {
      it.scopedLive(
        `headers then a stalled body (${framing}): 50 concurrent mints time out, no socket left open`,
        () =>
          Effect.gen(function*() {
            const server = yield* hostileServer(stalledBody(framing))
            const ids = yield* service(server.url, http, {
              requestTimeout: "1 second",
              timeout: "3 seconds",
              retry: { maxRetries: 0 },
              breaker: { consecutiveFailures: 1000, minimumCalls: 1000 }
            })
            const exits = yield* Effect.forEach(
              Array.from({ length: 50 }, () => ids.mint({ entityType: "P" })),
              Effect.exit,
              { concurrency: "unbounded" }
            )
            const tags = exits.map((exit) => failureOf(exit)?._tag)
            expect(tags).toEqual(Array(50).fill("RequestTimeout"))
            // on a busy machine some attempts time out before their request reaches the server
            expect(server.requests()).toBeGreaterThan(0)
            expect(server.requests()).toBeLessThanOrEqual(50)
            // the client destroyed every socket; the server sees them close within a few seconds
            const open = yield* poll(Effect.sync(server.openCarrying), (n) => n === 0, {
              every: "50 millis",
              within: "5 seconds"
            })
            expect(open).toBe(0)
          }),
        { timeout: 20_000 }
      )
    }
  })
})
