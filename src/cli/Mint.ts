/**
 * `chittyid mint`: mints IDs with the live `IdService`, many through a bounded-concurrency stream.
 * stdout carries only the IDs (one a line, or NDJSON with `--json`); the progress bar (stderr is a
 * terminal and more than one ID) and the summary go to stderr.
 *
 * @since 0.2.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ChittyId from "../ChittyId.ts"
import { IdService, type MintRequest, type MintResult } from "../IdService.ts"
import type { IdServiceError } from "../IdServiceError.ts"
import * as Client from "./Client.ts"
import { integerBetween, invalid, oneOf } from "./Flags.ts"
import { Io } from "./Io.ts"

const entityType = Options.text("type").pipe(
  Options.withDescription(
    "Entity type: a code (P L T E A), a word (person place thing event authority) or a legacy name (PEO PLACE …)"
  ),
  Options.mapEffect((input) =>
    Option.match(ChittyId.entityTypeOf(input), {
      onNone: () =>
        Effect.fail(
          invalid(`--type must be one of ${ChittyId.entityTypeInputs.join(", ")}; got ${JSON.stringify(input)}`)
        ),
      onSome: Effect.succeed
    })
  )
)

const Metadata = Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Unknown }))

/** An optional one-digit flag whose values are a Schema's literals (region, trust level). */
const digit = <A extends number>(name: string, literals: ReadonlyArray<A>, description: string) =>
  oneOf(name, literals.map((n) => [String(n), n] as const)).pipe(
    Options.withDescription(description),
    Options.optional
  )

const flags = {
  type: entityType,
  count: integerBetween("count", 1, 1_000_000).pipe(
    Options.withAlias("n"),
    Options.withDescription("How many IDs to mint"),
    Options.withDefault(1)
  ),
  region: digit("region", ChittyId.Region.literals, "Region 1–9 (default: the service's, 1)"),
  jurisdiction: Options.text("jurisdiction").pipe(
    Options.withDescription("Three upper-case letters, e.g. USA (default: the service's, USA)"),
    Options.mapEffect((value) =>
      Schema.is(ChittyId.Jurisdiction)(value) && value !== "ERR"
        ? Effect.succeed(value)
        : Effect.fail(
          invalid(`--jurisdiction must be three upper-case letters A–Z (not ERR), got ${JSON.stringify(value)}`)
        )
    ),
    Options.optional
  ),
  trust: digit("trust", ChittyId.TrustLevel.literals, "Trust level 0–5 (default: the service's, 0)"),
  metadata: Options.text("metadata").pipe(
    Options.withDescription("A JSON object stored with each ID"),
    Options.mapEffect((text) =>
      Either.match(Schema.decodeEither(Metadata)(text), {
        onLeft: () =>
          Effect.fail(invalid(`--metadata must be a JSON object, got ${JSON.stringify(text.slice(0, 40))}`)),
        onRight: Effect.succeed
      })
    ),
    Options.optional
  ),
  concurrency: integerBetween("concurrency", 1, 64).pipe(
    Options.withDescription("Mints in flight at most"),
    Options.withDefault(4)
  ),
  json: Options.boolean("json").pipe(Options.withDescription("One JSON object a line (NDJSON) per ID")),
  service: Client.options
}

/**
 * One minted ID as a line of `--json` output.
 *
 * @example
 * ```ts
 * import * as Mint from "effect-chittyid/cli/Mint"
 * const line = (result: Parameters<typeof Mint.toJson>[0]) => JSON.stringify(Mint.toJson(result))
 * ```
 *
 * @since 0.2.0
 * @category output
 */
export const toJson = (result: MintResult): Record<string, unknown> => ({
  chittyId: result.chittyId,
  fallback: result.fallback,
  ...(result.fallback ? { errorCode: result.errorCode, message: result.message } : { timestamp: result.timestamp }),
  parts: result.parts,
  idempotencyKey: result.idempotencyKey
})

const barWidth = 30

/** The progress line: a bar, the count, and `\r` to redraw it in place. */
const progressLine = (done: number, total: number): string => {
  const filled = Math.round((done / total) * barWidth)
  return `\r[${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${done}/${total}`
}

/**
 * The `mint` command.
 *
 * @example
 * ```sh
 * chittyid mint --type person -n 100 --concurrency 8 --json > ids.ndjson
 * ```
 *
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make("mint", flags, (flags) =>
  Effect.gen(function*() {
    const io = yield* Io
    const request: MintRequest = {
      entityType: flags.type,
      region: Option.getOrUndefined(flags.region),
      jurisdiction: Option.getOrUndefined(flags.jurisdiction),
      trustLevel: Option.getOrUndefined(flags.trust),
      metadata: Option.getOrUndefined(flags.metadata)
    }
    const total = flags.count
    const progress = io.stderrIsTTY && total > 1
    let done = 0
    let failure: Option.Option<IdServiceError> = Option.none()
    const ids = yield* IdService
    yield* Stream.range(1, total).pipe(
      Stream.mapEffect(() => Effect.either(ids.mint(request)), { concurrency: flags.concurrency }),
      // The first failure ends the run: mints still in flight are interrupted, none is started.
      Stream.takeUntil(Either.isLeft),
      Stream.runForEach((result) =>
        Either.match(result, {
          onLeft: (error) => Effect.sync(() => (failure = Option.some(error))),
          onRight: (minted) =>
            Effect.zipRight(
              Console.log(flags.json ? JSON.stringify(toJson(minted)) : minted.chittyId),
              Effect.suspend(() => {
                done++
                return progress ? io.writeStderr(progressLine(done, total)) : Effect.void
              })
            )
        })
      )
    )
    if (progress) yield* io.writeStderr("\r\u001b[K")
    if (Option.isSome(failure)) {
      if (total > 1) yield* Console.error(`chittyid mint: minted ${done} of ${total}, then:`)
      return yield* Effect.fail(failure.value)
    }
    if (total > 1) yield* Console.error(`minted ${done} IDs`)
  }).pipe(Effect.provide(Client.layer(flags.service)))).pipe(
    Command.withDescription("Mint IDs with the service ($CHITTY_ID_URL, $CHITTY_ID_TOKEN)")
  )
