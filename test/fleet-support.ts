/**
 * Replicas for the fleet suites: each `IdService` built in a `ManagedRuntime` of its own (as two
 * processes would build theirs), over the reference server on loopback, sharing one Redis through
 * `Fleet.layerRedis`.
 */
import { Duration, Effect, Layer, ManagedRuntime, Schedule, type Scope } from "effect"
import { Redis } from "ioredis"
import * as Fleet from "../src/Fleet.ts"
import type * as IdService from "../src/IdService.ts"
import type * as IdServiceConfig from "../src/IdServiceConfig.ts"
import * as Node from "../src/node.ts"
import type * as ReferenceServer from "../src/server/ReferenceServer.ts"

export interface Replica {
  /** Runs an effect in the replica; its failure stays a typed failure. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, IdService.LiveServices>) => Effect.Effect<A, E>
  /** The fleet's pieces' states (`shared` or `local`); fails without a fleet layer. */
  readonly fleetState: Effect.Effect<{ readonly cache: string; readonly rateLimit: string }>
}

const runIn = <R, A, E>(runtime: ManagedRuntime.ManagedRuntime<R, never>, effect: Effect.Effect<A, E, R>) =>
  Effect.flatten(Effect.promise(() => runtime.runPromiseExit(effect)))

const own = <R>(layer: Layer.Layer<R, unknown>) =>
  Effect.tap(
    Effect.acquireRelease(
      // built before the replica is handed out: a layer that fails to build fails the test there
      Effect.sync(() => ManagedRuntime.make(Layer.orDie(layer))),
      (runtime) => Effect.promise(() => runtime.dispose())
    ),
    (runtime) => runIn(runtime, Effect.void)
  )

/** A replica with its own runtime (built now, disposed with the scope); `fleet` undefined: no fleet layer. */
export const replica = (
  server: ReferenceServer.ReferenceServer["Type"],
  fleet: Fleet.RedisOptions | undefined,
  settings: IdServiceConfig.Input = {}
): Effect.Effect<Replica, never, Scope.Scope> =>
  Effect.gen(function*() {
    const live = Node.layerWith({
      url: server.url,
      token: server.token,
      remoteValidation: true,
      healthMonitor: "onDemand",
      retry: { maxRetries: 0 },
      breaker: { consecutiveFailures: 1_000, minimumCalls: 1_000 },
      ...settings
    })
    if (fleet === undefined) {
      const runtime = yield* own(live)
      return { run: (effect) => runIn(runtime, effect), fleetState: Effect.dieMessage("no fleet layer") }
    }
    const runtime = yield* own(live.pipe(Layer.provideMerge(Fleet.layerRedis(fleet))))
    return {
      run: (effect) => runIn(runtime, effect),
      fleetState: runIn(runtime, Effect.flatMap(Fleet.Fleet, (shared) => shared.state))
    }
  })

/** A plain ioredis client for looking at the keys, closed with the scope. */
export const inspector = (url: string): Effect.Effect<Redis, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 })),
    (redis) => Effect.promise(() => redis.quit().catch(() => "closed"))
  )

/** Repeats `check` every 100 ms until it returns `true`, for at most `within`; fails saying `what` otherwise. */
export const eventually = <E, R>(
  what: string,
  check: Effect.Effect<boolean, E, R>,
  within: Duration.DurationInput = "20 seconds"
): Effect.Effect<void, E | Error, R> =>
  Effect.repeat(check, { schedule: Schedule.spaced("100 millis"), until: (ok) => ok }).pipe(
    Effect.timeoutFail({
      duration: Duration.decode(within),
      onTimeout: () => new Error(`${what}: not within ${Duration.format(Duration.decode(within))}`)
    }),
    Effect.asVoid
  )
