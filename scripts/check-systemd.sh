#!/usr/bin/env bash
# Checks the systemd units in systemd/ without a running systemd:
#   1. systemd-analyze verify: no warning at all (it exits 0 on unknown keys, so any output fails);
#      verify also wants ExecStart='s program to exist, so a temporary copy of the unit is verified
#      whose /opt/connect-watchdog/bin/node is replaced by a Node found here (or a stub).
#   2. systemd-analyze security --offline=true: overall exposure <= MAX_EXPOSURE (2.0).
#   3. a few settings this daemon depends on (exit 78 not restarted, Node's JIT allowed, ...).
#
#   scripts/check-systemd.sh            check every systemd/*.service
#   MAX_EXPOSURE=1.5 scripts/check-systemd.sh
#
# Needs systemd-analyze (Debian: package systemd; 252 was used to write this). Exit 0 when all pass.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
INSTALLED_NODE=/opt/connect-watchdog/bin/node

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check-systemd: systemd-analyze not found (Debian/Ubuntu: apt-get install systemd)" >&2
  exit 1
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The program verify will find at ExecStart=: the repo's Node 24, else any node, else a stub.
node_bin=""
for candidate in "$ROOT/node_modules/node/bin/node" "$ROOT/node_modules/.bin/node" "$(command -v node || true)"; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then
    node_bin=$(readlink -f "$candidate")
    break
  fi
done
if [[ -z "$node_bin" ]]; then
  node_bin="$TMP/stub/node"
  mkdir -p "$TMP/stub"
  printf '#!/bin/sh\nexit 0\n' >"$node_bin"
  chmod 0755 "$node_bin"
fi

failed=0
fail() {
  echo "FAIL $unit_name: $*" >&2
  failed=1
}

shopt -s nullglob
units=("$ROOT"/systemd/*.service)
if ((${#units[@]} == 0)); then
  echo "check-systemd: no unit in $ROOT/systemd" >&2
  exit 1
fi

for unit in "${units[@]}"; do
  unit_name=$(basename "$unit")

  # 1. verify (a copy under the same name, ExecStart pointing at a program that exists here)
  mkdir -p "$TMP/verify"
  sed "s#${INSTALLED_NODE}#${node_bin}#g" "$unit" >"$TMP/verify/$unit_name"
  if ! out=$(systemd-analyze verify "$TMP/verify/$unit_name" 2>&1) || [[ -n "$out" ]]; then
    fail "systemd-analyze verify:"
    printf '%s\n' "$out" >&2
  else
    echo "ok   $unit_name: systemd-analyze verify is clean"
  fi

  # 2. security exposure
  sec=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || true
  exposure=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' | tail -n1)
  if [[ -z "$exposure" ]]; then
    fail "could not read the exposure level from systemd-analyze security:"
    printf '%s\n' "$sec" >&2
  elif awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e > m) }'; then
    fail "exposure $exposure > $MAX_EXPOSURE; the unprotected items:"
    printf '%s\n' "$sec" | grep -E '^(✗|- )' >&2 || true
  else
    echo "ok   $unit_name: exposure $exposure <= $MAX_EXPOSURE"
  fi

  # 3. settings the daemon relies on
  grep -Eq '^MemoryDenyWriteExecute=(yes|true|on|1)' "$unit" &&
    fail "MemoryDenyWriteExecute=yes crashes Node (V8's JIT needs W+X memory)"
  grep -Eq '^RestartPreventExitStatus=.*\b78\b' "$unit" ||
    fail "RestartPreventExitStatus= must list 78 (bad config is not retried)"
  grep -Eq '^Restart=on-failure' "$unit" || fail "Restart=on-failure expected"
  families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
  for fam in AF_INET AF_INET6 AF_UNIX; do
    [[ " $families " == *" $fam "* ]] || fail "RestrictAddressFamilies= lacks $fam"
  done
  grep -q '^Environment=CONNECT_WATCHDOG_STATE_FILE=/var/lib/' "$unit" ||
    fail "Environment=CONNECT_WATCHDOG_STATE_FILE= should point into the StateDirectory"
  grep -q '^StateDirectory=' "$unit" || fail "StateDirectory= expected"
done

# 4. the sysusers.d entry creates the User= of the unit (in a scratch root, not on this machine)
for conf in "$ROOT"/systemd/*.sysusers; do
  unit_name=$(basename "$conf")
  mkdir -p "$TMP/sysroot/etc"
  : >"$TMP/sysroot/etc/passwd"
  : >"$TMP/sysroot/etc/group"
  if out=$(systemd-sysusers --root="$TMP/sysroot" "$conf" 2>&1); then
    for unit in "${units[@]}"; do
      user=$(sed -n 's/^User=//p' "$unit")
      if [[ -n "$user" ]] && ! grep -q "^$user:" "$TMP/sysroot/etc/passwd"; then
        fail "does not create User=$user of $(basename "$unit")"
      fi
    done
    echo "ok   $unit_name: systemd-sysusers creates the service user"
  else
    fail "systemd-sysusers:"
    printf '%s\n' "$out" >&2
  fi
done

if ((failed)); then
  echo "check-systemd: FAILED" >&2
  exit 1
fi
echo "check-systemd: all units passed"
