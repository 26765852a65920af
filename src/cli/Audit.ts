/**
 * `chittyid audit verify <file>`: checks a mint audit log (`MintAudit`) line by line, streamed:
 * exit 0 when intact (its entries and last hash on stdout), 1 when broken (the first broken line and
 * why on stderr) or unreadable. No network.
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as PlatformError from "@effect/platform/Error"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
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
 * chittyid audit verify /var/log/chittyid/mints.jsonl --anchor 1200:5709b9b09078340b38f7bd891be317d2730b0757a7c39cb4291537b66dbd9ed9
 * ```
 *
 * @since 0.2.0
 * @category commands
 */
export const verify = Command.make("verify", {
  file: Args.text({ name: "file" }).pipe(Args.withDescription("The audit log: one JSON line per mint")),
  json: Options.boolean("json").pipe(Options.withDescription("One JSON object: entries, ok, brokenAt, reason")),
  anchor: Options.text("anchor").pipe(
    Options.withDescription(
      "ENTRIES:HASH from an earlier run (its entries and last hash): that line must still carry that hash"
    ),
    Options.mapEffect((text) => {
      const match = /^([1-9][0-9]{0,15}):([0-9a-f]{64})$/.exec(text)
      return match === null
        ? Effect.fail(
          ValidationError.invalidValue(HelpDoc.p("--anchor: expected ENTRIES:HASH (a count, 64 hex digits)"))
        )
        : Effect.succeed({ entries: Number(match[1]), hash: match[2]! })
    }),
    Options.optional
  )
}, ({ anchor, file, json }) =>
  Effect.gen(function*() {
    const result = yield* MintAudit.verify(file, { anchor: Option.getOrUndefined(anchor) }).pipe(
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
