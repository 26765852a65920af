import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck, Option, Schema } from "effect"
import * as ChittyId from "../src/ChittyId.ts"
import { vectors } from "./fixtures.ts"

const ruleOfVectorReason = (reason: string): ChittyId.Rule | undefined => {
  if (reason.includes("check number")) return "checkNumber"
  if (reason.startsWith("region 0")) return "region"
  if (reason.startsWith("jurisdiction") || reason === "lower case") return "jurisdiction"
  if (reason.includes("entity")) return "entityType"
  if (reason.startsWith("trust")) return "trustLevel"
  if (reason.startsWith("year-month")) return "yearMonth"
  if (reason.startsWith("sequence")) return "sequence"
  if (reason.startsWith("version") || ["leading space", "non-ASCII digit", "only separators"].includes(reason)) {
    return "version"
  }
  if (reason.endsWith("segments") || reason.includes("separator")) return "segments"
  if (reason === "empty" || reason === "far too long") return "length"
  return undefined
}

describe("ChittyId format", () => {
  describe("shared vectors", () => {
    it.each(vectors.valid.map((v) => v.id))("accepts valid %s", (id) => {
      expect(Schema.is(ChittyId.ChittyId)(id)).toBe(true)
      expect(Schema.is(ChittyId.FallbackId)(id)).toBe(false)
      const parts = ChittyId.parseOrThrow(id)
      expect(parts.kind).toBe("permanent")
      expect(`${id.slice(0, 23)}${ChittyId.checkNumber(id.slice(0, 22))}`).toBe(id)
    })

    it.each(vectors.fallback)("classifies fallback $id as $errorCode", ({ errorCode, id }) => {
      expect(Schema.is(ChittyId.FallbackId)(id)).toBe(true)
      expect(Schema.is(ChittyId.ChittyId)(id)).toBe(false)
      const parts = ChittyId.parseOrThrow(id)
      expect(parts.kind).toBe("fallback")
      expect(parts.kind === "fallback" && parts.errorCode).toBe(errorCode)
      expect(parts.region).toBe(0)
      expect(parts.jurisdiction).toBe("ERR")
    })

    it.each(vectors.invalid)("rejects $reason: $id", ({ id, reason }) => {
      expect(Schema.is(ChittyId.ChittyId)(id)).toBe(false)
      expect(Schema.is(ChittyId.FallbackId)(id)).toBe(false)
      const result = ChittyId.parse(id)
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left.reason.length).toBeGreaterThan(10)
        expect(result.left.message).toContain(result.left.reason)
        const rule = ruleOfVectorReason(reason)
        if (rule !== undefined) expect(result.left.rule).toBe(rule)
      }
    })

    it("a Schema rejection says which rule failed", () => {
      const invalid = vectors.invalid.find((v) => v.reason === "trust level above 5")!
      const result = Schema.decodeUnknownEither(ChittyId.ChittyId)(invalid.id)
      expect(Either.isLeft(result) && result.left.message).toContain("trust level (C) must be one digit 0–5")
    })

    it("the DESIGN examples verify", () => {
      for (const id of ["03-1-USA-5537-P-2602-0-38", "03-1-USA-7165-T-2602-0-13", "03-1-USA-1399-T-2603-0-70"]) {
        expect(ChittyId.isChittyId(id)).toBe(true)
      }
      expect(ChittyId.isFallbackId("03-0-ERR-0001-T-2602-0-25")).toBe(true)
    })
  })

  describe("check number", () => {
    it("is the service's mod-97 over digits and letters (A=10 … Z=35)", () => {
      const reference = (body: string) => {
        let c = 0
        for (const ch of body.replaceAll("-", "")) {
          c = /\d/.test(ch) ? (c * 10 + Number(ch)) % 97 : (c * 100 + (ch.charCodeAt(0) - 55)) % 97
        }
        return String((98 - c) % 97).padStart(2, "0")
      }
      FastCheck.assert(
        FastCheck.property(
          ChittyId.arbitrary,
          (id) => ChittyId.checkNumber(id.slice(0, 22)) === reference(id.slice(0, 22))
        )
      )
    })
  })

  describe("properties from the Arbitrary", () => {
    it("every generated ID decodes and parses back to the same parts", () => {
      FastCheck.assert(
        FastCheck.property(ChittyId.arbitrary, (id) => {
          const decoded = Schema.decodeUnknownSync(ChittyId.ChittyId)(id)
          const parts = ChittyId.parseOrThrow(decoded)
          if (parts.kind !== "permanent") return false
          const rebuilt = ChittyId.make({
            version: parts.version,
            region: parts.region,
            jurisdiction: parts.jurisdiction,
            sequence: Number(parts.sequence),
            entityType: parts.entityType,
            yearMonth: parts.yearMonth,
            trustLevel: parts.trustLevel
          })
          return Either.getOrThrow(rebuilt) === id && parts.year === 2000 + Number(parts.yearMonth.slice(0, 2)) &&
            parts.month === Number(parts.yearMonth.slice(2))
        }),
        { numRuns: 500 }
      )
    })

    it("changing any one character, keeping the segment grammar, is rejected by the check number", () => {
      const digits = "0123456789"
      const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
      const mutation = ChittyId.arbitrary.chain((id) =>
        FastCheck.integer({ min: 0, max: id.length - 1 }).filter((i) => id[i] !== "-").chain((i) => {
          const original = id[i]!
          const pool = digits.includes(original) ? digits : letters
          return FastCheck.constantFrom(...pool.replace(original, "")).map((replacement) => ({ id, i, replacement }))
        })
      )
      FastCheck.assert(
        FastCheck.property(mutation, ({ i, id, replacement }) => {
          const mutated = `${id.slice(0, i)}${replacement}${id.slice(i + 1)}`
          const result = ChittyId.parse(mutated)
          // A change may also break another rule (region 0, trust 6, an unknown entity type, ERR):
          // what matters is that it is never accepted, and that a well-formed one fails its check.
          return Either.isLeft(result) &&
            (["region", "trustLevel", "entityType", "fallback"].includes(result.left.rule) ||
              result.left.rule === "checkNumber")
        }),
        { numRuns: 2000 }
      )
    })

    it("jurisdiction ERR is a fallback only in region 0: in regions 1–9 it is an ordinary permanent ID", () => {
      // Regression (issue 8): the live validator accepts 78-4-ERR-1160-L-8239-1-07; parse used to refuse it.
      expect(ChittyId.isChittyId("78-4-ERR-1160-L-8239-1-07")).toBe(true)
      const withErr = ChittyId.arbitrary.map((id) => {
        const parts = ChittyId.parseOrThrow(id) as ChittyId.PermanentParts
        return Either.getOrThrow(ChittyId.make({ ...parts, sequence: Number(parts.sequence), jurisdiction: "ERR" }))
      })
      FastCheck.assert(
        FastCheck.property(withErr, (id) => {
          const parts = ChittyId.parseOrThrow(id)
          return parts.kind === "permanent" && parts.jurisdiction === "ERR" && ChittyId.isChittyId(id) &&
            !ChittyId.isFallbackId(id) && Schema.is(ChittyId.ChittyId)(id)
        }),
        { numRuns: 300 }
      )
      // The Schema's own Arbitrary draws ERR too, so every property over it covers such IDs.
      const sample = FastCheck.sample(ChittyId.arbitrary, { numRuns: 2000, seed: 8 })
      expect(sample.some((id) => id.slice(5, 8) === "ERR")).toBe(true)
    })

    it("generated fallback IDs are fallbacks, never permanent", () => {
      FastCheck.assert(
        FastCheck.property(ChittyId.fallbackArbitrary, (id) => ChittyId.isFallbackId(id) && !ChittyId.isChittyId(id))
      )
    })
  })

  describe("entity types", () => {
    it("maps codes, words and the nine legacy names", () => {
      expect(ChittyId.entityTypeInputs).toHaveLength(19)
      const expected: Record<string, string> = {
        P: "P",
        L: "L",
        T: "T",
        E: "E",
        A: "A",
        person: "P",
        place: "L",
        thing: "T",
        event: "E",
        authority: "A",
        PEO: "P",
        PLACE: "L",
        PROP: "T",
        EVNT: "E",
        AUTH: "A",
        INFO: "T",
        FACT: "T",
        CONTEXT: "P",
        ACTOR: "P"
      }
      for (const [input, code] of Object.entries(expected)) {
        expect(ChittyId.entityTypeOf(input)).toEqual(Option.some(code))
        expect(Schema.decodeUnknownSync(ChittyId.EntityType)(input)).toBe(code)
      }
    })

    it("matches exactly: no case folding, no trimming", () => {
      for (const input of ["Person", "p", " P", "peo", "X", ""]) {
        expect(Option.isNone(ChittyId.entityTypeOf(input))).toBe(true)
        expect(Either.isLeft(Schema.decodeUnknownEither(ChittyId.EntityType)(input))).toBe(true)
      }
    })
  })

  describe("constructors", () => {
    it("make refuses a sequence outside 0–9999 and a bad jurisdiction", () => {
      const base = { region: 1, jurisdiction: "USA", entityType: "P", yearMonth: "2602", trustLevel: 0 } as const
      expect(Either.isLeft(ChittyId.make({ ...base, sequence: 10_000 }))).toBe(true)
      expect(Either.isLeft(ChittyId.make({ ...base, sequence: -1 }))).toBe(true)
      expect(Either.isLeft(ChittyId.make({ ...base, sequence: 1, jurisdiction: "usa" }))).toBe(true)
    })

    it("make builds a permanent ID with jurisdiction ERR in regions 1–9 (the live validator accepts them)", () => {
      const base = { region: 4, jurisdiction: "ERR", entityType: "L", yearMonth: "8239", trustLevel: 1 } as const
      expect(ChittyId.make({ ...base, version: "78", sequence: 1160 })).toEqual(
        Either.right("78-4-ERR-1160-L-8239-1-07")
      )
    })

    it("makeFallback writes the error code into the sequence", () => {
      for (const [sequence, errorCode] of Object.entries(ChittyId.fallbackErrorCodes)) {
        const id = ChittyId.makeFallback({ errorCode, entityType: "T", yearMonth: "2602" })
        const parts = ChittyId.parseOrThrow(id)
        expect(parts.sequence).toBe(sequence)
        expect(parts.kind === "fallback" && parts.errorCode).toBe(errorCode)
      }
    })

    it("yearMonthOf writes YYMM in UTC", () => {
      expect(ChittyId.yearMonthOf(new Date(Date.UTC(2026, 1, 28, 23, 59)))).toBe("2602")
      expect(ChittyId.yearMonthOf(new Date(Date.UTC(2031, 11, 1)))).toBe("3112")
    })
  })

  it("bounds the input length before any splitting", () => {
    const long = "0".repeat(100_000)
    const result = ChittyId.parse(long)
    expect(Either.isLeft(result) && result.left.rule).toBe("length")
    expect(Either.isLeft(result) && result.left.input.length).toBeLessThanOrEqual(65)
  })
})
