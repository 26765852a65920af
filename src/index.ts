/**
 * effect-chittyid: mint and validate ChittyIDs from Effect code.
 *
 * @example
 * ```ts
 * import { ChittyId, IdService } from "effect-chittyid"
 * ```
 *
 * @since 0.1.0
 */

/**
 * The ID format: Schemas, parse, check number, entity types, regions, trust levels, Arbitrary.
 *
 * @since 0.1.0
 */
export * as ChittyId from "./ChittyId.ts"

/**
 * The HTTP contract as one `HttpApi`.
 *
 * @since 0.1.0
 */
export * as Api from "./Api.ts"

/**
 * The `IdService` tag, its layers and accessors.
 *
 * @since 0.1.0
 */
export * as IdService from "./IdService.ts"

/**
 * The settings of the live client.
 *
 * @since 0.1.0
 */
export * as IdServiceConfig from "./IdServiceConfig.ts"

/**
 * The typed failures.
 *
 * @since 0.1.0
 */
export * as IdServiceError from "./IdServiceError.ts"

/**
 * The resilient HTTP client under `IdService`.
 *
 * @since 0.1.0
 */
export * as IdServiceClient from "./IdServiceClient.ts"

/**
 * The Ref-backed circuit breaker.
 *
 * @since 0.1.0
 */
export * as CircuitBreaker from "./CircuitBreaker.ts"

/**
 * The retry policy as a Schedule.
 *
 * @since 0.1.0
 */
export * as Retry from "./Retry.ts"

/**
 * The validation cache.
 *
 * @since 0.1.0
 */
export * as ValidationCache from "./ValidationCache.ts"

/**
 * The health monitor.
 *
 * @since 0.1.0
 */
export * as HealthMonitor from "./HealthMonitor.ts"

/**
 * Metrics, events, stats and the health report.
 *
 * @since 0.1.0
 */
export * as Observability from "./Observability.ts"

/**
 * The tamper-evident audit log of mints.
 *
 * @since 0.2.0
 */
export * as MintAudit from "./MintAudit.ts"
