#!/usr/bin/env bash
# `npm run test:pack`: the package as a user gets it. Packs the tarball, installs it into a fresh
# project beside `effect` one patch below the library's own dev version (and @effect/platform,
# @effect/platform-node, typescript; @types/ws because @effect/platform-node's declarations name `ws`
# and the checks run without skipLibCheck, so the package's own declarations are checked too), then checks that there is one copy of effect, that the README's
# Quick look type-checks under `module: NodeNext` and under `moduleResolution: bundler`, and that plain
# `node` mints against the package's bin (and in process) without a runtime version warning, and that
# the entry points load without the optional OpenTelemetry peers (only effect-chittyid/Telemetry needs them).
# Needs only the npm registry. Ends with "N passed, N failed"; exits 1 when a check failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/chittyid-pack.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "  ok    $1  [$((SECONDS - start)) s]"; }
fail() {
  failed=$((failed + 1)); echo "  FAIL  $1"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then sed -n '1,40p' "$2" | sed 's/^/        /'; fi
}
# check <name> <command…>: the command's output goes to a log, shown when it fails.
check() {
  local name=$1; shift
  if "$@" >"$work/check.log" 2>&1; then pass "$name"; else fail "$name" "$work/check.log"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}
version_of() { node -p "require('$root/node_modules/$1/package.json').version"; }

start=$SECONDS
echo "pack-test in $work"

# --- the tarball (prepack builds dist) ---------------------------------------------------------
if ! (cd "$root" && npm pack --silent --pack-destination "$work" >"$work/pack.log" 2>&1); then
  fail "npm pack" "$work/pack.log"
  finish
fi
tarball=$(ls "$work"/effect-chittyid-*.tgz)
pass "npm pack: $(basename "$tarball") ($(du -k "$tarball" | cut -f1) kB)"

# --- a fresh project, effect one patch below the library's dev version -------------------------
effect_dev=$(version_of effect)
IFS=. read -r major minor patch <<<"$effect_dev"
effect_user="$major.$minor.$((patch > 0 ? patch - 1 : 0))"
app="$work/app"
mkdir -p "$app"
cat >"$app/package.json" <<'EOF'
{ "name": "chittyid-pack-test", "private": true, "type": "module" }
EOF
if ! (cd "$app" && npm install --no-audit --no-fund --loglevel=error "$tarball" \
  "effect@$effect_user" "@effect/platform@$(version_of @effect/platform)" \
  "@effect/platform-node@$(version_of @effect/platform-node)" "typescript@$(version_of typescript)" \
  "@effect/cli@$(version_of @effect/cli)" "@effect/printer@$(version_of @effect/printer)" \
  "@effect/printer-ansi@$(version_of @effect/printer-ansi)" \
  "@types/node@$(version_of @types/node)" "@types/ws@^8" >"$work/install.log" 2>&1); then
  fail "npm install the tarball beside effect@$effect_user" "$work/install.log"
  finish
fi
pass "npm install the tarball beside effect@$effect_user ($(du -sm "$app/node_modules" | cut -f1) MB node_modules)"

one_effect() {
  (cd "$app" && npm ls effect --all) || return 1
  local copies
  copies=$(cd "$app" && find . -path '*/node_modules/effect/package.json' | wc -l)
  echo "copies of effect: $copies"
  [ "$copies" -eq 1 ] && [ "$(node -p "require('$app/node_modules/effect/package.json').version")" = "$effect_user" ]
}
check "one copy of effect ($effect_user, the project's own)" one_effect

# --- optional peers: only the entry that needs them loads them ------------------------------------
# without_peers <peer dirs> <entries that must load> <entry that needs the peers> <pattern of its error>
# The project installed none of the peers: the entries load, and the one that needs them names what is missing.
without_peers() {
  local found
  found=$(cd "$app" && for dir in $1; do [ -e "node_modules/$dir" ] && echo "$dir"; done | head -3)
  [ -z "$found" ] || { echo "installed without being asked: $found"; return 1; }
  (cd "$app" && ENTRIES="$2" NEEDS="$3" PATTERN="$4" node --input-type=module -e '
    for (const entry of process.env.ENTRIES.split(" ")) {
      const module = await import(entry)
      if (Object.keys(module).length === 0) throw new Error(`${entry} exports nothing`)
    }
    try {
      await import(process.env.NEEDS)
      throw new Error(`${process.env.NEEDS} loaded without its optional peers installed`)
    } catch (error) {
      if (error.code !== "ERR_MODULE_NOT_FOUND" || !new RegExp(process.env.PATTERN).test(error.message)) throw error
      console.log(`${process.env.NEEDS} without its peers: ${error.message.split("\n")[0]}`)
    }
    console.log(`${process.env.ENTRIES} load without them`)
  ')
}
check "effect-chittyid and effect-chittyid/IdService load with no OpenTelemetry package installed" \
  without_peers "@opentelemetry @effect/opentelemetry" "effect-chittyid effect-chittyid/IdService" \
  effect-chittyid/Telemetry opentelemetry
# (@effect/experimental comes with @effect/platform-node here; the client-only check below runs without both)
check "effect-chittyid/node and /ValidationCache load with no ioredis installed (only Fleet needs it)" \
  without_peers "ioredis" "effect-chittyid/node effect-chittyid/ValidationCache" effect-chittyid/Fleet ioredis

# --- ioredis is an optional peer: only CircuitBreakerStore.layerRedis loads it (when it is built) --
without_ioredis() {
  [ ! -d "$app/node_modules/ioredis" ] || { echo "ioredis installed without being asked"; return 1; }
  (cd "$app" && node --input-type=module -e '
    const { Cause, Effect, Layer } = await import("effect")
    const { CircuitBreakerStore } = await import("effect-chittyid/CircuitBreakerStore")
    const backend = await Effect.runPromise(
      Effect.map(CircuitBreakerStore, (store) => store.backend).pipe(Effect.provide(CircuitBreakerStore.layerMemory))
    )
    if (backend !== "memory") throw new Error(`layerMemory gave ${backend}`)
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Layer.build(CircuitBreakerStore.layerRedis({ url: "redis://127.0.0.1:1" })))
    )
    if (exit._tag !== "Failure" || !/npm install ioredis/.test(Cause.pretty(exit.cause))) {
      throw new Error(`layerRedis without ioredis: ${exit._tag === "Failure" ? Cause.pretty(exit.cause) : "built"}`)
    }
    console.log("CircuitBreakerStore loads and layerMemory works without ioredis; layerRedis names the install")
  ')
}
check "effect-chittyid/CircuitBreakerStore loads with no ioredis installed" without_ioredis

# --- the README's Quick look, as the user copies it -------------------------------------------
# The first ```ts block after "## Quick look", and the one after "The same in one process".
block_after() {
  awk -v marker="$1" '
    index($0, marker) == 1 { found = 1; next }
    found && /^```ts/ { inside = 1; next }
    inside && /^```/ { exit }
    inside { print }
  ' "$root/README.md"
}
block_after "## Quick look" >"$app/quick.ts"
block_after "The same in one process" >"$app/inprocess.ts"
for f in quick inprocess; do
  if [ -s "$app/$f.ts" ]; then pass "README block $f.ts found"; else fail "README block $f.ts found"; fi
  cp "$app/$f.ts" "$app/$f.mjs"
done

cat >"$app/tsconfig.nodenext.json" <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
    "exactOptionalPropertyTypes": true, "noEmit": true, "types": ["node"], "skipLibCheck": false
  },
  "files": ["quick.ts", "inprocess.ts"]
}
EOF
cat >"$app/tsconfig.bundler.json" <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022", "module": "ESNext", "moduleResolution": "bundler", "strict": true,
    "noEmit": true, "types": ["node"], "skipLibCheck": false
  },
  "files": ["quick.ts", "inprocess.ts"]
}
EOF
check "tsc --noEmit, module NodeNext" bash -c "cd '$app' && npx tsc -p tsconfig.nodenext.json"
check "tsc --noEmit, moduleResolution bundler" bash -c "cd '$app' && npx tsc -p tsconfig.bundler.json"

# --- plain node against the bin's server ------------------------------------------------------
token="pack-test-token"
(cd "$app" && exec npx --no-install chittyid-reference-server --port 0 --token "$token") \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
url=""
for _ in $(seq 1 300); do
  url=$(node -e 'try { const l = require("fs").readFileSync(process.argv[1], "utf8").split("\n")[0]; console.log(JSON.parse(l).url) } catch {}' "$work/server.out")
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -n "$url" ]; then pass "chittyid-reference-server listens ($url)"; else fail "chittyid-reference-server listens" "$work/server.err"; fi
check "npx chittyid parse (the command line's bin, its optional peers installed)" \
  bash -c "cd '$app' && npx --no-install chittyid parse 03-1-USA-5537-P-2602-0-38 | grep -q 'North America'"

# mints <name> <script> [env…]: exit 0, a valid ID in the output, no runtime version warning.
mints() {
  local script=$1; shift
  (cd "$app" && env "$@" timeout 60 node "$script") || return 1
}
minted_cleanly() {
  local name=$1; shift
  if mints "$@" >"$work/run.log" 2>&1 \
    && grep -Eq '[0-9]{2}-[1-9]-[A-Z]{3}-[0-9]{4}-[PLTEA]-[0-9]{4}-[0-5]-[0-9]{2}' "$work/run.log" \
    && ! grep -q "Executing an Effect versioned" "$work/run.log"; then
    pass "$name: $(grep -Eo '[0-9]{2}-[1-9]-[A-Z]{3}-[0-9]{4}-[PLTEA]-[0-9]{4}-[0-5]-[0-9]{2}[^"]*' "$work/run.log" | head -1)"
  else
    fail "$name" "$work/run.log"
  fi
}
if [ -n "$url" ]; then
  minted_cleanly "node quick.mjs mints against the bin's server" quick.mjs CHITTY_ID_URL="$url" CHITTY_ID_TOKEN="$token"
fi
minted_cleanly "node inprocess.mjs mints against ReferenceServer.layer" inprocess.mjs

# --- the client alone: @effect/platform-node is an optional peer, needed only by the server --------
cat >"$app/client-only.mjs" <<'JS'
import { Effect } from "effect"
import * as IdService from "effect-chittyid/IdService"
import * as Node from "effect-chittyid/node"

const minted = await Effect.runPromise(IdService.mint({ entityType: "thing" }).pipe(Effect.provide(Node.layer)))
console.log(`minted ${minted.chittyId}`)
JS
if [ -n "$url" ] && (cd "$app" && npm uninstall --no-audit --no-fund --loglevel=error @effect/platform-node) >"$work/uninstall.log" 2>&1 \
  && [ ! -e "$app/node_modules/@effect/platform-node" ] && [ ! -e "$app/node_modules/@effect/experimental" ] \
  && [ ! -e "$app/node_modules/ioredis" ]; then
  minted_cleanly "node client-only.mjs mints with effect-chittyid/node, no @effect/platform-node, @effect/experimental or ioredis installed" \
    client-only.mjs CHITTY_ID_URL="$url" CHITTY_ID_TOKEN="$token"
else
  fail "npm uninstall @effect/platform-node" "$work/uninstall.log"
fi

# --- effect-chittyid/fetch: the web-standard entry, from the package, over Node's own fetch -----------
cat >"$app/fetch.mjs" <<'JS'
import { Effect } from "effect"
import * as Fetch from "effect-chittyid/fetch"
import * as IdService from "effect-chittyid/IdService"

const minted = await Effect.runPromise(IdService.mint({ entityType: "thing" }).pipe(Effect.provide(Fetch.layerWorker)))
console.log(`minted ${minted.chittyId}`)
JS
if [ -n "$url" ]; then
  minted_cleanly "node fetch.mjs mints with effect-chittyid/fetch (layerWorker)" fetch.mjs CHITTY_ID_URL="$url" CHITTY_ID_TOKEN="$token"
fi

echo "($((SECONDS - start)) s)"
finish
