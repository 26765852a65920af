/**
 * What `Fleet.layerRedis` provides to the live layers, in terms of the core only (no
 * `@effect/experimental`, no `ioredis`): the live layers look it up with `Effect.serviceOption` when
 * they are built, so without a fleet layer nothing changes and nothing extra is loaded.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as IdServiceConfig from "../IdServiceConfig.ts"
import type * as Observability from "../Observability.ts"
import type * as ValidationCache from "../ValidationCache.ts"
import type * as MintRateLimit from "./mintRateLimit.ts"

/** Whether a shared piece works on the shared store or on its local form. */
export type ComponentState = "shared" | "local"

export interface Shared {
  /** The validation cache over the shared store (a local LRU in front); local while the store is away. */
  readonly makeValidationCache: (
    options: ValidationCache.Options
  ) => Effect.Effect<ValidationCache.Service, never, Scope.Scope>
  /** The fleet-wide mint permit; this process's own while the store is away. */
  readonly makeMintPermit: (
    rateLimit: IdServiceConfig.RateLimit
  ) => Effect.Effect<MintRateLimit.Permit, never, Scope.Scope>
  /** `FleetFallback` and `FleetRestored` of the shared pieces, from subscription on. */
  readonly events: Stream.Stream<Observability.ClientEvent>
  /** Each piece's state now. */
  readonly state: Effect.Effect<{ readonly cache: ComponentState; readonly rateLimit: ComponentState }>
}

export class Fleet extends Context.Tag("effect-chittyid/Fleet")<Fleet, Shared>() {}
