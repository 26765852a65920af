/**
 * `npm run -s bench:profile -- [calls] [concurrency] [raw]`: effect-chittyid (built, from dist/) or
 * raw undici minting against the canned server: the client's CPU per call, calls/s, latency, and the
 * garbage collector's pauses (young-generation "minor" collections and the others, from Node's `gc`
 * performance entries). For a CPU profile of the client alone, after a build:
 * `TSX_TSCONFIG_PATH=bench/tsconfig.run.json node --cpu-prof --import tsx bench/profile.ts 20000 64`;
 * for each collection's detail, add `--trace-gc-nvp` (see docs/performance.md, "Fifth round").
 */
import * as Canned from "./lib/canned.ts"
import { round } from "./lib/harness.ts"
import * as Roster from "./lib/roster.ts"

const calls = Number(process.argv[2] ?? 5000)
const concurrency = Number(process.argv[3] ?? 1)
const canned = await Canned.start()
const contender = await Roster.make(process.argv[4] === "raw" ? "raw-undici" : "effect-chittyid", canned)
await round(contender, 500, concurrency)
const measured = await round(contender, calls, concurrency)
const gc = measured.gc
const sorted = Float64Array.from(measured.latencies).sort()
const q = (p: number) => Math.round(sorted[Math.floor(p * (sorted.length - 1))]! * 1000)
process.stderr.write(
  `${calls} calls @${concurrency}: ${(measured.cpuUs / calls).toFixed(1)} µs CPU/call, ${
    ((calls / measured.wallMs) * 1000).toFixed(0)
  } calls/s, latency µs p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)}, GC ${
    ((gc.ms * 1000) / calls).toFixed(1)
  } µs/call (${gc.minor} minor, ${gc.other} other), ${measured.errors} errors ${measured.firstError ?? ""}\n`
)
await contender.close()
await canned.stop()
