/**
 * The `chittyid` command line: its commands, and {@link run}, which runs it on some arguments and
 * answers the exit code — 0 done, 1 a failed operation (one line on stderr: the library's typed
 * error in words, never a stack, never the token), 2 a usage error (unknown command, bad flag value).
 *
 * @since 0.2.0
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as IdServiceError from "../IdServiceError.ts"
import * as Audit from "./Audit.ts"
import { describeConfigError } from "./Client.ts"
import * as Health from "./Health.ts"
import { CliFailure, type Io, UsageError } from "./Io.ts"
import * as Mint from "./Mint.ts"
import * as Parse from "./Parse.ts"
import * as Serve from "./Serve.ts"
import * as Validate from "./Validate.ts"

/**
 * `chittyid` and its commands.
 *
 * @example
 * ```ts
 * import * as Command from "@effect/cli/Command"
 * import * as Main from "effect-chittyid/cli/Main"
 * Command.getNames(Main.chittyid) // Set { "chittyid" }
 * ```
 *
 * @since 0.2.0
 * @category commands
 */
export const chittyid = Command.make("chittyid").pipe(
  Command.withDescription("Mint, validate and take apart ChittyIDs; run the reference server; verify a mint audit log"),
  Command.withSubcommands([
    Mint.command,
    Validate.command,
    Parse.command,
    Health.command,
    Serve.command,
    Audit.command
  ])
)

/**
 * Any failure of a command, in one line (without the `chittyid:` prefix).
 *
 * @example
 * ```ts
 * import * as Main from "effect-chittyid/cli/Main"
 * import { CircuitOpen } from "effect-chittyid/IdServiceError"
 * Main.describeFailure(new CircuitOpen({ message: "the breaker is open" }))
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export const describeFailure = (error: unknown): string => {
  if (Schema.is(IdServiceError.IdServiceError)(error)) {
    const key = "idempotencyKey" in error && error.idempotencyKey !== undefined
      ? ` (Idempotency-Key ${error.idempotencyKey})`
      : ""
    return `${error._tag}: ${error.message}${key}`
  }
  if (ConfigError.isConfigError(error)) return describeConfigError(error)
  if (error instanceof CliFailure || error instanceof UsageError) return error.message
  if (error instanceof Error) return `internal error: ${error.message}`
  return `internal error: ${String(error)}`
}

const firstLine = (text: string) => text.split("\n").find((line) => line.trim() !== "")?.trim() ?? text

/**
 * Runs a command (`chittyid`, or `serve` under the name of the alias bin) on its arguments (without
 * `node` and the script) and answers the exit code. What it prints goes through `Console` (stdout:
 * `log`, stderr: `error`); a command's failure is printed here as one line on stderr.
 *
 * @example
 * ```ts
 * import * as Main from "effect-chittyid/cli/Main"
 * const code = Main.runCommand(Main.chittyid, ["parse", "03-1-USA-5537-P-2602-0-38"], { version: "0.2.0" })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const runCommand = <Name extends string, E, A>(
  command: Command.Command<Name, Io | CliApp.CliApp.Environment, E, A>,
  args: ReadonlyArray<string>,
  options: {
    readonly version: string
    /** stdin is a terminal (prompts like `--wizard` need one). */
    readonly interactive?: boolean | undefined
  }
): Effect.Effect<number, never, Io | CliApp.CliApp.Environment> => {
  const [name] = Command.getNames(command)
  const prefix = name ?? "chittyid"
  if (args.includes("--wizard") && options.interactive !== true) {
    return Effect.as(Console.error(`${prefix}: --wizard asks questions and needs a terminal on stdin`), 2)
  }
  return Command.run(command, { name: prefix, version: options.version, executable: prefix })(["node", prefix, ...args])
    .pipe(
      Effect.as(0),
      // Logs (and --log-level) go to stderr: stdout is for machine output only.
      Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
      Effect.catchAllCause((cause) => {
        const failure = Cause.failureOption(cause)
        if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) {
          // @effect/cli has printed the error (with help where it helps).
          return Effect.succeed(2)
        }
        const error = Option.isSome(failure) ? failure.value : Cause.squash(cause)
        const code = error instanceof UsageError ? 2 : 1
        return Effect.as(Console.error(`${prefix}: ${firstLine(describeFailure(error))}`), code)
      })
    )
}

/**
 * Runs `chittyid` on its arguments (without `node` and the script) and answers the exit code.
 *
 * @example
 * ```ts
 * import * as Main from "effect-chittyid/cli/Main"
 * const code = Main.run(["mint", "--type", "person"], { version: "0.2.0" })
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const run = (
  args: ReadonlyArray<string>,
  options: { readonly version: string; readonly interactive?: boolean | undefined }
): Effect.Effect<number, never, Io | CliApp.CliApp.Environment> => runCommand(chittyid, args, options)
