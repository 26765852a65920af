/**
 * The lean undici `HttpClient` of `effect-chittyid/node` on its own and under `IdService`:
 * interruption aborts the request and frees its socket, bodies are capped, the one timer bounds
 * headers and body, finished connections are reused, and failures are typed as over any client.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Context,
  DefaultServices,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Tracer
} from "effect"
import type * as http from "node:http"
import * as net from "node:net"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import type * as Undici from "undici"
import { type Handler, hostileServer, hugeBody, stalledBody } from "../bench/lib/hostileServer.ts"
import * as Api from "../src/Api.ts"
import * as ChittyId from "../src/ChittyId.ts"
import * as IdService from "../src/IdService.ts"
import type * as IdServiceConfig from "../src/IdServiceConfig.ts"
import type * as IdServiceError from "../src/IdServiceError.ts"
import * as UndiciClient from "../src/internal/undiciClient.ts"
import * as Node from "../src/node.ts"
import { vectors } from "./fixtures.ts"
import { poll } from "./resilience-support.ts"

const ok: Handler = (_req, res) => {
  res.writeHead(200, { "content-type": "application/json" })
  res.end("{\"ok\":true}")
}

const status = (code: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(code, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}

/** A server that records each request (URL, headers, body) before `respond` answers it. */
const recording = (respond: (req: http.IncomingMessage, res: http.ServerResponse) => void) => {
  const seen: Array<{ url: string | undefined; headers: Record<string, unknown>; body: string }> = []
  return Effect.map(
    hostileServer((req, res) => {
      let body = ""
      req.on("data", (chunk: Buffer) => body += chunk.toString())
      req.on("end", () => {
        seen.push({ url: req.url, headers: req.headers, body })
        respond(req, res)
      })
    }),
    (server) => ({ seen, server })
  )
}

/** A loopback port nobody listens on. */
const closedPort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const service = (url: string, settings: IdServiceConfig.Input & IdService.LiveOptions = {}) =>
  Effect.flatMap(
    Layer.build(
      Node.layerWith({
        url,
        token: Redacted.make("lean-test-token"),
        health: { interval: "1 hour" },
        retry: { maxRetries: 0 },
        // these hostile servers answer nothing about keys: said to keep them, so a timed-out mint
        // stays a RequestTimeout instead of MintOutcomeUnknown (the client's idempotency rule)
        idempotency: "honoured",
        ...settings
      }).pipe(Layer.orDie, Layer.provide(Logger.minimumLogLevel(LogLevel.None)))
    ),
    (context) => Effect.provide(IdService.IdService, context)
  )

const failureOf = <A>(exit: Exit.Exit<A, IdServiceError.IdServiceError>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

describe("Node.makeHttpClient (lean undici)", () => {
  it.scopedLive("interrupting a request aborts it and destroys its socket", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer(stalledBody("chunked"))
      const client = yield* Node.makeHttpClient()
      const fiber = yield* Effect.fork(client.get(`${server.url}/stall`))
      expect(yield* poll(Effect.sync(server.requests), (n) => n === 1, { every: "10 millis", within: "5 seconds" }))
        .toBe(1)
      expect(server.openCarrying()).toBe(1)
      yield* Fiber.interrupt(fiber)
      expect(yield* poll(Effect.sync(server.openCarrying), (n) => n === 0, { every: "10 millis", within: "5 seconds" }))
        .toBe(0)
    }))

  it.scopedLive("a finished request leaves its connection in the pool: 20 requests, at most two connections", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer(ok)
      const client = yield* Node.makeHttpClient()
      for (let i = 0; i < 20; i++) {
        const response = yield* client.get(`${server.url}/ok`)
        expect(yield* response.json).toEqual({ ok: true })
      }
      expect(server.requests()).toBe(20)
      // (a request may be sent a moment before the last one's connection is back in the pool)
      expect(server.accepted()).toBeLessThanOrEqual(2)
    }))

  it.scopedLive("a body over the cap is not read: the body fails, the connection is closed", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer(hugeBody(16 * 1024 * 1024, "chunked"))
      const client = yield* Node.makeHttpClient({ maxResponseBytes: 4096 })
      const response = yield* client.get(`${server.url}/huge`)
      expect(response.status).toBe(200)
      const body = yield* Effect.flip(response.text)
      expect(body.reason).toBe("Decode")
      expect(body.cause).toBeInstanceOf(UndiciClient.BodyTooLarge)
      expect(server.written()).toBeLessThan(8 * 1024 * 1024)
      expect(yield* poll(Effect.sync(server.openCarrying), (n) => n === 0, { every: "10 millis", within: "5 seconds" }))
        .toBe(0)
    }))

  it.scopedLive("the timer bounds headers and body: a stalled body fails the request and frees the socket", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer(stalledBody("content-length"))
      const client = yield* Node.makeHttpClient({ timeout: "200 millis" })
      const error = yield* Effect.flip(client.get(`${server.url}/stall`))
      expect(error._tag).toBe("RequestError")
      const cause = error._tag === "RequestError" ? error.cause : undefined
      expect(cause).toBeInstanceOf(UndiciClient.TransportFailure)
      if (cause instanceof UndiciClient.TransportFailure) {
        expect(cause.reason).toBe("timeout")
        expect(cause.requestSent).toBe(true)
      }
      expect(yield* poll(Effect.sync(server.openCarrying), (n) => n === 0, { every: "10 millis", within: "5 seconds" }))
        .toBe(0)
    }))

  it.scopedLive("a refused connection is a Transport error known not to have sent the request", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const client = yield* Node.makeHttpClient()
      const error = yield* Effect.flip(client.get(`http://127.0.0.1:${port}/x`))
      const cause = error._tag === "RequestError" ? error.cause : undefined
      expect(cause).toBeInstanceOf(UndiciClient.TransportFailure)
      if (cause instanceof UndiciClient.TransportFailure) {
        expect(cause.reason).toBe("connection")
        expect(cause.requestSent).toBe(false)
        expect(cause.code).toBe("ECONNREFUSED")
      }
    }))

  it.scopedLive("query parameters, headers and body go out as built; the caller's span travels as traceparent", () =>
    Effect.gen(function*() {
      const { seen, server } = yield* recording((req, res) => ok(req, res, { write: () => true }))
      const client = yield* Node.makeHttpClient()
      const span = yield* Effect.currentSpan.pipe(
        Effect.tap(() =>
          client.execute(
            HttpClientRequest.post(`${server.url}/v1/mint`, {
              urlParams: { region: "1", jurisdiction: "A B" },
              headers: { "x-extra": "yes" }
            }).pipe(HttpClientRequest.bodyText("{\"entityType\":\"P\"}", "application/json"))
          )
        ),
        Effect.withSpan("caller")
      )
      expect(seen).toHaveLength(1)
      expect(seen[0]?.url).toBe("/v1/mint?region=1&jurisdiction=A%20B")
      expect(seen[0]?.headers["x-extra"]).toBe("yes")
      expect(seen[0]?.headers["content-type"]).toBe("application/json")
      expect(seen[0]?.body).toBe("{\"entityType\":\"P\"}")
      expect(seen[0]?.headers["traceparent"]).toBe(`00-${span.traceId}-${span.spanId}-01`)
    }))
})

/** A full collection, for the tests below that check what a finished exchange still holds. */
const collectGarbage = (): void => {
  v8.setFlagsFromString("--expose-gc")
  const gc: unknown = vm.runInNewContext("gc")
  if (typeof gc !== "function") throw new Error("no gc function after --expose-gc")
  gc()
}

/**
 * A dispatcher that answers `{"ok":true}` on the next macrotask and keeps every handler it was given,
 * as a connection's bookkeeping or Effect's interruption handler may keep one after its request.
 */
const keepingDispatcher = () => {
  const handlers: Array<Undici.Dispatcher.DispatchHandler> = []
  const dispatcher = {
    dispatch: (_options: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandler) => {
      handlers.push(handler)
      setImmediate(() => {
        const body = Buffer.from("{\"ok\":true}")
        handler.onConnect?.(() => {})
        handler.onHeaders?.(200, [Buffer.from("content-length"), Buffer.from(String(body.length))], () => {}, "OK")
        handler.onData?.(body)
        handler.onComplete?.([])
      })
      return true
    }
  }
  return { dispatcher: dispatcher as unknown as Undici.Dispatcher, handlers }
}

const request = new UndiciClient.DispatchRequest("http://127.0.0.1:1", "/x", "GET", {}, null)
const limits = new UndiciClient.RequestLimits(0, 1024)

/**
 * An exchange through `dispatcher` whose answer callback holds an object of its own (the only
 * reference to it), and a weak reference to that object.
 */
const exchangeHolding = (dispatcher: Undici.Dispatcher) => {
  const held = { payload: Array.from({ length: 1000 }, (_, i) => i) }
  return {
    weak: new WeakRef(held),
    exchange: UndiciClient.exchange(
      dispatcher,
      request,
      limits,
      (status, _raw, body) =>
        Effect.succeed(`${status} ${typeof body === "string" ? body : "too large"} ${held.payload.length}`),
      (failure) => Effect.fail(failure)
    )
  }
}

describe("UndiciClient.exchange", () => {
  it.live("a finished exchange lets go of its callbacks and of what they hold, though its handler is kept", () =>
    Effect.gen(function*() {
      const { dispatcher, handlers } = keepingDispatcher()
      // the effect (its exchange inside) and the handler stay referenced here; what the answer
      // callback held must not
      const { exchange, weak } = exchangeHolding(dispatcher)
      const answered = yield* exchange
      expect(answered).toBe("200 {\"ok\":true} 1000")
      // (a WeakRef's target is kept until the job that made it ends)
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      collectGarbage()
      expect(handlers).toHaveLength(1)
      expect(weak.deref()).toBeUndefined()
    }))

  it.live("the exchange effect is sent once: run again, it dies rather than send a second request", () =>
    Effect.gen(function*() {
      const { dispatcher, handlers } = keepingDispatcher()
      const once = UndiciClient.exchange(
        dispatcher,
        request,
        limits,
        (status) => Effect.succeed(status),
        (failure) => Effect.fail(failure)
      )
      expect(yield* once).toBe(200)
      const again = yield* Effect.exit(once)
      expect(Exit.isFailure(again) && Cause.isDie(again.cause)).toBe(true)
      expect(handlers).toHaveLength(1)
    }))
})

describe("IdService over the lean client: errors typed as over any HttpClient", () => {
  it.scopedLive("503 → ServiceUnavailable with Retry-After, 401 → Unauthorized, 400 → InvalidRequest", () =>
    Effect.gen(function*() {
      const cases: Array<[Handler, string]> = [
        [status(503, { success: false, error: "DOWN", message: "down" }, { "retry-after": "2" }), "ServiceUnavailable"],
        [status(401, { success: false, error: "UNAUTHORIZED", message: "no" }), "Unauthorized"],
        [status(400, { success: false, error: "INVALID_REQUEST", message: "bad" }), "InvalidRequest"],
        [(_req, res) => res.end("not json"), "MalformedResponse"]
      ]
      for (const [handler, expected] of cases) {
        const server = yield* hostileServer(handler)
        const ids = yield* service(server.url)
        const error = failureOf(yield* Effect.exit(ids.mint({ entityType: "P" })))
        expect(error?._tag).toBe(expected)
        if (error?._tag === "ServiceUnavailable") expect(error.retryAfterMs).toBe(2000)
      }
    }))

  it.scopedLive("a refused connection → ConnectionError with requestSent false", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const ids = yield* service(`http://127.0.0.1:${port}`)
      const error = failureOf(yield* Effect.exit(ids.mint({ entityType: "P" })))
      expect(error?._tag).toBe("ConnectionError")
      if (error?._tag === "ConnectionError") {
        expect(error.requestSent).toBe(false)
        expect(error.message).toContain("ECONNREFUSED")
      }
    }))

  it.scopedLive("a stalled body → RequestTimeout (attempt) with requestSent true, the socket freed", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer(stalledBody("chunked"))
      const ids = yield* service(server.url, { requestTimeout: "200 millis", timeout: "5 seconds" })
      const error = failureOf(yield* Effect.exit(ids.mint({ entityType: "P" })))
      expect(error?._tag).toBe("RequestTimeout")
      if (error?._tag === "RequestTimeout") {
        expect(error.scope).toBe("attempt")
        expect(error.requestSent).toBe(true)
        expect(error.timeoutMs).toBe(200)
      }
      expect(yield* poll(Effect.sync(server.openCarrying), (n) => n === 0, { every: "10 millis", within: "5 seconds" }))
        .toBe(0)
    }))

  it.scopedLive("the call's deadline cuts the attempt's timer: RequestTimeout (overall)", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer(stalledBody("chunked"))
      const ids = yield* service(server.url, { requestTimeout: "5 seconds", timeout: "300 millis" })
      const started = performance.now()
      const error = failureOf(yield* Effect.exit(ids.mint({ entityType: "P" })))
      expect(performance.now() - started).toBeLessThan(4000)
      expect(error?._tag).toBe("RequestTimeout")
      if (error?._tag === "RequestTimeout") expect(error.scope).toBe("overall")
    }))

  it.scopedLive("a mint sent straight through the pool: the same request, the mint span as traceparent", () =>
    Effect.gen(function*() {
      const minted = ChittyId.parseOrThrow(vectors.valid[0].id)
      if (minted.kind !== "permanent") return expect.fail("the first valid vector is a permanent ID")
      const key = `key-${minted.sequence}`
      const { seen, server } = yield* recording((_req, res) => {
        res.writeHead(200, { "content-type": "application/json", "idempotency-key": key })
        res.end(JSON.stringify({
          success: true,
          chittyId: minted.id,
          components: Api.componentsOf(minted),
          timestamp: new Date(0).toISOString()
        }))
      })
      const ids = yield* service(server.url, { idempotency: "auto" })
      // a tracer that records: the client makes its own span (with Effect's default one it makes none)
      const made: Array<string> = []
      const defaultTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)
      const recordingTracer = Tracer.make({
        span: (name, ...rest) => {
          made.push(name)
          return defaultTracer.span(name, ...rest)
        },
        context: defaultTracer.context
      })
      const caller = yield* Effect.makeSpan("caller")
      const result = yield* ids.mint({
        entityType: minted.entityType,
        region: minted.region,
        jurisdiction: minted.jurisdiction,
        trustLevel: minted.trustLevel,
        idempotencyKey: key
      }).pipe(Effect.withParentSpan(caller), Effect.withTracer(recordingTracer))
      expect(made).toEqual(["ChittyId.mint"])
      expect(result.chittyId).toBe(minted.id)
      expect(result.idempotencyKey).toBe(key)
      expect(seen).toHaveLength(1)
      const [request] = seen
      expect(request?.url).toBe(
        `/v1/mint?region=${minted.region}&jurisdiction=${minted.jurisdiction}&trust=${minted.trustLevel}`
      )
      expect(request?.headers["authorization"]).toBe("Bearer lean-test-token")
      expect(request?.headers["accept"]).toBe("application/json")
      expect(request?.headers["content-type"]).toBe("application/json")
      expect(request?.headers["idempotency-key"]).toBe(key)
      expect(JSON.parse(request?.body ?? "")).toMatchObject({ entityType: minted.entityType })
      // the mint's own span, a child of the caller's: same trace, another span
      const traceparent = String(request?.headers["traceparent"])
      expect(traceparent).toMatch(new RegExp(`^00-${caller.traceId}-[0-9a-f]{16}-01$`))
      expect(traceparent).not.toContain(caller.spanId)
      // the echoed key was read from the raw headers: this service is now known to keep keys
      const stats = yield* ids.stats
      expect(stats.requests.keysHonoured).toBe(true)
    }))

  it.scopedLive("with Effect's default tracer no span is made: the caller's own span is the traceparent", () =>
    Effect.gen(function*() {
      const minted = ChittyId.parseOrThrow(vectors.valid[0].id)
      if (minted.kind !== "permanent") return expect.fail("the first valid vector is a permanent ID")
      const { seen, server } = yield* recording((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({
          success: true,
          chittyId: minted.id,
          components: Api.componentsOf(minted),
          timestamp: new Date(0).toISOString()
        }))
      })
      const ids = yield* service(server.url)
      const mint = ids.mint({
        entityType: minted.entityType,
        region: minted.region,
        jurisdiction: minted.jurisdiction,
        trustLevel: minted.trustLevel
      })
      const caller = yield* Effect.makeSpan("caller")
      yield* mint.pipe(Effect.withParentSpan(caller))
      expect(seen[0]?.headers["traceparent"]).toBe(`00-${caller.traceId}-${caller.spanId}-01`)
      // no span anywhere: no traceparent at all
      yield* mint
      expect(seen).toHaveLength(2)
      expect(seen[1]?.headers["traceparent"]).toBeUndefined()
    }))

  it("headerValue reads a header from raw lines, any case, repeated values joined", () => {
    const raw = [Buffer.from("Retry-After"), Buffer.from("2"), "x-a", "1", "X-A", "2"]
    expect(UndiciClient.headerValue(raw, "retry-after")).toBe("2")
    expect(UndiciClient.headerValue(raw, "x-a")).toBe("1, 2")
    expect(UndiciClient.headerValue(raw, "x-b")).toBeUndefined()
  })

  it.scopedLive("transformClient applies to the lean client, and its timer still holds", () =>
    Effect.gen(function*() {
      const headers: Array<unknown> = []
      const server = yield* hostileServer((req, res, tools) => {
        headers.push(req.headers["x-tenant"])
        stalledBody("chunked")(req, res, tools)
      })
      const ids = yield* service(server.url, {
        requestTimeout: "200 millis",
        transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-tenant", "acme"))
      })
      const error = failureOf(yield* Effect.exit(ids.mint({ entityType: "P" })))
      expect(error?._tag).toBe("RequestTimeout")
      expect(headers).toEqual(["acme"])
    }))
})
