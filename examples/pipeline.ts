/**
 * Minting many IDs: `Effect.forEach` and `Stream` with bounded concurrency.
 *
 *   npx tsx examples/pipeline.ts [count] [concurrency]
 *
 * Each mint carries its own `Idempotency-Key`, so the retries of a failing call never mint twice.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Chunk, Console, Effect, Stream } from "effect"
import * as ChittyId from "effect-chittyid/ChittyId"
import * as IdService from "effect-chittyid/IdService"
import * as Live from "./live.ts"

const count = Number(process.argv[2] ?? 2000)
const concurrency = Number(process.argv[3] ?? 16)

const program = Effect.gen(function*() {
  // 1. Effect.forEach: a fixed batch, at most `concurrency` requests in flight.
  const start = performance.now()
  const batch = yield* Effect.forEach(
    ChittyId.entityTypeCodes,
    (entityType) => IdService.mint({ entityType, metadata: { batch: "forEach" } }),
    { concurrency }
  )
  yield* Console.log(
    `forEach: ${batch.length} IDs, one per entity type, in ${(performance.now() - start).toFixed(1)} ms`
  )

  // 2. Stream: an unbounded source, constant memory, results consumed as they come.
  const streamStart = performance.now()
  const regions = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const
  const summary = yield* Stream.range(0, count - 1).pipe(
    Stream.mapEffect((i) =>
      IdService.mint({
        entityType: ChittyId.entityTypeCodes[i % ChittyId.entityTypeCodes.length]!,
        region: regions[i % regions.length]!,
        metadata: { row: i }
      }), { concurrency }),
    Stream.runFold({ minted: 0, byType: {} as Record<string, number> }, (acc, result) => {
      acc.minted++
      acc.byType[result.parts.entityType] = (acc.byType[result.parts.entityType] ?? 0) + 1
      return acc
    })
  )
  const seconds = (performance.now() - streamStart) / 1000
  yield* Console.log(
    `Stream:  ${summary.minted} IDs at concurrency ${concurrency} in ${seconds.toFixed(2)} s (${
      Math.round(summary.minted / seconds)
    } IDs/s); by type ${JSON.stringify(summary.byType)}`
  )

  // 3. Validate a batch remotely: the cache answers repeats without a request.
  const sample = Chunk.fromIterable(batch.map((m) => m.chittyId))
  const results = yield* Effect.forEach(
    Chunk.appendAll(sample, sample),
    (id) => IdService.validate(id, { remote: true }),
    {
      concurrency
    }
  )
  const sources = results.reduce<Record<string, number>>(
    (acc, r) => ({ ...acc, [r.source]: (acc[r.source] ?? 0) + 1 }),
    {}
  )
  yield* Console.log(`validate: ${results.length} answers, by source ${JSON.stringify(sources)}`)
  const stats = yield* IdService.stats
  yield* Console.log(`requests sent: ${JSON.stringify(stats.requests.sent)}, retries ${stats.requests.retries}`)
})

program.pipe(Effect.provide(Live.layer()), NodeRuntime.runMain)
