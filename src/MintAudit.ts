/**
 * `MintAudit`: a tamper-evident log of every mint. With a `MintAudit` in context when the
 * `IdService` layer is built, every call of `mint` — minted, placeholder or failed — is appended as
 * one JSON line, chained to the line before it by SHA-256 (`prev`, `hash`), so an edited, deleted,
 * reordered or inserted line is found by {@link MintAudit.verify}. Without one, `mint` is unchanged.
 * See `docs/audit.md`.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { NodeFileSystem } from "@effect/platform-node"
 * import * as IdService from "effect-chittyid/IdService"
 * import { MintAudit } from "effect-chittyid/MintAudit"
 * import * as Node from "effect-chittyid/node"
 *
 * const Live = Node.layerWith({ url: "https://id.chitty.cc" }).pipe(
 *   Layer.provideMerge(MintAudit.layerFile("/var/log/chittyid/mints.jsonl")),
 *   Layer.provide(NodeFileSystem.layer)
 * )
 * const program = IdService.mint({ entityType: "person" }).pipe(Effect.provide(Live))
 * ```
 *
 * @since 0.2.0
 */
import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type * as ChittyId from "./ChittyId.ts"
import type * as IdServiceError from "./IdServiceError.ts"
import * as internal from "./internal/mintAudit.ts"
import * as internalFile from "./internal/mintAuditFile.ts"

/**
 * What was asked for, as recorded: the metadata only as the SHA-256 of its canonical JSON.
 *
 * @since 0.2.0
 * @category models
 */
export interface RequestSummary {
  /** As the caller gave it (`P`, `person`, `PEO`…). */
  readonly entityType: string
  readonly region?: number | undefined
  readonly jurisdiction?: string | undefined
  readonly trustLevel?: number | undefined
  /** SHA-256 (hex) of the metadata's canonical JSON (keys sorted); absent without metadata. */
  readonly metadataSha256?: string | undefined
}

/**
 * What one mint came to: the content of its line, before the chain's fields.
 *
 * @since 0.2.0
 * @category models
 */
export interface Outcome {
  /** `minted`: a permanent ID; `placeholder`: an accepted fallback placeholder; `failed`: an error. */
  readonly outcome: "minted" | "placeholder" | "failed"
  /** The `Idempotency-Key` the mint was sent with (absent when it never got one). */
  readonly idempotencyKey?: string | undefined
  readonly request: RequestSummary
  /** The minted ID, or the placeholder. */
  readonly chittyId?: string | undefined
  /** `minted`: the ID's parts. */
  readonly parts?: ChittyId.Parts | undefined
  /** `placeholder`: its error code name (`MINT_UNAVAILABLE`…). */
  readonly errorCode?: string | undefined
  /** `failed`: the error's tag and message (`Interrupted` for a mint interrupted before its answer). */
  readonly error?: {
    readonly tag: string
    readonly message: string
    readonly errorCode?: string | undefined
    readonly fallbackId?: string | undefined
  } | undefined
}

/**
 * One line of the log: the outcome, its place in the chain and when it was recorded. `hash` is the
 * SHA-256 (hex) of the canonical JSON (keys sorted) of every other field, `prev` included; `prev` is
 * the `hash` of the line before, or 64 zeros on the first line.
 *
 * @since 0.2.0
 * @category models
 */
export interface Entry extends Outcome {
  /** The line format's version: 1. */
  readonly v: number
  /** The line's number in the file, from 1. */
  readonly seq: number
  /** When the line was written (ISO 8601, on Effect's `Clock`). */
  readonly at: string
  readonly prev: string
  readonly hash: string
}

/**
 * `"required"` (default): a mint whose line cannot be written fails with `AuditWriteFailed`.
 * `"bestEffort"`: the mint goes on; the first failure is logged, every one is counted
 * (`stats.failures`, metric `chittyid.audit.failures`).
 *
 * @since 0.2.0
 * @category models
 */
export type Mode = "required" | "bestEffort"

/**
 * Settings of the log.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  readonly mode?: Mode | undefined
  /**
   * When written lines are made durable (fsync): after `entries` lines (default 64), and `interval`
   * after a line when fewer came (default 1 second; `0` or `Infinity`: no timer). Always when the
   * layer's scope closes. Every line is written (handed to the OS) before its mint returns.
   */
  readonly syncEvery?: {
    readonly entries?: number | undefined
    readonly interval?: Duration.DurationInput | undefined
  } | undefined
}

/**
 * What the log did in this layer's lifetime.
 *
 * @since 0.2.0
 * @category models
 */
export interface Stats {
  /** Lines written. */
  readonly entries: number
  /** Writes and syncs that failed. */
  readonly failures: number
  /** fsyncs done. */
  readonly syncs: number
  /** Lines written and not yet synced. */
  readonly pending: number
  /** The last line of the chain: the next line continues it. */
  readonly head: { readonly seq: number; readonly hash: string }
}

/**
 * The answer of {@link MintAudit.verify}: the intact entries from the top; when `ok` is false, the
 * first broken line (from 1) and why. `lastHash`: the hash of the last intact entry, to anchor the
 * log elsewhere (a deleted tail is only found against an anchor).
 *
 * @since 0.2.0
 * @category models
 */
export interface Verification {
  readonly entries: number
  readonly ok: boolean
  readonly brokenAt?: number | undefined
  readonly reason?: string | undefined
  readonly lastHash?: string | undefined
}

/**
 * A point of the log kept elsewhere (another system, a ticket, storage with retention): the number of
 * entries it had and the hash of its last one (`Verification.lastHash`). Against an anchor, a log
 * whose last lines were cut, or that was rewritten (hashes recomputed) up to the anchored line, is
 * broken.
 *
 * @since 0.2.0
 * @category models
 */
export interface Anchor {
  readonly entries: number
  readonly hash: string
}

/**
 * Options of {@link MintAudit.verify} and {@link MintAudit.verifyLines}.
 *
 * @since 0.2.0
 * @category models
 */
export interface VerifyOptions {
  /** Line `anchor.entries` must exist and carry `anchor.hash`. */
  readonly anchor?: Anchor | undefined
}

/**
 * The log's interface: what the `IdService` layers call for each mint.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /** Where the lines go (a file path, or `memory`). */
  readonly path: string
  readonly mode: Mode
  /**
   * Appends one line (serialised with the others, not cut by interruption). Fails only in
   * `"required"` mode.
   */
  readonly record: (outcome: Outcome) => Effect.Effect<void, IdServiceError.AuditWriteFailed>
  /** Syncs what was written now. */
  readonly flush: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
}

/**
 * The lines of the in-memory log of {@link MintAudit.layerTest}.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import * as IdService from "effect-chittyid/IdService"
 * import { MintAudit, MintAuditLog } from "effect-chittyid/MintAudit"
 *
 * const outcomes = Effect.gen(function*() {
 *   yield* IdService.mint({ entityType: "P" })
 *   const log = yield* MintAuditLog
 *   return (yield* log.entries).map((entry) => entry.outcome) // ["minted"]
 * }).pipe(Effect.provide(IdService.IdService.layerTest().pipe(Layer.provideMerge(MintAudit.layerTest()))))
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class MintAuditLog extends Context.Tag("effect-chittyid/MintAuditLog")<MintAuditLog, {
  /** The lines, as they would be in a file (without line breaks). */
  readonly lines: Effect.Effect<ReadonlyArray<string>>
  /** The lines, parsed. */
  readonly entries: Effect.Effect<ReadonlyArray<Entry>>
}>() {}

/**
 * The audit log of mints.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MintAudit } from "effect-chittyid/MintAudit"
 *
 * const written = Effect.flatMap(MintAudit, (audit) => audit.stats).pipe(Effect.map((s) => s.entries))
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class MintAudit extends Context.Tag(internal.tagKey)<MintAudit, Service>() {
  /**
   * The log in the file at `path` (created when missing; when it exists, its chain is continued from
   * its last line, and the layer fails with `AuditWriteFailed` when that line is not an intact entry
   * or the file cannot be opened — in `"bestEffort"` mode it logs that and builds anyway). One
   * writer per file. Needs a `FileSystem`: on Node, `NodeFileSystem.layer` from
   * `@effect/platform-node` (or `Node.layerMintAudit`, which provides it).
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { NodeFileSystem } from "@effect/platform-node"
   * import { MintAudit } from "effect-chittyid/MintAudit"
   *
   * const Audit = MintAudit.layerFile("mints.jsonl", {
   *   mode: "required",
   *   syncEvery: { entries: 100, interval: "500 millis" }
   * }).pipe(Layer.provide(NodeFileSystem.layer))
   * ```
   *
   * @since 0.2.0
   */
  static readonly layerFile = (
    path: string,
    options?: Options
  ): Layer.Layer<MintAudit, IdServiceError.AuditWriteFailed, FileSystem.FileSystem> =>
    Layer.scoped(MintAudit, internalFile.make(path, options))

  /**
   * An in-memory log for tests, with its lines in `MintAuditLog`. Give it to `IdService.layerTest`
   * (or the live layer) with `Layer.provideMerge`.
   *
   * @example
   * ```ts
   * import { Effect, Layer, Stream } from "effect"
   * import * as IdService from "effect-chittyid/IdService"
   * import { MintAudit, MintAuditLog } from "effect-chittyid/MintAudit"
   *
   * const intact = Effect.gen(function*() {
   *   yield* IdService.mint({ entityType: "T" })
   *   const lines = yield* Effect.flatMap(MintAuditLog, (log) => log.lines)
   *   return (yield* MintAudit.verifyLines(Stream.fromIterable(lines))).ok // true
   * }).pipe(Effect.provide(IdService.IdService.layerTest().pipe(Layer.provideMerge(MintAudit.layerTest()))))
   * ```
   *
   * @since 0.2.0
   */
  static readonly layerTest = (options?: Options): Layer.Layer<MintAudit | MintAuditLog> =>
    Layer.scopedContext(Effect.gen(function*() {
      const lines: Array<string> = []
      const service = yield* internal.makeWriter({
        path: "memory",
        sink: internal.memorySink(lines),
        head: { seq: 0, hash: internal.genesis },
        settings: options
      })
      return Context.make(MintAudit, service).pipe(Context.add(MintAuditLog, {
        lines: Effect.sync(() => lines.slice()),
        entries: Effect.sync(() => lines.map((line) => JSON.parse(line) as Entry))
      }))
    }))

  /**
   * Verifies the log in the file at `path`, streamed (constant memory, whatever its size): every
   * line's hash against its content, its `prev` against the line before, its `seq` against its
   * place. Stops at the first broken line. With an `anchor` kept from an earlier run, a log cut
   * short or rewritten up to the anchored line is broken too. Fails with the `PlatformError` of a
   * file that cannot be read (missing, a directory…).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { NodeFileSystem } from "@effect/platform-node"
   * import { MintAudit } from "effect-chittyid/MintAudit"
   *
   * const check = MintAudit.verify("mints.jsonl").pipe(
   *   Effect.map((v) => v.ok ? `${v.entries} entries, intact` : `broken at line ${v.brokenAt}: ${v.reason}`),
   *   Effect.provide(NodeFileSystem.layer)
   * )
   * ```
   *
   * @since 0.2.0
   */
  static readonly verify = (
    path: string,
    options?: VerifyOptions
  ): Effect.Effect<Verification, PlatformError.PlatformError, FileSystem.FileSystem> =>
    internalFile.verify(path, options)

  /**
   * Verifies a log given as its lines, in order (a file read another way, the in-memory log).
   *
   * @example
   * ```ts
   * import { Stream } from "effect"
   * import { MintAudit } from "effect-chittyid/MintAudit"
   *
   * const empty = MintAudit.verifyLines(Stream.empty) // { entries: 0, ok: true }
   * ```
   *
   * @since 0.2.0
   */
  static readonly verifyLines = <E, R>(
    lines: Stream.Stream<string, E, R>,
    options?: VerifyOptions
  ): Effect.Effect<Verification, E, R> => internal.verifyLines(lines, options)

  /**
   * The `prev` of a log's first line: 64 zeros.
   *
   * @example
   * ```ts
   * import { MintAudit } from "effect-chittyid/MintAudit"
   * MintAudit.genesis.length // 64
   * ```
   *
   * @since 0.2.0
   */
  static readonly genesis: string = internal.genesis
}
