/**
 * Builds an error without capturing a stack trace: for failures made on a local rejection (a
 * malformed input refused before any request), where the trace would only name this library's own
 * frames and capturing it costs more than the rest of the check.
 *
 * @internal
 */
export const withoutStack = <A>(make: () => A): A => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}
