/**
 * Starts a bin of the command line, loaded lazily so that a missing optional peer (`@effect/cli`,
 * `@effect/printer`, `@effect/printer-ansi`) is one clear line on stderr and exit code 1, not a
 * module-resolution stack trace: the library itself does not need them, so a user may not have them.
 *
 * @example
 * ```sh
 * # src/bin/cli.ts: launch(() => import("../cli/Main.ts").then(...))
 * node dist/bin/cli.js --help
 * ```
 *
 * @since 0.2.0
 */

const peers = /@effect\/(cli|printer|printer-ansi|platform-node)\b/

/**
 * Runs `start`; when it fails because a peer of the command line is not installed, says which and
 * how to install them.
 *
 * @since 0.2.0
 */
export const launch = (name: string, start: () => Promise<void>): void => {
  start().catch((error: unknown) => {
    const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined
    const message = error instanceof Error ? error.message : String(error)
    const peer = peers.exec(message)
    if (code === "ERR_MODULE_NOT_FOUND" && peer !== null) {
      console.error(
        `${name}: ${peer[0]} is not installed; the command line needs it: npm install @effect/cli@^0.77 ` +
          `@effect/printer@^0.51 @effect/printer-ansi@^0.51 @effect/platform-node@^0.108`
      )
    } else {
      console.error(`${name}: cannot start: ${message.split("\n")[0]}`)
    }
    process.exitCode = 1
  })
}
