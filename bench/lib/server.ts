/**
 * The reference server for the benchmark: started in a child process by `../serverProcess.ts` (no
 * faults, no latency; from `dist/` when the bench runs the built library, see `./library.ts`),
 * driven through its admin plane (reset, counts, faults), stopped at the end.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Counts from "effect-chittyid/server/Counts"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as ServerProcess from "../serverProcess.ts"
import { library } from "./library.ts"

/** A running server. */
export interface Server {
  readonly url: string
  readonly token: string
  readonly pid: number
  /** Clears the registry, the idempotency store, the counts and the faults. */
  readonly reset: () => Promise<void>
  /** The server's own counts (`GET /_admin/counts`). */
  readonly counts: () => Promise<ServerCounts>
  /** Merges fault settings (`POST /_admin/faults`; `null` turns one off). */
  readonly setFaults: (patch: Record<string, unknown>) => Promise<void>
  readonly stop: () => Promise<void>
}

/** The server's counts. */
export type ServerCounts = Counts.ServerCounts

/** Starts the server in its own scope; `stop` closes the scope, which ends the process. */
export const start = async (nodeArgs: ReadonlyArray<string> = []): Promise<Server> => {
  const scope = Effect.runSync(Scope.make())
  const started = await Effect.runPromiseExit(
    ServerProcess.start({ seed: 1, nodeArgs, built: library === "built" }).pipe(
      Scope.extend(scope),
      Effect.provide(NodeContext.layer)
    )
  )
  if (Exit.isFailure(started)) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw new Error(`cannot start the reference server: ${JSON.stringify(started.cause.toJSON())}`)
  }
  const { pid, url } = started.value
  const token = Redacted.value(started.value.token)

  const admin = async (method: "GET" | "POST", route: string, body?: unknown): Promise<unknown> => {
    const send = () =>
      fetch(`${url}/_admin/${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
    // A pooled connection the server has just closed fails the first try; the admin calls are idempotent.
    const response = await send().catch(send)
    const text = await response.text()
    if (!response.ok) throw new Error(`admin ${route}: ${response.status} ${text}`)
    return text === "" ? undefined : JSON.parse(text)
  }

  let stopped: Promise<void> | undefined
  return {
    url,
    token,
    pid,
    reset: async () => {
      await admin("POST", "reset")
    },
    counts: async () => Schema.decodeUnknownSync(Counts.ServerCounts)(await admin("GET", "counts")),
    setFaults: async (patch) => {
      await admin("POST", "faults", patch)
    },
    stop: () => stopped ??= Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
