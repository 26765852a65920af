/**
 * `Telemetry.layerOtlp` against a small OTLP/HTTP receiver on loopback: after a mint, a remote
 * validation and a failing mint against the reference server, closing the layer flushes the spans
 * and the metrics, which arrive as JSON and are decoded and checked.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as IdService from "../src/IdService.ts"
import * as Node from "../src/node.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"
import * as Telemetry from "../src/Telemetry.ts"
import * as MetricValues from "./metric-values.ts"
import * as Otlp from "./otlp-receiver.ts"

describe("Telemetry.layerOtlp", () => {
  it.scopedLive("sends spans and metrics to the collector, flushed when the layer closes", () =>
    Effect.gen(function*() {
      const server = yield* ReferenceServer
      const receiver = yield* Otlp.start
      const minted = MetricValues.count("chittyid.mints", { "chittyid.outcome": "minted" })
      const mintedBefore = yield* minted
      yield* Effect.gen(function*() {
        const id = yield* IdService.mint({ entityType: "E" })
        yield* IdService.validate(id.chittyId, { remote: true })
        yield* server.setFaults({ errors: { rate: 1, endpoints: ["mint"] } })
        yield* Effect.flip(IdService.mint({ entityType: "A" }))
        yield* server.resetFaults
      }).pipe(
        Effect.provide(
          Node.layerWith({
            url: server.url,
            token: server.token,
            health: { interval: "1 hour" },
            retry: { maxRetries: 1, base: "1 millis", maxDelay: "2 millis" }
          }).pipe(
            // an hour: only the layer's closing can have sent the metrics
            Layer.provideMerge(
              Telemetry.layerOtlp({ url: `${receiver.url}/`, serviceName: "otlp-test", exportInterval: "1 hour" })
            )
          )
        )
      )
      const mintedNow = yield* minted
      expect(mintedNow - mintedBefore).toBe(1)

      // spans
      const traces = yield* Otlp.waitFor(
        receiver,
        "/v1/traces",
        Otlp.TraceRequest,
        (requests) =>
          requests.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)))
            .filter((span) => span.name.startsWith("ChittyId.")).length >= 3
      )
      const resourceSpans = traces.flatMap((request) => request.resourceSpans)
      expect(Otlp.attributes(resourceSpans[0]!.resource.attributes)["service.name"]).toBe("otlp-test")
      const spans = resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))
      const mints = spans.filter((span) => span.name === "ChittyId.mint").map((span) => ({
        kind: span.kind,
        status: span.status?.code ?? 0,
        attributes: Otlp.attributes(span.attributes)
      }))
      // kind 3: SPAN_KIND_CLIENT; status 2: STATUS_CODE_ERROR
      expect(mints).toMatchObject([
        { kind: 3, attributes: { "chittyid.entity_type": "E" } },
        { kind: 3, status: 2, attributes: { "chittyid.entity_type": "A", "error.type": "ServiceUnavailable" } }
      ])
      expect(mints[0]!.status).not.toBe(2)
      expect(spans.filter((span) => span.name === "ChittyId.validate").map((span) => Otlp.attributes(span.attributes)))
        .toEqual([{ "chittyid.remote": true }])

      // metrics: the same values as in the process when the layer closed
      const exported = yield* Otlp.waitFor(
        receiver,
        "/v1/metrics",
        Otlp.MetricsRequest,
        (requests) => requests.length > 0
      )
      const metrics = exported.flatMap((request) =>
        request.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      )
      const metric = (name: string) => metrics.find((m) => m.name === name)
      const mintsMetric = metric("chittyid.mints")
      expect(mintsMetric?.unit).toBe("{mint}")
      expect(mintsMetric?.sum?.isMonotonic).toBe(true)
      const mintsByOutcome = Object.fromEntries(
        (mintsMetric?.sum?.dataPoints ?? []).map((point) => [
          `${Otlp.attributes(point.attributes)["chittyid.outcome"]} ${
            Otlp.attributes(point.attributes)["error.type"] ?? ""
          }`.trim(),
          point.asInt ?? point.asDouble
        ])
      )
      expect(mintsByOutcome["minted"]).toBe(mintedNow)
      expect(mintsByOutcome["failed ServiceUnavailable"]).toBeGreaterThanOrEqual(1)

      const durations = metric("http.client.request.duration")
      expect(durations?.unit).toBe("s")
      const port = Number(new URL(server.url).port)
      const countOf = (status: number) =>
        (durations?.histogram?.dataPoints ?? []).filter((point) => {
          const a = Otlp.attributes(point.attributes)
          // integers, as OpenTelemetry's conventions want them (Effect's labels are strings)
          return a["server.port"] === port && a["url.template"] === "/v1/mint" &&
            a["http.response.status_code"] === status
        }).map((point) => point.count)
      expect({ ok: countOf(200), unavailable: countOf(503) }).toEqual({ ok: [1], unavailable: [2] })
    }).pipe(Effect.provide(ReferenceServer.layer({ seed: 16 }))))

  it.effect("a url that is not http(s) is a TelemetryError", () =>
    Effect.gen(function*() {
      for (const url of ["localhost:4318", "ftp://collector", ""]) {
        const error = yield* Effect.flip(Effect.scoped(Layer.build(Telemetry.layerOtlp({ url }))))
        expect(error._tag).toBe("TelemetryError")
        expect(error.message).toMatch(/^Telemetry\.layerOtlp: url /)
      }
    }))
})
