/**
 * Where this process loads effect-chittyid from. `npm run bench` builds the package and runs with
 * `TSX_TSCONFIG_PATH=bench/tsconfig.run.json`, whose `paths` send every `effect-chittyid/<Module>`
 * import of the bench to `dist/` — the tsc output users run, as the other contenders run their
 * published JS. Without it (tsx on the root tsconfig, vitest) the same imports resolve to `src/`.
 * Every bench module imports the library by that name (lint forbids `src/` paths here), so one copy
 * of each module (Context tags, Schema classes) serves every contender, the canned answers and the
 * micro benches; the server processes the bench starts follow the same choice.
 */

/** `"built"`: the library comes from `dist/`; `"sources"`: from `src/` through tsx. */
export type Library = "built" | "sources"

/** Where this process's `effect-chittyid` comes from. */
export const library: Library = /\/dist\/[^/]+\.js$/.test(import.meta.resolve("effect-chittyid/IdService"))
  ? "built"
  : "sources"

/** How the report names it. */
export const description: Record<Library, string> = {
  built: "the built package (dist/, tsc output), as users run it",
  sources: "its sources through tsx (src/*.ts), not the built package: `npm run bench` runs dist/"
}
