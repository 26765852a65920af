/**
 * Builds a Worker with esbuild (as a user's bundler would: `platform: "browser"`, ESM, the package
 * resolved from src/ through its `exports`) and runs it in workerd, Cloudflare's runtime, from the
 * `workerd` npm package's binary, with a generated capnp config.
 */
import { Duration, Effect, Schedule } from "effect"
import * as esbuild from "esbuild"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Zlib from "node:zlib"

const root = Path.resolve(import.meta.dirname, "../..")

/** A bundle and what went into it. */
export interface Bundle {
  readonly code: string
  /** Repository-relative paths (or `node_modules/...`) of every input. */
  readonly inputs: ReadonlyArray<string>
  /** Bytes each input contributes to the output (minified when minifying). */
  readonly bytesByInput: Readonly<Record<string, number>>
}

/** Bundles `entry` for the browser platform; `effect-chittyid/<name>` resolves to `src/<name>.ts`. */
export const bundle = async (entry: string, options: { readonly minify: boolean }): Promise<Bundle> => {
  const result = await esbuild.build({
    entryPoints: [Path.resolve(root, entry)],
    absWorkingDir: root,
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: options.minify,
    metafile: true,
    logLevel: "silent",
    plugins: [{
      name: "effect-chittyid",
      setup: (build) => {
        build.onResolve({ filter: /^effect-chittyid(\/.*)?$/ }, (args) => ({
          path: Path.join(root, "src", `${args.path === "effect-chittyid" ? "index" : args.path.slice(16)}.ts`)
        }))
      }
    }]
  })
  const output = result.outputFiles[0]
  if (output === undefined) throw new Error(`esbuild wrote nothing for ${entry}`)
  const contributions = Object.values(result.metafile.outputs)[0]?.inputs ?? {}
  return {
    code: output.text,
    inputs: Object.keys(result.metafile.inputs),
    bytesByInput: Object.fromEntries(
      Object.entries(contributions).map(([path, { bytesInOutput }]) => [path, bytesInOutput])
    )
  }
}

/**
 * The budget of the minimal mint + validate Worker (test/workerd/minimal-worker.ts), minified and
 * gzipped, in bytes: measured at 140.5 KiB (effect 3.22, @effect/platform 0.97), with room to grow.
 */
export const sizeBudgetGzip = 150 * 1024

/** The minimal Worker's bundle: its raw and gzip bytes, and the minified bytes of each input. */
export const measureMinimalWorker = async () => {
  const { bytesByInput, code } = await bundle("test/workerd/minimal-worker.ts", { minify: true })
  return {
    raw: new TextEncoder().encode(code).byteLength,
    gzip: Zlib.gzipSync(code, { level: 9 }).byteLength,
    bytesByInput
  }
}

/** The workerd binary of the `workerd` package (its platform package ships it; no install script needed). */
export const workerdBinary = (): string => {
  const require = createRequire(Path.join(root, "package.json"))
  return require.resolve(`@cloudflare/workerd-${Os.platform()}-${Os.arch() === "x64" ? "64" : Os.arch()}/bin/workerd`)
}

const capnp = (port: number, bindings: Readonly<Record<string, string>>): string => `
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # the Worker's fetch goes out through this network: loopback allowed, for the reference server
    (name = "internet", network = (allow = ["public", "private", "local"]))
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")]
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
  bindings = [
${
  Object.entries(bindings).map(([name, text]) => `    (name = ${JSON.stringify(name)}, text = ${JSON.stringify(text)})`)
    .join(",\n")
}
  ]
);
`

/** A free loopback port (workerd reports no port of its own for `:0`; a taken one is retried). */
const freePort: Effect.Effect<number> = Effect.async((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** A running workerd. */
export interface Workerd {
  readonly url: string
  readonly output: () => string
}

/**
 * Runs `code` as a Worker in workerd on a loopback port, until the scope closes (the process is
 * sent SIGTERM, then SIGKILL if it lingers, and awaited). Ready once it answers any request.
 */
export const serve = (
  code: string,
  bindings: Readonly<Record<string, string>>
) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "chittyid-workerd-"))),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    )
    Fs.writeFileSync(Path.join(dir, "worker.js"), code)
    const binary = workerdBinary()
    const start = Effect.gen(function*() {
      const port = yield* freePort
      Fs.writeFileSync(Path.join(dir, "config.capnp"), capnp(port, bindings))
      let output = ""
      const child = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const child = ChildProcess.spawn(binary, ["serve", "config.capnp"], {
            cwd: dir,
            stdio: ["ignore", "pipe", "pipe"]
          })
          child.stdout.on("data", (chunk: Uint8Array) => output += String(chunk))
          child.stderr.on("data", (chunk: Uint8Array) => output += String(chunk))
          return child
        }),
        (child) =>
          Effect.async<void>((resume) => {
            if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
            const kill = setTimeout(() => child.kill("SIGKILL"), 5_000)
            child.once("exit", () => {
              clearTimeout(kill)
              resume(Effect.void)
            })
            child.kill("SIGTERM")
          })
      )
      const url = `http://127.0.0.1:${port}`
      yield* Effect.tryPromise(() => fetch(`${url}/__ready`)).pipe(
        Effect.filterOrFail(() => child.exitCode === null),
        Effect.retry(
          Schedule.spaced(Duration.millis(100)).pipe(
            Schedule.intersect(Schedule.recurs(300)),
            Schedule.whileInput(() => child.exitCode === null)
          )
        ),
        Effect.mapError(() => new Error(`workerd did not start on ${url}:\n${output}`))
      )
      return { url, output: () => output } satisfies Workerd
    })
    // a port taken between the probe and workerd's bind: another port
    return yield* Effect.retry(start, { times: 2 })
  })
