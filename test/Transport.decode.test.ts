/**
 * The transport decodes a mint answer through the member its `fallback` flag names: it must agree
 * with the contract's union `Api.MintResponse` on every answer, well-formed or not.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import * as Api from "../src/Api.ts"
import { decodeMint } from "../src/internal/transport.ts"

const union = Schema.decodeUnknownEither(Api.MintResponse, { errors: "first", onExcessProperty: "ignore" })
const wire = Arbitrary.make(Api.MintResponse).map((answer) => Schema.encodeSync(Api.MintResponse)(answer))

describe("the transport's mint decoder", () => {
  it("decodes every answer of the contract as the union does", () =>
    fc.assert(
      fc.property(wire, (answer) => {
        const json: unknown = JSON.parse(JSON.stringify(answer))
        const ours = decodeMint(json)
        expect(Either.isRight(ours)).toBe(true)
        expect(ours).toEqual(union(json))
      }),
      { numRuns: 300 }
    ))

  it("refuses what the union refuses: a flag that disagrees with the ID, a missing field, junk", () =>
    fc.assert(
      fc.property(
        wire,
        fc.oneof(
          fc.constant((a: Record<string, unknown>) => ({ ...a, fallback: a.fallback !== true })),
          fc.constant((a: Record<string, unknown>) => ({ ...a, chittyId: undefined })),
          fc.constant((a: Record<string, unknown>) => ({ ...a, success: false })),
          fc.constant(() => "not an object"),
          fc.constant(() => null)
        ),
        (answer, spoil) => {
          const json: unknown = JSON.parse(JSON.stringify(spoil({ ...answer })) ?? "null")
          expect(Either.isLeft(union(json))).toBe(true)
          expect(Either.isLeft(decodeMint(json))).toBe(true)
        }
      ),
      { numRuns: 300 }
    ))
})
