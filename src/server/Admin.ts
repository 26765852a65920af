/**
 * The reference server's admin plane, for runners that start the server in another process (chaos,
 * benchmarks): read the counts and the mint log, set or clear faults, reset everything. Same bearer
 * token as the API; never subject to faults; never counted.
 *
 * | endpoint | request | 2xx |
 * |---|---|---|
 * | `GET /_admin/counts` | — | {@link Counts.ServerCounts} |
 * | `GET /_admin/mint-log` | query `offset`, `limit` (default 0 and 1000, at most 10 000) | a page of {@link Registry.MintRecord}, oldest first |
 * | `GET /_admin/faults` | — | {@link Faults.Faults} in force |
 * | `POST /_admin/faults` | {@link Faults.FaultsPatch} (merged) | {@link Faults.Faults} in force |
 * | `POST /_admin/reset` | — | 204 |
 *
 * @example
 * ```ts
 * import { Effect, Redacted } from "effect"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import * as Admin from "effect-chittyid/server/Admin"
 *
 * const program = Effect.gen(function*() {
 *   const admin = yield* Admin.makeClient({ url: "http://127.0.0.1:8787", token: Redacted.make("secret") })
 *   yield* admin.admin.setFaults({ payload: { errors: { rate: 0.3 } } })
 *   const counts = yield* admin.admin.counts()
 * }).pipe(Effect.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Api from "../Api.ts"
import * as Counts from "./Counts.ts"
import * as Faults from "./Faults.ts"
import * as Registry from "./Registry.ts"

/**
 * The paths of the admin plane.
 *
 * @example
 * ```ts
 * import * as Admin from "effect-chittyid/server/Admin"
 * Admin.paths.counts // "/_admin/counts"
 * ```
 *
 * @since 0.1.0
 * @category paths
 */
export const paths = {
  prefix: "/_admin/",
  counts: "/_admin/counts",
  mintLog: "/_admin/mint-log",
  faults: "/_admin/faults",
  reset: "/_admin/reset"
} as const

/**
 * The default and the largest page of `GET /_admin/mint-log`.
 *
 * @example
 * ```ts
 * import * as Admin from "effect-chittyid/server/Admin"
 * Admin.mintLogPage.max // 10000
 * ```
 *
 * @since 0.2.0
 * @category paths
 */
export const mintLogPage = { default: 1000, max: 10_000 } as const

/**
 * The query of `GET /_admin/mint-log`: `offset` (records to skip, default 0) and `limit` (default
 * 1000, at most 10 000). Page until a page is shorter than `limit`.
 *
 * @example
 * ```ts
 * import * as Admin from "effect-chittyid/server/Admin"
 * const query: typeof Admin.MintLogPage.Encoded = { offset: "1000", limit: "1000" }
 * ```
 *
 * @since 0.2.0
 * @category paths
 */
export const MintLogPage = Schema.Struct({
  offset: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())),
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, mintLogPage.max)))
})

/**
 * Every record of the mint log, read page by page through a typed admin client.
 *
 * @example
 * ```ts
 * import { Effect, Redacted } from "effect"
 * import * as Admin from "effect-chittyid/server/Admin"
 * const log = Effect.flatMap(
 *   Admin.makeClient({ url: "http://127.0.0.1:8787", token: Redacted.make("secret") }),
 *   Admin.readMintLog
 * )
 * ```
 *
 * @since 0.2.0
 * @category client
 */
export const readMintLog = <E, R>(client: {
  readonly admin: {
    readonly mintLog: (request: {
      readonly urlParams: typeof MintLogPage.Type
    }) => Effect.Effect<ReadonlyArray<Registry.MintRecord>, E, R>
  }
}): Effect.Effect<ReadonlyArray<Registry.MintRecord>, E, R> =>
  Effect.gen(function*() {
    const all: Array<Registry.MintRecord> = []
    for (;;) {
      const page = yield* client.admin.mintLog({ urlParams: { offset: all.length, limit: mintLogPage.max } })
      all.push(...page)
      if (page.length < mintLogPage.max) return all
    }
  })

/**
 * The admin endpoints, behind the API's bearer-token `Authorization`.
 *
 * @example
 * ```ts
 * import { HttpApi } from "@effect/platform"
 * import * as Admin from "effect-chittyid/server/Admin"
 *
 * class MyServerApi extends HttpApi.make("mine").add(Admin.AdminGroup) {}
 * ```
 *
 * @since 0.1.0
 * @category api
 */
export class AdminGroup extends HttpApiGroup.make("admin")
  .add(HttpApiEndpoint.get("counts", paths.counts).addSuccess(Counts.ServerCounts))
  .add(
    HttpApiEndpoint.get("mintLog", paths.mintLog)
      .setUrlParams(MintLogPage)
      .addSuccess(Schema.Array(Registry.MintRecord))
  )
  .add(HttpApiEndpoint.get("faults", paths.faults).addSuccess(Faults.Faults))
  .add(HttpApiEndpoint.post("setFaults", paths.faults).setPayload(Faults.FaultsPatch).addSuccess(Faults.Faults))
  .add(HttpApiEndpoint.post("reset", paths.reset))
  .addError(Api.InvalidRequestBody)
  .middleware(Api.Authorization)
{}

/**
 * The admin plane on its own, for a typed client (see {@link makeClient}).
 *
 * @example
 * ```ts
 * import { HttpApiClient } from "@effect/platform"
 * import * as Admin from "effect-chittyid/server/Admin"
 *
 * const client = HttpApiClient.make(Admin.AdminApi, { baseUrl: "http://127.0.0.1:8787" })
 * ```
 *
 * @since 0.1.0
 * @category api
 */
export class AdminApi extends HttpApi.make("chittyid-admin").add(AdminGroup) {}

/**
 * What the reference server serves: the ChittyID contract plus the admin plane.
 *
 * @example
 * ```ts
 * import { HttpApiBuilder } from "@effect/platform"
 * import * as Admin from "effect-chittyid/server/Admin"
 * const ApiLive = HttpApiBuilder.api(Admin.ServerApi) // then provide the ids, health and admin handlers
 * ```
 *
 * @since 0.1.0
 * @category api
 */
export const ServerApi = Api.ChittyIdApi.add(AdminGroup)

/**
 * A typed client of the admin plane of a server at `url`, sending `token` as a bearer token.
 *
 * @example
 * ```ts
 * import { Effect, Redacted } from "effect"
 * import * as Admin from "effect-chittyid/server/Admin"
 *
 * const counts = Effect.flatMap(
 *   Admin.makeClient({ url: "http://127.0.0.1:8787", token: Redacted.make("secret") }),
 *   (admin) => admin.admin.counts()
 * )
 * ```
 *
 * @since 0.1.0
 * @category client
 */
export const makeClient = (options: { readonly url: string; readonly token: Redacted.Redacted<string> }) =>
  HttpApiClient.make(AdminApi, {
    baseUrl: options.url,
    transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(options.token))
  })
