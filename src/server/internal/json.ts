/**
 * JSON walks without recursion, so a hostile body nested thousands deep cannot overflow the stack:
 * a depth check, and a hash of the canonical form (object keys sorted) used as the idempotency
 * fingerprint.
 *
 * @internal
 */
import { createHash } from "node:crypto"
import * as CanonicalJson from "../../internal/canonicalJson.ts"

/** Is `value` nested deeper than `maxDepth` (a scalar is depth 0, `{}` and `[]` depth 1)? */
export const exceeds = (value: unknown, maxDepth: number): boolean => {
  const stack: Array<readonly [unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (node === null || typeof node !== "object") continue
    if (depth + 1 > maxDepth) return true
    const children: ReadonlyArray<unknown> = Array.isArray(node) ? node : Object.values(node)
    for (const child of children) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1])
    }
  }
  return false
}

/** How much canonical text is gathered before it is fed to the hash. */
const hashChunk = 16 * 1024

/**
 * SHA-256 (hex) of the canonical JSON of `value` (`internal/canonicalJson.ts`: object keys sorted,
 * `undefined` fields left out), fed to the hash as it is walked, in pieces of up to 16 KiB (one
 * update per piece of text would cross into the hash a dozen times for the smallest mint): no
 * recursion, never more than a piece of the canonical text held in memory.
 */
export const canonicalHash = (value: unknown): string => {
  const hash = createHash("sha256")
  let pending = ""
  CanonicalJson.walk(value, (text) => {
    pending += text
    if (pending.length >= hashChunk) {
      hash.update(pending, "utf8")
      pending = ""
    }
  })
  return hash.update(pending, "utf8").digest("hex")
}
