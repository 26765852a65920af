/**
 * The client's metrics and spans in the tools operators run: a Prometheus endpoint
 * ({@link layerPrometheus}) or an OpenTelemetry collector over OTLP/HTTP ({@link layerOtlp}).
 *
 * Built on `@effect/opentelemetry` and the OpenTelemetry SDK 2.x, which are optional peers of this
 * package: install them only if you import `effect-chittyid/Telemetry` (Node only):
 *
 * `npm install @effect/opentelemetry @opentelemetry/api @opentelemetry/resources
 * @opentelemetry/semantic-conventions @opentelemetry/sdk-metrics @opentelemetry/sdk-trace-base
 * @opentelemetry/sdk-trace-node @opentelemetry/exporter-prometheus @opentelemetry/exporter-trace-otlp-http
 * @opentelemetry/exporter-metrics-otlp-http`
 *
 * Metrics are Effect's global ones (`Observability.metrics` and any of your own), so the layer only
 * has to live beside the client's; spans go through the tracer the layer installs, so provide it to
 * the program that makes them (`Layer.merge` or `Layer.provideMerge` with the client's layer). The
 * metric names, attributes and units are listed in `docs/telemetry.md`.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Redacted } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Node from "effect-chittyid/node"
 * import * as Telemetry from "effect-chittyid/Telemetry"
 *
 * const MainLive = Node.layerWith({ url: "https://id.chitty.cc", token: Redacted.make("...") }).pipe(
 *   Layer.provideMerge(Telemetry.layerPrometheus({ port: 9464 })),
 *   Layer.provideMerge(Telemetry.layerOtlp({ url: "http://localhost:4318", serviceName: "billing" }))
 * )
 * const program = IdService.mint({ entityType: "P" }).pipe(Effect.provide(MainLive))
 * ```
 *
 * @since 0.2.0
 */
import type { MetricReader } from "@opentelemetry/sdk-metrics"
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Layer from "effect/Layer"
import * as internal from "./internal/telemetry.ts"

/**
 * Telemetry could not start: a bad option (a port out of range, a URL that is not `http:`/`https:`)
 * or a port already in use. The layer fails with it at construction.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import * as Telemetry from "effect-chittyid/Telemetry"
 * const started = Layer.launch(Telemetry.layerPrometheus({ port: 9464 })).pipe(
 *   Effect.catchTag("TelemetryError", (error) => Effect.logError(error.message))
 * )
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class TelemetryError extends Data.TaggedError("TelemetryError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Where {@link layerPrometheus} serves: the host and the port it is bound to (the real one when port
 * 0 was asked for), and the scrape URL.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import * as Telemetry from "effect-chittyid/Telemetry"
 * const scrapeUrl = Effect.map(Telemetry.PrometheusEndpoint, (endpoint) => endpoint.url).pipe(
 *   Effect.provide(Telemetry.layerPrometheus({ port: 0 }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export class PrometheusEndpoint extends Context.Tag("effect-chittyid/Telemetry/PrometheusEndpoint")<
  PrometheusEndpoint,
  {
    readonly host: string
    readonly port: number
    /** `http://host:port/metrics` */
    readonly url: string
  }
>() {}

/**
 * Options of {@link layerPrometheus}.
 *
 * @example
 * ```ts
 * import type * as Telemetry from "effect-chittyid/Telemetry"
 * const options: Telemetry.PrometheusOptions = { host: "0.0.0.0", port: 9464 }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface PrometheusOptions {
  /** The interface to listen on; default `127.0.0.1` (this machine only). `0.0.0.0` for all. */
  readonly host?: string | undefined
  /** The port; `0` takes any free one (read it from {@link PrometheusEndpoint}). */
  readonly port: number
  /** `service.name` in `target_info`; default `OTEL_SERVICE_NAME`, else `effect-chittyid`. */
  readonly serviceName?: string | undefined
}

/**
 * Options of {@link layerOtlp}.
 *
 * @example
 * ```ts
 * import type * as Telemetry from "effect-chittyid/Telemetry"
 * const options: Telemetry.OtlpOptions = { url: "http://localhost:4318", serviceName: "billing" }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface OtlpOptions {
  /**
   * The collector's OTLP/HTTP base URL (like `OTEL_EXPORTER_OTLP_ENDPOINT`): spans go to
   * `url/v1/traces`, metrics to `url/v1/metrics`, as JSON.
   */
  readonly url: string
  /** `service.name` of the resource; default `OTEL_SERVICE_NAME`, else `effect-chittyid`. */
  readonly serviceName?: string | undefined
  /** How often metrics are sent; default 60 seconds. Spans are sent in batches within seconds. */
  readonly exportInterval?: Duration.DurationInput | undefined
}

/**
 * Options of {@link layer}.
 *
 * @example
 * ```ts
 * import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
 * import type * as Telemetry from "effect-chittyid/Telemetry"
 * const options: Telemetry.Options = { spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** `service.name` of the resource; default `OTEL_SERVICE_NAME`, else `effect-chittyid`. */
  readonly serviceName?: string | undefined
  /** Where spans go (each span, once ended, is handed to every processor). */
  readonly spanProcessors?: ReadonlyArray<SpanProcessor> | undefined
  /** Who reads the metrics (an exporter's reader: Prometheus, OTLP, in memory, …). */
  readonly metricReaders?: ReadonlyArray<MetricReader> | undefined
}

/**
 * While the layer lives, the client's metrics (and every other Effect metric of the process) are
 * served in Prometheus text format at `http://host:port/metrics` (default host `127.0.0.1`); the
 * {@link PrometheusEndpoint} it provides says where (the bound port, for port 0). Metric names are
 * the OpenTelemetry ones with `.` as `_`, counters with `_total`: `chittyid_mints_total`,
 * `http_client_request_duration_bucket`, … Fails with {@link TelemetryError} on a bad option or a
 * port in use.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Redacted } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Node from "effect-chittyid/node"
 * import * as Telemetry from "effect-chittyid/Telemetry"
 *
 * const MainLive = Node.layerWith({ url: "https://id.chitty.cc", token: Redacted.make("...") }).pipe(
 *   Layer.provideMerge(Telemetry.layerPrometheus({ port: 9464 }))
 * )
 * const program = Effect.gen(function*() {
 *   const endpoint = yield* Telemetry.PrometheusEndpoint
 *   yield* Effect.logInfo(`metrics at ${endpoint.url}`)
 *   return yield* IdService.mint({ entityType: "P" })
 * }).pipe(Effect.provide(MainLive))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerPrometheus: (options: PrometheusOptions) => Layer.Layer<PrometheusEndpoint, TelemetryError> =
  internal.layerPrometheus

/**
 * While the layer lives, spans (`ChittyId.mint`, `ChittyId.validate`, the HTTP client's, and your
 * own) are sent in batches, and metrics every `exportInterval`, to an OpenTelemetry collector over
 * OTLP/HTTP (JSON) at `url`; closing the layer flushes both. Provide it to the program whose spans it
 * should send. Fails with {@link TelemetryError} when `url` is not an `http:`/`https:` URL. Export
 * errors (collector down) do not fail the client: the SDK reports them through its own diagnostics.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Redacted } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Node from "effect-chittyid/node"
 * import * as Telemetry from "effect-chittyid/Telemetry"
 *
 * const MainLive = Node.layerWith({ url: "https://id.chitty.cc", token: Redacted.make("...") }).pipe(
 *   Layer.provideMerge(Telemetry.layerOtlp({ url: "http://localhost:4318", serviceName: "billing" }))
 * )
 * const program = IdService.mint({ entityType: "P" }).pipe(Effect.provide(MainLive))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerOtlp: (options: OtlpOptions) => Layer.Layer<never, TelemetryError> = internal.layerOtlp

/**
 * The building block of the two others: spans to your `SpanProcessor`s, Effect's metrics (with their
 * units) to your `MetricReader`s, under one resource. For an exporter this module has no layer for,
 * or an in-memory one in tests.
 *
 * @example
 * ```ts
 * import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
 * import { Effect } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * import * as Telemetry from "effect-chittyid/Telemetry"
 *
 * const spans = new InMemorySpanExporter()
 * const TracingLive = Telemetry.layer({ spanProcessors: [new SimpleSpanProcessor(spans)] })
 * const program = IdService.mint({ entityType: "P" }).pipe(
 *   Effect.provide(IdService.IdService.layerTest()),
 *   Effect.provide(TracingLive)
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<never> = internal.layer
