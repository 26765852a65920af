/**
 * `npm run bench`: effect-chittyid side by side with what users would pick instead, in one run:
 *
 * 1. `POST /v1/mint` against two servers, each in a process of its own: the reference server (no
 *    faults, no added latency) at concurrency 1, 16 and 64, and a canned `node:http` server (a
 *    well-formed answer built from the request, nothing else: the client's own cost shows) at 1 and
 *    64. Contenders: raw-undici (the floor), raw-fetch, effect-chittyid (`IdService.mint`, full live
 *    stack over `effect-chittyid/node`'s client), cockatiel and opossum (retry + breaker around
 *    undici), and the same two with the library's checks of the answer (`+ decode`: Schema decode, ID
 *    parse, match with the request); more transports in the full run. Warm-up, then rounds in
 *    shifting orders (a different neighbour before each contender each round); median and p99 latency over every call, median throughput over the rounds,
 *    client CPU per call (`clientCpuUs`), the server process's CPU per call (`serverCpuUs`, Linux),
 *    ratios to raw-undici against the same server. Rows carry `server: "reference" | "canned"`.
 * 2. validate: service call vs cache hit, and a locally rejected ID (in process, per call).
 * 3. the open breaker: time to reject a mint, and the requests the server saw meanwhile (0).
 * 4. a `Stream` mint pipeline (concurrency 64) of N and 4·N IDs: throughput, heap growth (forced GC).
 *
 * The library runs as users run it: `npm run bench` builds the package first and the bench imports it
 * from `dist/` (tsc output, like the other contenders' published JS), the reference server too (its
 * `dist/bin/serve.js`); see `lib/library.ts`. The report's header says which.
 *
 * Flags: `--json` (one JSON object on stdout, progress on stderr), `--quick` (about one and a half minutes on a
 * 2-core machine), `--only a,b` (contenders by name, for profiling).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Canned from "./lib/canned.ts"
import * as Contenders from "./lib/contenders.ts"
import { type Contender, type Round, round } from "./lib/harness.ts"
import { library } from "./lib/library.ts"
import * as Micro from "./lib/micro.ts"
import { pipeline } from "./lib/pipeline.ts"
import * as Report from "./lib/report.ts"
import * as ServerProcess from "./lib/server.ts"
import { machine, processCpuUs, type Result, type ServerKind, summarize } from "./lib/stats.ts"

const argv = process.argv.slice(2)
const json = argv.includes("--json")
const quick = argv.includes("--quick")
const onlyIndex = argv.indexOf("--only")
const only = onlyIndex >= 0 ? new Set((argv[onlyIndex + 1] ?? "").split(",")) : undefined

const sizes = quick
  ? {
    rounds: 3,
    // rounds long enough that a collection landing in one is paid for by the calls that made it
    warmup: 500,
    serverWarmup: 3_000,
    calls: { 1: 1_000, 16: 1_500, 64: 4_000 } as Record<number, number>,
    pipeline: { small: 2_500, large: 10_000, concurrency: 64 },
    validate: { ids: 300, hitPasses: 40 },
    breaker: { calls: 10_000 },
    extras: false
  }
  : {
    rounds: 5,
    warmup: 500,
    serverWarmup: 5_000,
    calls: { 1: 1_000, 16: 2_000, 64: 4_000 } as Record<number, number>,
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

const makeContenders = async (server: Target): Promise<Array<Contender>> => {
  const all: Array<() => Promise<Contender> | Contender> = [
    () => Contenders.raw("raw-undici", Contenders.undiciSend, server),
    () => Contenders.raw("raw-fetch", Contenders.fetchSend, server),
    () => Contenders.effectChittyId("effect-chittyid", server),
    () => Contenders.cockatiel("cockatiel", Contenders.undiciSend, server),
    () => Contenders.cockatiel("cockatiel + decode", Contenders.undiciSendDecoded, server),
    () => Contenders.opossum("opossum", Contenders.undiciSend, server),
    () => Contenders.opossum("opossum + decode", Contenders.undiciSendDecoded, server)
  ]
  const extras: Array<() => Promise<Contender> | Contender> = [
    () => Contenders.effectChittyIdPromise("effect-chittyid (runPromise)", server),
    () => Contenders.effectPlatform("@effect/platform HttpClient", server),
    () =>
      Contenders.effectChittyId(
        "effect-chittyid (NodeHttpClient.layerUndici)",
        server,
        NodeHttpClient.layerUndici
      ),
    () => Contenders.effectChittyId("effect-chittyid (node:http keep-alive)", server, Contenders.nodeHttpKeepAlive),
    () => Contenders.cockatiel("cockatiel (fetch)", Contenders.fetchSend, server),
    () => Contenders.opossum("opossum (fetch)", Contenders.fetchSend, server)
  ]
  const made: Array<Contender> = []
  for (const make of sizes.extras || only !== undefined ? [...all, ...extras] : all) {
    const contender = await make()
    if (only === undefined || only.has(contender.name)) made.push(contender)
    else await contender.close()
  }
  return made
}

/**
 * The round with the collection of the young garbage it left (a minor GC, its CPU added to the
 * round's): each contender pays for what it allocated, not the one after it. A minor collection
 * leaves the old generation (and the code) alone, so unlike a full `gc()` it does not slow the next
 * round.
 */
const withOwnGarbage = (measured: Round): Round => {
  const before = process.cpuUsage()
  globalThis.gc?.({ type: "minor" })
  const used = process.cpuUsage(before)
  return { ...measured, cpuUs: measured.cpuUs + used.user + used.system }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))

/**
 * The `k`-th contender to run in round `r` of `n`: each round starts elsewhere and steps through the
 * list by a different stride (coprime with `n`), so a contender follows a different one each round.
 * With one stride, every contender always ran right after the same neighbour and paid for its
 * garbage: effect-chittyid ran after raw-fetch, whose collections (fetch allocates several times what
 * undici does) landed in effect-chittyid's rounds.
 */
const orderOf = (r: number, k: number, n: number): number => {
  const strides = Array.from({ length: n }, (_, i) => i + 1).filter((s) => s < n && gcd(s, n) === 1)
  const stride = strides.length === 0 ? 1 : strides[r % strides.length]!
  return (r + k * stride) % n
}

const mintBench = async (
  server: Target,
  contenders: ReadonlyArray<Contender>,
  reset: () => Promise<void>
) => {
  const results: Array<Result & { readonly firstError?: string }> = []
  for (const concurrency of concurrencies[server.kind]) {
    await reset()
    const calls = sizes.calls[concurrency]!
    log(`mint @${concurrency} (${server.kind} server): warm-up`)
    for (const contender of contenders) await round(contender, sizes.warmup, concurrency)
    const rounds = new Map<string, Array<Round>>(contenders.map((c) => [c.name, []]))
    const serverCpu = new Map<string, number | undefined>(contenders.map((c) => [c.name, 0]))
    for (let r = 0; r < sizes.rounds; r++) {
      log(`mint @${concurrency} (${server.kind} server): round ${r + 1}/${sizes.rounds}`)
      for (let k = 0; k < contenders.length; k++) {
        const contender = contenders[orderOf(r, k, contenders.length)]!
        // No forced collection before a round: a full `gc()` while no call is in flight slows the
        // next few thousand calls of every client (at c=64 on the canned server: raw undici 45 → 85
        // µs of CPU per call, effect-chittyid 75 → 235 µs, back to normal after ~3 000 calls; it
        // shows as deoptimizations, "wrong map", in --trace-deopt), so rounds after one measured
        // the recovery from the bench's own collection, not the client. No service does that.
        const cpuBefore = processCpuUs(server.pid)
        rounds.get(contender.name)!.push(withOwnGarbage(await round(contender, calls, concurrency)))
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
  const contenders = await makeContenders(server)
  try {
    // The server's own JIT warms up first: its CPU per request at the first concurrency would
    // otherwise carry its compilation (a few hundred warm-up calls per contender are not enough).
    const first = contenders[0]
    if (first !== undefined) {
      log(`${server.kind} server: warm-up (${sizes.serverWarmup} calls)`)
      await round(first, sizes.serverWarmup, 1)
    }
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
