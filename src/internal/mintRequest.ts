/**
 * Local checks of a mint request, shared by the live and the test service: a request the service
 * would refuse fails here with `InvalidRequest`, before anything is sent.
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"
import * as Api from "../Api.ts"
import * as ChittyId from "../ChittyId.ts"
import type * as IdService from "../IdService.ts"
import * as IdServiceError from "../IdServiceError.ts"
import type * as ValidationCache from "../ValidationCache.ts"
import { withoutStack } from "./noStack.ts"

/** A mint request after the local checks. */
export interface CheckedMint {
  readonly entityType: ChittyId.EntityTypeCode
  readonly region: ChittyId.Region
  readonly jurisdiction: string
  readonly trustLevel: ChittyId.TrustLevel
  /** The JSON body to send. */
  readonly body: string
  /** The query parameters the caller chose (the service defaults the rest). */
  readonly urlParams: Readonly<Record<string, string>>
  readonly idempotencyKey: Option.Option<string>
}

/**
 * Membership of a literal Schema's values: what `Schema.is` answers for it, without running the
 * union's parser (arrays and candidates per call) on every mint.
 */
const isLiteralOf = <L extends Arr.NonEmptyReadonlyArray<AST.LiteralValue>>(schema: Schema.Literal<L>) => {
  const values = new Set<unknown>(schema.literals)
  return (u: unknown): u is L[number] => values.has(u)
}
const isRegion = isLiteralOf(ChittyId.Region)
const isTrustLevel = isLiteralOf(ChittyId.TrustLevel)
const isJurisdiction = Schema.is(ChittyId.Jurisdiction)
const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/

const invalid = (message: string) => Either.left(withoutStack(() => new IdServiceError.InvalidRequest({ message })))

/** Checks a mint request and encodes its body. */
export const check = (request: IdService.MintRequest): Either.Either<CheckedMint, IdServiceError.InvalidRequest> => {
  if (typeof request !== "object" || request === null) return invalid("mint: the request must be an object")
  const entityType = Option.getOrUndefined(ChittyId.entityTypeOf(request.entityType))
  if (entityType === undefined) {
    return invalid(
      `mint: unknown entity type ${JSON.stringify(String(request.entityType).slice(0, 32))}; expected one of ${
        ChittyId.entityTypeInputs.join(", ")
      }`
    )
  }
  if (request.region !== undefined && !isRegion(request.region)) {
    return invalid(`mint: region must be an integer from 1 to 9, got ${JSON.stringify(request.region)}`)
  }
  if (request.jurisdiction !== undefined && !isJurisdiction(request.jurisdiction)) {
    return invalid(`mint: jurisdiction must be three upper-case letters, got ${JSON.stringify(request.jurisdiction)}`)
  }
  if (request.jurisdiction === "ERR") {
    // Permanent IDs with jurisdiction ERR exist and validate, but the service marks its placeholders
    // with ERR: a request for it would at best mint an ID easily mistaken for one.
    return invalid("mint: jurisdiction ERR is reserved for the service's fallback placeholders; choose another")
  }
  if (request.trustLevel !== undefined && !isTrustLevel(request.trustLevel)) {
    return invalid(`mint: trust level must be an integer from 0 to 5, got ${JSON.stringify(request.trustLevel)}`)
  }
  if (request.idempotencyKey !== undefined && !idempotencyKeyPattern.test(request.idempotencyKey)) {
    return invalid("mint: an idempotency key must be 1 to 255 visible ASCII characters")
  }
  if (
    request.metadata !== undefined &&
    (typeof request.metadata !== "object" || request.metadata === null || Array.isArray(request.metadata))
  ) {
    return invalid("mint: metadata must be a JSON object")
  }
  let body: string
  try {
    body = JSON.stringify(
      request.metadata === undefined ? { entityType } : { entityType, metadata: request.metadata }
    )
  } catch (error) {
    return invalid(`mint: metadata is not JSON-serializable (${error instanceof Error ? error.message : "unknown"})`)
  }
  const urlParams: Record<string, string> = {}
  if (request.region !== undefined) urlParams.region = String(request.region)
  if (request.jurisdiction !== undefined) urlParams.jurisdiction = request.jurisdiction
  if (request.trustLevel !== undefined) urlParams.trust = String(request.trustLevel)
  return Either.right({
    entityType,
    region: request.region ?? 1,
    jurisdiction: request.jurisdiction ?? "USA",
    trustLevel: request.trustLevel ?? 0,
    body,
    urlParams,
    idempotencyKey: Option.fromNullable(request.idempotencyKey)
  })
}

/**
 * Does a minted ID carry what was asked for? A service that answers another entity type, region,
 * jurisdiction or trust level broke the contract.
 */
export const mismatch = (checked: CheckedMint, parts: ChittyId.PermanentParts): Option.Option<string> => {
  if (parts.entityType !== checked.entityType) {
    return Option.some(`asked for entity type ${checked.entityType}, got ${parts.entityType}`)
  }
  if (parts.region !== checked.region) return Option.some(`asked for region ${checked.region}, got ${parts.region}`)
  if (parts.jurisdiction !== checked.jurisdiction) {
    return Option.some(`asked for jurisdiction ${checked.jurisdiction}, got ${parts.jurisdiction}`)
  }
  if (parts.trustLevel !== checked.trustLevel) {
    return Option.some(`asked for trust level ${checked.trustLevel}, got ${parts.trustLevel}`)
  }
  return Option.none()
}

/** The local answer of `validate`, or the parts of a permanent ID to confirm remotely. */
export const validateLocally = (
  id: string
): Either.Either<ChittyId.PermanentParts, IdService.ValidationResult> => {
  const parsed = ChittyId.parse(id)
  if (Either.isLeft(parsed)) {
    return Either.left({
      chittyId: id,
      valid: false,
      reason: parsed.left.reason,
      rule: parsed.left.rule,
      source: "local"
    })
  }
  const parts = parsed.right
  if (parts.kind === "fallback") {
    return Either.left({
      chittyId: id,
      valid: false,
      kind: "fallback",
      reason: `a fallback placeholder (${parts.errorCode}), not a permanent ID`,
      rule: "fallback",
      parts,
      source: "local"
    })
  }
  return Either.right(parts)
}

/** Why a well-formed ID is not valid when the service says it never issued it. */
export const neverIssuedReason = "well-formed, but the service never issued it"

/**
 * The answer about a locally valid permanent ID: valid, or refused for `reason`, from `source`. The
 * live and the test service build every such answer here, so they never say it differently.
 */
export const permanentAnswer = (
  id: string,
  parts: ChittyId.PermanentParts,
  source: IdService.ValidationSource,
  reason?: string
): IdService.ValidationResult =>
  reason === undefined
    ? { chittyId: id, valid: true, kind: "permanent", parts, source }
    : { chittyId: id, valid: false, kind: "permanent", parts, reason, source }

/**
 * The answer about a locally valid permanent ID from the validation cache (a hit, or the service's
 * answer): the live and the test service both read the cache through here.
 */
export const remoteAnswer = (
  id: string,
  parts: ChittyId.PermanentParts,
  { answer, cached }: ValidationCache.Result
): IdService.ValidationResult =>
  permanentAnswer(
    id,
    parts,
    cached ? "cache" : "service",
    answer.valid ? undefined : answer.unknown ? neverIssuedReason : answer.error
  )

/**
 * The permanent ID that replaced placeholder `old`, checked locally like a mint answer: a permanent
 * ID of the placeholder's entity type, whose components (when the answer has them) are its own.
 * `Left` says what is wrong.
 */
export const replacementOf = (
  old: ChittyId.FallbackParts,
  answer: Api.ValidateReplaced
): Either.Either<IdService.Minted, string> => {
  const parsed = ChittyId.parse(answer.newId)
  if (Either.isLeft(parsed)) return Either.left(parsed.left.message)
  const parts = parsed.right
  if (parts.kind !== "permanent") return Either.left(`the replacement ${answer.newId} is not a permanent ID`)
  if (answer.chittyId !== undefined && answer.chittyId !== answer.newId) {
    return Either.left(`the answer names two replacements, ${answer.newId} and ${answer.chittyId}`)
  }
  if (parts.entityType !== old.entityType) {
    return Either.left(`the placeholder is of entity type ${old.entityType}, its replacement of ${parts.entityType}`)
  }
  if (answer.components !== undefined && !componentsMatch(answer.components, parts)) {
    return Either.left(`the answer's components are not those of ${answer.newId}`)
  }
  return Either.right({
    fallback: false,
    chittyId: answer.newId,
    parts,
    timestamp: answer.timestamp,
    idempotencyKey: old.id,
    replaces: old.id
  })
}

/** Are these the components of the ID with these parts (every segment, the check number included)? */
export const componentsMatch = (components: Api.Components, parts: ChittyId.Parts): boolean => {
  const own = Api.componentsOf(parts)
  return components.version === own.version && components.region === own.region &&
    components.jurisdiction === own.jurisdiction && components.sequential === own.sequential &&
    components.entityType === own.entityType && components.yearMonth === own.yearMonth &&
    components.trustLevel === own.trustLevel && components.checksum === own.checksum
}
