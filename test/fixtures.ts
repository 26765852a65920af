/**
 * The test vectors (test/vectors/chittyid.json, the project's own copy of the design's shared vectors,
 * refreshed by hand when those change), read once and checked with a Schema so a change of their
 * shape fails loudly instead of testing nothing.
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

export const vectors = Schema.decodeUnknownSync(Vectors)(
  JSON.parse(fs.readFileSync(path.join(here, "vectors", "chittyid.json"), "utf8"))
)
