/**
 * The client's spans (`ChittyId.mint`, `ChittyId.validate`), made only when something records them:
 * Effect's default tracer records nothing, so without an installed tracer (`Telemetry`'s layers,
 * `@effect/opentelemetry`, DevTools, `Layer.setTracer`) no span is made, a request carries the caller's
 * own span (if any) as `traceparent`, the same trace, and a mint saves the ~30 µs of CPU a span costs.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Tracer from "effect/Tracer"

const defaultTracer: Tracer.Tracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * `f` under a client span named `name` when a tracer other than Effect's default one is installed in
 * `fiber`, else `f(undefined)`; `attributes` is only called when a span is made. The span is handed to
 * `f` (`Effect.useSpan`) rather than made the fiber's current span (`Effect.withSpan`), which would
 * copy the fiber's context and its fiber refs on every call: `f` passes it on to the request (as
 * `traceparent`, and as the parent of an `HttpClient`'s own spans).
 */
export const clientSpan = <A, E, R>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  name: string,
  attributes: () => Record<string, unknown>,
  f: (span: Tracer.Span | undefined) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  fiber.currentTracer === defaultTracer
    ? f(undefined)
    : Effect.useSpan(name, { kind: "client", captureStackTrace: false, attributes: attributes() }, f)
