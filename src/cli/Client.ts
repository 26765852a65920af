/**
 * The `--url` and `--token` flags of the commands that talk to the service, and the live
 * `IdService` they configure: the settings of `CHITTY_ID_*` (see `docs/configuration.md`), with the
 * flags taking precedence.
 *
 * @since 0.2.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { IdService, type LiveServices } from "../IdService.ts"
import * as IdServiceConfig from "../IdServiceConfig.ts"
import { layerHttpClient } from "../node.ts"

/**
 * What the connection flags say.
 *
 * @since 0.2.0
 * @category models
 */
export interface Flags {
  readonly url: Option.Option<string>
  readonly token: Option.Option<Redacted.Redacted<string>>
}

/**
 * `--url` (checked like `CHITTY_ID_URL`: plain `http:` only to a loopback host unless
 * `CHITTY_ID_ALLOW_INSECURE_HTTP`) and `--token` (redacted: never printed).
 *
 * @example
 * ```ts
 * import * as Command from "@effect/cli/Command"
 * import { Effect } from "effect"
 * import * as Client from "effect-chittyid/cli/Client"
 * const command = Command.make("ping", { service: Client.options }, () => Effect.void)
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export const options: Options.Options<Flags> = Options.all({
  url: Options.text("url").pipe(
    Options.withDescription("The service's base URL (default: $CHITTY_ID_URL, else https://id.chitty.cc)"),
    Options.mapEffect((url) =>
      Effect.gen(function*() {
        const insecure = yield* Config.boolean("CHITTY_ID_ALLOW_INSECURE_HTTP").pipe(
          Config.withDefault(false),
          Effect.orElseSucceed(() => false)
        )
        const checked = IdServiceConfig.checkUrl(url, insecure)
        return yield* Either.isRight(checked)
          ? Effect.succeed(checked.right)
          : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--url: ${checked.left}`)))
      })
    ),
    Options.optional
  ),
  token: Options.redacted("token").pipe(
    Options.withDescription("The bearer token (default: $CHITTY_ID_TOKEN); never printed"),
    Options.optional
  )
})

/**
 * The settings: `CHITTY_ID_*`, then the flags over them. A bad variable fails with a `ConfigError`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const settings = (flags: Flags): Effect.Effect<IdServiceConfig.Settings, ConfigError.ConfigError> =>
  Effect.map(IdServiceConfig.config, (base) => ({
    ...base,
    url: Option.getOrElse(flags.url, () => base.url),
    token: Option.orElse(flags.token, () => base.token)
  }))

/**
 * The live `IdService` (over the lean undici client) configured by the flags and `CHITTY_ID_*`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (flags: Flags): Layer.Layer<LiveServices, ConfigError.ConfigError> =>
  IdService.layerFromConfig().pipe(
    Layer.provide(Layer.effect(IdServiceConfig.IdServiceConfig, settings(flags))),
    Layer.provide(layerHttpClient)
  )

/**
 * A `ConfigError` in one line, naming the variable.
 *
 * @since 0.2.0
 * @category utils
 */
export const describeConfigError = (error: ConfigError.ConfigError): string =>
  `configuration: ${String(error).replace(/\s+/g, " ").trim()}`
