// @ts-check
import effect from "@effect/eslint-plugin"
import tseslint from "typescript-eslint"

/**
 * Where Node is allowed under src/: the Node entry, the reference server, the bins (and the CLI), the
 * undici transport that only effect-chittyid/node builds (src/internal/transport.ts imports its
 * marker classes, whose Node code runs only on undici answers), and effect-chittyid/Telemetry's
 * Prometheus listener.
 */
const nodeOnly = [
  "src/node.ts",
  "src/server/**",
  "src/bin/**",
  "src/cli/**",
  "src/internal/undiciClient.ts",
  // effect-chittyid/Telemetry's Prometheus listener (the module is Node-only: the OpenTelemetry SDK's)
  "src/internal/telemetryServer.ts"
]

const nodeBuiltins = [
  "assert",
  "buffer",
  "child_process",
  "crypto",
  "events",
  "fs",
  "fs/promises",
  "http",
  "http2",
  "https",
  "net",
  "os",
  "path",
  "process",
  "stream",
  "timers",
  "tls",
  "url",
  "util",
  "worker_threads",
  "zlib",
  "undici"
]

const nodeGlobals = ["Buffer", "process", "global", "__dirname", "__filename", "require", "setImmediate", "module"]

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "coverage/**", ".snippets/**"] },
  ...tseslint.configs.recommended,
  {
    plugins: { "@effect": effect },
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": "error"
    }
  },
  {
    // The core runs in Workers, Deno, Bun and browsers: no `node:` modules, no Node globals.
    files: ["src/**/*.ts"],
    ignores: nodeOnly,
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ regex: "^node:", message: "Node-only: keep it in src/node.ts, src/server/ or src/bin/." }],
        paths: nodeBuiltins.map((name) => ({ name, message: "Node-only: use a web standard in the core." }))
      }],
      "no-restricted-globals": [
        "error",
        ...nodeGlobals.map((name) => ({
          name,
          message: "A Node global: use a web standard (TextEncoder/TextDecoder, Uint8Array, crypto, …) in the core."
        }))
      ]
    }
  },
  {
    files: ["examples/**", "bench/**", "scripts/**", "src/bin/**"],
    rules: { "no-console": "off" }
  },
  {
    // `npm run bench` runs the library from dist/ (bench/tsconfig.run.json maps the name there): a path
    // into src/ would load a second copy of a module beside the built one.
    files: ["bench/**"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{
          regex: "^(\\.\\./)+src/",
          message:
            "Import the library as effect-chittyid/<Module>: the bench runs it from dist/ (bench/lib/library.ts)."
        }]
      }]
    }
  }
)
