/**
 * The mint rate limit in this process: effect's `RateLimiter` (fixed window: at most `limit`
 * permits from the first mint of a window until it ends). `"delay"` waits for a permit as the
 * limiter does; `"fail"` asks the same limiter without waiting (a zero timeout: a permit that is
 * there is taken at once, none means `RateLimited`), with the time left in the window as the
 * retry-after, tracked beside the limiter from the first permit of each window (as the limiter
 * starts its own window timer).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as RateLimiter from "effect/RateLimiter"
import type * as Scope from "effect/Scope"
import type * as IdServiceConfig from "../IdServiceConfig.ts"
import * as IdServiceError from "../IdServiceError.ts"
import type { Fleet } from "./fleet.ts"

/** Takes one mint permit: waits for it (`delay`) or fails `RateLimited` (`fail`). */
export type Permit = Effect.Effect<void, IdServiceError.RateLimited>

/** No limit. */
export const unlimited: Permit = Effect.void

/** The error of a mint refused by the limit. */
export const rateLimited = (rateLimit: IdServiceConfig.RateLimit, retryAfterMs: number, scope: string) =>
  new IdServiceError.RateLimited({
    message: `mint rate limit of ${rateLimit.limit} per ${
      Duration.format(rateLimit.window)
    } reached (${scope}); retry in ${retryAfterMs} ms`,
    retryAfterMs
  })

/** The permit of one process, from effect's `RateLimiter`. */
export const local = (rateLimit: IdServiceConfig.RateLimit): Effect.Effect<Permit, never, Scope.Scope> =>
  Effect.gen(function*() {
    const limiter = yield* RateLimiter.make({
      limit: rateLimit.limit,
      interval: rateLimit.window,
      algorithm: "fixed-window"
    })
    if (rateLimit.onExceeded === "delay") return limiter(Effect.void)
    const window = Duration.toMillis(rateLimit.window)
    let windowEnds = 0
    return Effect.flatMap(
      Effect.timeoutOption(limiter(Effect.void), Duration.zero),
      (taken) =>
        Effect.flatMap(Clock.currentTimeMillis, (now): Permit => {
          if (Option.isSome(taken)) {
            if (now >= windowEnds) windowEnds = now + window
            return Effect.void
          }
          return Effect.fail(rateLimited(rateLimit, Math.max(1, Math.ceil(windowEnds - now)), "this process"))
        })
    )
  })

/**
 * The permit of the live `IdService`: none without a `rateLimit` setting; the fleet's when
 * `Fleet.layerRedis` is provided; this process's own otherwise.
 */
export const make = (
  rateLimit: Option.Option<IdServiceConfig.RateLimit>,
  fleet: Option.Option<Fleet["Type"]>
): Effect.Effect<Permit, never, Scope.Scope> =>
  Option.isNone(rateLimit)
    ? Effect.succeed(unlimited)
    : Option.isSome(fleet)
    ? fleet.value.makeMintPermit(rateLimit.value)
    : local(rateLimit.value)
