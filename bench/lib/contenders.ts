/**
 * The contenders, all minting the same request against the same server:
 *
 * - `raw-undici`: `undici.request` POST + `JSON.parse`, nothing else: the floor.
 * - `raw-fetch`: the same with the global `fetch`.
 * - `effect-chittyid`: `IdService.mint` over `Node.layerWith` (undici, Schema decode, breaker, retry,
 *   timeouts, metrics, spans), run as fibers.
 * - `cockatiel`, `opossum`: the raw request wrapped in each library's breaker and retry with the
 *   settings `IdService` uses by default (3 retries from 100 ms, capped at 5 s; open after 5
 *   failures for 60 s; 5 s per attempt, 15 s overall).
 *
 * Every undici-based contender has its own `Agent` with default options, like
 * `NodeHttpClient.layerUndici`: same keep-alive pooling, no pipelining.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClientModule from "@effect/platform/HttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap
} from "cockatiel"
import * as Api from "effect-chittyid/Api"
import * as ChittyId from "effect-chittyid/ChittyId"
import * as IdService from "effect-chittyid/IdService"
import type * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
import * as Node from "effect-chittyid/node"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import CircuitBreaker from "opossum"
import { Agent, request } from "undici"
import type { Contender } from "./harness.ts"
import { nextTarget, type WireMint, wireMint } from "./workload.ts"

/** Sends one mint and returns the minted ID; throws on a non-200 answer. */
export type Send = (wire: WireMint, signal?: AbortSignal) => Promise<string>

/** The server the contenders talk to. */
export interface Server {
  readonly url: string
  readonly token: string
}

class HttpStatusError extends Error {
  constructor(readonly status: number, body: string) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`)
  }
}

const chittyIdOf = (text: string, _wire?: WireMint): string => {
  const json: unknown = JSON.parse(text)
  if (typeof json === "object" && json !== null && "chittyId" in json && typeof json.chittyId === "string") {
    return json.chittyId
  }
  throw new Error(`no chittyId in ${text.slice(0, 200)}`)
}

const headersOf = (server: Server, wire: WireMint): Record<string, string> => ({
  authorization: `Bearer ${server.token}`,
  "content-type": "application/json",
  accept: "application/json",
  "idempotency-key": wire.idempotencyKey
})

/** What a hand-written client does with a 200's body: the minted ID, or a throw. */
export type Check = (text: string, wire: WireMint) => string

const decodeMint = Schema.decodeUnknownEither(Api.MintResponse, { errors: "first", onExcessProperty: "ignore" })

/**
 * The checks the library makes of a mint answer, by hand: Schema decode of the contract, the ID
 * parsed, a permanent one, matching the request's region, jurisdiction and entity type.
 */
export const decodeCheck: Check = (text, wire) => {
  const answer = decodeMint(JSON.parse(text))
  if (Either.isLeft(answer)) throw new Error(`malformed answer: ${answer.left.message.slice(0, 200)}`)
  const parts = ChittyId.parse(answer.right.chittyId)
  if (Either.isLeft(parts) || parts.right.kind !== "permanent") throw new Error("not a permanent ID")
  const { target } = wire
  if (
    parts.right.region !== target.region || parts.right.jurisdiction !== target.jurisdiction ||
    parts.right.entityType !== target.entityType
  ) throw new Error("the ID does not match the request")
  return answer.right.chittyId
}

/** `undici.request` over its own default `Agent`. */
export const undiciSend = (
  server: Server,
  check: Check = chittyIdOf
): { readonly send: Send; readonly close: () => Promise<void> } => {
  const dispatcher = new Agent()
  return {
    send: async (wire, signal) => {
      const response = await request(server.url + wire.path, {
        method: "POST",
        dispatcher,
        headers: headersOf(server, wire),
        body: wire.body,
        ...(signal === undefined ? {} : { signal })
      })
      const text = await response.body.text()
      if (response.statusCode !== 200) throw new HttpStatusError(response.statusCode, text)
      return check(text, wire)
    },
    close: () => dispatcher.close()
  }
}

/** The global `fetch` (Node's bundled undici, its global dispatcher). */
export const fetchSend = (server: Server): { readonly send: Send; readonly close: () => Promise<void> } => ({
  send: async (wire, signal) => {
    const response = await fetch(server.url + wire.path, {
      method: "POST",
      headers: headersOf(server, wire),
      body: wire.body,
      ...(signal === undefined ? {} : { signal })
    })
    const text = await response.text()
    if (response.status !== 200) throw new HttpStatusError(response.status, text)
    return chittyIdOf(text)
  },
  close: () => Promise.resolve()
})

type Transport = (server: Server) => { readonly send: Send; readonly close: () => Promise<void> }

/** `undici.request` with the library's checks of the answer ({@link decodeCheck}). */
export const undiciSendDecoded: Transport = (server) => undiciSend(server, decodeCheck)

/** A bare transport: the floor. */
export const raw = (name: string, transport: Transport, server: Server): Contender => {
  const { close, send } = transport(server)
  return { _tag: "Promise", name, call: () => send(wireMint(nextTarget())), close }
}

/** The library's defaults, shared by the cockatiel and opossum contenders. */
const policy = {
  retries: 3,
  baseMs: 100,
  maxDelayMs: 5_000,
  consecutiveFailures: 5,
  openMs: 60_000,
  attemptTimeoutMs: 5_000,
  overallTimeoutMs: 15_000
} as const

/** cockatiel: overall timeout ∘ retry ∘ breaker ∘ attempt timeout, like `IdServiceClient`. */
export const cockatiel = (name: string, transport: Transport, server: Server): Contender => {
  const { close, send } = transport(server)
  const guarded = wrap(
    timeout(policy.overallTimeoutMs, TimeoutStrategy.Aggressive),
    retry(handleAll, {
      maxAttempts: policy.retries,
      backoff: new ExponentialBackoff({ initialDelay: policy.baseMs, maxDelay: policy.maxDelayMs })
    }),
    circuitBreaker(handleAll, {
      halfOpenAfter: policy.openMs,
      breaker: new ConsecutiveBreaker(policy.consecutiveFailures)
    }),
    timeout(policy.attemptTimeoutMs, TimeoutStrategy.Aggressive)
  )
  return {
    _tag: "Promise",
    name,
    call: () => {
      const wire = wireMint(nextTarget())
      return guarded.execute(({ signal }) => send(wire, signal))
    },
    close
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * opossum: a breaker (5 s per attempt, opens at 50 % failures over 10 calls in 10 s, 60 s open)
 * around the request, and a retry loop around the breaker (opossum has none): 3 retries, full
 * jitter from 100 ms doubling, capped at 5 s; an open breaker is not retried.
 */
export const opossum = (name: string, transport: Transport, server: Server): Contender => {
  const { close, send } = transport(server)
  const breaker = new CircuitBreaker(send, {
    timeout: policy.attemptTimeoutMs,
    errorThresholdPercentage: 50,
    volumeThreshold: 10,
    rollingCountTimeout: 10_000,
    resetTimeout: policy.openMs
  })
  const call = async (): Promise<string> => {
    const wire = wireMint(nextTarget())
    const deadline = performance.now() + policy.overallTimeoutMs
    for (let attempt = 0;; attempt++) {
      try {
        return await breaker.fire(wire)
      } catch (error) {
        const open = breaker.opened || (error instanceof Error && "code" in error && error.code === "EOPENBREAKER")
        const delay = Math.random() * Math.min(policy.maxDelayMs, policy.baseMs * 2 ** attempt)
        if (open || attempt >= policy.retries || performance.now() + delay > deadline) throw error
        await sleep(delay)
      }
    }
  }
  return {
    _tag: "Promise",
    name,
    call,
    close: async () => {
      breaker.shutdown()
      await close()
    }
  }
}

/** The settings of every `IdService` in the benchmark: the health check out of the way. */
export const serviceInput = (server: Server): IdServiceConfig.Input => ({
  url: server.url,
  token: Redacted.make(server.token),
  health: { interval: "1 hour" }
})

/** An `IdService` layer, live, over the `HttpClient` given (default: `Node.layerWith`, undici). */
export const serviceLayer = (
  server: Server,
  http?: Layer.Layer<HttpClient.HttpClient>
): Layer.Layer<IdService.IdService, unknown> =>
  http === undefined
    ? Node.layerWith(serviceInput(server))
    : IdService.IdService.layerWith(serviceInput(server)).pipe(Layer.provide(http))

/** `IdService.mint` with the full live stack, as an Effect user runs it (fibers, no Promise per call). */
export const effectChittyId = async (
  name: string,
  server: Server,
  http?: Layer.Layer<HttpClient.HttpClient>
): Promise<Contender> => {
  const runtime = ManagedRuntime.make(serviceLayer(server, http).pipe(Layer.orDie))
  const service = await runtime.runPromise(IdService.IdService)
  return {
    _tag: "Effect",
    name,
    run: (effect) => runtime.runPromise(effect),
    call: () => Effect.suspend(() => service.mint(nextTarget())),
    close: () => runtime.dispose()
  }
}

/** The same, called from Promise code: one `runPromise` per mint. */
export const effectChittyIdPromise = async (name: string, server: Server): Promise<Contender> => {
  const runtime = ManagedRuntime.make(serviceLayer(server).pipe(Layer.orDie))
  const service = await runtime.runPromise(IdService.IdService)
  return {
    _tag: "Promise",
    name,
    call: () => runtime.runPromise(Effect.suspend(() => service.mint(nextTarget()))),
    close: () => runtime.dispose()
  }
}

/** `NodeHttpClient.layer` (node:http) with a keep-alive agent, for the transport comparison. */
export const nodeHttpKeepAlive: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerWithoutAgent.pipe(
  Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true }))
)

/**
 * `@effect/platform`'s `HttpClient` over `NodeHttpClient.layerUndici` with none of the library: the
 * same request, `response.text` and `JSON.parse`. Separates what the platform costs from what
 * effect-chittyid adds.
 */
export const effectPlatform = async (
  name: string,
  server: Server,
  http: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerUndici
): Promise<Contender> => {
  const runtime = ManagedRuntime.make(http)
  const client: HttpClient.HttpClient = await runtime.runPromise(HttpClientModule.HttpClient)
  const mint = (wire: WireMint) =>
    client.execute(
      HttpClientRequest.post(server.url + wire.path).pipe(
        HttpClientRequest.setHeaders({
          authorization: `Bearer ${server.token}`,
          "idempotency-key": wire.idempotencyKey
        }),
        HttpClientRequest.acceptJson,
        HttpClientRequest.bodyText(wire.body, "application/json")
      )
    ).pipe(
      Effect.flatMap((response) =>
        Effect.flatMap(response.text, (text): Effect.Effect<string, unknown> =>
          response.status === 200
            ? Effect.try(() => chittyIdOf(text))
            : Effect.fail(new HttpStatusError(response.status, text)))
      )
    )
  return {
    _tag: "Effect",
    name,
    run: (effect) => runtime.runPromise(effect),
    call: () => Effect.suspend(() => mint(wireMint(nextTarget()))),
    close: () => runtime.dispose()
  }
}
