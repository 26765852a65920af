/**
 * The mint audit log in a file, over `@effect/platform`'s `FileSystem`: the writer's file sink (the
 * chain continued from the file's last line), and the streamed verification of a file.
 *
 * @internal
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as IdServiceError from "../IdServiceError.ts"
import type * as MintAudit from "../MintAudit.ts"
import * as core from "./mintAudit.ts"

const describe = (error: PlatformError.PlatformError): string => error.message

/** Bytes read from the end of a file at a time to find its last line, and the most a last line may be. */
const tailWindow = 64 * 1024
const maxLine = 1024 * 1024

/**
 * The last line of a file that ends with a line break (without it), read from the end: the whole
 * file is never read. `None` for a missing or empty file. Fails in words.
 */
const lastLine = (fs: FileSystem.FileSystem, path: string): Effect.Effect<Option.Option<string>, string> =>
  Effect.scoped(Effect.gen(function*() {
    const info = yield* fs.stat(path).pipe(
      Effect.map(Option.some),
      Effect.catchIf((error) => error._tag === "SystemError" && error.reason === "NotFound", () => Effect.succeedNone),
      Effect.mapError(describe)
    )
    if (Option.isNone(info) || info.value.type !== "File" || Number(info.value.size) === 0) return Option.none()
    const size = Number(info.value.size)
    const file = yield* Effect.mapError(fs.open(path, { flag: "r" }), describe)
    let window = Math.min(tailWindow, size)
    for (;;) {
      yield* file.seek(size - window, "start")
      const bytes = yield* file.readAlloc(window).pipe(
        Effect.mapError(describe),
        Effect.map(Option.getOrElse(() => new Uint8Array(0)))
      )
      const text = new TextDecoder().decode(bytes)
      if (!text.endsWith("\n")) {
        return yield* Effect.fail("it does not end with a line break: its last line was cut short")
      }
      const start = text.lastIndexOf("\n", text.length - 2)
      if (start >= 0) return Option.some(text.slice(start + 1, -1))
      if (window === size) return Option.some(text.slice(0, -1))
      if (window >= maxLine) return yield* Effect.fail(`its last line is longer than ${maxLine} bytes`)
      window = Math.min(window * 4, size, maxLine)
    }
  }))

/** The file sink: appends to `path` (opened once, in append mode), fsyncs on demand. */
const fileSink = (
  fs: FileSystem.FileSystem,
  path: string
): Effect.Effect<core.Sink, string, Scope.Scope> =>
  Effect.gen(function*() {
    const file = yield* Effect.mapError(fs.open(path, { flag: "a" }), describe)
    let size = Number((yield* Effect.mapError(file.stat, describe)).size)
    const encoder = new TextEncoder()
    return {
      append: (text) => {
        const bytes = encoder.encode(text)
        return file.writeAll(bytes).pipe(
          Effect.map(() => {
            size += bytes.length
          }),
          // A write cut short would leave a torn line the next one is appended to: cut it off.
          Effect.tapError(() => Effect.ignore(file.truncate(size))),
          Effect.mapError(describe)
        )
      },
      sync: Effect.mapError(file.sync, describe)
    }
  })

/** The `MintAudit` service writing to `path`: continues the chain of the file's last line. */
export const make = (
  path: string,
  options: MintAudit.Options | undefined
): Effect.Effect<MintAudit.Service, IdServiceError.AuditWriteFailed, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const opened = yield* Effect.either(Effect.gen(function*() {
      const last = yield* Effect.mapError(
        lastLine(fs, path),
        (reason) => `cannot continue it: ${reason}`
      )
      const head = Option.isNone(last)
        ? { seq: 0, hash: core.genesis }
        : yield* Effect.mapError(
          core.checkLastLine(last.value),
          (reason) => `cannot continue it: its last line is not an intact entry (${reason})`
        )
      const sink = yield* fileSink(fs, path)
      return { head, sink }
    }))
    if (opened._tag === "Right") {
      return yield* core.makeWriter({ path, settings: options, ...opened.right })
    }
    const reason = `${opened.left}; check it with \`chittyid audit verify ${path}\``
    if ((options?.mode ?? core.defaults.mode) === "required") {
      return yield* Effect.fail(
        new IdServiceError.AuditWriteFailed({ message: `audit log ${path}: ${reason}`, path })
      )
    }
    // Best-effort: the service is built anyway; every line fails with the reason (logged once, counted).
    return yield* core.makeWriter({
      path,
      settings: options,
      head: { seq: 0, hash: core.genesis },
      sink: { append: () => Effect.fail(reason), sync: Effect.void },
      broken: reason
    })
  })

/**
 * Verifies the file at `path`, streamed in constant memory. A last line without its line break is
 * reported as broken (it was cut short, even when what is left of it parses).
 */
export const verify = (
  path: string,
  options?: MintAudit.VerifyOptions
): Effect.Effect<MintAudit.Verification, PlatformError.PlatformError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    Effect.gen(function*() {
      let lastByte = -1
      const result = yield* core.verifyLines(
        fs.stream(path).pipe(
          Stream.tap((bytes) =>
            Effect.sync(() => {
              if (bytes.length > 0) lastByte = bytes[bytes.length - 1]!
            })
          ),
          Stream.decodeText(),
          Stream.splitLines
        ),
        options
      )
      if (result.ok && result.entries > 0 && lastByte !== 10) {
        return {
          entries: result.entries - 1,
          ok: false,
          brokenAt: result.entries,
          reason: "it has no line break at its end (cut short)"
        }
      }
      return result
    }))
