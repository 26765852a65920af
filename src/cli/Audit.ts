/**
 * `chittyid audit verify <file>`: checks a mint audit log (`MintAudit`) line by line, streamed:
 * exit 0 when intact (its entries and last hash on stdout), 1 when broken (the first broken line and
 * why on stderr) or unreadable. No network.
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as PlatformError from "@effect/platform/Error"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { MintAudit, type Verification } from "../MintAudit.ts"
import { CliFailure } from "./Io.ts"

/**
 * A file that cannot be read, in words.
 *
 * @example
 * ```ts
 * import { SystemError } from "@effect/platform/Error"
 * import * as Audit from "effect-chittyid/cli/Audit"
 * Audit.describeReadError("mints.jsonl", new SystemError({ reason: "NotFound", module: "FileSystem", method: "stream" }))
 * // "cannot read mints.jsonl: no such file"
 * ```
 *
 * @since 0.2.0
 * @category output
 */
export const describeReadError = (file: string, error: PlatformError.PlatformError): string =>
  `cannot read ${file}: ${
    error._tag === "SystemError" && error.reason === "NotFound"
      ? "no such file"
      : error._tag === "SystemError" && error.reason === "PermissionDenied"
      ? "permission denied"
      : error.message
  }`

/**
 * The lines of the answer for an intact log: `label  value`, aligned.
 *
 * @example
 * ```ts
 * import * as Audit from "effect-chittyid/cli/Audit"
 * Audit.lines({ entries: 0, ok: true }) // ["intact        0 entries"]
 * ```
 *
 * @since 0.2.0
 * @category output
 */
export const lines = (result: Verification): ReadonlyArray<string> => [
  `${result.ok ? "intact" : "broken"}        ${result.entries} ${result.entries === 1 ? "entry" : "entries"}`,
  ...(result.lastHash === undefined ? [] : [`last hash     ${result.lastHash}`])
]

/**
 * `audit verify`.
 *
 * @example
 * ```sh
 * chittyid audit verify /var/log/chittyid/mints.jsonl
 * ```
 *
 * @since 0.2.0
 * @category commands
 */
export const verify = Command.make("verify", {
  file: Args.text({ name: "file" }).pipe(Args.withDescription("The audit log: one JSON line per mint")),
  json: Options.boolean("json").pipe(Options.withDescription("One JSON object: entries, ok, brokenAt, reason"))
}, ({ file, json }) =>
  Effect.gen(function*() {
    const result = yield* MintAudit.verify(file).pipe(
      Effect.mapError((error) => new CliFailure({ message: describeReadError(file, error) }))
    )
    if (json) yield* Console.log(JSON.stringify({ file, ...result }))
    else if (result.ok) yield* Console.log(lines(result).join("\n"))
    if (!result.ok) {
      return yield* Effect.fail(
        new CliFailure({
          message: `${file} is broken at line ${result.brokenAt}: ${result.reason} (${
            result.entries === 1 ? "the 1 line before it is" : `the ${result.entries} lines before it are`
          } intact)`
        })
      )
    }
  })).pipe(
    Command.withDescription("Check a mint audit log's hash chain (streamed): exit 0 intact, 1 broken or unreadable")
  )

/**
 * The `audit` command and its subcommands.
 *
 * @example
 * ```sh
 * chittyid audit verify mints.jsonl --json
 * ```
 *
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make("audit").pipe(
  Command.withDescription("The mint audit log (MintAudit): verify one"),
  Command.withSubcommands([verify])
)
