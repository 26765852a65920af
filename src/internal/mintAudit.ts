/**
 * The mint audit log's core, free of any file system: the line format and its hash chain, the
 * serialised writer over a sink (a file, or memory), the streamed verification, and the hook the
 * `IdService` layers put around `mint` when a `MintAudit` is in context.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as IdService from "../IdService.ts"
import * as IdServiceError from "../IdServiceError.ts"
import type * as MintAudit from "../MintAudit.ts"
import * as CanonicalJson from "./canonicalJson.ts"

/** The key of the `MintAudit` tag: the public class and the hook's tag below are one service. */
export const tagKey = "effect-chittyid/MintAudit"

/**
 * The `MintAudit` service as the mint path looks it up (`Effect.serviceOption`): the same key as the
 * public `MintAudit` class, so the `IdService` layers do not pull in the file layer's code.
 */
export const Tag = Context.GenericTag<MintAudit.MintAudit, MintAudit.Service>(tagKey)

/** The `prev` of the first line of every log. */
export const genesis = "0".repeat(64)

/** The version of the line format (`v`). */
export const formatVersion = 1

const encoder = new TextEncoder()
const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** SHA-256 of a text (UTF-8), in hex, with WebCrypto (global in Node 20, Workers, Deno, Bun). */
export const sha256Hex = (text: string): Promise<string> =>
  crypto.subtle.digest("SHA-256", encoder.encode(text)).then((digest) => {
    const bytes = new Uint8Array(digest)
    let out = ""
    for (let i = 0; i < bytes.length; i++) out += hex[bytes[i]!]
    return out
  })

/** The hash of an entry: SHA-256 over the canonical JSON of every field but `hash` (so `prev` too). */
export const hashOf = (content: object): Promise<string> => sha256Hex(CanonicalJson.stringify(content))

const metrics = {
  entries: Metric.counter("chittyid.audit.entries", {
    description: "Lines appended to the mint audit log",
    incremental: true
  }),
  failures: Metric.counter("chittyid.audit.failures", {
    description: "Audit log writes or syncs that failed, by chittyid.audit.operation (write, sync)",
    incremental: true
  })
}

// ---------------------------------------------------------------------------------------------------
// The hook around `mint`
// ---------------------------------------------------------------------------------------------------

const maxMessage = 1000
const clip = (text: string): string => text.length > maxMessage ? `${text.slice(0, maxMessage)}…` : text

/** SHA-256 of the canonical JSON of the metadata as it is sent (`toJSON` applied); absent when it is not JSON. */
const metadataHash = (metadata: unknown): Effect.Effect<string | undefined> => {
  if (metadata === undefined) return Effect.succeed(undefined)
  let plain: unknown
  try {
    const text = JSON.stringify(metadata)
    if (text === undefined) return Effect.succeed(undefined)
    plain = JSON.parse(text)
  } catch {
    return Effect.succeed(undefined)
  }
  return Effect.promise(() => hashOf(plain as object))
}

const summary = (request: IdService.MintRequest): Effect.Effect<MintAudit.RequestSummary> => {
  const raw: Partial<IdService.MintRequest> = typeof request === "object" && request !== null ? request : {}
  return Effect.map(metadataHash(raw.metadata), (metadataSha256) => ({
    entityType: clip(String(raw.entityType)).slice(0, 64),
    region: typeof raw.region === "number" ? raw.region : undefined,
    jurisdiction: typeof raw.jurisdiction === "string" ? raw.jurisdiction.slice(0, 16) : undefined,
    trustLevel: typeof raw.trustLevel === "number" ? raw.trustLevel : undefined,
    metadataSha256
  }))
}

/** What a mint came to, as the content of its audit line. */
export const outcomeOf = (
  request: IdService.MintRequest,
  exit: Exit.Exit<IdService.MintResult, IdServiceError.IdServiceError>
): Effect.Effect<MintAudit.Outcome> =>
  Effect.map(summary(request), (summarised): MintAudit.Outcome => {
    const askedKey = typeof request === "object" && request !== null ? request.idempotencyKey : undefined
    if (Exit.isSuccess(exit)) {
      const result = exit.value
      return result.fallback
        ? {
          outcome: "placeholder",
          idempotencyKey: result.idempotencyKey,
          request: summarised,
          chittyId: result.chittyId,
          errorCode: result.errorCode
        }
        : {
          outcome: "minted",
          idempotencyKey: result.idempotencyKey,
          request: summarised,
          chittyId: result.chittyId,
          parts: result.parts
        }
    }
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "Some") {
      const error = failure.value
      return {
        outcome: "failed",
        idempotencyKey: error.idempotencyKey ?? askedKey,
        request: summarised,
        error: {
          tag: error._tag,
          message: clip(error.message),
          errorCode: "errorCode" in error ? error.errorCode : undefined,
          fallbackId: "fallbackId" in error ? error.fallbackId : undefined
        }
      }
    }
    return {
      outcome: "failed",
      idempotencyKey: askedKey,
      request: summarised,
      error: Cause.isInterruptedOnly(exit.cause)
        ? {
          tag: "Interrupted",
          message: "the mint was interrupted before it had an answer (the service may have minted under its key)"
        }
        : { tag: "Defect", message: "the mint failed with an unexpected error" }
    }
  })

/**
 * `mint` with every call's outcome recorded. An outcome that cannot be recorded (required mode)
 * fails the call with `AuditWriteFailed`, carrying what the mint came to. `newKey`: the live
 * service's key maker, so a call interrupted before its answer is recorded with the key it was sent
 * with.
 */
export const audited = (
  audit: MintAudit.Service,
  mint: (request: IdService.MintRequest) => Effect.Effect<IdService.MintResult, IdServiceError.IdServiceError>,
  newKey?: () => string
) =>
(request: IdService.MintRequest): Effect.Effect<IdService.MintResult, IdServiceError.IdServiceError> =>
  Effect.uninterruptibleMask((restore) => {
    const keyed = newKey !== undefined && typeof request === "object" && request !== null &&
        request.idempotencyKey === undefined
      ? { ...request, idempotencyKey: newKey() }
      : request
    return Effect.flatMap(Effect.exit(restore(mint(keyed))), (exit) =>
      outcomeOf(keyed, exit).pipe(
        Effect.flatMap((outcome) =>
          Effect.matchEffect(audit.record(outcome), {
            onSuccess: () => exit,
            onFailure: (error) =>
              Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
                ? Effect.zipRight(
                  Effect.logError("mint audit: an interrupted mint could not be recorded", error.message),
                  exit
                )
                : Effect.fail(
                  new IdServiceError.AuditWriteFailed({
                    message: outcome.outcome === "failed"
                      ? `${error.message} (the mint failed: ${outcome.error?.tag}: ${outcome.error?.message})`
                      : `${error.message} (the mint's ${outcome.outcome} ID ${outcome.chittyId} is not recorded: keep it)`,
                    path: error.path,
                    outcome: outcome.outcome,
                    chittyId: outcome.chittyId,
                    mintError: outcome.error === undefined
                      ? undefined
                      : `${outcome.error.tag}: ${outcome.error.message}`,
                    idempotencyKey: outcome.idempotencyKey
                  })
                )
          })
        )
      ))
  })

// ---------------------------------------------------------------------------------------------------
// The writer
// ---------------------------------------------------------------------------------------------------

/** Where lines go: appends a text (whole lines), makes what was appended durable. Failures in words. */
export interface Sink {
  readonly append: (text: string) => Effect.Effect<void, string>
  readonly sync: Effect.Effect<void, string>
}

/** The end of the chain the next line continues. */
export interface Head {
  readonly seq: number
  readonly hash: string
}

export const defaults = {
  mode: "required",
  syncEvery: { entries: 64, interval: Duration.seconds(1) }
} as const

/**
 * A `MintAudit` service over a sink: lines chained and written one at a time (serialised, never
 * cut by interruption), synced every `syncEvery.entries` lines, every `syncEvery.interval` when
 * something is pending, and when the scope closes. `broken`: why the sink cannot be used at all
 * (best-effort mode builds anyway, and every line fails with it).
 */
export const makeWriter = (options: {
  readonly path: string
  readonly sink: Sink
  readonly head: Head
  readonly settings: MintAudit.Options | undefined
  readonly broken?: string | undefined
}): Effect.Effect<MintAudit.Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const mode = options.settings?.mode ?? defaults.mode
    const everyEntries = Math.max(1, options.settings?.syncEvery?.entries ?? defaults.syncEvery.entries)
    const interval = Duration.decode(options.settings?.syncEvery?.interval ?? defaults.syncEvery.interval)
    const lock = yield* Effect.makeSemaphore(1)
    let head = options.head
    let pending = 0
    const stats = { entries: 0, failures: 0, syncs: 0 }
    let reported = false

    /** Best-effort: the first failure is logged as an error, later ones only counted. */
    const report = (operation: "write" | "sync", reason: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        stats.failures++
        const count = Metric.increment(Metric.tagged(metrics.failures, "chittyid.audit.operation", operation))
        if (reported) return count
        reported = true
        return Effect.zipRight(
          count,
          Effect.logError(
            `mint audit: ${operation} to ${options.path} failed: ${reason}` +
              (mode === "bestEffort" ? " (best-effort: mints go on; later failures are only counted)" : "")
          )
        )
      })

    const syncNow: Effect.Effect<void> = Effect.suspend(() => {
      if (pending === 0) return Effect.void
      return Effect.matchEffect(options.sink.sync, {
        onSuccess: () =>
          Effect.sync(() => {
            pending = 0
            stats.syncs++
          }),
        onFailure: (reason) => report("sync", reason)
      })
    })

    const failed = (reason: string) =>
      new IdServiceError.AuditWriteFailed({
        message: `audit log ${options.path}: ${reason}`,
        path: options.path
      })

    const record = (outcome: MintAudit.Outcome): Effect.Effect<void, IdServiceError.AuditWriteFailed> =>
      lock.withPermits(1)(Effect.gen(function*() {
        if (options.broken !== undefined) {
          yield* report("write", options.broken)
          return mode === "required" ? yield* Effect.fail(failed(options.broken)) : undefined
        }
        const now = yield* Clock.currentTimeMillis
        const content = {
          v: formatVersion,
          seq: head.seq + 1,
          at: new Date(now).toISOString(),
          ...outcome,
          prev: head.hash
        }
        const hash = yield* Effect.promise(() => hashOf(content))
        const line = CanonicalJson.stringify({ ...content, hash })
        const written = yield* Effect.either(options.sink.append(`${line}\n`))
        if (written._tag === "Left") {
          yield* report("write", written.left)
          return mode === "required" ? yield* Effect.fail(failed(written.left)) : undefined
        }
        head = { seq: content.seq, hash }
        stats.entries++
        pending++
        yield* Metric.increment(metrics.entries)
        if (pending >= everyEntries) yield* syncNow
      })).pipe(Effect.uninterruptible)

    const flush = lock.withPermits(1)(syncNow).pipe(Effect.uninterruptible)

    if (Duration.toMillis(interval) > 0 && Duration.isFinite(interval)) {
      yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(interval), flush)))
    }
    // Runs before the sink's own release (added after it): nothing written is left unsynced.
    yield* Effect.addFinalizer(() => flush)

    return {
      path: options.path,
      mode,
      record,
      flush,
      stats: Effect.sync(() => ({ ...stats, pending, head }))
    } satisfies MintAudit.Service
  })

/** The lines kept by the in-memory audit log. */
export const memorySink = (lines: Array<string>): Sink => ({
  append: (text) => Effect.sync(() => void lines.push(text.endsWith("\n") ? text.slice(0, -1) : text)),
  sync: Effect.void
})

// ---------------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------------

/** A parsed line, or why it is not an entry. */
const parseLine = (line: string): { readonly entry: Record<string, unknown> } | { readonly reason: string } => {
  if (line === "") return { reason: "an empty line" }
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return { reason: "not JSON (cut short, or edited)" }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { reason: "not a JSON object" }
  const entry = value as Record<string, unknown>
  if (typeof entry["hash"] !== "string" || typeof entry["prev"] !== "string" || typeof entry["seq"] !== "number") {
    return { reason: "no seq, prev or hash" }
  }
  return { entry }
}

/** How far a verification got: the intact entries so far, and the first broken line. */
interface VerifyState {
  entries: number
  prev: string
  brokenAt: number | undefined
  reason: string | undefined
}

const checkChunk = (
  state: VerifyState,
  lines: ReadonlyArray<string>,
  anchor: MintAudit.Anchor | undefined
): Effect.Effect<VerifyState> =>
  Effect.promise(async () => {
    const parsed = lines.map(parseLine)
    // Hashes of one chunk in parallel; the chain is checked in order below.
    const hashes = await Promise.all(parsed.map((p) => {
      if (!("entry" in p)) return undefined
      const { hash: _, ...content } = p.entry
      return hashOf(content)
    }))
    for (let i = 0; i < parsed.length; i++) {
      const lineNo = state.entries + 1
      const p = parsed[i]!
      const fail = (reason: string) => {
        state.brokenAt = lineNo
        state.reason = reason
        return state
      }
      if (!("entry" in p)) return fail(p.reason)
      const { entry } = p
      if (entry["hash"] !== hashes[i]) return fail("its hash does not match its content (edited)")
      if (entry["prev"] !== state.prev) {
        return fail(
          lineNo === 1 && entry["prev"] !== genesis
            ? "the first line does not start the chain (lines before it were deleted?)"
            : "its prev is not the hash of the line before it (a line deleted, moved or inserted)"
        )
      }
      if (entry["seq"] !== lineNo) return fail(`its seq is ${String(entry["seq"])}, not its line number`)
      if (anchor !== undefined && anchor.entries === lineNo && anchor.hash !== entry["hash"]) {
        return fail("its hash is not the anchored one: the log was rewritten up to this line")
      }
      state.entries = lineNo
      state.prev = entry["hash"] as string
    }
    return state
  })

/**
 * Checks a log given as its lines, in order, in constant memory: stops at the first line that breaks
 * the chain. With an anchor, the anchored line must carry the anchored hash, and the log must reach it.
 */
export const verifyLines = <E, R>(
  lines: Stream.Stream<string, E, R>,
  options?: MintAudit.VerifyOptions
): Effect.Effect<MintAudit.Verification, E, R> =>
  lines.pipe(
    Stream.chunks,
    Stream.runFoldWhileEffect(
      { entries: 0, prev: genesis, brokenAt: undefined, reason: undefined } as VerifyState,
      (state) => state.brokenAt === undefined,
      (state, chunk) => checkChunk(state, Chunk.toReadonlyArray(chunk), options?.anchor)
    ),
    Effect.map((state): VerifyState => {
      const anchor = options?.anchor
      if (state.brokenAt === undefined && anchor !== undefined && state.entries < anchor.entries) {
        state.brokenAt = state.entries + 1
        state.reason = `the log ends at line ${state.entries}, its anchor says it had ${anchor.entries} ` +
          "(lines cut from its end)"
      }
      return state
    }),
    Effect.map((state): MintAudit.Verification =>
      state.brokenAt === undefined
        ? { entries: state.entries, ok: true, ...(state.entries > 0 ? { lastHash: state.prev } : {}) }
        : {
          entries: state.entries,
          ok: false,
          brokenAt: state.brokenAt,
          reason: state.reason ?? "broken",
          ...(state.entries > 0 ? { lastHash: state.prev } : {})
        }
    )
  )

/** Checks one line on its own (its hash, its shape): the last line of a log a writer continues. */
export const checkLastLine = (line: string): Effect.Effect<Head, string> =>
  Effect.flatMap(Effect.sync(() => parseLine(line)), (p) => {
    if (!("entry" in p)) return Effect.fail(p.reason)
    const { hash, ...content } = p.entry
    return Effect.flatMap(
      Effect.promise(() => hashOf(content)),
      (computed) =>
        computed === hash
          ? Effect.succeed({ seq: p.entry["seq"] as number, hash: computed })
          : Effect.fail("its hash does not match its content (edited)")
    )
  })
