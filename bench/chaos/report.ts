/**
 * The chaos run's output: a table with the targets marked pass/fail for people, one JSON object
 * for machines.
 */
import type { Result } from "./scenarios.ts"

/** A scenario passed when every one of its targets did. */
export const passed = (result: Result): boolean => result.targets.every((target) => target.pass)

const mark = (pass: boolean): string => (pass ? "✓" : "✗")

const pad = (text: string, width: number, right = false): string => {
  const length = [...text].length
  return length >= width ? text : right ? " ".repeat(width - length) + text : text + " ".repeat(width - length)
}

const num = (value: number, digits = 1): string =>
  !Number.isFinite(value) ? "–" : Number.isInteger(value) ? String(value) : value.toFixed(digits)

/** The table, then each scenario's settings, targets and figures. */
export const table = (
  results: ReadonlyArray<Result & { readonly durationMs: number }>,
  run: { readonly seed: number; readonly size: string }
): string => {
  const header = ["scenario", "calls", "ok", "failed", "dup", "requests", "p50 ms", "p99 ms", "max ms", "targets"]
  const rows = results.map((r) => [
    r.name,
    String(r.calls),
    String(r.succeeded),
    String(r.failed),
    String(r.duplicates),
    String(r.requestsSent),
    num(r.p50Ms, 2),
    num(r.p99Ms, 2),
    num(r.maxMs, 1),
    `${mark(passed(r))} ${r.targets.filter((t) => t.pass).length}/${r.targets.length}`
  ])
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((row) => [...(row[i] ?? "")].length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => pad(cell, widths[i] ?? 0, i > 0 && i < cells.length - 1)).join("  ").trimEnd()
  const out: Array<string> = [
    `chaos run: seed ${run.seed}, ${run.size} size, reference server in a child process on loopback`,
    "",
    line(header),
    line(widths.map((w) => "─".repeat(w))),
    ...rows.map(line),
    ""
  ]
  for (const r of results) {
    out.push(`${mark(passed(r))} ${r.name} — ${r.description} (${(r.durationMs / 1000).toFixed(1)} s)`)
    out.push(`    load     ${r.settings.calls} calls, ${r.settings.concurrency} at a time`)
    out.push(`    faults   ${r.settings.faults.map((f) => JSON.stringify(f)).join(" then ")}`)
    for (const [knob, value] of Object.entries(r.settings.client)) out.push(`    ${pad(knob, 8)} ${value}`)
    const nameWidth = Math.max(...r.targets.map((t) => [...t.name].length))
    const targetWidth = Math.max(...r.targets.map((t) => [...t.target].length))
    for (const t of r.targets) {
      out.push(`    ${mark(t.pass)} ${pad(t.name, nameWidth)}  target ${pad(t.target, targetWidth)}  got ${t.actual}`)
    }
    const failures = Object.entries(r.failuresByTag).map(([tag, n]) => `${tag} ${n}`).join(", ")
    out.push(`    failures by tag: ${failures === "" ? "none" : failures}`)
    out.push(
      `    attempts ${r.attempts}, orphan mints ${r.orphanMints}, successes not minted ${r.successesNotMinted}, ` +
        `duplicates by key ${r.duplicatesByIdempotencyKey} / by callId ${r.duplicatesByCallId}`
    )
    const extra = Object.entries(r.extra).map(([k, v]) => `${k} ${typeof v === "number" ? num(v, 2) : v}`)
    if (extra.length > 0) out.push(`    ${extra.join(", ")}`)
    out.push("")
  }
  const failed = results.filter((r) => !passed(r)).map((r) => r.name)
  out.push(failed.length === 0 ? "all targets met" : `targets missed in: ${failed.join(", ")}`)
  return out.join("\n")
}

/** The one JSON object of `--json`. */
export const json = (
  results: ReadonlyArray<Result & { readonly durationMs: number }>,
  run: { readonly seed: number; readonly size: string }
): string =>
  JSON.stringify({
    seed: run.seed,
    size: run.size,
    passed: results.every(passed),
    scenarios: results.map((r) => ({
      name: r.name,
      calls: r.calls,
      succeeded: r.succeeded,
      failed: r.failed,
      duplicates: r.duplicates,
      requestsSent: r.requestsSent,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      maxMs: r.maxMs,
      passed: passed(r),
      description: r.description,
      durationMs: Math.round(r.durationMs),
      attempts: r.attempts,
      duplicatesByIdempotencyKey: r.duplicatesByIdempotencyKey,
      duplicatesByCallId: r.duplicatesByCallId,
      successesNotMinted: r.successesNotMinted,
      orphanMints: r.orphanMints,
      failuresByTag: r.failuresByTag,
      ...r.extra,
      targets: r.targets,
      settings: r.settings
    }))
  })
