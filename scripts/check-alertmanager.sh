#!/usr/bin/env bash
# Checks connect-watchdog's Alertmanager sink against a real Alertmanager (Debian's prometheus-alertmanager):
# test/alertmanager/check-real.ts starts it on a free 127.0.0.1 port with a webhook receiver that records its
# notifications, and drives the real Outbox and sink code through a trigger, re-sends, the resolve and
# superseded triggers (see that file for what is checked). Takes about 20 s.
# Without Alertmanager it skips (exit 0) outside CI and fails in CI (CI=true): .ci/run installs it.
# Set ALERTMANAGER=/path/to/alertmanager to use another binary. Exits non-zero on any problem.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

fail() { echo "check-alertmanager: $*" >&2; exit 1; }

bin=${ALERTMANAGER:-}
if [[ -z "$bin" ]]; then
  # Debian/Ubuntu name it prometheus-alertmanager; upstream's tarball, alertmanager.
  bin=$(command -v prometheus-alertmanager || command -v alertmanager || true)
fi
if [[ -z "$bin" ]]; then
  msg="Alertmanager not found (Debian/Ubuntu: apt-get install prometheus-alertmanager, or set ALERTMANAGER=/path/to/alertmanager)"
  [[ "${CI:-}" == true ]] && fail "$msg"
  echo "check-alertmanager: SKIPPED: $msg"
  exit 0
fi
[[ -x "$bin" ]] || fail "$bin is not an executable"
echo "== $("$bin" --version 2>&1 | head -n 1) ($bin)"

TMP=$(mktemp -d)
CHECK_PID=
cleanup() {
  # The check runs in its own process group (setsid): end that group, npx, node and Alertmanager with it.
  if [[ -n "$CHECK_PID" ]]; then kill -TERM -- "-$CHECK_PID" 2>/dev/null || true; wait "$CHECK_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

CW_ALERTMANAGER_BIN="$bin" CW_CHECK_ALERTMANAGER_DIR="$TMP" setsid npx --no-install tsx test/alertmanager/check-real.ts &
CHECK_PID=$!
set +e
wait "$CHECK_PID"
rc=$?
set -e
# cleanup still ends the group: whatever of it outlived the check (Alertmanager, should it) goes with it.
[[ $rc -eq 0 ]] || fail "failed (exit $rc)"
