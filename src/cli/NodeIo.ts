/**
 * The `chittyid` commands on a Node process: stdin read on demand a chunk at a time (split into
 * lines), stdout and stderr written synchronously line by line, colours only to a terminal without
 * `NO_COLOR`.
 *
 * @since 0.2.0
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { CliFailure, colorEnabled, Io, makeConsole } from "./Io.ts"

/**
 * Writes, then waits for the stream to drain if its buffer is full: a slow reader slows the writer
 * instead of the output piling up in memory. A closed reader (`chittyid validate | head`) ends the
 * process quietly (see {@link layer}), so the wait never hangs.
 */
const write = (stream: NodeJS.WriteStream, text: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (stream.write(text)) resume(Effect.void)
    else stream.once("drain", () => resume(Effect.void))
  })

/** The reader of stdout or stderr went away (EPIPE): stop at once, without a stack trace. */
const onClosed = (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0)
  throw error
}

/**
 * `Io` and a `Console` over the process's own streams.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as NodeIo from "effect-chittyid/cli/NodeIo"
 * const program = Effect.log("to stderr").pipe(Effect.provide(NodeIo.layer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<Io> = Layer.mergeAll(
  Layer.effectDiscard(Effect.sync(() => {
    process.stdout.on("error", onClosed)
    process.stderr.on("error", onClosed)
  })),
  Layer.succeed(Io, {
    stdinLines: NodeStream.fromReadable<CliFailure, Uint8Array>(
      () => process.stdin,
      (error) => new CliFailure({ message: `cannot read stdin: ${String(error)}` }),
      { closeOnDone: false }
    ).pipe(Stream.decodeText(), Stream.splitLines),
    stdinIsTTY: process.stdin.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    writeStderr: (text) => write(process.stderr, text)
  }),
  Console.setConsole(makeConsole({
    out: (line) => write(process.stdout, `${line}\n`),
    err: (line) => write(process.stderr, `${line}\n`),
    outColor: colorEnabled(process.stdout.isTTY === true, process.env),
    errColor: colorEnabled(process.stderr.isTTY === true, process.env)
  }))
)
