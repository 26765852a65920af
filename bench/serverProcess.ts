/**
 * The reference server in a child process, for runners that must not share an event loop with the
 * server they measure (chaos, benchmarks).
 *
 * `start` spawns `node --import tsx src/bin/serve.ts --port 0` (or, with `built`, the built package's
 * bin `node dist/bin/serve.js`, as users run it), reads the one JSON line the server prints when it
 * listens, and returns its URL and token. The process lives in the caller's `Scope`:
 * closing the scope (normal end, failure, interruption by SIGINT under `NodeRuntime.runMain`) sends
 * SIGTERM to its process group and waits for it to exit.
 *
 * @example
 * ```ts
 * import { NodeContext, NodeRuntime } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import * as ServerProcess from "./serverProcess.ts"
 *
 * Effect.gen(function*() {
 *   const server = yield* ServerProcess.start({ seed: 42 })
 *   yield* Effect.log(`listening on ${server.url}`)
 * }).pipe(Effect.scoped, Effect.provide(NodeContext.layer), NodeRuntime.runMain)
 * ```
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { fileURLToPath } from "node:url"

/** The running server. */
export interface ServerProcess {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  readonly token: Redacted.Redacted<string>
  readonly pid: number
}

/** Options of {@link start}. All optional. */
export interface Options {
  /** Seed of the server's fault PRNG (default 42, so runs repeat). */
  readonly seed?: number | undefined
  /** Bearer token the server requires (default: a random UUID). Passed in the environment, not argv. */
  readonly token?: Redacted.Redacted<string> | undefined
  /** More flags of `npm run serve` (faults in force from the start, body limit, …). */
  readonly args?: ReadonlyArray<string> | undefined
  /** Flags of `node` itself, before the script (`--cpu-prof`, …). */
  readonly nodeArgs?: ReadonlyArray<string> | undefined
  /**
   * Run the built package's server (`dist/bin/serve.js`, what users run; `npm run build` first)
   * instead of the sources through tsx (default).
   */
  readonly built?: boolean | undefined
  /** Give up when the server has not printed its line by then (default 20 s: tsx compiles on start). */
  readonly startTimeout?: Duration.DurationInput | undefined
}

/** The server could not be started, or died before it listened. */
export class ServerProcessError extends Data.TaggedError("ServerProcessError")<{
  readonly message: string
}> {}

/** The repository root: the server's script is resolved from here, whatever the caller's cwd. */
const root = fileURLToPath(new URL("..", import.meta.url))

const Ready = Schema.parseJson(Schema.Struct({ url: Schema.String, token: Schema.optional(Schema.String) }))

/** Keeps the last few KiB of a stream of text (the child's stderr, for error messages). */
const tail = (text: string, chunk: string): string => (text + chunk).slice(-4096)

/**
 * Starts the reference server in a child process, in the current scope.
 */
export const start = (
  options: Options = {}
): Effect.Effect<ServerProcess, ServerProcessError, CommandExecutor.CommandExecutor | Scope.Scope> =>
  Effect.gen(function*() {
    const token = options.token ?? Redacted.make(randomUUID())
    const command = Command.make(
      process.execPath,
      ...(options.nodeArgs ?? []),
      ...(options.built === true ? ["dist/bin/serve.js"] : ["--import", "tsx", "src/bin/serve.ts"]),
      "--port",
      "0",
      "--seed",
      String(options.seed ?? 42),
      ...(options.args ?? [])
    ).pipe(
      Command.workingDirectory(root),
      Command.env({ CHITTY_ID_TOKEN: Redacted.value(token) })
    )
    const child = yield* Command.start(command).pipe(
      Effect.mapError((error) => new ServerProcessError({ message: `cannot spawn the server: ${error.message}` }))
    )
    const stderr = yield* Ref.make("")
    yield* child.stderr.pipe(
      Stream.decodeText(),
      Stream.runForEach((chunk) => Ref.update(stderr, (text) => tail(text, chunk))),
      Effect.ignore,
      Effect.forkScoped
    )
    // The first stdout line is the server's address; the rest (there should be none) is drained.
    const firstLine = yield* Deferred.make<string>()
    yield* child.stdout.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) => Deferred.succeed(firstLine, line)),
      Effect.ignore,
      Effect.forkScoped
    )
    const died = Effect.flatMap(
      Effect.either(child.exitCode),
      (exit) =>
        Effect.flatMap(Ref.get(stderr), (text) =>
          Effect.fail(
            new ServerProcessError({
              message: `the server exited (${
                Either.isRight(exit) ? `code ${exit.right}` : exit.left.message
              }) before listening: ${text.trim()}`
            })
          ))
    )
    const timeout = Duration.decode(options.startTimeout ?? Duration.seconds(20))
    const line = yield* Effect.raceFirst(Deferred.await(firstLine), died).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new ServerProcessError({ message: `the server printed nothing within ${Duration.format(timeout)}` })
      })
    )
    const ready = yield* Schema.decode(Ready)(line).pipe(
      Effect.mapError(() => new ServerProcessError({ message: `unexpected first line from the server: ${line}` }))
    )
    return { url: ready.url, token, pid: child.pid }
  })
