/**
 * The health monitor: a fiber, living in its layer's scope, that asks the service `GET /health` and
 * keeps the {@link Observability.ConnectionState} of the client. It heals the connection by itself:
 * after a failed check it probes again with exponential backoff instead of waiting the full
 * interval, and while the service answers it half-opens a breaker whose open period has run out
 * (never earlier).
 *
 * | from | event | to |
 * |---|---|---|
 * | any | a check answered `status: "ok"` | `Connected` |
 * | any | a check answered another status | `Degraded` |
 * | (build) | | `Unchecked` |
 * | `Unchecked`, `Connected`, `Degraded` | a check failed | `Disconnected` |
 * | `Disconnected` (after a failure) | the first reconnect probe starts | `Reconnecting` |
 * | `Disconnected`, `Reconnecting` | a check failed | unchanged |
 *
 * - Building the layer sends no request: the first check runs one `health.interval` (default 30 s)
 *   after the build (the state is `Unchecked` until then, and `health` says `unknown`; call `checkNow` to check
 *   at once), then one every interval while the service answers.
 * - After a failed check (an error or no answer within `health.timeout`) the state is `Disconnected`;
 *   probes follow after `health.reconnectBase`, doubling, capped at `health.reconnectMax` (1 s, 2 s,
 *   4 s … 60 s by default), and the state is `Reconnecting` from the first probe on. The first probe
 *   that gets an answer ends the outage: a `Reconnected` event, and the normal interval again.
 * - Each check that finds the service `Connected` half-opens the breakers (`IdServiceBreakers`: mint
 *   and validate) whose open period, with its backoff, has run out, so the transition shows in
 *   `health` and the events at once; it never cuts an open period short: `/health` being fine says
 *   nothing about minting, and a mint that keeps failing would be probed again and again. A probe is
 *   one request (no retries). An outage that ends `Degraded` is a reconnection too.
 *   Health checks are not fed into the breaker: its only way to record an outcome is to run a call
 *   through `withBreaker`, which an open breaker would reject, so the monitor could never see the
 *   recovery; the breaker judges the calls, the monitor judges the connection.
 * - Every state change is a `ConnectionChanged` event and a log line (`Warning` when the service is
 *   lost or degraded, `Info` when it is back, `Debug` otherwise); every check counts in
 *   `chittyid.health.checks{chittyid.health.result = ok | degraded | failed}`.
 * - Closing the layer's scope interrupts the fiber and ends the `events` stream. Between checks the
 *   fiber is asleep on the `Clock`: nothing runs, so monitoring costs next to nothing.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { HealthMonitor } from "effect-chittyid/HealthMonitor"
 *
 * const program = Effect.gen(function*() {
 *   const monitor = yield* HealthMonitor
 *   const now = yield* monitor.state
 *   yield* monitor.changes.pipe(Stream.runForEach((state) => Effect.log(`connection: ${state}`)), Effect.fork)
 *   return now
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type { IdServiceBreakers, IdServiceClient } from "./IdServiceClient.ts"
import type { IdServiceConfig } from "./IdServiceConfig.ts"
import * as internal from "./internal/healthMonitor.ts"
import type * as Observability from "./Observability.ts"

/**
 * Counters of the monitor since it started, with the current connection state.
 *
 * @example
 * ```ts
 * import type * as HealthMonitor from "effect-chittyid/HealthMonitor"
 * const stats: HealthMonitor.Stats = { checks: 3, failures: 1, connection: "Connected" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Health checks made, scheduled ones and `checkNow` alike. */
  readonly checks: number
  /** Checks that failed (no answer); a `Degraded` answer is not a failure. */
  readonly failures: number
  readonly connection: Observability.ConnectionState
}

/**
 * The monitor's interface. The connection state is read-only: it is kept in a `SubscriptionRef`
 * that only the monitor writes, and offered as `state` (the current value) and `changes` (a stream
 * of it), so no caller can set a state the checks did not find.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HealthMonitor } from "effect-chittyid/HealthMonitor"
 *
 * const latency = Effect.flatMap(HealthMonitor, (monitor) => monitor.checkNow).pipe(Effect.map((c) => c.latencyMs))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The connection state now. */
  readonly state: Effect.Effect<Observability.ConnectionState>
  /** The state now, then each change of it (consecutive duplicates dropped). */
  readonly changes: Stream.Stream<Observability.ConnectionState>
  /** The last completed check, scheduled or not; `undefined` before the first answer or failure. */
  readonly lastCheck: Effect.Effect<Observability.HealthCheck | undefined>
  /** Makes one check now and updates the state like a scheduled one; the schedule is not changed. */
  readonly checkNow: Effect.Effect<Observability.HealthCheck>
  /**
   * `ConnectionChanged` and `Reconnected` events, in the order they happened, from the moment the
   * stream runs; the stream ends when the monitor's scope closes.
   */
  readonly events: Stream.Stream<Observability.ClientEvent>
  /** Checks and failures since the start, and the state now. */
  readonly stats: Effect.Effect<Stats>
}

/**
 * The health monitor of the `IdService`.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { HealthMonitor } from "effect-chittyid/HealthMonitor"
 *
 * // needs IdServiceClient, IdServiceBreakers and IdServiceConfig; the polling fiber lives as long as the layer
 * const state = Effect.flatMap(HealthMonitor, (monitor) => monitor.state)
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class HealthMonitor extends Context.Tag("effect-chittyid/HealthMonitor")<HealthMonitor, Service>() {
  /**
   * A monitor over the client, breakers and settings in context. Scoped: its polling fiber starts
   * when the layer is built, makes its first check one interval later (building sends no request)
   * and is interrupted when the layer's scope closes.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<HealthMonitor, never, IdServiceClient | IdServiceBreakers | IdServiceConfig> =
    Layer
      .scoped(HealthMonitor, internal.make)

  /**
   * A monitor with no fiber: nothing runs between calls, so it suits request-scoped runtimes
   * (Cloudflare Workers, serverless). The state is `Unchecked` until a check; `checkNow` makes
   * one and updates the state like a scheduled check.
   *
   * @since 0.2.0
   */
  static readonly layerOnDemand: Layer.Layer<
    HealthMonitor,
    never,
    IdServiceClient | IdServiceBreakers | IdServiceConfig
  > = Layer.scoped(
    HealthMonitor,
    Effect.locally(internal.make, internal.background, false)
  )
}
