/**
 * `npm run -s bench:server -- [calls] [concurrency] [-- node flags for the server]`: raw undici mints
 * against the reference server in its own process, and that process's CPU per request (Linux
 * `/proc`). With `--cpu-prof` after `--`, the server writes a CPU profile on exit (in the working
 * directory). Like `npm run bench`, it runs the built server (`dist/`); `node --import tsx
 * bench/serverProfile.ts …` runs the sources instead.
 */
import * as Contenders from "./lib/contenders.ts"
import { round } from "./lib/harness.ts"
import * as ServerProcess from "./lib/server.ts"
import { processCpuUs } from "./lib/stats.ts"

const separator = process.argv.indexOf("--")
const args = separator < 0 ? process.argv.slice(2) : process.argv.slice(2, separator)
const nodeFlags = separator < 0 ? [] : process.argv.slice(separator + 1)
const calls = Number(args[0] ?? 5000)
const concurrency = Number(args[1] ?? 1)
const server = await ServerProcess.start(nodeFlags)
const contender = Contenders.raw("raw-undici", Contenders.undiciSend, server)
await round(contender, 500, concurrency)
await server.reset()
const before = processCpuUs(server.pid)
const measured = await round(contender, calls, concurrency)
const after = processCpuUs(server.pid)
process.stderr.write(
  `${calls} calls @${concurrency}: server CPU ${
    before === undefined || after === undefined ? "?" : ((after - before) / calls).toFixed(0)
  } µs/request, client ${(measured.cpuUs / calls).toFixed(0)} µs/call, ${
    ((calls / measured.wallMs) * 1000).toFixed(0)
  } calls/s, ${measured.errors} errors ${measured.firstError ?? ""}\n`
)
await contender.close()
await server.stop()
