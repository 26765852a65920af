#!/usr/bin/env node
/**
 * The `chittyid` bin (in this repository: `npm run -s cli -- <args>`): see `docs/cli.md`.
 *
 * @example
 * ```sh
 * chittyid mint --type person -n 3
 * chittyid validate < ids.txt
 * chittyid serve --port 0
 * ```
 *
 * @since 0.2.0
 */
import { launch } from "./launch.ts"

launch("chittyid", async () => {
  const [{ main }, { chittyid }] = await Promise.all([import("../cli/bin.ts"), import("../cli/Main.ts")])
  main(process.argv.slice(2), chittyid)
})
