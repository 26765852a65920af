/**
 * `npm run size`: bundles a minimal Worker that mints and validates through `effect-chittyid/fetch`
 * (test/workerd/minimal-worker.ts; esbuild, `platform: "browser"`, ESM, minified), prints its raw
 * and gzip sizes and what they are made of, and fails when the gzip size is over the budget (the
 * workerd test checks the same budget in `npm test`).
 */
import { measureMinimalWorker, sizeBudgetGzip } from "../test/workerd/harness.ts"

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`

/** Who an input belongs to: a package under node_modules, or this library. */
const owner = (path: string): string => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)
  return match ? match[1]! : path.startsWith("src/") ? "effect-chittyid (src/)" : path
}

const { bytesByInput, gzip, raw } = await measureMinimalWorker()

const byOwner = new Map<string, number>()
for (const [path, bytes] of Object.entries(bytesByInput)) {
  byOwner.set(owner(path), (byOwner.get(owner(path)) ?? 0) + bytes)
}
const largest = Object.entries(bytesByInput).sort(([, a], [, b]) => b - a).slice(0, 12)

console.log(`minimal mint + validate Worker (esbuild, platform browser, minified)`)
console.log(`  raw  ${kib(raw)} (${raw} bytes)`)
console.log(`  gzip ${kib(gzip)} (${gzip} bytes), budget ${kib(sizeBudgetGzip)}`)
console.log(`\nby package (minified bytes):`)
for (const [name, bytes] of [...byOwner].sort(([, a], [, b]) => b - a)) {
  console.log(`  ${kib(bytes).padStart(10)}  ${(100 * bytes / raw).toFixed(0).padStart(3)} %  ${name}`)
}
console.log(`\nlargest modules:`)
for (const [path, bytes] of largest) console.log(`  ${kib(bytes).padStart(10)}  ${path}`)

if (gzip > sizeBudgetGzip) {
  console.error(`\nover budget: ${gzip} gzip bytes > ${sizeBudgetGzip}`)
  process.exitCode = 1
}
