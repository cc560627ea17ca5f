#!/usr/bin/env bash
# Real Kafka broker + Kafka Connect worker(s) + Debezium PostgreSQL connector on loopback, for the
# e2e tests. No Docker: jars come from Maven Central via stack/pom.xml; PostgreSQL is the local cluster.
#
#   scripts/stack.sh up              build (if needed), prepare PostgreSQL, start broker + worker 1
#   scripts/stack.sh down            stop what `up` started; drop the $PG_DB database and the inactive
#                                    e2e_* replication slots of $PG_DB (nothing of other databases)
#   scripts/stack.sh status          say what is running, and which Kafka/Debezium versions
#   scripts/stack.sh build           build the jars if needed (as `up` does first), print LIB=<their dir>
#   scripts/stack.sh worker2 up|down start/stop a second worker (same group.id) on $WORKER2_PORT
#   scripts/stack.sh broker down|up  stop/start the broker alone, its data kept (a broker outage)
#   scripts/stack.sh produce TOPIC   stdin lines -> records in TOPIC (console producer)
#   scripts/stack.sh consume TOPIC N print up to N records of TOPIC from the beginning (30 s idle timeout)
#
# Env: STACK_DIR (/tmp/connect-watchdog-stack), CONNECT_PORT (8083), KAFKA_PORT (9092),
#      CONTROLLER_PORT (KAFKA_PORT+1), WORKER2_PORT (CONNECT_PORT+1), CONSUME_TIMEOUT_MS (30000),
#      PG_VERSION / PG_CLUSTER (detected from /etc/postgresql), PG_PORT (5432),
#      PG_DB (e2e_shop; must match e2e_[a-z0-9_]+),
#      KAFKA_VERSION / DEBEZIUM_VERSION (stack/pom.xml's kafka.version / debezium.version, built in
#      stack/target; any other pair is built in stack/target-<kafka>-<debezium>),
#      CONNECT_FILE_VERSION (KAFKA_VERSION; the FileStream example connectors on the classpath, or none:
#      Maven Central has none for 4.4.0 and 4.3.1's fail there; built in ...-file-<version>),
#      CONNECT_MIRROR_VERSION (KAFKA_VERSION; MirrorMaker 2's connectors on the classpath, or none: Maven
#      Central has none for 4.4.0; built in ...-mirror-<version>),
#      EXTRA_PLUGIN_PATH (one absolute directory appended to the workers' plugin.path; with
#      plugin.discovery=service_load a connector jar there needs its META-INF/services file).
# Two stacks may run at once with different STACK_DIR, ports and PG_DB; they share the PostgreSQL
# cluster and its role e2e_cdc (created/reset by `up`, never dropped). See docs/real-stack.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC="$ROOT/stack"                      # pom.xml + *.properties templates
pom_prop() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$SRC/pom.xml" | head -n 1; }
POM_KAFKA_VERSION=$(pom_prop kafka.version)
POM_DEBEZIUM_VERSION=$(pom_prop debezium.version)
KAFKA_VERSION=${KAFKA_VERSION:-$POM_KAFKA_VERSION}
DEBEZIUM_VERSION=${DEBEZIUM_VERSION:-$POM_DEBEZIUM_VERSION}
CONNECT_FILE_VERSION=${CONNECT_FILE_VERSION:-$KAFKA_VERSION}
CONNECT_MIRROR_VERSION=${CONNECT_MIRROR_VERSION:-$KAFKA_VERSION}
# mvn output (git-ignored), one directory per set of versions, so that an `up` of other versions never
# wipes the jars a running stack has on its classpath.
VERSIONS="Kafka $KAFKA_VERSION, Debezium $DEBEZIUM_VERSION"
SUFFIX=
if [ "$CONNECT_FILE_VERSION" != "$KAFKA_VERSION" ]; then
  VERSIONS="$VERSIONS, connect-file $CONNECT_FILE_VERSION"
  SUFFIX="$SUFFIX-file-$CONNECT_FILE_VERSION"
fi
if [ "$CONNECT_MIRROR_VERSION" != "$KAFKA_VERSION" ]; then
  VERSIONS="$VERSIONS, connect-mirror $CONNECT_MIRROR_VERSION"
  SUFFIX="$SUFFIX-mirror-$CONNECT_MIRROR_VERSION"
fi
if [ -z "$SUFFIX" ] && [ "$KAFKA_VERSION" = "$POM_KAFKA_VERSION" ] && [ "$DEBEZIUM_VERSION" = "$POM_DEBEZIUM_VERSION" ]; then
  TARGET="$SRC/target"
else
  TARGET="$SRC/target-$KAFKA_VERSION-$DEBEZIUM_VERSION$SUFFIX"
fi
TARGET_REL=${TARGET#"$ROOT"/}
EXTRA_PLUGIN_PATH=${EXTRA_PLUGIN_PATH:-}
[ "$EXTRA_PLUGIN_PATH" = / ] || EXTRA_PLUGIN_PATH=${EXTRA_PLUGIN_PATH%/}
STACK_DIR=${STACK_DIR:-/tmp/connect-watchdog-stack}
STACK_DIR=${STACK_DIR%/}
CONNECT_PORT=${CONNECT_PORT:-8083}
KAFKA_PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
WORKER2_PORT=${WORKER2_PORT:-$((CONNECT_PORT + 1))}
CONSUME_TIMEOUT_MS=${CONSUME_TIMEOUT_MS:-30000}
PG_PORT=${PG_PORT:-5432}

CONF="$STACK_DIR/config"
DATA="$STACK_DIR/data"
LOGS="$STACK_DIR/logs"
CP="$TARGET/lib/*"
LOG_OPT="-Dlog4j2.configurationFile=file:$CONF/log4j2.properties"
TLOG_OPT="-Dlog4j2.configurationFile=file:$CONF/tools-log4j2.properties"
# short-lived tool JVMs (storage format, console producer/consumer) start ~25% faster with these
TOOL_JVM_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
BROKER_READY_S=60
WORKER_READY_S=90
STOP_WAIT_S=20
PG_SLOT_PATTERN='e2e\_%'
PG_DB=${PG_DB:-e2e_shop}

case "$STACK_DIR" in
  /*) ;;
  *) echo "stack.sh: STACK_DIR must be an absolute path (got '$STACK_DIR')" >&2; exit 2 ;;
esac
[ "$STACK_DIR" != "/" ] || { echo "stack.sh: STACK_DIR must not be /" >&2; exit 2; }
# PG_DB goes into SQL unquoted and `down` drops it: a plain lower-case name under the e2e_ prefix only.
[[ "$PG_DB" =~ ^e2e_[a-z0-9_]{1,59}$ ]] ||
  { echo "stack.sh: PG_DB must match e2e_[a-z0-9_]+ (got '$PG_DB')" >&2; exit 2; }
# the versions name a directory and go to mvn
for v in "$KAFKA_VERSION" "$DEBEZIUM_VERSION" "$CONNECT_FILE_VERSION" "$CONNECT_MIRROR_VERSION"; do
  [[ "$v" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] ||
    { echo "stack.sh: KAFKA_VERSION/DEBEZIUM_VERSION/CONNECT_FILE_VERSION/CONNECT_MIRROR_VERSION must match [A-Za-z0-9][A-Za-z0-9._-]* (got '$v'; none in stack/pom.xml?)" >&2; exit 2; }
done
# EXTRA_PLUGIN_PATH goes into plugin.path (a comma-separated list) through sed
[ -z "$EXTRA_PLUGIN_PATH" ] || [[ "$EXTRA_PLUGIN_PATH" =~ ^/[A-Za-z0-9._/@+=:-]+$ ]] ||
  { echo "stack.sh: EXTRA_PLUGIN_PATH must be one absolute path of [A-Za-z0-9._/@+=:-] (got '$EXTRA_PLUGIN_PATH')" >&2; exit 2; }

T0=$(date +%s%N)
log() { printf '[stack +%5.1fs] %s\n' "$(( ($(date +%s%N) - T0) / 1000000 ))e-3" "$*"; }
die() { echo "stack.sh: ERROR: $*" >&2; exit 1; }

# --------------------------------------------------------------------------------------- processes
# Components: broker, worker1, worker2. pid file: $STACK_DIR/<name>.pid; log: $LOGS/<name>.log.
pidfile() { echo "$STACK_DIR/$1.pid"; }
# What `up` started, for `status` and for later `up`/`worker2 up` calls: key=value lines.
VERSIONS_FILE="$STACK_DIR/versions"
recorded() { sed -n "s/^$1=//p" "$VERSIONS_FILE" 2>/dev/null | head -n 1; }
# Dies when the running stack was started with other versions or another EXTRA_PLUGIN_PATH than
# this call's env asks for.
check_running_versions() {
  [ -f "$VERSIONS_FILE" ] || return 0
  local v x
  v=$(recorded versions); x=$(recorded extra_plugin_path)
  if [ "$v" != "$VERSIONS" ]; then
    die "the stack in $STACK_DIR runs $v, not $VERSIONS" \
        "(KAFKA_VERSION/DEBEZIUM_VERSION/CONNECT_FILE_VERSION/CONNECT_MIRROR_VERSION): run 'scripts/stack.sh down' first"
  fi
  if [ "$x" != "$EXTRA_PLUGIN_PATH" ]; then
    die "the stack in $STACK_DIR runs with EXTRA_PLUGIN_PATH '${x}', not '$EXTRA_PLUGIN_PATH':" \
        "run 'scripts/stack.sh down' first"
  fi
}
# rest_versions PORT: "Kafka Connect X, PostgresConnector Y" as the worker reports them.
rest_versions() {
  local c p
  c=$(curl -sf -m 5 "http://127.0.0.1:$1/" 2>/dev/null | sed -n 's/.*"version":"\([^"]*\)".*/\1/p' || true)
  p=$(curl -sf -m 5 "http://127.0.0.1:$1/connector-plugins" 2>/dev/null |
      grep -o '{[^{}]*io\.debezium\.connector\.postgresql\.PostgresConnector[^{}]*}' |
      sed -n 's/.*"version":"\([^"]*\)".*/\1/p' | head -n 1 || true)
  echo "Kafka Connect ${c:-?}, PostgresConnector ${p:-?}"
}

# Prints the pid if the pid file names a live process that is one of ours (its command line mentions
# our config dir, which guards against pid reuse). Returns 1 otherwise.
ours_pid() {
  local f pid
  f=$(pidfile "$1")
  [ -f "$f" ] || return 1
  pid=$(tr -dc '0-9' < "$f")
  [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONF/" || return 1
  echo "$pid"
}

# start_java NAME JAVA_ARGS...: detached (own session, stdin /dev/null, output to $LOGS/NAME.log),
# so it outlives this script and does not hold the caller's pipes open.
start_java() {
  local name=$1; shift
  local f; f=$(pidfile "$name")
  rm -f "$f"
  [ -f "$LOGS/$name.log" ] && mv -f "$LOGS/$name.log" "$LOGS/$name.log.1"
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$f" java "$@" \
    < /dev/null > "$LOGS/$name.log" 2>&1 9>&- &
  for _ in $(seq 1 50); do [ -s "$f" ] && break; sleep 0.1; done
  [ -s "$f" ] || die "could not start $name (no pid file)"
}

# stop_component NAME: SIGTERM by pid from its pid file, wait up to $STOP_WAIT_S s, then SIGKILL.
stop_component() {
  local name=$1 pid
  if pid=$(ours_pid "$name"); then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((STOP_WAIT_S * 10))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not exit within ${STOP_WAIT_S}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    log "$name stopped"
  fi
  rm -f "$(pidfile "$name")"
}

port_in_use() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -1; }

# wait_for_log NAME PATTERN TIMEOUT_S
wait_for_log() {
  local name=$1 pattern=$2 timeout=$3 deadline pid
  deadline=$(( $(date +%s) + timeout ))
  while ! grep -qF -- "$pattern" "$LOGS/$name.log" 2>/dev/null; do
    pid=$(ours_pid "$name") || fail_start "$name exited before it was ready"
    [ "$(date +%s)" -lt "$deadline" ] || fail_start "$name not ready after ${timeout}s (no '$pattern' in its log)"
    sleep 0.1
  done
}

# wait_for_worker NAME PORT TIMEOUT_S: GET /health 200, then the Debezium plugin is listed.
wait_for_worker() {
  local name=$1 port=$2 timeout=$3 deadline code
  deadline=$(( $(date +%s) + timeout ))
  while :; do
    ours_pid "$name" > /dev/null || fail_start "$name exited before it was ready"
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
    if [ "$code" = 200 ] &&
       curl -sf -m 5 "http://127.0.0.1:$port/connector-plugins" 2>/dev/null |
         grep -qF 'io.debezium.connector.postgresql.PostgresConnector'; then
      return 0
    fi
    [ "$(date +%s)" -lt "$deadline" ] || fail_start "$name not ready after ${timeout}s (last GET /health: $code)"
    sleep 0.2
  done
}

fail_start() {
  echo "stack.sh: ERROR: $*" >&2
  local n
  for n in broker worker1 worker2; do
    if [ -f "$LOGS/$n.log" ]; then
      echo "---- last 30 lines of $LOGS/$n.log ----" >&2
      tail -n 30 "$LOGS/$n.log" >&2 || true
    fi
  done
  echo "stack.sh: stopping what was started" >&2
  stop_component worker2 >&2
  stop_component worker1 >&2
  stop_component broker >&2
  exit 1
}

# --------------------------------------------------------------------------------------- build
build() {
  # One build at a time per build directory: stacks of the same versions (other STACK_DIRs) share it.
  if command -v flock > /dev/null; then
    exec 8> "$TARGET.lock"
    flock -w 600 8 || die "another stack.sh is still building $TARGET_REL after 600 s (lock $TARGET.lock)"
  fi
  local sum
  sum=$({ cat "$SRC/pom.xml"; echo "$VERSIONS"; } |
        sha256sum | cut -d' ' -f1)
  if [ -d "$TARGET/lib" ] && [ -d "$TARGET/plugins/debezium-connector-postgres" ] &&
     [ "$(cat "$TARGET/.pom.sha256" 2>/dev/null || true)" = "$sum" ]; then
    log "build: $TARGET_REL is up to date with stack/pom.xml and $VERSIONS, skipping mvn"
    exec 8>&-
    return 0
  fi
  command -v mvn > /dev/null || die "mvn not found on PATH"
  log "build: mvn -B -q package in $SRC ($VERSIONS) into $TARGET_REL"
  # start from an empty build dir: old jars left in lib/ would shadow new ones after a version change,
  # and the dependency plugin's markers would skip unpacking the connector into an emptied plugins/
  rm -rf "$TARGET"
  # Maven 3.8 prints stray ANSI reset codes even with -B -q: strip them (and the empty lines left).
  local file_opt=-Dconnect-file.version="$CONNECT_FILE_VERSION"
  [ "$CONNECT_FILE_VERSION" != none ] || file_opt=-Dno-connect-file
  local mirror_opt=-Dconnect-mirror.version="$CONNECT_MIRROR_VERSION"
  [ "$CONNECT_MIRROR_VERSION" != none ] || mirror_opt=-Dno-connect-mirror
  (cd "$SRC" && mvn -B -q package -Dkafka.version="$KAFKA_VERSION" -Ddebezium.version="$DEBEZIUM_VERSION" \
     "$file_opt" "$mirror_opt" -Dstack.build.dir="$TARGET" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d') ||
    die "mvn package failed in $SRC ($VERSIONS)"
  [ -d "$TARGET/lib" ] && [ -d "$TARGET/plugins/debezium-connector-postgres" ] ||
    die "mvn package did not produce $TARGET/lib and $TARGET/plugins/debezium-connector-postgres"
  echo "$sum" > "$TARGET/.pom.sha256"
  exec 8>&-
  log "build: done ($(ls "$TARGET/lib" | wc -l) jars in $TARGET_REL/lib)"
}

# --------------------------------------------------------------------------------------- postgres
pg_detect() {
  if [ -z "${PG_VERSION:-}" ]; then
    PG_VERSION=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    [ -n "$PG_VERSION" ] || die "no PostgreSQL cluster found under /etc/postgresql"
  fi
  if [ -z "${PG_CLUSTER:-}" ]; then
    PG_CLUSTER=$(ls "/etc/postgresql/$PG_VERSION" 2>/dev/null | head -n 1)
    [ -n "$PG_CLUSTER" ] || die "no PostgreSQL cluster found under /etc/postgresql/$PG_VERSION"
  fi
}
pg_running() { pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status > /dev/null 2>&1; }
pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }
wait_pg_ready() {
  for _ in $(seq 1 300); do pg_ready && return 0; sleep 0.1; done
  die "PostgreSQL $PG_VERSION/$PG_CLUSTER does not accept connections on 127.0.0.1:$PG_PORT"
}
# psql_q [-d DB] SQL: one statement, unaligned tuples only, stop on error.
psql_q() {
  local db=postgres
  if [ "$1" = -d ]; then db=$2; shift 2; fi
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" -v ON_ERROR_STOP=1 -At -c "$1"
}

pg_up() {
  pg_detect
  if ! pg_running; then
    log "postgres: starting cluster $PG_VERSION/$PG_CLUSTER"
    # 9>&-: the server must not inherit the stack lock, or it would hold it for as long as it runs.
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start 9>&-
  fi
  wait_pg_ready
  local wal
  wal=$(psql_q "SHOW wal_level")
  if [ "$wal" != logical ]; then
    log "postgres: wal_level is '$wal': ALTER SYSTEM SET wal_level = logical + restart $PG_VERSION/$PG_CLUSTER"
    psql_q "ALTER SYSTEM SET wal_level = logical"
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" restart 9>&-
    wait_pg_ready
    wal=$(psql_q "SHOW wal_level")
    [ "$wal" = logical ] || die "wal_level is still '$wal' after the restart"
  fi
  log "postgres: $PG_VERSION/$PG_CLUSTER running on 127.0.0.1:$PG_PORT, wal_level=logical"

  # Connect state starts empty on every `up` (fresh Kafka data dir): e2e_ slots of $PG_DB left by an
  # earlier run that was not torn down are orphans. Drop the inactive ones (other databases' slots
  # belong to other stacks).
  pg_drop_e2e_slots > /dev/null
  # (ALTER resets the password/flags in case a test changed them.)
  psql_q "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'e2e_cdc') THEN
        CREATE ROLE e2e_cdc WITH LOGIN REPLICATION PASSWORD 'e2e_cdc';
      ELSE
        ALTER ROLE e2e_cdc WITH LOGIN REPLICATION PASSWORD 'e2e_cdc';
      END IF;
    END \$\$"
  if [ -z "$(psql_q "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
    psql_q "CREATE DATABASE $PG_DB"
  fi
  psql_q -d "$PG_DB" "CREATE TABLE IF NOT EXISTS public.orders (id serial PRIMARY KEY, item text NOT NULL, qty int NOT NULL)"
  psql_q -d "$PG_DB" "GRANT SELECT ON public.orders TO e2e_cdc"
  psql_q -d "$PG_DB" "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'e2e_pub') THEN
        CREATE PUBLICATION e2e_pub FOR TABLE public.orders;
      END IF;
    END \$\$"
  log "postgres: role e2e_cdc, database $PG_DB, table public.orders, publication e2e_pub ready"
}

# Drops the inactive replication slots named e2e_* of database $PG_DB; prints the dropped names.
pg_drop_e2e_slots() {
  psql_q "SELECT slot_name FROM pg_replication_slots WHERE NOT active AND slot_name LIKE '$PG_SLOT_PATTERN' AND database = '$PG_DB'" |
  while IFS= read -r slot; do
    [ -n "$slot" ] || continue
    psql_q "SELECT pg_drop_replication_slot('$slot')" < /dev/null > /dev/null && echo "$slot"
  done
}

pg_down() {
  pg_detect
  if ! pg_running || ! pg_ready; then
    log "postgres: $PG_VERSION/$PG_CLUSTER is not running: skipping slot/database cleanup (next 'up' does it)"
    return 0
  fi
  # A walsender may outlive the worker by a moment: give $PG_DB's e2e_ slots up to 10 s to turn inactive.
  local active
  for _ in $(seq 1 100); do
    active=$(psql_q "SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name LIKE '$PG_SLOT_PATTERN' AND database = '$PG_DB'")
    [ "$active" = 0 ] && break
    sleep 0.1
  done
  [ "$active" = 0 ] || log "postgres: WARNING: $active e2e_ slot(s) of $PG_DB still active; not dropping them"
  local dropped
  dropped=$(pg_drop_e2e_slots | tr '\n' ' ')
  log "postgres: dropped replication slots of $PG_DB: ${dropped:-none}"
  if [ -z "$(psql_q "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
    log "postgres: database $PG_DB absent"
  elif psql_q "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)"; then
    log "postgres: database $PG_DB dropped"
  else
    die "DROP DATABASE $PG_DB failed (an e2e_ slot still active? see: scripts/stack.sh status)"
  fi
}

# --------------------------------------------------------------------------------------- config
render() { # render TEMPLATE OUT [worker port]
  sed -e "s|@STACK_DIR@|$STACK_DIR|g" \
      -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@CONNECT_PORT@|${3:-$CONNECT_PORT}|g" \
      -e "s|@PLUGIN_PATH@|$TARGET/plugins${EXTRA_PLUGIN_PATH:+,$EXTRA_PLUGIN_PATH}|g" \
      "$SRC/$1" > "$2"
}
write_config() {
  [ -z "$EXTRA_PLUGIN_PATH" ] || [ -d "$EXTRA_PLUGIN_PATH" ] ||
    die "EXTRA_PLUGIN_PATH $EXTRA_PLUGIN_PATH is not a directory"
  mkdir -p "$CONF" "$LOGS"
  render server.properties "$CONF/server.properties"
  render connect-distributed.properties "$CONF/connect-distributed.properties" "$CONNECT_PORT"
  render connect-distributed.properties "$CONF/connect-distributed-2.properties" "$WORKER2_PORT"
  render log4j2.properties "$CONF/log4j2.properties"
  render tools-log4j2.properties "$CONF/tools-log4j2.properties"
}

# A KRaft cluster id, as `kafka.tools.StorageTool random-uuid` makes it (16 random bytes, URL-safe
# base64 without padding, not starting with '-'), without paying for one more JVM start.
cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    [ "${id#-}" = "$id" ] && [ ${#id} -eq 22 ] && break
  done
  echo "$id"
}

# --------------------------------------------------------------------------------------- commands
print_urls() {
  echo "KAFKA_VERSION=$KAFKA_VERSION"
  echo "DEBEZIUM_VERSION=$DEBEZIUM_VERSION"
  echo "CONNECT_FILE_VERSION=$CONNECT_FILE_VERSION"
  echo "CONNECT_MIRROR_VERSION=$CONNECT_MIRROR_VERSION"
  echo "CONNECT_URL=http://127.0.0.1:$CONNECT_PORT"
  echo "KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
  echo "STACK_DIR=$STACK_DIR"
  echo "LOGS=$LOGS"
}

cmd_up() {
  local b w
  b=$(ours_pid broker || true)
  w=$(ours_pid worker1 || true)
  if [ -n "$b" ] && [ -n "$w" ]; then
    check_running_versions
    log "stack already up (broker pid $b, worker1 pid $w; $VERSIONS); nothing to do"
    print_urls
    return 0
  fi
  if [ -n "$b$w" ] || ours_pid worker2 > /dev/null; then
    log "stack is half up (broker '${b:-down}', worker1 '${w:-down}'): stopping it and starting afresh"
    stop_component worker2; stop_component worker1; stop_component broker
  fi
  local p
  for p in "$KAFKA_PORT" "$CONTROLLER_PORT" "$CONNECT_PORT"; do
    if port_in_use "$p"; then
      die "port 127.0.0.1:$p is already in use by a process this script did not start ($(port_owner "$p"));" \
          "stop it, or use KAFKA_PORT/CONTROLLER_PORT/CONNECT_PORT to pick other ports"
    fi
  done
  command -v java > /dev/null || die "java not found on PATH"

  rm -f "$VERSIONS_FILE"
  build
  pg_up

  rm -rf "$DATA"
  mkdir -p "$DATA" "$LOGS"
  write_config
  printf 'versions=%s\nbuild=%s\nextra_plugin_path=%s\n' "$VERSIONS" "$TARGET" "$EXTRA_PLUGIN_PATH" > "$VERSIONS_FILE"
  log "kafka: formatting KRaft storage in $DATA/kraft"
  local id
  id=$(cluster_id)
  java $TOOL_JVM_OPTS "$TLOG_OPT" -cp "$CP" kafka.tools.StorageTool format -t "$id" -c "$CONF/server.properties" -g > /dev/null

  log "kafka: starting broker on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$CONTROLLER_PORT)"
  start_java broker -Xms512m -Xmx512m "$LOG_OPT" -cp "$CP" kafka.Kafka "$CONF/server.properties"
  wait_for_log broker "Kafka Server started" "$BROKER_READY_S"
  log "kafka: broker up (pid $(ours_pid broker))"

  log "connect: starting worker1 on 127.0.0.1:$CONNECT_PORT${EXTRA_PLUGIN_PATH:+ (plugin.path + $EXTRA_PLUGIN_PATH)}"
  start_java worker1 -Xms256m -Xmx768m "$LOG_OPT" -cp "$CP" \
    org.apache.kafka.connect.cli.ConnectDistributed "$CONF/connect-distributed.properties"
  wait_for_worker worker1 "$CONNECT_PORT" "$WORKER_READY_S"
  log "connect: worker1 up (pid $(ours_pid worker1)), PostgresConnector plugin listed"
  log "stack up: $(rest_versions "$CONNECT_PORT") (built in $TARGET_REL)"
  print_urls
}

cmd_down() {
  stop_component worker2
  stop_component worker1
  stop_component broker
  pg_down
  rm -f "$(pidfile worker2)" "$(pidfile worker1)" "$(pidfile broker)" "$VERSIONS_FILE"
  log "stack down"
}

cmd_worker2() {
  case "${1:-}" in
    up)
      local pid
      if pid=$(ours_pid worker2); then log "worker2 already up (pid $pid)"; return 0; fi
      ours_pid broker > /dev/null || die "the stack is not up (run: scripts/stack.sh up)"
      check_running_versions
      port_in_use "$WORKER2_PORT" &&
        die "port 127.0.0.1:$WORKER2_PORT is already in use ($(port_owner "$WORKER2_PORT"))"
      write_config
      log "connect: starting worker2 on 127.0.0.1:$WORKER2_PORT"
      start_java worker2 -Xms256m -Xmx768m "$LOG_OPT" -cp "$CP" \
        org.apache.kafka.connect.cli.ConnectDistributed "$CONF/connect-distributed-2.properties"
      wait_for_worker worker2 "$WORKER2_PORT" "$WORKER_READY_S"
      log "connect: worker2 up (pid $(ours_pid worker2))"
      echo "WORKER2_URL=http://127.0.0.1:$WORKER2_PORT"
      ;;
    down) stop_component worker2 ;;
    *) die "usage: stack.sh worker2 up|down" ;;
  esac
}

# A broker outage as operators see one: the broker stops and starts again on the same data, topics,
# offsets and Connect's internal topics intact (`up` would format the storage afresh).
cmd_broker() {
  case "${1:-}" in
    down) stop_component broker ;;
    up)
      local pid
      if pid=$(ours_pid broker); then log "broker already up (pid $pid)"; return 0; fi
      [ -f "$VERSIONS_FILE" ] && [ -d "$DATA/kraft" ] || die "no stack to restart the broker of (run: scripts/stack.sh up)"
      check_running_versions
      local p
      for p in "$KAFKA_PORT" "$CONTROLLER_PORT"; do
        port_in_use "$p" && die "port 127.0.0.1:$p is already in use ($(port_owner "$p"))"
      done
      log "kafka: starting broker on 127.0.0.1:$KAFKA_PORT, data kept"
      start_java broker -Xms512m -Xmx512m "$LOG_OPT" -cp "$CP" kafka.Kafka "$CONF/server.properties"
      wait_for_log broker "Kafka Server started" "$BROKER_READY_S"
      log "kafka: broker up (pid $(ours_pid broker))"
      ;;
    *) die "usage: stack.sh broker down|up" ;;
  esac
}

cmd_status() {
  local n pid rc=0
  for n in broker worker1 worker2; do
    if pid=$(ours_pid "$n"); then
      echo "$n: running (pid $pid)"
    else
      echo "$n: not running"
      [ "$n" = worker2 ] || rc=3
    fi
  done
  [ -n "$(ours_pid worker1 || true)" ] && {
    local code
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$CONNECT_PORT/health" || true)
    echo "worker1 GET /health: $code; reports $(rest_versions "$CONNECT_PORT")"
  }
  if [ -f "$VERSIONS_FILE" ] && [ "$rc" = 0 ]; then
    echo "versions: $(recorded versions) (built in $(recorded build))"
    [ -z "$(recorded extra_plugin_path)" ] || echo "EXTRA_PLUGIN_PATH: $(recorded extra_plugin_path)"
  else
    echo "versions: none running; this env would build $VERSIONS in $TARGET_REL"
  fi
  pg_detect
  if pg_running; then
    echo "postgres $PG_VERSION/$PG_CLUSTER: running, wal_level=$(psql_q 'SHOW wal_level' 2>/dev/null || echo '?')," \
         "database $PG_DB: $( [ -n "$(psql_q "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" 2>/dev/null)" ] && echo present || echo absent)"
    local slots
    slots=$(psql_q "SELECT slot_name || CASE WHEN active THEN '(active)' ELSE '(inactive)' END FROM pg_replication_slots WHERE slot_name LIKE '$PG_SLOT_PATTERN' AND database = '$PG_DB'" 2>/dev/null | tr '\n' ' ')
    echo "e2e_ replication slots of $PG_DB: ${slots:-none}"
  else
    echo "postgres $PG_VERSION/$PG_CLUSTER: not running"
  fi
  echo "STACK_DIR=$STACK_DIR"
  return $rc
}

need_stack_tools() {
  [ -d "$TARGET/lib" ] || die "$TARGET_REL/lib missing (run: scripts/stack.sh up)"
  [ -f "$CONF/tools-log4j2.properties" ] || write_config
}

cmd_produce() {
  [ $# -eq 1 ] || die "usage: stack.sh produce TOPIC  (records are read from stdin, one per line)"
  need_stack_tools
  java $TOOL_JVM_OPTS "$TLOG_OPT" -cp "$CP" org.apache.kafka.tools.ConsoleProducer \
    --bootstrap-server "127.0.0.1:$KAFKA_PORT" --topic "$1"
}

cmd_consume() {
  [ $# -eq 2 ] || die "usage: stack.sh consume TOPIC N"
  need_stack_tools
  java $TOOL_JVM_OPTS "$TLOG_OPT" -cp "$CP" org.apache.kafka.tools.consumer.ConsoleConsumer \
    --bootstrap-server "127.0.0.1:$KAFKA_PORT" --topic "$1" --from-beginning \
    --max-messages "$2" --timeout-ms "$CONSUME_TIMEOUT_MS"
}

usage() {
  # the header comment: line 2 up to the first line that is not a comment
  awk 'NR > 1 { if (!/^#/) exit; sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
}

# up/down/worker2 hold a lock, so that concurrent callers (e.g. two test files calling stackUp())
# run one after the other: the second `up` then finds the stack up. fd 9 is closed in the JVMs.
lock() {
  command -v flock > /dev/null || return 0
  mkdir -p "$STACK_DIR"
  exec 9> "$STACK_DIR/.lock"
  flock -w 600 9 || die "another stack.sh is still running after 600 s (lock $STACK_DIR/.lock)"
}

case "${1:-}" in
  up) lock; cmd_up ;;
  down) lock; cmd_down ;;
  status) cmd_status ;;
  build) build; echo "LIB=$TARGET/lib" ;;
  worker2) shift; lock; cmd_worker2 "$@" ;;
  broker) shift; lock; cmd_broker "$@" ;;
  produce) shift; cmd_produce "$@" ;;
  consume) shift; cmd_consume "$@" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
