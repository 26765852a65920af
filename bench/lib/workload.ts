/**
 * What every contender mints: the same request, spread over regions, entity types and jurisdictions
 * so that no prefix (region, jurisdiction, type, month) gets near the server's 10 000 sequences.
 */
import { randomUUID } from "node:crypto"

const entityTypes = ["P", "L", "T", "E", "A"] as const

/** The three-letter jurisdictions `AAA`…`ZZZ` (`ERR` is reserved for fallback IDs). */
const jurisdictions: ReadonlyArray<string> = (() => {
  const out: Array<string> = []
  for (let a = 0; a < 26; a++) {
    for (let b = 0; b < 26; b++) {
      for (let c = 0; c < 26; c++) {
        const code = String.fromCharCode(65 + a, 65 + b, 65 + c)
        if (code !== "ERR") out.push(code)
      }
    }
  }
  return out
})()

/** One mint target. */
export interface Target {
  readonly region: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9
  readonly entityType: (typeof entityTypes)[number]
  readonly jurisdiction: string
}

/** The prefixes cycled through: 9 regions × 5 types × 17 575 jurisdictions. */
export const prefixes = 9 * entityTypes.length * jurisdictions.length

let counter = 0

/**
 * The next target, round-robin over every prefix: a run would need 10 000 × {@link prefixes}
 * (about 8.7 billion) mints before any prefix ran out.
 */
export const nextTarget = (): Target => {
  const n = counter++
  const region = (1 + (n % 9)) as Target["region"]
  const entityType = entityTypes[Math.floor(n / 9) % entityTypes.length]!
  const jurisdiction = jurisdictions[Math.floor(n / (9 * entityTypes.length)) % jurisdictions.length]!
  return { region, entityType, jurisdiction }
}

/** The wire form of a mint, as the hand-written clients send it (the same bytes `IdService` sends). */
export interface WireMint {
  readonly target: Target
  readonly path: string
  readonly body: string
  readonly idempotencyKey: string
}

/** `POST /v1/mint?region=…&jurisdiction=…` with `{"entityType":…}` and a fresh idempotency key. */
export const wireMint = (target: Target): WireMint => ({
  target,
  path: `/v1/mint?region=${target.region}&jurisdiction=${target.jurisdiction}`,
  body: JSON.stringify({ entityType: target.entityType }),
  idempotencyKey: randomUUID()
})
