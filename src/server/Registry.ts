/**
 * The reference server's in-memory registry: it hands out sequences that never repeat for one
 * prefix (region, jurisdiction, entity type, year-month), remembers every ID it minted with the
 * request that minted it, and answers "minted here?" for validation.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Registry from "effect-chittyid/server/Registry"
 *
 * const registry = Registry.make({ capacity: 10_000 })
 * const id = Effect.runSync(registry.mint({
 *   region: 1, jurisdiction: "USA", entityType: "P", yearMonth: "2602", trustLevel: 0,
 *   idempotencyKey: null, metadata: null, mintedAt: "2026-02-01T00:00:00.000Z"
 * })) // "03-1-USA-0000-P-2602-0-…"
 * ```
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Api from "../Api.ts"
import * as ChittyId from "../ChittyId.ts"

/**
 * The sequence space of one prefix: four digits.
 *
 * @example
 * ```ts
 * import * as Registry from "effect-chittyid/server/Registry"
 *
 * Registry.maxSequences // 10000
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const maxSequences = 10_000

/**
 * One ID minted by the server, with the request that minted it. A logical call is identified by
 * `callId` (the request's `metadata.callId`, when it is a string) or else by its `idempotencyKey`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as Registry from "effect-chittyid/server/Registry"
 *
 * declare const json: unknown // the body of GET /_admin/mint-log
 * const log = Schema.decodeUnknownSync(Schema.Array(Registry.MintRecord))(json)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const MintRecord = Schema.Struct({
  chittyId: ChittyId.ChittyId,
  idempotencyKey: Schema.NullOr(Schema.String),
  callId: Schema.NullOr(Schema.String),
  metadata: Schema.NullOr(Api.Metadata),
  mintedAt: Schema.String
}).annotations({ identifier: "MintRecord" })

/**
 * @since 0.1.0
 * @category schemas
 */
export type MintRecord = typeof MintRecord.Type

/**
 * The sequence space of a prefix is used up; the server never wraps round into a duplicate.
 *
 * @example
 * ```ts
 * import * as Registry from "effect-chittyid/server/Registry"
 * new Registry.SequenceExhausted({ prefix: "1-USA-P-2602", capacity: 10000 }).message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SequenceExhausted extends Data.TaggedError("SequenceExhausted")<{
  readonly prefix: string
  readonly capacity: number
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `sequence space exhausted for region-jurisdiction-type-month ${this.prefix}: all ${this.capacity} ` +
      `sequences are used and a ChittyID is never reissued; mint with another region or jurisdiction, ` +
      `or after the month changes`
  }
}

/**
 * What the registry needs to mint one ID.
 *
 * @since 0.1.0
 * @category models
 */
export interface MintInput {
  readonly region: ChittyId.Region
  readonly jurisdiction: string
  readonly entityType: ChittyId.EntityTypeCode
  readonly yearMonth: string
  readonly trustLevel: ChittyId.TrustLevel
  readonly idempotencyKey: string | null
  readonly metadata: typeof Api.Metadata.Type | null
  /**
   * The logical call (default: `metadata.callId` when it is a string). Given apart from the
   * metadata by a server that keeps no metadata (the `live` profile). @since 0.2.0
   */
  readonly callId?: string | null | undefined
  readonly mintedAt: string
}

/**
 * The registry's operations. Each is atomic: its state changes happen in one synchronous step.
 *
 * @since 0.1.0
 * @category models
 */
export interface Registry {
  /** Allocates the next sequence of the prefix, builds the ID and records it. */
  readonly mint: (input: MintInput) => Effect.Effect<ChittyId.ChittyId, SequenceExhausted>
  /** The record of an ID minted here. */
  readonly lookup: (id: string) => MintRecord | undefined
  /** Every ID minted and still kept, oldest first. */
  readonly log: Effect.Effect<ReadonlyArray<MintRecord>>
  /** A page of the log: up to `limit` records from the `offset`-th kept one, oldest first. @since 0.2.0 */
  readonly page: (offset: number, limit: number) => Effect.Effect<ReadonlyArray<MintRecord>>
  /** Records kept now (at most `maxRecords`). */
  readonly size: () => number
  /** IDs minted since start or the last `clear`, forgotten ones included. @since 0.2.0 */
  readonly minted: () => number
  readonly clear: Effect.Effect<void>
}

/**
 * Default number of mint records kept (the oldest are forgotten first).
 *
 * @example
 * ```ts
 * import * as Registry from "effect-chittyid/server/Registry"
 * Registry.defaultMaxRecords // 100000
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultMaxRecords = 100_000

/**
 * Default budget of the metadata kept over all records, in bytes of JSON (the oldest records are
 * forgotten first when it is spent).
 *
 * @example
 * ```ts
 * import * as Registry from "effect-chittyid/server/Registry"
 * Registry.defaultMaxMetadataBytes // 33554432
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultMaxMetadataBytes = 32 * 1024 * 1024

/**
 * Creates an empty registry. `capacity` (at most {@link maxSequences}) is how many IDs one prefix
 * may have: a testing knob to reach exhaustion quickly.
 *
 * @example
 * ```ts
 * import * as Registry from "effect-chittyid/server/Registry"
 *
 * const registry = Registry.make({ capacity: 3 }) // the 4th ID of a prefix fails with SequenceExhausted
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly capacity: number
  readonly maxRecords?: number | undefined
  readonly maxMetadataBytes?: number | undefined
}): Registry => {
  const capacity = Math.max(0, Math.min(maxSequences, Math.floor(options.capacity)))
  const maxRecords = Math.max(1, options.maxRecords ?? defaultMaxRecords)
  const maxMetadataBytes = Math.max(0, options.maxMetadataBytes ?? defaultMaxMetadataBytes)
  // The sequence counters are kept whatever is forgotten: an ID is never reissued.
  const next = new Map<string, number>()
  // A Map keeps insertion order: its values are the mint log, with each record's metadata size.
  const records = new Map<string, { readonly record: MintRecord; readonly bytes: number }>()
  let metadataBytes = 0
  let minted = 0
  const forgetOldest = () => {
    while (records.size > maxRecords || (metadataBytes > maxMetadataBytes && records.size > 0)) {
      const oldest = records.entries().next()
      if (oldest.done === true) return
      records.delete(oldest.value[0])
      metadataBytes -= oldest.value[1].bytes
    }
  }

  return {
    mint: (input) =>
      Effect.suspend(() => {
        const prefix = `${input.region}-${input.jurisdiction}-${input.entityType}-${input.yearMonth}`
        const sequence = next.get(prefix) ?? 0
        if (sequence >= capacity) return Effect.fail(new SequenceExhausted({ prefix, capacity }))
        const made = ChittyId.make({
          region: input.region,
          jurisdiction: input.jurisdiction,
          sequence,
          entityType: input.entityType,
          yearMonth: input.yearMonth,
          trustLevel: input.trustLevel
        })
        // The handler validated every part; a failure here is a bug, not a request error.
        if (Either.isLeft(made)) return Effect.die(made.left)
        const chittyId = made.right
        next.set(prefix, sequence + 1)
        const callId = input.callId !== undefined ? input.callId : input.metadata?.["callId"]
        // The body limit bounds one record's metadata; the budget bounds them all.
        const bytes = input.metadata === null ? 0 : (JSON.stringify(input.metadata)?.length ?? 0)
        records.set(chittyId, {
          bytes,
          record: {
            chittyId,
            idempotencyKey: input.idempotencyKey,
            callId: typeof callId === "string" ? callId : null,
            metadata: input.metadata,
            mintedAt: input.mintedAt
          }
        })
        metadataBytes += bytes
        minted++
        forgetOldest()
        return Effect.succeed(chittyId)
      }),
    lookup: (id) => records.get(id)?.record,
    log: Effect.sync(() => Array.from(records.values(), (entry) => entry.record)),
    page: (offset, limit) =>
      Effect.sync(() => {
        const out: Array<MintRecord> = []
        let index = 0
        for (const entry of records.values()) {
          if (out.length >= limit) break
          if (index++ >= offset) out.push(entry.record)
        }
        return out
      }),
    size: () => records.size,
    minted: () => minted,
    clear: Effect.sync(() => {
      next.clear()
      records.clear()
      metadataBytes = 0
      minted = 0
    })
  }
}

/**
 * How many IDs were minted beyond the first for one logical call (identified by `callId`, else by
 * `idempotencyKey`; records with neither are not counted). Zero when no call minted twice.
 *
 * @example
 * ```ts
 * import * as Registry from "effect-chittyid/server/Registry"
 * declare const log: ReadonlyArray<Registry.MintRecord>
 * Registry.duplicateMints(log) // 0 when every logical call minted at most one ID
 * ```
 *
 * @since 0.1.0
 * @category duplicates
 */
export const duplicateMints = (records: ReadonlyArray<MintRecord>): number => {
  const seen = new Set<string>()
  let duplicates = 0
  for (const record of records) {
    const call = record.callId !== null
      ? `call:${record.callId}`
      : record.idempotencyKey !== null
      ? `key:${record.idempotencyKey}`
      : undefined
    if (call === undefined) continue
    if (seen.has(call)) duplicates++
    else seen.add(call)
  }
  return duplicates
}
