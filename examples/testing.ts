/**
 * Testing your own service with `IdService.layerTest`: no server, no network, deterministic IDs.
 *
 * Your code depends on the `IdService` tag; in production you provide the live layer, in tests the
 * in-memory one. This file is itself a test (vitest runs it): `npx vitest run examples/testing.ts`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as ChittyId from "effect-chittyid/ChittyId"
import * as IdService from "effect-chittyid/IdService"
import * as IdServiceError from "effect-chittyid/IdServiceError"

// --- your application code ------------------------------------------------------------------

interface Customer {
  readonly id: ChittyId.ChittyId
  readonly name: string
}

class Customers extends Context.Tag("app/Customers")<Customers, {
  readonly register: (name: string) => Effect.Effect<Customer, IdServiceError.IdServiceError>
}>() {
  static readonly layer = Layer.effect(
    Customers,
    Effect.gen(function*() {
      const ids = yield* IdService.IdService
      return {
        register: (name) =>
          ids.mint({ entityType: "person", metadata: { source: "signup" } }).pipe(
            Effect.flatMap((minted) =>
              minted.fallback
                ? Effect.fail(
                  new IdServiceError.MintUnavailable({
                    message: "placeholder",
                    errorCode: minted.errorCode,
                    fallbackId: minted.chittyId
                  })
                )
                : Effect.succeed({ id: minted.chittyId, name })
            )
          )
      }
    })
  )
}

// --- its tests ---------------------------------------------------------------------------------

describe("Customers (with IdService.layerTest)", () => {
  // One in-memory IdService shared by your service and the test itself.
  const TestLayer = Customers.layer.pipe(Layer.provideMerge(IdService.IdService.layerTest()))

  it.effect("gives each customer a valid person ID", () =>
    Effect.gen(function*() {
      const customers = yield* Customers
      const ada = yield* customers.register("Ada")
      const alan = yield* customers.register("Alan")
      expect(ada.id).not.toBe(alan.id)
      expect(ChittyId.parseOrThrow(ada.id).entityType).toBe("P")
      const checked = yield* IdService.validate(ada.id, { remote: true })
      expect(checked).toMatchObject({ valid: true, source: "service" })
    }).pipe(Effect.provide(TestLayer)))

  it.effect("surfaces the service being unavailable as a typed error", () =>
    Effect.gen(function*() {
      const customers = yield* Customers
      const error = yield* Effect.flip(customers.register("Grace"))
      expect(error._tag).toBe("MintUnavailable")
    }).pipe(
      Effect.provide(
        Customers.layer.pipe(
          Layer.provide(
            IdService.IdService.layerTest({
              failMint: () =>
                new IdServiceError.MintUnavailable({
                  message: "minting backend down",
                  errorCode: "MINT_UNAVAILABLE",
                  fallbackId: ChittyId.makeFallback({
                    errorCode: "MINT_UNAVAILABLE",
                    entityType: "P",
                    yearMonth: "2602"
                  })
                })
            })
          )
        )
      )
    ))
})
