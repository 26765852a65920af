/**
 * effect-chittyid/fetch over real loopback HTTP: the live service over `FetchHttpClient`, the
 * on-demand health monitor of request-scoped runtimes, and the body cap over fetch.
 */
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted } from "effect"
import { hostileServer, hugeBody } from "../bench/lib/hostileServer.ts"
import * as Fetch from "../src/fetch.ts"
import { HealthMonitor } from "../src/HealthMonitor.ts"
import * as IdService from "../src/IdService.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"
import { poll } from "./resilience-support.ts"

const against = (server: ReferenceServer["Type"], healthMonitor?: "onDemand") =>
  Fetch.layerWith({ url: server.url, token: server.token, retry: { maxRetries: 0 }, healthMonitor })

describe("effect-chittyid/fetch", () => {
  layer(ReferenceServer.layer({ seed: 3 }), { timeout: 30_000, excludeTestServices: true })((it) => {
    it.scoped("mints and validates with the service over fetch", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const ids = yield* Effect.provide(IdService.IdService, yield* Layer.build(against(server, "onDemand")))
        const minted = yield* ids.mint({ entityType: "thing" })
        const checked = yield* ids.validate(minted.chittyId, { remote: true })
        expect(checked).toMatchObject({ valid: true, source: "service", chittyId: minted.chittyId })
        expect((yield* server.counts).minted).toBe(1)
      }))

    it.scoped("configProvider reads a Worker's env (strings only) for layerWorker", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        const env = { CHITTY_ID_URL: server.url, CHITTY_ID_TOKEN: Redacted.value(server.token), KV: { get: () => 1 } }
        const context = yield* Layer.build(
          Fetch.layerWorker.pipe(Layer.provide(Layer.setConfigProvider(Fetch.configProvider(env))))
        )
        const minted = yield* Effect.provide(IdService.mint({ entityType: "P" }), context)
        expect(minted.fallback).toBe(false)
      }))

    it.scoped("on demand, the monitor checks only when asked: nothing runs between calls", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const context = yield* Layer.build(against(server, "onDemand"))
        const monitor = yield* Effect.provide(HealthMonitor, context)
        const ids = yield* Effect.provide(IdService.IdService, context)
        yield* Effect.sleep("300 millis") // a background monitor checks at once
        expect((yield* server.counts).requests.health).toBe(0)
        // Not checked yet: not claimed to be down, nor to be fine.
        expect(yield* monitor.state).toBe("Unchecked")
        expect(yield* ids.health).toMatchObject({ status: "unknown", connection: "Unchecked", lastCheck: undefined })
        yield* monitor.checkNow
        expect(yield* monitor.state).toBe("Connected")
        expect((yield* ids.health).status).toBe("ok")
        expect((yield* server.counts).requests.health).toBe(1)
      }))

    it.scoped("in the background (the default), the monitor's first check comes one interval after the build", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        yield* Layer.build(
          Fetch.layerWith({
            url: server.url,
            token: server.token,
            retry: { maxRetries: 0 },
            health: { interval: "1 second" }
          })
        )
        expect((yield* server.counts).requests.health).toBe(0) // building sends no request
        const counts = yield* poll(server.counts, (c) => c.requests.health >= 1, {
          every: "50 millis",
          within: "10 seconds"
        })
        expect(counts.requests.health).toBeGreaterThanOrEqual(1)
      }))
  })

  it.scoped("the body cap holds over fetch: a huge answer is MalformedResponse", () =>
    Effect.gen(function*() {
      const hostile = yield* hostileServer(hugeBody(8 * 1024 * 1024, "chunked"))
      const exit = yield* IdService.validate("03-1-USA-5537-P-2602-0-38", { remote: true }).pipe(
        Effect.provide(Fetch.layerWith({ url: hostile.url, token: Redacted.make("t"), retry: { maxRetries: 0 } })),
        Effect.exit
      )
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : exit).toBe(
        "MalformedResponse"
      )
    }), 30_000)
})
