/**
 * Canonical JSON: object keys sorted, `undefined` fields left out, otherwise as `JSON.stringify`
 * writes it. Walked with an explicit stack, so a value nested thousands deep cannot overflow the
 * stack. Shared by the reference server (its idempotency fingerprint, fed to a hash as it goes) and
 * the mint audit log (the content each line's hash covers).
 *
 * @internal
 */

type Frame =
  | { readonly _tag: "Value"; readonly value: unknown }
  | { readonly _tag: "Text"; readonly text: string }

/**
 * Writes the canonical JSON of `value` to `write`, piece by piece (the whole text is never held
 * here). The value must be JSON data (no cycles, no `toJSON`): a `JSON.parse` result, or plain data.
 */
export const walk = (value: unknown, write: (text: string) => void): void => {
  const stack: Array<Frame> = [{ _tag: "Value", value }]
  while (stack.length > 0) {
    const frame = stack.pop()!
    if (frame._tag === "Text") {
      write(frame.text)
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
      write(JSON.stringify(node) ?? "null")
    }
  }
}

/** The canonical JSON of `value` as one string. */
export const stringify = (value: unknown): string => {
  let text = ""
  walk(value, (piece) => {
    text += piece
  })
  return text
}
