/**
 * The shared test vectors (../shared/vectors/chittyid.json), read once and checked with a Schema so
 * a change of their shape fails loudly instead of testing nothing.
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as url from "node:url"

const Vectors = Schema.Struct({
  valid: Schema.NonEmptyArray(Schema.Struct({ id: Schema.String })),
  fallback: Schema.NonEmptyArray(Schema.Struct({ id: Schema.String, errorCode: Schema.String })),
  invalid: Schema.NonEmptyArray(Schema.Struct({ id: Schema.String, reason: Schema.String }))
})

const here = path.dirname(url.fileURLToPath(import.meta.url))

/** Where the shared folder is: beside the checkout (`../shared`), or named by `CHITTYID_SHARED`. */
export const sharedDir = process.env.CHITTYID_SHARED ?? path.resolve(here, "..", "..", "shared")

export const vectors = Schema.decodeUnknownSync(Vectors)(
  JSON.parse(fs.readFileSync(path.join(sharedDir, "vectors", "chittyid.json"), "utf8"))
)
