/**
 * The benchmark's report: ratios to raw-undici, the targets with pass/fail, and the two renderings
 * (one JSON object, or a readable table).
 */
import { description, type Library } from "./library.ts"
import type { BreakerFigures, ValidateFigures } from "./micro.ts"
import type { PipelineRun } from "./pipeline.ts"
import type { machine, Result, ServerKind } from "./stats.ts"
import { round3 } from "./stats.ts"

/** A contender's figures relative to raw-undici at one concurrency. */
export interface Ratio {
  /** median latency ÷ raw-undici's (lower is better) */
  readonly latency: number
  /** p99 latency ÷ raw-undici's */
  readonly p99: number
  /** throughput ÷ raw-undici's (higher is better) */
  readonly throughput: number
  /** client CPU per call ÷ raw-undici's (lower is better) */
  readonly clientCpu: number
}

/** One target, judged. */
export interface Target {
  readonly target: string
  readonly pass: boolean
  readonly measured: string
}

/** Everything measured. */
export interface Report {
  readonly machine: ReturnType<typeof machine>
  /** What was measured: the built package (`dist/`, `npm run bench`) or the sources through tsx. */
  readonly library: Library
  readonly quick: boolean
  readonly seconds: number
  readonly results: ReadonlyArray<Result>
  /** `ratios[name][concurrency]`, against the reference server */
  readonly ratios: Record<string, Record<string, Ratio>>
  /** `cannedRatios[name][concurrency]`, against the canned server */
  readonly cannedRatios: Record<string, Record<string, Ratio>>
  /** The reference server's own CPU per request, µs (under raw-undici's load, by concurrency). */
  readonly referenceServerCpuUs: Record<string, number | undefined>
  readonly cacheHitMedianUs: number | undefined
  readonly breakerRejectMedianUs: number | undefined
  readonly pipeline:
    | (Pick<PipelineRun, "ids" | "seconds" | "heapGrowthMB" | "idsPerSec"> & {
      readonly runs: ReadonlyArray<PipelineRun>
      /** (growth at 4·N − growth at N) / 3·N, bytes per extra ID */
      readonly bytesPerExtraId: number
    })
    | undefined
  readonly validate: ValidateFigures | undefined
  readonly breaker: BreakerFigures | undefined
  readonly targets: ReadonlyArray<Target>
}

/** "No slower" allows this much noise (5 %), stated in the target. */
const noise = 0.05

const find = (results: ReadonlyArray<Result>, name: string, concurrency: number, server: ServerKind = "reference") =>
  results.find((r) => r.name === name && r.concurrency === concurrency && r.server === server)

const ratioOf = (a: number, b: number) => round3(a / b)

/** Builds the report: ratios and targets from the figures. */
export const make = (input: {
  readonly machine: ReturnType<typeof machine>
  readonly library: Library
  readonly quick: boolean
  readonly seconds: number
  readonly results: ReadonlyArray<Result>
  readonly validate: ValidateFigures | undefined
  readonly breaker: BreakerFigures | undefined
  readonly pipeline: { readonly small: PipelineRun; readonly large: PipelineRun } | undefined
}): Report => {
  const { results } = input
  const ratios: Record<string, Record<string, Ratio>> = {}
  const cannedRatios: Record<string, Record<string, Ratio>> = {}
  for (const r of results) {
    const floor = find(results, "raw-undici", r.concurrency, r.server)
    if (floor === undefined || r.name === "raw-undici") continue
    ;((r.server === "reference" ? ratios : cannedRatios)[r.name] ??= {})[String(r.concurrency)] = {
      latency: ratioOf(r.medianUs, floor.medianUs),
      p99: ratioOf(r.p99Us, floor.p99Us),
      throughput: ratioOf(r.opsPerSec, floor.opsPerSec),
      clientCpu: ratioOf(r.clientCpuUs, floor.clientCpuUs)
    }
  }
  const referenceServerCpuUs: Record<string, number | undefined> = {}
  for (const r of results) {
    if (r.name === "raw-undici" && r.server === "reference") referenceServerCpuUs[String(r.concurrency)] = r.serverCpuUs
  }
  const targets: Array<Target> = []
  const ours = "effect-chittyid"
  // The ratio targets of issue 11: [which ratios, concurrency, measure, bound, at most or at least, words]
  const ratioTargets: ReadonlyArray<
    readonly [typeof ratios, "1" | "64", keyof Ratio, number, "max" | "min", string]
  > = [
    [ratios, "1", "latency", 1.25, "max", "effect-chittyid median latency at concurrency 1 ≤ 1.25× raw-undici"],
    [ratios, "64", "throughput", 0.9, "min", "effect-chittyid throughput at concurrency 64 ≥ 0.9× raw-undici"],
    [
      cannedRatios,
      "1",
      "clientCpu",
      1.6,
      "max",
      "canned server: effect-chittyid client CPU per call at concurrency 1 ≤ 1.6× raw-undici"
    ],
    [
      cannedRatios,
      "64",
      "throughput",
      0.75,
      "min",
      "canned server: effect-chittyid throughput at concurrency 64 ≥ 0.75× raw-undici"
    ]
  ]
  for (const [table, concurrency, measure, bound, kind, target] of ratioTargets) {
    const ratio = table[ours]?.[concurrency]
    if (ratio === undefined) continue
    const value = ratio[measure]
    targets.push({
      target,
      pass: kind === "max" ? value <= bound : value >= bound,
      measured: `${value.toFixed(3)}×`
    })
  }
  for (const rival of ["cockatiel + decode", "opossum + decode"]) {
    const pairs = [1, 16, 64].flatMap((c) => {
      const a = find(results, ours, c)
      const b = find(results, rival, c)
      return a === undefined || b === undefined ? [] : [[c, a, b] as const]
    })
    if (pairs.length === 0) continue
    const slower = pairs.filter(([, a, b]) =>
      a.medianUs > b.medianUs * (1 + noise) || a.opsPerSec < b.opsPerSec * (1 - noise)
    )
    targets.push({
      target: `effect-chittyid no slower than ${rival} (median latency and throughput at 1, 16, 64; ±${
        noise * 100
      } % noise)`,
      pass: slower.length === 0,
      measured: pairs.map(([c, a, b]) =>
        `@${c}: ${ratioOf(a.medianUs, b.medianUs).toFixed(2)}× latency, ${
          ratioOf(a.opsPerSec, b.opsPerSec).toFixed(2)
        }× ops`
      ).join("; ")
    })
  }
  if (input.validate !== undefined) {
    targets.push({
      target: "cache hit ≤ 5 µs median (IdService.validate, remote, in process)",
      pass: input.validate.cacheHit.medianUs <= 5,
      measured: `${input.validate.cacheHit.medianUs.toFixed(2)} µs`
    })
  }
  if (input.breaker !== undefined) {
    targets.push({
      target: "open breaker rejects a mint in ≤ 50 µs median with 0 requests sent",
      pass: input.breaker.reject.medianUs <= 50 && input.breaker.requestsSent === 0,
      measured: `${input.breaker.reject.medianUs.toFixed(2)} µs, ${input.breaker.requestsSent} requests`
    })
  }
  let pipeline: Report["pipeline"]
  if (input.pipeline !== undefined) {
    const { large, small } = input.pipeline
    const extra = large.heapGrowthMB - small.heapGrowthMB
    const bytesPerExtraId = Math.round((extra * 2 ** 20) / (large.ids - small.ids))
    pipeline = {
      ids: large.ids,
      seconds: large.seconds,
      idsPerSec: large.idsPerSec,
      heapGrowthMB: large.heapGrowthMB,
      runs: [small, large],
      bytesPerExtraId
    }
    targets.push({
      target: `pipeline heap growth independent of N (${large.ids} IDs grow the heap < 2 MB more than ${small.ids})`,
      pass: extra < 2,
      measured: `${small.heapGrowthMB.toFixed(2)} MB vs ${
        large.heapGrowthMB.toFixed(2)
      } MB (${bytesPerExtraId} B per extra ID)`
    })
  }
  return {
    machine: input.machine,
    library: input.library,
    quick: input.quick,
    seconds: Math.round(input.seconds),
    results: input.results,
    ratios,
    cannedRatios,
    referenceServerCpuUs,
    cacheHitMedianUs: input.validate?.cacheHit.medianUs,
    breakerRejectMedianUs: input.breaker?.reject.medianUs,
    pipeline,
    validate: input.validate,
    breaker: input.breaker,
    targets
  }
}

const pad = (text: string, width: number) => text.padEnd(width)
const lpad = (text: string, width: number) => text.padStart(width)
const n = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** The readable rendering. */
export const table = (report: Report): string => {
  const lines: Array<string> = []
  const m = report.machine
  lines.push(
    `effect-chittyid benchmark${
      report.quick ? " (--quick)" : ""
    }: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, Node ${m.node}, ${m.platform}`,
    `The library measured: ${description[report.library]}.`,
    "Servers in separate processes on 127.0.0.1: the reference server (no faults) and a canned node:http one;",
    "every client in a process of its own (client CPU: that process's), keep-alive, same request.",
    "Ratios are to raw-undici against the same server.",
    ""
  )
  const nameWidth = Math.max(12, ...report.results.map((r) => r.name.length)) + 2
  lines.push(
    pad("POST /v1/mint", nameWidth) +
      [
        "server",
        "conc",
        "median µs",
        "p99 µs",
        "ops/s",
        "client CPU",
        "client GC",
        "server CPU",
        "×lat",
        "×p99",
        "×ops",
        "×CPU"
      ]
        .map((h, i) => lpad(h, i === 0 ? 10 : i === 1 ? 5 : 11)).join("")
  )
  let last = ""
  for (const r of report.results) {
    if (`${r.server}${r.concurrency}` !== last && last !== "") lines.push("")
    last = `${r.server}${r.concurrency}`
    const ratio = (r.server === "reference" ? report.ratios : report.cannedRatios)[r.name]?.[String(r.concurrency)]
    lines.push(
      pad(r.name, nameWidth) + lpad(r.server, 10) + lpad(String(r.concurrency), 5) + lpad(n(r.medianUs, 1), 11) +
        lpad(n(r.p99Us, 1), 11) + lpad(n(r.opsPerSec), 11) + lpad(n(r.clientCpuUs, 1), 11) +
        lpad(n(r.clientGcUs, 1), 11) + lpad(r.serverCpuUs === undefined ? "n/a" : n(r.serverCpuUs, 1), 11) +
        lpad(ratio === undefined ? "1" : ratio.latency.toFixed(2), 11) +
        lpad(ratio === undefined ? "1" : ratio.p99.toFixed(2), 11) +
        lpad(ratio === undefined ? "1" : ratio.throughput.toFixed(2), 11) +
        lpad(ratio === undefined ? "1" : ratio.clientCpu.toFixed(2), 11) +
        (r.errors > 0 ? `  (${r.errors} errors)` : "")
    )
  }
  const serverCpu = Object.entries(report.referenceServerCpuUs)
  if (serverCpu.length > 0) {
    lines.push(
      "",
      `Reference server's own CPU per request (under raw-undici): ${
        serverCpu.map(([c, us]) => `@${c} ${us === undefined ? "n/a" : `${n(us, 1)} µs`}`).join(", ")
      }`
    )
  }
  const v = report.validate
  if (v !== undefined) {
    lines.push(
      "",
      `IdService.validate (remote), per call, ${n(v.distinctIds)} distinct IDs   median µs   p99 µs`,
      `  service call (cache miss)                            ${lpad(n(v.serviceCall.medianUs, 2), 9)}${
        lpad(n(v.serviceCall.p99Us, 2), 11)
      }`,
      `  cache hit                                            ${lpad(n(v.cacheHit.medianUs, 2), 9)}${
        lpad(n(v.cacheHit.p99Us, 2), 11)
      }`,
      `  cache hit via runPromise (Promise caller)            ${lpad(n(v.cacheHitRunPromise.medianUs, 2), 9)}${
        lpad(n(v.cacheHitRunPromise.p99Us, 2), 11)
      }`,
      `  locally rejected ID (never sent)                     ${lpad(n(v.localReject.medianUs, 2), 9)}${
        lpad(n(v.localReject.p99Us, 2), 11)
      }`,
      `  server saw ${v.serverValidateRequests} validate requests for ${v.distinctIds} misses, ${
        n(v.cacheHit.calls)
      } hits and ${n(v.localReject.calls)} rejections`
    )
  }
  const b = report.breaker
  if (b !== undefined) {
    lines.push(
      "",
      `Open breaker (opened by ${b.tripCalls} failed mints)                 median µs   p99 µs`,
      `  mint rejected with CircuitOpen                       ${lpad(n(b.reject.medianUs, 2), 9)}${
        lpad(n(b.reject.p99Us, 2), 11)
      }`,
      `  the same via runPromise                              ${lpad(n(b.rejectRunPromise.medianUs, 2), 9)}${
        lpad(n(b.rejectRunPromise.p99Us, 2), 11)
      }`,
      `  requests the server received during ${
        n(b.reject.calls + b.rejectRunPromise.calls)
      } rejections: ${b.requestsSent}`
    )
  }
  const p = report.pipeline
  if (p !== undefined) {
    lines.push(
      "",
      "Stream mint pipeline (mapEffect, concurrency 64)   IDs    seconds     IDs/s   heap before → after (growth)"
    )
    for (const run of p.runs) {
      lines.push(
        `  ${lpad(n(run.ids), 49)}${lpad(run.seconds.toFixed(2), 11)}${lpad(n(run.idsPerSec), 10)}   ${
          run.heapBeforeMB.toFixed(1)
        } → ${run.heapAfterMB.toFixed(1)} MB (${run.heapGrowthMB >= 0 ? "+" : ""}${run.heapGrowthMB.toFixed(2)} MB)`
      )
    }
  }
  lines.push("", "Targets")
  for (const t of report.targets) lines.push(`  ${t.pass ? "✓ PASS" : "✗ FAIL"}  ${t.target}: ${t.measured}`)
  lines.push("", `(${report.seconds} s)`, "")
  return lines.join("\n")
}
