/**
 * Whether spans go anywhere: Effect's default tracer records nothing, so the client makes its
 * `ChittyId.*` spans only when a tracer is installed (`Telemetry`'s layers, `@effect/opentelemetry`,
 * DevTools, `Layer.setTracer`). Without one, a request carries the caller's own span (if any) as
 * `traceparent`, the same trace, and a mint saves the ~30 µs of CPU a span costs.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import type * as Fiber from "effect/Fiber"
import * as Tracer from "effect/Tracer"

const defaultTracer: Tracer.Tracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** Is a tracer other than Effect's default one installed in this fiber? */
export const isTracing = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean => fiber.currentTracer !== defaultTracer
