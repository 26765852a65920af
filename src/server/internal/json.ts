/**
 * JSON walks without recursion, so a hostile body nested thousands deep cannot overflow the stack:
 * a depth check, and a hash of the canonical form (object keys sorted) used as the idempotency
 * fingerprint.
 *
 * @internal
 */
import { createHash } from "node:crypto"

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

type Frame =
  | { readonly _tag: "Value"; readonly value: unknown }
  | { readonly _tag: "Text"; readonly text: string }

/**
 * SHA-256 (hex) of the canonical JSON of `value`: object keys sorted, `undefined` fields left out,
 * as `JSON.stringify` would write it otherwise. Built with an explicit stack, fed to the hash as it
 * goes: no recursion, no canonical string held in memory.
 */
export const canonicalHash = (value: unknown): string => {
  const hash = createHash("sha256")
  const stack: Array<Frame> = [{ _tag: "Value", value }]
  while (stack.length > 0) {
    const frame = stack.pop()!
    if (frame._tag === "Text") {
      hash.update(frame.text, "utf8")
      continue
    }
    const node = frame.value
    if (Array.isArray(node)) {
      // Pushed in reverse: popped in order.
      stack.push({ _tag: "Text", text: "]" })
      for (let i = node.length - 1; i >= 0; i--) {
        const item: unknown = node[i]
        stack.push({ _tag: "Value", value: item === undefined || typeof item === "function" ? null : item })
        if (i > 0) stack.push({ _tag: "Text", text: "," })
      }
      stack.push({ _tag: "Text", text: "[" })
    } else if (node !== null && typeof node === "object") {
      const record = node as Record<string, unknown>
      const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort()
      stack.push({ _tag: "Text", text: "}" })
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!
        stack.push({ _tag: "Value", value: record[key] })
        stack.push({ _tag: "Text", text: `${i > 0 ? "," : ""}${JSON.stringify(key)}:` })
      }
      stack.push({ _tag: "Text", text: "{" })
    } else {
      hash.update(JSON.stringify(node) ?? "null", "utf8")
    }
  }
  return hash.digest("hex")
}
