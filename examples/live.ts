/**
 * The live `IdService` for the examples: against `CHITTY_ID_URL` (and `CHITTY_ID_TOKEN`) when set,
 * otherwise against a reference server embedded on loopback, so `npm start` needs nothing running.
 */
import { Config, Context, Effect, Layer, Option } from "effect"
import { IdService } from "effect-chittyid/IdService"
import type * as IdServiceConfig from "effect-chittyid/IdServiceConfig"
import * as Node from "effect-chittyid/node"
import { ReferenceServer } from "effect-chittyid/server/ReferenceServer"

/** Where the examples talk to. */
export class Target extends Context.Tag("examples/Target")<Target, {
  readonly url: string
  /** The embedded server, when no `CHITTY_ID_URL` was given. */
  readonly server: Option.Option<Context.Tag.Service<ReferenceServer>>
}>() {}

/** `IdService` and `Target`, with settings for the examples on top of the environment's. */
export const layer = (settings: IdServiceConfig.Input = {}) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const url = yield* Config.option(Config.string("CHITTY_ID_URL"))
    if (Option.isSome(url)) {
      return Layer.merge(Node.layer, Layer.succeed(Target, { url: url.value, server: Option.none() }))
    }
    const server = yield* Layer.build(ReferenceServer.layer()).pipe(Effect.map(Context.get(ReferenceServer)))
    return Layer.merge(
      Node.layerWith({ ...settings, url: server.url, token: server.token }),
      Layer.succeed(Target, { url: server.url, server: Option.some(server) })
    )
  }))

export { IdService }
