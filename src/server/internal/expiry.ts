/**
 * Expiry of the server's bounded stores, whose entries all live for the same TTL.
 *
 * @internal
 */

/**
 * Drops the expired entries of `entries`. Insertion order is the order entries were made and their
 * TTL is constant, so the expired ones come first and the sweep stops at the first live one.
 */
export const sweepExpired = (entries: Map<string, { readonly expiresAt: number }>, now: number): void => {
  for (const [key, entry] of entries) {
    if (entry.expiresAt > now) break
    entries.delete(key)
  }
}
