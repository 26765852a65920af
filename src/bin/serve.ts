#!/usr/bin/env node
/**
 * The `chittyid-reference-server` bin: `chittyid serve` under a name of its own, kept for scripts
 * written before the `chittyid` command line (see `docs/cli.md`, "serve").
 *
 * @example
 * ```sh
 * chittyid-reference-server --port 0 --seed 42 --error-rate 0.3 --retry-after 1
 * chittyid-reference-server --profile live
 * ```
 *
 * @since 0.1.0
 */
import { launch } from "./launch.ts"

launch("chittyid-reference-server", async () => {
  const [{ main }, Serve] = await Promise.all([import("../cli/bin.ts"), import("../cli/Serve.ts")])
  main(process.argv.slice(2), Serve.named("chittyid-reference-server"))
})
