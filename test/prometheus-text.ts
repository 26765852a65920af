/**
 * A reader of the Prometheus text format for the telemetry tests: the samples of a scrape, and the
 * value of the one sample with a name and given labels.
 */
import { Effect } from "effect"

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Scrape {
  readonly status: number
  readonly contentType: string | null
  readonly text: string
  readonly samples: ReadonlyArray<Sample>
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** The samples of a scrape (comments skipped); a line that is neither fails the parse. */
export const parse = (text: string): ReadonlyArray<Sample> =>
  text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => {
    const match = sampleLine.exec(line)
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? "").matchAll(labelPair)) labels[key!] = value!.replace(/\\(.)/g, "$1")
    const raw = match[3]!
    return { name: match[1]!, labels, value: raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw) }
  })

/** `GET url` over loopback and its samples. */
export const scrape = (url: string): Effect.Effect<Scrape> =>
  Effect.promise(async () => {
    const response = await fetch(url)
    const text = await response.text()
    return {
      status: response.status,
      contentType: response.headers.get("content-type"),
      text,
      samples: response.status === 200 ? parse(text) : []
    }
  })

/**
 * The value of the single sample named `name` whose labels include `labels` (a label given as
 * `undefined` must be absent); `undefined` when there is none, an error when there are several.
 */
export const value = (
  scraped: Scrape,
  name: string,
  labels: Readonly<Record<string, string | number | undefined>> = {}
): number | undefined => {
  const found = scraped.samples.filter((sample) =>
    sample.name === name &&
    Object.entries(labels).every(([key, expected]) =>
      expected === undefined ? !(key in sample.labels) : sample.labels[key] === String(expected)
    )
  )
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value
}
