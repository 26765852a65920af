/**
 * What the `chittyid` commands need of the process around them, as one service so a test can run
 * a command in process: the lines of stdin, whether stderr is a terminal (progress is drawn only
 * there), and a raw stderr writer for that progress. Lines of output go through Effect's `Console`
 * ({@link makeConsole}): `Console.log` is stdout (machine output), `Console.error` is stderr.
 *
 * @since 0.2.0
 */
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import { format } from "node:util"

/**
 * A failure of a command, already said in words: printed as one line on stderr, exit code 1.
 *
 * @example
 * ```ts
 * import { CliFailure } from "effect-chittyid/cli/Io"
 * new CliFailure({ message: "2 of 3 IDs are invalid" })
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export class CliFailure extends Data.TaggedError("CliFailure")<{ readonly message: string }> {}

/**
 * A bad flag value found after parsing (a usage error): one line on stderr, exit code 2.
 *
 * @since 0.2.0
 * @category errors
 */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/**
 * The process around a command.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /** stdin, one element a line (without the line break), read on demand. */
  readonly stdinLines: Stream.Stream<string, CliFailure>
  /** stdin is a terminal: nobody is piping IDs in. */
  readonly stdinIsTTY: boolean
  /** stderr is a terminal: progress may be drawn. */
  readonly stderrIsTTY: boolean
  /** Writes to stderr as is (no line break added): for a progress line redrawn in place. */
  readonly writeStderr: (text: string) => Effect.Effect<void>
}

/**
 * @since 0.2.0
 * @category tags
 */
export class Io extends Context.Tag("effect-chittyid/cli/Io")<Io, Service>() {}

const ansi = /\u001b\[[0-9;?]*[A-Za-z]/g

/**
 * Removes ANSI escape sequences (colours, cursor moves) from a text.
 *
 * @since 0.2.0
 * @category utils
 */
export const stripAnsi = (text: string): string => text.replace(ansi, "")

/**
 * Colour on a stream: only to a terminal, and never when `NO_COLOR` is set (to anything but "").
 *
 * @since 0.2.0
 * @category utils
 */
export const colorEnabled = (isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean =>
  isTTY && (env["NO_COLOR"] === undefined || env["NO_COLOR"] === "") && env["TERM"] !== "dumb"

/**
 * Where the lines of a `Console` go. A writer may wait (for a pipe to drain): `Console.log` waits
 * with it, which is what keeps a long output in constant memory when the reader is slow.
 *
 * @since 0.2.0
 * @category models
 */
export interface Sinks {
  /** Writes one line (without its line break) to stdout. */
  readonly out: (line: string) => Effect.Effect<void>
  /** Writes one line (without its line break) to stderr. */
  readonly err: (line: string) => Effect.Effect<void>
  /** Keep colours on stdout (else they are stripped). */
  readonly outColor: boolean
  /** Keep colours on stderr (else they are stripped). */
  readonly errColor: boolean
}

/**
 * A `Console` whose `log`/`info` go to stdout and `error`/`warn`/`debug`/`trace` to stderr, stripped
 * of colour where colour is off. @effect/cli prints its help and errors through `Console`, so this is
 * also what keeps its colours off a pipe.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { makeConsole } from "effect-chittyid/cli/Io"
 * const lines: Array<string> = []
 * const captured = makeConsole({
 *   out: (line) => Effect.sync(() => lines.push(line)),
 *   err: (line) => Effect.sync(() => lines.push(`! ${line}`)),
 *   outColor: false,
 *   errColor: false
 * })
 * Effect.runSync(Console.log("hello").pipe(Effect.withConsole(captured)))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeConsole = (sinks: Sinks): Console.Console => {
  const toOut = (...args: ReadonlyArray<unknown>) =>
    Effect.suspend(() => {
      const text = format(...args)
      return sinks.out(sinks.outColor ? text : stripAnsi(text))
    })
  const toErr = (...args: ReadonlyArray<unknown>) =>
    Effect.suspend(() => {
      const text = format(...args)
      return sinks.err(sinks.errColor ? text : stripAnsi(text))
    })
  // The unsafe side (the Logger's) cannot wait: its line is written at once, a wait runs detached.
  const unsafeOut = (...args: ReadonlyArray<unknown>) => void Effect.runFork(toOut(...args))
  const unsafeErr = (...args: ReadonlyArray<unknown>) => void Effect.runFork(toErr(...args))
  const unsafe: Console.UnsafeConsole = {
    ...globalThis.console,
    log: unsafeOut,
    info: unsafeOut,
    error: unsafeErr,
    warn: unsafeErr,
    debug: unsafeErr,
    trace: unsafeErr
  }
  return {
    ...Effect.runSync(Console.consoleWith(Effect.succeed)),
    log: toOut,
    info: toOut,
    error: toErr,
    warn: toErr,
    debug: toErr,
    trace: toErr,
    unsafe
  }
}
