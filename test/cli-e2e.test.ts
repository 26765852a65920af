/**
 * The `chittyid` bin spawned as a user runs it (`tsx src/bin/cli.ts …`): few runs, each costs
 * seconds. `serve` then `mint` against it over loopback; `validate` streaming 300 000 lines of stdin
 * under a small heap, which it survives only by not collecting them.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as ChittyId from "../src/ChittyId.ts"

const cwd = new URL("..", import.meta.url)

const spawnCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}, node: ReadonlyArray<string> = []) =>
  spawn(process.execPath, [...node, "--import", "tsx", "src/bin/cli.ts", ...args], {
    cwd,
    env: { ...process.env, CHITTY_ID_URL: "", CHITTY_ID_TOKEN: "", NO_COLOR: "", ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })

interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const finished = (child: ChildProcess, collectStdout = true) =>
  Effect.async<Finished>((resume) => {
    let stdout = ""
    let stderr = ""
    if (collectStdout) child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
  })

describe("chittyid (spawned)", () => {
  it.scoped(
    "serve prints its URL; mint --json against it prints NDJSON and nothing else",
    () =>
      Effect.gen(function*() {
        const server = yield* Effect.acquireRelease(
          Effect.sync(() => spawnCli(["serve", "--port", "0", "--token", "e2e-token"])),
          (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
        )
        server.stdin?.end()
        const url = yield* Effect.async<string, Error>((resume) => {
          let out = ""
          server.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
            out += chunk
            const newline = out.indexOf("\n")
            if (newline !== -1) resume(Effect.succeed(JSON.parse(out.slice(0, newline)).url))
          })
          server.on("exit", (code) => resume(Effect.fail(new Error(`serve exited with ${code}`))))
        })
        const mint = spawnCli(["mint", "--type", "person", "-n", "3", "--json"], {
          CHITTY_ID_URL: url,
          CHITTY_ID_TOKEN: "e2e-token"
        })
        mint.stdin?.end()
        const minted = yield* finished(mint)
        expect(minted.code).toBe(0)
        const lines = minted.stdout.trimEnd().split("\n").map((line) => JSON.parse(line))
        expect(lines).toHaveLength(3)
        for (const line of lines) expect(ChittyId.isChittyId(line.chittyId)).toBe(true)
        expect(minted.stderr).toBe("minted 3 IDs\n")
      }),
    { timeout: 60_000 }
  )

  it.effect(
    "validate streams 300 000 lines of stdin under a 96 MB heap; exit 1 for the one invalid",
    () =>
      Effect.gen(function*() {
        const ids = FastCheck.sample(ChittyId.arbitrary, { numRuns: 1_000, seed: 13 })
        const total = 300_000
        const child = spawnCli(["validate"], {}, ["--max-old-space-size=96"])
        // Write with back-pressure: the child reads as it validates.
        const feed = async () => {
          const stdin = child.stdin
          if (stdin === null) return
          stdin.on("error", () => undefined) // the child died: its exit code tells
          for (let i = 0; i < total; i += 1_000) {
            const last = i + 1_000 >= total
            const block = ids.join("\n") + "\n" + (last ? "not-an-id\n" : "")
            if (!stdin.write(block)) await new Promise((resolve) => stdin.once("drain", resolve))
            if (child.exitCode !== null || child.signalCode !== null) return
          }
          stdin.end()
        }
        let lines = 0
        let invalid = ""
        let rest = ""
        child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
          const parts = (rest + chunk).split("\n")
          rest = parts.pop() ?? ""
          lines += parts.length
          for (const part of parts) if (!part.endsWith("\tvalid")) invalid = part
        })
        void feed()
        const done = yield* finished(child, false)
        expect(done.code).toBe(1)
        expect(lines).toBe(total + 1)
        expect(invalid).toMatch(/^not-an-id\tinvalid\tsegments\t/)
        expect(done.stderr).toBe(`chittyid: 1 of ${total + 1} IDs are not valid\n`)
      }),
    { timeout: 120_000 }
  )
})
