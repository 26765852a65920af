/**
 * One mint contender of `npm run bench` in a process of its own (started by `lib/remote.ts`):
 * `node --import tsx bench/contender.ts <name> <server url> <token>`. It makes the contender, says
 * `ready` over IPC, then runs the rounds it is asked for and answers each with what it measured —
 * its latencies and this process's CPU time — until it is asked to close. Nothing else runs here, so
 * the CPU a round reports is this client's own, garbage collection included.
 */
import { round } from "./lib/harness.ts"
import type * as Remote from "./lib/remote.ts"
import * as Roster from "./lib/roster.ts"

const [name, url, token] = process.argv.slice(2)
const send = (message: Remote.Reply): void => {
  process.send?.(message)
}

if (name === undefined || url === undefined || token === undefined || process.send === undefined) {
  process.stderr.write("usage (from lib/remote.ts, with an IPC channel): contender.ts <name> <url> <token>\n")
  process.exit(2)
}

try {
  const contender = await Roster.make(name, { url, token })
  process.on("message", (message: Remote.Request) => {
    if (message.type === "round") {
      round(contender, message.total, message.concurrency).then(
        (measured) => send({ type: "round", id: message.id, round: measured }),
        (error: unknown) => send({ type: "failed", message: String(error) })
      )
    } else {
      contender.close().finally(() => process.exit(0))
    }
  })
  send({ type: "ready" })
} catch (error) {
  send({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
}
