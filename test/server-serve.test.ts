import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as Api from "../src/Api.ts"
import { ServerCounts } from "../src/server/ReferenceServer.ts"
import { answered, request } from "./server-http.ts"

interface Started {
  readonly child: ChildProcess
  readonly line: { readonly url: string; readonly token?: string }
}

const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  spawn(process.execPath, ["--import", "tsx", "src/bin/serve.ts", ...args], {
    cwd: new URL("..", import.meta.url),
    env: { ...process.env, CHITTY_ID_TOKEN: "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })

const exitOf = (child: ChildProcess) =>
  Effect.async<{ readonly code: number | null; readonly stderr: string }>((resume) => {
    let stderr = ""
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("exit", (code) => resume(Effect.succeed({ code, stderr })))
  })

/** Starts the bin, reads its one JSON line; the process is killed when the scope closes. */
const serve = (args: ReadonlyArray<string>, env?: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.async<Started, Error>((resume) => {
      const child = run(args, env)
      let out = ""
      child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk
        const newline = out.indexOf("\n")
        if (newline !== -1) resume(Effect.succeed({ child, line: JSON.parse(out.slice(0, newline)) }))
      })
      child.on("exit", (code) => resume(Effect.fail(new Error(`serve exited with ${code} before listening`))))
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
  )

describe("npm run serve", () => {
  it.scoped(
    "prints one JSON line with the URL and the generated token, applies fault flags, stops on SIGTERM",
    () =>
      Effect.gen(function*() {
        const { child, line } = yield* serve(["--port", "0", "--seed", "7", "--error-rate", "1", "--retry-after", "3"])
        expect(Object.keys(line).sort()).toEqual(["token", "url"])
        expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        const token = line.token ?? ""
        expect(answered(yield* request(line.url, Api.paths.health)).status).toBe(200)
        const mint = answered(yield* request(line.url, Api.paths.mint, { token, body: { entityType: "P" } }))
        expect(mint.status).toBe(503)
        expect(mint.headers.get("retry-after")).toBe("3")
        const counts = answered(yield* request(line.url, "/_admin/counts", { token }))
        expect(Schema.decodeUnknownSync(ServerCounts)(counts.json).faults.errors).toBe(1)

        const exit = exitOf(child)
        child.kill("SIGTERM")
        expect((yield* exit).code).toBe(0)
      }),
    { timeout: 20_000 }
  )

  it.scoped("takes the token from --token or CHITTY_ID_TOKEN and then does not print it", () =>
    Effect.gen(function*() {
      const fromEnv = yield* serve(["--port", "0"], { CHITTY_ID_TOKEN: "env-token" })
      expect(fromEnv.line.token).toBeUndefined()
      expect(
        answered(yield* request(fromEnv.line.url, Api.paths.mint, { token: "env-token", body: { entityType: "P" } }))
          .status
      ).toBe(200)
      const fromFlag = yield* serve(["--port", "0", "--token", "flag-token"])
      expect(fromFlag.line.token).toBeUndefined()
      expect(
        answered(yield* request(fromFlag.line.url, Api.paths.mint, { token: "flag-token", body: { entityType: "P" } }))
          .status
      ).toBe(200)
    }), { timeout: 20_000 })

  it.scoped(
    "--profile live serves the live behaviour: a wrong token is a MINT_REJECTED placeholder",
    () =>
      Effect.gen(function*() {
        const { line } = yield* serve(["--port", "0", "--profile", "live"])
        const mint = answered(yield* request(line.url, Api.paths.mint, { token: "wrong", body: { entityType: "P" } }))
        expect(mint.status).toBe(200)
        expect(Schema.decodeUnknownSync(Api.MintFallback)(mint.json).errorCode).toBe("MINT_REJECTED")
        const down = yield* serve([
          "--port",
          "0",
          "--profile",
          "live",
          "--error-rate",
          "1",
          "--error-placeholder",
          "MINT_UNAVAILABLE"
        ])
        const unavailable = answered(yield* request(down.line.url, Api.paths.mint, { body: { entityType: "P" } }))
        expect(Schema.decodeUnknownSync(Api.MintFallback)(unavailable.json).errorCode).toBe("MINT_UNAVAILABLE")
        expect(answered(yield* request(line.url, Api.paths.healthAlias)).json).toMatchObject({ status: "healthy" })
      }),
    { timeout: 20_000 }
  )

  it.effect("--help names the bin", () =>
    Effect.map(
      Effect.async<string>((resume) => {
        const child = run(["--help"])
        let out = ""
        child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out += chunk))
        child.on("exit", () => resume(Effect.succeed(out)))
      }),
      (out) => {
        expect(out).toContain("$ chittyid-reference-server")
        expect(out).toContain("--profile")
        expect(out).not.toContain("npm run serve")
      }
    ), { timeout: 20_000 })

  it.effect("bad flags: a clear message and exit code 2", () =>
    Effect.gen(function*() {
      const cases = [
        [["--error-rate", "1.5"], "--error-rate must be a probability from 0 to 1"],
        [["--outage", "sometimes"], "outage.mode"],
        [["--port", "http"], "'http' is not a integer"],
        [["--profile", "staging"], "--profile must be one of strict, live"],
        [["--fallback-code", "OOPS"], "fallback.errorCode"],
        [["--frobnicate"], "unknown argument: '--frobnicate'"]
      ] as const
      yield* Effect.forEach(cases, ([args, fragment]) =>
        Effect.map(exitOf(run(args)), ({ code, stderr }) => {
          expect(code).toBe(2)
          expect(stderr).toContain(fragment)
        }), { concurrency: 2 })
      // six processes, each loading the CLI through tsx: on a busy 2-core machine that alone can take
      // half a minute, so two at a time and a generous limit
    }), { timeout: 90_000 })
})
