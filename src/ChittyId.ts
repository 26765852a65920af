/**
 * The ChittyID format, exactly as the live ChittyID service validates it.
 *
 * `VV-G-LLL-SSSS-T-YM-C-X`: version, region, jurisdiction, sequence, entity type, year-month, trust
 * level and the service's mod-97 check number. This module is the single source of truth for the
 * format: the client, the reference server and every test use these Schemas.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 *
 * const id = Schema.decodeUnknownSync(ChittyId.ChittyId)("03-1-USA-5537-P-2602-0-38")
 * const parts = ChittyId.parseOrThrow(id) // { kind: "permanent", region: 1, jurisdiction: "USA", ... }
 * ```
 *
 * @since 0.1.0
 */
import * as Arbitrary from "effect/Arbitrary"
import type * as Brand from "effect/Brand"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import type * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { withoutStack } from "./internal/noStack.ts"

// -----------------------------------------------------------------------------
// Entity types
// -----------------------------------------------------------------------------

/**
 * The one-letter entity type codes that appear inside an ID.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.entityTypeCodes // ["P", "L", "T", "E", "A"]
 * ```
 *
 * @since 0.1.0
 * @category entity types
 */
export const entityTypeCodes = ["P", "L", "T", "E", "A"] as const

/**
 * @since 0.1.0
 * @category entity types
 */
export type EntityTypeCode = typeof entityTypeCodes[number]

/**
 * Schema of an entity type code (`P`, `L`, `T`, `E`, `A`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * Schema.is(ChittyId.EntityTypeCode)("P") // true
 * ```
 *
 * @since 0.1.0
 * @category entity types
 */
export const EntityTypeCode: Schema.Literal<typeof entityTypeCodes> = Schema.Literal(...entityTypeCodes)

/**
 * The word for each entity type code, as accepted in mint requests.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.entityTypeWords.P // "person"
 * ```
 *
 * @since 0.1.0
 * @category entity types
 */
export const entityTypeWords = {
  P: "person",
  L: "place",
  T: "thing",
  E: "event",
  A: "authority"
} as const satisfies Record<EntityTypeCode, string>

/**
 * @since 0.1.0
 * @category entity types
 */
export type EntityTypeWord = typeof entityTypeWords[EntityTypeCode]

/**
 * The legacy entity names of the older API, and the code each maps to.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.legacyEntityNames.PEO // "P"
 * ```
 *
 * @since 0.1.0
 * @category entity types
 */
export const legacyEntityNames = {
  PEO: "P",
  PLACE: "L",
  PROP: "T",
  EVNT: "E",
  AUTH: "A",
  INFO: "T",
  FACT: "T",
  CONTEXT: "P",
  ACTOR: "P"
} as const satisfies Record<string, EntityTypeCode>

/**
 * @since 0.1.0
 * @category entity types
 */
export type LegacyEntityName = keyof typeof legacyEntityNames

/**
 * Everything a mint request may name as its entity type: a code, a word or a legacy name.
 *
 * @since 0.1.0
 * @category entity types
 */
export type EntityTypeInput = EntityTypeCode | EntityTypeWord | LegacyEntityName

const entityTypeByInput: ReadonlyMap<string, EntityTypeCode> = new Map<string, EntityTypeCode>([
  ...entityTypeCodes.map((code) => [code, code] as const),
  ...entityTypeCodes.map((code) => [entityTypeWords[code], code] as const),
  ...Object.entries(legacyEntityNames)
])

/**
 * Every accepted entity type input, codes first, then words, then legacy names.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.entityTypeInputs.length // 19
 * ```
 *
 * @since 0.1.0
 * @category entity types
 */
export const entityTypeInputs: ReadonlyArray<EntityTypeInput> = Array.from(
  entityTypeByInput.keys()
) as Array<EntityTypeInput>

/**
 * Schema of an entity type as a request names it (code, word or legacy name); decodes to the code.
 * Matching is exact: `"person"` and `"P"` are accepted, `"Person"` is not.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * Schema.decodeUnknownSync(ChittyId.EntityType)("PEO") // "P"
 * ```
 *
 * @since 0.1.0
 * @category entity types
 */
export const EntityType: Schema.Schema<EntityTypeCode, string> = Schema.transformOrFail(
  Schema.String,
  EntityTypeCode,
  {
    strict: true,
    decode: (input, _, ast) => {
      const code = entityTypeByInput.get(input)
      return code === undefined
        ? Either.left(
          new ParseResult.Type(
            ast,
            input,
            `unknown entity type ${JSON.stringify(input.slice(0, 32))}: expected one of ${entityTypeInputs.join(", ")}`
          )
        )
        : Either.right(code)
    },
    encode: (code) => Either.right(code)
  }
).annotations({ identifier: "EntityType" })

/**
 * Maps a code, word or legacy name to its entity type code.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.entityTypeOf("authority") // Option.some("A")
 * ```
 *
 * @since 0.1.0
 * @category entity types
 */
export const entityTypeOf = (input: string): Option.Option<EntityTypeCode> =>
  Option.fromNullable(entityTypeByInput.get(input))

// -----------------------------------------------------------------------------
// Regions and trust levels
// -----------------------------------------------------------------------------

/**
 * Regions of a permanent ID (1–9) and their names.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.regions[3] // "Europe"
 * ```
 *
 * @since 0.1.0
 * @category regions
 */
export const regions = {
  1: "North America",
  2: "South America",
  3: "Europe",
  4: "Asia",
  5: "Africa",
  6: "Oceania",
  7: "Antarctica",
  8: "International Waters",
  9: "Digital/Virtual"
} as const

/**
 * @since 0.1.0
 * @category regions
 */
export type Region = keyof typeof regions

/**
 * Schema of a region number (1–9).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * Schema.is(ChittyId.Region)(9) // true
 * ```
 *
 * @since 0.1.0
 * @category regions
 */
export const Region: Schema.Literal<[1, 2, 3, 4, 5, 6, 7, 8, 9]> = Schema.Literal(1, 2, 3, 4, 5, 6, 7, 8, 9)

/**
 * Trust levels (0–5) and their names.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.trustLevels[3] // "Verified"
 * ```
 *
 * @since 0.1.0
 * @category trust levels
 */
export const trustLevels = {
  0: "Unverified",
  1: "Basic",
  2: "Standard",
  3: "Verified",
  4: "Premium",
  5: "Official"
} as const

/**
 * @since 0.1.0
 * @category trust levels
 */
export type TrustLevel = keyof typeof trustLevels

/**
 * Schema of a trust level (0–5).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * Schema.is(ChittyId.TrustLevel)(5) // true
 * ```
 *
 * @since 0.1.0
 * @category trust levels
 */
export const TrustLevel: Schema.Literal<[0, 1, 2, 3, 4, 5]> = Schema.Literal(0, 1, 2, 3, 4, 5)

/**
 * Schema of a jurisdiction: three upper-case ASCII letters (ISO 3166 alpha-3 style).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * Schema.is(ChittyId.Jurisdiction)("GBR") // true
 * ```
 *
 * @since 0.1.0
 * @category regions
 */
export const Jurisdiction: Schema.filter<typeof Schema.String> = Schema.String.pipe(
  Schema.filter((s) =>
    isUpperLetters(s, 0, s.length) && s.length === 3 || "jurisdiction must be three upper-case letters A–Z"
  ),
  Schema.annotations({ identifier: "Jurisdiction" })
)

// -----------------------------------------------------------------------------
// Fallback error codes
// -----------------------------------------------------------------------------

/**
 * The error codes the service writes into the sequence of a fallback ID.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.fallbackErrorCodes["0001"] // "MINT_UNAVAILABLE"
 * ```
 *
 * @since 0.1.0
 * @category fallback
 */
export const fallbackErrorCodes = {
  "0001": "MINT_UNAVAILABLE",
  "0002": "MINT_TIMEOUT",
  "0003": "MINT_REJECTED",
  "0004": "DRAND_UNAVAILABLE",
  "0005": "CERT_UNAVAILABLE",
  "0006": "TRUST_UNAVAILABLE",
  "0007": "RATE_LIMITED",
  "0008": "INVALID_REQUEST",
  "0099": "INTERNAL_ERROR"
} as const

/**
 * A fallback error code name; `UNKNOWN` for a sequence the table does not list.
 *
 * @since 0.1.0
 * @category fallback
 */
export type FallbackErrorCode = typeof fallbackErrorCodes[keyof typeof fallbackErrorCodes] | "UNKNOWN"

const fallbackSequenceByCode: ReadonlyMap<string, string> = new Map(
  Object.entries(fallbackErrorCodes).map(([sequence, code]) => [code, sequence])
)

// -----------------------------------------------------------------------------
// Check number
// -----------------------------------------------------------------------------

/**
 * The service's mod-97 check number over the first seven segments (joined with or without dashes;
 * dashes are skipped). Digits fold as `c = (c*10 + d) mod 97`, letters as `c = (c*100 + (code − 55))
 * mod 97`; the result is `(98 − c) mod 97` as two digits. Not textbook ISO 7064.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.checkNumber("03-1-USA-5537-P-2602-0") // "38"
 * ```
 *
 * @since 0.1.0
 * @category check number
 */
export const checkNumber = (body: string): string => {
  let c = 0
  for (let i = 0; i < body.length; i++) {
    const code = body.charCodeAt(i)
    if (code >= 48 && code <= 57) {
      c = (c * 10 + (code - 48)) % 97
    } else if (code >= 65 && code <= 90) {
      c = (c * 100 + (code - 55)) % 97
    }
  }
  const x = (98 - c) % 97
  return x < 10 ? `0${x}` : String(x)
}

// -----------------------------------------------------------------------------
// Parsing
// -----------------------------------------------------------------------------

/**
 * The rule an input broke. `reason` of {@link InvalidChittyId} says it in words.
 *
 * @since 0.1.0
 * @category errors
 */
export type Rule =
  | "type"
  | "length"
  | "segments"
  | "version"
  | "region"
  | "jurisdiction"
  | "sequence"
  | "entityType"
  | "yearMonth"
  | "trustLevel"
  | "checkNumber"
  /** Not broken by `parse` (kept for `validate`'s answer about a placeholder): a fallback is not a permanent ID. */
  | "fallback"

/**
 * Why an input is not a ChittyID: the rule that failed and a sentence a person reads.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * const result = ChittyId.parse("03-1-USA-5537-P-2602-0-39")
 * if (Either.isLeft(result)) result.left.rule // "checkNumber"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidChittyId extends Data.TaggedError("InvalidChittyId")<{
  /** The input, cut to 64 characters. */
  readonly input: string
  readonly rule: Rule
  readonly reason: string
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Invalid ChittyID ${JSON.stringify(this.input)}: ${this.reason}`
  }
}

interface CommonParts {
  readonly id: string
  readonly version: string
  readonly jurisdiction: string
  readonly sequence: string
  readonly entityType: EntityTypeCode
  readonly yearMonth: string
  /** 2000 + YY. */
  readonly year: number
  /** MM as written: the service checks only that it is two digits. */
  readonly month: number
  readonly checkNumber: string
}

/**
 * The parts of a permanent ChittyID.
 *
 * @since 0.1.0
 * @category parsing
 */
export interface PermanentParts extends CommonParts {
  readonly kind: "permanent"
  readonly region: Region
  readonly trustLevel: TrustLevel
}

/**
 * The parts of a fallback (placeholder) ID: region `0`, jurisdiction `ERR`, the sequence carries an
 * error code.
 *
 * @since 0.1.0
 * @category parsing
 */
export interface FallbackParts extends CommonParts {
  readonly kind: "fallback"
  readonly region: 0
  readonly trustLevel: TrustLevel
  readonly errorCode: FallbackErrorCode
}

/**
 * @since 0.1.0
 * @category parsing
 */
export type Parts = PermanentParts | FallbackParts

/** Length of every well-formed ID; inputs longer than this are rejected before any splitting. */
const ID_LENGTH = 25
const MAX_INPUT = 64

const isDigits = (s: string, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

const isUpperLetters = (s: string, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c < 65 || c > 90) return false
  }
  return true
}

const fail = (input: string, rule: Rule, reason: string): Either.Either<never, InvalidChittyId> =>
  Either.left(
    withoutStack(() =>
      new InvalidChittyId({ input: input.length > MAX_INPUT ? `${input.slice(0, MAX_INPUT)}…` : input, rule, reason })
    )
  )

const segment = (name: string, value: string, expected: string): string =>
  `${name} must be ${expected}, got ${JSON.stringify(value.length > 16 ? value.slice(0, 16) + "…" : value)}`

/**
 * Parses an input into the parts of a permanent or a fallback ID, applying exactly the service's
 * rules (no trimming, no case folding; length bounded first). A rejection names the rule that failed.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.parse("03-0-ERR-0001-T-2602-0-25") // Either.right({ kind: "fallback", errorCode: "MINT_UNAVAILABLE", ... })
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: string): Either.Either<Parts, InvalidChittyId> => {
  // A mint answer's ID is parsed by its Schema's filter and then by the client: the second parse of
  // the same string is the first one's result (immutable), not a second parse.
  if (input === lastParsed.input && lastParsed.result !== undefined) return lastParsed.result
  const result = parseUncached(input)
  lastParsed.input = input
  lastParsed.result = result
  return result
}

const lastParsed: { input: string | undefined; result: Either.Either<Parts, InvalidChittyId> | undefined } = {
  input: undefined,
  result: undefined
}

const parseUncached = (input: string): Either.Either<Parts, InvalidChittyId> => {
  if (typeof input !== "string") return fail(String(input), "type", "a ChittyID must be a string")
  if (input.length === 0) return fail(input, "length", "the input is empty")
  if (input.length > MAX_INPUT) {
    return fail(input, "length", `the input is ${input.length} characters long; a ChittyID has ${ID_LENGTH}`)
  }
  const s = input.split("-")
  if (s.length !== 8) {
    return fail(
      input,
      "segments",
      `a ChittyID has 8 dash-separated segments (VV-G-LLL-SSSS-T-YM-C-X), got ${s.length}`
    )
  }
  const [version, region, jurisdiction, sequence, entityType, yearMonth, trust, check] = s as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string
  ]
  if (version.length !== 2 || !isDigits(version, 0, 2)) {
    return fail(input, "version", segment("version (VV)", version, "two digits"))
  }
  if (region.length !== 1 || !isDigits(region, 0, 1)) {
    return fail(input, "region", segment("region (G)", region, "one digit 1–9"))
  }
  if (jurisdiction.length !== 3 || !isUpperLetters(jurisdiction, 0, 3)) {
    return fail(input, "jurisdiction", segment("jurisdiction (LLL)", jurisdiction, "three upper-case letters A–Z"))
  }
  if (sequence.length !== 4 || !isDigits(sequence, 0, 4)) {
    return fail(input, "sequence", segment("sequence (SSSS)", sequence, "four digits"))
  }
  const code = entityType.length === 1 ? entityTypeByCode.get(entityType) : undefined
  if (code === undefined) {
    const legacy = entityTypeByInput.get(entityType)
    return fail(
      input,
      "entityType",
      legacy === undefined
        ? segment("entity type (T)", entityType, "one of P, L, T, E, A")
        : `entity type (T) must be a one-letter code; ${JSON.stringify(entityType)} is a request name for ${legacy}`
    )
  }
  if (yearMonth.length !== 4 || !isDigits(yearMonth, 0, 4)) {
    return fail(input, "yearMonth", segment("year-month (YM)", yearMonth, "four digits YYMM"))
  }
  if (trust.length !== 1 || !isDigits(trust, 0, 1) || trust > "5") {
    return fail(input, "trustLevel", segment("trust level (C)", trust, "one digit 0–5"))
  }
  if (check.length !== 2 || !isDigits(check, 0, 2)) {
    return fail(input, "checkNumber", segment("check number (X)", check, "two digits"))
  }
  // What makes a fallback is region 0 together with jurisdiction ERR. A permanent ID in regions 1–9
  // may have the jurisdiction ERR (the live validator accepts `78-4-ERR-1160-L-8239-1-07`).
  const isFallback = region === "0"
  if (isFallback && jurisdiction !== "ERR") {
    return fail(
      input,
      "region",
      `region (G) must be 1–9; region 0 is only used by fallback IDs, whose jurisdiction is ERR, not ${jurisdiction}`
    )
  }
  const expected = checkNumber(input.slice(0, ID_LENGTH - 3))
  if (check !== expected) {
    return fail(input, "checkNumber", `check number does not verify: expected ${expected}, got ${check}`)
  }
  // A permanent ID's parts are one object literal (not spread from a common part): a parse is on
  // every mint's and every validation's path, and a spread costs more than all the checks together.
  const permanent: PermanentParts = {
    id: input,
    version,
    jurisdiction,
    sequence,
    entityType: code,
    yearMonth,
    year: 2000 + Number(yearMonth.slice(0, 2)),
    month: Number(yearMonth.slice(2, 4)),
    trustLevel: Number(trust) as TrustLevel,
    checkNumber: check,
    kind: "permanent",
    region: Number(region) as Region
  }
  return Either.right(
    isFallback
      ? {
        ...permanent,
        kind: "fallback",
        region: 0,
        errorCode: (fallbackErrorCodes as Record<string, FallbackErrorCode>)[sequence] ?? "UNKNOWN"
      }
      : permanent
  )
}

const entityTypeByCode: ReadonlyMap<string, EntityTypeCode> = new Map(entityTypeCodes.map((c) => [c, c]))

/**
 * Like {@link parse}, but throws {@link InvalidChittyId}. For inputs already known to be valid.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.parseOrThrow("03-1-USA-5537-P-2602-0-38").region // 1
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseOrThrow = (input: string): Parts => Either.getOrThrow(parse(input))

/**
 * Does the input pass every rule of a permanent ID?
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.isChittyId("03-1-USA-5537-P-2602-0-38") // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isChittyId = (input: unknown): input is ChittyId =>
  typeof input === "string" && Either.isRight(parse(input)) && input.charCodeAt(3) !== 48

/**
 * Does the input pass every rule of a fallback ID?
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.isFallbackId("03-0-ERR-0001-T-2602-0-25") // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isFallbackId = (input: unknown): input is FallbackId =>
  typeof input === "string" && input.charCodeAt(3) === 48 && Either.isRight(parse(input))

// -----------------------------------------------------------------------------
// Building
// -----------------------------------------------------------------------------

/**
 * What {@link make} needs to build a permanent ID; the check number is computed.
 *
 * @since 0.1.0
 * @category constructors
 */
export interface MakeOptions {
  readonly version?: string | undefined
  readonly region: Region
  readonly jurisdiction: string
  readonly sequence: number
  readonly entityType: EntityTypeCode
  /** Four digits YYMM. */
  readonly yearMonth: string
  readonly trustLevel: TrustLevel
}

/**
 * The format version written by {@link make} unless told otherwise.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.currentVersion // "03"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const currentVersion = "03"

const pad4 = (n: number): string => String(n).padStart(4, "0")

/**
 * Builds a permanent ID from its parts and computes its check number. Fails with
 * {@link InvalidChittyId} when a part breaks a rule (a sequence over 9999, a lower-case
 * jurisdiction, …).
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.make({ region: 1, jurisdiction: "USA", sequence: 5537, entityType: "P", yearMonth: "2602", trustLevel: 0 })
 * // Either.right("03-1-USA-5537-P-2602-0-38")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: MakeOptions): Either.Either<ChittyId, InvalidChittyId> => {
  if (!Number.isInteger(options.sequence) || options.sequence < 0 || options.sequence > 9999) {
    return fail(String(options.sequence), "sequence", "sequence must be an integer from 0 to 9999")
  }
  const body = `${options.version ?? currentVersion}-${options.region}-${options.jurisdiction}-${
    pad4(options.sequence)
  }-${options.entityType}-${options.yearMonth}-${options.trustLevel}`
  const id = `${body}-${checkNumber(body)}`
  return Either.flatMap(parse(id), (parts) =>
    parts.kind === "permanent"
      ? Either.right(id as ChittyId)
      : fail(id, "region", "region 0 is only used by fallback IDs"))
}

/**
 * Builds the fallback (placeholder) ID the service issues when minting fails.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.makeFallback({ errorCode: "MINT_UNAVAILABLE", entityType: "T", yearMonth: "2602" })
 * // "03-0-ERR-0001-T-2602-0-25"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFallback = (options: {
  readonly errorCode: Exclude<FallbackErrorCode, "UNKNOWN">
  readonly entityType: EntityTypeCode
  readonly yearMonth: string
  readonly version?: string | undefined
}): FallbackId => {
  const sequence = fallbackSequenceByCode.get(options.errorCode) ?? "0099"
  const body = `${options.version ?? currentVersion}-0-ERR-${sequence}-${options.entityType}-${options.yearMonth}-0`
  return `${body}-${checkNumber(body)}` as FallbackId
}

/**
 * The YYMM of a date in UTC, as the service writes it.
 *
 * @example
 * ```ts
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * ChittyId.yearMonthOf(new Date("2026-02-14T00:00:00Z")) // "2602"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const yearMonthOf = (date: Date): string =>
  `${String(date.getUTCFullYear() % 100).padStart(2, "0")}${String(date.getUTCMonth() + 1).padStart(2, "0")}`

// -----------------------------------------------------------------------------
// Schemas
// -----------------------------------------------------------------------------

const partsArbitrary = (fc: typeof FastCheck) =>
  fc.record({
    version: fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, "0")),
    region: fc.constantFrom(...([1, 2, 3, 4, 5, 6, 7, 8, 9] as const)),
    // `ERR` is drawn now and then on purpose: in regions 1–9 it is an ordinary jurisdiction.
    jurisdiction: fc.oneof(
      {
        weight: 19,
        arbitrary: fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"), minLength: 3, maxLength: 3 })
      },
      { weight: 1, arbitrary: fc.constant("ERR") }
    ),
    sequence: fc.integer({ min: 0, max: 9999 }),
    entityType: fc.constantFrom(...entityTypeCodes),
    yearMonth: fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, "0")),
    trustLevel: fc.constantFrom(...([0, 1, 2, 3, 4, 5] as const))
  })

const checkRule = (kind: Parts["kind"]) => (input: string): true | string => {
  const result = parse(input)
  if (Either.isLeft(result)) return result.left.reason
  return result.right.kind === kind ||
    (kind === "permanent"
      ? `a fallback ID (error ${
        result.right.kind === "fallback" ? result.right.errorCode : ""
      }) is not a permanent ChittyID`
      : "a permanent ChittyID is not a fallback ID")
}

/**
 * A permanent ChittyID: passes every rule of the format and its check number verifies. Fallback
 * placeholders are rejected (see {@link FallbackId}). Comes with an `Arbitrary` that generates valid IDs.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * Schema.decodeUnknownEither(ChittyId.ChittyId)("03-1-USA-5537-P-2602-0-38") // Right
 * Schema.decodeUnknownEither(ChittyId.ChittyId)("03-1-USA-5537-P-2602-0-39") // Left: check number does not verify
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChittyId: Schema.brand<Schema.filter<typeof Schema.String>, "ChittyId"> = Schema.String.pipe(
  Schema.filter(checkRule("permanent")),
  Schema.brand("ChittyId"),
  Schema.annotations({
    identifier: "ChittyId",
    title: "ChittyID",
    description: "A permanent ChittyID VV-G-LLL-SSSS-T-YM-C-X whose mod-97 check number verifies",
    arbitrary: () => (fc) => partsArbitrary(fc).map((o) => Either.getOrThrow(make(o)))
  })
)

/**
 * @since 0.1.0
 * @category schemas
 */
export type ChittyId = string & Brand.Brand<"ChittyId">

/**
 * A fallback (placeholder) ID the service issues when minting fails: `VV-0-ERR-00NN-T-YYMM-0-XX`.
 * Not a permanent ID.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * Schema.is(ChittyId.FallbackId)("03-0-ERR-0001-T-2602-0-25") // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const FallbackId: Schema.brand<Schema.filter<typeof Schema.String>, "FallbackId"> = Schema.String.pipe(
  Schema.filter(checkRule("fallback")),
  Schema.brand("FallbackId"),
  Schema.annotations({
    identifier: "FallbackId",
    title: "Fallback ChittyID",
    description: "A placeholder VV-0-ERR-00NN-T-YYMM-0-XX issued when minting fails; not a permanent ID",
    arbitrary: () => (fc) =>
      fc.record({
        errorCode: fc.constantFrom(...Object.values(fallbackErrorCodes)),
        entityType: fc.constantFrom(...entityTypeCodes),
        yearMonth: fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, "0"))
      }).map(makeFallback)
  })
)

/**
 * @since 0.1.0
 * @category schemas
 */
export type FallbackId = string & Brand.Brand<"FallbackId">

/**
 * A generator of valid permanent IDs, from the Schema's own `Arbitrary`.
 *
 * @example
 * ```ts
 * import { FastCheck } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * FastCheck.sample(ChittyId.arbitrary, 3) // three valid IDs
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const arbitrary = /* @__PURE__ */ Arbitrary.make(ChittyId)

/**
 * A generator of fallback IDs, from the Schema's own `Arbitrary`.
 *
 * @example
 * ```ts
 * import { FastCheck } from "effect"
 * import * as ChittyId from "effect-chittyid/ChittyId"
 * FastCheck.sample(ChittyId.fallbackArbitrary, 2) // two placeholder IDs
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const fallbackArbitrary = /* @__PURE__ */ Arbitrary.make(FallbackId)
