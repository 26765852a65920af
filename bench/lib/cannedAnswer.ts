/**
 * The canned mint answer of the benchmark's fake servers: a well-formed answer built from the
 * request (region, jurisdiction, entity type, a sequence counter, the check number) and nothing else.
 */
import * as ChittyId from "effect-chittyid/ChittyId"

/** A mint answerer with its own sequence: `(query, body) => JSON text`. */
export const cannedAnswer = (): (query: string, body: string) => string => {
  const timestamp = new Date().toISOString()
  const now = new Date()
  const yearMonth = `${String(now.getUTCFullYear() % 100).padStart(2, "0")}${
    String(now.getUTCMonth() + 1).padStart(2, "0")
  }`
  let sequence = 0
  return (query, body) => {
    const params = new URLSearchParams(query)
    const region = params.get("region") ?? "1"
    const jurisdiction = params.get("jurisdiction") ?? "USA"
    const entityType = /"entityType"\s*:\s*"([A-Z])"/.exec(body)?.[1] ?? "T"
    const sequential = String(sequence++ % 10_000).padStart(4, "0")
    const head = `03-${region}-${jurisdiction}-${sequential}-${entityType}-${yearMonth}-0`
    const checksum = ChittyId.checkNumber(head.replaceAll("-", ""))
    return JSON.stringify({
      success: true,
      chittyId: `${head}-${checksum}`,
      components: {
        version: "03",
        region,
        jurisdiction,
        sequential,
        entityType,
        yearMonth,
        trustLevel: "0",
        checksum
      },
      timestamp
    })
  }
}
