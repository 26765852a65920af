/**
 * `npx tsx scripts/cli-validate-stdin.ts [lines] [heapMB]`: the claim of `chittyid validate` that
 * stdin is streamed in constant memory, checked at full size. Spawns the bin under a small V8 heap
 * (default 48 MB), feeds it `lines` IDs (default 1 000 000) with back-pressure, and reads its stdout
 * slowly at first (the reader pauses 5 s, so output must wait for the pipe instead of piling up), then
 * reports the lines counted, the exit code and the throughput. A collecting or unthrottled
 * implementation dies of the heap limit.
 */
import { FastCheck } from "effect"
import { spawn } from "node:child_process"
import * as ChittyId from "../src/ChittyId.ts"

const total = Number(process.argv[2] ?? 1_000_000)
const heapMb = Number(process.argv[3] ?? 48)
const ids = FastCheck.sample(ChittyId.arbitrary, { numRuns: 1_000, seed: 1 })
const block = ids.join("\n") + "\n"

const started = Date.now()
const child = spawn(process.execPath, [
  `--max-old-space-size=${heapMb}`,
  "--import",
  "tsx",
  "src/bin/cli.ts",
  "validate"
], {
  cwd: new URL("..", import.meta.url),
  stdio: ["pipe", "pipe", "inherit"]
})
child.stdin.on("error", () => undefined)
let lines = 0
child.stdout.pause()
setTimeout(() => {
  child.stdout.on("data", (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) lines++
  })
  child.stdout.resume()
}, 5_000)

const feed = async () => {
  for (let written = 0; written < total; written += ids.length) {
    if (!child.stdin.write(block)) await new Promise((resolve) => child.stdin.once("drain", resolve))
  }
  child.stdin.end()
}
void feed()
child.on("close", (code, signal) => {
  const seconds = (Date.now() - started) / 1000
  const fed = Math.ceil(total / ids.length) * ids.length
  console.log(
    `${lines} of ${fed} lines out, exit ${code ?? signal}, ${seconds.toFixed(1)} s ` +
      `(${Math.round(lines / seconds)} lines/s, heap limit ${heapMb} MB, reader paused the first 5 s)`
  )
  process.exit(lines === fed && code === 0 ? 0 : 1)
})
