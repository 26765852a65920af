/**
 * `chittyid validate [IDs…|-]`: validates IDs given as arguments, or one a line from stdin (no IDs,
 * or `-`). stdin is streamed: each chunk of lines is validated and written before the next is read,
 * so a million lines take constant memory. Locally by default (no network, no settings needed);
 * with `--remote`, each locally valid ID is confirmed by the service.
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { IdService, type ValidationResult } from "../IdService.ts"
import * as MintRequest from "../internal/mintRequest.ts"
import * as Client from "./Client.ts"
import { CliFailure, Io } from "./Io.ts"

/**
 * The local answer about one ID: the service's rules, no request (what `IdService.validate` answers
 * without `remote`).
 *
 * @example
 * ```ts
 * import * as Validate from "effect-chittyid/cli/Validate"
 * Validate.local("03-1-USA-5537-P-2602-0-39").rule // "checkNumber"
 * ```
 *
 * @since 0.2.0
 * @category validation
 */
export const local = (id: string): ValidationResult =>
  Either.match(MintRequest.validateLocally(id), {
    onLeft: (answer) => answer,
    onRight: (parts) => MintRequest.permanentAnswer(id, parts, "local")
  })

/**
 * One answer as a line of output: `ID<TAB>valid`, or `ID<TAB>invalid<TAB>rule<TAB>reason`; with
 * `json`, one JSON object (`chittyId`, `valid`, `kind`, `rule`, `reason`, `source`).
 *
 * @example
 * ```ts
 * import * as Validate from "effect-chittyid/cli/Validate"
 * Validate.line(Validate.local("03-1-USA-5537-P-2602-0-38"), false) // "03-1-USA-5537-P-2602-0-38\tvalid"
 * ```
 *
 * @since 0.2.0
 * @category output
 */
export const line = (answer: ValidationResult, json: boolean): string =>
  json
    ? JSON.stringify({
      chittyId: answer.chittyId,
      valid: answer.valid,
      kind: answer.kind,
      rule: answer.rule,
      reason: answer.reason,
      source: answer.source
    })
    : answer.valid
    ? `${answer.chittyId}\tvalid`
    : `${answer.chittyId}\tinvalid\t${answer.rule ?? "service"}\t${answer.reason ?? "refused by the service"}`

/** IDs confirmed with the service at once, at most (`--remote`). */
const remoteConcurrency = 16

/**
 * The `validate` command.
 *
 * @example
 * ```sh
 * chittyid validate 03-1-USA-5537-P-2602-0-38
 * cut -f1 ids.tsv | chittyid validate --json > answers.ndjson
 * ```
 *
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make("validate", {
  ids: Args.text({ name: "ID" }).pipe(
    Args.withDescription("IDs to validate; none, or -, reads one ID a line from stdin"),
    Args.repeated
  ),
  remote: Options.boolean("remote").pipe(Options.withDescription("Confirm locally valid IDs with the service")),
  json: Options.boolean("json").pipe(Options.withDescription("One JSON object a line (NDJSON) per ID")),
  service: Client.options
}, ({ ids, json, remote, service }) =>
  Effect.gen(function*() {
    const io = yield* Io
    const fromStdin = ids.length === 0 || ids.includes("-")
    if (fromStdin && io.stdinIsTTY) yield* Console.error("reading IDs from stdin, one a line (end with Ctrl-D)")
    const inputs: Stream.Stream<string, CliFailure> = ids.length === 0
      ? io.stdinLines
      : Stream.fromIterable(ids).pipe(Stream.flatMap((id) => id === "-" ? io.stdinLines : Stream.make(id)))
    let checked = 0
    let invalid = 0
    const write = (answers: Chunk.Chunk<ValidationResult>) =>
      Effect.suspend(() => {
        checked += answers.length
        const out: Array<string> = []
        for (const answer of answers) {
          if (!answer.valid) invalid++
          out.push(line(answer, json))
        }
        return out.length === 0 ? Effect.void : Console.log(out.join("\n"))
      })
    if (remote) {
      yield* inputs.pipe(
        Stream.mapEffect((id) => IdService.pipe(Effect.flatMap((s) => s.validate(id, { remote: true }))), {
          concurrency: remoteConcurrency
        }),
        Stream.runForEachChunk(write),
        Effect.provide(Client.layer(service))
      )
    } else {
      yield* inputs.pipe(Stream.map(local), Stream.runForEachChunk(write))
    }
    if (invalid > 0) {
      return yield* Effect.fail(new CliFailure({ message: `${invalid} of ${checked} IDs are not valid` }))
    }
    if (checked === 0) yield* Console.error("no IDs given")
  })).pipe(Command.withDescription("Validate IDs (arguments, or one a line from stdin); exit 1 if any is not valid"))
