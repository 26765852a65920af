/**
 * MintAudit: every mint's outcome as one chained line, with the in-memory log (IdService.layerTest)
 * and with a file under the live layer against the reference server over loopback HTTP; verification
 * finds every kind of tampering at the right line; writes survive interruption and shutdown; a
 * failing log fails the mint (required) or not (best-effort).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Layer, Schedule, Scope, Stream, TestClock } from "effect"
import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import * as ChittyId from "../src/ChittyId.ts"
import * as IdService from "../src/IdService.ts"
import * as IdServiceError from "../src/IdServiceError.ts"
import * as CanonicalJson from "../src/internal/canonicalJson.ts"
import { type Entry, MintAudit, MintAuditLog } from "../src/MintAudit.ts"
import * as Node from "../src/node.ts"
import { ReferenceServer } from "../src/server/ReferenceServer.ts"

const parse = (line: string) => JSON.parse(line) as Entry

/** What the log must say about one call, from the call's own result. */
const expected = (result: Either.Either<IdService.MintResult, IdServiceError.IdServiceError>) =>
  Either.match(result, {
    onRight: (r) =>
      r.fallback
        ? { outcome: "placeholder", chittyId: r.chittyId, errorCode: r.errorCode, idempotencyKey: r.idempotencyKey }
        : { outcome: "minted", chittyId: r.chittyId, idempotencyKey: r.idempotencyKey },
    onLeft: (e) => ({ outcome: "failed", error: { tag: e._tag, message: e.message } })
  })

const tally = (entries: ReadonlyArray<Entry>) => ({
  minted: entries.filter((e) => e.outcome === "minted").length,
  placeholder: entries.filter((e) => e.outcome === "placeholder").length,
  failed: entries.filter((e) => e.outcome === "failed").length
})

/** A fresh temporary directory for the test's scope. */
const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "mint-audit-" }))

/** The in-memory service and log; `failMint` makes every 4th call a placeholder and every 5th a failure. */
const memoryService = IdService.IdService.layerTest({
  failMint: (_request, n) =>
    n % 5 === 0
      ? new IdServiceError.ServiceUnavailable({ message: "503 from the test", status: 503 })
      : n % 4 === 0
      ? new IdServiceError.MintUnavailable({
        message: "minting backend unavailable",
        errorCode: "MINT_UNAVAILABLE",
        fallbackId: "pending"
      })
      : undefined
}).pipe(Layer.provideMerge(MintAudit.layerTest()))

/** Mints `n` times (placeholders accepted unless `refuse(i)`), every result kept. */
const mintMany = (n: number, refuse: (i: number) => boolean = (i) => i % 8 === 7) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) =>
      Effect.either(IdService.mint({
        entityType: ChittyId.entityTypeInputs[i % ChittyId.entityTypeInputs.length]!,
        acceptFallback: !refuse(i),
        ...(i % 3 === 0 ? { metadata: { order: i, note: "kept as a hash only" } } : {})
      }))
  )

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

describe("MintAudit with IdService.layerTest (in memory)", () => {
  it.effect("N mints: exactly N lines, each the call's outcome, chained from genesis; verification ok", () =>
    Effect.gen(function*() {
      const results = yield* mintMany(40)
      const log = yield* MintAuditLog
      const entries = yield* log.entries
      expect(entries).toHaveLength(40)
      entries.forEach((entry, i) => expect(entry).toMatchObject(expected(results[i]!)))
      const counted = tally(entries)
      expect(counted.minted).toBeGreaterThan(0)
      expect(counted.placeholder).toBeGreaterThan(0)
      expect(counted.failed).toBeGreaterThan(0)
      // The chain: seq from 1, prev the line before's hash, hash over the canonical content.
      entries.forEach((entry, i) => {
        expect(entry.seq).toBe(i + 1)
        expect(entry.prev).toBe(i === 0 ? MintAudit.genesis : entries[i - 1]!.hash)
        const { hash, ...content } = entry
        expect(hash).toBe(sha256(CanonicalJson.stringify(content)))
      })
      // Metadata only as a hash of its canonical JSON (key order does not matter).
      const lines = yield* log.lines
      expect(lines.some((line) => line.includes("kept as a hash only"))).toBe(false)
      expect(entries[0]!.request.metadataSha256).toBe(
        sha256(CanonicalJson.stringify({ note: "kept as a hash only", order: 0 }))
      )
      expect(yield* MintAudit.verifyLines(Stream.fromIterable(lines))).toEqual({
        entries: 40,
        ok: true,
        lastHash: entries[39]!.hash
      })
    }).pipe(Effect.provide(memoryService)))

  it.effect("a request refused locally is recorded as failed, with what was asked", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(IdService.mint({ entityType: "X" as ChittyId.EntityTypeInput, region: 3 }))
      expect(error._tag).toBe("InvalidRequest")
      const [entry] = yield* Effect.flatMap(MintAuditLog, (log) => log.entries)
      expect(entry).toMatchObject({
        outcome: "failed",
        request: { entityType: "X", region: 3 },
        error: { tag: "InvalidRequest", message: error.message }
      })
    }).pipe(Effect.provide(memoryService)))

  it.effect("without a MintAudit nothing is recorded and mint is the same function", () =>
    Effect.gen(function*() {
      const plain = yield* Effect.provide(IdService.IdService, IdService.IdService.layerTest())
      const result = yield* plain.mint({ entityType: "P" })
      expect(result.fallback).toBe(false)
      expect(plain.mint.name).toBe("mint")
    }))

  it.effect("syncs every `entries` lines and every `interval` (TestClock), and when the scope closes", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        IdService.IdService.layerTest().pipe(
          Layer.provideMerge(MintAudit.layerTest({ syncEvery: { entries: 3, interval: "1 second" } }))
        ),
        scope
      )
      const audit = Effect.provide(MintAudit, context)
      const mint = Effect.provide(IdService.mint({ entityType: "T" }), context)
      yield* Effect.repeatN(mint, 2)
      expect(yield* Effect.flatMap(audit, (a) => a.stats)).toMatchObject({ entries: 3, syncs: 1, pending: 0 })
      yield* mint
      expect(yield* Effect.flatMap(audit, (a) => a.stats)).toMatchObject({ entries: 4, syncs: 1, pending: 1 })
      yield* TestClock.adjust("1 second")
      expect(yield* Effect.flatMap(audit, (a) => a.stats)).toMatchObject({ entries: 4, syncs: 2, pending: 0 })
      yield* mint
      const stats = yield* Effect.flatMap(audit, (a) => a.stats)
      expect(stats).toMatchObject({ syncs: 2, pending: 1 })
      yield* Scope.close(scope, Exit.void)
      expect((yield* Effect.flatMap(audit, (a) => a.stats)).syncs).toBe(3)
    }))
})

/** Writes `lines` to a file in `dir` (each with its line break unless `ending` says otherwise). */
const writeLog = (dir: string, name: string, lines: ReadonlyArray<string>, ending = "\n") =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = `${dir}/${name}`
    yield* fs.writeFileString(path, lines.length === 0 ? "" : lines.join("\n") + ending)
    return path
  })

describe("MintAudit.verify finds tampering at the right line", () => {
  it.scoped("edit, delete, reorder, truncate, forge, replay, lost line break: each broken where it happened", () =>
    Effect.gen(function*() {
      const lines = yield* Effect.flatMap(mintMany(12), () => Effect.flatMap(MintAuditLog, (log) => log.lines)).pipe(
        Effect.provide(memoryService)
      )
      expect(lines).toHaveLength(12)
      const dir = yield* tempDir
      const intact = yield* MintAudit.verify(yield* writeLog(dir, "intact.jsonl", lines))
      expect(intact).toMatchObject({ entries: 12, ok: true, lastHash: parse(lines[11]!).hash })

      const edited = lines.slice()
      edited[4] = edited[4]!.replace(/"outcome":"[a-z]+"/, "\"outcome\":\"minted\"").replace(
        /"at":"[^"]+"/,
        "\"at\":\"2020-01-01T00:00:00.000Z\""
      )
      const forgedLast = {
        ...parse(lines[11]!),
        chittyId: ChittyId.makeFallback({ errorCode: "MINT_UNAVAILABLE", entityType: "P", yearMonth: "2611" }),
        seq: 13,
        prev: parse(lines[11]!).hash
      }
      const cases: ReadonlyArray<{
        readonly name: string
        readonly lines: ReadonlyArray<string>
        readonly ending?: string
        readonly brokenAt: number
        readonly reason: string
      }> = [
        { name: "a field edited", lines: edited, brokenAt: 5, reason: "hash" },
        { name: "a line deleted", lines: lines.filter((_, i) => i !== 6), brokenAt: 7, reason: "prev" },
        { name: "the first line deleted", lines: lines.slice(1), brokenAt: 1, reason: "first line" },
        {
          name: "two lines swapped",
          lines: [...lines.slice(0, 2), lines[3]!, lines[2]!, ...lines.slice(4)],
          brokenAt: 3,
          reason: "prev"
        },
        {
          name: "the last line cut short",
          lines: [...lines.slice(0, 11), lines[11]!.slice(0, -20)],
          brokenAt: 12,
          reason: "JSON"
        },
        { name: "a forged line appended", lines: [...lines, JSON.stringify(forgedLast)], brokenAt: 13, reason: "hash" },
        { name: "the last line replayed", lines: [...lines, lines[11]!], brokenAt: 13, reason: "prev" },
        { name: "the last line break lost", lines, ending: "", brokenAt: 12, reason: "line break" },
        {
          name: "an empty line inserted",
          lines: [...lines.slice(0, 3), "", ...lines.slice(3)],
          brokenAt: 4,
          reason: "empty"
        }
      ]
      for (const tampered of cases) {
        const path = yield* writeLog(
          dir,
          `${tampered.name.replaceAll(" ", "-")}.jsonl`,
          tampered.lines,
          tampered.ending
        )
        const result = yield* MintAudit.verify(path)
        expect({ name: tampered.name, ok: result.ok, brokenAt: result.brokenAt, entries: result.entries }).toEqual({
          name: tampered.name,
          ok: false,
          brokenAt: tampered.brokenAt,
          entries: tampered.brokenAt - 1
        })
        expect(result.reason).toContain(tampered.reason)
      }
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("against an anchor: a cut tail and a rewrite with recomputed hashes are found; the intact log passes", () =>
    Effect.gen(function*() {
      const lines = yield* Effect.flatMap(mintMany(12), () => Effect.flatMap(MintAuditLog, (log) => log.lines)).pipe(
        Effect.provide(memoryService)
      )
      const dir = yield* tempDir
      const anchor = { entries: 8, hash: parse(lines[7]!).hash }
      const intact = yield* writeLog(dir, "intact.jsonl", lines)
      expect(yield* MintAudit.verify(intact, { anchor })).toMatchObject({ ok: true, entries: 12 })
      // Whole lines cut from the end: intact on its own, broken against the anchor.
      const cut = yield* writeLog(dir, "cut.jsonl", lines.slice(0, 6))
      expect(yield* MintAudit.verify(cut)).toMatchObject({ ok: true, entries: 6 })
      const cutAnchored = yield* MintAudit.verify(cut, { anchor })
      expect(cutAnchored).toMatchObject({ ok: false, brokenAt: 7, entries: 6 })
      expect(cutAnchored.reason).toContain("cut from its end")
      // A forger edits line 3 and recomputes every hash after it: the chain holds, the anchor does not.
      const forged: Array<string> = []
      let prev = MintAudit.genesis
      lines.forEach((line, i) => {
        const { hash: _, ...content } = parse(line)
        const edited = { ...content, prev, ...(i === 2 ? { idempotencyKey: "forged" } : {}) }
        prev = sha256(CanonicalJson.stringify(edited))
        forged.push(CanonicalJson.stringify({ ...edited, hash: prev }))
      })
      const rewritten = yield* writeLog(dir, "rewritten.jsonl", forged)
      expect(yield* MintAudit.verify(rewritten)).toMatchObject({ ok: true, entries: 12 })
      const rewrittenAnchored = yield* MintAudit.verify(rewritten, { anchor })
      expect(rewrittenAnchored).toMatchObject({ ok: false, brokenAt: 8, entries: 7 })
      expect(rewrittenAnchored.reason).toContain("rewritten")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("an empty file is an intact log of 0 entries; a missing file is a NotFound PlatformError", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      expect(yield* MintAudit.verify(yield* writeLog(dir, "empty.jsonl", []))).toEqual({ entries: 0, ok: true })
      const missing = yield* Effect.flip(MintAudit.verify(`${dir}/missing.jsonl`))
      expect(missing._tag === "SystemError" && missing.reason).toBe("NotFound")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a large log (20 000 lines, generated) streams through; an edit near its end is found", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const n = 20_000
      const lines: Array<string> = []
      let prev = MintAudit.genesis
      for (let seq = 1; seq <= n; seq++) {
        const content = {
          v: 1,
          seq,
          at: new Date(seq * 1000).toISOString(),
          outcome: "minted",
          idempotencyKey: `key-${seq}`,
          request: { entityType: "P" },
          prev
        }
        const hash = sha256(CanonicalJson.stringify(content))
        lines.push(CanonicalJson.stringify({ ...content, hash }))
        prev = hash
      }
      const path = yield* writeLog(dir, "large.jsonl", lines)
      expect(yield* MintAudit.verify(path)).toEqual({ entries: n, ok: true, lastHash: prev })
      lines[n - 2] = lines[n - 2]!.replace("key-", "kex-")
      const broken = yield* MintAudit.verify(yield* writeLog(dir, "large-edited.jsonl", lines))
      expect(broken).toMatchObject({ ok: false, brokenAt: n - 1, entries: n - 2 })
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("MintAudit.layerFile", () => {
  const service = (path: string, options?: Parameters<typeof MintAudit.layerFile>[1]) =>
    IdService.IdService.layerTest({ acceptFallback: true }).pipe(
      Layer.provideMerge(MintAudit.layerFile(path, options))
    )

  it.scoped("the chain continues across two lifetimes of the layer on one file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = `${dir}/mints.jsonl`
      yield* Effect.scoped(Effect.provide(mintMany(5), service(path)))
      const first = yield* MintAudit.verify(path)
      expect(first).toMatchObject({ entries: 5, ok: true })
      yield* Effect.scoped(Effect.provide(mintMany(7), service(path)))
      const both = yield* MintAudit.verify(path)
      expect(both).toMatchObject({ entries: 12, ok: true })
      const lines = (yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path))).trimEnd().split(
        "\n"
      )
      expect(parse(lines[5]!)).toMatchObject({ seq: 6, prev: first.lastHash })
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a file whose last line is corrupt or cut short is not continued: the layer fails clearly", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = `${dir}/mints.jsonl`
      yield* Effect.scoped(Effect.provide(mintMany(3), service(path)))
      const fs = yield* FileSystem.FileSystem
      const text = yield* fs.readFileString(path)
      yield* fs.writeFileString(path, text.replace(/"seq":3/, "\"seq\":4"))
      const edited = yield* Effect.flip(Effect.scoped(Effect.provide(mintMany(1), service(path))))
      expect(edited._tag).toBe("AuditWriteFailed")
      expect(edited.message).toContain("its last line is not an intact entry")
      expect(edited.message).toContain(`chittyid audit verify ${path}`)
      yield* fs.writeFileString(path, text.slice(0, -1))
      const cut = yield* Effect.flip(Effect.scoped(Effect.provide(mintMany(1), service(path))))
      expect(cut.message).toContain("cut short")
      // Best-effort: the service is built, mints go on, nothing is appended to the broken file.
      const results = yield* Effect.scoped(Effect.provide(mintMany(2), service(path, { mode: "bestEffort" })))
      expect(results.every(Either.isRight)).toBe(true)
      expect(yield* fs.readFileString(path)).toBe(text.slice(0, -1))
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a directory that does not exist: the layer fails (required); best-effort mints on", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = `${dir}/no/such/dir/mints.jsonl`
      const error = yield* Effect.flip(Effect.scoped(Effect.provide(mintMany(1), service(path))))
      expect(error).toBeInstanceOf(IdServiceError.AuditWriteFailed)
      expect(error.message).toContain(path)
      const stats = yield* Effect.scoped(
        Effect.zipRight(mintMany(3), Effect.flatMap(MintAudit, (audit) => audit.stats)).pipe(
          Effect.provide(service(path, { mode: "bestEffort" }))
        )
      )
      expect(stats).toMatchObject({ entries: 0, failures: 3 })
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped.skipIf(!existsSync("/dev/full"))(
    "a write that fails (a full disk: /dev/full) fails the mint with AuditWriteFailed carrying the ID; best-effort does not",
    () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          Effect.scoped(
            Effect.provide(IdService.mint({ entityType: "P", idempotencyKey: "order-7" }), service("/dev/full"))
          )
        )
        expect(error._tag).toBe("AuditWriteFailed")
        if (error._tag !== "AuditWriteFailed") return
        expect(error).toMatchObject({ path: "/dev/full", outcome: "minted", idempotencyKey: "order-7" })
        expect(ChittyId.isChittyId(error.chittyId ?? "")).toBe(true)
        expect(error.message).toContain("keep it")
        expect(IdServiceError.isRetryable(error)).toBe(false)
        const failedMint = yield* Effect.flip(
          Effect.scoped(
            Effect.provide(IdService.mint({ entityType: "Q" as ChittyId.EntityTypeInput }), service("/dev/full"))
          )
        )
        expect(failedMint).toMatchObject({ _tag: "AuditWriteFailed", outcome: "failed" })
        expect(failedMint._tag === "AuditWriteFailed" && failedMint.mintError).toContain("InvalidRequest")
        const bestEffort = yield* Effect.scoped(
          Effect.all([IdService.mint({ entityType: "P" }), Effect.flatMap(MintAudit, (audit) => audit.stats)]).pipe(
            Effect.provide(service("/dev/full", { mode: "bestEffort" }))
          )
        )
        expect(bestEffort[0].fallback).toBe(false)
        expect(bestEffort[1]).toMatchObject({ entries: 0, failures: 1 })
      }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("a FileSystem whose writes fail: the mint fails in required mode", () =>
    Effect.gen(function*() {
      const refused = new PlatformError.SystemError({
        reason: "PermissionDenied",
        module: "FileSystem",
        method: "writeAll",
        description: "injected by the test"
      })
      const failing = Layer.effect(
        FileSystem.FileSystem,
        Effect.map(FileSystem.FileSystem, (fs): FileSystem.FileSystem => ({
          ...fs,
          open: (path, options) =>
            Effect.map(fs.open(path, options), (file): FileSystem.File => ({
              [FileSystem.FileTypeId]: FileSystem.FileTypeId,
              fd: file.fd,
              stat: file.stat,
              seek: (offset, from) => file.seek(offset, from),
              sync: file.sync,
              read: (buffer) => file.read(buffer),
              readAlloc: (size) => file.readAlloc(size),
              truncate: (length) => file.truncate(length),
              write: (buffer) => file.write(buffer),
              writeAll: () => Effect.fail(refused)
            }))
        }))
      ).pipe(Layer.provide(NodeFileSystem.layer))
      const dir = yield* tempDir
      const error = yield* Effect.flip(
        Effect.scoped(Effect.provide(IdService.mint({ entityType: "E" }), service(`${dir}/m.jsonl`))).pipe(
          Effect.provide(failing)
        )
      )
      expect(error).toMatchObject({ _tag: "AuditWriteFailed", outcome: "minted" })
      expect(error.message).toContain("PermissionDenied: FileSystem.writeAll: injected by the test")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

/**
 * The live layer against the server in context, audited to `path`, composed as users do:
 * `Node.layerWith(…).pipe(Layer.provideMerge(Node.layerMintAudit(path)))`.
 */
const liveAudited = (path: string, options?: Parameters<typeof MintAudit.layerFile>[1]) =>
  Layer.unwrapEffect(
    Effect.map(ReferenceServer, (server) =>
      Node.layerWith({
        url: server.url,
        token: server.token,
        retry: { maxRetries: 0 },
        health: { interval: "1 hour" }
      }).pipe(Layer.provideMerge(Node.layerMintAudit(path, options))))
  )

describe("MintAudit with the live IdService (reference server, loopback HTTP)", () => {
  layer(Layer.merge(ReferenceServer.layer({ seed: 11 }), NodeFileSystem.layer), {
    timeout: 30_000,
    excludeTestServices: true
  })((it) => {
    it.scoped("N mints — minted, placeholders, failures — are N lines with their outcomes; the file verifies", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        yield* server.setFaults({ fallback: { rate: 0.35 } })
        const dir = yield* tempDir
        const path = `${dir}/live.jsonl`
        const results = yield* Effect.scoped(Effect.provide(
          Effect.zipWith(
            mintMany(30, (i) => i % 2 === 1),
            Effect.either(IdService.mint({ entityType: "P", jurisdiction: "usa" })),
            (many, refused) => [...many, refused]
          ),
          liveAudited(path)
        ))
        yield* server.resetFaults
        const text = yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path))
        const entries = text.trimEnd().split("\n").map(parse)
        expect(entries).toHaveLength(31)
        entries.forEach((entry, i) => expect(entry).toMatchObject(expected(results[i]!)))
        const counted = tally(entries)
        expect(counted.minted).toBeGreaterThan(0)
        expect(counted.placeholder).toBeGreaterThan(0)
        // Placeholders refused (odd calls) are MintUnavailable failures, with the placeholder kept.
        const refused = entries.filter((e) => e.error?.tag === "MintUnavailable")
        expect(refused.length).toBeGreaterThan(0)
        refused.forEach((e) => expect(ChittyId.isFallbackId(e.error?.fallbackId ?? "")).toBe(true))
        expect(entries[30]).toMatchObject({ outcome: "failed", error: { tag: "InvalidRequest" } })
        // Every minted ID is one the server minted, under the key recorded with it.
        const log = yield* server.mintLog
        const byId = new Map<string, string | null>(log.map((r) => [r.chittyId, r.idempotencyKey]))
        entries.filter((e) => e.outcome === "minted").forEach((e) =>
          expect(byId.get(e.chittyId!)).toBe(e.idempotencyKey)
        )
        expect(yield* MintAudit.verify(path)).toMatchObject({ entries: 31, ok: true })
      }))

    it.scoped("mints interrupted mid-request are recorded (Interrupted, with their key) before the scope closes", () =>
      Effect.gen(function*() {
        const server = yield* ReferenceServer
        yield* server.reset
        const dir = yield* tempDir
        const path = `${dir}/interrupted.jsonl`
        yield* Effect.scoped(
          Effect.gen(function*() {
            yield* IdService.mint({ entityType: "P" })
            yield* server.setFaults({ hang: { endpoints: ["mint"] } })
            const fibers = yield* Effect.forEach([1, 2, 3], () => Effect.fork(IdService.mint({ entityType: "L" })))
            // Real time: wait (generously) until the three requests are at the server.
            yield* Effect.flatMap(server.counts, (c) => c.requests.mint >= 4 ? Effect.void : Effect.fail("not yet"))
              .pipe(
                Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("20 seconds")))
              )
            yield* Fiber.interruptAll(fibers)
          }).pipe(Effect.provide(liveAudited(path, { syncEvery: { entries: 1000, interval: 0 } })))
        )
        yield* server.resetFaults
        const text = yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path))
        const entries = text.trimEnd().split("\n").map(parse)
        expect(entries.map((e) => e.outcome)).toEqual(["minted", "failed", "failed", "failed"])
        entries.slice(1).forEach((e) => {
          expect(e.error?.tag).toBe("Interrupted")
          expect(e.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/)
        })
        expect(yield* MintAudit.verify(path)).toMatchObject({ entries: 4, ok: true })
      }))
  })
})
