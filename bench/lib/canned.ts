/**
 * The canned `node:http` server (`../cannedServer.ts`) in a child process, for the rows that show
 * the client's own cost: it answers well-formed mints and does nothing else.
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

/** A running canned server. */
export interface Canned {
  readonly url: string
  /** Any token: the canned server checks none. */
  readonly token: string
  readonly pid: number
  readonly stop: () => Promise<void>
}

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Starts the canned server; resolves once it listens. */
export const start = (): Promise<Canned> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/cannedServer.ts"], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"]
    })
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    child.once("error", reject)
    const lines = createInterface({ input: child.stdout })
    lines.once("line", (line) => {
      const ready: unknown = JSON.parse(line)
      const url = typeof ready === "object" && ready !== null && "url" in ready ? ready.url : undefined
      if (typeof url !== "string" || child.pid === undefined) {
        reject(new Error(`unexpected first line from the canned server: ${line}`))
        return
      }
      resolve({
        url,
        token: "canned",
        pid: child.pid,
        stop: () => {
          if (child.exitCode === null) child.kill("SIGTERM")
          return exited
        }
      })
    })
  })
