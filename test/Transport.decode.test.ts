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
  it("decodes every answer of the contract as the union does", () => {
    let decoded = 0
    fc.assert(
      fc.property(wire, (answer) => {
        // through JSON, as on the wire (a non-finite number becomes null: then both refuse it)
        const json: unknown = JSON.parse(JSON.stringify(answer))
        const expected = union(json)
        const ours = decodeMint(json)
        if (Either.isRight(expected)) {
          decoded++
          expect(ours).toEqual(expected)
        } else {
          expect(Either.isLeft(ours)).toBe(true)
        }
      }),
      { numRuns: 300 }
    )
    expect(decoded).toBeGreaterThan(200)
  })

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
