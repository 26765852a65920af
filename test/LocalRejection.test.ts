/**
 * The cheap paths of issue 11 item 2: a local rejection builds its error without capturing a stack
 * trace, and a mint answer's ID is parsed once (the Schema's filter and the client share the parse).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as ChittyId from "../src/ChittyId.ts"
import * as IdService from "../src/IdService.ts"
import { vectors } from "./fixtures.ts"

const frames = (error: unknown): number =>
  error instanceof Error ? (error.stack ?? "").split("\n").filter((line) => line.trim().startsWith("at ")).length : -1

describe("local rejections and the parse of a mint answer", () => {
  it.effect("a mint refused locally fails InvalidRequest with no stack trace captured", () =>
    Effect.gen(function*() {
      const ids = yield* IdService.IdService
      const error = yield* Effect.flip(ids.mint({ entityType: "nonsense" as "P" }))
      expect(error._tag).toBe("InvalidRequest")
      expect(frames(error)).toBe(0)
      // errors from elsewhere keep their trace
      expect(frames(new Error("elsewhere"))).toBeGreaterThan(0)
    }).pipe(Effect.provide(IdService.IdService.layerTest())))

  it("a malformed ID's InvalidChittyId carries no stack trace", () => {
    const result = ChittyId.parse("not-an-id")
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) expect(frames(result.left)).toBe(0)
  })

  it("parsing the same ID twice in a row is one parse: the second call returns the first result", () => {
    const id = vectors.valid[0]!.id
    const first = ChittyId.parse(id)
    expect(ChittyId.parse(id)).toBe(first)
    const other = vectors.valid[1]!.id
    expect(ChittyId.parse(other)).not.toBe(first)
    expect(Either.isRight(ChittyId.parse(other))).toBe(true)
  })
})
