/**
 * A long mint pipeline: `Stream.range` → `Stream.mapEffect(IdService.mint, { concurrency: 64 })` →
 * count. Measured twice, with N and 4·N IDs, each between two settled heaps (forced GC): if the
 * client kept anything per ID, the heap would grow four times as much in the second run.
 */
import * as IdService from "effect-chittyid/IdService"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Stream from "effect/Stream"
import { serviceLayer } from "./contenders.ts"
import type { Server } from "./server.ts"
import { round3, settledHeap } from "./stats.ts"
import { nextTarget } from "./workload.ts"

/** One pipeline run. */
export interface PipelineRun {
  readonly ids: number
  readonly seconds: number
  readonly idsPerSec: number
  readonly heapBeforeMB: number
  readonly heapAfterMB: number
  readonly heapGrowthMB: number
}

const mb = (bytes: number): number => round3(bytes / 2 ** 20)

/** Runs the pipeline for `small` then `large` IDs on one live service (after a warm-up). */
export const pipeline = async (
  server: Server,
  options: { readonly small: number; readonly large: number; readonly concurrency: number }
): Promise<{ readonly small: PipelineRun; readonly large: PipelineRun }> => {
  const runtime = ManagedRuntime.make(serviceLayer(server).pipe(Layer.orDie))
  try {
    const service = await runtime.runPromise(IdService.IdService)
    const mintAll = (n: number) =>
      Stream.range(1, n).pipe(
        Stream.mapEffect(() => service.mint(nextTarget()), { concurrency: options.concurrency }),
        Stream.runCount
      )
    const run = async (n: number): Promise<PipelineRun> => {
      await server.reset()
      const before = await settledHeap()
      const started = performance.now()
      const count = await runtime.runPromise(mintAll(n))
      const seconds = (performance.now() - started) / 1000
      const after = await settledHeap()
      if (count !== n) throw new Error(`the pipeline minted ${count} IDs, expected ${n}`)
      return {
        ids: n,
        seconds: round3(seconds),
        idsPerSec: Math.round(n / seconds),
        heapBeforeMB: mb(before),
        heapAfterMB: mb(after),
        heapGrowthMB: mb(after - before)
      }
    }
    await runtime.runPromise(mintAll(Math.min(5_000, options.small)))
    const small = await run(options.small)
    const large = await run(options.large)
    return { small, large }
  } finally {
    await runtime.dispose()
  }
}
