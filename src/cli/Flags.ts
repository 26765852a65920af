/**
 * Flag builders shared by the commands: each bad value is a usage error (exit 2) that names its flag.
 *
 * @since 0.2.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"

/**
 * A usage error in one sentence.
 *
 * @example
 * ```ts
 * import * as Flags from "effect-chittyid/cli/Flags"
 * Flags.invalid("--port must be from 0 to 65535, got 70000")
 * ```
 *
 * @since 0.2.0
 * @category errors
 */
export const invalid = (message: string): ValidationError.ValidationError =>
  ValidationError.invalidValue(HelpDoc.p(message))

/**
 * An integer flag within bounds.
 *
 * @example
 * ```ts
 * import * as Flags from "effect-chittyid/cli/Flags"
 * const port = Flags.integerBetween("port", 0, 65_535)
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const integerBetween = (name: string, min: number, max: number): Options.Options<number> =>
  Options.integer(name).pipe(
    Options.mapEffect((n) =>
      n >= min && n <= max
        ? Effect.succeed(n)
        : Effect.fail(invalid(`--${name} must be from ${min} to ${max}, got ${n}`))
    )
  )

/**
 * A flag taking one of some words, each standing for a value; a wrong word names the flag and the
 * choices (@effect/cli's own choice error names neither).
 *
 * @example
 * ```ts
 * import * as Flags from "effect-chittyid/cli/Flags"
 * const profile = Flags.oneOf("profile", [["strict", "strict"], ["live", "live"]] as const)
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const oneOf = <A>(name: string, choices: ReadonlyArray<readonly [string, A]>): Options.Options<A> => {
  const words = choices.map(([word]) => word)
  return Options.text(name).pipe(
    Options.withPseudoName(words.join("|")),
    Options.mapEffect((word) => {
      const found = choices.find(([w]) => w === word)
      return found === undefined
        ? Effect.fail(invalid(`--${name} must be one of ${words.join(", ")}, got ${JSON.stringify(word)}`))
        : Effect.succeed(found[1])
    })
  )
}
