/**
 * The client's spans through `Telemetry.layer` into the SDK's in-memory exporter, against the
 * reference server over loopback: names, kinds, attributes, parents and statuses of a mint, a remote
 * validation and a failing mint, and never the token.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Redacted } from "effect"
import * as IdService from "../src/IdService.ts"
import * as Node from "../src/node.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"
import * as Telemetry from "../src/Telemetry.ts"

const childrenOf = (spans: ReadonlyArray<ReadableSpan>, parent: ReadableSpan) =>
  spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId)

describe("Telemetry.layer with an in-memory span exporter", () => {
  it.scopedLive("mint and validate spans carry their attributes, parents and outcome", () =>
    Effect.gen(function*() {
      const server = yield* ReferenceServer
      const exporter = new InMemorySpanExporter()
      const live = Node.layerWith({
        url: server.url,
        token: server.token,
        health: { interval: "1 hour" },
        retry: { maxRetries: 1, base: "1 millis", maxDelay: "2 millis" }
      }).pipe(
        Layer.provideMerge(
          Telemetry.layer({ serviceName: "spans-test", spanProcessors: [new SimpleSpanProcessor(exporter)] })
        )
      )
      // read before the layer closes: shutting the exporter down empties it
      const spans = yield* Effect.gen(function*() {
        const minted = yield* IdService.mint({ entityType: "P", region: 3, jurisdiction: "GBR", trustLevel: 2 }).pipe(
          Effect.withSpan("caller")
        )
        yield* IdService.validate(minted.chittyId, { remote: true })
        yield* IdService.validate(minted.chittyId) // local: no span
        yield* server.setFaults({ errors: { rate: 1, endpoints: ["mint"] } })
        yield* Effect.flip(IdService.mint({ entityType: "T" }))
        yield* server.resetFaults
        return exporter.getFinishedSpans()
      }).pipe(Effect.provide(live))

      const named = (name: string) => spans.filter((span) => span.name === name)
      expect(named("ChittyId.mint")).toHaveLength(2)
      expect(named("ChittyId.validate")).toHaveLength(1)

      const [mint, failed] = named("ChittyId.mint")
      const caller = named("caller")[0]!
      expect(mint!.kind).toBe(SpanKind.CLIENT)
      expect(mint!.parentSpanContext?.spanId).toBe(caller.spanContext().spanId)
      expect(mint!.spanContext().traceId).toBe(caller.spanContext().traceId)
      expect(mint!.attributes).toMatchObject({
        "chittyid.entity_type": "P",
        "chittyid.region": 3,
        "chittyid.jurisdiction": "GBR",
        "chittyid.trust_level": 2,
        "chittyid.accept_fallback": false
      })
      expect(mint!.status.code).not.toBe(SpanStatusCode.ERROR)
      expect(mint!.resource.attributes["service.name"]).toBe("spans-test")
      // its one HTTP request, a child span with OpenTelemetry's HTTP attributes
      // effect-chittyid/node's client sends the span's context as `traceparent` and makes no span per request
      expect(childrenOf(spans, mint!)).toEqual([])

      // the failing mint: an error status and the error's tag, as OpenTelemetry's error.type
      expect(failed!.status.code).toBe(SpanStatusCode.ERROR)
      expect(failed!.attributes).toMatchObject({ "chittyid.entity_type": "T", "error.type": "ServiceUnavailable" })
      expect(mint!.attributes["error.type"]).toBeUndefined()

      const validate = named("ChittyId.validate")[0]!
      expect(validate.kind).toBe(SpanKind.CLIENT)
      expect(validate.attributes["chittyid.remote"]).toBe(true)

      // the token is in no attribute, event or status message of any span
      const token = Redacted.value(server.token)
      const values = spans.flatMap((span) => [
        ...Object.values(span.attributes).map(String),
        ...span.events.flatMap((event) => Object.values(event.attributes ?? {}).map(String)),
        span.status.message ?? ""
      ])
      expect(values.length).toBeGreaterThan(10)
      expect(values.filter((value) => value.includes(token))).toEqual([])
    }).pipe(Effect.provide(ReferenceServer.layer({ seed: 15 }))))

  it.scopedLive("over a platform HttpClient, its request spans are children of the mint and validate spans", () =>
    Effect.gen(function*() {
      const server = yield* ReferenceServer
      const exporter = new InMemorySpanExporter()
      const live = IdService.IdService.layerWith({
        url: server.url,
        token: server.token,
        health: { interval: "1 hour" }
      }).pipe(
        Layer.provide(NodeHttpClient.layerUndici),
        Layer.provideMerge(
          Telemetry.layer({ serviceName: "spans-test", spanProcessors: [new SimpleSpanProcessor(exporter)] })
        )
      )
      const spans = yield* Effect.gen(function*() {
        const minted = yield* IdService.mint({ entityType: "L" }).pipe(Effect.withSpan("caller"))
        yield* IdService.validate(minted.chittyId, { remote: true })
        return exporter.getFinishedSpans()
      }).pipe(Effect.provide(live))

      const mint = spans.find((span) => span.name === "ChittyId.mint")!
      const validate = spans.find((span) => span.name === "ChittyId.validate")!
      const caller = spans.find((span) => span.name === "caller")!
      expect(mint.parentSpanContext?.spanId).toBe(caller.spanContext().spanId)
      // the platform's client makes a span per request: under the call's span, not the caller's
      const [mintRequest] = childrenOf(spans, mint)
      expect(mintRequest?.kind).toBe(SpanKind.CLIENT)
      expect(mintRequest?.attributes["http.request.method"]).toBe("POST")
      expect(String(mintRequest?.attributes["url.full"])).toContain("/v1/mint")
      expect(childrenOf(spans, validate).map((span) => String(span.attributes["url.full"]))).toEqual([
        expect.stringContaining("/api/validate")
      ])
      expect(childrenOf(spans, caller)).toEqual([mint])
    }).pipe(Effect.provide(ReferenceServer.layer({ seed: 16 }))))
})
