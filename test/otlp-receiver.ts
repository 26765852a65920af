/**
 * A tiny OTLP/HTTP (JSON) receiver for the telemetry tests: listens on 127.0.0.1, a free port, for
 * its scope's lifetime; keeps every request (path, content type, body), answers 200 `{}`; and decodes
 * the trace and metric export requests with Schemas of the parts the tests read.
 */
import { type Duration, Effect, Either, Schedule, Schema, type Scope } from "effect"
import * as http from "node:http"

export interface Received {
  readonly path: string
  readonly contentType: string | undefined
  readonly body: string
}

export interface Receiver {
  readonly url: string
  readonly received: () => ReadonlyArray<Received>
}

export const start: Effect.Effect<Receiver, never, Scope.Scope> = Effect.acquireRelease(
  Effect.async<{ readonly server: http.Server; readonly received: Array<Received> }>((resume) => {
    const received: Array<Received> = []
    const server = http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        received.push({
          path: request.url ?? "",
          contentType: request.headers["content-type"],
          body: Buffer.concat(chunks).toString("utf8")
        })
        response.writeHead(200, { "content-type": "application/json" })
        response.end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, received })))
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
      server.closeAllConnections()
    })
).pipe(
  Effect.map(({ received, server }) => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    return { url: `http://127.0.0.1:${port}`, received: () => [...received] }
  })
)

const AnyValue = Schema.Struct({
  stringValue: Schema.optional(Schema.String),
  boolValue: Schema.optional(Schema.Boolean),
  intValue: Schema.optional(Schema.Union(Schema.Number, Schema.NumberFromString)),
  doubleValue: Schema.optional(Schema.Number)
})
const KeyValue = Schema.Struct({ key: Schema.String, value: AnyValue })
const Attributes = Schema.optionalWith(Schema.Array(KeyValue), { default: () => [] })
const Resource = Schema.Struct({ attributes: Attributes })

export const TraceRequest = Schema.Struct({
  resourceSpans: Schema.Array(Schema.Struct({
    resource: Resource,
    scopeSpans: Schema.Array(Schema.Struct({
      spans: Schema.Array(Schema.Struct({
        traceId: Schema.String,
        spanId: Schema.String,
        parentSpanId: Schema.optional(Schema.String),
        name: Schema.String,
        kind: Schema.Number,
        attributes: Attributes,
        status: Schema.optional(Schema.Struct({ code: Schema.optional(Schema.Number) }))
      }))
    }))
  }))
})

const Count = Schema.Union(Schema.Number, Schema.NumberFromString)
export const MetricsRequest = Schema.Struct({
  resourceMetrics: Schema.Array(Schema.Struct({
    resource: Resource,
    scopeMetrics: Schema.Array(Schema.Struct({
      metrics: Schema.Array(Schema.Struct({
        name: Schema.String,
        unit: Schema.optional(Schema.String),
        sum: Schema.optional(Schema.Struct({
          isMonotonic: Schema.optional(Schema.Boolean),
          dataPoints: Schema.Array(Schema.Struct({
            attributes: Attributes,
            asInt: Schema.optional(Count),
            asDouble: Schema.optional(Schema.Number)
          }))
        })),
        histogram: Schema.optional(Schema.Struct({
          dataPoints: Schema.Array(Schema.Struct({ attributes: Attributes, count: Count }))
        }))
      }))
    }))
  }))
})

/** Attributes as a plain record of their values. */
export const attributes = (
  list: ReadonlyArray<typeof KeyValue.Type>
): Record<string, string | number | boolean | undefined> =>
  Object.fromEntries(
    list.map(({ key, value }) => [key, value.stringValue ?? value.boolValue ?? value.intValue ?? value.doubleValue])
  )

/**
 * The bodies received at `path`, decoded with `schema`, once `ready` holds for them; polls every
 * 50 ms for up to `within` (generous: the SDK exports from timers and a busy machine is slow).
 */
export const waitFor = <A, I>(
  receiver: Receiver,
  path: string,
  schema: Schema.Schema<A, I>,
  ready: (decoded: ReadonlyArray<A>) => boolean,
  within: Duration.DurationInput = "20 seconds"
): Effect.Effect<ReadonlyArray<A>, Error> => {
  const decode = Schema.decodeUnknownEither(Schema.parseJson(schema))
  const attempt = Effect.suspend(() => {
    const decoded: Array<A> = []
    for (const request of receiver.received()) {
      if (request.path !== path) continue
      if (!request.contentType?.startsWith("application/json")) {
        return Effect.die(new Error(`${path}: content type ${request.contentType}`))
      }
      const result = decode(request.body)
      if (Either.isLeft(result)) return Effect.die(result.left)
      decoded.push(result.right)
    }
    return ready(decoded) ? Effect.succeed(decoded) : Effect.fail(new Error(`nothing ready at ${path} yet`))
  })
  return attempt.pipe(
    Effect.retry(Schedule.spaced("50 millis")),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`${path}: nothing ready within the wait`) })
  )
}
