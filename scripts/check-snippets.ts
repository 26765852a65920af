/**
 * `npm run snippets`: type-checks every TypeScript snippet a user may copy — the ```ts blocks of
 * README.md and docs/*.md, and the ```ts blocks of the JSDoc comments (`@example`) under src/ — against
 * the library's sources: `effect-chittyid/…` resolves through the package's `exports` (to the `src/`
 * file behind each `dist/` entry), so a snippet can only use what a user can import. The examples of a
 * module kept out of `exports` may import that module itself.
 *
 * Each block becomes a module of its own under `.snippets/` (git-ignored), checked in one program with
 * the project's compiler options (unused names allowed: a snippet may show a value without using it).
 * An error is reported at the snippet's own place (`README.md:42:7`) and fails the run.
 *
 * A block that is deliberately partial is fenced ```ts skip-check (keep that rare).
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import ts from "typescript"

const root = Path.resolve(import.meta.dirname, "..")
const outDir = Path.join(root, ".snippets")

interface Snippet {
  /** Repository-relative path of the file the block is in. */
  readonly source: string
  /** 1-based line of the block's first code line in that file. */
  readonly line: number
  readonly code: string
}

const fence = /^(`{3,})\s*(ts|typescript|tsx)\b(.*)$/

/** The ```ts blocks of some lines; `strip` removes a comment prefix (` * `) first. */
const blocks = (source: string, lines: ReadonlyArray<string>, strip: (line: string) => string | undefined) => {
  const found: Array<Snippet> = []
  let open: { marker: string; line: number; skip: boolean; code: Array<string> } | undefined
  lines.forEach((raw, index) => {
    const line = strip(raw)
    if (line === undefined) {
      open = undefined // the comment ended: an unclosed block is not a snippet
      return
    }
    if (open === undefined) {
      const match = fence.exec(line.trim())
      if (match !== null) {
        open = { marker: match[1]!, line: index + 2, skip: /\bskip-check\b/.test(match[3]!), code: [] }
      }
      return
    }
    if (line.trim() === open.marker) {
      if (!open.skip) found.push({ source, line: open.line, code: open.code.join("\n") })
      open = undefined
      return
    }
    open.code.push(line)
  })
  return found
}

const markdownSnippets = (file: string) =>
  blocks(Path.relative(root, file), Fs.readFileSync(file, "utf8").split("\n"), (line) => line)

/** Lines inside `/** … *\/` comments, without their ` * ` prefix; `undefined` outside comments. */
const jsdocSnippets = (file: string) => {
  let inComment = false
  return blocks(Path.relative(root, file), Fs.readFileSync(file, "utf8").split("\n"), (line) => {
    const trimmed = line.trim()
    if (!inComment) {
      if (trimmed.startsWith("/**") && !trimmed.includes("*/")) inComment = true
      return undefined
    }
    if (trimmed.startsWith("*/") || trimmed.endsWith("*/")) {
      inComment = false
      return undefined
    }
    return trimmed.startsWith("*") ? trimmed.slice(trimmed.startsWith("* ") ? 2 : 1) : trimmed
  })
}

const walk = (dir: string, keep: (file: string) => boolean): Array<string> =>
  Fs.existsSync(dir) ?
    Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const file = Path.join(dir, entry.name)
      return entry.isDirectory() ? walk(file, keep) : keep(file) ? [file] : []
    }) :
    []

const snippets = [
  ...[Path.join(root, "README.md"), ...walk(Path.join(root, "docs"), (f) => f.endsWith(".md"))]
    .filter((f) => Fs.existsSync(f)).flatMap(markdownSnippets),
  ...walk(Path.join(root, "src"), (f) => f.endsWith(".ts")).flatMap(jsdocSnippets)
]

/** `effect-chittyid/X` → `src/X.ts`, for each entry of the package's `exports`. */
const exportsField: Record<string, unknown> =
  JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8")).exports
const publicPaths: Record<string, Array<string>> = {}
for (const [key, target] of Object.entries(exportsField)) {
  const js = typeof target === "object" && target !== null && "default" in target ? target.default : undefined
  if (typeof js !== "string" || !js.startsWith("./dist/") || !js.endsWith(".js")) continue
  publicPaths[`effect-chittyid${key.slice(1)}`] = [`./src/${js.slice("./dist/".length, -".js".length)}.ts`]
}
const publicSources = new Set(Object.values(publicPaths).map(([file]) => Path.resolve(root, file!)))

/** In an unexported module's examples, its own name resolves to its source file. */
const selfImports = (snippet: Snippet, file: string) => {
  const source = Path.resolve(root, snippet.source)
  if (!snippet.source.startsWith("src/") || publicSources.has(source)) return snippet.code
  const name = `effect-chittyid/${snippet.source.slice("src/".length, -".ts".length)}`
  const relative = Path.relative(Path.dirname(file), source).split(Path.sep).join("/")
  return snippet.code.replaceAll(`"${name}"`, JSON.stringify(relative))
}

Fs.rmSync(outDir, { recursive: true, force: true })
Fs.mkdirSync(outDir, { recursive: true })
const origin = new Map<string, Snippet>()
for (const snippet of snippets) {
  const name = `${snippet.source.replace(/[^A-Za-z0-9]+/g, "_")}_${snippet.line}.ts`
  const file = Path.join(outDir, name)
  // `export {}` makes every snippet a module of its own, without moving its lines.
  Fs.writeFileSync(file, `${selfImports(snippet, file)}\nexport {}\n`)
  origin.set(Path.resolve(file), snippet)
}

const configFile = ts.readConfigFile(Path.join(root, "tsconfig.json"), (f) => ts.sys.readFile(f))
if (configFile.error !== undefined) {
  throw new Error(ts.flattenDiagnosticMessageText(configFile.error.messageText, "\n"))
}
const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root)
const program = ts.createProgram({
  rootNames: [...origin.keys()],
  options: { ...parsed.options, paths: publicPaths, noEmit: true, noUnusedLocals: false, noUnusedParameters: false }
})

const errors = ts.getPreEmitDiagnostics(program).flatMap((diagnostic) => {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n  ")
  const file = diagnostic.file
  if (file === undefined || diagnostic.start === undefined) return [`error TS${diagnostic.code}: ${message}`]
  const at = file.getLineAndCharacterOfPosition(diagnostic.start)
  const snippet = origin.get(Path.resolve(file.fileName))
  const where = snippet === undefined
    ? `${Path.relative(root, file.fileName)}:${at.line + 1}:${at.character + 1}`
    : `${snippet.source}:${snippet.line + at.line}:${at.character + 1}`
  return [`${where} - error TS${diagnostic.code}: ${message}`]
})

const sources = new Set(snippets.map((s) => s.source)).size
if (errors.length > 0) {
  console.error(errors.join("\n"))
  console.error(`\n${errors.length} error(s) in the snippets (${snippets.length} snippets from ${sources} files)`)
  process.exit(1)
}
console.log(`snippets: ${snippets.length} snippets from ${sources} files type-check`)
