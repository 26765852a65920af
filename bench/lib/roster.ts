/**
 * The mint contenders of `npm run bench` by name, in the order the report lists them: the ones every
 * run measures, then the extras of the full run. Each is made in a process of its own
 * (`../contender.ts`), so the client CPU a row reports is that client's alone.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Contenders from "./contenders.ts"
import type { Contender } from "./harness.ts"

type Make = (server: Contenders.Server) => Promise<Contender> | Contender

const entry = (name: string, make: (name: string, server: Contenders.Server) => Promise<Contender> | Contender) =>
  [name, (server: Contenders.Server) => make(name, server)] as const

/** Measured in every run. */
export const main: ReadonlyArray<readonly [string, Make]> = [
  entry("raw-undici", (name, server) => Contenders.raw(name, Contenders.undiciSend, server)),
  entry("raw-fetch", (name, server) => Contenders.raw(name, Contenders.fetchSend, server)),
  entry("effect-chittyid", (name, server) => Contenders.effectChittyId(name, server)),
  entry("cockatiel", (name, server) => Contenders.cockatiel(name, Contenders.undiciSend, server)),
  entry("cockatiel + decode", (name, server) => Contenders.cockatiel(name, Contenders.undiciSendDecoded, server)),
  entry("opossum", (name, server) => Contenders.opossum(name, Contenders.undiciSend, server)),
  entry("opossum + decode", (name, server) => Contenders.opossum(name, Contenders.undiciSendDecoded, server))
]

/** More transports, in the full run (or when named with `--only`). */
export const extras: ReadonlyArray<readonly [string, Make]> = [
  entry("effect-chittyid (runPromise)", (name, server) => Contenders.effectChittyIdPromise(name, server)),
  entry("@effect/platform HttpClient", (name, server) => Contenders.effectPlatform(name, server)),
  entry(
    "effect-chittyid (NodeHttpClient.layerUndici)",
    (name, server) => Contenders.effectChittyId(name, server, NodeHttpClient.layerUndici)
  ),
  entry(
    "effect-chittyid (node:http keep-alive)",
    (name, server) => Contenders.effectChittyId(name, server, Contenders.nodeHttpKeepAlive)
  ),
  entry("cockatiel (fetch)", (name, server) => Contenders.cockatiel(name, Contenders.fetchSend, server)),
  entry("opossum (fetch)", (name, server) => Contenders.opossum(name, Contenders.fetchSend, server))
]

/** The contender named `name`, made against `server`. */
export const make = (name: string, server: Contenders.Server): Promise<Contender> | Contender => {
  const found = [...main, ...extras].find(([n]) => n === name)
  if (found === undefined) throw new Error(`no contender named ${JSON.stringify(name)}`)
  return found[1](server)
}
