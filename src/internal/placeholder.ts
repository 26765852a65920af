/**
 * What a fallback placeholder in a mint answer means. The live service answers every minting
 * trouble with a 200 and a placeholder; its error code says what went wrong, and so what the client
 * should do: transient codes are `MintUnavailable` (retried, a failure of the service for the
 * breaker), `RATE_LIMITED` is back-pressure (`RateLimited`: retried with backoff, not a breaker
 * failure), `MINT_REJECTED` is `MintRejected` (the token or the request was refused: not retried, not
 * a breaker failure), `INVALID_REQUEST` is `InvalidRequest` (not retried). Every one keeps the code
 * and the placeholder.
 *
 * @internal
 */
import * as Either from "effect/Either"
import type * as Api from "../Api.ts"
import * as ChittyId from "../ChittyId.ts"
import * as IdServiceError from "../IdServiceError.ts"

const MAX_DETAIL = 300

const clip = (text: string): string => text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text

const knownCodes: ReadonlySet<string> = new Set(Object.values(ChittyId.fallbackErrorCodes))

const isKnownCode = (code: string): code is ChittyId.FallbackErrorCode => knownCodes.has(code)

/**
 * The code name a placeholder answer stands for: the answer's `errorCode` when it is a name the
 * service uses, otherwise the one written in the placeholder's sequence (`UNKNOWN` if neither).
 */
export const codeOf = (answer: Pick<Api.MintFallback, "chittyId" | "errorCode">): ChittyId.FallbackErrorCode => {
  if (isKnownCode(answer.errorCode)) return answer.errorCode
  const parts = ChittyId.parse(answer.chittyId)
  return Either.isRight(parts) && parts.right.kind === "fallback" ? parts.right.errorCode : "UNKNOWN"
}

/** The typed failure a placeholder stands for, when the caller does not accept placeholders. */
export const toError = (
  answer: Pick<Api.MintFallback, "chittyId" | "errorCode" | "message">
): IdServiceError.IdServiceError => {
  const errorCode = codeOf(answer)
  const fallbackId = answer.chittyId
  const detail = `placeholder ${fallbackId} (${errorCode}): ${clip(answer.message)}`
  switch (errorCode) {
    case "MINT_REJECTED":
      return new IdServiceError.MintRejected({
        message: `mint: the service refused to mint: check the token (CHITTY_ID_TOKEN); the live service ` +
          `hands it to its minting backend, which refused it or the request. Not retried. ${detail}`,
        errorCode,
        fallbackId
      })
    case "RATE_LIMITED":
      return new IdServiceError.RateLimited({
        message: `mint: the service's minting backend is rate limited; ${detail}`,
        errorCode,
        fallbackId
      })
    case "INVALID_REQUEST":
      return new IdServiceError.InvalidRequest({
        message: `mint: the service refused the request as invalid; ${detail}`,
        errorCode,
        fallbackId
      })
    default:
      return new IdServiceError.MintUnavailable({
        message: `mint: the service issued a fallback placeholder instead of an ID; ${detail}`,
        errorCode,
        fallbackId
      })
  }
}
