/**
 * `npm run bench`: effect-chittyid side by side with what users would pick instead, in one run:
 *
 * 1. `POST /v1/mint` against two servers, each in a process of its own: the reference server (no
 *    faults, no added latency) at concurrency 1, 16 and 64, and a canned `node:http` server (a
 *    well-formed answer built from the request, nothing else: the client's own cost shows) at 1 and
 *    64. Contenders: raw-undici (the floor), raw-fetch, effect-chittyid (`IdService.mint`, full live
 *    stack over `effect-chittyid/node`'s client), cockatiel and opossum (retry + breaker around
 *    undici), and the same two with the library's checks of the answer (`+ decode`: Schema decode, ID
 *    parse, match with the request); more transports in the full run. Each contender runs in a
 *    process of its own (`contender.ts`), asked for one round at a time. Warm-up, then rounds in a
 *    different order each round; median and p99 latency over every call, median throughput over the
 *    rounds, client CPU per call (`clientCpuUs`: the contender's process, its collections included),
 *    the server process's CPU per call (`serverCpuUs`, Linux),
 *    ratios to raw-undici against the same server. Rows carry `server: "reference" | "canned"`.
 * 2. validate: service call vs cache hit, and a locally rejected ID (in process, per call).
 * 3. the open breaker: time to reject a mint, and the requests the server saw meanwhile (0).
 * 4. a `Stream` mint pipeline (concurrency 64) of N and 4·N IDs: throughput, heap growth (forced GC).
 *
 * The library runs as users run it: `npm run bench` builds the package first and the bench imports it
 * from `dist/` (tsc output, like the other contenders' published JS), the reference server too (its
 * `dist/bin/serve.js`); see `lib/library.ts`. The report's header says which.
 *
 * Flags: `--json` (one JSON object on stdout, progress on stderr), `--quick` (about two minutes on a
 * 2-core machine), `--only a,b` (contenders by name, for profiling).
 */
import * as Canned from "./lib/canned.ts"
import type { Round } from "./lib/harness.ts"
import { library } from "./lib/library.ts"
import * as Micro from "./lib/micro.ts"
import { pipeline } from "./lib/pipeline.ts"
import * as Remote from "./lib/remote.ts"
import * as Report from "./lib/report.ts"
import * as Roster from "./lib/roster.ts"
import * as ServerProcess from "./lib/server.ts"
import { machine, processCpuUs, type Result, type ServerKind, summarize } from "./lib/stats.ts"

const argv = process.argv.slice(2)
const json = argv.includes("--json")
const quick = argv.includes("--quick")
const onlyIndex = argv.indexOf("--only")
const only = onlyIndex >= 0 ? new Set((argv[onlyIndex + 1] ?? "").split(",")) : undefined

/** Calls per round, by server and concurrency. */
type CallsPerRound = Record<ServerKind, Record<number, number>>
/** The canned server's rounds, the same in both runs (~0.5 s each). */
const cannedCalls = { 1: 2_500, 64: 10_000 }

const sizes = quick
  ? {
    rounds: 3,
    warmup: 500,
    processWarmup: 4_000,
    // rounds long enough that no single collection decides a round's figures: the canned server
    // answers ~5× faster than the reference one, so its rounds have more calls (~0.5 s each)
    calls: { reference: { 1: 1_000, 16: 1_500, 64: 4_000 }, canned: cannedCalls } as CallsPerRound,
    pipeline: { small: 2_500, large: 10_000, concurrency: 64 },
    validate: { ids: 300, hitPasses: 40 },
    breaker: { calls: 10_000 },
    extras: false
  }
  : {
    rounds: 5,
    warmup: 500,
    processWarmup: 6_000,
    calls: { reference: { 1: 1_000, 16: 2_000, 64: 4_000 }, canned: cannedCalls } as CallsPerRound,
    pipeline: { small: 25_000, large: 100_000, concurrency: 64 },
    validate: { ids: 2_000, hitPasses: 50 },
    breaker: { calls: 100_000 },
    extras: true
  }
/** Concurrencies per server: the canned rows are about the client's cost, at the two ends. */
const concurrencies: Record<ServerKind, ReadonlyArray<1 | 16 | 64>> = { reference: [1, 16, 64], canned: [1, 64] }

const log = (message: string): void => {
  process.stderr.write(`${message}\n`)
}

/** A server the mint rows run against. */
interface Target {
  readonly kind: ServerKind
  readonly url: string
  readonly token: string
  readonly pid: number
}

/**
 * The contenders of this run, each started in a process of its own (`contender.ts`) against
 * `server`: a client's CPU per call is then its own process's, and no client's garbage is collected
 * in another's round (in one shared process the library's c=64 canned CPU went 69 → 90 µs per call
 * with raw-fetch beside it, and the others moved too).
 */
const startContenders = async (server: Target): Promise<Array<Remote.Remote>> => {
  const names = [...Roster.main, ...(sizes.extras || only !== undefined ? Roster.extras : [])]
    .map(([name]) => name)
    .filter((name) => only === undefined || only.has(name))
  const started: Array<Remote.Remote> = []
  try {
    for (const name of names) started.push(await Remote.start(name, server))
  } catch (error) {
    await Promise.all(started.map((contender) => contender.close()))
    throw error
  }
  return started
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

/**
 * The `k`-th contender to run in round `r` of `n`: each round starts elsewhere and steps through the
 * list by a different stride (coprime with `n`), so a contender follows a different one each round
 * (the server and the machine carry some state from one round to the next).
 */
const orderOf = (r: number, k: number, n: number): number => {
  const strides = Array.from({ length: n }, (_, i) => i + 1).filter((s) => s < n && gcd(s, n) === 1)
  const stride = strides.length === 0 ? 1 : strides[r % strides.length]!
  return (r + k * stride) % n
}

const mintBench = async (
  server: Target,
  contenders: ReadonlyArray<Remote.Remote>,
  reset: () => Promise<void>
) => {
  const results: Array<Result & { readonly firstError?: string }> = []
  for (const concurrency of concurrencies[server.kind]) {
    await reset()
    const calls = sizes.calls[server.kind][concurrency]!
    log(`mint @${concurrency} (${server.kind} server): warm-up`)
    for (const contender of contenders) await contender.round(sizes.warmup, concurrency)
    const rounds = new Map<string, Array<Round>>(contenders.map((c) => [c.name, []]))
    const serverCpu = new Map<string, number | undefined>(contenders.map((c) => [c.name, 0]))
    for (let r = 0; r < sizes.rounds; r++) {
      log(`mint @${concurrency} (${server.kind} server): round ${r + 1}/${sizes.rounds}`)
      for (let k = 0; k < contenders.length; k++) {
        const contender = contenders[orderOf(r, k, contenders.length)]!
        // No forced collection before a round: a full `gc()` while no call is in flight slows the
        // next few thousand calls of a client (at c=64 on the canned server: raw undici 45 → 85 µs
        // of CPU per call, effect-chittyid 75 → 235 µs, back to normal after ~3 000 calls; it shows
        // as deoptimizations, "wrong map", in --trace-deopt), so rounds after one measured the
        // recovery from the bench's own collection, not the client. No service does that.
        const cpuBefore = processCpuUs(server.pid)
        rounds.get(contender.name)!.push(await contender.round(calls, concurrency))
        const cpuAfter = processCpuUs(server.pid)
        const sum = serverCpu.get(contender.name)
        serverCpu.set(
          contender.name,
          sum === undefined || cpuBefore === undefined || cpuAfter === undefined
            ? undefined
            : sum + cpuAfter - cpuBefore
        )
      }
    }
    for (const contender of contenders) {
      const result = summarize(
        contender.name,
        server.kind,
        concurrency,
        rounds.get(contender.name)!,
        serverCpu.get(contender.name)
      )
      if (result.errors > 0) log(`  ${contender.name}: ${result.errors} errors, first: ${result.firstError}`)
      results.push(result)
    }
  }
  return results
}

/** The mint rows against one server: its contenders made, measured and closed. */
const mintRows = async (server: Target, reset: () => Promise<void>) => {
  const contenders = await startContenders(server)
  try {
    // Every contender's process, and the server, warm up first: JIT-compiling a client is part of
    // its start, not of its CPU per call, and a fresh process needs thousands of calls to get there
    // (effect-chittyid's canned c=1 CPU was ~200 µs a call after 2 000 calls in its process, ~140
    // after 5 000; raw undici ~148, then ~117). The server's own compilation goes with the first.
    log(`${server.kind} server: warm-up (${sizes.processWarmup} calls per contender)`)
    for (const contender of contenders) await contender.round(sizes.processWarmup, 16)
    return await mintBench(server, contenders, reset)
  } finally {
    for (const contender of contenders) await contender.close()
  }
}

const main = async () => {
  const started = performance.now()
  log(`starting the reference server and the canned one…`)
  const server = await ServerProcess.start()
  const canned = await Canned.start()
  log(`reference server ${server.url} (pid ${server.pid}), canned server ${canned.url} (pid ${canned.pid})`)
  try {
    const results = [
      ...(await mintRows({ kind: "reference", ...server }, () => server.reset())),
      ...(await mintRows({ kind: "canned", ...canned }, () => Promise.resolve()))
    ]
    const micro = only === undefined || only.has("micro")
    let validate: Micro.ValidateFigures | undefined
    let breaker: Micro.BreakerFigures | undefined
    let pipe: Awaited<ReturnType<typeof pipeline>> | undefined
    if (micro) {
      await server.reset()
      log("validate: service call, cache hit, local rejection")
      validate = await Micro.validate(server, sizes.validate)
      await server.reset()
      log("breaker: rejection while open")
      breaker = await Micro.breakerOpen(server, sizes.breaker)
      log(`pipeline: ${sizes.pipeline.small} then ${sizes.pipeline.large} IDs`)
      pipe = await pipeline(server, sizes.pipeline)
    }
    const report = Report.make({
      machine: machine(),
      library,
      quick,
      seconds: (performance.now() - started) / 1000,
      results,
      validate,
      breaker,
      pipeline: pipe
    })
    process.stdout.write(json ? `${JSON.stringify(report)}\n` : Report.table(report))
  } finally {
    await canned.stop()
    await server.stop()
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    if (error instanceof Error && error.cause !== undefined) log(`cause: ${String(error.cause)}`)
    process.exit(1)
  }
)
