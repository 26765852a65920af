/**
 * Runs the command line as a Node program: the exit code of {@link Main.run} becomes the process's;
 * SIGINT/SIGTERM interrupt the command (a server stops, its scope closes) and exit 0.
 *
 * @since 0.2.0
 */
import type * as CliApp from "@effect/cli/CliApp"
import type * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"
import type { Io } from "./Io.ts"
import * as Main from "./Main.ts"
import * as NodeIo from "./NodeIo.ts"

/**
 * The package's version, from its `package.json` (two directories up, from `src/cli` and `dist/cli` alike).
 *
 * @example
 * ```ts
 * import * as Bin from "effect-chittyid/cli/bin"
 * Bin.version() // "0.2.0"
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const version = (): string => {
  try {
    const json: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    return Schema.decodeUnknownSync(Schema.Struct({ version: Schema.String }))(json).version
  } catch {
    return "unknown"
  }
}

/**
 * Runs the command line on the process's arguments (without `node` and the script).
 *
 * @example
 * ```sh
 * # src/bin/cli.ts is main(process.argv.slice(2), chittyid):
 * node dist/bin/cli.js parse 03-1-USA-5537-P-2602-0-38
 * ```
 *
 * @since 0.2.0
 * @category running
 */
export const main = <Name extends string, E, A>(
  args: ReadonlyArray<string>,
  command: Command.Command<Name, Io | CliApp.CliApp.Environment, E, A>
): void => {
  const program = Main.runCommand(command, args, { version: version(), interactive: process.stdin.isTTY === true })
    .pipe(
      Effect.provide(Layer.merge(NodeContext.layer, NodeIo.layer))
    )
  NodeRuntime.runMain(program, {
    disableErrorReporting: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : Exit.isInterrupted(exit) ? 0 : 1
      )
  })
}
