/**
 * Support of the resilience tests: a live `IdService` against the in-process reference server with
 * an attempt recorder in its `HttpClient`, its events collected, timed logical calls, and a TCP
 * proxy that tells which connections the client still holds open.
 */
import {
  Cause,
  Chunk,
  Duration,
  Effect,
  Exit,
  Layer,
  Logger,
  LogLevel,
  Option,
  type Redacted,
  Ref,
  type Scope,
  Stream
} from "effect"
import * as net from "node:net"
import { type Attempt, recorder } from "../bench/lib/attemptRecorder.ts"
import { undiciPool } from "../bench/lib/undiciPool.ts"
import * as IdService from "../src/IdService.ts"
import type * as IdServiceConfig from "../src/IdServiceConfig.ts"
import type * as IdServiceError from "../src/IdServiceError.ts"
import type * as Observability from "../src/Observability.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"

export type { Attempt }

/** A live service under test, with what it did. */
export interface Live {
  readonly ids: IdService.Service
  readonly attempts: ReadonlyArray<Attempt>
  readonly events: Effect.Effect<ReadonlyArray<Observability.ClientEvent>>
}

/** Options of {@link live}. */
export interface LiveOptions {
  /** Connect here instead of the server's own URL (a proxy). */
  readonly url?: string | undefined
  /** Send this token instead of the server's. */
  readonly token?: Redacted.Redacted<string> | undefined
  /** undici's idle keep-alive, so idle pooled sockets close quickly (default: undici's 4 s). */
  readonly keepAliveMs?: number | undefined
}

/**
 * A live `IdService` against the reference server in context, in the current scope: no background
 * health checks unless the settings ask for them, every attempt recorded, every event collected.
 */
export const live = (
  settings: IdServiceConfig.Input = {},
  options: LiveOptions = {}
): Effect.Effect<Live, never, ReferenceServer | Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* ReferenceServer
    const { attempts, transformClient } = recorder()
    const context = yield* Layer.build(
      IdService.IdService.layerWith({
        health: { interval: "1 hour" },
        ...settings,
        url: options.url ?? server.url,
        token: options.token ?? server.token,
        transformClient
      }).pipe(Layer.provide(undiciPool(options.keepAliveMs)))
    ).pipe(
      Effect.orDie,
      // the faults are on purpose: the health monitor's warnings about them are noise here
      Logger.withMinimumLogLevel(LogLevel.Error)
    )
    const ids = yield* Effect.provide(IdService.IdService, context)
    const seen = yield* Ref.make(Chunk.empty<Observability.ClientEvent>())
    const started = yield* Effect.makeLatch(false)
    yield* ids.events.pipe(
      Stream.onStart(started.open),
      Stream.runForEach((event) => Ref.update(seen, Chunk.append(event))),
      Effect.forkScoped
    )
    yield* started.await
    yield* Effect.sleep("5 millis") // the merged sources subscribe as they start
    return { ids, attempts, events: Effect.map(Ref.get(seen), Chunk.toReadonlyArray) }
  })

/** One logical mint: how long it took and how it ended. */
export interface Call {
  readonly callId: string
  readonly ms: number
  readonly exit: Exit.Exit<IdService.MintResult, IdServiceError.IdServiceError>
}

/** The typed failure of a call, if it failed with one. */
export const failureOf = (call: Call): IdServiceError.IdServiceError | undefined =>
  Exit.isFailure(call.exit) ? Option.getOrUndefined(Cause.failureOption(call.exit.cause)) : undefined

/** `count` timed mints tagged `metadata.callId = prefix-i`, `concurrency` at a time. */
export const mints = (
  ids: IdService.Service,
  prefix: string,
  count: number,
  concurrency = 1
): Effect.Effect<ReadonlyArray<Call>> =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => `${prefix}-${i}`),
    (callId) =>
      Effect.suspend(() => {
        const start = performance.now()
        return Effect.map(
          Effect.exit(ids.mint({ entityType: "P", metadata: { callId } })),
          (exit): Call => ({ callId, exit, ms: performance.now() - start })
        )
      }),
    { concurrency }
  )

/** IDs minted beyond the first for one group (`null` keys are not counted). */
export const extraPerGroup = (keys: ReadonlyArray<string | null>): number =>
  keys.filter((key) => key !== null).length - new Set(keys.filter((key) => key !== null)).size

/** A TCP proxy in front of a server: which client connections are still open. */
export interface Proxy {
  readonly url: string
  /** Client connections open now. */
  readonly open: () => number
  /** Client connections accepted so far. */
  readonly accepted: () => number
}

/**
 * Starts a TCP proxy to `target` on a free loopback port, in the current scope. A connection the
 * client closes is closed upstream too, so the server sees what the client did.
 */
export const tcpProxy = (target: string): Effect.Effect<Proxy, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.async<{ readonly server: net.Server; readonly clients: Set<net.Socket>; readonly accepted: () => number }>(
        (resume) => {
          const { hostname, port } = new URL(target)
          const clients = new Set<net.Socket>()
          let accepted = 0
          const server = net.createServer((client) => {
            accepted++
            clients.add(client)
            const upstream = net.connect(Number(port), hostname)
            const close = () => {
              clients.delete(client)
              client.destroy()
              upstream.destroy()
            }
            client.pipe(upstream)
            upstream.pipe(client)
            client.on("close", close).on("error", close)
            upstream.on("close", close).on("error", close)
          })
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, clients, accepted: () => accepted })))
        }
      ),
      ({ clients, server }) =>
        Effect.async<void>((resume) => {
          for (const socket of clients) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    ),
    ({ accepted, clients, server }) => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      return { url: `http://127.0.0.1:${port}`, open: () => clients.size, accepted }
    }
  )

/**
 * Runs `effect` every `every` until `done` holds for its value, for at most `within`; returns the
 * last value either way (the caller asserts on it).
 */
export const poll = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  options: { readonly every: Duration.DurationInput; readonly within: Duration.DurationInput }
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const deadline = performance.now() + Duration.toMillis(options.within)
    let value = yield* effect
    while (!done(value) && performance.now() < deadline) {
      yield* Effect.sleep(options.every)
      value = yield* effect
    }
    return value
  })
