/**
 * The OpenTelemetry side of `Telemetry`: Effect's metrics read by OTel metric readers (with the units
 * of `Observability.units`), Effect's spans written by an OTel tracer provider, and the resource.
 *
 * Built on `@effect/opentelemetry`'s `Metrics`, `Resource` and `Tracer` modules, not on its `NodeSdk`:
 * that one also loads its `Logger` module, which imports `@opentelemetry/sdk-logs` at load time, a
 * package this library has no use for (its users would have to install it).
 *
 * @internal
 */
import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import * as OtelResource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import type { CollectionResult, MetricProducer, MetricReader } from "@opentelemetry/sdk-metrics"
import { PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node"
import * as Arr from "effect/Array"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Observability from "../Observability.ts"
import type * as Telemetry from "../Telemetry.ts"
import { PrometheusEndpoint, TelemetryError } from "../Telemetry.ts"
import * as Server from "./telemetryServer.ts"

/** The `service.name` when neither the options nor `OTEL_SERVICE_NAME` give one. */
export const defaultServiceName = "effect-chittyid"

/** How long a finalizer waits for the SDK to flush and shut down. */
const shutdownTimeout = Duration.seconds(3)

/** The resource: `service.name` from the options, else `OTEL_SERVICE_NAME`, else the default. */
const layerResource = (serviceName: string | undefined): Layer.Layer<OtelResource.Resource> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.orDie(Config.option(Config.nonEmptyString("OTEL_SERVICE_NAME"))),
      (fromEnv) =>
        OtelResource.layerFromEnv(
          OtelResource.configToAttributes({
            serviceName: serviceName ?? Option.getOrElse(fromEnv, () => defaultServiceName)
          })
        )
    )
  )

/**
 * OpenTelemetry's integer attributes: Effect's metric labels are strings, the conventions want
 * `server.port` and `http.response.status_code` as integers (OTLP `intValue`).
 */
const integerAttributes = ["server.port", "http.response.status_code"]

/**
 * The collection as OpenTelemetry's conventions want it: each metric with its unit from
 * `Observability.units` (Effect's `Metric` has none), integer attributes as integers. The data points
 * and their attributes are made afresh by each collection (`@effect/opentelemetry`'s producer), so
 * they are converted in place.
 */
const conform = (result: CollectionResult): CollectionResult => ({
  ...result,
  resourceMetrics: {
    ...result.resourceMetrics,
    scopeMetrics: result.resourceMetrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((data) => {
        for (const point of data.dataPoints) {
          for (const key of integerAttributes) {
            const value = point.attributes[key]
            if (typeof value === "string" && /^\d+$/.test(value)) point.attributes[key] = Number(value)
          }
        }
        const unit = Observability.units[data.descriptor.name]
        return unit === undefined ? data : { ...data, descriptor: { ...data.descriptor, unit } }
      })
    }))
  }
})

/** Effect's metric registry, read by `readers` while the scope lasts (their finalizers shut them down). */
const registerMetrics = (readers: Arr.NonEmptyReadonlyArray<MetricReader>) =>
  Effect.flatMap(OtelMetrics.makeProducer, (effectMetrics) => {
    const producer: MetricProducer = { collect: (options) => effectMetrics.collect(options).then(conform) }
    return OtelMetrics.registerProducer(producer, () => readers)
  })

/** The tracer provider over `processors`, flushed and shut down when the layer ends. */
const layerTracerProvider = (processors: Arr.NonEmptyReadonlyArray<SpanProcessor>) =>
  Layer.scoped(
    OtelTracer.OtelTracerProvider,
    Effect.flatMap(OtelResource.Resource, (resource) =>
      Effect.acquireRelease(
        Effect.sync(() => new NodeTracerProvider({ resource, spanProcessors: [...processors] })),
        (provider) =>
          Effect.promise(() => provider.forceFlush().then(() => provider.shutdown())).pipe(
            Effect.ignoreLogged,
            Effect.interruptible,
            Effect.timeoutOption(shutdownTimeout)
          )
      ))
  )

/** `Telemetry.layer`: spans to `spanProcessors`, metrics to `metricReaders`. */
export const layer = (options: Telemetry.Options): Layer.Layer<never> => {
  const processors = options.spanProcessors ?? []
  const tracing = Arr.isNonEmptyReadonlyArray(processors)
    ? OtelTracer.layer.pipe(Layer.provide(layerTracerProvider(processors)))
    : Layer.empty
  const readers = options.metricReaders ?? []
  const metrics = Arr.isNonEmptyReadonlyArray(readers)
    ? Layer.scopedDiscard(registerMetrics(readers))
    : Layer.empty
  return Layer.mergeAll(tracing, metrics).pipe(
    Layer.provide(layerResource(options.serviceName)),
    // The tracer is installed in the runtime (`Layer.setTracer`); the services themselves stay inside.
    Layer.map(() => Context.empty())
  )
}

const invalid = (message: string) => new TelemetryError({ message })

/** `Telemetry.layerPrometheus`. */
export const layerPrometheus = (
  options: Telemetry.PrometheusOptions
): Layer.Layer<PrometheusEndpoint, TelemetryError> =>
  Layer.scoped(
    PrometheusEndpoint,
    Effect.gen(function*() {
      const host = options.host ?? "127.0.0.1"
      const port = options.port
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        return yield* invalid(`Telemetry.layerPrometheus: port must be an integer from 0 to 65535, got ${port}`)
      }
      if (host.length === 0) return yield* invalid("Telemetry.layerPrometheus: host is empty")
      // The exporter's own server cannot listen on port 0 (it takes 0 for "unset" and binds 9464):
      // it only renders, the server is ours.
      const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true })
      yield* registerMetrics([exporter])
      const bound = yield* Server.listen(
        host,
        port,
        (request, response) => exporter.getMetricsRequestHandler(request, response)
      )
      return PrometheusEndpoint.of({ host, port: bound, url: `http://${Server.hostInUrl(host)}:${bound}/metrics` })
    })
  ).pipe(Layer.provide(layerResource(options.serviceName)))

/** The base URL of an OTLP/HTTP collector, without its trailing slash, or why it is not one. */
const collectorUrl = (url: string): Effect.Effect<string, TelemetryError> => {
  if (!URL.canParse(url)) return Effect.fail(invalid(`Telemetry.layerOtlp: url is not a URL: ${JSON.stringify(url)}`))
  const parsed = new URL(url)
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return Effect.fail(invalid(`Telemetry.layerOtlp: url must be http: or https:, got ${parsed.protocol}`))
  }
  return Effect.succeed(url.replace(/\/+$/, ""))
}

/** `Telemetry.layerOtlp`. */
export const layerOtlp = (options: Telemetry.OtlpOptions): Layer.Layer<never, TelemetryError> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const base = yield* collectorUrl(options.url)
      const interval = Duration.toMillis(Duration.decode(options.exportInterval ?? Duration.seconds(60)))
      if (!(interval > 0 && Number.isFinite(interval))) {
        return yield* invalid("Telemetry.layerOtlp: exportInterval must be a positive, finite duration")
      }
      return layer({
        serviceName: options.serviceName,
        spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
        metricReaders: [
          new PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }),
            exportIntervalMillis: interval,
            exportTimeoutMillis: Math.min(interval, 30_000)
          })
        ]
      })
    })
  )
