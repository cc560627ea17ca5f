#!/usr/bin/env bash
# Lints connect-watchdog's Prometheus surface with promtool:
#   1. deploy/prometheus/alerts.yml: syntax (check rules) and unit tests (alerts.test.yml);
#   2. deploy/prometheus/scrape.yml: check config;
#   3. a live exposition: scrapes /metrics and lints it with `promtool check metrics`, and checks that
#      /healthz and /readyz answer 200.
# By default (3) starts test/metrics/serve-daemon.ts (the real daemon healing a stand-in worker, on a free
# 127.0.0.1 port); set METRICS_URL=http://host:port to lint a running watchdog instead.
# Exits non-zero on any problem. Needs promtool (apt-get install prometheus) and curl.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

fail() { echo "check-metrics: $*" >&2; exit 1; }
command -v promtool >/dev/null || fail "promtool not found (Debian/Ubuntu: apt-get install prometheus)"
command -v curl >/dev/null || fail "curl not found"

echo "== promtool check rules deploy/prometheus/alerts.yml"
promtool check rules deploy/prometheus/alerts.yml
echo "== promtool test rules deploy/prometheus/alerts.test.yml"
promtool test rules deploy/prometheus/alerts.test.yml
echo "== promtool check config deploy/prometheus/scrape.yml"
promtool check config deploy/prometheus/scrape.yml

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
  # The daemon runs in its own process group (setsid): end that group, npx and node with it.
  if [[ -n "$SERVER_PID" ]]; then kill -TERM -- "-$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

if [[ -z "${METRICS_URL:-}" ]]; then
  echo "== starting the daemon (test/metrics/serve-daemon.ts)"
  mkdir "$TMP/daemon"
  CW_CHECK_METRICS_DIR="$TMP/daemon" setsid npx --no-install tsx test/metrics/serve-daemon.ts >"$TMP/server.out" 2>"$TMP/server.err" &
  SERVER_PID=$!
  port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$TMP/server.out")
    [[ -n "$port" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.err" >&2; fail "the daemon exited"; }
    sleep 0.1
  done
  [[ -n "$port" ]] || { cat "$TMP/server.err" >&2; fail "the daemon did not start within 30 s"; }
  METRICS_URL="http://127.0.0.1:$port"
fi
METRICS_URL=${METRICS_URL%/}

echo "== promtool check metrics < $METRICS_URL/metrics"
curl -fsS --max-time 10 "$METRICS_URL/metrics" -o "$TMP/metrics.txt" || fail "could not scrape $METRICS_URL/metrics"
# promtool passes empty input silently: insist on the watchdog's own metrics being there.
grep -q '^connect_watchdog_polls_total{' "$TMP/metrics.txt" || fail "no connect_watchdog_polls_total series in the exposition"
set +e
lint=$(promtool check metrics <"$TMP/metrics.txt" 2>&1)
rc=$?
set -e
if [[ $rc -ne 0 || -n "$lint" ]]; then
  echo "$lint" >&2
  fail "promtool check metrics found problems (exit $rc)"
fi
echo "  no problems in $(grep -vc '^#' "$TMP/metrics.txt") samples"

for path in /healthz /readyz; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$METRICS_URL$path") || fail "could not GET $METRICS_URL$path"
  [[ "$code" == 200 ]] || fail "GET $path answered $code, expected 200"
  echo "== GET $path: $code"
done
echo "check-metrics: OK"
