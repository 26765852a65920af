/**
 * A contender running in a process of its own (`../contender.ts`), driven over IPC: the bench asks
 * it for rounds one at a time, so while one client is measured the others wait idle, and the CPU
 * each round reports is that client's process alone (its garbage collection included, nobody
 * else's). The child loads the library as this process does (`TSX_TSCONFIG_PATH` is inherited).
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { Server } from "./contenders.ts"
import type { Round } from "./harness.ts"

/** What the bench asks of a contender's process. */
export type Request =
  | { readonly type: "round"; readonly id: number; readonly total: number; readonly concurrency: number }
  | { readonly type: "close" }

/** What a contender's process answers. */
export type Reply =
  | { readonly type: "ready" }
  | { readonly type: "round"; readonly id: number; readonly round: Round }
  | { readonly type: "failed"; readonly message: string }

/** A contender in its own process. */
export interface Remote {
  readonly name: string
  readonly pid: number
  /** Runs `total` calls with `concurrency` workers in the contender's process. */
  readonly round: (total: number, concurrency: number) => Promise<Round>
  readonly close: () => Promise<void>
}

const root = fileURLToPath(new URL("../..", import.meta.url))
const entry = fileURLToPath(new URL("../contender.ts", import.meta.url))

/** Starts contender `name` against `server` in a child process; resolves once it is ready. */
export const start = (name: string, server: Server): Promise<Remote> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", entry, name, server.url, server.token], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      // structured clone: latencies travel as a Float64Array
      serialization: "advanced"
    })
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    const waiting = new Map<number, { resolve: (round: Round) => void; reject: (error: Error) => void }>()
    let next = 0
    const failAll = (error: Error) => {
      for (const pending of waiting.values()) pending.reject(error)
      waiting.clear()
    }
    child.once("error", reject)
    child.once("exit", (code) => {
      const error = new Error(`contender ${name} exited (${code})`)
      reject(error)
      failAll(error)
    })
    child.on("message", (reply: Reply) => {
      if (reply.type === "failed") {
        const error = new Error(`contender ${name}: ${reply.message}`)
        reject(error)
        failAll(error)
      } else if (reply.type === "round") {
        waiting.get(reply.id)?.resolve(reply.round)
        waiting.delete(reply.id)
      } else if (child.pid !== undefined) {
        resolve({
          name,
          pid: child.pid,
          round: (total, concurrency) =>
            new Promise<Round>((resolveRound, rejectRound) => {
              const id = next++
              waiting.set(id, { resolve: resolveRound, reject: rejectRound })
              child.send({ type: "round", id, total, concurrency } satisfies Request)
            }),
          close: () => {
            if (child.exitCode === null && child.connected) child.send({ type: "close" } satisfies Request)
            return exited
          }
        })
      }
    })
  })
