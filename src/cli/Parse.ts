/**
 * `chittyid parse <ID>`: the parts of an ID in words, or the rule it broke (exit 1). No network.
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ChittyId from "../ChittyId.ts"
import { CliFailure } from "./Io.ts"

/**
 * The parts of an ID with the names of its codes (region, entity type, trust level).
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * import * as Parse from "effect-chittyid/cli/Parse"
 * Parse.inWords(ChittyId.parseOrThrow("03-1-USA-5537-P-2602-0-38")).regionName // "North America"
 * ```
 *
 * @since 0.2.0
 * @category output
 */
export const inWords = (parts: ChittyId.Parts) => ({
  ...parts,
  regionName: parts.kind === "fallback" ? "none (a fallback placeholder)" : ChittyId.regions[parts.region],
  entityTypeName: ChittyId.entityTypeWords[parts.entityType],
  trustLevelName: ChittyId.trustLevels[parts.trustLevel]
})

/**
 * The lines of the human-readable answer: `label  value`, aligned.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * import * as Parse from "effect-chittyid/cli/Parse"
 * Parse.lines(ChittyId.parseOrThrow("03-0-ERR-0001-T-2602-0-25")) // [..., "error code    0001 MINT_UNAVAILABLE", ...]
 * ```
 *
 * @since 0.2.0
 * @category output
 */
export const lines = (parts: ChittyId.Parts): ReadonlyArray<string> => {
  const words = inWords(parts)
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["id", parts.id],
    ["kind", parts.kind === "fallback" ? "fallback (a placeholder, not a permanent ID)" : "permanent"],
    ["version", parts.version],
    ["region", `${parts.region} (${words.regionName})`],
    ["jurisdiction", parts.jurisdiction],
    ...(parts.kind === "fallback"
      ? [["error code", `${parts.sequence} ${parts.errorCode}`] as const]
      : [["sequence", parts.sequence] as const]),
    ["entity type", `${parts.entityType} (${words.entityTypeName})`],
    ["year-month", `${parts.yearMonth} (${parts.year}-${String(parts.month).padStart(2, "0")})`],
    ["trust level", `${parts.trustLevel} (${words.trustLevelName})`],
    ["check number", `${parts.checkNumber} (verifies)`]
  ]
  return rows.map(([label, value]) => `${label.padEnd(14)}${value}`)
}

/**
 * The `parse` command.
 *
 * @example
 * ```sh
 * chittyid parse 03-1-USA-5537-P-2602-0-38
 * ```
 *
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make("parse", {
  id: Args.text({ name: "ID" }).pipe(Args.withDescription("The ID to take apart")),
  json: Options.boolean("json").pipe(Options.withDescription("One JSON object"))
}, ({ id, json }) =>
  Either.match(ChittyId.parse(id), {
    onLeft: (error) => Effect.fail(new CliFailure({ message: `${error.message} (rule: ${error.rule})` })),
    onRight: (parts) => json ? Console.log(JSON.stringify(inWords(parts))) : Console.log(lines(parts).join("\n"))
  })).pipe(Command.withDescription("Take an ID apart: its parts in words (no network)"))
