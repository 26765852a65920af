/**
 * Real Redis for the fleet suites: a `redis-server` of this test's own (spawned on a free loopback
 * port, no persistence, killed with the scope), which a test can stop and start again on the same
 * port to play "Redis down" and "Redis back".
 *
 * The shared instance of the run (`sharedRedisUrl` in `test/redis.ts`): `REDIS_URL` when set
 * (`.ci/run` starts one for the run), else the one `test/redisGlobalSetup.ts` starts for the whole
 * `vitest` run when `redis-server` exists, so a plain `npm test` on a machine with Redis runs the fleet
 * suites. This module does not import vitest: the global setup runs outside the test workers.
 *
 * Policy: the Redis suites need `REDIS_URL` or `redis-server` on PATH (or
 * `REDIS_SERVER=/path/to/redis-server`). `.ci/run` installs it when it is missing. Without either,
 * the suites are skipped on a developer's machine, and FAIL under `CI=true` (a skipped suite in CI
 * would hide a broken fleet mode).
 */
import { Data, Effect, Schedule, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

const findBinary = (): string | undefined => {
  const explicit = process.env["REDIS_SERVER"]
  if (explicit !== undefined && explicit !== "") {
    try {
      fs.accessSync(explicit, fs.constants.X_OK)
      return explicit
    } catch {
      return undefined
    }
  }
  for (const dir of (process.env["PATH"] ?? "").split(path.delimiter)) {
    if (dir === "") continue
    const candidate = path.join(dir, "redis-server")
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  for (const candidate of ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"]) {
    if (fs.existsSync(candidate)) return candidate
  }
  return undefined
}

/** The `redis-server` binary the suites use, if any. */
export const redisServerBinary: string | undefined = findBinary()

/** `CI=true` (or `CI=1`): the Redis suites must run, and fail when Redis is missing. */
export const inCi: boolean = process.env["CI"] === "true" || process.env["CI"] === "1"

/** `REDIS_URL`, when set and not empty. */
export const envRedisUrl = (): string | undefined => {
  const url = process.env["REDIS_URL"]
  return url === undefined || url === "" ? undefined : url
}

/**
 * `true` when the Redis suites must be skipped: no `REDIS_URL`, no `redis-server` and not in CI. In
 * CI they run and fail with a message that says what is missing.
 */
export const skipRedisSuites: boolean = envRedisUrl() === undefined && redisServerBinary === undefined && !inCi

export class RedisUnavailable extends Data.TaggedError("RedisUnavailable")<{ readonly message: string }> {}

/** A free loopback TCP port (listen on port 0, read it, close). */
export const freePort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.unref()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Sends `PING` over a raw socket; succeeds when the server answers `+PONG`. */
export const ping = (port: number, timeoutMs = 500): Effect.Effect<void, RedisUnavailable> =>
  Effect.async<void, RedisUnavailable>((resume) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    let answer = ""
    const done = (error?: string) => {
      socket.destroy()
      resume(error === undefined ? Effect.void : Effect.fail(new RedisUnavailable({ message: error })))
    }
    socket.setTimeout(timeoutMs, () => done(`no answer to PING on port ${port} within ${timeoutMs} ms`))
    socket.on("error", (error) => done(`PING on port ${port}: ${error.message}`))
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (chunk) => {
      answer += chunk.toString("utf8")
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG") ? undefined : `unexpected answer ${answer}`)
    })
    return Effect.sync(() => socket.destroy())
  })

/** A running test Redis. */
export interface TestRedis {
  readonly port: number
  readonly url: string
  /** Kills the server (SIGKILL: no goodbye to clients) and waits until it is gone. */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same port (empty: no persistence) and waits until it answers. */
  readonly start: Effect.Effect<void, RedisUnavailable>
  /** Freezes it (SIGSTOP): connections stay open, nothing is answered — a Redis that hangs. */
  readonly pause: Effect.Effect<void>
  /** Lets a paused server go on (SIGCONT). */
  readonly resume: Effect.Effect<void>
}

const waitExit = (child: ChildProcess): Effect.Effect<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Effect.void
    : Effect.async<void>((resume) => {
      child.once("exit", () => resume(Effect.void))
    })

/**
 * Starts a `redis-server` of the test's own on a free loopback port, with no persistence and its
 * working directory in a fresh temporary folder; killed and cleaned up when the scope closes.
 */
export const startRedis: Effect.Effect<TestRedis, RedisUnavailable, Scope.Scope> = Effect.gen(
  function*() {
    const binary = redisServerBinary
    if (binary === undefined) {
      return yield* new RedisUnavailable({
        message:
          "redis-server is not installed: the fleet suites need it (.ci/run installs it: apt-get install redis-server)"
      })
    }
    const port = yield* freePort
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "chittyid-redis-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    let child: ChildProcess | undefined
    const spawnOnce = Effect.sync(() => {
      child = spawn(binary, [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--protected-mode",
        "no",
        "--loglevel",
        "warning"
      ], { stdio: "ignore" })
      // A binary that cannot be spawned shows up as "did not start" below, not as an unhandled error.
      child.on("error", () => {})
    })
    const stop = Effect.suspend(() => {
      const current = child
      if (current === undefined) return Effect.void
      child = undefined
      current.kill("SIGKILL")
      return waitExit(current)
    })
    const start = Effect.zipRight(
      Effect.zipRight(stop, spawnOnce),
      ping(port).pipe(
        Effect.retry(Schedule.spaced("25 millis").pipe(Schedule.upTo("10 seconds"))),
        Effect.mapError((error) =>
          new RedisUnavailable({ message: `redis-server did not start on port ${port}: ${error.message}` })
        )
      )
    )
    const signal = (name: NodeJS.Signals) =>
      Effect.sync(() => {
        child?.kill(name)
      })
    yield* Effect.acquireRelease(start, () => stop)
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      stop,
      start,
      pause: signal("SIGSTOP"),
      resume: signal("SIGCONT")
    }
  }
)
