/**
 * `Telemetry.layerPrometheus` against the reference server over loopback: a known sequence of calls,
 * then `/metrics` scraped and read sample by sample. Metrics are the process's (Effect's registry),
 * so counters are compared before and after; the HTTP histogram carries the server's own port, so its
 * samples are this test's alone and exact.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Layer, Scope } from "effect"
import * as Fs from "node:fs"
import * as IdService from "../src/IdService.ts"
import * as Node from "../src/node.ts"
import * as Observability from "../src/Observability.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"
import * as Telemetry from "../src/Telemetry.ts"
import * as Prometheus from "./prometheus-text.ts"

const live = (server: ReferenceServer["Type"]) =>
  Node.layerWith({
    url: server.url,
    token: server.token,
    health: { interval: "1 hour" },
    retry: { maxRetries: 1, base: "1 millis", maxDelay: "2 millis" }
  }).pipe(Layer.provideMerge(Telemetry.layerPrometheus({ port: 0 })))

/** The counters this suite compares before and after, by sample name and labels. */
const counters = {
  minted: ["chittyid_mints_total", { chittyid_outcome: "minted", error_type: undefined }],
  mintFailed: ["chittyid_mints_total", { chittyid_outcome: "failed", error_type: "ServiceUnavailable" }],
  validService: ["chittyid_validations_total", {
    chittyid_outcome: "valid",
    chittyid_validation_source: "service"
  }],
  validCache: ["chittyid_validations_total", { chittyid_outcome: "valid", chittyid_validation_source: "cache" }],
  invalidLocal: ["chittyid_validations_total", {
    chittyid_outcome: "invalid",
    chittyid_validation_source: "local"
  }],
  retries: ["chittyid_retries_total", { chittyid_endpoint: "mint" }],
  cacheHits: ["chittyid_cache_hits_total", {}],
  cacheMisses: ["chittyid_cache_misses_total", {}]
} as const

const read = (scraped: Prometheus.Scrape) =>
  Object.fromEntries(
    Object.entries(counters).map(([key, [name, labels]]) => [key, Prometheus.value(scraped, name, labels)])
  ) as Record<keyof typeof counters, number | undefined>

describe("Telemetry.layerPrometheus", () => {
  it.scopedLive("serves exact counts after 3 mints (1 failing) and 3 validations", () =>
    Effect.gen(function*() {
      const server = yield* ReferenceServer
      const port = new URL(server.url).port
      yield* Effect.gen(function*() {
        const endpoint = yield* Telemetry.PrometheusEndpoint
        expect(endpoint.host).toBe("127.0.0.1")
        expect(endpoint.port).toBeGreaterThan(0)
        expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}/metrics`)
        const before = read(yield* Prometheus.scrape(endpoint.url))

        const minted = yield* IdService.mint({ entityType: "P" })
        yield* IdService.mint({ entityType: "L" })
        yield* server.setFaults({ errors: { rate: 1, endpoints: ["mint"] } })
        const failed = yield* Effect.either(IdService.mint({ entityType: "T" }))
        yield* server.resetFaults
        expect(Either.isLeft(failed) && failed.left._tag).toBe("ServiceUnavailable")
        yield* IdService.validate(minted.chittyId, { remote: true })
        yield* IdService.validate(minted.chittyId, { remote: true })
        yield* IdService.validate("not-an-id", { remote: true })

        const scraped = yield* Prometheus.scrape(endpoint.url)
        expect(scraped.status).toBe(200)
        expect(scraped.contentType).toMatch(/^text\/plain/)
        const after = read(scraped)
        const delta = Object.fromEntries(
          Object.entries(after).map(([key, value]) => [key, (value ?? NaN) - (before[key as keyof typeof before] ?? 0)])
        )
        expect(delta).toEqual({
          minted: 2,
          mintFailed: 1,
          validService: 1,
          validCache: 1,
          invalidLocal: 1,
          retries: 1,
          cacheHits: 1,
          cacheMisses: 1
        })

        // One observation per HTTP attempt, labelled by OpenTelemetry's HTTP client conventions.
        const requests = (labels: Record<string, string | undefined>) =>
          Prometheus.value(scraped, "http_client_request_duration_count", {
            server_address: "127.0.0.1",
            server_port: port,
            ...labels
          })
        expect({
          mintOk: requests({
            http_request_method: "POST",
            url_template: "/v1/mint",
            http_response_status_code: "200",
            error_type: undefined
          }),
          mint503: requests({
            http_request_method: "POST",
            url_template: "/v1/mint",
            http_response_status_code: "503",
            error_type: "ServiceUnavailable"
          }),
          validateOk: requests({
            http_request_method: "POST",
            url_template: "/api/validate",
            http_response_status_code: "200",
            error_type: undefined
          })
        }).toEqual({ mintOk: 2, mint503: 2, validateOk: 1 })
        // a histogram in seconds: buckets up to +Inf, the last one holding every observation
        expect(scraped.text).toContain("# UNIT http_client_request_duration s")
        expect(scraped.text).toContain("# TYPE http_client_request_duration histogram")
        expect(
          Prometheus.value(scraped, "http_client_request_duration_bucket", {
            server_port: port,
            url_template: "/v1/mint",
            http_response_status_code: "200",
            le: "+Inf"
          })
        ).toBe(2)
        const seconds = Prometheus.value(scraped, "http_client_request_duration_sum", {
          server_port: port,
          url_template: "/v1/mint",
          http_response_status_code: "200"
        })
        expect(seconds).toBeGreaterThan(0)
        expect(seconds).toBeLessThan(60)
        // the breaker gauges and the resource
        expect(Prometheus.value(scraped, "chittyid_breaker_state", { chittyid_operation: "mint" })).toBe(0)
        expect(Prometheus.value(scraped, "chittyid_breaker_state", { chittyid_operation: "validate" })).toBe(0)
        expect(scraped.text).toContain("# TYPE chittyid_mints_total counter")
        expect(scraped.text).toContain("# UNIT chittyid_mints_total {mint}")
        expect(Prometheus.value(scraped, "target_info", { service_name: "effect-chittyid" })).toBe(1)

        // every metric of the client has its unit (none left at the default "1")
        const units = [...scraped.text.matchAll(/^# UNIT ((?:chittyid|http_client)_\S+) (\S+)$/gm)]
        expect(units.length).toBeGreaterThanOrEqual(7)
        expect(units.filter(([, , unit]) => unit === "1").map(([, name]) => name)).toEqual([])

        // only /metrics is served
        expect((yield* Prometheus.scrape(endpoint.url.replace("/metrics", "/other"))).status).toBe(404)
      }).pipe(Effect.provide(live(server)))
    }).pipe(Effect.provide(ReferenceServer.layer({ seed: 14 }))))

  it.scopedLive("listens only while the layer lives; port 0 gives a free port, a taken one a TelemetryError", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        Telemetry.layerPrometheus({ port: 0, serviceName: "scrape-test" }),
        scope
      )
      const endpoint = yield* Effect.provide(Telemetry.PrometheusEndpoint, context)
      const scraped = yield* Prometheus.scrape(endpoint.url)
      expect(scraped.status).toBe(200)
      expect(Prometheus.value(scraped, "target_info", { service_name: "scrape-test" })).toBe(1)

      // the same port again, while it is taken
      const taken = yield* Effect.flip(
        Effect.scoped(Layer.build(Telemetry.layerPrometheus({ port: endpoint.port })))
      )
      expect(taken._tag).toBe("TelemetryError")
      expect(taken.message).toContain(`127.0.0.1:${endpoint.port}`)
      expect(taken.message).toContain("EADDRINUSE")

      yield* Scope.close(scope, Exit.void)
      const refused = yield* Effect.either(Effect.tryPromise(() => fetch(endpoint.url)))
      expect(Either.isLeft(refused)).toBe(true)
    }))

  it("docs/telemetry.md lists every metric of Observability.units with its unit", () => {
    const rows = Fs.readFileSync(new URL("../docs/telemetry.md", import.meta.url), "utf8").split("\n")
      .filter((line) => line.startsWith("| `"))
    const listed = Object.entries(Observability.units).filter(([name, unit]) =>
      rows.some((row) => row.startsWith(`| \`${name}\` (`) && row.includes(`, \`${unit}\` |`))
    )
    expect(listed.map(([name]) => name)).toEqual(Object.keys(Observability.units))
  })

  it.effect("a port out of range or an empty host is a TelemetryError, not a crash", () =>
    Effect.gen(function*() {
      for (const options of [{ port: -1 }, { port: 65536 }, { port: 1.5 }, { port: 0, host: "" }]) {
        const error = yield* Effect.flip(Effect.scoped(Layer.build(Telemetry.layerPrometheus(options))))
        expect(error._tag).toBe("TelemetryError")
        expect(error.message).toMatch(/^Telemetry\.layerPrometheus: (port must be|host is empty)/)
      }
    }))
})
