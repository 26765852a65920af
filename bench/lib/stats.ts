/**
 * Summaries of measured rounds.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import type { Round } from "./harness.ts"

/** The value at quantile `q` (0–1) of sorted values, nearest rank. */
export const quantile = (sorted: Float64Array, q: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!

const sortedOf = (chunks: ReadonlyArray<Float64Array>): Float64Array => {
  const total = chunks.reduce((n, c) => n + c.length, 0)
  const all = new Float64Array(total)
  let offset = 0
  for (const chunk of chunks) {
    all.set(chunk, offset)
    offset += chunk.length
  }
  return all.sort()
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Which server a row ran against: the reference server, or the canned `node:http` one. */
export type ServerKind = "reference" | "canned"

/** One line of the results. */
export interface Result {
  readonly name: string
  readonly server: ServerKind
  readonly concurrency: number
  /** Median latency per call over every measured call, µs. */
  readonly medianUs: number
  readonly p99Us: number
  /** Median over the rounds of calls / wall time. */
  readonly opsPerSec: number
  /** Client CPU (user + system) per call, µs: what the client costs, whatever the server does. */
  readonly cpuUsPerOp: number
  /** The same figure under the name the issue uses: client process CPU per call, µs. */
  readonly clientCpuUs: number
  /** Of that CPU, the client's garbage-collection pauses per call, µs (Node's `gc` performance entries). */
  readonly clientGcUs: number
  /** The server process's CPU per call, µs (Linux `/proc`, 10 ms ticks); `undefined` elsewhere. */
  readonly serverCpuUs: number | undefined
  readonly calls: number
  readonly rounds: number
  readonly errors: number
}

/** Summarises the rounds of one contender at one concurrency. */
export const summarize = (
  name: string,
  server: ServerKind,
  concurrency: number,
  rounds: ReadonlyArray<Round>,
  serverCpuUs: number | undefined
): Result & { readonly firstError?: string } => {
  const sorted = sortedOf(rounds.map((r) => r.latencies))
  const calls = sorted.length
  const errors = rounds.reduce((n, r) => n + r.errors, 0)
  const firstError = rounds.find((r) => r.firstError !== undefined)?.firstError
  const clientCpuUs = round1(rounds.reduce((n, r) => n + r.cpuUs, 0) / calls)
  return {
    name,
    server,
    concurrency,
    medianUs: round1(quantile(sorted, 0.5) * 1000),
    p99Us: round1(quantile(sorted, 0.99) * 1000),
    opsPerSec: Math.round(median(rounds.map((r) => (r.latencies.length / r.wallMs) * 1000))),
    cpuUsPerOp: clientCpuUs,
    clientCpuUs,
    clientGcUs: round1((rounds.reduce((n, r) => n + r.gc.ms, 0) * 1000) / calls),
    serverCpuUs: serverCpuUs === undefined ? undefined : round1(serverCpuUs / calls),
    calls,
    rounds: rounds.length,
    errors,
    ...(firstError === undefined ? {} : { firstError })
  }
}

/** Median and p99 of per-call times given in milliseconds, as µs. */
export const microSummary = (latenciesMs: Float64Array): { readonly medianUs: number; readonly p99Us: number } => {
  const sorted = Float64Array.from(latenciesMs).sort()
  return { medianUs: round3(quantile(sorted, 0.5) * 1000), p99Us: round3(quantile(sorted, 0.99) * 1000) }
}

export const round1 = (n: number): number => Math.round(n * 10) / 10
export const round3 = (n: number): number => Math.round(n * 1000) / 1000

/** What machine this ran on. */
export const machine = () => {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`
  }
}

/** Collects garbage until the heap stops shrinking; returns the heap used, in bytes. */
export const settledHeap = async (): Promise<number> => {
  const gc = globalThis.gc
  if (gc === undefined) throw new Error("run with node --expose-gc (npm run bench does)")
  let last = Infinity
  for (let i = 0; i < 10; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
    const used = process.memoryUsage().heapUsed
    if (used >= last - 1024) return used
    last = used
  }
  return last
}

/**
 * CPU time (user + system) a process has used so far, in µs, from Linux `/proc` (10 ms ticks, so
 * meaningful over a round of many calls); `undefined` where it cannot be read.
 */
export const processCpuUs = (pid: number): number | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // the fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? ticks * 10_000 : undefined
  } catch {
    return undefined
  }
}
