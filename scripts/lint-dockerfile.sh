#!/usr/bin/env bash
# Lints the Dockerfile (no Docker engine needed):
#   1. dockerfile-utils (npm; the linter of the VS Code Docker language server): instruction syntax,
#      arguments, flags, deprecated instructions. Any diagnostic, warning or error, fails.
#      Taken from node_modules when it is a devDependency, otherwise fetched by npx.
#   2. hadolint, when one is on PATH (not packaged for Debian 12 nor on npm; optional).
#   3. this project's rules: pinned slim Node 24 base, non-root numeric USER, exec-form ENTRYPOINT,
#      HEALTHCHECK on /healthz, state VOLUME, metrics on 0.0.0.0:9847, an allow-list .dockerignore.
#
#   scripts/lint-dockerfile.sh [Dockerfile]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCKERFILE=${1:-$ROOT/Dockerfile}
DOCKERFILE_UTILS_VERSION=${DOCKERFILE_UTILS_VERSION:-0.16.3}

# Node for the JSON parsing below and for dockerfile-utils: the repo's Node 24 if present.
NODE=node
[[ -x "$ROOT/node_modules/.bin/node" ]] && NODE="$ROOT/node_modules/.bin/node"

failed=0
fail() {
  echo "FAIL $*" >&2
  failed=1
}

# 1. dockerfile-utils
if [[ -x "$ROOT/node_modules/.bin/dockerfile-utils" ]]; then
  du_cmd=("$ROOT/node_modules/.bin/dockerfile-utils")
else
  du_cmd=(npx --yes "dockerfile-utils@$DOCKERFILE_UTILS_VERSION")
fi
if ! json=$("${du_cmd[@]}" lint --json "$DOCKERFILE"); then
  # It exits 1 when it found errors; the JSON is still on stdout.
  [[ -n "$json" ]] || { fail "dockerfile-utils did not run"; json='[]'; }
fi
# shellcheck disable=SC2016 # JavaScript, not shell
report=$(printf '%s' "$json" | "$NODE" -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const diags = JSON.parse(s || "[]");
    for (const d of diags) console.log(`${process.argv[1]}:${d.range.start.line + 1}: ${d.severity ?? "problem"}: ${d.message}`);
  });' "$DOCKERFILE")
if [[ -n "$report" ]]; then
  fail "dockerfile-utils:"
  printf '%s\n' "$report" >&2
else
  echo "ok   dockerfile-utils $DOCKERFILE_UTILS_VERSION: no diagnostics"
fi

# 2. hadolint (optional)
if command -v hadolint >/dev/null 2>&1; then
  if hadolint "$DOCKERFILE"; then echo "ok   hadolint: clean"; else fail "hadolint"; fi
else
  echo "skip hadolint: not on PATH"
fi

# 3. project rules (on the last stage: from its FROM to the end)
final=$(awk '/^FROM /{buf=""} {buf = buf $0 "\n"} END {printf "%s", buf}' "$DOCKERFILE")
check() { # description, extended regex that must match in the final stage
  if grep -Eq -- "$2" <<<"$final"; then echo "ok   $1"; else fail "$1"; fi
}
if grep -Eq '^ARG NODE_IMAGE=node:24(\.[0-9]+)*-[a-z]+-slim$' "$DOCKERFILE"; then
  echo "ok   base image is an official node:24 slim image"
else
  fail "base image must be node:24-<debian>-slim (ARG NODE_IMAGE)"
fi
if grep -Eiq '^FROM [^ ]*:latest\b' "$DOCKERFILE"; then fail "no :latest base images"; fi
if [[ $(grep -Ec '^FROM ' "$DOCKERFILE") -ge 2 ]]; then echo "ok   multi-stage build"; else fail "multi-stage build expected"; fi
check "runs as a numeric non-root USER" '^USER [1-9][0-9]*(:[0-9]+)?$'
check "exec-form ENTRYPOINT" '^ENTRYPOINT \['
check "exec-form CMD" '^CMD \['
check "HEALTHCHECK present" '^HEALTHCHECK '
if grep -q '/healthz' <<<"$final"; then echo "ok   HEALTHCHECK asks /healthz"; else fail "HEALTHCHECK must ask /healthz"; fi
check "STOPSIGNAL SIGTERM" '^STOPSIGNAL SIGTERM$'
check "VOLUME for the state" '^VOLUME .*/var/lib/connect-watchdog'
check "EXPOSE 9847" '^EXPOSE 9847$'
check "state file in the volume" 'CONNECT_WATCHDOG_STATE_FILE=/var/lib/connect-watchdog/'
check "metrics reachable from outside the container" 'CONNECT_WATCHDOG_METRICS_HOST=0\.0\.0\.0'
if grep -Eq '^(RUN|CMD|ENTRYPOINT).*\bcurl\b' <<<"$final"; then fail "no curl in the slim image"; fi
if [[ -f "$(dirname "$DOCKERFILE")/.dockerignore" ]]; then
  if [[ $(grep -Ev '^\s*(#|$)' "$(dirname "$DOCKERFILE")/.dockerignore" | head -n1) == '*' ]]; then
    echo "ok   .dockerignore is an allow-list"
  else
    grep -Eq '^/?node_modules/?$' "$(dirname "$DOCKERFILE")/.dockerignore" || fail ".dockerignore must keep node_modules out"
  fi
else
  fail ".dockerignore missing"
fi

if ((failed)); then
  echo "lint-dockerfile: FAILED" >&2
  exit 1
fi
echo "lint-dockerfile: passed"
