/**
 * The smallest useful Worker: mint an ID, confirm it with the service, answer it. `npm run size`
 * measures its bundle (esbuild, browser platform, minified).
 */
import { Effect, Layer, ManagedRuntime } from "effect"
import * as Fetch from "effect-chittyid/fetch"
import * as IdService from "effect-chittyid/IdService"
import type * as ConfigError from "effect/ConfigError"

let runtime: ManagedRuntime.ManagedRuntime<IdService.LiveServices, ConfigError.ConfigError> | undefined

export default {
  fetch(_request: Request, env: Readonly<Record<string, unknown>>): Promise<Response> {
    runtime ??= ManagedRuntime.make(
      Fetch.layerWorker.pipe(Layer.provide(Layer.setConfigProvider(Fetch.configProvider(env))))
    )
    return runtime.runPromise(
      IdService.mint({ entityType: "P" }).pipe(
        Effect.flatMap((minted) => IdService.validate(minted.chittyId, { remote: true })),
        Effect.match({
          onFailure: (error) => Response.json({ error: error._tag }, { status: 502 }),
          onSuccess: (checked) => Response.json(checked)
        })
      )
    )
  }
}
