/**
 * The client's own checks over a canned `HttpClient` (no network): a validate answer must be about
 * the ID asked (issue 8 item 6), the event stream is bounded for a slow subscriber (issue 9 item 5),
 * and `layerTest` replaces placeholders like the live service does.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck, Layer, Redacted, Stream } from "effect"
import * as Api from "../src/Api.ts"
import * as ChittyId from "../src/ChittyId.ts"
import * as IdService from "../src/IdService.ts"
import * as IdServiceError from "../src/IdServiceError.ts"
import * as Observability from "../src/Observability.ts"

const ids: ReadonlyArray<ChittyId.ChittyId> = Array.from(
  new Set(FastCheck.sample(ChittyId.arbitrary, { numRuns: 3_000, seed: 12 }))
)

/** An `HttpClient` answering every validate with `answer(id)` (and `/health` with ok), counting requests. */
const canned = (answer: (id: string) => unknown, sent: { validate: number }) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) =>
      Effect.sync(() => {
        const json = (body: unknown) =>
          HttpClientResponse.fromWeb(
            request,
            new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } })
          )
        if (request.url.endsWith(Api.paths.health)) {
          return json({ status: "ok", service: "canned", version: "0", timestamp: new Date(0).toISOString() })
        }
        sent.validate++
        const body = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : "{}"
        const asked: unknown = JSON.parse(body)
        const id = typeof asked === "object" && asked !== null && "id" in asked ? String(asked.id) : ""
        return json(answer(id))
      })
    )
  )

const live = (http: Layer.Layer<HttpClient.HttpClient>, capacity = 100) =>
  IdService.IdService.layerWith({
    url: "http://127.0.0.1:1",
    token: Redacted.make("canned"),
    remoteValidation: true,
    retry: { maxRetries: 2, base: "1 millis" },
    health: { interval: "1 hour" },
    cache: { capacity }
  }).pipe(Layer.provide(http))

const validAnswer = (id: string) => ({
  success: true,
  valid: true,
  components: Api.componentsOf(ChittyId.parseOrThrow(id)),
  timestamp: new Date(0).toISOString()
})

describe("the client's checks of what the service says", () => {
  it.scoped("a valid answer whose components are another ID's is MalformedResponse, not retried, never cached", () =>
    Effect.gen(function*() {
      const sent = { validate: 0 }
      const [asked, other] = [ids[0]!, ids[1]!]
      const services = yield* Layer.build(live(canned(() => validAnswer(other), sent)))
      const ids_ = yield* Effect.provide(IdService.IdService, services)
      for (let i = 1; i <= 2; i++) {
        const error = yield* Effect.flip(ids_.validate(asked))
        expect(error._tag).toBe("MalformedResponse")
        expect(error.message).toContain(asked)
        expect(sent.validate).toBe(i) // one request per call (not retried), and nothing cached
      }
      // the same answer about the right ID is taken, and then served from the cache
      const right = yield* Effect.provide(
        Effect.flatMap(IdService.IdService, (s) => Effect.zip(s.validate(other), s.validate(other))),
        services
      )
      expect(right.map((r) => r.source)).toEqual(["service", "cache"])
    }))

  it.scoped("a check number that differs is a mismatch too", () =>
    Effect.gen(function*() {
      const sent = { validate: 0 }
      const asked = ids[2]!
      const wrong = (id: string) => {
        const answer = validAnswer(id)
        const checksum = answer.components.checksum === "00" ? "01" : "00"
        return { ...answer, components: { ...answer.components, checksum } }
      }
      const ids_ = yield* Effect.provide(IdService.IdService, yield* Layer.build(live(canned(wrong, sent))))
      expect((yield* Effect.flip(ids_.validate(asked)))._tag).toBe("MalformedResponse")
    }))

  it.scopedLive("a slow subscriber of events holds at most the buffer; the rest is dropped and counted", () =>
    Effect.gen(function*() {
      const sent = { validate: 0 }
      // capacity 1: every new ID evicts the previous one, an event each
      const services = yield* Layer.build(live(canned(validAnswer, sent), 1))
      const service = yield* Effect.provide(IdService.IdService, services)
      // takes one event, then never another
      yield* service.events.pipe(Stream.runForEach(() => Effect.never), Effect.forkScoped)
      yield* Effect.sleep("20 millis")
      const asked = ids.slice(0, Observability.eventBuffer + 300)
      yield* Effect.forEach(asked, (id) => service.validate(id), { discard: true })
      yield* Effect.sleep("20 millis")
      const stats = yield* service.stats
      expect(stats.cache.evictions).toBe(asked.length - 1)
      // what the subscriber did not take beyond its buffer was dropped, not kept
      expect(stats.droppedEvents).toBeGreaterThanOrEqual(asked.length - 1 - Observability.eventBuffer - 1)
      expect(stats.droppedEvents).toBeLessThanOrEqual(asked.length)
    }))
})

describe("IdService.layerTest", () => {
  it.effect("replaces a placeholder it issued once minting works again, the same ID every time", () =>
    Effect.gen(function*() {
      let failing = true
      const layer = IdService.IdService.layerTest({
        acceptFallback: true,
        failMint: () =>
          failing
            ? new IdServiceError.MintUnavailable({
              message: "down for the test",
              errorCode: "MINT_UNAVAILABLE",
              fallbackId: ChittyId.makeFallback({ errorCode: "MINT_UNAVAILABLE", entityType: "P", yearMonth: "2602" })
            })
            : undefined
      })
      yield* Effect.gen(function*() {
        const placeholder = yield* IdService.mint({ entityType: "P" })
        expect(placeholder.fallback).toBe(true)
        expect((yield* Effect.flip(IdService.replaceFallback(placeholder.chittyId)))._tag).toBe("MintUnavailable")
        failing = false
        const replaced = yield* IdService.replaceFallback(placeholder.chittyId)
        expect(ChittyId.isChittyId(replaced.chittyId)).toBe(true)
        expect(replaced.replaces).toBe(placeholder.chittyId)
        expect((yield* IdService.replaceFallback(placeholder.chittyId)).chittyId).toBe(replaced.chittyId)
        expect((yield* Effect.flip(IdService.replaceFallback(replaced.chittyId)))._tag).toBe("InvalidRequest")
      }).pipe(Effect.provide(layer))
    }))
})
