/**
 * The wire Schemas decode what both profiles answer: the contract's shapes and the live service's
 * (placeholder and replacement answers of validate, the extras of a live mint, `"healthy"`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as Api from "../src/Api.ts"
import * as ChittyId from "../src/ChittyId.ts"
import { vectors } from "./fixtures.ts"

const decodeValidate = Schema.decodeUnknownEither(Api.ValidateResponse)
const timestamp = "2026-02-01T00:00:00.000Z"
const [permanent] = vectors.valid
const [placeholder] = vectors.fallback

describe("Api wire Schemas", () => {
  it("decodes the live placeholder answer of validate as ValidatePlaceholder, not ValidateInvalid", () => {
    const live = {
      success: true,
      valid: false,
      isError: true,
      errorCode: "0001",
      errorName: "MINT_UNAVAILABLE",
      message:
        "This is a fallback error ID. Error: MINT_UNAVAILABLE. Re-verify to attempt replacement with a valid ID.",
      canReplace: true,
      timestamp
    }
    const decoded = Either.getOrThrow(decodeValidate(live))
    expect(Schema.is(Api.ValidatePlaceholder)(decoded)).toBe(true)
    expect(Schema.is(Api.ValidateReplaced)(decoded)).toBe(false)
    // the strict profile adds `error` for older callers: still a placeholder answer
    const strict = Either.getOrThrow(decodeValidate({ ...live, error: "a placeholder" }))
    expect(Schema.is(Api.ValidatePlaceholder)(strict)).toBe(true)
    // a plain refusal is not one
    const refused = Either.getOrThrow(decodeValidate({ success: true, valid: false, error: "NOT_FOUND", timestamp }))
    expect(Schema.is(Api.ValidatePlaceholder)(refused)).toBe(false)
    expect(Schema.is(Api.ValidateInvalid)(refused)).toBe(true)
  })

  it("decodes the replacement answer, with and without the mint answer spread in", () => {
    const newId = permanent.id
    const components = Api.componentsOf(ChittyId.parseOrThrow(newId))
    const bare = {
      success: true,
      replaced: true,
      oldId: placeholder.id,
      newId,
      message: "Fallback error ID has been replaced with a valid ChittyID",
      timestamp
    }
    for (const answer of [bare, { ...bare, chittyId: newId, components, service: "id.chitty.cc" }]) {
      const decoded = Either.getOrThrow(decodeValidate(answer))
      expect(Schema.is(Api.ValidateReplaced)(decoded)).toBe(true)
      expect(Schema.is(Api.ValidatePlaceholder)(decoded)).toBe(false)
    }
    // the old ID must be a placeholder and the new one permanent
    expect(Either.isLeft(decodeValidate({ ...bare, oldId: newId }))).toBe(true)
    expect(Either.isLeft(decodeValidate({ ...bare, newId: placeholder.id }))).toBe(true)
  })

  it("decodes the live fallback mint answer with its extras", () => {
    const parts = ChittyId.parseOrThrow(placeholder.id)
    const live = {
      success: true,
      chittyId: placeholder.id,
      fallback: true,
      errorCode: "MINT_UNAVAILABLE",
      message: "ChittyMint unavailable. Issued fallback ID with error code MINT_UNAVAILABLE.",
      components: Api.componentsOf(parts),
      geo: { region: "0", regionName: "Error/Pending", jurisdiction: "ERR", source: "fallback" },
      trust: { level: 0, source: "fallback", verified: false },
      timestamp,
      service: "id.chitty.cc",
      mintedBy: "fallback"
    }
    const decoded = Schema.decodeUnknownSync(Api.MintResponse)(live)
    expect(Schema.is(Api.MintFallback)(decoded)).toBe(true)
    expect(decoded).toMatchObject({ geo: live.geo, trust: live.trust, mintedBy: "fallback" })
    // a live success carries service and mintedBy
    const success = Schema.decodeUnknownSync(Api.MintResponse)({
      success: true,
      chittyId: permanent.id,
      components: Api.componentsOf(ChittyId.parseOrThrow(permanent.id)),
      timestamp,
      service: "id.chitty.cc",
      mintedBy: "mint.chitty.cc"
    })
    expect(Schema.is(Api.MintSuccess)(success)).toBe(true)
  })

  it("reads both health statuses as up, and keeps any other", () => {
    for (const status of ["ok", "healthy"]) {
      const health = Schema.decodeUnknownSync(Api.HealthResponse)({ status, service: "s", version: "1", timestamp })
      expect(Api.isUp(health.status)).toBe(true)
    }
    expect(Api.isUp("degraded")).toBe(false)
  })

  it("decodes the spec answer and names the headers", () => {
    const spec = Schema.decodeUnknownSync(Api.SpecResponse)({
      success: true,
      specification: {
        format: "VV-G-LLL-SSSS-T-YM-C-X",
        entityTypes: { P: "Person" },
        trustLevels: { 0: "Unverified" }
      },
      timestamp
    })
    expect(spec.specification.entityTypes["P"]).toBe("Person")
    expect(Api.idempotencyKeyEchoHeader).toBe(Api.idempotencyKeyHeader)
    expect(Api.idempotentReplayedHeader).toBe("idempotent-replayed")
  })
})
