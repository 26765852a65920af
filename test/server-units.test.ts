import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, Exit, Fiber, Schema } from "effect"
import * as Api from "../src/Api.ts"
import * as ChittyId from "../src/ChittyId.ts"
import * as Faults from "../src/server/Faults.ts"
import * as IdempotencyStore from "../src/server/IdempotencyStore.ts"
import * as Registry from "../src/server/Registry.ts"

const input = (overrides: Partial<Registry.MintInput> = {}): Registry.MintInput => ({
  region: 1,
  jurisdiction: "USA",
  entityType: "P",
  yearMonth: "2602",
  trustLevel: 0,
  idempotencyKey: null,
  metadata: null,
  mintedAt: "2026-02-01T00:00:00.000Z",
  ...overrides
})

describe("Registry", () => {
  it.effect("uses the whole four-digit space of a prefix, then fails instead of wrapping", () =>
    Effect.gen(function*() {
      const registry = Registry.make({ capacity: Registry.maxSequences })
      const sequences = new Set<string>()
      for (let i = 0; i < 10_000; i++) {
        sequences.add(ChittyId.parseOrThrow(yield* registry.mint(input())).sequence)
      }
      expect(sequences.size).toBe(10_000)
      const exhausted = yield* Effect.flip(registry.mint(input()))
      expect(exhausted).toBeInstanceOf(Registry.SequenceExhausted)
      expect(exhausted.message).toContain("1-USA-P-2602")
      expect(exhausted.message).toContain("10000")
      // every other part of the prefix has its own space
      for (
        const other of [{ region: 2 as const }, { jurisdiction: "GBR" }, { entityType: "T" as const }, {
          yearMonth: "2603"
        }]
      ) {
        expect(ChittyId.parseOrThrow(yield* registry.mint(input(other))).sequence).toBe("0000")
      }
      // trust is not part of the prefix
      expect(Exit.isFailure(yield* Effect.exit(registry.mint(input({ trustLevel: 5 }))))).toBe(true)
      expect(registry.size()).toBe(10_004)
    }))

  it.effect("records who minted what, and clears", () =>
    Effect.gen(function*() {
      const registry = Registry.make({ capacity: 10 })
      const id = yield* registry.mint(input({ idempotencyKey: "k", metadata: { callId: "c", n: 1 } }))
      expect(registry.lookup(id)).toEqual({
        chittyId: id,
        idempotencyKey: "k",
        callId: "c",
        metadata: { callId: "c", n: 1 },
        mintedAt: "2026-02-01T00:00:00.000Z"
      })
      expect(
        registry.lookup(ChittyId.makeFallback({ errorCode: "MINT_UNAVAILABLE", entityType: "P", yearMonth: "2602" }))
      )
        .toBeUndefined()
      yield* registry.clear
      expect(yield* registry.log).toEqual([])
      expect(ChittyId.parseOrThrow(yield* registry.mint(input())).sequence).toBe("0000")
    }))

  it("counts IDs minted more than once per logical call, by callId first, else by key", () => {
    const record = (chittyId: string, idempotencyKey: string | null, callId: string | null): Registry.MintRecord => ({
      chittyId: chittyId as ChittyId.ChittyId,
      idempotencyKey,
      callId,
      metadata: null,
      mintedAt: ""
    })
    expect(Registry.duplicateMints([])).toBe(0)
    expect(Registry.duplicateMints([record("a", "k1", null), record("b", "k2", null)])).toBe(0)
    expect(Registry.duplicateMints([record("a", "k1", null), record("b", "k1", null), record("c", "k1", null)])).toBe(2)
    // a client that changed its key between retries of one call is still caught by callId
    expect(Registry.duplicateMints([record("a", "k1", "call"), record("b", "k2", "call")])).toBe(1)
    // no key, no call id: cannot tell, not counted
    expect(Registry.duplicateMints([record("a", null, null), record("b", null, null)])).toBe(0)
  })

  it("MintRecord decodes only permanent IDs", () => {
    const good = {
      chittyId: "03-1-USA-5537-P-2602-0-38",
      idempotencyKey: null,
      callId: null,
      metadata: null,
      mintedAt: ""
    }
    expect(Either.isRight(Schema.decodeUnknownEither(Registry.MintRecord)(good))).toBe(true)
    expect(
      Either.isLeft(Schema.decodeUnknownEither(Registry.MintRecord)({ ...good, chittyId: "03-1-USA-5537-P-2602-0-39" }))
    )
      .toBe(true)
  })
})

describe("IdempotencyStore", () => {
  it.effect("claims a key once; the same fingerprint awaits, another conflicts", () =>
    Effect.gen(function*() {
      const store = IdempotencyStore.make<string, never>()
      const first = yield* store.claim("k", "fp")
      expect(first._tag).toBe("Claimed")
      const second = yield* store.claim("k", "fp")
      expect(second._tag).toBe("Existing")
      expect((yield* store.claim("k", "other"))._tag).toBe("Conflict")
      if (first._tag !== "Claimed" || second._tag !== "Existing") return
      const waiter = yield* Effect.fork(Deferred.await(second.entry.deferred))
      yield* Deferred.succeed(first.entry.deferred, "answer")
      expect(yield* Fiber.join(waiter)).toBe("answer")
    }))

  it.effect("release forgets a key only if it still holds the same entry", () =>
    Effect.gen(function*() {
      const store = IdempotencyStore.make<string, never>()
      const claim = yield* store.claim("k", "fp")
      if (claim._tag !== "Claimed") throw new Error("expected a claim")
      yield* store.release("k", claim.entry)
      expect((yield* store.claim("k", "other"))._tag).toBe("Claimed")
      yield* store.release("k", claim.entry) // stale entry: no effect
      expect((yield* store.claim("k", "other"))._tag).toBe("Existing")
    }))

  it.effect("evicts the oldest key past its capacity", () =>
    Effect.gen(function*() {
      const store = IdempotencyStore.make<string, never>({ capacity: 3 })
      for (const key of ["a", "b", "c", "d"]) yield* store.claim(key, "fp")
      expect(store.size()).toBe(3)
      expect((yield* store.claim("a", "other"))._tag).toBe("Claimed")
      expect((yield* store.claim("d", "other"))._tag).toBe("Conflict")
    }))

  it("fingerprints ignore key order, not values", () => {
    const fp = IdempotencyStore.fingerprint
    expect(fp({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(fp({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }))
    expect(fp({ a: 1 })).not.toBe(fp({ a: 2 }))
    expect(fp({ a: [1, 2] })).not.toBe(fp({ a: [2, 1] }))
    expect(fp({ a: undefined, b: 1 })).toBe(fp({ b: 1 }))
  })
})

describe("Faults", () => {
  const decisions = (seed: number, faults: Faults.FaultsPatch, n: number, endpoint: Faults.Endpoint = "mint") =>
    Effect.gen(function*() {
      const injector = Faults.makeInjector({ seed, faults })
      const out: Array<Faults.Decision> = []
      for (let i = 0; i < n; i++) out.push(yield* injector.decide(endpoint))
      return { out, injected: yield* injector.injected }
    })

  it.effect("is repeatable for a seed, and strikes at about its rate", () =>
    Effect.gen(function*() {
      const faults = { errors: { rate: 0.3 }, latency: { fixedMs: 10, jitterMs: 20 } }
      const a = yield* decisions(7, faults, 2000)
      const b = yield* decisions(7, faults, 2000)
      const c = yield* decisions(8, faults, 2000)
      expect(b.out).toEqual(a.out)
      expect(c.out).not.toEqual(a.out)
      const errors = a.out.filter((d) => d.action._tag === "Unavailable").length
      expect(errors).toBe(a.injected.errors)
      expect(errors).toBeGreaterThan(500)
      expect(errors).toBeLessThan(700)
      for (const d of a.out) {
        expect(d.delayMs).toBeGreaterThanOrEqual(10)
        expect(d.delayMs).toBeLessThan(30)
      }
    }))

  it.effect("targets mint and validate by default, every endpoint for an outage", () =>
    Effect.gen(function*() {
      for (const endpoint of ["mint", "validate"] as const) {
        expect((yield* decisions(1, { hang: {} }, 1, endpoint)).out[0]?.action._tag).toBe("Hang")
      }
      for (const endpoint of ["health", "other"] as const) {
        expect((yield* decisions(1, { hang: {} }, 1, endpoint)).out[0]?.action._tag).toBe("Pass")
        expect((yield* decisions(1, { outage: { mode: "reset" } }, 1, endpoint)).out[0]?.action._tag).toBe("Reset")
      }
      expect((yield* decisions(1, { hang: { endpoints: ["health"] } }, 1, "health")).out[0]?.action._tag).toBe("Hang")
      expect((yield* decisions(1, { hang: { endpoints: ["health"] } }, 1, "mint")).out[0]?.action._tag).toBe("Pass")
    }))

  it.effect("a 429 burst counts down, then stops", () =>
    Effect.gen(function*() {
      const injector = Faults.makeInjector({ seed: 1, faults: { rateLimit: { burst: 2, retryAfter: 3 } } })
      const tags = []
      for (let i = 0; i < 4; i++) tags.push((yield* injector.decide("mint")).action)
      expect(tags).toEqual([
        { _tag: "RateLimited", retryAfter: 3, format: "seconds" },
        { _tag: "RateLimited", retryAfter: 3, format: "seconds" },
        { _tag: "Pass" },
        { _tag: "Pass" }
      ])
      expect((yield* injector.current).rateLimit?.burst).toBe(0)
      expect((yield* injector.injected).rateLimit).toBe(2)
    }))

  it.effect("merges patches, null switches a fault off, reset clears and reseeds", () =>
    Effect.gen(function*() {
      const injector = Faults.makeInjector({ seed: 3, faults: { errors: { rate: 0.5 } } })
      const first = yield* Effect.forEach(Array.from({ length: 50 }), () => injector.decide("mint"))
      yield* injector.set({ hang: { rate: 0.1 } })
      expect(yield* injector.current).toMatchObject({ errors: { rate: 0.5 }, hang: { rate: 0.1 } })
      yield* injector.set({ errors: null, hang: null })
      expect(injector.active()).toBe(false)
      expect(yield* injector.current).toEqual(Faults.none)
      yield* injector.reset
      expect((yield* injector.injected).errors).toBe(0)
      yield* injector.set({ errors: { rate: 0.5 } })
      const again = yield* Effect.forEach(Array.from({ length: 50 }), () => injector.decide("mint"))
      expect(again).toEqual(first)
    }))

  it("garbage bodies never decode as a contract answer", () => {
    for (const kind of Faults.garbageKinds) {
      for (const draw of [0, 0.34, 0.67, 0.99]) {
        const mint = Faults.garbageBody(kind, "mint", draw)
        const validate = Faults.garbageBody(kind, "validate", draw)
        const cases = [
          [mint, (u: unknown) => Either.isLeft(Schema.decodeUnknownEither(Api.MintResponse)(u))],
          [validate, (u: unknown) => Either.isLeft(Schema.decodeUnknownEither(Api.ValidateResponse)(u))]
        ] as const
        for (const [garbage, isRejected] of cases) {
          let json: unknown
          try {
            json = JSON.parse(garbage.body)
          } catch {
            expect(kind).toBe("not-json")
            continue
          }
          expect(kind).not.toBe("not-json")
          expect(isRejected(json)).toBe(true)
        }
      }
    }
    const badIds = [0, 0.34, 0.67, 0.99].map((draw) => {
      const json: unknown = JSON.parse(Faults.garbageBody("bad-id", "mint", draw).body)
      return (json as { readonly chittyId: string }).chittyId
    })
    for (const id of badIds) {
      expect(ChittyId.isChittyId(id)).toBe(false)
      expect(ChittyId.isFallbackId(id)).toBe(false)
    }
    // one of them is well-formed with a wrong check number
    const rules = badIds.map((id) =>
      Either.match(ChittyId.parse(id), { onLeft: (e) => e.rule, onRight: () => "valid" })
    )
    expect(rules).toContain("checkNumber")
    expect(rules).not.toContain("valid")
  })
})
