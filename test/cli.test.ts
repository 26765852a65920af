/**
 * The `chittyid` command line run in process, in the style of @effect/cli's own tests: the command
 * gets its arguments, its Console is captured (stdout and stderr apart), stdin is a Stream, and the
 * answer is the exit code. Commands that talk to the service run against the reference server on
 * 127.0.0.1:0.
 */
import type * as CliApp from "@effect/cli/CliApp"
import type * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, FastCheck, Layer, Redacted, Schema, Stream } from "effect"
import * as ChittyId from "../src/ChittyId.ts"
import { type CliFailure, colorEnabled, Io, makeConsole, stripAnsi } from "../src/cli/Io.ts"
import * as Main from "../src/cli/Main.ts"
import * as Serve from "../src/cli/Serve.ts"
import * as IdService from "../src/IdService.ts"
import { MintAudit, MintAuditLog } from "../src/MintAudit.ts"
import { make as makeServer } from "../src/server/ReferenceServer.ts"
import { vectors } from "./fixtures.ts"

interface Ran {
  readonly code: number
  readonly stdout: ReadonlyArray<string>
  readonly stderr: ReadonlyArray<string>
  /** What was drawn raw on stderr (the progress bar). */
  readonly drawn: string
}

interface RunOptions {
  readonly stdin?: Stream.Stream<string, CliFailure> | undefined
  readonly stderrIsTTY?: boolean | undefined
  readonly color?: boolean | undefined
  readonly env?: Record<string, string> | undefined
}

/** Runs `chittyid <args>` in process; stdout and stderr are split into lines. */
const cli = (args: ReadonlyArray<string>, options: RunOptions = {}) => runIn(Main.chittyid, args, options)

const runIn = <Name extends string, E, A>(
  command: Command.Command<Name, Io | CliApp.CliApp.Environment, E, A>,
  args: ReadonlyArray<string>,
  options: RunOptions = {}
) =>
  Effect.gen(function*() {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    let drawn = ""
    const console = makeConsole({
      out: (line) => Effect.sync(() => stdout.push(...line.split("\n"))),
      err: (line) => Effect.sync(() => stderr.push(...line.split("\n"))),
      outColor: options.color ?? false,
      errColor: options.color ?? false
    })
    const io = Layer.succeed(Io, {
      stdinLines: options.stdin ?? Stream.empty,
      stdinIsTTY: false,
      stderrIsTTY: options.stderrIsTTY ?? false,
      writeStderr: (text) => Effect.sync(() => (drawn += text))
    })
    const code = yield* Main.runCommand(command, args, { version: "9.9.9" }).pipe(
      Effect.withConsole(console),
      Effect.provide(Layer.merge(NodeContext.layer, io)),
      // Only what the test gives: no CHITTY_ID_* of the machine running the tests.
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env ?? {}))))
    )
    return { code, stdout: stdout.filter((l) => l !== ""), stderr: stderr.filter((l) => l !== ""), drawn } as Ran
  })

const sample = (n: number, seed: number) => FastCheck.sample(ChittyId.arbitrary, { numRuns: n, seed })
const validId = vectors.valid[0].id
const fallbackId = vectors.fallback[0].id

/** A reference server for the test's scope, and the flags that point the client at it. */
const server = () =>
  Effect.gen(function*() {
    const token = Redacted.make("cli-test-token")
    const { url } = yield* makeServer({ token, seed: 1 })
    return { url, flags: ["--url", url, "--token", Redacted.value(token)] }
  })

describe("chittyid parse", () => {
  it.effect("prints the parts in words; --json has the names too", () =>
    Effect.gen(function*() {
      const parts = ChittyId.parseOrThrow(validId)
      if (parts.kind !== "permanent") throw new Error("the first valid vector must be permanent")
      const words = yield* cli(["parse", validId])
      expect(words.code).toBe(0)
      expect(words.stderr).toEqual([])
      expect(words.stdout).toContain(`region        ${parts.region} (${ChittyId.regions[parts.region]})`)
      expect(words.stdout).toContain(
        `entity type   ${parts.entityType} (${ChittyId.entityTypeWords[parts.entityType]})`
      )
      expect(words.stdout).toContain(`trust level   ${parts.trustLevel} (${ChittyId.trustLevels[parts.trustLevel]})`)
      const json = yield* cli(["parse", "--json", validId])
      expect(JSON.parse(json.stdout.join("\n"))).toMatchObject({
        id: validId,
        kind: "permanent",
        regionName: ChittyId.regions[parts.region]
      })
    }))

  it.effect("a fallback placeholder: kind and error code", () =>
    Effect.gen(function*() {
      const ran = yield* cli(["parse", fallbackId])
      expect(ran.code).toBe(0)
      expect(ran.stdout.join("\n")).toContain(
        `error code    ${fallbackId.slice(9, 13)} ${vectors.fallback[0].errorCode}`
      )
      expect(ran.stdout.join("\n")).toContain("fallback (a placeholder")
    }))

  it.effect("an invalid ID: exit 1, one line on stderr with the rule, nothing on stdout", () =>
    Effect.forEach(vectors.invalid, ({ id }) =>
      Effect.map(cli(["parse", id]), (ran) => {
        const rule = ruleOf(id)
        expect(ran.code).toBe(1)
        expect(ran.stdout).toEqual([])
        expect(ran.stderr).toHaveLength(1)
        expect(ran.stderr[0]).toContain(`(rule: ${rule})`)
      })))
})

const ruleOf = (id: string) => {
  const parsed = ChittyId.parse(id)
  if (parsed._tag === "Right") throw new Error(`${id} is a valid ID, not an invalid vector`)
  return parsed.left.rule
}

describe("chittyid validate", () => {
  it.effect("IDs as arguments: a line each, exit 1 when any is invalid, with its rule and reason", () =>
    Effect.gen(function*() {
      const invalid = vectors.invalid[0].id
      const ran = yield* cli(["validate", validId, invalid, fallbackId])
      expect(ran.code).toBe(1)
      expect(ran.stdout[0]).toBe(`${validId}\tvalid`)
      const [, id, verdict, rule, reason] = /^(.*)\t(invalid)\t(\w+)\t(.+)$/.exec(ran.stdout[1] ?? "") ?? []
      expect([id, verdict, rule]).toEqual([invalid, "invalid", ruleOf(invalid)])
      expect(reason).toBeTruthy()
      expect(ran.stdout[2]).toMatch(new RegExp(`^${fallbackId}\\tinvalid\\tfallback\\t`))
      expect(ran.stderr).toEqual(["chittyid: 2 of 3 IDs are not valid"])

      const allValid = yield* cli(["validate", ...sample(5, 3)])
      expect(allValid.code).toBe(0)
      expect(allValid.stdout.every((line) => line.endsWith("\tvalid"))).toBe(true)
    }))

  it.effect("--json prints one object a line", () =>
    Effect.gen(function*() {
      const invalid = vectors.invalid[0].id
      const ran = yield* cli(["validate", "--json", validId, invalid])
      const lines = ran.stdout.map((line) => JSON.parse(line))
      expect(lines).toMatchObject([
        { chittyId: validId, valid: true, kind: "permanent", source: "local" },
        { chittyId: invalid, valid: false, rule: ruleOf(invalid), source: "local" }
      ])
    }))

  it.effect("no IDs, or -, reads stdin line by line", () =>
    Effect.gen(function*() {
      const ids = sample(2_000, 4)
      const ran = yield* cli(["validate"], { stdin: Stream.fromIterable(ids).pipe(Stream.rechunk(64)) })
      expect(ran.code).toBe(0)
      expect(ran.stdout).toEqual(ids.map((id) => `${id}\tvalid`))

      const dash = yield* cli(["validate", "--json", validId, "-"], { stdin: Stream.make(vectors.invalid[0].id) })
      expect(dash.code).toBe(1)
      expect(dash.stdout.map((line) => JSON.parse(line).valid)).toEqual([true, false])
    }))

  it.effect("stdin is consumed as a stream: output comes before the input ends", () =>
    Effect.gen(function*() {
      // An endless stdin: the run is stopped once enough answers came out, which a collect-first
      // implementation never reaches.
      let written = 0
      const endless = Stream.repeatValue(validId).pipe(Stream.rechunk(100))
      const console = makeConsole({
        out: (text) => Effect.sync(() => (written += text.split("\n").length)),
        err: () => Effect.void,
        outColor: false,
        errColor: false
      })
      const io = Layer.succeed(Io, {
        stdinLines: endless,
        stdinIsTTY: false,
        stderrIsTTY: false,
        writeStderr: () => Effect.void
      })
      yield* Main.run(["validate"], { version: "0" }).pipe(
        Effect.withConsole(console),
        Effect.provide(Layer.merge(NodeContext.layer, io)),
        Effect.race(Effect.repeat(Effect.yieldNow(), { until: () => written >= 10_000 }))
      )
      expect(written).toBeGreaterThanOrEqual(10_000)
    }))

  it.scoped("--remote asks the service: a minted ID is valid, one it never issued is not", () =>
    Effect.gen(function*() {
      const { flags } = yield* server()
      const minted = yield* cli(["mint", "--type", "thing", ...flags])
      expect(minted.code).toBe(0)
      const [id] = minted.stdout
      const neverIssued = sample(1, 9)[0] ?? ""
      const ran = yield* cli(["validate", "--remote", "--json", ...flags, id ?? "", neverIssued])
      expect(ran.code).toBe(1)
      expect(ran.stdout.map((line) => JSON.parse(line))).toMatchObject([
        { chittyId: id, valid: true, source: "service" },
        { chittyId: neverIssued, valid: false, source: "service" }
      ])
    }))
})

describe("chittyid mint", () => {
  it.scoped("-n N --json: N objects, one a line, distinct valid IDs with the asked parts", () =>
    Effect.gen(function*() {
      const { flags } = yield* server()
      const ran = yield* cli([
        "mint",
        "--type",
        "PEO",
        "-n",
        "25",
        "--region",
        "3",
        "--jurisdiction",
        "GBR",
        "--trust",
        "2",
        "--concurrency",
        "5",
        "--metadata",
        "{\"batch\":7}",
        "--json",
        ...flags
      ])
      expect(ran.code).toBe(0)
      expect(ran.stdout).toHaveLength(25)
      const objects = ran.stdout.map((line) => JSON.parse(line))
      expect(new Set(objects.map((o) => o.chittyId)).size).toBe(25)
      for (const o of objects) {
        expect(Schema.is(ChittyId.ChittyId)(o.chittyId)).toBe(true)
        expect(o.parts).toMatchObject({ region: 3, jurisdiction: "GBR", trustLevel: 2, entityType: "P" })
        expect(typeof o.idempotencyKey).toBe("string")
      }
      expect(ran.drawn).toBe("") // stderr is not a terminal: no progress
      expect(ran.stderr).toEqual(["minted 25 IDs"])
    }))

  it.scoped("a progress bar on stderr only when it is a terminal and N > 1", () =>
    Effect.gen(function*() {
      const { flags } = yield* server()
      const many = yield* cli(["mint", "--type", "P", "-n", "3", ...flags], { stderrIsTTY: true })
      expect(many.drawn).toContain("] 3/3")
      expect(many.stdout).toHaveLength(3)
      const one = yield* cli(["mint", "--type", "P", ...flags], { stderrIsTTY: true })
      expect(one.drawn).toBe("")
    }))

  it.scoped("a refused token: exit 1, one line naming the error, the token nowhere", () =>
    Effect.gen(function*() {
      const { url } = yield* server()
      const ran = yield* cli(["mint", "--type", "P", "--url", url, "--token", "not-the-token-xyz"])
      expect(ran.code).toBe(1)
      expect(ran.stdout).toEqual([])
      expect(ran.stderr).toHaveLength(1)
      expect(ran.stderr[0]).toMatch(/^chittyid: Unauthorized: /)
      expect(ran.stderr.join("\n")).not.toContain("not-the-token-xyz")
    }))

  it.scoped("reads CHITTY_ID_URL and CHITTY_ID_TOKEN", () =>
    Effect.gen(function*() {
      const { url } = yield* server()
      const ran = yield* cli(["mint", "--type", "event"], {
        env: { CHITTY_ID_URL: url, CHITTY_ID_TOKEN: "cli-test-token" }
      })
      expect(ran.code).toBe(0)
      expect(ChittyId.parseOrThrow(ran.stdout[0] ?? "").entityType).toBe("E")
    }))

  it.effect("nothing listening: exit 1 with a connection error", () =>
    Effect.gen(function*() {
      const { url } = yield* Effect.scoped(server()) // closed again: nobody listens there now
      const ran = yield* cli(["mint", "--type", "P", "--url", url, "--token", "t"], {
        env: { CHITTY_ID_RETRY_MAX: "0" }
      })
      expect(ran.code).toBe(1)
      expect(ran.stderr).toHaveLength(1)
      expect(ran.stderr[0]).toMatch(/^chittyid: (ConnectionError|MintOutcomeUnknown): /)
    }))
})

describe("chittyid health", () => {
  it.scoped("the service's health and the client's view", () =>
    Effect.gen(function*() {
      const { url, flags } = yield* server()
      const ran = yield* cli(["health", "--json", ...flags])
      expect(ran.code).toBe(0)
      expect(JSON.parse(ran.stdout.join(""))).toMatchObject({
        url,
        service: { ok: true, detail: "ok" },
        client: { connection: "Connected", breaker: "Closed" }
      })
      const words = yield* cli(["health", ...flags])
      expect(words.code).toBe(0)
      expect(words.stdout.join("\n")).toMatch(/service +up: ok \(\d+ ms\)\nclient +ok\nconnection +Connected/)
    }))

  it.effect("a service that does not answer: exit 1", () =>
    Effect.gen(function*() {
      const { url } = yield* Effect.scoped(server())
      const ran = yield* cli(["health", "--url", url])
      expect(ran.code).toBe(1)
      expect(ran.stdout.join("\n")).toMatch(/service +down/)
      expect(ran.stderr.at(-1)).toMatch(/^chittyid: the service is not healthy/)
    }))
})

describe("chittyid audit verify", () => {
  /** An audit log of `n` mints (the in-memory service and log), written to a file of the test's scope. */
  const auditLog = (n: number) =>
    Effect.gen(function*() {
      const lines = yield* Effect.zipRight(
        Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) =>
          Effect.either(IdService.mint({ entityType: i % 4 === 3 ? "X" as "P" : "P" }))),
        Effect.flatMap(MintAuditLog, (log) =>
          log.lines)
      ).pipe(Effect.provide(IdService.IdService.layerTest().pipe(Layer.provideMerge(MintAudit.layerTest()))))
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "cli-audit-" })
      const write = (name: string, content: ReadonlyArray<string>) =>
        Effect.as(fs.writeFileString(`${dir}/${name}`, content.map((line) => `${line}\n`).join("")), `${dir}/${name}`)
      return { lines, dir, write }
    }).pipe(Effect.provide(NodeContext.layer))

  it.scoped("an intact log: exit 0, its entries and last hash on stdout", () =>
    Effect.gen(function*() {
      const { lines, write } = yield* auditLog(9)
      const path = yield* write("mints.jsonl", lines)
      const ran = yield* cli(["audit", "verify", path])
      expect(ran).toMatchObject({ code: 0, stderr: [] })
      expect(ran.stdout).toEqual([
        "intact        9 entries",
        `last hash     ${JSON.parse(lines[8]!).hash}`
      ])
      const json = yield* cli(["audit", "verify", "--json", path])
      expect(JSON.parse(json.stdout.join(""))).toEqual({
        file: path,
        entries: 9,
        ok: true,
        lastHash: JSON.parse(lines[8]!).hash
      })
    }))

  it.scoped("a tampered log: exit 1, the first broken line and why on stderr", () =>
    Effect.gen(function*() {
      const { lines, write } = yield* auditLog(9)
      const deleted = yield* write("deleted.jsonl", lines.filter((_, i) => i !== 4))
      const ran = yield* cli(["audit", "verify", deleted])
      expect(ran.code).toBe(1)
      expect(ran.stdout).toEqual([])
      expect(ran.stderr).toEqual([
        `chittyid: ${deleted} is broken at line 5: its prev is not the hash of the line before it (a line deleted, moved or inserted) (the 4 lines before it are intact)`
      ])
      const edited = yield* write(
        "edited.jsonl",
        lines.map((line, i) => i === 6 ? line.replace("\"seq\":7", "\"seq\":70") : line)
      )
      const json = yield* cli(["audit", "verify", "--json", edited])
      expect(json.code).toBe(1)
      expect(JSON.parse(json.stdout.join(""))).toMatchObject({ ok: false, brokenAt: 7, entries: 6 })
      expect(json.stderr[0]).toContain("broken at line 7: its hash does not match its content")
    }))

  it.scoped("--anchor ENTRIES:HASH: a log cut below its anchor is broken; a bad anchor is a usage error", () =>
    Effect.gen(function*() {
      const { lines, write } = yield* auditLog(9)
      const anchor = `7:${JSON.parse(lines[6]!).hash}`
      const whole = yield* cli(["audit", "verify", "--anchor", anchor, yield* write("whole.jsonl", lines)])
      expect(whole.code).toBe(0)
      const cut = yield* write("cut.jsonl", lines.slice(0, 5))
      expect((yield* cli(["audit", "verify", cut])).code).toBe(0)
      const anchored = yield* cli(["audit", "verify", "--anchor", anchor, cut])
      expect(anchored.code).toBe(1)
      expect(anchored.stderr[0]).toContain("is broken at line 6: the log ends at line 5, its anchor says it had 7")
      const bad = yield* cli(["audit", "verify", "--anchor", "7:nothex", cut])
      expect(bad.code).toBe(2)
    }))

  it.scoped("a missing file or a directory: exit 1 and one clear line, no stack", () =>
    Effect.gen(function*() {
      const { dir } = yield* auditLog(0)
      const missing = yield* cli(["audit", "verify", `${dir}/nope.jsonl`])
      expect(missing).toMatchObject({
        code: 1,
        stdout: [],
        stderr: [`chittyid: cannot read ${dir}/nope.jsonl: no such file`]
      })
      const directory = yield* cli(["audit", "verify", dir])
      expect(directory.code).toBe(1)
      expect(directory.stderr).toHaveLength(1)
      expect(directory.stderr[0]).toMatch(new RegExp(`^chittyid: cannot read ${dir}: `))
      const usage = yield* cli(["audit", "verify"])
      expect(usage.code).toBe(2)
    }))
})

describe("usage", () => {
  it.effect("a usage error is exit 2, with nothing on stdout", () =>
    Effect.forEach(
      [
        [["frobnicate"], "Invalid subcommand"],
        [["mint"], "--type"],
        [["mint", "--type", "X"], "--type must be one of"],
        [["mint", "--type", "P", "--region", "0"], "region"],
        [["mint", "--type", "P", "--trust", "9"], "trust"],
        [["mint", "--type", "P", "--jurisdiction", "usa"], "--jurisdiction must be three upper-case letters"],
        [["mint", "--type", "P", "--jurisdiction", "ERR"], "--jurisdiction must be three upper-case letters"],
        [["mint", "--type", "P", "-n", "0"], "--count must be from 1"],
        [["mint", "--type", "P", "--metadata", "[1]"], "--metadata must be a JSON object"],
        [["mint", "--type", "P", "--url", "http://id.example.com"], "--url: plain http://"],
        [["parse"], "ID"],
        [["validate", "--wizard"], "needs a terminal"]
      ] as const,
      ([args, fragment]) =>
        Effect.map(cli(args), (ran) => {
          expect(ran.code, args.join(" ")).toBe(2)
          expect(ran.stdout, args.join(" ")).toEqual([])
          expect(ran.stderr.join("\n"), args.join(" ")).toContain(fragment)
        })
    ))

  it.effect("--help, --version and --completions print on stdout and exit 0", () =>
    Effect.gen(function*() {
      const help = yield* cli(["--help"])
      expect(help.code).toBe(0)
      for (const name of ["mint", "validate", "parse", "health", "serve"]) {
        expect(help.stdout.join("\n")).toContain(name)
      }
      const mintHelp = yield* cli(["mint", "--help"])
      expect(mintHelp.stdout.join("\n")).toContain("--concurrency")
      expect((yield* cli(["--version"])).stdout).toEqual(["9.9.9"])
      const completions = yield* cli(["--completions", "bash"])
      expect(completions.code).toBe(0)
      expect(completions.stdout.join("\n")).toContain("complete")
    }))

  it.effect("no colour unless asked: escapes are stripped off a pipe", () =>
    Effect.gen(function*() {
      const colored = yield* cli(["--help"], { color: true })

      expect(colored.stdout.join("\n")).toMatch(/\u001b\[/)
      const plain = yield* cli(["--help"])
      expect(plain.stdout.join("\n")).not.toContain("\u001b[")
      expect(plain.stdout.join("\n")).toBe(stripAnsi(colored.stdout.join("\n")))
      expect(colorEnabled(true, {})).toBe(true)
      expect(colorEnabled(false, {})).toBe(false)
      expect(colorEnabled(true, { NO_COLOR: "1" })).toBe(false)
    }))

  it.effect("serve's flags are checked before anything listens", () =>
    Effect.forEach(
      [
        [["--error-rate", "1.5"], "--error-rate must be a probability from 0 to 1"],
        [["--outage", "sometimes"], "outage.mode"],
        [["--retry-after-format", "weeks"], "retry-after-format"]
      ] as const,
      ([args, fragment]) =>
        Effect.map(cli(["serve", ...args]), (ran) => {
          expect(ran.code).toBe(2)
          expect(ran.stderr.join("\n")).toContain(fragment)
        })
    ))

  it.effect("the alias bin's help names it", () =>
    Effect.map(runIn(Serve.named("chittyid-reference-server"), ["--help"]), (ran) => {
      expect(ran.code).toBe(0)
      expect(ran.stdout.join("\n")).toContain("$ chittyid-reference-server")
      expect(ran.stdout.join("\n")).toContain("--profile")
    }))
})
