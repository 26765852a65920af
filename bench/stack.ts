/**
 * `npm run -s bench:stack -- [calls] [concurrency] [rounds]` (the built package, from dist/; plain
 * `node --import tsx bench/stack.ts` runs src/): the client's own cost per mint without
 * sockets — `IdService.mint` with the full live stack over the lean client, whose undici dispatcher
 * is replaced by one that answers each request with a well-formed mint answer on the next
 * microtask. What is left is the Effect stack (breaker, retry, deadline, decode, checks, metrics,
 * span) plus the lean client's own work. Prints CPU µs per call.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as IdService from "effect-chittyid/IdService"
import * as UndiciClient from "effect-chittyid/internal/undiciClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import type * as Undici from "undici"
import { cannedAnswer } from "./lib/cannedAnswer.ts"
import { nextTarget } from "./lib/workload.ts"

const calls = Number(process.argv[2] ?? 20_000)
const concurrency = Number(process.argv[3] ?? 1)
const rounds = Number(process.argv[4] ?? 5)

const answer = cannedAnswer()

const dispatcher = {
  dispatch: (options: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandler) => {
    queueMicrotask(() => {
      const text = Buffer.from(
        answer(
          options.path.slice(options.path.indexOf("?") + 1),
          typeof options.body === "string" ? options.body : Buffer.from(options.body as Uint8Array).toString()
        )
      )
      handler.onConnect?.(() => {})
      handler.onHeaders?.(
        200,
        [
          Buffer.from("content-type"),
          Buffer.from("application/json"),
          Buffer.from("content-length"),
          Buffer.from(String(text.length))
        ],
        () => {},
        "OK"
      )
      handler.onData?.(text)
      handler.onComplete?.([])
    })
    return true
  }
} as unknown as Undici.Dispatcher

const client = UndiciClient.make({ dispatcher, limits: { timeoutMs: 0, maxResponseBytes: 65_536 } })
const layer = IdService.IdService.layerWith({
  url: "http://127.0.0.1:1",
  token: Redacted.make("stack"),
  health: { interval: "1 hour" }
}).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)), Layer.orDie)
const runtime = ManagedRuntime.make(layer)
const service = await runtime.runPromise(IdService.IdService)

const round = (n: number) =>
  runtime.runPromise(Effect.suspend(() => {
    let issued = 0
    const worker = Effect.gen(function*() {
      while (issued++ < n) yield* service.mint(nextTarget())
    })
    return Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
  }))

await round(2_000)
const figures: Array<number> = []
for (let r = 0; r < rounds; r++) {
  const before = process.cpuUsage()
  await round(calls)
  const used = process.cpuUsage(before)
  figures.push((used.user + used.system) / calls)
}
figures.sort((a, b) => a - b)
process.stderr.write(
  `${calls} calls @${concurrency} x${rounds}: CPU µs/call min ${figures[0]!.toFixed(1)} median ${
    figures[rounds >> 1]!.toFixed(1)
  }\n`
)
await runtime.dispose()
const stop = (globalThis as { readonly __heapStop?: () => Promise<void> }).__heapStop
if (stop !== undefined) await stop()
