/**
 * A minimal `node:http` ChittyID server for the benchmark: it answers `POST /v1/mint` with a
 * well-formed answer built from the request (region, jurisdiction, entity type, a sequence counter,
 * the check number) and `GET /health` with `ok`, nothing else — so what the client costs shows
 * without the reference server's own work. Run by `lib/canned.ts` in a child process; prints one
 * JSON line `{"url":…}` when it listens.
 */
import * as http from "node:http"
import { cannedAnswer } from "./lib/cannedAnswer.ts"

const timestamp = new Date().toISOString()
const mintAnswer = cannedAnswer()

const server = http.createServer((req, res) => {
  let body = ""
  req.setEncoding("utf8")
  req.on("data", (chunk: string) => body += chunk)
  req.on("end", () => {
    const url = req.url ?? "/"
    const q = url.indexOf("?")
    const path = q < 0 ? url : url.slice(0, q)
    if (req.method === "POST" && path === "/v1/mint") {
      const answer = mintAnswer(q < 0 ? "" : url.slice(q + 1), body)
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) })
      res.end(answer)
    } else if (path === "/health") {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ status: "ok", service: "canned", version: "0", timestamp }))
    } else {
      res.writeHead(404, { "content-type": "application/json" })
      res.end("{\"success\":false,\"error\":\"NOT_FOUND\",\"message\":\"not here\"}")
    }
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`)
})
process.on("SIGTERM", () => server.close(() => process.exit(0)))
